"""What an orchestrator asks about one table, beside ``run``: where its rows go,
its columns as that target types them, the rows a partition or a day holds,
a preview of them, and an inspector of the target that holds them.

The Dagster layer reaches the engine through this module and ``run.py``
only, so targets, encoders and the source can change behind them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from datastorm_core.core.partition import Partition
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.values import spaced_text
from datastorm_core.errors import UsageError
from datastorm_core.genfile.graph import write_order
from datastorm_core.genfile.model import Genfile, TargetConfig
from datastorm_core.genfile.plan import table_partition_range
from datastorm_core.loading import sized
from datastorm_core.run import RunOptions, check, preview, routed, schema
from datastorm_core.source import Source
from datastorm_core.target.inspect import Inspector, open_inspector
from datastorm_core.target.registry import TARGET_CLASSES
from datastorm_core.target.urls import scheme_of

__all__ = ["Inspector", "Partition", "column_types", "destination", "inspector", "key_texts",
           "preview_text", "row_range", "write_order"]


def destination(genfile: Genfile, table: str, options: RunOptions | None = None
                ) -> TargetConfig:
    """The target ``table`` is written to, its ``url`` and ``type`` as ``options``
    (the command line's or Dagster's overrides) make them."""
    ways = routed(genfile, options or RunOptions())
    name = genfile.table(table).target
    return ways.target if name is None else ways.targets[name]


def column_types(genfile: Genfile, table: str, options: RunOptions | None = None,
                 table_schema: TableSchema | None = None) -> dict[str, str]:
    """Each column's type as the table's own target shows it (``numeric(12, 2)`` in
    PostgreSQL, ``REAL`` in SQLite, datastorm's column kind in a file or a topic)."""
    target = TARGET_CLASSES[scheme_of(destination(genfile, table, options).url or "")]
    columns = (table_schema or schema(genfile, table)).columns
    return {c.name: target.declared_type(c) for c in columns}


def row_range(genfile: Genfile, table: str, partition: Partition | None = None,
              day: date | None = None) -> tuple[int, int]:
    """Row indices ``[start, stop)`` of a partition (None: the whole table) or of one
    day of a table partitioned by day."""
    if day is None:
        return table_partition_range(genfile, table, partition or Partition())
    daily = genfile.table(table).daily
    if daily is None:
        raise UsageError(f"table {table!r} is not partitioned by day")
    return daily.rows_of(day)


def preview_text(genfile: Genfile, table: str, start: int, stop: int, limit: int
                 ) -> tuple[tuple[str, ...], list[list[str | None]]]:
    """The column names and the first ``limit`` rows of ``[start, stop)`` as the text a
    target writes (None for NULL)."""
    table_schema = schema(genfile, table)
    count = max(0, min(limit, stop - start))
    if count == 0:
        return table_schema.column_names, []
    chunk = preview(genfile, table, count, start=start)
    columns = [spaced_text(chunk.columns[col.name], col) for col in table_schema.columns]
    return table_schema.column_names, [list(row) for row in zip(*columns, strict=True)]


# Keys generated and counted this many at a time: a partition of millions of rows
# never holds all its keys in memory at once.
KEY_BATCH_ROWS = 100_000


def key_texts(genfile: Genfile, table: str, column: str, start: int, stop: int,
              batch: int = KEY_BATCH_ROWS) -> Iterator[list[str]]:
    """The values of ``column`` in rows ``[start, stop)``, as the text a target writes,
    a batch at a time (NULLs left out): what identifies those rows in the target."""
    genfile = sized(genfile)
    source = check(genfile, Source(genfile), [table])
    col = source.schema(table).column(column)
    for first in range(start, stop, batch):
        chunk = source.chunk(table, first, min(stop, first + batch), columns=[column])
        yield [v for v in spaced_text(chunk.columns[column], col) if v is not None]


def inspector(genfile: Genfile, table: str, options: RunOptions | None = None) -> Inspector:
    """A connection to the database holding ``table`` that counts its rows, duplicates
    and orphans; UsageError when its target is not a database."""
    config = destination(genfile, table, options)
    return open_inspector(config.url, config.options)
