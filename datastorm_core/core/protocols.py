"""The two seams of the engine: what core needs from a source and a target.

Core sees sources and targets only through these protocols, so neither
``source`` nor ``target`` is imported here, and the two never import
each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema

__all__ = ["TableProducer", "Target"]


class TableProducer(Protocol):
    """Makes the chunks of one table's rows; chunk ``seq`` is a pure function of seq."""

    @property
    def rows(self) -> int: ...

    @property
    def chunk_count(self) -> int: ...

    def produce(self, seq: int) -> Chunk: ...


class Target(Protocol):
    """Where rows go. One run: open, prepare, per table (begin, write*, end), finish.

    ``finish(None)`` makes the run's writes visible; ``finish(error)`` undoes
    them so that a failed run leaves the target as it was. ``abort`` may be
    called from another thread to cut short a write that does not return.
    """

    default_batch_size: int

    def open(self) -> None: ...

    def prepare(self, schemas: Sequence[TableSchema]) -> None: ...

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None: ...

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None: ...

    def end_table(self, schema: TableSchema) -> None: ...

    def finish(self, error: BaseException | None) -> None: ...

    def abort(self) -> None: ...
