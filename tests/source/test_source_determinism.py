"""Guarantee 1: row i of table T is a pure function of (seed, T, i)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from source_support import EVERY_TYPE, every_type, load, values, whole

from datastorm_core.core.chunk import Chunk
from datastorm_core.genfile.types import FIELD_TYPES
from datastorm_core.source import Source

ROWS = 1500  # kitchen's records


@cache
def reference_run() -> Chunk:
    """The whole kitchen table, generated in one chunk, once for the module."""
    return whole(Source(every_type()), "kitchen")


@cache
def shared_source() -> Source:
    return Source(every_type())


@cache
def reference_values() -> dict[str, list[object]]:
    return {name: values(reference_run(), name) for name in reference_run().columns}


def assert_same_rows(chunk: Chunk, start: int, stop: int) -> None:
    expected = reference_values()
    assert list(chunk.columns) == list(expected)
    for name, column in expected.items():
        assert values(chunk, name) == column[start:stop], name


def test_every_field_type_is_in_the_determinism_genfile() -> None:
    used = {f.type for t in every_type().tables for f in t.fields}
    assert used == set(FIELD_TYPES)
    kitchen = every_type().table("kitchen")
    assert any(f.null_rate > 0 for f in kitchen.fields)
    assert any(f.unique and f.name != "id" for f in kitchen.fields)


@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_any_slice_equals_the_same_rows_of_the_whole_table(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, ROWS - 1), label="start")
    stop = data.draw(st.integers(start + 1, ROWS), label="stop")
    chunk = shared_source().chunk("kitchen", start, stop)
    assert (chunk.start, chunk.rows) == (start, stop - start)
    assert_same_rows(chunk, start, stop)


@pytest.mark.parametrize(("chunk_rows", "start", "stop"),
                         [(1, 40, 90), (7, 0, ROWS), (256, 0, ROWS), (1499, 0, ROWS),
                          (5000, 0, ROWS), (100, 333, 1234)])
def test_chunk_size_does_not_change_the_rows(chunk_rows: int, start: int, stop: int) -> None:
    producer = Source(every_type()).producer("kitchen", start, stop, chunk_rows)
    chunks = [producer.produce(seq) for seq in range(producer.chunk_count)]
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    assert sum(c.rows for c in chunks) == stop - start
    assert chunks[0].start == start
    for c in chunks:
        assert_same_rows(c, c.start, c.start + c.rows)


def test_rows_can_be_generated_in_any_order() -> None:
    source = Source(every_type())
    later = source.chunk("kitchen", 1000, 1500)  # before the rows that precede it
    earlier = source.chunk("kitchen", 0, 1000)
    assert_same_rows(later, 1000, 1500)
    assert_same_rows(earlier, 0, 1000)


def test_two_sources_give_identical_data() -> None:
    first, second = Source(every_type()), Source(every_type())
    for table in ("parent", "kitchen"):
        a, b = whole(first, table), whole(second, table)
        for name in a.columns:
            assert values(a, name) == values(b, name)
            assert a.columns[name].values.dtype.kind == b.columns[name].values.dtype.kind


def test_a_parent_generated_alone_or_through_its_child_is_the_same() -> None:
    # The child's references compile the parent first; the parent's rows must not care.
    via_child = Source(every_type())
    whole(via_child, "kitchen")
    assert values(whole(via_child, "parent"), "code") == \
        values(whole(Source(every_type()), "parent"), "code")


def _differing_fields(a: Chunk, b: Chunk) -> set[str]:
    return {name for name in a.columns if values(a, name) != values(b, name)}


SEED_INDEPENDENT = {"id"}  # start + step * i


def test_a_different_seed_gives_different_data() -> None:
    genfile = every_type()
    other_seed = whole(Source(genfile, seed=genfile.dataset.seed + 1), "kitchen")
    assert _differing_fields(reference_run(), other_seed) == \
        set(reference_run().columns) - SEED_INDEPENDENT
    reseeded = every_type(EVERY_TYPE.replace("seed = 20240917", "seed = -3"))
    assert _differing_fields(reference_run(), whole(Source(reseeded), "kitchen")) == \
        set(reference_run().columns) - SEED_INDEPENDENT


def test_the_seed_argument_wins_over_the_genfile() -> None:
    genfile = every_type()
    reseeded = every_type(EVERY_TYPE.replace("seed = 20240917", "seed = 5"))
    a = whole(Source(genfile, seed=5), "kitchen")
    b = whole(Source(reseeded), "kitchen")
    assert not _differing_fields(a, b)


def test_extra_tables_and_fields_elsewhere_change_nothing() -> None:
    extended_text = EVERY_TYPE.replace(
        "[kitchen.int_normal]",
        '[kitchen.inserted]\ntype = "int"\nunique = true\n\n'
        '[kitchen.inserted_email]\ntype = "email"\nfrom = "first"\n\n'
        "[kitchen.int_normal]",
    ) + """
[extra]
records = 50

[extra.id]
type = "uuid"

[extra.kitchen_id]
type = "reference"
ref = "kitchen.id"

[parent.extra_field]
type = "float"
"""
    extended = load(extended_text)
    assert "inserted" in extended.table("kitchen").field_names
    source = Source(extended)
    kitchen = whole(source, "kitchen")
    for name in reference_run().columns:
        assert values(kitchen, name) == values(reference_run(), name), name
    original_parent = whole(Source(every_type()), "parent")
    extended_parent = whole(source, "parent")
    for name in original_parent.columns:
        assert values(extended_parent, name) == values(original_parent, name)


def test_reordering_fields_changes_no_value() -> None:
    text = """
[t]
records = 200
[t.id]
type = "sequence"
[t.a]
type = "int"
[t.b]
type = "name"
[t.c]
type = "email"
from = "b"
"""
    reordered = text.replace('[t.a]\ntype = "int"\n', "") + '[t.a]\ntype = "int"\n'
    a, b = whole(Source(load(text)), "t"), whole(Source(load(reordered)), "t")
    assert list(b.columns) == ["id", "b", "c", "a"]
    for name in a.columns:
        assert values(a, name) == values(b, name)


def test_same_rows_in_a_table_of_another_name_differ() -> None:
    # Streams are keyed by the table's name too: two tables never mirror each other.
    text = '[a]\nrecords = 100\n[a.x]\ntype = "int"\n[b]\nrecords = 100\n[b.x]\ntype = "int"\n'
    source = Source(load(text))
    assert values(whole(source, "a"), "x") != values(whole(source, "b"), "x")


def test_null_masks_are_deterministic_and_chunk_independent() -> None:
    source = shared_source()
    full = reference_run().columns["seen_at"].nulls
    assert full is not None
    parts = [source.chunk("kitchen", a, b).columns["seen_at"].nulls for a, b in
             ((0, 500), (500, 501), (501, 1500))]
    rebuilt = np.concatenate([p if p is not None else np.zeros(1, bool) for p in parts])
    assert np.array_equal(rebuilt, full)


@pytest.mark.parametrize("at", [0, 5, ROWS])
def test_an_empty_range_gives_empty_columns_of_the_same_types(at: int) -> None:
    # An empty partition (fewer rows than partitions) or a preview of 0 rows.
    chunk = shared_source().chunk("kitchen", at, at)
    assert chunk.rows == 0
    assert list(chunk.columns) == list(reference_run().columns)
    for name, column in chunk.columns.items():
        assert len(column.values) == 0
        assert column.values.dtype.kind == reference_run().columns[name].values.dtype.kind
