"""Partitions: a run may write partition K of N of every table, rows being pure
functions of their index, so that N runs (on N machines) add up to one whole run.

One definition for the planner, the targets and the orchestrators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from datastorm_core.errors import UsageError

__all__ = ["Partition", "PartitionLike", "partition_range"]


class PartitionLike(Protocol):
    index: int
    count: int


@dataclass(frozen=True)
class Partition:
    """Partition ``index`` of ``count`` (0-based), as in ``--partition K/N``."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise UsageError(
                f"partition must be K/N with 0 <= K < N, got {self.index}/{self.count}")

    @property
    def is_whole(self) -> bool:
        """True when the run writes every row (no ``--partition``, or ``0/1``)."""
        return self.count == 1

    @classmethod
    def parse(cls, text: str) -> Partition:
        head, slash, tail = text.partition("/")
        try:
            index, count = int(head), int(tail)
        except ValueError:
            raise ValueError(f"partition must be K/N (e.g. 0/4), got {text!r}") from None
        if not slash or count < 1 or not 0 <= index < count:
            raise ValueError(f"partition must be K/N with 0 <= K < N, got {text!r}")
        return cls(index, count)

    @classmethod
    def coerce(cls, value: PartitionLike | tuple[int, int] | None) -> Partition:
        """Accept None (whole run), an ``(index, count)`` pair, or a partition object."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, tuple):
            index, count = value
            return cls(int(index), int(count))
        return cls(int(value.index), int(value.count))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def partition_range(total: int, partition: Partition) -> tuple[int, int]:
    """Row indices ``[start, stop)`` of a partition of a table of ``total`` rows."""
    start = partition.index * total // partition.count
    stop = (partition.index + 1) * total // partition.count
    return start, stop
