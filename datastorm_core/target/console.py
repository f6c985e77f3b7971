"""``console:``: a quick look at the rows, printed as one table per Genfile table.

Only the first rows of each table are kept (``rows`` option, default
``PREVIEW_ROWS``); the rest are counted. Nothing is stored, so commit and
rollback have nothing to do.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.values import NUMBERS, spaced_text
from datastorm_core.errors import UsageError
from datastorm_core.target.base import BaseTarget, TargetSettings

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["PREVIEW_ROWS", "ConsoleTarget"]

# Enough rows to see what the data looks like, few enough to fit a screen.
PREVIEW_ROWS = 20
# Width when stdout is not a terminal (a pipe, a file): wide enough that rows are
# never wrapped inside cells, which would make the output hard to read or grep.
PIPE_WIDTH = 10_000


class ConsoleTarget(BaseTarget):
    """Prints the first rows of every table to stdout (or ``stream``)."""

    kind = "console"
    default_batch_size = 10_000
    accepted_options = ("rows",)
    partition_replace_ok = True  # nothing is stored, so nothing is replaced

    def __init__(self, url: str = "console:", *, stream: TextIO | None = None,
                 **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        limit = self.options.get("rows", PREVIEW_ROWS)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise UsageError(f"console option rows must be a whole number >= 0, got {limit!r}")
        self.limit = limit
        self.stream = stream
        self._console: Console | None = None
        self._kept: list[tuple[Text | str, ...]] = []
        self._count = 0

    def describe(self) -> str:
        return "console:"

    def open(self) -> None:
        self._console = self._make_console()

    def _make_console(self) -> Console:
        stream = self.stream or sys.stdout
        width = None if stream.isatty() else PIPE_WIDTH
        return Console(file=stream, highlight=False, width=width)

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        self._kept = []
        self._count = 0

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        null = Text("NULL", style="dim")
        for chunk in chunks:
            self._count += chunk.rows
            room = self.limit - len(self._kept)
            if room <= 0:
                continue
            head = {name: _head(column, room) for name, column in chunk.columns.items()}
            columns = [spaced_text(head[c.name], c, null) for c in schema.columns]
            self._kept.extend(zip(*columns, strict=True))

    def end_table(self, schema: TableSchema) -> None:
        table = Table(title=schema.name, title_justify="left")
        for col in schema.columns:
            table.add_column(col.name, justify="right" if col.type in NUMBERS else "left")
        for row in self._kept:
            table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
        shown = f", first {len(self._kept)} shown" if len(self._kept) < self._count else ""
        console = self._console or self._make_console()
        console.print(table)
        noun = "row" if self._count == 1 else "rows"
        console.print(f"{schema.name}: {self._count} {noun}{shown}", markup=False)

    def commit(self) -> None:
        """Rows were printed as each table ended; nothing else to make visible."""

    def rollback(self) -> None:
        """What was printed stays printed; nothing was stored."""

    def close(self) -> None:
        self._console = None


def _head(column: Column, rows: int) -> Column:
    """The first ``rows`` rows of a column (views, no copy)."""
    nulls = None if column.nulls is None else column.nulls[:rows]
    return Column(column.values[:rows], nulls)
