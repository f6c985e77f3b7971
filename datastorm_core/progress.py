"""What a person sees while a run goes: progress per table, then a summary.

On a terminal, a live bar per table (rows, rows/s, ETA); elsewhere (CI
logs, pipes) one line per finished table, so logs stay readable.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from datastorm_core.core.stats import RunStats, TableStats

__all__ = ["ProgressDisplay", "render_summary"]


class ProgressDisplay:
    """A progress callback for the runner; use as a context manager."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        stream = stream or sys.stderr
        self.console = Console(file=stream, highlight=False)
        self.live = stream.isatty() if live is None else live
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}
        self._progress = Progress(
            TextColumn("[bold]{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>12} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        ) if self.live else None

    def __enter__(self) -> ProgressDisplay:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, table: TableStats) -> None:
        with self._lock:
            if self._progress is not None:
                task = self._tasks.get(table.name)
                if task is None:
                    task = self._progress.add_task(table.name, total=table.total, rate="-")
                    self._tasks[table.name] = task
                self._progress.update(task, completed=table.written,
                                      rate=f"{table.rows_per_second:,.0f}")
            elif table.ended is not None:
                self.console.print(
                    f"{table.name}: {table.written:,} rows in {table.seconds:.2f} s "
                    f"({table.rows_per_second:,.0f} rows/s)")


def render_summary(stats: RunStats, target: str, seed: int, console: Console) -> None:
    """The table printed at the end of a run."""
    summary = Table(title=f"datastorm: wrote to {target} (seed {seed})", title_justify="left")
    summary.add_column("table")
    summary.add_column("rows", justify="right")
    summary.add_column("seconds", justify="right")
    summary.add_column("rows/s", justify="right")
    for t in stats.tables:
        summary.add_row(t.name, f"{t.written:,}", f"{t.seconds:.2f}", f"{t.rows_per_second:,.0f}")
    summary.add_row("[bold]total", f"[bold]{stats.rows:,}", f"[bold]{stats.seconds:.2f}",
                    f"[bold]{stats.rows_per_second:,.0f}")
    console.print(summary)
