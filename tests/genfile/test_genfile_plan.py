"""Write order (parents first) and partitions (contiguous, covering, disjoint)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datastorm_core.core.partition import partition_range
from datastorm_core.genfile import Partition, loads_genfile, plan_tables, write_order


@given(total=st.integers(min_value=0, max_value=10**12), count=st.integers(1, 200))
@settings(max_examples=200, deadline=None)
def test_partitions_cover_every_row_exactly_once(total: int, count: int) -> None:
    ranges = [partition_range(total, Partition(k, count)) for k in range(count)]
    assert ranges[0][0] == 0
    assert ranges[-1][1] == total
    for (start, stop), (next_start, _) in itertools.pairwise(ranges):
        assert start <= stop == next_start  # contiguous, no overlap, no gap
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1  # balanced
    assert sum(sizes) == total


def test_ten_rows_in_three_partitions() -> None:
    assert [partition_range(10, Partition(k, 3)) for k in range(3)] == [(0, 3), (3, 6), (6, 10)]


@pytest.mark.parametrize(("text", "expected"), [("0/1", (0, 1)), ("3/4", (3, 4))])
def test_partition_parse(text: str, expected: tuple[int, int]) -> None:
    p = Partition.parse(text)
    assert (p.index, p.count) == expected
    assert str(p) == text


@pytest.mark.parametrize("bad", ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""])
def test_partition_parse_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="partition must be K/N"):
        Partition.parse(bad)


def _chain_genfile(edges: dict[int, list[int]], n: int) -> str:
    """Tables t0..t{n-1} in file order; t{i} references every t{j} in edges[i]."""
    text = ""
    for i in range(n):
        text += f'[t{i}]\nrecords = {i + 1}\n[t{i}.id]\ntype = "sequence"\n'
        for j in edges.get(i, []):
            text += f'[t{i}.ref_{j}]\ntype = "reference"\nref = "t{j}.id"\n'
    return text


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, dict[int, list[int]]]:
    """A random acyclic reference graph, with tables written in a random order."""
    n = draw(st.integers(1, 8))
    rank = draw(st.permutations(range(n)))  # a table only references lower ranks
    edges: dict[int, list[int]] = {}
    for i in range(n):
        candidates = [j for j in range(n) if rank[j] < rank[i]]
        if candidates:
            edges[i] = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=3))
    return n, edges


@given(dags())
@settings(max_examples=60, deadline=None)
def test_write_order_puts_every_parent_first(graph: tuple[int, dict[int, list[int]]]) -> None:
    n, edges = graph
    genfile = loads_genfile(_chain_genfile(edges, n), environ={})
    order = [t.name for t in write_order(genfile.tables)]
    assert sorted(order) == sorted(genfile.table_names)
    position = {name: i for i, name in enumerate(order)}
    for child, parents in edges.items():
        for parent in parents:
            assert position[f"t{parent}"] < position[f"t{child}"]


def test_write_order_keeps_file_order_for_independent_tables() -> None:
    text = """
[zebra.id]
type = "sequence"
[orders.id]
type = "sequence"
[orders.customer]
type = "reference"
ref = "customer.id"
[apple.id]
type = "sequence"
[customer.id]
type = "sequence"
"""
    genfile = loads_genfile(text, environ={})
    assert [t.name for t in write_order(genfile.tables)] == \
        ["zebra", "customer", "orders", "apple"]


def test_plan_tables_selects_orders_and_partitions() -> None:
    text = """
[child]
records = 10
[child.id]
type = "sequence"
[child.p]
type = "reference"
ref = "parent.id"
[parent]
records = 7
[parent.id]
type = "sequence"
"""
    genfile = loads_genfile(text, environ={})
    plans = plan_tables(genfile, partition=Partition(1, 3))
    assert [p.table.name for p in plans] == ["parent", "child"]
    # Each table is split by its own row count.
    assert [(p.start, p.stop, p.total) for p in plans] == [(2, 4, 7), (3, 6, 10)]
    assert [p.rows for p in plans] == [2, 3]
    only = plan_tables(genfile, selected=["child"])
    assert [(p.table.name, p.start, p.stop) for p in only] == [("child", 0, 10)]
