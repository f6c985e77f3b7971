"""Parquet files: one file per table (or per partition) in a directory, with pyarrow.

``parquet:///out`` writes ``out/{table}.parquet``; partition K of N writes
``{table}.part-{K:05d}-of-{N:05d}.parquet``, so that the N runs of
``--partition K/N`` add up to the table (file names as the CSV target's).

Each batch the runner hands over becomes one row group, appended to the
file as it arrives (``batch_size``; default ``default_batch_size`` rows), so
memory stays two batches whatever the table's size: pyarrow encodes and
writes one on a thread of the target's own (its C++ releases the GIL) while
the next one is converted to Arrow; a write's error is raised by the next
call. Columns whose values repeat in the first batch (a choice, a reference
to a small parent) are dictionary-encoded, the others written plain
(``_repeating``). Types are kept (``core.values.arrow``): int64, float64,
bool, string, decimal(p, s), date32, timestamp[us] without a time zone, and
UUID as Parquet's UUID logical type (Arrow's ``uuid`` extension type);
NULLs are nulls.

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
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, ClassVar

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
        self._files: dict[str, _File] = {}
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
        from datastorm_core.core.values.arrow import arrow_schema

        arrow = arrow_schema(schema)
        old = self._existing_file(pending.final, arrow) if extend else None
        sink = open(pending.temp, "wb")  # noqa: SIM115 - closed in end_table/finish
        pending.handle = sink  # FileTarget flushes, syncs and closes it
        # The writer waits for the first batch, which says which columns repeat values.
        self._files[schema.name] = _File(sink, arrow, old)

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

    def _open_writer(self, file: _File, first: pa.Table | None) -> pq.ParquetWriter:
        """The table's writer, dictionary-encoding the columns whose values repeat in
        ``first`` (its first batch), then the old file's row groups (append mode)."""
        import pyarrow.parquet as pq

        writer = pq.ParquetWriter(file.sink, file.arrow, compression=self.compression,
                                  use_dictionary=_repeating(first))
        file.writer = writer
        for group in range(file.old.num_row_groups if file.old is not None else 0):
            assert file.old is not None
            writer.write_table(file.old.read_row_group(group))
        return writer

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        import pyarrow as pa

        from datastorm_core.core.values.arrow import arrow_batch

        file, final = self._files.get(schema.name), self.path_of(schema.name)
        if file is None:
            raise TargetError(f"writing {final!r}: the table was already ended")
        try:
            rows = pa.Table.from_batches([arrow_batch(c, schema, file.arrow) for c in chunks],
                                         schema=file.arrow)
            writer = file.writer or self._open_writer(file, rows)
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
        file = self._files.pop(schema.name, None)
        if file is not None:
            try:
                self._wait()
                writer = file.writer or self._open_writer(file, None)  # a table of no rows
                writer.close()  # the footer; the file itself is synced and closed below
            except Exception as exc:
                raise self._error(self.path_of(schema.name), exc) from exc
        super().end_table(schema)

    def commit(self) -> None:
        for name in list(self._files):  # every table was ended; this is a safety net
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
        for file in self._files.values():
            if file.writer is not None:
                with contextlib.suppress(Exception):
                    file.writer.close()
        self._files.clear()

    @staticmethod
    def _error(path: str, exc: Exception) -> TargetError:
        if isinstance(exc, TargetError):
            return exc
        return TargetError(f"writing {path!r}: {type(exc).__name__}: {exc}")


@dataclass
class _File:
    """A table's Parquet file being written: its sink (the temporary file), its Arrow
    schema, the file append mode extends, and its writer once the first batch came."""

    sink: IO[bytes]
    arrow: pa.Schema
    old: pq.ParquetFile | None
    writer: pq.ParquetWriter | None = None


# A column is dictionary-encoded when its first batch holds at most one distinct value
# in this many rows. Parquet tries a dictionary on every column by default and falls
# back to plain pages once it outgrows a page: on a column of unique values (keys,
# UUIDs, timestamps, free text) that attempt is paid in every row group again, and
# costs more CPU than the encoding itself.
_ROWS_PER_DISTINCT = 4


def _repeating(first: pa.Table | None) -> bool | list[str]:
    """The columns worth a dictionary: those whose values repeat in ``first`` (True: every
    column, when there is no batch to judge by)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if first is None or first.num_rows == 0:
        return True
    names = []
    for name, column in zip(first.column_names, first.columns, strict=True):
        if isinstance(column.type, pa.BaseExtensionType):  # count the UUIDs' 16 bytes
            column = pa.chunked_array([c.storage for c in column.chunks],
                                      type=column.type.storage_type)
        values = first.num_rows - column.null_count
        if values and pc.count_distinct(column).as_py() * _ROWS_PER_DISTINCT <= values:
            names.append(name)
    return names


def _columns(schema: Any) -> str:
    return ", ".join(f"{f.name} {f.type}" for f in schema)

