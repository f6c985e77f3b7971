"""Event logs (issue 15, ``lifecycle``), on every row: each parent's rows walk a valid path
from the initial state, later and later; paths follow the weights (compared with what the
transition table implies, computed exactly); and a path is a pure function of the parent's
index, whatever the chunks, the rows asked, the partitions or the batch of parents."""

from __future__ import annotations

import itertools
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from source_support import assert_partitions_add_up

from datastorm_core.core.chunk import Column
from datastorm_core.core.hashing import field_key
from datastorm_core.genfile.lifecycle import state_machine
from datastorm_core.genfile.model import Genfile
from datastorm_core.genfile.sizing import with_seed
from datastorm_core.loading import load_genfile
from datastorm_core.source import Source

LIFECYCLE = Path(__file__).resolve().parents[1] / "fixtures" / "lifecycle.toml"
# The event tables: (table, reference to the parent, lifecycle field, time field).
LOGS = [("order_event", "order_id", "status", "at"), ("ticket_step", "ticket_id", "state", "on")]


@cache
def genfile(seed: int = 15) -> Genfile:
    return with_seed(load_genfile(LIFECYCLE), seed)


@cache
def rows(table: str, seed: int = 15) -> dict[str, Column]:
    return Source(genfile(seed)).chunk(table, 0, genfile(seed).table(table).records).columns


def params(table: str, field: str) -> dict[str, Any]:
    return dict(genfile().table(table).field(field).params)


def paths(table: str, ref: str, field: str, seed: int = 15) -> dict[int, list[str]]:
    """Each parent key's states, in row order."""
    made = rows(table, seed)
    found: dict[int, list[str]] = {}
    for parent, state in zip(made[ref].values.tolist(), made[field].values.tolist(),
                             strict=True):
        found.setdefault(parent, []).append(state)
    return found


def exact(p: dict[str, Any]) -> tuple[dict[int, float], dict[str, float]]:
    """The share of paths of each length and of each last state, from the transition
    table alone: the chance of being in each state after k steps, step by step."""
    table = {s: t if isinstance(t, dict) else dict.fromkeys(t, 1.0)
             for s, t in p["transitions"].items()}
    most = p.get("max_steps", 20)
    here = {p.get("initial", next(iter(table))): 1.0}
    lengths: dict[int, float] = {}
    ends: dict[str, float] = {}
    for k in range(1, most + 1):
        following: dict[str, float] = {}
        for state, chance in here.items():
            out = table.get(state, {})
            if not out or k == most:
                lengths[k] = lengths.get(k, 0.0) + chance
                ends[state] = ends.get(state, 0.0) + chance
                continue
            for target, weight in out.items():
                following[target] = following.get(target, 0.0) + \
                    chance * weight / sum(out.values())
        here = following
    return lengths, ends


def assert_close(counts: dict[Any, int], expected: dict[Any, float], n: int) -> None:
    """Every observed share within 4.5 standard errors of the exact one."""
    assert set(counts) <= set(expected), (counts, expected)
    for key, chance in expected.items():
        share = counts.get(key, 0) / n
        assert abs(share - chance) <= 4.5 * math.sqrt(chance * (1 - chance) / n) + 1e-12, \
            (key, share, chance)


@pytest.mark.parametrize(("table", "ref", "field", "_"), LOGS)
def test_every_parent_walks_a_valid_path_from_the_initial_state(table: str, ref: str,
                                                                field: str, _: str) -> None:
    p = params(table, field)
    allowed = {s: set(t) for s, t in p["transitions"].items()}
    initial = p.get("initial", next(iter(allowed)))
    most = p.get("max_steps", 20)
    found = paths(table, ref, field)
    parent = genfile().table(table).field(ref).ref[0]
    assert sorted(found) == list(range(1, genfile().table(parent).records + 1))
    for states in found.values():
        assert states[0] == initial and 1 <= len(states) <= most
        assert all(b in allowed.get(a, ()) for a, b in itertools.pairwise(states)), states
        assert not allowed.get(states[-1]) or len(states) == most, states


@pytest.mark.parametrize(("table", "ref", "field", "time"), LOGS)
def test_times_increase_strictly_within_each_parent(table: str, ref: str, field: str,
                                                    time: str) -> None:
    made = rows(table)
    owner, at = made[ref].values, made[time].values
    assert made[time].nulls is None
    same = np.diff(owner) == 0
    assert (np.diff(owner) >= 0).all()  # laid out parent by parent
    assert (np.diff(at)[same] > np.timedelta64(0, "s")).all()
    numbers = made["step" if table == "order_event" else "n"].values
    assert (numbers[1:][same] == numbers[:-1][same] + 1).all()
    assert (numbers[1:][~same] == 1).all() and numbers[0] == 1


def test_the_events_end_before_now_and_follow_the_order() -> None:
    orders, events = rows("order"), rows("order_event")
    created = orders["created_at"].values[events["order_id"].values - 1]
    assert (events["at"].values >= created + np.timedelta64(10, "m")).all()
    assert (events["at"].values <= np.datetime64("2026-01-01T00:00:00")).all()
    counts = np.bincount(events["order_id"].values)[1:]
    assert (orders["events"].values == counts).all()  # a total counts the path's rows


@pytest.mark.parametrize(("table", "ref", "field", "_"), LOGS)
def test_paths_follow_the_weights_of_the_transition_table(table: str, ref: str, field: str,
                                                          _: str) -> None:
    lengths, ends = exact(params(table, field))
    found = paths(table, ref, field)
    n = len(found)
    assert_close({k: sum(len(s) == k for s in found.values()) for k in lengths}, lengths, n)
    last: dict[str, int] = {}
    for states in found.values():
        last[states[-1]] = last.get(states[-1], 0) + 1
    assert_close(last, ends, n)
    if table == "order_event":  # 15% at once, then 5% of the 85% paid
        assert ends["cancelled"] == pytest.approx(0.15 + 0.85 * 0.05)
        assert abs(last["cancelled"] / n - 0.1925) < 0.03


@pytest.mark.parametrize(("table", "field"), [(t, f) for t, _, f, _ in LOGS])
def test_many_paths_follow_the_weights_closely(table: str, field: str) -> None:
    # 200,000 parents: a share off by a third of a point is caught.
    p = params(table, field)
    machine, key = state_machine(p), field_key(15, table, field)
    parents = np.arange(200_000, dtype=np.int64)
    lengths = machine.lengths(key, parents)
    last = machine.states_at(key, parents, lengths - 1)
    expected_lengths, expected_ends = exact(p)
    assert_close(dict(zip(*np.unique(lengths, return_counts=True), strict=True)),
                 expected_lengths, len(parents))
    names, counts = np.unique(last, return_counts=True)
    assert_close({machine.states[i]: c for i, c in zip(names, counts, strict=True)},
                 expected_ends, len(parents))


def test_the_table_has_one_row_per_state_of_every_path() -> None:
    for table, ref, field, _ in LOGS:
        found = paths(table, ref, field)
        assert genfile().table(table).records == sum(len(s) for s in found.values())
    layout = Source(genfile()).context.layout("ticket_step")
    assert layout is not None and layout.most == 6  # a cycle: max_steps bounds it
    assert Source(genfile()).context.layout("order_event").most == 4  # the longest walk
    schema = Source(genfile()).schema("order_event").column("status")
    assert schema.type.value == "text" and not schema.nullable
    assert set(schema.space.values) == {"created", "paid", "cancelled", "shipped",
                                        "delivered", "returned"}


def test_a_path_is_the_same_in_any_batch_of_parents() -> None:
    p = params("order_event", "status")
    machine, key = state_machine(p), field_key(15, "order_event", "status")
    parents = np.arange(4000, dtype=np.int64)
    lengths = machine.lengths(key, parents)
    picked = np.random.default_rng(1).permutation(4000)[:300]
    assert (machine.lengths(key, picked) == lengths[picked]).all()
    # Any place of any path, asked in any order, with any other rows.
    positions = np.minimum(np.random.default_rng(2).integers(0, 4, 300), lengths[picked] - 1)
    alone = [machine.states_at(key, picked[i:i + 1], positions[i:i + 1])[0]
             for i in range(300)]
    assert machine.states_at(key, picked, positions).tolist() == alone


@pytest.mark.parametrize("table", ["order_event", "ticket_step", "order"])
@pytest.mark.parametrize("chunk_rows", [1, 61, 4096])
def test_chunks_give_the_rows_of_the_whole_table(table: str, chunk_rows: int) -> None:
    total = genfile().table(table).records
    start = total // 3
    stop = min(total, start + 200) if chunk_rows == 1 else total
    producer = Source(genfile()).producer(table, start, stop, chunk_rows)
    parts = [producer.produce(seq) for seq in range(producer.chunk_count)]
    for name, column in rows(table).items():
        made = np.concatenate([p.columns[name].values for p in parts])
        assert (made == column.values[start:stop]).all(), name


def test_rows_asked_out_of_order_are_the_same() -> None:
    table = genfile().table("order_event")
    picked = np.random.default_rng(3).permutation(table.records)[:500]
    made = Source(genfile()).context.compiled("order_event").columns(picked)
    for name, column in rows("order_event").items():
        assert (made[name].values == column.values[picked]).all(), name


@settings(max_examples=15, deadline=None)
@given(parts=st.integers(1, 7), seed=st.integers(15, 17))
def test_partitions_add_up_to_the_whole_run(parts: int, seed: int) -> None:
    assert_partitions_add_up(genfile(seed), parts, lambda name: rows(name, seed))


def test_another_seed_draws_other_paths() -> None:
    assert paths("order_event", "order_id", "status", 16) != \
        paths("order_event", "order_id", "status")
    assert genfile(16).table("order_event").records == \
        sum(len(s) for s in paths("order_event", "order_id", "status", 16).values())
