"""Counters of a run, and the progress events a front end can show."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ProgressCallback", "RunStats", "TableStats"]


@dataclass
class TableStats:
    """Rows written to one table and how long it took."""

    name: str
    total: int
    written: int = 0
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    buffer_peak_rows: int = 0

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    @property
    def rows_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


@dataclass
class RunStats:
    """Every table of a run, in write order."""

    tables: list[TableStats] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    # Ctrl-C or SIGTERM came while the run committed: everything is in all the same.
    interrupted_after_commit: bool = False

    @property
    def rows(self) -> int:
        return sum(t.written for t in self.tables)

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


# Called from the consumer thread after every batch, and once per table start/end.
ProgressCallback = Callable[[TableStats], None]
