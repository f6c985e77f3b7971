"""Hand-built tables, chunks and a real producer for the target tests.

Rows are written as Python values first (the expectation), then turned
into the chunks a source would make (numpy columns with NULL masks and
filler under the NULLs), so a test compares what the store gives back with
values that never went through the encoders under test.
"""

from __future__ import annotations

import math
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.runner import Runner, RunSettings, TableJob
from datastorm_core.core.schema import ColumnSchema, ColumnType, ForeignKey, TableSchema

T = ColumnType

USER = TableSchema(
    name="user",
    columns=(
        ColumnSchema("id", T.BIGINT, nullable=False),
        ColumnSchema("email", T.TEXT, nullable=False),
        ColumnSchema("name", T.TEXT),
        ColumnSchema("score", T.DOUBLE),
        ColumnSchema("balance", T.NUMERIC, precision=12, scale=2),
        ColumnSchema("active", T.BOOLEAN),
        ColumnSchema("born", T.DATE),
        ColumnSchema("created", T.TIMESTAMP, nullable=False),
        ColumnSchema("token", T.UUID),
    ),
    primary_key=("id",),
    unique=("id", "email"),
)

ORDER = TableSchema(
    name="order",
    columns=(
        ColumnSchema("id", T.BIGINT, nullable=False),
        ColumnSchema("user_id", T.BIGINT, nullable=False),
        ColumnSchema("total", T.NUMERIC, scale=3),
        ColumnSchema("note", T.TEXT),
        ColumnSchema("placed", T.TIMESTAMP),
        ColumnSchema("paid", T.BOOLEAN, nullable=False),
    ),
    primary_key=("id",),
    unique=("id",),
    foreign_keys=(ForeignKey("user_id", "user", "id"),),
)

# No keys at all: fine for replace, refused by append on databases.
LOG = TableSchema(
    name="log line",
    columns=(ColumnSchema("at", T.TIMESTAMP), ColumnSchema("message", T.TEXT)),
)

TRICKY_TEXT = [
    "O'Brien", 'Zoë "Zo" Álvarez', "tab\there", "line\nbreak", "back\\slash", "cr\rhere",
    "comma, here", "日本語テキスト", "\\N", "NULL", "emoji 🎉", "  spaces  ", "a\\tb", "",
    "quote\"inside", "x" * 300,
]
NUMERIC_2 = [Decimal("-0.05"), Decimal("-123.45"), Decimal("0.00"), Decimal("9999999999.99"),
             Decimal("-9999999999.99"), Decimal("12.30"), Decimal("0.01"), Decimal("-7.00")]
DOUBLES = [0.1, 1 / 3, -2.5e-10, 1e20, 3.0, -1.5, 6.02214076e23, 2.2250738585072014e-308]


def user_rows(count: int, *, seed: int = 1, start: int = 0) -> list[tuple[Any, ...]]:
    """Rows of USER with ids start+1.., NULLs in every nullable column."""
    rng = random.Random(seed)

    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.2 else value

    rows = []
    for i in range(start, start + count):
        rows.append((
            i + 1,
            f"user{i + 1}@example.com",
            maybe(TRICKY_TEXT[rng.randrange(len(TRICKY_TEXT))]),
            maybe(DOUBLES[rng.randrange(len(DOUBLES))]),
            maybe(NUMERIC_2[rng.randrange(len(NUMERIC_2))]),
            maybe(rng.random() < 0.5),
            maybe(date(1950, 1, 1) + timedelta(days=rng.randrange(30000))),
            datetime(2000, 2, 29, 23, 59, 59) + timedelta(seconds=rng.randrange(10**9)),
            maybe(str(uuid.UUID(int=rng.getrandbits(128), version=4))),
        ))
    return rows


def order_rows(count: int, users: int, *, seed: int = 2) -> list[tuple[Any, ...]]:
    """Rows of ORDER, each referencing one of ``users`` users."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        total = Decimal(rng.randrange(-10**12, 10**12)).scaleb(-3)
        rows.append((
            i + 1,
            rng.randrange(users) + 1,
            None if i % 7 == 3 else total,
            None if i % 5 == 0 else TRICKY_TEXT[i % len(TRICKY_TEXT)],
            None if i % 6 == 1 else datetime(2024, 1, 1, 12, 0, 0, rng.randrange(10**6))
            + timedelta(minutes=i),
            i % 2 == 0,
        ))
    return rows


def log_rows(count: int) -> list[tuple[Any, ...]]:
    return [(datetime(2025, 5, 1) + timedelta(hours=i), f"event {i}\twith tab") for i in
            range(count)]


# -- Python rows -> chunks ----------------------------------------------------------

def _column(values: Sequence[Any], col: ColumnSchema, timestamp_unit: str) -> Column:
    nulls = np.array([v is None for v in values], dtype=bool)
    kind = col.type
    if kind is T.BIGINT:
        array = np.array([-999 if v is None else v for v in values], dtype=np.int64)
    elif kind is T.DOUBLE:
        array = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    elif kind is T.NUMERIC:
        scale = col.scale or 0
        array = np.array([12345 if v is None else int(v.scaleb(scale)) for v in values],
                         dtype=np.int64)
    elif kind is T.BOOLEAN:
        array = np.array([bool(v) for v in values], dtype=bool)
    elif kind is T.DATE:
        array = np.array([v if v is not None else "NaT" for v in values], dtype="datetime64[D]")
    elif kind is T.TIMESTAMP:
        array = np.array([v if v is not None else "NaT" for v in values],
                         dtype=f"datetime64[{timestamp_unit}]")
    else:
        array = np.array(["FILLER" if v is None else v for v in values], dtype=str)
        if kind is T.TEXT and len(values) % 2:  # both representations a source may use
            array = array.astype(object)
    return Column(array, nulls if nulls.any() else None)


def make_chunks(schema: TableSchema, rows: Sequence[tuple[Any, ...]], *, chunk_rows: int = 7,
                first_row: int = 0) -> list[Chunk]:
    """Chunks of ``chunk_rows`` rows, as a source would send them."""
    chunks = []
    for seq, offset in enumerate(range(0, len(rows), chunk_rows)):
        part = rows[offset:offset + chunk_rows]
        columns = {}
        for j, col in enumerate(schema.columns):
            unit = "us" if col.name == "placed" else "s"
            columns[col.name] = _column([r[j] for r in part], col, unit)
        chunks.append(Chunk(schema.name, seq, first_row + offset, len(part), columns))
    return chunks


@dataclass
class ChunkProducer:
    """A real TableProducer over pre-built chunks; ``fail_at`` makes chunk N raise."""

    chunks: list[Chunk]
    fail_at: int | None = None

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.chunks)

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    def produce(self, seq: int) -> Chunk:
        if seq == self.fail_at:
            raise RuntimeError(f"generator broke at chunk {seq}")
        return self.chunks[seq]


@dataclass
class Table:
    schema: TableSchema
    rows: list[tuple[Any, ...]]
    fail_at: int | None = None
    chunk_rows: int = 7
    first_row: int = 0
    chunks: list[Chunk] = field(init=False)

    def __post_init__(self) -> None:
        self.chunks = make_chunks(self.schema, self.rows, chunk_rows=self.chunk_rows,
                                  first_row=self.first_row)


def run(target: Any, tables: Sequence[Table], *, batch_rows: int = 10) -> None:
    """Drive ``target`` through the protocol exactly as a datastorm run does."""
    jobs = [TableJob(t.schema, ChunkProducer(t.chunks, t.fail_at), t.first_row,
                     t.first_row + len(t.rows)) for t in tables]
    Runner(target, RunSettings(buffer_rows=50, workers=2, batch_rows=batch_rows)).run(jobs)


# -- what stores give back -> comparable Python values ---------------------------

_BOOL_TEXT = {"true": True, "t": True, "1": True, "false": False, "f": False, "0": False}


def normalise(col: ColumnSchema, value: Any) -> Any:
    """A value read from any store as int/float/Decimal/bool/date/datetime/str/None."""
    if value is None:
        return None
    kind = col.type
    if kind is T.BIGINT:
        return int(value)
    if kind is T.DOUBLE:
        return float(value)
    if kind is T.NUMERIC:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    if kind is T.BOOLEAN:
        return _BOOL_TEXT[value.lower()] if isinstance(value, str) else bool(value)
    if kind is T.DATE:
        return value if isinstance(value, date) else date.fromisoformat(value)
    if kind is T.TIMESTAMP:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if kind is T.UUID:
        return str(value).lower()
    return value


def normalise_rows(schema: TableSchema, rows: Sequence[Sequence[Any]],
                   blank_is_null: bool = False) -> list[tuple[Any, ...]]:
    """Rows normalised column by column, sorted by the first column (the key)."""
    out = []
    for row in rows:
        values = []
        for col, value in zip(schema.columns, row, strict=True):
            if blank_is_null and value == "":
                value = None
            values.append(normalise(col, value))
        out.append(tuple(values))
    return sorted(out, key=lambda r: (r[0] is None, r[0]))


# -- one reader per store ------------------------------------------------------------

class Backend(ABC):
    """A store under test: its URL, and how to read a table back from it."""

    name = "backend"
    keyed = False  # upserts by primary key in append mode
    transactional_tables = True  # a failed run leaves no new table behind

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self, **kwargs: Any) -> Any:
        from datastorm_core.target import open_target

        return open_target(self.url, **kwargs)

    @abstractmethod
    def read(self, schema: TableSchema) -> list[tuple[Any, ...]]:
        """Every row of ``schema``'s table, as Python values."""

    @abstractmethod
    def exists(self, table: str) -> bool:
        """Whether the store holds ``table``."""


class PostgresBackend(Backend):
    keyed = True

    def __init__(self, url: str, constraints: str, copy_connections: int | None = None) -> None:
        super().__init__(url)
        self.constraints = constraints
        # None: the target's default (a staged load on several COPY sessions
        # when keys come after the load); 1: one session, one transaction.
        self.copy_connections = copy_connections
        self.name = f"postgres-{constraints}" + ("-single" if copy_connections == 1 else "")

    def open(self, **kwargs: Any) -> Any:
        kwargs.setdefault("constraints", self.constraints)
        if self.copy_connections is not None:
            options = dict(kwargs.get("options") or {})
            options.setdefault("copy_connections", self.copy_connections)
            kwargs["options"] = options
        return super().open(**kwargs)

    def query(self, statement: Any, params: Any = None) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()

    def read(self, schema: TableSchema) -> list[tuple[Any, ...]]:
        from psycopg import sql

        statement = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, schema.column_names)),
            sql.Identifier(schema.name))
        return normalise_rows(schema, self.query(statement))

    def exists(self, table: str) -> bool:
        return self.query("SELECT to_regclass(%s)", (f'"{table}"',))[0][0] is not None


class SqliteBackend(Backend):
    name = "sqlite"
    keyed = True

    def __init__(self, path: str) -> None:
        super().__init__(f"sqlite:///{path}")
        self.path = path

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import sqlite3

        conn = sqlite3.connect(self.path)
        try:
            return conn.execute(statement, params).fetchall()
        finally:
            conn.close()

    def read(self, schema: TableSchema) -> list[tuple[Any, ...]]:
        names = ", ".join(f'"{n}"' for n in schema.column_names)
        return normalise_rows(schema, self.query(f'SELECT {names} FROM "{schema.name}"'))

    def exists(self, table: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)))


class FileBackend(Backend):
    extension = "txt"

    def __init__(self, directory: str) -> None:
        super().__init__(f"{self.extension}:///{directory}")
        self.name = self.extension
        self.directory = directory

    def path(self, table: str, part: str = "") -> str:
        import os

        return os.path.join(self.directory, f"{table}{part}.{self.extension}")

    def exists(self, table: str) -> bool:
        import os

        return os.path.exists(self.path(table))


class CsvBackend(FileBackend):
    extension = "csv"

    def read(self, schema: TableSchema, part: str = "") -> list[tuple[Any, ...]]:
        import csv

        with open(self.path(schema.name, part), encoding="utf-8", newline="") as f:
            lines = list(csv.reader(f))
        assert tuple(lines[0]) == schema.column_names, lines[0]
        return normalise_rows(schema, lines[1:], blank_is_null=True)


class JsonlBackend(FileBackend):
    extension = "jsonl"

    def read(self, schema: TableSchema, part: str = "") -> list[tuple[Any, ...]]:
        import json

        rows = []
        with open(self.path(schema.name, part), encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                assert tuple(obj) == schema.column_names, obj
                rows.append(tuple(obj.values()))
        return normalise_rows(schema, rows)


class ParquetBackend(FileBackend):
    extension = "parquet"

    def read(self, schema: TableSchema, part: str = "") -> list[tuple[Any, ...]]:
        import pyarrow.parquet as pq

        data = pq.read_table(self.path(schema.name, part))
        assert tuple(data.column_names) == schema.column_names, data.column_names
        return normalise_rows(schema, [tuple(r.values()) for r in data.to_pylist()])


def expected(schema: TableSchema, rows: Sequence[tuple[Any, ...]], backend: Backend
             ) -> list[tuple[Any, ...]]:
    """What ``backend`` should give back for ``rows`` (CSV cannot tell '' from NULL)."""
    return normalise_rows(schema, rows, blank_is_null=isinstance(backend, CsvBackend))
