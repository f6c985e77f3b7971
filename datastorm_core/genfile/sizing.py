"""Row counts that follow from the Genfile: tables tied to a parent by ``per_parent``.

A tied table has as many rows as its parent's children add up to; that is
a function of the seed, so sizing runs after validation and again when a
run overrides the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from datastorm_core.core.cardinality import Cardinality, cardinality
from datastorm_core.core.hashing import field_key
from datastorm_core.genfile.graph import write_order
from datastorm_core.genfile.model import Field, Genfile, Table

__all__ = ["size_tables", "tie_of", "tied_cardinality", "with_seed"]


def tie_of(table: Table) -> Field | None:
    """The reference whose ``per_parent`` decides the table's rows, if any."""
    for f in table.references:
        if "per_parent" in f.params:
            return f
    return None


def tied_cardinality(seed: int, table: Table, parent_rows: int) -> Cardinality | None:
    """Children per parent of a tied table (None when the table is not tied)."""
    tie = tie_of(table)
    if tie is None:
        return None
    low, high = tie.params["per_parent"]
    return cardinality(field_key(seed, table.name, tie.name), parent_rows, low, high)


def size_tables(tables: Sequence[Table], seed: int) -> list[Table]:
    """The tables with the row count of every tied table computed, file order kept."""
    sized: dict[str, Table] = {}
    for table in write_order(tables):
        tie = tie_of(table)
        if tie is not None and tie.ref is not None and tie.ref[0] in sized:
            tied = tied_cardinality(seed, table, sized[tie.ref[0]].records)
            assert tied is not None
            table = replace(table, records=tied.children)
        sized[table.name] = table
    return [sized[t.name] for t in tables]


def with_seed(genfile: Genfile, seed: int | None) -> Genfile:
    """The Genfile run with another seed (``--seed``): tied tables are sized again."""
    if seed is None or seed == genfile.dataset.seed:
        return genfile
    dataset = replace(genfile.dataset, seed=seed)
    return replace(genfile, dataset=dataset, tables=tuple(size_tables(genfile.tables, seed)))
