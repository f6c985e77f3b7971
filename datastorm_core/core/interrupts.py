"""Ctrl-C and SIGTERM held back while a commit is under way.

A signal that lands in the middle of COMMIT leaves nobody sure whether the
run is in: the process dies with "interrupted" although the rows may be
committed. Around the one statement that publishes a run, the signals are
held (``deferred``): Python's handlers for SIGINT and SIGTERM only note
that one came, and when the block ends the noted signal is raised as it
would have been. The run then reports what is true: committed
(``BaseTarget.committed``), or rolled back.

Handlers, not signal masks: a process-directed signal goes to any thread
that does not block it, and Python runs its handler in the main thread
whichever thread the kernel picked.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["deferred"]

_HELD = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver the first that came.

    Only the main thread may change handlers; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[tuple[int, FrameType | None]] = []

    def note(signum: int, frame: FrameType | None) -> None:
        came.append((signum, frame))

    previous: dict[int, Any] = {}
    for signum in _HELD:
        previous[signum] = signal.signal(signum, note)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if came:
            signum, frame = came[0]
            handler = previous[signum]
            if callable(handler):
                deliver: Callable[[int, FrameType | None], Any] = handler
                deliver(signum, frame)  # e.g. KeyboardInterrupt, now the rows are in
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)
