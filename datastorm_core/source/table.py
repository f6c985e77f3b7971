"""A table compiled for generation: its generators, in the order they must run.

Fields are computed in dependency order (an e-mail after the name it is
derived from) and returned in the Genfile's order. This module adds what
every field shares: NULLs drawn per row, uniqueness through a keyed
permutation of the row index, NULL propagation from the fields a
derived field reads, and ``max_length``: text cut to a column's width.
A field may read ``REF.FIELD``, a field of the row its reference points at
(``source.parents``): such a name is computed after REF, before the fields
that read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, ValueSpace
from datastorm_core.errors import Problem
from datastorm_core.genfile.model import Field, Table
from datastorm_core.genfile.types import FIELD_TYPES
from datastorm_core.source.generators import GENERATORS, Generator, GeneratorContext
from datastorm_core.source.generators.base import Tables
from datastorm_core.source.generators.expr import Expression
from datastorm_core.source.generators.reference import JointDraw, ReferenceGenerator
from datastorm_core.source.generators.temporal import DailyTimeGenerator
from datastorm_core.source.generators.time_order import OrderedTimeGenerator, is_ordered
from datastorm_core.source.parents import KeptColumns, dotted, read_parent
from datastorm_core.source.services.memo import IdentityCache
from datastorm_core.source.services.permutation import MAX_DOMAIN, KeyedPermutation

__all__ = ["CompiledField", "CompiledTable"]

# Cut copies of dictionary categories (names), one per (array, width): a field derived
# from a cut column then meets the same categories in every chunk, and works once.
_CUT_CATEGORIES: IdentityCache[dict[int, np.ndarray]] = IdentityCache()


@dataclass
class CompiledField:
    field: Field
    generator: Generator
    reads: tuple[str, ...]  # every field it reads: computed before it
    permutation: KeyedPermutation | None = None
    # The fields whose NULL is a NULL here (a template's placeholders); the NULLs of
    # the fields its expressions read are the expressions' own (coalesce).
    derives: tuple[str, ...] = ()
    when: Expression | None = None  # NULL where it does not hold
    # The generator's value space with max_length applied, computed once when first
    # asked (after the table is compiled: a template's depends on its fields').
    _space: tuple[ValueSpace | None] | None = dataclass_field(default=None, repr=False,
                                                              compare=False)

    @property
    def max_length(self) -> int | None:
        """Where text is cut; None: nowhere (not set, or not a text column)."""
        if self.generator.column_type is not ColumnType.TEXT:
            return None
        return self.field.param("max_length")

    @property
    def space(self) -> ValueSpace | None:
        if self._space is None:
            self._space = (_cut_space(self.generator.value_space(), self.max_length),)
        return self._space[0]

    @property
    def column(self) -> ColumnSchema:
        g = self.generator
        precision, scale = (g.precision, g.scale) if g.column_type is ColumnType.NUMERIC \
            else (None, None)
        # NULLs come from null_rate, from a hierarchy's roots, or from a NULL in a
        # field this one is derived from.
        g_self_reference = getattr(g, "self_reference", False)
        # A deferred reference is NULL until the fill after the load sets it.
        nullable = (self.field.null_rate > 0 or g_self_reference or self.field.deferred
                    or self.when is not None or g.makes_nulls)
        return ColumnSchema(self.field.name, g.column_type, nullable=nullable,
                            precision=precision, scale=scale, space=self.space,
                            syntax=g.syntax)

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
        cut = self.max_length
        if cut is not None and values.dtype.kind == "U" and values.dtype.itemsize // 4 > cut:
            # Casting to a narrower unicode dtype keeps each string's first `cut`
            # characters: the whole column is cut in one pass.
            values = values.astype(f"<U{cut}")
            if categories is not None:  # codes stay: categories[codes] is the cut value
                categories = _cut(categories, cut)
        if f.null_rate > 0:
            drawn = g.stream.sub("null").below(indices, f.null_rate)
            nulls = drawn if nulls is None else nulls | drawn
        for name in self.derives if g.nulls_from_reads else ():  # derived from a NULL is NULL
            source = row[name].nulls
            if source is not None:
                nulls = source.copy() if nulls is None else nulls | source
        if self.when is not None:
            unheld = ~self.when.holds(row, len(indices))
            nulls = unheld if nulls is None else nulls | unheld
        if nulls is not None and not nulls.any():
            nulls = None
        return Column(values, nulls, codes, categories)


def _cut(categories: np.ndarray, width: int) -> np.ndarray:
    """``categories`` cut to ``width`` characters, the same array for the same input."""
    by_width = _CUT_CATEGORIES.get(categories, dict)
    if width not in by_width:
        by_width[width] = categories.astype(f"<U{width}") \
            if categories.dtype.itemsize // 4 > width else categories
    return by_width[width]


def _max_length_problems(f: Field, generator: Generator) -> list[str]:
    """Where cutting text to ``max_length`` would break the field, it is refused."""
    width = f.param("max_length")
    if generator.column_type is not ColumnType.TEXT:
        return [f"max_length cuts text, and type {f.written_type} makes "
                f"{generator.column_type.value} values: remove max_length"]
    reference = isinstance(generator, ReferenceGenerator)
    unique = f.unique or generator.unique_by_nature
    # A field that cannot be unique is reported as such; its space is not asked for.
    if not reference and not (unique and generator.space() is not None):
        return []
    space = generator.value_space()
    longest = None if space is None else space.max_length
    if longest is not None and longest <= width:
        return []  # no value is ever cut
    known = f"up to {longest} characters" if longest is not None else \
        "of no known maximum length"
    if reference:
        return [f"max_length {width} would cut the parent's keys ({known}), and a cut key "
                "matches no parent row: remove max_length"]
    return [f"max_length {width} could make two unique values equal ({f.written_type} values "
            f"are {known}): raise max_length or remove unique"]


def _cut_space(space: ValueSpace | None, width: int | None) -> ValueSpace | None:
    """The values a column holds once cut to ``width`` characters."""
    if width is None:
        return space
    if space is None:
        return ValueSpace(max_length=width)
    longest = width if space.max_length is None else min(space.max_length, width)
    values = space.values
    if values is not None:  # cut, and equal once cut: one
        values = tuple(dict.fromkeys(v[:width] if isinstance(v, str) else v for v in values))
    return replace(space, max_length=longest, values=values)


class CompiledTable:
    """Generators of one table, ready to compute any of its columns for any rows."""

    def __init__(self, table: Table, tables: Tables | None = None) -> None:
        self.table = table
        # The run's tables: the parents that ``REF.FIELD`` names are read from.
        self.tables = tables
        self.fields: dict[str, CompiledField] = {}
        self.problems: list[Problem] = []
        # Fields and ``REF.FIELD`` names, each after what it needs.
        self.order: list[str] = []
        self._placed: set[str] = set()
        # Whole columns for the children that read this table's fields (REF.FIELD).
        self.kept = KeptColumns(table.records)

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
        self._placed = set(self.order)
        for compiled in self.fields.values():
            for message in compiled.generator.late_problems():
                self.problems.append(Problem(message, self.table.name, compiled.field.name))

    def _tie_link_keys(self) -> None:
        """References drawn together: a link table's composite key and the table's
        ``unique`` groups draw distinct parent tuples; a ``same_row_as`` reference
        follows its partner's parent row (the columns of a composite foreign key)."""
        groups = [self.table.primary_key] if len(self.table.primary_key) > 1 else []
        for group in [*groups, *self.table.unique_groups]:
            self._tie(group)
        for compiled in self.fields.values():
            partner = compiled.field.param("same_row_as")
            generator = compiled.generator
            if partner in self.fields and isinstance(generator, ReferenceGenerator):
                leader = self.fields[partner].generator
                if isinstance(leader, ReferenceGenerator):
                    generator.partner = leader

    def _tie(self, group: tuple[str, ...]) -> None:
        if not all(k in self.fields for k in group):
            return
        generators = [self.fields[k].generator for k in group]
        if not all(isinstance(g, ReferenceGenerator) for g in generators):
            return
        draw = JointDraw([g.pool.rows for g in generators],  # type: ignore[attr-defined]
                         generators[0].stream.sub("link").key)
        if draw.space < self.table.records:
            what = "the primary key" if group == self.table.primary_key else "unique"
            self.problems.append(Problem(
                f"{what} ({', '.join(group)}) has only {draw.space:,} distinct "
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
            elif is_ordered(f):  # after or before another field
                generator = OrderedTimeGenerator(f, ctx)
            else:
                generator = GENERATORS[f.type](f, ctx)
        except (KeyError, LookupError, ValueError) as exc:
            problem(str(exc))
            return None
        found = generator.problems()
        for message in found:
            problem(message)
        if f.param("max_length") is not None and not found:
            for message in _max_length_problems(f, generator):
                problem(message)
        ftype = FIELD_TYPES[f.type]
        when = None
        if "when" in f.params:
            when = Expression(f.params["when"], ctx, f.name, "when", condition=True)
            if when.problem is not None:
                problem(when.problem)
                when = None
        compiled = CompiledField(f, generator, ftype.reads(f.params),
                                 derives=ftype.derives(f.params), when=when)
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
            if name in order or name in path:
                return
            if name not in self.fields:  # a parent's field, after the reference to it
                through = dotted(name)
                if through is not None and through[0] in self.fields:
                    visit(through[0], (*path, name))
                    order.append(name)
                return
            for dependency in self.fields[name].reads:
                visit(dependency, (*path, name))
            order.append(name)

        for name in self.fields:
            visit(name, ())
        return order

    @property
    def schema_columns(self) -> tuple[ColumnSchema, ...]:
        columns = self._columns_in_order()
        return tuple(columns[f.name] for f in self.table.fields if f.name in columns)

    def column_of(self, name: str) -> ColumnSchema:
        """The column of a field, or of a ``REF.FIELD`` name (the parent's, nullable where
        the reference is)."""
        if name in self._placed:
            return self._columns_in_order(until=name)[name]
        ref = name.partition(".")[0]  # a name no field reads (a per_parent count)
        return self._parent_column(name, self._columns_in_order(until=ref))

    def _columns_in_order(self, until: str | None = None) -> dict[str, ColumnSchema]:
        """The columns in evaluation order, up to ``until`` (a field's own column may
        depend on those it reads: an ordered time's bounds on its base's)."""
        # A derived field is NULL where a field it derives from is, and an expression may
        # be NULL where a field it reads is: nullable only if one is. A parent's field
        # (REF.FIELD) is placed before its readers, nullable where the reference is.
        columns: dict[str, ColumnSchema] = {}
        for name in self.order:
            if name not in self.fields:
                columns[name] = self._parent_column(name, columns)
            else:
                compiled = self.fields[name]
                column = compiled.column
                generator = compiled.generator
                through = (*(compiled.derives if generator.nulls_from_reads else ()),
                           *generator.nulls_through)
                if any(columns[r].nullable for r in through if r in columns):
                    column = replace(column, nullable=True)
                columns[name] = column
            if name == until:
                break
        return columns

    def _parent_column(self, name: str, columns: dict[str, ColumnSchema]) -> ColumnSchema:
        ref, rest = dotted(name) or (name, "")
        generator = self.fields[ref].generator
        assert isinstance(generator, ReferenceGenerator) and generator.field.ref is not None
        assert self.tables is not None
        parent = self.tables.column(generator.field.ref[0], rest)
        return replace(parent, nullable=parent.nullable or columns[ref].nullable)

    def columns(self, indices: np.ndarray, names: Iterable[str] | None = None
                ) -> dict[str, Column]:
        """Columns ``names`` (default all, in Genfile order; ``REF.FIELD`` names too) at
        row ``indices``."""
        wanted = list(names) if names is not None else list(self.table.field_names)
        # A REF.FIELD name no field of this table reads (a child reading two hops away)
        # comes last: its reference is in the order already.
        order = self.order + [n for n in wanted if n not in self.fields
                              and n not in self._placed]
        needed = set(wanted)
        for name in reversed(order):
            if name in needed:
                needed.update(self.fields[name].reads if name in self.fields
                              else [name.partition(".")[0]])
        row: dict[str, Column] = {}
        for name in order:
            if name not in needed or name in row:
                continue
            if name in self.fields:
                row[name] = self.fields[name].values(indices, row)
            else:
                row.update(self._read_parents(name, indices, row, needed))
        return {name: row[name] for name in wanted}

    def _read_parents(self, name: str, indices: np.ndarray, row: dict[str, Column],
                      needed: set[str]) -> dict[str, Column]:
        """``name`` and every other needed name read through the same reference, at once:
        the parent rows are found once for all of them."""
        ref = name.partition(".")[0]
        generator = self.fields[ref].generator
        assert isinstance(generator, ReferenceGenerator) and generator.field.ref is not None
        assert self.tables is not None
        through = {n: rest for n in needed if n not in self.fields
                   for r, rest in [dotted(n) or ("", "")] if r == ref}
        parent = self.tables.compiled(generator.field.ref[0])
        kept = parent.kept if isinstance(parent, CompiledTable) else None
        found = read_parent(generator, parent, indices, row[ref], list(through.values()),
                            kept)
        return {n: found[rest] for n, rest in through.items()}
