"""The stream's ``transitions``, read by the parser a ``lifecycle`` shares: a list of next
values (weighted like the choice, the same events as ever) or a table of weights (used
when the next value is drawn)."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from stream_support import CLINIC

from datastorm_core.errors import GenfileError
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.model import Genfile
from datastorm_core.genfile.transitions import Targets, read_transitions
from datastorm_core.source import Source
from datastorm_core.stream.plan import Planner
from datastorm_core.stream.spec import (
    StreamTable,
    allowed_transitions,
    build_spec,
    transition_weights,
)

LISTED = 'transitions = { scheduled = ["confirmed", "cancelled"], confirmed = ["done", ' \
         '"cancelled"] }'
WEIGHED = 'transitions = { scheduled = { confirmed = 1, cancelled = 3 }, confirmed = ' \
          '["done", "cancelled"] }'
HEAD = '[t.id]\ntype = "sequence"\n[t.x]\ntype = "choice"\nmutable = true\n'


def clinic(transitions: str = LISTED) -> Genfile:
    text = CLINIC.read_text(encoding="utf-8")
    assert LISTED in text
    return loads_genfile(text.replace(LISTED, transitions))


def visits(genfile: Genfile) -> tuple[Planner, StreamTable]:
    source = Source(genfile)
    spec = build_spec(genfile, source)
    return Planner(spec, source), spec.table("visit")


def next_values(genfile: Genfile, current: str, events: int) -> list[str]:
    plan, visit = visits(genfile)
    allowed = allowed_transitions(visit, "status", current)
    weights = transition_weights(visit, "status", current)
    return [str(plan.transition(n, visit, "status", allowed, weights)) for n in range(events)]


def test_one_parser_reads_lists_and_tables_of_weights() -> None:
    found, problems = read_transitions({"a": ["b", "c"], "b": {"c": 2, "a": 0.5}, "c": []})
    assert problems == []
    assert found == {"a": Targets(("b", "c"), None), "b": Targets(("c", "a"), (2.0, 0.5)),
                     "c": Targets((), None)}
    assert found["a"].shares() == (1.0, 1.0)
    _, problems = read_transitions({"a": ["b", "b"], "b": {"c": 0, "d": True}, "c": 3,
                                    "d": {"e": 1e308, "f": 1e308}})
    assert problems == [
        "transitions: 'a' names a next state twice: [\"b\", \"b\"]",
        "transitions: 'b' -> 'c': a weight must be a number > 0, got 0",
        "transitions: 'b' -> 'd': a weight must be a number > 0, got true",
        "transitions: 'c' must map to a list of next states or a table of weights "
        "({ state = weight }), got 3",
        "transitions: 'd': the weights add up to more than a number can hold: scale them down"]


def test_lists_give_the_same_next_values_as_before_tables_of_weights() -> None:
    # The digest of 6,000 picks as the stream made them before transitions could weigh.
    plan, visit = visits(clinic())
    picks = [str(plan.transition(n, visit, "status", allowed_transitions(visit, "status", c),
                                 transition_weights(visit, "status", c)))
             for n in range(3000) for c in visit.transitions["status"]]
    assert hashlib.sha256(",".join(picks).encode()).hexdigest()[:16] == "e6badee125de6fde"
    assert visit.transition_weights == {"status": {}}


def test_a_table_of_weights_decides_the_next_value() -> None:
    genfile = clinic(WEIGHED)
    _, visit = visits(genfile)
    assert visit.transitions["status"]["scheduled"] == ("confirmed", "cancelled")
    assert visit.transition_weights["status"] == {"scheduled": (1.0, 3.0)}
    shares = Counter(next_values(genfile, "scheduled", 4000))
    assert abs(shares["cancelled"] / 4000 - 0.75) < 0.03  # the choice alone: 10/30
    # A list still follows the choice's weights: done 50, cancelled 10.
    listed = Counter(next_values(genfile, "confirmed", 4000))
    assert abs(listed["done"] / 4000 - 50 / 60) < 0.03


def test_a_weight_tables_keys_name_the_choices_values_of_any_type() -> None:
    genfile = loads_genfile(HEAD + 'values = [1, 2, 3]\ntransitions = { 1 = { 2 = 1, 3 = 1 }, '
                                   '2 = [3] }\n')
    spec = build_spec(genfile, Source(genfile))
    assert spec.table("t").transitions["x"] == {"1": (2, 3), "2": (3,)}
    assert spec.table("t").transition_weights["x"] == {"1": (1.0, 1.0)}


@pytest.mark.parametrize(("values", "transitions", "message"), [
    ('["a", "b"]', '{ a = { b = 0 } }', "transitions: 'a' -> 'b': a weight must be a number > 0, "
                                        "got 0"),
    ('["a", "b"]', '{ a = { z = 1 } }', "transitions: 'a' -> 'z': 'z' is not one of the values"),
    ('["a", "b"]', '{ a = ["b", "b"] }', "transitions: 'a' names a next state twice"),
    ('["a", "b"]', '{ a = "b" }', "transitions: 'a' must map to a list of next states or a "
                                  "table of weights"),
    ('[1, 2]', '{ 1 = ["2"] }', "transitions: '1' -> '2': '2' is not one of the values"),
])
def test_transitions_of_the_stream_are_checked(values: str, transitions: str,
                                               message: str) -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(HEAD + f"values = {values}\ntransitions = {transitions}\n")
    found = [(p.table, p.field, p.message) for p in caught.value.problems]
    assert any(t == "t" and f == "x" and m.startswith(message) for t, f, m in found), found


def test_a_table_of_paths_gets_no_inserts_and_its_states_never_change() -> None:
    # A row's state is one step of its parent's path: the stream neither adds a step to a
    # live parent (its path is drawn from the parent's index) nor changes one.
    genfile = loads_genfile(
        '[order.id]\ntype = "sequence"\n[event.id]\ntype = "sequence"\n'
        '[event.order_id]\ntype = "reference"\nref = "order.id"\nper_parent = "status"\n'
        '[event.status]\ntype = "lifecycle"\nof = "order_id"\n'
        'transitions = { created = { paid = 85, cancelled = 15 }, paid = ["shipped"] }\n')
    event = build_spec(genfile, Source(genfile)).table("event")
    assert event.follows == "status" and event.mutable == () and event.transitions == {}
    assert not event.can("insert") and not event.can("update") and event.can("delete")
