"""Row counts that follow from the Genfile: tables tied to a parent by ``per_parent``.

A tied table has as many rows as its parent's children add up to; that is
a function of the seed, so sizing runs after validation and again when a
run overrides the seed.

``per_parent = [min, max]`` counts are hashes of the parent's index, and
``per_parent = "STATE"`` counts the states of a path drawn from the parent's
index (``genfile.lifecycle``): this layer computes both itself. ``per_parent =
"REF.FIELD"`` counts are a field of the parent, made by the parent's
generators, which live in ``source``, above this layer: sizing takes them
from a ``ChildCounter`` its caller gives (``source.sizing`` makes one).
Without one, such a table stays unsized (``Genfile.unsized``): no rows and
no layout, until a layer that can count sizes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from datastorm_core.core.cardinality import Cardinality, cardinality
from datastorm_core.core.hashing import field_key
from datastorm_core.genfile.graph import write_order
from datastorm_core.genfile.lifecycle import path_layout
from datastorm_core.genfile.model import Field, Genfile, Table

__all__ = ["ChildCounter", "count_field", "layout_of", "size_tables", "tie_of",
           "tied_cardinality", "with_seed"]

#: The layout of a table tied by a parent's field: given every table (those it
#: depends on sized), the tied table and the seed, its children per parent.
ChildCounter = Callable[[Sequence[Table], Table, int], Cardinality]


def tie_of(table: Table) -> Field | None:
    """The reference whose ``per_parent`` decides the table's rows, if any."""
    for f in table.references:
        if "per_parent" in f.params:
            return f
    return None


def count_field(table: Table) -> str | None:
    """``"REF.FIELD"`` when the table's row count follows a field of its parent."""
    tie = tie_of(table)
    return tie.counted_by if tie is not None else None


def tied_cardinality(seed: int, table: Table, parent_rows: int) -> Cardinality | None:
    """Children per parent of a table tied by ``per_parent = [min, max]`` or by a
    lifecycle's paths (None when the table is not tied, or tied by a parent's field: only
    the source counts those)."""
    tie = tie_of(table)
    if tie is None or count_field(table) is not None:
        return None
    if tie.walked_by is not None:
        walker = table.field(tie.walked_by)
        return path_layout(seed, table.name, walker.name, walker.params, parent_rows)
    low, high = tie.params["per_parent"]
    return cardinality(field_key(seed, table.name, tie.name), parent_rows, low, high)


def size_tables(tables: Sequence[Table], seed: int, counter: ChildCounter | None = None
                ) -> tuple[list[Table], dict[str, Cardinality]]:
    """The tables with the row count of every tied table computed, file order kept, and
    the layouts of those tied by a parent's field (counted by ``counter``; without it,
    they are left at 0 rows and no layout)."""
    sized: dict[str, Table] = {}
    layouts: dict[str, Cardinality] = {}
    for table in write_order(tables):
        tie = tie_of(table)
        if tie is not None and tie.ref is not None and tie.ref[0] in sized:
            if count_field(table) is None:
                tied = tied_cardinality(seed, table, sized[tie.ref[0]].records)
                assert tied is not None
            elif counter is not None:
                tied = counter([sized.get(t.name, t) for t in tables], table, seed)
                layouts[table.name] = tied
            else:
                tied = None
            table = replace(table, records=tied.children if tied is not None else 0)
        sized[table.name] = table
    return [sized[t.name] for t in tables], layouts


def with_seed(genfile: Genfile, seed: int | None, counter: ChildCounter | None = None
              ) -> Genfile:
    """The Genfile run with another seed (``--seed``): tied tables are sized again.

    A table tied by a parent's field is sized by ``counter``; without one it is
    left unsized (``Genfile.unsized``) when the seed changes.
    """
    if (seed is None or seed == genfile.dataset.seed) and (counter is None
                                                             or not genfile.unsized):
        return genfile
    seed = genfile.dataset.seed if seed is None else seed
    dataset = replace(genfile.dataset, seed=seed)
    tables, layouts = size_tables(genfile.tables, seed, counter)
    return replace(genfile, dataset=dataset, tables=tuple(tables), layouts=layouts)


def layout_of(genfile: Genfile, table: Table) -> Cardinality | None:
    """The children-per-parent layout of a tied table (None: not tied).

    Raises:
        ValueError: the table is tied by a parent's field and the Genfile is not sized
            (``source.sizing.sized`` sizes it): a bug of the caller, not the user's.
    """
    tie = tie_of(table)
    if tie is None or tie.ref is None:
        return None
    if count_field(table) is not None:
        layouts: Mapping[str, Cardinality] = genfile.layouts
        if table.name not in layouts:
            raise ValueError(f"table {table.name!r} is sized by its parent's field "
                             f"{count_field(table)}: size the Genfile first "
                             "(datastorm_core.source.sizing.sized)")
        return layouts[table.name]
    return tied_cardinality(genfile.dataset.seed, table, genfile.table(tie.ref[0]).records)
