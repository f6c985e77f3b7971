"""What every target shares: write mode, constraint mode, partition, lifecycle.

``BaseTarget`` is the skeleton of the ``Target`` protocol (see
``core/protocols.py``). It validates the run-wide settings once, keeps the
schemas handed to ``prepare``, enforces that ``finish`` runs exactly once,
and splits ``finish`` into ``commit``/``rollback``/``close`` so a concrete
target only says how to talk to its store.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar, TypedDict

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.modes import CONSTRAINT_MODES, WRITE_MODES
from datastorm_core.core.partition import Partition, PartitionLike
from datastorm_core.core.schema import ColumnSchema, TableSchema
from datastorm_core.errors import Problem, UsageError

__all__ = [
    "CONSTRAINT_MODES",
    "WRITE_MODES",
    "BaseTarget",
    "PartitionLike",
    "TargetPartition",
    "TargetSettings",
    "check_options",
    "require_primary_keys",
]

# The targets' name for the partition a run writes (one definition, in core).
TargetPartition = Partition


def check_options(kind: str, options: Mapping[str, Any], accepted: Sequence[str]) -> None:
    """Refuse options a target does not know, so a typo is not silently ignored."""
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        known = ", ".join(accepted) if accepted else "none"
        raise UsageError(f"unknown option(s) for the {kind} target: {', '.join(unknown)} "
                         f"(accepted: {known})")


def require_primary_keys(schemas: Sequence[TableSchema]) -> None:
    """Append mode upserts by primary key; without one a rerun would duplicate rows."""
    missing = [s.name for s in schemas if not s.primary_key]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        verb = "has" if len(missing) == 1 else "have"
        raise UsageError(
            f"mode 'append' needs a primary key on every table, and {names} {verb} none: "
            "append upserts by primary key so that rerunning a partition never duplicates "
            "rows. Mark a field primary_key = true (or name it id), or use mode 'replace'."
        )


class TargetSettings(TypedDict, total=False):
    """The settings every target takes besides its URL (see ``BaseTarget``)."""

    mode: str
    constraints: str
    partition: PartitionLike | tuple[int, int] | None
    options: Mapping[str, Any] | None
    seed: int
    may_empty: Collection[str]


class BaseTarget(abc.ABC):
    """Skeleton of a target: settings, schemas, and a ``finish`` that runs once.

    Subclasses implement ``open``, ``prepare``, ``write_batch`` and the three
    ``finish`` steps; ``begin_table``, ``end_table`` and ``abort`` default to
    doing nothing.
    """

    #: Rows per ``write_batch`` when the run sets no batch size.
    default_batch_size: int = 10_000
    #: Short name used in messages ("postgres", "sqlite", ...).
    kind: ClassVar[str] = "target"
    #: Options (from the Genfile's ``[target]`` table) this target understands.
    accepted_options: ClassVar[tuple[str, ...]] = ()
    #: Whether writing one partition in replace mode is meaningful. A database
    #: table holds every partition, so replacing it from one partition would
    #: drop the others; a file per partition has no such problem.
    partition_replace_ok: ClassVar[bool] = False
    #: Whether the target checks foreign keys as rows arrive (a database), so that a
    #: reference of a cycle must be written NULL and set after the load: such a
    #: target takes ``TableSchema.update`` batches, which set columns of rows by key.
    enforces_references: ClassVar[bool] = False

    def __init__(
        self,
        url: str,
        *,
        mode: str = "replace",
        constraints: str = "after_load",
        partition: PartitionLike | tuple[int, int] | None = None,
        options: Mapping[str, Any] | None = None,
        seed: int = 0,
        may_empty: Collection[str] = (),
    ) -> None:
        self.url = url
        #: The run's seed, for targets that label what they write (Kafka headers).
        self.seed = seed
        #: Tables outside the run that emptying the run's tables may empty too (the
        #: Genfile's other tables, when the caller writes them next, as Dagster does).
        self.may_empty = frozenset(may_empty)
        if mode not in WRITE_MODES:
            raise UsageError(f"mode must be one of {', '.join(WRITE_MODES)}, got {mode!r}")
        if constraints not in CONSTRAINT_MODES:
            raise UsageError(
                f"constraints must be one of {', '.join(CONSTRAINT_MODES)}, got {constraints!r}")
        self.mode = mode
        self.constraints = constraints
        self.partition = TargetPartition.coerce(partition)
        self.options: dict[str, Any] = dict(options or {})
        check_options(self.kind, self.options, self.accepted_options)
        if mode == "replace" and not self.partition.is_whole and not self.partition_replace_ok:
            raise UsageError(
                f"mode 'replace' with partition {self.partition} would drop the rows of the "
                f"other partitions from the {self.kind} tables; use mode 'append', which "
                "rewrites exactly this partition's rows"
            )
        self.schemas: dict[str, TableSchema] = {}
        self._finished = False
        #: Set the moment the run is published (its COMMIT returned): an interrupt
        #: after that point cannot undo it, and the run must say it is in.
        self.committed = False
        #: Things a user should know about a run that still succeeded.
        self.warnings: list[str] = []

    @property
    def append(self) -> bool:
        return self.mode == "append"

    def describe(self) -> str:
        """Where this target writes, safe to print (no password)."""
        return self.kind

    @classmethod
    def declared_type(cls, column: ColumnSchema) -> str:
        """The type a column has in this kind of target, as its users see it (a
        database's column type; elsewhere datastorm's own column kind)."""
        return column.type.value

    def probe(self, schemas: Sequence[TableSchema]) -> None:  # noqa: B027
        """Raise now if the destination cannot take ``schemas``' rows.

        A run that writes several targets one after the other probes the later
        ones first, so a broker that is down (or refuses to create a topic)
        fails the run before the first target commits anything. Default:
        nothing to check before ``open``.
        """

    def check_schemas(self, schemas: Sequence[TableSchema]) -> list[Problem]:
        """Problems with writing ``schemas`` into what the destination holds now.

        Runs before any target of the run opens, so a Genfile that does not
        fit an existing table is refused before anything is written. Default:
        nothing exists that could disagree.
        """
        return []

    def survey(self, schemas: Sequence[TableSchema]) -> list[dict[str, str]]:
        """Per table: whose it is and what a run will do to it (for ``plan``)."""
        return []

    def read_keys(self, table: str, column: str) -> list[Any]:
        """The distinct non-NULL values of ``table.column``, in order (an existing table's
        keys, which references draw from). Only databases can answer."""
        raise UsageError(f"table {table!r} is an existing table (existing = true), but its "
                         f"target ({self.describe()}) is not a database datastorm can read "
                         "keys from; put it on a PostgreSQL or SQLite target")

    def table_details(self, name: str) -> dict[str, Any]:
        """What the run left in table ``name`` beyond its row count (e.g. Kafka offsets)."""
        return {}

    # -- the protocol -------------------------------------------------------

    @abc.abstractmethod
    def open(self) -> None:
        """Connect or check the destination; nothing visible is written yet."""

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        """Remember the run's tables (in write order); subclasses create them."""
        self.schemas = {s.name: s for s in schemas}

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:  # noqa: B027
        """Rows ``[start, stop)`` of ``schema`` follow; default: nothing to do."""

    @abc.abstractmethod
    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        """Write chunks (consecutive, in row order) of one table."""

    def end_table(self, schema: TableSchema) -> None:  # noqa: B027
        """Every row of ``schema`` was written; default: nothing to do."""

    def finish(self, error: BaseException | None) -> None:
        """Commit (``error`` is None) or undo everything, then release resources.

        Runs its steps once even if called again; ``close`` always runs, and a
        failure while rolling back never hides the error that caused it.
        """
        if self._finished:
            return
        self._finished = True
        try:
            if error is None:
                self.commit()
            else:
                # A failing rollback must not hide the error that caused it.
                with contextlib.suppress(Exception):
                    self.rollback()
        except BaseException:
            if not self.committed:  # a signal held back past COMMIT: nothing to undo
                with contextlib.suppress(Exception):  # best effort after a failed commit
                    self.rollback()
            raise
        finally:
            self.close()

    def abort(self) -> None:  # noqa: B027
        """Cut short a write blocked in another thread; default: nothing to cut."""

    # -- what subclasses implement for finish() ------------------------------

    @abc.abstractmethod
    def commit(self) -> None:
        """Make every write of the run visible at once."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Undo every write of the run; the store is as it was before ``open``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and files; called after commit or rollback."""
