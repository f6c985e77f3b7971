"""What an event of the change stream did: the rows it changed, in order (no I/O).

An ``Event`` is what ``PostgresStream.execute`` returns once its transaction
committed, what the report counts and what ``--event-log`` writes as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "Event"]


@dataclass(frozen=True)
class Change:
    """One row changed: ``op`` is insert, update or delete; ``key`` its primary key."""

    table: str
    op: str
    key: tuple[Any, ...]


@dataclass(frozen=True)
class Event:
    """Event ``n``: its kind, the table it chose, and the rows it changed in order."""

    n: int
    kind: str
    table: str
    changes: tuple[Change, ...]

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "kind": self.kind, "table": self.table,
                "changes": [{"table": c.table, "op": c.op, "key": [_json(v) for v in c.key]}
                            for c in self.changes]}


def _json(value: object) -> object:
    """A key value as JSON has it: dates as ISO text, anything else unknown as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[attr-defined]
    return str(value)
