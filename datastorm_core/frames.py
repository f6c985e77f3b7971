"""A table's rows as an Arrow table or a pandas DataFrame, without any target.

``to_arrow`` and ``to_pandas`` generate rows the way a run does, through
the same ``Source`` (parents' key pools, sizing, the seed), so row *i* of a
frame is row *i* of what ``datastorm run`` writes, and a child's
references are the keys its parent's run writes. Values come from
``core.values.arrow``, which the Parquet target writes too.

Types (``core.values.arrow``): in Arrow, int64, float64, bool, string,
decimal128(p, s), date32, timestamp[us] (naive) and the ``uuid``
extension type. In pandas, the nullable dtypes: ``Int64``, ``Float64``,
``boolean``, ``string``; NUMERIC as exact ``decimal.Decimal`` objects; dates
as ``datetime.date`` objects; timestamps ``datetime64[us]`` (NaT for NULL);
UUIDs as their canonical text (``string``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from datastorm_core.core.partition import Partition
from datastorm_core.errors import UsageError
from datastorm_core.genfile.model import Genfile
from datastorm_core.live_checks import existing_keys
from datastorm_core.loading import load_genfile, sized
from datastorm_core.options import RunOptions
from datastorm_core.run import check, plan, schema
from datastorm_core.source import DEFAULT_CHUNK_ROWS, Source
from datastorm_core.tables import row_range

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["RowSelection", "arrow_batches", "to_arrow", "to_pandas"]

#: Which rows: None (every row), a count of first rows, a ``range`` or ``slice`` of row
#: indices with step 1, or a ``Partition`` (the rows of ``--partition K/N``).
RowSelection = int | range | slice | Partition | None


def _genfile(genfile: Genfile | str | os.PathLike[str]) -> Genfile:
    return genfile if isinstance(genfile, Genfile) else load_genfile(os.fspath(genfile))


def _rows(genfile: Genfile, table: str, rows: RowSelection) -> tuple[int, int]:
    """``rows`` as the row range ``[start, stop)`` of ``table``."""
    total = genfile.table(table).records
    if rows is None:
        return 0, total
    if isinstance(rows, Partition):
        return row_range(genfile, table, rows)
    if isinstance(rows, bool) or not isinstance(rows, int | range | slice):
        raise UsageError(f"rows must be a count, a range, a slice or a Partition, got "
                         f"{type(rows).__name__}")
    if isinstance(rows, int):
        if rows < 0:
            raise UsageError(f"rows must be a count of at least 0, got {rows}")
        return 0, min(rows, total)
    if rows.step not in (None, 1):
        raise UsageError(f"rows {rows!r}: only consecutive rows (step 1) can be selected")
    if genfile.table(table).daily is not None and rows.stop is not None:
        # A table partitioned by day has rows for every day, also past its row count
        # (which covers the days until now), as a run of --day writes them.
        total = max(total, rows.stop)
    start, stop, _ = slice(rows.start, rows.stop).indices(total)
    return start, max(start, stop)


def arrow_batches(genfile: Genfile | str | os.PathLike[str], table: str,
                  rows: RowSelection = None, seed: int | None = None, *,
                  uuid_text: bool = False, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                  options: RunOptions | None = None
                  ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The Arrow schema of ``table`` and its rows as record batches of ``chunk_rows``,
    generated as they are consumed (constant memory). Arguments as ``to_arrow``'s."""
    arrow, _, batches = _batches(_genfile(genfile), table, rows, seed, uuid_text, chunk_rows,
                                 options)
    return arrow, batches


def _batches(genfile: Genfile, table: str, rows: RowSelection, seed: int | None,
             uuid_text: bool, chunk_rows: int = DEFAULT_CHUNK_ROWS,
             options: RunOptions | None = None
             ) -> tuple[pa.Schema, int, Iterator[pa.RecordBatch]]:
    """``arrow_batches``, with the first row index of the selection."""
    from datastorm_core.core.values.arrow import arrow_batch, arrow_schema

    options = options or RunOptions()
    options = replace(options, seed=seed) if seed is not None else options
    genfile = sized(genfile, options.seed)
    table_schema = schema(genfile, table)  # an unknown or existing table: UsageError
    start, stop = _rows(genfile, table, rows)
    # The keys of existing tables (existing = true) come from their target, as in a run.
    keys = existing_keys(genfile, options, plan(genfile, options))
    source = check(genfile, Source(genfile, existing_keys=keys), [table])
    arrow = arrow_schema(table_schema, uuid_text=uuid_text)
    producer = source.producer(table, start, stop, chunk_rows)

    def batches() -> Iterator[pa.RecordBatch]:
        for seq in range(producer.chunk_count):
            yield arrow_batch(producer.produce(seq), table_schema, arrow, uuid_text=uuid_text)

    return arrow, start, batches()


def to_arrow(genfile: Genfile | str | os.PathLike[str], table: str,
             rows: RowSelection = None, seed: int | None = None, *,
             options: RunOptions | None = None) -> pa.Table:
    """The rows of ``table`` that a run writes, as a ``pyarrow.Table``.

    Args:
        genfile: a Genfile's path, or a loaded ``Genfile``.
        table: the table's name in the Genfile.
        rows: None (every row), a count of first rows, a ``range``/``slice`` of row
            indices (step 1), or a ``Partition`` (its rows, as ``--partition K/N``).
        seed: overrides ``[dataset] seed``, like ``datastorm run --seed``.
        options: a run's options (``--target``, ``--target-for``), which say where the
            keys of existing tables (``existing = true``) are read, as that run reads them.

    Raises:
        GenfileError: the Genfile is wrong; UsageError: no such table, or bad ``rows``.
    """
    import pyarrow as pa

    arrow, batches = arrow_batches(genfile, table, rows, seed, options=options)
    return pa.Table.from_batches(list(batches), schema=arrow)


def _pandas_dtypes() -> dict[pa.DataType, object]:
    import pandas as pd
    import pyarrow as pa

    return {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(),
            pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}


def to_pandas(genfile: Genfile | str | os.PathLike[str], table: str,
              rows: RowSelection = None, seed: int | None = None, *,
              options: RunOptions | None = None) -> pd.DataFrame:
    """The rows of ``table`` that a run writes, as a ``pandas.DataFrame`` with nullable
    dtypes (module docstring); arguments and errors as ``to_arrow``'s. The index is
    the row index in the table (``rows=range(100, 200)`` is indexed 100..199)."""
    import pandas as pd
    import pyarrow as pa

    arrow, start, batches = _batches(_genfile(genfile), table, rows, seed, uuid_text=True,
                                     options=options)
    data = pa.Table.from_batches(list(batches), schema=arrow)
    frame = data.to_pandas(types_mapper=_pandas_dtypes().get)
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame

