"""Results cached by object identity, for values derived from long-lived arrays.

numpy arrays are not hashable, so ``functools.lru_cache`` cannot key on a
word list; the word lists and weight arrays are few and live as long as
the process, so keying on identity (and keeping the object alive, so its
id is never reused) is both safe and cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["IdentityCache"]

T = TypeVar("T")


class IdentityCache(Generic[T]):
    """``get(obj, make)``: ``make(obj)`` once per distinct object (thread-safe, bounded)."""

    def __init__(self, limit: int = 4096) -> None:
        self._entries: dict[int, tuple[object, T]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def find(self, key: object) -> T | None:
        """What ``get`` made for ``key``, or None when it made nothing yet."""
        with self._lock:
            entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0] is key else None

    def get(self, key: object, make: Callable[[], T]) -> T:
        with self._lock:
            entry = self._entries.get(id(key))
            if entry is not None and entry[0] is key:
                return entry[1]
        value = make()  # outside the lock: building may be slow, and is idempotent
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[id(key)] = (key, value)
        return value
