"""What every way of loading a run into PostgreSQL implements.

The PostgreSQL target (``target.py``) owns the connection settings, the
run's main session and the encoders; a ``Load`` decides what happens to
the tables: which are dropped, created, truncated or staged, where each
COPY goes, which keys are built when, and what is left to do before and
after the commit. One run uses one load:

- ``DirectLoad``: datastorm's own tables, dropped and created again in the
  run's transaction, one COPY session;
- ``StagedLoad``: datastorm's own tables, loaded into scratch tables by
  several COPY sessions and swapped in at commit;
- ``ExistingLoad``: the application's tables, truncated and loaded in the
  run's transaction, nothing about them altered;
- ``UpsertLoad``: append mode, rows merged by primary key;
- ``RoutedLoad``: a replace run holding tables of both kinds, each table
  sent to the load that suits it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datastorm_core.core.schema import TableSchema

if TYPE_CHECKING:
    from datastorm_core.target.base import TargetPartition
    from datastorm_core.target.postgres.connection import ConnectionSettings
    from datastorm_core.target.postgres.session import Session

__all__ = ["Copy", "Load", "LoadContext"]


@dataclass(frozen=True)
class Copy:
    """One COPY statement's worth of rows: its format and the bytes to send.

    ``payloads`` starts with the format's header and ends with its trailer
    (both empty for text): they frame the statement, not a chunk.
    """

    format: str
    payloads: Sequence[bytes]


@dataclass
class LoadContext:
    """What a load shares with the target: where it writes and how the run is set up."""

    settings: ConnectionSettings
    session: Session
    partition: TargetPartition
    constraints: str
    #: COPY sessions of a staged load.
    sessions: int = 1
    #: Things a user should know about a run that still succeeded.
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return self.settings.describe()


class Load(ABC):
    """How a run's tables get their rows (see the module docstring)."""

    def __init__(self, ctx: LoadContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    @abstractmethod
    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        """Before any row: make the tables ready (in write order, parents first)."""

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:  # noqa: B027
        """Rows ``[start, stop)`` of ``schema`` follow."""

    @abstractmethod
    def write(self, schema: TableSchema, copy: Copy) -> None:
        """Send one COPY statement of rows of ``schema``."""

    def end_table(self, schema: TableSchema) -> None:  # noqa: B027
        """Every row of ``schema`` was sent."""

    def checks_rows(self, schema: TableSchema) -> bool:
        """Whether the server must check each row of ``schema`` against its foreign keys
        as it arrives (else the load checks them itself, once per key, before the commit)."""
        return True

    def before_commit(self) -> None:  # noqa: B027
        """Last statements of the run's transaction (swap, keys, sequences)."""

    def after_commit(self) -> None:  # noqa: B027
        """Work that must wait for the commit (foreign keys of partition runs)."""

    def after_rollback(self) -> None:  # noqa: B027
        """Clean up what lives outside the run's transaction (scratch tables)."""

    def abort(self) -> None:  # noqa: B027
        """Cancel work running on sessions of the load's own (thread-safe)."""

    def close(self) -> None:  # noqa: B027
        """Release the load's own sessions."""
