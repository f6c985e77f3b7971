"""A Genfile sized whole: tables tied by a parent's field counted by the parent's generators.

``genfile.sizing`` sizes what the language alone can (``per_parent = [min,
max]``, a hash) and leaves a table tied by ``per_parent = "REF.FIELD"``
unsized: its count is the parent's field, made by generators that live in
this layer. ``sized`` gives it the counter it needs; the loaders that hand
a Genfile to a run (``datastorm_core.loading``) and ``Source`` itself call
it, so every reader of ``Table.records`` sees the count a run writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from datastorm_core.core.cardinality import Cardinality
from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.genfile.sizing import ChildCounter, with_seed
from datastorm_core.source.context import SourceContext

__all__ = ["sized"]


def sized(genfile: Genfile, seed: int | None = None) -> Genfile:
    """``genfile`` with ``seed`` (None: its own) and every tied table's row count."""
    if not any(f.counted_by for t in genfile.tables for f in t.references):
        return with_seed(genfile, seed)
    return with_seed(genfile, seed, _counter(genfile))


def _counter(genfile: Genfile) -> ChildCounter:
    """Counts the children of a table tied by a parent's field, over a Genfile whose
    tables it depends on are sized (``genfile.sizing`` walks parents first)."""
    def count(tables: Sequence[Table], table: Table, seed: int) -> Cardinality:
        partial = replace(genfile, tables=tuple(tables), layouts={},
                          dataset=replace(genfile.dataset, seed=seed))
        layout = SourceContext(partial).layout(table.name)
        assert layout is not None  # the table is tied (sizing asks only for those)
        return layout

    return count
