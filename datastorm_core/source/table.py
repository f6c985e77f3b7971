"""A table compiled for generation: its generators, in the order they must run.

Fields are computed in dependency order (an e-mail after the name it is
derived from) and returned in the Genfile's order. This module adds what
every field shares: NULLs drawn per row, uniqueness through a keyed
permutation of the row index, and NULL propagation from the fields a
derived field reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.errors import Problem
from datastorm_core.genfile.model import Field, Table
from datastorm_core.genfile.types import FIELD_TYPES
from datastorm_core.source.generators import GENERATORS, Generator, GeneratorContext
from datastorm_core.source.generators.reference import JointDraw, ReferenceGenerator
from datastorm_core.source.generators.temporal import DailyTimeGenerator
from datastorm_core.source.services.permutation import MAX_DOMAIN, KeyedPermutation

__all__ = ["CompiledField", "CompiledTable"]


@dataclass
class CompiledField:
    field: Field
    generator: Generator
    reads: tuple[str, ...]
    permutation: KeyedPermutation | None = None

    @property
    def column(self) -> ColumnSchema:
        g = self.generator
        precision, scale = (g.precision, g.scale) if g.column_type is ColumnType.NUMERIC \
            else (None, None)
        # NULLs come from null_rate, from a hierarchy's roots, or from a NULL in a
        # field this one is derived from.
        g_self_reference = getattr(g, "self_reference", False)
        nullable = self.field.null_rate > 0 or g_self_reference
        return ColumnSchema(self.field.name, g.column_type, nullable=nullable,
                            precision=precision, scale=scale)

    def values(self, indices: np.ndarray, row: dict[str, Column]) -> Column:
        g, f = self.generator, self.field
        nulls = None
        if self.permutation is not None:
            made = g.from_ordinals(self.permutation(indices), indices)
        else:
            made = g.generate(indices, row)
        codes = categories = None
        if isinstance(made, Column):  # own NULLs (a hierarchy's roots) or a dictionary encoding
            values, nulls, codes, categories = made.values, made.nulls, made.codes, made.categories
        else:
            values = made
        if f.null_rate > 0:
            drawn = g.stream.sub("null").below(indices, f.null_rate)
            nulls = drawn if nulls is None else nulls | drawn
        for name in self.reads:  # derived from a NULL is NULL
            source = row[name].nulls
            if source is not None:
                nulls = source.copy() if nulls is None else nulls | source
        if nulls is not None and not nulls.any():
            nulls = None
        return Column(values, nulls, codes, categories)


class CompiledTable:
    """Generators of one table, ready to compute any of its columns for any rows."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.fields: dict[str, CompiledField] = {}
        self.problems: list[Problem] = []
        self.order: list[str] = []

    def compile(self, make_context: Callable[[Field], GeneratorContext]) -> None:
        """Build the generators. Two-phase because a self-reference needs the
        table's own pool while the table compiles: the fields it points at are
        compiled first."""
        def pointed_at_by_self(f: Field) -> bool:
            return any(r.ref == (self.table.name, f.name) for r in self.table.references)

        for f in sorted(self.table.fields, key=lambda f: not pointed_at_by_self(f)):
            compiled = self._compile(f, make_context(f))
            if compiled is not None:
                self.fields[f.name] = compiled
        self._tie_link_keys()
        self.order = self._evaluation_order()

    def _tie_link_keys(self) -> None:
        """A link table's composite key: its references draw distinct parent tuples."""
        key = self.table.primary_key
        if len(key) < 2 or not all(k in self.fields for k in key):
            return
        generators = [self.fields[k].generator for k in key]
        if not all(isinstance(g, ReferenceGenerator) for g in generators):
            return
        draw = JointDraw([g.pool.rows for g in generators],  # type: ignore[attr-defined]
                         generators[0].stream.sub("link").key)
        if draw.space < self.table.records:
            self.problems.append(Problem(
                f"the primary key ({', '.join(key)}) has only {draw.space:,} distinct "
                f"combinations of parents, for {self.table.records:,} rows", self.table.name))
            return
        for position, g in enumerate(generators):
            g.joint = (draw, position)  # type: ignore[attr-defined]

    def _compile(self, f: Field, ctx: GeneratorContext) -> CompiledField | None:
        def problem(message: str) -> None:
            self.problems.append(Problem(message, self.table.name, f.name))

        try:
            daily = self.table.daily
            if daily is not None and f.name == daily.time_field:
                generator: Generator = DailyTimeGenerator(f, ctx, daily)
            else:
                generator = GENERATORS[f.type](f, ctx)
        except (KeyError, LookupError, ValueError) as exc:
            problem(str(exc))
            return None
        found = generator.problems()
        for message in found:
            problem(message)
        reads = FIELD_TYPES[f.type].reads(f.params)
        compiled = CompiledField(f, generator, reads)
        # A generator that cannot work (a refused locale) has no space worth reporting.
        if f.unique and not generator.unique_by_nature and not found:
            space = generator.space()
            if space is None:
                problem(f"type {f.type} cannot be unique")
            elif space < self.table.records:
                problem(f"unique: only {space:,} distinct values exist, for "
                        f"{self.table.records:,} rows")
            elif not generator.handles_unique:
                compiled.permutation = KeyedPermutation(
                    min(space, MAX_DOMAIN), generator.stream.sub("unique").key)
        return compiled

    def _evaluation_order(self) -> list[str]:
        order: list[str] = []

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in order or name in path or name not in self.fields:
                return
            for dependency in self.fields[name].reads:
                visit(dependency, (*path, name))
            order.append(name)

        for name in self.fields:
            visit(name, ())
        return order

    @property
    def schema_columns(self) -> tuple[ColumnSchema, ...]:
        # A derived field is NULL where a field it reads is: nullable only if one is.
        columns: dict[str, ColumnSchema] = {}
        for name in self.order:
            column = self.fields[name].column
            if any(columns[r].nullable for r in self.fields[name].reads if r in columns):
                column = replace(column, nullable=True)
            columns[name] = column
        return tuple(columns[f.name] for f in self.table.fields if f.name in columns)

    def columns(self, indices: np.ndarray, names: Iterable[str] | None = None
                ) -> dict[str, Column]:
        """Columns ``names`` (default all, in Genfile order) at row ``indices``."""
        wanted = list(names) if names is not None else list(self.table.field_names)
        needed = set(wanted)
        for name in reversed(self.order):
            if name in needed:
                needed.update(self.fields[name].reads)
        row: dict[str, Column] = {}
        for name in self.order:
            if name in needed:
                row[name] = self.fields[name].values(indices, row)
        return {name: row[name] for name in wanted}
