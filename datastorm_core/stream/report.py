"""What a stream did: counters, the line it prints every few seconds, the JSON summary."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datastorm_core.genfile.streaming import KINDS
from datastorm_core.stream.events import Event

__all__ = ["REPORT_SECONDS", "StreamReport", "write_summary"]

#: How often the progress line is printed.
REPORT_SECONDS = 5.0


@dataclass
class StreamReport:
    """Counts of one ``datastorm stream``: events by kind, rows by table and kind."""

    target: str
    seed: int
    tables: dict[str, dict[str, int]]
    rate: float
    first_event: int = 0
    next_event: int = 0
    events: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    reconnects: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    interrupted: bool = False
    error: str | None = None
    publication: dict[str, Any] | None = None
    indexes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def for_tables(cls, target: str, seed: int, names: Sequence[str], rate: float
                   ) -> StreamReport:
        return cls(target, seed, {name: dict.fromkeys(KINDS, 0) for name in names}, rate)

    def add(self, event: Event) -> None:
        self.events += 1
        self.next_event = event.n + 1
        self.kinds[event.kind] += 1
        for change in event.changes:
            self.tables.setdefault(change.table, dict.fromkeys(KINDS, 0))[change.op] += 1

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def per_second(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def line(self) -> str:
        """One progress line: totals, rate, kinds, reconnects."""
        kinds = " ".join(f"{k} {self.kinds[k]:,}" for k in KINDS)
        again = f", {self.reconnects} reconnect{'s' if self.reconnects != 1 else ''}" \
            if self.reconnects else ""
        return (f"stream: {self.events:,} events ({self.per_second:,.1f}/s), {kinds}, "
                f"next event {self.next_event:,}{again}")

    def summary(self) -> dict[str, Any]:
        """The JSON summary: ``events`` and ``tables: {name: {insert, update, delete}}``,
        rows per table and kind (a cascading delete counts every row it removes)."""
        return {
            "events": self.events,
            "tables": self.tables,
            "kinds": self.kinds,
            "first_event": self.first_event,
            "next_event": self.next_event,
            "seed": self.seed,
            "target": self.target,
            "rate": self.rate,
            "seconds": round(self.elapsed, 3),
            "events_per_second": round(self.per_second, 1),
            "reconnects": self.reconnects,
            "interrupted": self.interrupted,
            "error": self.error,
            "publication": self.publication,
            "indexes_created": self.indexes,
            "notes": self.notes,
        }


class Ticker:
    """Calls ``emit(report.line())`` every ``every`` seconds."""

    def __init__(self, report: StreamReport, emit: Callable[[str], None] | None,
                 every: float = REPORT_SECONDS) -> None:
        self.report, self.emit, self.every = report, emit, every
        self._last = time.monotonic()

    def __call__(self) -> None:
        if self.emit is None:
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.emit(self.report.line())


def write_summary(path: str, summary: dict[str, Any]) -> None:
    """Write the JSON summary atomically (a reader never sees half a file)."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, sort_keys=False, default=str)
        f.write("\n")
    os.replace(partial, path)
