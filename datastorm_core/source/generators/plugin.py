"""A generator of the user's own, behind the interface of the built-in ones.

The user's code (found and given its parameters by ``genfile.plugins``) gets
what a built-in generator gets: the row indices of a chunk and the field's
random stream, keyed by (seed, table, field). Row *i* is then a function of
(seed, table, *i*) whatever the workers, batches or partitions, as long as
the code reads nothing else (no global random state, no clock). The indices
it gets are read-only: another field's generator reads the same array.

Whatever it returns is checked (one value per row, of the declared column
type: ``services.plugin_values``) before it goes on, and whatever it raises
becomes a ``SourceError`` naming the field, the generator and the rows, so a
run stops with its cause and the target rolls back. Before the run, ``problems``
asks it for a few rows, so a generator that fails at once is a Genfile
error reported by ``datastorm validate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.values import DTYPES
from datastorm_core.errors import SourceError
from datastorm_core.genfile.model import Field
from datastorm_core.genfile.plugins import load_generator
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.services.plugin_values import WrongValues, plugin_column

__all__ = ["PROBE_ROWS", "PluginFailure", "PluginGenerator"]

# Rows a generator makes when the Genfile is checked: enough to see its shape and
# types, few enough to cost nothing before every run.
PROBE_ROWS = 16


class PluginFailure(SourceError):
    """A user's generator raised, or returned what its column cannot hold."""

    def __init__(self, table: str, field: str, reason: str) -> None:
        super().__init__(f"[{table}.{field}] {reason}")
        self.reason = reason


class PluginGenerator(Generator):
    """Calls a user's generator (a ``LoadedGenerator``) and checks what it returns."""

    def __init__(self, field: Field, ctx: GeneratorContext) -> None:
        super().__init__(field, ctx)
        self.name: str = field.params["generator"]
        # A PluginError (a ValueError) is the field's problem: the compiler reports it.
        self.plugin = load_generator(self.name, field.param("options", {}))
        column = self.plugin.column
        self.column_type = column.type
        self.precision, self.scale = column.precision, column.scale
        self.makes_nulls = column.nullable
        self._space: int | None = None

    def problems(self) -> list[str]:
        if self.field.unique:
            if self.plugin.space is None:
                return [f"unique: generator {self.name!r} cannot promise distinct values; it "
                        "needs space() and from_ordinals(ordinals, stream) (docs/plugins.md)"]
            try:
                self._space = self._counted_space()
            except PluginFailure as exc:
                return [exc.reason]
        rows = min(PROBE_ROWS, self.ctx.table_rows)
        if rows:
            sample = np.arange(rows, dtype=np.int64)
            try:
                self.generate(sample, {})
                if self.field.unique and self._space:
                    self.from_ordinals(sample % self._space, sample)
            except PluginFailure as exc:
                return [f"{exc.reason} (asked for rows 0..{rows - 1} before the run)"]
        return []

    def space(self) -> int | None:
        if self.plugin.space is None:
            return None
        if self._space is None:
            self._space = self._counted_space()
        return self._space

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray | Column:
        if not len(indices):  # the user's code need not know what an empty chunk is
            return np.zeros(0, DTYPES[self.column_type])
        enumerate_ = self.plugin.from_ordinals
        assert enumerate_ is not None  # space() said it can
        made = self._call(indices, "from_ordinals", lambda: enumerate_(_read_only(ordinals),
                                                                       self.stream))
        return self._column(made, indices, "from_ordinals")

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray | Column:
        if not len(indices):
            return np.zeros(0, DTYPES[self.column_type])
        made = self._call(indices, "generate",
                          lambda: self.plugin.generate(_read_only(indices), self.stream))
        return self._column(made, indices, "generate")

    def _counted_space(self) -> int:
        counted = self.plugin.space
        assert counted is not None
        space = self._call(np.zeros(0, dtype=np.int64), "space", counted)
        if not isinstance(space, (int, np.integer)) or isinstance(space, bool) or space < 0:
            raise self._failure(f"generator {self.name!r}: space() returned {space!r}; it must "
                                "be the number of distinct values, an int >= 0")
        return int(space)

    def _call(self, indices: np.ndarray, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # the user's code: any error is its cause, passed on
            rows = f" at rows {_rows(indices)}" if len(indices) else ""
            raise self._failure(f"generator {self.name!r} failed in {what}(){rows}: "
                                f"{type(exc).__name__}: {exc}") from exc

    def _column(self, made: object, indices: np.ndarray, what: str) -> np.ndarray | Column:
        column = self.plugin.column
        try:
            values, nulls = plugin_column(made, indices, column.type, column.scale,
                                          column.nullable)
        except WrongValues as exc:
            raise self._failure(f"generator {self.name!r}: {what}() {exc}") from None
        return values if nulls is None else Column(values, nulls)

    def _failure(self, reason: str) -> PluginFailure:
        return PluginFailure(self.ctx.table, self.field.name, reason)


def _read_only(array: np.ndarray) -> np.ndarray:
    """A view the user's code cannot write through (the array is shared with other fields)."""
    view = array.view()
    view.flags.writeable = False
    return view


def _rows(indices: np.ndarray) -> str:
    low, high = int(indices.min()), int(indices.max())
    return f"{low}..{high}" if low != high else str(low)
