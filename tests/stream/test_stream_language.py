"""The Genfile's stream words, and the pure plan of events (no database)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from stream_support import CLINIC, HOSPITAL, clinic

from datastorm_core.errors import GenfileError, UsageError
from datastorm_core.genfile import load_genfile, loads_genfile
from datastorm_core.genfile.streaming import DEFAULT_MIX, parse_mix
from datastorm_core.source import Source
from datastorm_core.stream.pacing import Pacer
from datastorm_core.stream.plan import Planner
from datastorm_core.stream.spec import build_spec

RULES = Path(__file__).resolve().parents[1] / "fixtures" / "rules.toml"
HEAD = '[parent.id]\ntype = "sequence"\n[t]\nrecords = 10\n[t.id]\ntype = "sequence"\n'


def problems(text: str) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text)
    return [(p.table, p.field, p.message) for p in caught.value.problems]


def planner(path=CLINIC, seed: int | None = None, **spec_options) -> Planner:
    genfile = load_genfile(path)
    if seed is not None:
        from datastorm_core.genfile.sizing import with_seed

        genfile = with_seed(genfile, seed)
    source = Source(genfile)
    return Planner(build_spec(genfile, source, **spec_options), source)


# -- the language ---------------------------------------------------------------


def test_the_examples_words_are_read_into_the_model() -> None:
    genfile = load_genfile(HOSPITAL)
    status = genfile.table("coverage").field("status")
    assert status.mutable and status.params["transitions"]["ativa"] == ["suspensa",
                                                                       "cancelada"]
    # An appointment's status follows its time (cases), so it does not change on update;
    # another doctor may take the appointment.
    assert not genfile.table("appointment").field("status").mutable
    assert genfile.table("appointment").field("doctor_id").mutable
    assert genfile.table("appointment").field("updated_at").params["on_update"] == "now"
    assert genfile.table("exam").field("appointment_id").params["on_delete"] == "cascade"
    assert genfile.table("exam").options["stream_mix"] == "insert=70,update=30"
    assert not genfile.table("patient").field("name").mutable


@pytest.mark.parametrize(("spec", "message"), [
    ('[t.x]\ntype = "int"\nmutable = 1', "mutable must be true or false, got 1"),
    ('[t.x]\ntype = "int"\nunique = true\nmutable = true', "a unique field cannot be mutable"),
    ('[t.x]\ntype = "name"\nmutable = true\n[t.e]\ntype = "email"\nfrom = "x"',
     "e is derived from this field, so it cannot change on update"),
    ('[t.x]\ntype = "template"\ntemplate = "a{id}"\nmutable = true',
     "a field derived from other fields cannot be mutable"),
    ('[t.x]\ntype = "choice"\nvalues = ["a", "b"]\ntransitions = { a = ["b"] }',
     "transitions apply to a mutable field: add mutable = true"),
    ('[t.x]\ntype = "choice"\nvalues = ["a", "b"]\nmutable = true\ntransitions = { c = ["a"] }',
     "transitions: 'c' is not one of the values"),
    ('[t.x]\ntype = "choice"\nvalues = ["a", "b"]\nmutable = true\ntransitions = { a = ["z"] }',
     "transitions: 'a' -> 'z': 'z' is not one of the values"),
    ('[t.x]\ntype = "choice"\nvalues = ["a"]\nmutable = true\ntransitions = ["a"]',
     "transitions must be a table, got [\"a\"]"),
    ('[t.x]\ntype = "timestamp"\non_update = "later"', 'on_update must be one of now, got "later"'),
    ('[t.x]\ntype = "int"\non_update = "now"', "unknown parameter 'on_update' for type int"),
    ('[t.x]\ntype = "timestamp"\non_update = "now"\nmutable = true',
     "an on_update field changes with every update of its row: remove mutable"),
    ('[t.x]\ntype = "reference"\nref = "parent.id"\non_delete = "set_null"',
     'on_delete must be one of restrict, cascade, got "set_null"'),
    ('[t.x]\ntype = "reference"\nref = "t.id"\nmutable = true',
     "a self-reference cannot be mutable: the hierarchy must stay acyclic"),
])
def test_field_words_are_checked_with_the_field_named(spec: str, message: str) -> None:
    found = problems(HEAD + spec + "\n")
    assert any(table == "t" and field == "x" and text.startswith(message)
               for table, field, text in found), found


def test_a_primary_key_cannot_be_mutable_even_when_only_named_id() -> None:
    found = problems('[t.id]\ntype = "sequence"\nmutable = true\n')
    assert found == [("t", "id", "a primary key cannot be mutable: an update keeps the "
                                 "row's identity")]


@pytest.mark.parametrize(("option", "message"), [
    ("stream = 1", "stream must be true or false, got 1"),
    ("stream_weight = -1", "stream_weight must be a number >= 0, got -1"),
    ('stream_mix = "insert=1,upsert=2"', "stream_mix: 'upsert=2' is not kind=weight"),
    ('stream_mix = "insert=0"', "stream_mix: at least one kind needs a positive weight"),
])
def test_table_options_are_checked(option: str, message: str) -> None:
    found = problems(f'[t]\n{option}\n[t.id]\ntype = "sequence"\n')
    assert any(table == "t" and field is None and text.startswith(message)
               for table, field, text in found), found


def test_the_streams_words_leave_the_tables_definition_digest_alone() -> None:
    plain = '[t.id]\ntype = "sequence"\n[t.s]\ntype = "choice"\nvalues = ["a", "b"]\n'
    words = ('[t]\nstream_weight = 3\n[t.id]\ntype = "sequence"\n[t.s]\ntype = "choice"\n'
             'values = ["a", "b"]\nmutable = true\ntransitions = { a = ["b"] }\n')
    other = plain.replace('["a", "b"]', '["a", "c"]')
    digest = loads_genfile(plain).table_digests["t"]
    assert loads_genfile(words).table_digests["t"] == digest
    assert loads_genfile(other).table_digests["t"] != digest


def test_a_mix_is_kind_equals_weight_and_missing_kinds_weigh_nothing() -> None:
    assert parse_mix("insert=70,update=25,delete=5") == DEFAULT_MIX
    assert parse_mix(" update = 1 ") == {"insert": 0.0, "update": 1.0, "delete": 0.0}
    for bad in ("", "insert", "insert=x", "insert=-1", "insert=1,insert=2", "merge=1",
                "insert=inf"):
        with pytest.raises(ValueError):
            parse_mix(bad)


def test_the_spec_follows_the_genfile() -> None:
    genfile = clinic()
    spec = build_spec(genfile, Source(genfile))
    assert "audit" not in spec.names  # stream = false
    visit = spec.table("visit")
    assert visit.mutable == ("status", "fee") and visit.on_update == ("updated_on",)
    assert visit.transitions["status"]["scheduled"] == ("confirmed", "cancelled")
    assert spec.table("note").mix == {"insert": 0.6, "update": 0.4, "delete": 0.0}
    assert not spec.table("clinic").can("update") and spec.table("badge").can("delete")
    cascading = [r for r in spec.references if r.cascade]
    assert [(r.table, r.field) for r in cascading] == [("note", "visit_id")]
    with pytest.raises(UsageError, match="says stream = false"):
        build_spec(genfile, Source(genfile), tables=["audit"])
    with pytest.raises(UsageError, match="no table named 'nope'"):
        build_spec(genfile, Source(genfile), tables=["nope"])
    with pytest.raises(UsageError, match="no event is possible"):
        build_spec(genfile, Source(genfile), tables=["clinic"],
                   mix={"insert": 0, "update": 1, "delete": 0})


def test_rows_that_follow_their_parents_rows_are_not_inserted_by_the_stream() -> None:
    # The stream points a new row at a live parent; values computed from the parent's
    # generated row (issue 15's rules) would not match it.
    genfile = load_genfile(RULES)
    spec = build_spec(genfile, Source(genfile))
    assert spec.table("customer").can("insert") and spec.table("customer").follows is None
    for table, field in (("account", "opened_at"), ("transaction", "created_at"),
                         ("loan", "signed_at"),
                         ("installment", "number"), ("employee", "reviewed_at")):
        assert spec.table(table).follows == field
        assert not spec.table(table).can("insert") and spec.table(table).can("delete")


# -- the plan -----------------------------------------------------------------------


def test_event_n_is_a_pure_function_of_the_seed_and_n() -> None:
    first, again = planner(), planner()
    sequence = [(k, t.name) for k, t in (first.choose(n, 0) for n in range(2000))]
    # Any order, any process: the same draws.
    assert [(k, t.name) for k, t in (again.choose(n, 0) for n in reversed(range(2000)))][::-1] \
        == sequence
    other = planner(seed=8)
    assert [(k, t.name) for k, t in (other.choose(n, 0) for n in range(2000))] != sequence
    assert first.event_time(3600).isoformat() == "2026-01-01T01:00:00"


def test_kinds_follow_the_mix_and_tables_their_weights() -> None:
    plan = planner()
    drawn = [plan.choose(n, 0) for n in range(20000)]
    kinds = Counter(k for k, _ in drawn)
    assert abs(kinds["insert"] / 20000 - 0.70) < 0.015
    assert abs(kinds["update"] / 20000 - 0.25) < 0.015
    assert abs(kinds["delete"] / 20000 - 0.05) < 0.01
    inserts = Counter(t.name for k, t in drawn if k == "insert")
    # visit weighs 3, patient 2, clinic 0.2: about 15 visits per clinic insert.
    assert 10 < inserts["visit"] / inserts["clinic"] < 20
    assert not any(k == "delete" and t.name == "note" for k, t in drawn)  # its own mix
    assert not any(k == "update" and t.name == "clinic" for k, t in drawn)  # nothing mutable
    only = planner(mix={"insert": 0, "update": 0, "delete": 1})
    assert {only.choose(n, 0)[0] for n in range(200)} == {"delete"}


def test_an_excluded_pair_is_drawn_again_elsewhere() -> None:
    plan = planner()
    kind, table = plan.choose(11, 0)
    again = plan.choose(11, 1, [(kind, table.name)])
    assert again is not None and again != (kind, table)
    everything = [(k, t.name) for t in plan.spec.tables for k in ("insert", "update", "delete")]
    assert plan.choose(11, 2, everything) is None


def test_an_inserted_row_is_the_generators_row_at_its_index() -> None:
    plan = planner()
    genfile = plan.genfile
    source = Source(genfile)
    records = genfile.table("patient").records
    for index in (0, 7, records - 1, records, records + 300):
        made = plan.insert_row("patient", index, {"clinic_id": source.chunk(
            "patient", index, index + 1).columns["clinic_id"]})
        expected = source.chunk("patient", index, index + 1).columns
        for name in ("id", "name", "email", "phone", "updated_at"):
            assert made[name].to_pylist() == expected[name].to_pylist(), (index, name)
    assert plan.insert_row("patient", records, {})["id"].to_pylist() == [records + 1]


def test_new_values_come_from_the_fields_generator_under_another_seed() -> None:
    plan = planner()
    values = [plan.new_value(n, "visit", "fee").values[0] for n in range(200)]
    assert all(5000 <= v <= 50000 for v in values)  # 50.00 .. 500.00 in cents
    generated = Source(plan.genfile).chunk("visit", 0, 200).columns["fee"].values
    assert not np.array_equal(np.array(values), generated)
    assert [plan.new_value(n, "visit", "fee").values[0] for n in range(200)] == values


def test_pacing_has_the_rates_mean_and_a_jitter_fixed_by_the_seed() -> None:
    plan = planner()
    pacer = Pacer(50, lambda n: plan.unit(n, "pace"))
    gaps = [pacer.gap(n) for n in range(5000)]
    assert abs(sum(gaps) / len(gaps) - 1 / 50) < 0.0005
    assert min(gaps) >= 0.5 / 50 and max(gaps) < 1.5 / 50
    assert len(set(gaps)) > 4000  # jittered, not a metronome
    assert [Pacer(50, lambda n: planner().unit(n, "pace")).gap(n) for n in range(50)] \
        == gaps[:50]
    assert Pacer(0, lambda n: 0.5).gap(3) == 0.0
