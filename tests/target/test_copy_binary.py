"""Binary COPY: the pure encoder byte by byte, then round trips through a real server.

The server tests load the same chunks once with binary COPY and once with
text COPY (``copy_format = "text"``) and compare what PostgreSQL stored,
column by column as PostgreSQL prints it (``::text``), so both paths must
agree to the last digit. Values only the binary path can carry (dates
before year 1, int64's minimum in a scaled numeric) are checked against
literal expectations instead.
"""

from __future__ import annotations

import math
import random
import struct
import uuid
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from target_support import (
    ORDER,
    TRICKY_TEXT,
    USER,
    PostgresBackend,
    Table,
    expected,
    order_rows,
    run,
    user_rows,
)

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.core.values import format_numeric, numeric_decimal
from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target import PostgresTarget, open_target
from datastorm_core.target.encode import copy_binary, copy_text

T = ColumnType

# -- helpers -----------------------------------------------------------------------------


def parse(payload: bytes) -> list[list[bytes | None]]:
    """Tuples of a binary COPY payload (no header or trailer), fields as raw bytes."""
    rows, at = [], 0
    while at < len(payload):
        (count,) = struct.unpack_from(">h", payload, at)
        at += 2
        row: list[bytes | None] = []
        for _ in range(count):
            (size,) = struct.unpack_from(">i", payload, at)
            at += 4
            if size == -1:
                row.append(None)
                continue
            row.append(payload[at:at + size])
            at += size
        rows.append(row)
    assert at == len(payload)
    return rows


def numeric_value(field: bytes | None, scale: int) -> Decimal:
    """Decode PostgreSQL's binary numeric (the reference for the encoder)."""
    assert field is not None
    ndigits, weight, sign, dscale = struct.unpack_from(">hhHH", field)
    assert len(field) == 8 + 2 * ndigits
    assert sign in (0, 0x4000)
    assert dscale == scale
    digits = struct.unpack_from(f">{ndigits}h", field, 8)
    assert all(0 <= d < 10_000 for d in digits)
    value = sum((Decimal(d).scaleb(4 * (weight - i)) for i, d in enumerate(digits)),
                Decimal(0))
    return -value if sign else value


def chunk_of(schema: TableSchema, columns: dict[str, Column], seq: int = 0,
             start: int = 0) -> Chunk:
    rows = len(next(iter(columns.values())).values)
    return Chunk(schema.name, seq, start, rows, columns)


def one_column(kind: ColumnType, values: Any, nulls: Any = None, **schema: Any
               ) -> tuple[TableSchema, Chunk]:
    table = TableSchema("t", (ColumnSchema("c", kind, **schema),))
    column = Column(np.asarray(values), None if nulls is None else np.asarray(nulls, bool))
    return table, chunk_of(table, {"c": column})


def fields(kind: ColumnType, values: Any, nulls: Any = None, **schema: Any) -> list[bytes | None]:
    table, chunk = one_column(kind, values, nulls, **schema)
    return [row[0] for row in parse(copy_binary.encode_chunk(chunk, table))]


def load(url: str, schema: TableSchema, chunks: list[Chunk], copy_format: str = "binary",
         **kwargs: Any) -> None:
    """One run of the PostgreSQL target writing ``chunks`` as one batch."""
    target = open_target(url, options={"copy_format": copy_format}, **kwargs)
    try:
        target.open()
        target.prepare([schema])
        target.begin_table(schema, 0, sum(c.rows for c in chunks))
        target.write_batch(schema, chunks)
        target.end_table(schema)
    except BaseException as exc:
        target.finish(exc)
        raise
    target.finish(None)


def read_text(conn: Any, table: str, columns: tuple[str, ...]) -> list[tuple[str | None, ...]]:
    """Every column as PostgreSQL prints it, rows in id order."""
    select = ", ".join(f'"{c}"::text' for c in columns)
    return conn.execute(f'SELECT {select} FROM "{table}" AS t ORDER BY t.id').fetchall()


def renamed(schema: TableSchema, name: str) -> TableSchema:
    return TableSchema(name, schema.columns, schema.primary_key, schema.unique,
                       schema.foreign_keys)


# -- the pure encoder ------------------------------------------------------------------------


def test_header_and_trailer_frame_a_statement_not_a_chunk() -> None:
    assert copy_binary.HEADER == b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert copy_binary.TRAILER == b"\xff\xff"
    assert copy_binary.FORMAT == "binary"
    table, chunk = one_column(T.BIGINT, np.array([7], dtype=np.int64))
    payload = copy_binary.encode_chunk(chunk, table)
    assert payload == b"\x00\x01" + b"\x00\x00\x00\x08" + (7).to_bytes(8, "big")
    assert copy_text.HEADER == copy_text.TRAILER == b""


def test_empty_chunk_encodes_to_nothing() -> None:
    table, chunk = one_column(T.TEXT, np.array([], dtype=str))
    assert copy_binary.encode_chunk(chunk, table) == b""


def test_fixed_width_types_and_nulls() -> None:
    ints = np.array([0, -1, 2**63 - 1, -(2**63), 5], dtype=np.int64)
    assert fields(T.BIGINT, ints, [0, 0, 0, 0, 1]) == [
        struct.pack(">q", v) for v in ints.tolist()[:4]] + [None]
    floats = [0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308]
    assert fields(T.DOUBLE, np.array(floats)) == [struct.pack(">d", v) for v in floats]
    assert fields(T.BOOLEAN, np.array([True, False, True]), [0, 0, 1]) == [b"\x01", b"\x00",
                                                                           None]
    dates = np.array(["2000-01-01", "1999-12-31", "1970-01-01", "-4713-11-24", "NaT"],
                     dtype="datetime64[D]")
    assert fields(T.DATE, dates, [0, 0, 0, 0, 1]) == [
        struct.pack(">i", d) for d in (0, -1, -10_957, -2_451_545)] + [None]
    stamps = np.array(["2000-01-01T00:00:00.000001", "1999-12-31T23:59:59.999999", "NaT"],
                      dtype="datetime64[us]")
    assert fields(T.TIMESTAMP, stamps, [0, 0, 1]) == [struct.pack(">q", 1),
                                                      struct.pack(">q", -1), None]


def test_timestamps_of_any_unit() -> None:
    seconds = np.array(["2000-01-01T00:00:01", "294276-12-31T23:59:59"], dtype="datetime64[s]")
    assert fields(T.TIMESTAMP, seconds) == [
        struct.pack(">q", 1_000_000), struct.pack(">q", 9_223_371_331_199_000_000)]
    days = np.array(["2000-01-02"], dtype="datetime64[D]")
    assert fields(T.TIMESTAMP, days) == [struct.pack(">q", 86_400_000_000)]
    # Finer than PostgreSQL's microsecond: to the nearest, ties to even.
    nanos = np.array(["2000-01-01T00:00:00.000001500", "2000-01-01T00:00:00.000002500",
                      "2000-01-01T00:00:00.000000499", "1999-12-31T23:59:59.999999500"],
                     dtype="datetime64[ns]")
    assert [struct.unpack(">q", f)[0] for f in fields(T.TIMESTAMP, nanos)] == [2, 2, 0, 0]


@pytest.mark.parametrize(("kind", "values", "message"), [
    (T.DATE, np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"), "date out of range"),
    (T.DATE, np.array(["-4713-11-23"], dtype="datetime64[D]"), "date out of range"),
    (T.DATE, np.array(["5874898-01-01"], dtype="datetime64[D]"), "date out of range"),
    (T.TIMESTAMP, np.array(["NaT"], dtype="datetime64[us]"), "timestamp out of range"),
    (T.TIMESTAMP, np.array(["294277-01-01"], dtype="datetime64[s]"), "timestamp out of range"),
    (T.TIMESTAMP, np.array(["-4713-11-23T23:59:59"], dtype="datetime64[s]"),
     "timestamp out of range"),
    (T.UUID, np.array(["123e4567-e89b-42d3-a456-42661417400g"]), "invalid UUID"),
    (T.UUID, np.array(["123e4567-e89b-42d3-a456-4266141740"]), "invalid UUID"),
])
def test_values_postgres_cannot_hold_fail_naming_the_column(kind: ColumnType, values: Any,
                                                            message: str) -> None:
    table, chunk = one_column(kind, values)
    with pytest.raises(ValueError, match=rf"column 'c', row \d+: {message}"):
        copy_binary.encode_chunk(chunk, table)


def test_filler_under_nulls_is_never_checked() -> None:
    assert fields(T.DATE, np.array(["NaT", "2000-01-01"], dtype="datetime64[D]"),
                  [1, 0]) == [None, b"\x00" * 4]
    assert fields(T.TIMESTAMP, np.array([-(2**63) + 1, 0], dtype="datetime64[s]"),
                  [1, 0])[0] is None
    assert fields(T.UUID, np.array(["FILLER", str(uuid.UUID(int=1))]), [1, 0]) == [
        None, uuid.UUID(int=1).bytes]


def test_uuids_canonical_vectorised_others_like_postgres() -> None:
    rng = random.Random(3)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(50)]
    spelled = [str(u) for u in ids[:40]] + [str(u).upper() for u in ids[40:45]] + [
        "{" + str(ids[45]) + "}", ids[46].hex, str(ids[47]).upper(), str(ids[48]), str(ids[49])]
    assert fields(T.UUID, np.array(spelled)) == [u.bytes for u in ids]
    assert fields(T.UUID, np.array(spelled, dtype=object)) == [u.bytes for u in ids]


TEXTS = [*TRICKY_TEXT, "é", "ação", "日本語", "🎉", "𝄞 clef", "a\x7f", "\u07ff\u0800\uffff",
         "trailing spaces   ", "ü" * 40]


@pytest.mark.parametrize("sample", [
    ["", ""],  # nothing at all
    ["plain", "ascii", ""],  # one byte per character
    ["José", "Conceição", "", "x"],  # up to two
    ["日本", "a", "€uro"],  # up to three
    TEXTS,  # up to four
])
def test_text_is_utf8(sample: list[str]) -> None:
    nulls = [i % 5 == 4 for i in range(len(sample))]
    expected_fields = [None if null else s.encode() for s, null in zip(sample, nulls,
                                                                        strict=True)]
    assert fields(T.TEXT, np.array(sample), nulls) == expected_fields
    assert fields(T.TEXT, np.array(sample, dtype=object), nulls) == expected_fields
    assert fields(T.TEXT, np.array(sample, dtype=np.dtypes.StringDType()), nulls
                  ) == expected_fields


def test_dictionary_encoded_text_gathers_encoded_categories() -> None:
    categories = np.array(["Ana", "José", "Zoë Álvarez", "", "日本 🎉"])
    table = TableSchema("t", (ColumnSchema("c", T.TEXT),))
    rng = np.random.default_rng(0)
    for rows in (2, 3, 50, 50):  # fewer rows than categories: seen, then encoded and kept
        codes = rng.integers(0, len(categories), rows)
        nulls = np.arange(rows) % 7 == 3
        column = Column(categories[codes], nulls, codes=codes, categories=categories)
        got = [row[0] for row in parse(copy_binary.encode_chunk(chunk_of(table, {"c": column}),
                                                                table))]
        assert got == [None if null else categories[c].encode()
                       for c, null in zip(codes.tolist(), nulls.tolist(), strict=True)]


@pytest.mark.parametrize("scale", [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 18, 19, 20, 25])
def test_numeric_digits_decode_to_the_exact_value(scale: int) -> None:
    rng = random.Random(scale)
    values = [0, 1, -1, 9999, 10_000, -10_000, 10 ** min(scale, 18), 5, 2**63 - 1, -(2**63)]
    values += [rng.choice((1, -1)) * rng.randrange(10 ** rng.randrange(1, 19)) for _ in range(300)]
    got = fields(T.NUMERIC, np.array(values, dtype=np.int64), scale=scale)
    assert [numeric_value(f, scale) for f in got] == [numeric_decimal(v, scale) for v in values]


def test_numeric_nulls_and_a_chunk_of_zeros() -> None:
    assert fields(T.NUMERIC, np.array([0, 0, 0]), [0, 1, 0], scale=0) == [
        b"\x00" * 8, None, b"\x00" * 8]  # no digit groups at all: zero
    assert [numeric_value(f, 2) for f in fields(T.NUMERIC, np.array([0, 0]), scale=2)
            ] == [Decimal("0.00")] * 2


# -- through the server ----------------------------------------------------------------------

EDGE = TableSchema("edge", (
    ColumnSchema("id", T.BIGINT, nullable=False),
    ColumnSchema("big", T.BIGINT),
    ColumnSchema("f", T.DOUBLE),
    ColumnSchema("n0", T.NUMERIC, precision=19, scale=0),
    ColumnSchema("n2", T.NUMERIC, precision=18, scale=2),
    ColumnSchema("n7", T.NUMERIC, precision=18, scale=7),
    ColumnSchema("n18", T.NUMERIC, precision=18, scale=18),
    ColumnSchema("b", T.BOOLEAN),
    ColumnSchema("d", T.DATE),
    ColumnSchema("ts", T.TIMESTAMP),
    ColumnSchema("ts_s", T.TIMESTAMP),
    ColumnSchema("u", T.UUID),
    ColumnSchema("s", T.TEXT),
    ColumnSchema("s_obj", T.TEXT),
    ColumnSchema("s_dict", T.TEXT),
), primary_key=("id",))

_BIGINTS = [0, -1, 1, 2**63 - 1, -(2**63), 42, -(2**62)]
_FLOATS = [0.0, -0.0, 1 / 3, math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308,
           -2.5e-10, 6.02214076e23]
_N = {0: [0, 1, -1, 2**63 - 1, -(2**63), 10**18, 9999, 10_000],
      2: [0, -5, 12345, 10**18 - 1, -(10**18 - 1), 1, 100, 99_999_999],
      7: [0, 1, -1, 10**18 - 1, 10_000_000, -12_345_678_901, 5_000, 99_990_000],
      18: [0, 1, -1, 10**18 - 1, -(10**18 - 1), 10**17, 500_000_000_000_000_000, 10_000]}
_DATES = ["2000-01-01", "1999-12-31", "1970-01-01", "0001-01-01", "9999-12-31", "2000-02-29",
          "1900-03-01", "2024-12-31"]
_STAMPS = ["2000-01-01T00:00:00", "2024-01-01T00:00:00.000001", "1999-12-31T23:59:59.999999",
           "1969-12-31T23:59:59.999999", "1900-01-01T00:00:00.5", "0001-01-01T00:00:00",
           "9999-12-31T23:59:59.999999", "2262-04-11T23:47:16.854775"]
_CATEGORIES = np.array(["varejo", "alta renda", "João", "", "日本 🎉", "tab\there"])


def edge_chunks(rows: int = 60, chunk_rows: int = 17) -> list[Chunk]:
    """Chunks of EDGE cycling through the edge values, NULLs in every nullable column."""
    rng = random.Random(11)
    chunks = []
    for seq, start in enumerate(range(0, rows, chunk_rows)):
        idx = np.arange(start, min(start + chunk_rows, rows))
        k = len(idx)

        def pick(values: list[Any], idx: np.ndarray = idx) -> list[Any]:
            return [values[i % len(values)] for i in idx.tolist()]

        def nulls(every: int, idx: np.ndarray = idx) -> np.ndarray:
            return idx % every == every - 1

        uuids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(k)]
        codes = idx % len(_CATEGORIES)
        texts = pick([*TEXTS, "x" * 300])
        columns = {
            "id": Column(idx.astype(np.int64)),
            "big": Column(np.array(pick(_BIGINTS), dtype=np.int64), nulls(5)),
            "f": Column(np.array(pick(_FLOATS)), nulls(6)),
            **{f"n{s}": Column(np.array(pick(_N[s]), dtype=np.int64), nulls(4 + s % 3))
               for s in (0, 2, 7, 18)},
            "b": Column(idx % 3 == 0, nulls(4)),
            "d": Column(np.array(pick(_DATES), dtype="datetime64[D]"), nulls(7)),
            "ts": Column(np.array(pick(_STAMPS), dtype="datetime64[us]"), nulls(5)),
            "ts_s": Column(np.array(pick(_STAMPS), dtype="datetime64[us]"
                                    ).astype("datetime64[s]"), nulls(3)),
            "u": Column(np.array(uuids), nulls(4)),
            "s": Column(np.array(texts), nulls(8)),
            "s_obj": Column(np.array(texts[::-1], dtype=object), nulls(9)),
            "s_dict": Column(_CATEGORIES[codes], nulls(5), codes=codes, categories=_CATEGORIES),
        }
        chunks.append(Chunk(EDGE.name, seq, start, k, columns))
    return chunks


@pytest.mark.postgres
def test_edge_values_read_back_the_same_through_binary_and_text(pg_url: str,
                                                                pg_conn: Any) -> None:
    chunks = edge_chunks()
    load(pg_url, renamed(EDGE, "edge_binary"), chunks, "binary")
    load(pg_url, renamed(EDGE, "edge_text"), chunks, "text")

    binary = read_text(pg_conn, "edge_binary", EDGE.column_names)
    assert binary == read_text(pg_conn, "edge_text", EDGE.column_names)
    assert len(binary) == 60
    # Spot checks against what the chunks said, as PostgreSQL prints it.
    first = dict(zip(EDGE.column_names, binary[3], strict=True))
    assert first["big"] == str(2**63 - 1)
    assert first["f"] == "NaN"
    assert first["n18"] is None  # nulls(4 + 0): rows 3, 7, ...
    assert first["n2"] == "9999999999999999.99"
    assert first["ts"] == "1969-12-31 23:59:59.999999"
    assert first["s"] == TEXTS[3]
    assert dict(zip(EDGE.column_names, binary[10], strict=True))["s_dict"] == "日本 🎉"


@pytest.mark.postgres
def test_values_only_binary_can_carry(pg_url: str, pg_conn: Any) -> None:
    schema = TableSchema("far", (
        ColumnSchema("id", T.BIGINT), ColumnSchema("d", T.DATE), ColumnSchema("ts", T.TIMESTAMP),
        ColumnSchema("n", T.NUMERIC, precision=19, scale=4)))
    columns = {
        "id": Column(np.arange(3, dtype=np.int64)),
        "d": Column(np.array(["-4713-11-24", "5874897-12-31", "-0044-03-15"],
                             dtype="datetime64[D]")),
        "ts": Column(np.array(["-4713-11-24T00:00:00", "294276-12-31T23:59:59",
                               "-0001-12-31T23:59:59"], dtype="datetime64[s]")),
        "n": Column(np.array([-(2**63), 2**63 - 1, -1], dtype=np.int64)),
    }
    load(pg_url, schema, [chunk_of(schema, columns)])

    assert read_text(pg_conn, "far", schema.column_names) == [
        ("0", "4714-11-24 BC", "4714-11-24 00:00:00 BC", "-922337203685477.5808"),
        ("1", "5874897-12-31", "294276-12-31 23:59:59", "922337203685477.5807"),
        ("2", "0045-03-15 BC", "0002-12-31 23:59:59 BC", "-0.0001"),
    ]


@pytest.mark.postgres
def test_random_numerics_of_every_scale_read_back_exactly(pg_url: str, pg_conn: Any) -> None:
    scales = range(19)
    schema = TableSchema("num", (ColumnSchema("id", T.BIGINT), *(
        ColumnSchema(f"n{s}", T.NUMERIC, precision=18, scale=s) for s in scales)))
    rng = np.random.default_rng(18)
    rows = 400
    digits = rng.integers(1, 19, (len(scales), rows))  # 1..18 digits: all of numeric(18, s)
    values = (rng.random((len(scales), rows)) * 10.0 ** digits).astype(np.int64)
    values[:, :4] = [0, 1, -1, 10**18 - 1]
    values *= np.where(rng.random((len(scales), rows)) < 0.5, -1, 1)
    nulls = rng.random((len(scales), rows)) < 0.1
    columns = {"id": Column(np.arange(rows, dtype=np.int64))}
    columns.update({f"n{s}": Column(values[s], nulls[s]) for s in scales})
    chunks = [chunk_of(schema, {k: Column(c.values[a:a + 97],
                                          None if c.nulls is None else c.nulls[a:a + 97])
                                for k, c in columns.items()}, seq, a)
              for seq, a in enumerate(range(0, rows, 97))]
    load(pg_url, schema, chunks)

    got = read_text(pg_conn, "num", schema.column_names)
    for s in scales:
        want = [None if null else text for text, null in
                zip(format_numeric(values[s], s).tolist(), nulls[s].tolist(), strict=True)]
        assert [row[1 + s] for row in got] == want, f"scale {s}"


@pytest.mark.postgres
@pytest.mark.parametrize("copy_format", ["binary", "text"])
def test_a_numeric_too_wide_for_its_precision_fails_either_way(pg_url: str,
                                                              copy_format: str) -> None:
    # numeric(18, 3) holds 15 digits before the point; 10**18 / 10**3 has 16.
    table = TableSchema("t", (ColumnSchema("id", T.BIGINT),
                              ColumnSchema("n", T.NUMERIC, precision=18, scale=3)))
    chunk = chunk_of(table, {"id": Column(np.arange(2, dtype=np.int64)),
                             "n": Column(np.array([1, 10**18], dtype=np.int64))})
    with pytest.raises(TargetError, match="numeric field overflow"):
        load(pg_url, table, [chunk], copy_format)


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["replace", "append"])
def test_the_contract_rows_through_both_formats_and_many_copies(pg_url: str, mode: str) -> None:
    users, orders = user_rows(40), order_rows(90, users=40)
    backend_rows: dict[str, Any] = {}
    for copy_format in ("binary", "text"):
        for _ in range(2):  # append twice: the staging COPY of every batch is framed alone
            target = open_target(pg_url, mode=mode, options={"copy_format": copy_format})
            run(target, [Table(USER, users, chunk_rows=3), Table(ORDER, orders, chunk_rows=4)],
                batch_rows=11)
        backend = PostgresBackend(pg_url, "after_load")
        backend_rows[copy_format] = (backend.read(USER), backend.read(ORDER))
        assert backend_rows[copy_format] == (expected(USER, users, backend),
                                             expected(ORDER, orders, backend))
    assert backend_rows["binary"] == backend_rows["text"]


@pytest.mark.postgres
def test_one_batch_of_many_chunks_is_one_framed_copy(pg_url: str, pg_conn: Any) -> None:
    chunks = edge_chunks(rows=200, chunk_rows=9)
    load(pg_url, EDGE, chunks)
    load(pg_url, EDGE, chunks, mode="append")  # staging table, then upsert

    assert pg_conn.execute("SELECT count(*) FROM edge").fetchone()[0] == 200


@pytest.mark.postgres
def test_a_value_the_encoder_refuses_fails_the_run_and_names_the_table(pg_url: str,
                                                                       pg_conn: Any) -> None:
    table = TableSchema("tokens", (ColumnSchema("id", T.BIGINT), ColumnSchema("u", T.UUID)))
    good = chunk_of(table, {"id": Column(np.arange(2, dtype=np.int64)),
                            "u": Column(np.array([str(uuid.UUID(int=5))] * 2))})
    bad = chunk_of(table, {"id": Column(np.arange(2, 4, dtype=np.int64)),
                           "u": Column(np.array(["not-a-uuid", str(uuid.UUID(int=6))]))}, 1, 2)
    with pytest.raises(TargetError, match=r"'tokens'.*column 'u', row 2: invalid UUID"):
        load(pg_url, table, [good, bad])
    with pytest.raises(TargetError, match="tokens"):  # the server says it for text
        load(pg_url, table, [good, bad], "text")

    assert pg_conn.execute("SELECT to_regclass('tokens')").fetchone()[0] is None


def test_binary_is_the_default_and_text_is_an_option() -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    assert PostgresTarget(url).encoder is copy_binary
    assert PostgresTarget(url, options={"copy_format": "text"}).encoder is copy_text
    assert PostgresTarget(url, options={"copy_format": "binary"}).encoder is copy_binary
    with pytest.raises(UsageError, match="copy_format must be one of binary, text, got 'csv'"):
        PostgresTarget(url, options={"copy_format": "csv"})
    with pytest.raises(UsageError, match="copy_format must be one of"):
        PostgresTarget(url, options={"copy_format": ["text"]})
