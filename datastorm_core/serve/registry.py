"""What ``GET /status`` reports: since when the server is up, what it served, its streams.

Updated from the event loop (routes, middleware) and read by ``/status``;
a lock keeps a reader from seeing a stream half registered.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = ["OpenStream", "StatusRegistry", "StreamLimitReached"]


class StreamLimitReached(Exception):
    """As many streams are open as the server allows."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class OpenStream:
    """One open stream of rows."""

    id: int
    table: str
    format: str
    rate: float
    first_row: int
    started_at: str = field(default_factory=_now)
    rows_sent: int = 0
    last_row_at: str | None = None

    def sent(self, rows: int) -> None:
        self.rows_sent += rows
        self.last_row_at = _now()

    def describe(self) -> dict[str, object]:
        return {"id": self.id, "table": self.table, "format": self.format, "rate": self.rate,
                "from": self.first_row, "next_row": self.first_row + self.rows_sent,
                "rows_sent": self.rows_sent, "started_at": self.started_at,
                "last_row_at": self.last_row_at}


class StatusRegistry:
    """Counts of requests and rows, and the open streams."""

    def __init__(self, max_streams: int,
                 exports: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.max_streams = max_streams
        self.up_since = _now()
        self._started = time.monotonic()
        self.requests = 0
        self.rows_served = 0
        self.streams: dict[int, OpenStream] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.exports = exports
        # Set when the server is asked to stop: open streams end at their next tick
        # instead of being cancelled when the grace period runs out.
        self.stopping = False

    def request(self) -> None:
        with self._lock:
            self.requests += 1

    def served(self, rows: int) -> None:
        with self._lock:
            self.rows_served += rows

    def open_stream(self, table: str, fmt: str, rate: float, first_row: int) -> OpenStream:
        """Register a stream; StreamLimitReached when ``max_streams`` are open."""
        with self._lock:
            if len(self.streams) >= self.max_streams:
                raise StreamLimitReached(
                    f"{len(self.streams)} streams are open, the most this server allows "
                    f"(--max-streams {self.max_streams}); close one and retry")
            stream = OpenStream(next(self._ids), table, fmt, rate, first_row)
            self.streams[stream.id] = stream
            return stream

    def close_stream(self, stream: OpenStream) -> None:
        with self._lock:
            self.streams.pop(stream.id, None)

    def describe(self) -> dict[str, object]:
        with self._lock:
            streams = [s.describe() for s in self.streams.values()]
            requests, rows = self.requests, self.rows_served
        return {
            "status": "running",
            "up_since": self.up_since,
            "uptime_seconds": round(time.monotonic() - self._started, 3),
            "requests": requests,
            "rows_served": rows,
            "open_streams": len(streams),
            "streams": streams,
            "exports": dict(self.exports()) if self.exports is not None else {},
        }
