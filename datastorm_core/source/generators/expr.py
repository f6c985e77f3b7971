"""expr: a value computed from fields of the row; and the conditions of `when` and `cases`.

An ``Expression`` is one of a field's expressions checked against the
Genfile (the tree ``genfile.expressions`` types) and evaluated over whole
chunks (``services.evaluate``). The compiled table evaluates `when` with
it, the choice generator its cases, and ``ExprGenerator`` its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType, ValueSpace
from datastorm_core.genfile.expression_scope import TableScope, Unsettled, compile_expression
from datastorm_core.genfile.expressions import (
    ExpressionError,
    ExprType,
    Node,
    names_in,
    position,
)
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.parents import take
from datastorm_core.source.services.evaluate import evaluate, evaluate_column
from datastorm_core.source.services.expr_bounds import Analysis, analyse, value_space
from datastorm_core.source.services.expr_values import COLUMN_TYPES

__all__ = ["ExprGenerator", "Expression"]


class Expression:
    """One expression of a field (``label``: "expr", "when", "cases[2].when")."""

    def __init__(self, text: str, ctx: GeneratorContext, field: str, label: str,
                 params: Mapping[str, Any] | None = None, condition: bool = False) -> None:
        self.ctx = ctx
        self.label = label
        self.reads = names_in(text)
        self.tree: Node | None = None
        self.problem: str | None = None
        try:
            scope = TableScope(ctx.models, ctx.table, field, ctx.now)
            self.tree = compile_expression(text, scope, params, condition=condition)
        except ExpressionError as exc:
            self.problem = f"{label}: {exc.message} at {position(text, exc.at)}"
        except (Unsettled, KeyError) as exc:  # validation reports these before a source runs
            self.problem = f"{label}: {exc}"

    @property
    def type(self) -> ExprType | None:
        return None if self.tree is None else self.tree.type

    def column(self, row: Mapping[str, Column], rows: int) -> Column:
        assert self.tree is not None
        runs = self._parent_runs(row, rows)
        if runs is None:
            return evaluate_column(self.tree, row, rows, self.analysis.exact)
        # Every name is the parent's: one value per run of rows pointing at one parent
        # (a loan's installments), computed once and repeated along the run.
        first, where = runs
        once = {name: take(row[name], first) for name in self.reads}
        return take(evaluate_column(self.tree, once, len(first), self.analysis.exact), where)

    @cached_property
    def through(self) -> str | None:
        """The reference that every name reads through (REF of each REF.FIELD), if one
        does: the value is then the same for all the rows pointing at one parent."""
        refs = {name.partition(".")[0] if "." in name else "" for name in self.reads}
        return refs.pop() if len(refs) == 1 and "" not in refs else None

    def _parent_runs(self, row: Mapping[str, Column], rows: int
                     ) -> tuple[np.ndarray, np.ndarray] | None:
        """The first row of each run of rows that point at one parent, and each row's
        run; None unless the expression reads through one reference only and its
        rows come in runs (children tied to their parent) that save work."""
        if self.through is None or rows < 2:
            return None
        pointer = row[self.through]
        changed = pointer.values[1:] != pointer.values[:-1]
        if pointer.nulls is not None:
            changed = changed | (pointer.nulls[1:] != pointer.nulls[:-1])
        first = np.flatnonzero(np.concatenate(([True], changed)))
        if 2 * len(first) > rows:  # few rows repeat a parent: row by row is as cheap
            return None
        return first, np.cumsum(np.concatenate(([0], changed)), dtype=np.int64)

    def holds(self, row: Mapping[str, Column], rows: int) -> np.ndarray:
        """Where a condition is true (NULL is not true)."""
        assert self.tree is not None
        value = evaluate(self.tree, row, self.analysis.exact)
        held = np.broadcast_to(value.data, (rows,))
        return held if value.nulls is None else held & ~np.broadcast_to(value.nulls, (rows,))

    @cached_property
    def analysis(self) -> Analysis:
        """Bounds and partiality, from the spaces of the fields read (asked once the table
        is compiled: a sibling's space needs its generator)."""
        if self.tree is None:
            return Analysis(None, True)
        return analyse(self.tree, self._space_of)

    def _space_of(self, name: str) -> ValueSpace | None:
        table, parts = self.ctx.table, name.split(".")
        for ref in parts[:-1]:  # REF.FIELD: the parent's field
            f = self.ctx.models[table].field(ref)
            if f.ref is None:
                return None
            table = f.ref[0]
        try:
            return self.ctx.reference_pool(table, parts[-1]).space
        except (KeyError, LookupError):
            return None


class ExprGenerator(Generator):
    """``expr = "quantity * unit_price"``: the expression's value, of its `as` type."""

    # NULLs of the fields it reads are the expression's to handle: coalesce(x, 0) is not
    # NULL where x is.
    nulls_from_reads = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.expression = Expression(self.field.param("expr", ""), self.ctx, self.field.name,
                                     "expr", self.field.params)
        self.kind = self.expression.type or ExprType("text")
        self.column_type = COLUMN_TYPES[self.kind.kind]
        self.nulls_through = names_in(self.field.param("expr", ""))
        if self.column_type is ColumnType.NUMERIC:
            self.scale = self.kind.scale

    def problems(self) -> list[str]:
        return [self.expression.problem] if self.expression.problem else []

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> Column:
        return self.expression.column(row, len(indices))

    @property
    def makes_nulls(self) -> bool:  # type: ignore[override]
        return self.expression.analysis.partial

    @property
    def precision(self) -> int | None:  # type: ignore[override]
        """A decimal's digits: its bounds', at least one more than its places; unknown
        bounds leave the target's widest (None)."""
        if self.column_type is not ColumnType.NUMERIC:
            return None
        space = self.value_space()
        if space is None or space.low is None:
            return None
        scale = self.scale or 0
        digits = max(len(str(abs(int(Decimal(v).scaleb(scale))))) for v in (space.low, space.high))
        return max(digits, scale + 1)

    def value_space(self) -> ValueSpace | None:
        return value_space(self.expression.analysis, self.kind)
