"""Parquet files: one file per table (or per partition) in a directory, with pyarrow.

``parquet:///out`` writes ``out/{table}.parquet``; partition K of N writes
``{table}.part-{K:05d}-of-{N:05d}.parquet``, so that the N runs of
``--partition K/N`` add up to the table (file names as the CSV target's).

Each batch the runner hands over becomes one row group, appended to the
file as it arrives (``batch_size``; default ``default_batch_size`` rows), so
memory stays two batches whatever the table's size: while pyarrow encodes
and writes one batch on a thread of the target's own (its C++ releases the
GIL), the next one is converted to Arrow, and a write's error is raised by
the next call. Types are kept
(``core.values.arrow``): int64, float64, bool, string, decimal(p, s),
date32, timestamp[us] without a time zone, and UUID as Parquet's UUID
logical type (Arrow's ``uuid`` extension type); NULLs are nulls.

All or nothing as the CSV target (``files.FileTarget``, which this extends):
rows go to a hidden temporary file, renamed into place when the run
commits; a failed or interrupted run deletes it, leaving the previous file
or none. Append mode on a whole run copies the old file's row groups into
the new file first, then adds the run's rows (a Parquet file cannot grow in
place); its columns must be the table's.

pyarrow is imported when a table is first written, not when the registry
loads this module, so the command line starts as fast as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target.base import TargetSettings
from datastorm_core.target.files import FileTarget, _Pending

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from typing_extensions import Unpack

__all__ = ["COMPRESSIONS", "ParquetTarget"]

#: The codecs the ``compression`` option takes (pyarrow's names; "none" stores raw pages).
COMPRESSIONS = ("snappy", "zstd", "gzip", "brotli", "lz4", "none")


class ParquetTarget(FileTarget):
    """``{table}.parquet``: a row group per batch, typed columns, renamed into place at
    the end of the run."""

    kind = "parquet"
    extension = "parquet"
    accepted_options: ClassVar[tuple[str, ...]] = ("compression",)
    # A row group per batch: large enough to compress and scan well, small enough that
    # a wide table's batch stays some tens of megabytes.
    default_batch_size = 131_072

    def __init__(self, url: str, **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        self.compression = str(self.options.get("compression", "snappy")).lower()
        if self.compression not in COMPRESSIONS:
            raise UsageError(f"compression {self.options['compression']!r} is not one the "
                             f"parquet target knows: {', '.join(COMPRESSIONS)}")
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._arrow: dict[str, pa.Schema] = {}
        # One thread writes row groups while the consumer converts the next batch.
        self._io = ThreadPoolExecutor(1, thread_name_prefix="datastorm-parquet")
        self._writing: Future[None] | None = None

    @classmethod
    def declared_type(cls, column: ColumnSchema) -> str:
        if column.type is ColumnType.UUID:
            return "uuid"
        from datastorm_core.core.values.arrow import arrow_type

        return str(arrow_type(column))

    # -- one file per table ---------------------------------------------------------

    def _start_file(self, schema: TableSchema, pending: _Pending, extend: bool) -> None:
        import pyarrow.parquet as pq

        from datastorm_core.core.values.arrow import arrow_schema

        arrow = arrow_schema(schema)
        old = self._existing_file(pending.final, arrow) if extend else None
        sink = open(pending.temp, "wb")  # noqa: SIM115 - closed in end_table/finish
        pending.handle = sink  # FileTarget flushes, syncs and closes it
        try:
            writer = pq.ParquetWriter(sink, arrow, compression=self.compression)
            self._writers[schema.name], self._arrow[schema.name] = writer, arrow
            for group in range(old.num_row_groups if old is not None else 0):
                assert old is not None
                writer.write_table(old.read_row_group(group))
        except Exception as exc:
            raise self._error(pending.final, exc) from exc

    def _existing_file(self, final: str, arrow: pa.Schema) -> pq.ParquetFile:
        """The file that append mode extends, once its columns are the table's."""
        import pyarrow.parquet as pq

        try:
            old = pq.ParquetFile(final)
        except Exception as exc:
            raise self._error(final, exc) from exc
        found = old.schema_arrow.remove_metadata()
        if not found.equals(arrow):
            raise TargetError(
                f"cannot append to {final!r}: its columns ({_columns(found)}) differ from the "
                f"table's ({_columns(arrow)}); use mode 'replace' or another directory")
        return old

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        import pyarrow as pa

        from datastorm_core.core.values.arrow import arrow_batch

        writer, arrow = self._writers.get(schema.name), self._arrow.get(schema.name)
        final = self.path_of(schema.name)
        if writer is None or arrow is None:
            raise TargetError(f"writing {final!r}: the table was already ended")
        try:
            rows = pa.Table.from_batches([arrow_batch(c, schema, arrow) for c in chunks],
                                         schema=arrow)
            self._wait()  # the previous batch is written (or its error raised)
            self._writing = self._io.submit(
                writer.write_table, rows, row_group_size=max(1, rows.num_rows))  # one group
        except Exception as exc:
            raise self._error(final, exc) from exc

    def _wait(self) -> None:
        """Until the batch being written is in the file; its error, if it failed."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def end_table(self, schema: TableSchema) -> None:
        writer = self._writers.pop(schema.name, None)
        if writer is not None:
            try:
                self._wait()
                writer.close()  # the footer; the file itself is synced and closed below
            except Exception as exc:
                raise self._error(self.path_of(schema.name), exc) from exc
        super().end_table(schema)

    def commit(self) -> None:
        for name in list(self._writers):  # every table was ended; this is a safety net
            self.end_table(self.schemas[name])
        super().commit()

    def rollback(self) -> None:
        self._drop_writers()
        super().rollback()

    def close(self) -> None:
        self._drop_writers()
        self._io.shutdown(wait=True)
        super().close()

    def _drop_writers(self) -> None:
        with contextlib.suppress(Exception):
            self._wait()  # a failed run: the write in flight ends before its file goes
        for writer in self._writers.values():
            with contextlib.suppress(Exception):
                writer.close()
        self._writers.clear()

    @staticmethod
    def _error(path: str, exc: Exception) -> TargetError:
        if isinstance(exc, TargetError):
            return exc
        return TargetError(f"writing {path!r}: {type(exc).__name__}: {exc}")


def _columns(schema: Any) -> str:
    return ", ".join(f"{f.name} {f.type}" for f in schema)

