"""What the command line (or Dagster) may change for one run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from datastorm_core.core.partition import Partition

__all__ = ["RunOptions"]


@dataclass(frozen=True)
class RunOptions:
    """What the command line (or Dagster) may change for one run."""

    target: str | None = None  # a URL; wins over the Genfile's [target]
    seed: int | None = None
    tables: Sequence[str] | None = None
    partition: Partition = field(default_factory=Partition)
    mode: str | None = None
    batch_size: int | None = None
    buffer_size: int | None = None
    workers: int = 1
    day: date | None = None  # one day of the tables partitioned by day
    target_for: Mapping[str, str] = field(default_factory=dict)  # named target -> URL
    # Emptying a table of the application may empty the Genfile's other tables
    # that reference it (Dagster: they are materialized again downstream).
    may_empty_genfile: bool = False
    # Seconds a statement may wait for a lock another session holds (None: the
    # target's option, else its default).
    lock_timeout: float | None = None
