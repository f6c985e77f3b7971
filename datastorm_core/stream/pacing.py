"""Pacing: ``--rate`` events a second, with a jitter that is the same on every run.

The gap before event *n* is ``(0.5 + u_n) / rate`` seconds, ``u_n`` drawn
in [0, 1) from (seed, "pace", n): the mean rate is exact, arrivals are
uneven as real traffic is, and two runs of the same seed space their
events alike. A stream that fell behind (a reconnect, a slow server)
does not burst to catch up: when it is more than ``MAX_BEHIND_SECONDS``
late, the schedule starts again from now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["MAX_BEHIND_SECONDS", "Pacer"]

# Events per second of a stream when the command line gives no --rate.
DEFAULT_RATE = 10.0
MAX_BEHIND_SECONDS = 1.0
# Longest single wait: signals and the report line are looked at this often.
_SLICE_SECONDS = 0.2


class Pacer:
    """When each event is due; ``rate = 0`` means as fast as possible."""

    def __init__(self, rate: float, jitter: Callable[[int], float],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.jitter = jitter  # event number -> u in [0, 1)
        self.clock = clock
        self._due: float | None = None

    def gap(self, n: int) -> float:
        """Seconds between event ``n - 1`` and event ``n``."""
        return 0.0 if self.rate <= 0 else (0.5 + self.jitter(n)) / self.rate

    def due(self, n: int) -> float:
        """The clock time event ``n`` is due (call once per event, in order)."""
        now = self.clock()
        if self.rate <= 0:
            return now
        base = now if self._due is None or self._due < now - MAX_BEHIND_SECONDS else self._due
        self._due = base + self.gap(n)
        return self._due

    def wait(self, n: int, stop: threading.Event, deadline: float | None = None,
             tick: Callable[[], None] | None = None) -> bool:
        """Wait until event ``n`` is due; False when stopped or past ``deadline`` first."""
        due = self.due(n)
        while True:
            if stop.is_set():
                return False
            now = self.clock()
            if deadline is not None and now >= deadline:
                return False
            if now >= due:
                return True
            until = due if deadline is None else min(due, deadline)
            stop.wait(min(_SLICE_SECONDS, max(0.0, until - now)))
            if tick is not None:
                tick()
