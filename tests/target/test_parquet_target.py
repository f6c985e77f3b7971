"""The Parquet target (``parquet:///dir``): typed columns, a row group per batch,
partitions as files, all or nothing. The contract suite (test_target_contract.py)
runs against it too; this file holds what is Parquet's own."""

from __future__ import annotations

import csv
import os
import signal
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from e2e_support import WAIT_SECONDS, finish, run_cli, start_cli, write
from target_support import USER, ParquetBackend, Table, normalise_rows, run, user_rows

from datastorm_core import load_genfile
from datastorm_core.core.partition import Partition
from datastorm_core.errors import SourceError, TargetError
from datastorm_core.run import RunOptions, schema
from datastorm_core.run import run as datastorm_run
from datastorm_core.target import open_target

GENFILE = Path(__file__).parent.parent / "fixtures" / "frames.toml"
TABLES = ("customer", "account")


def _run(out: Path, scheme: str, **options: Any) -> None:
    datastorm_run(load_genfile(str(GENFILE)),
                  RunOptions(target=f"{scheme}:///{out}", **options))


def _parquet_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    data = pq.read_table(path)
    return normalise_rows(schema(load_genfile(str(GENFILE)), table),
                          [tuple(r.values()) for r in data.to_pylist()])


def _temp_files(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if n.endswith(".datastorm-tmp")]


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Genfile written whole to Parquet in chunks of 50 rows and batches of 100: many
    row groups, filled by two workers."""
    out = tmp_path_factory.mktemp("parquet") / "out"
    _run(out, "parquet", workers=2, buffer_size=50, batch_size=100)
    return out


def test_parquet_holds_the_csv_targets_rows_with_their_types(whole: Path, tmp_path: Path
                                                             ) -> None:
    _run(tmp_path / "csv", "csv")
    genfile = load_genfile(str(GENFILE))
    for table in TABLES:
        with open(tmp_path / "csv" / f"{table}.csv", encoding="utf-8", newline="") as f:
            lines = list(csv.reader(f))
        csv_rows = normalise_rows(schema(genfile, table), lines[1:], blank_is_null=True)
        parquet_rows = _parquet_rows(whole / f"{table}.parquet", table)
        # CSV writes NULL and '' alike; Parquet keeps them apart.
        assert [tuple(None if v == "" else v for v in row) for row in parquet_rows] == csv_rows
        assert len(parquet_rows) == genfile.table(table).records

    customer = pq.read_schema(whole / "customer.parquet")
    assert customer.field("id").type == pa.int64() and not customer.field("id").nullable
    assert customer.field("token").type == pa.uuid()
    assert customer.field("born").type == pa.date32()
    assert customer.field("vip").type == pa.bool_()
    assert customer.field("balance").type == pa.decimal128(12, 2)
    assert customer.field("since").type == pa.timestamp("us")
    account = pq.read_table(whole / "account.parquet")
    assert account.schema.field("visits").type == pa.int64()
    assert account.column("visits").null_count > 0
    assert account.column("holder").null_count > 0
    # Parquet's own logical types, for readers that do not know Arrow's schema.
    physical = str(pq.ParquetFile(whole / "customer.parquet").schema)
    assert "token (UUID)" in physical and "balance (Decimal(precision=12, scale=2))" in physical


def test_a_row_group_per_batch(whole: Path) -> None:
    rows = load_genfile(str(GENFILE)).table("account").records
    metadata = pq.ParquetFile(whole / "account.parquet").metadata

    assert metadata.num_row_groups == -(-rows // 100)
    assert {metadata.row_group(i).num_rows for i in range(metadata.num_row_groups - 1)} == {100}


def test_partitions_add_up_to_the_whole(whole: Path, tmp_path: Path) -> None:
    out = tmp_path / "parts"
    for index in range(2):
        _run(out, "parquet", partition=Partition(index, 2))

    assert sorted(os.listdir(out)) == [f"{t}.part-0000{k}-of-00002.parquet"
                                       for t in sorted(TABLES) for k in range(2)]
    for table in TABLES:
        parts = [pq.read_table(out / f"{table}.part-0000{k}-of-00002.parquet")
                 for k in range(2)]
        assert all(p.num_rows for p in parts)
        assert pa.concat_tables(parts).equals(pq.read_table(whole / f"{table}.parquet"))


def test_a_failed_run_keeps_the_previous_files(tmp_path: Path) -> None:
    backend = ParquetBackend(str(tmp_path / "out"))
    users = user_rows(30)
    run(backend.open(), [Table(USER, users)])
    before = Path(backend.path("user")).read_bytes()

    with pytest.raises(SourceError):
        run(backend.open(), [Table(USER, user_rows(30, seed=5), fail_at=3)])

    assert Path(backend.path("user")).read_bytes() == before
    assert os.listdir(backend.directory) == ["user.parquet"]


def test_append_extends_the_file_and_refuses_other_columns(tmp_path: Path) -> None:
    backend = ParquetBackend(str(tmp_path / "out"))
    users = user_rows(30)
    run(backend.open(), [Table(USER, users[:12])])
    run(backend.open(mode="append"), [Table(USER, users[12:], first_row=12)])
    assert backend.read(USER) == normalise_rows(USER, users)

    other = tmp_path / "other"
    other.mkdir()
    pq.write_table(pa.table({"id": [1], "something_else": ["x"]}), other / "user.parquet")
    before = (other / "user.parquet").read_bytes()
    with pytest.raises(TargetError, match="differ from the table's"):
        run(open_target(f"parquet:///{other}", mode="append"), [Table(USER, users)])
    assert (other / "user.parquet").read_bytes() == before
    assert os.listdir(other) == ["user.parquet"]


def test_the_command_line_takes_parquet_from_the_genfile_and_from_target(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GENFILE.read_text(encoding="utf-8").replace(
        "[dataset]", f'[target]\nurl = "parquet:///{tmp_path / "g"}"\ncompression = "zstd"\n\n'
        "[dataset]", 1)
    genfile = write(tmp_path, text)
    assert run_cli(capsys, "validate", genfile).code == 0
    planned = run_cli(capsys, "plan", genfile)
    assert planned.code == 0 and "parquet" in planned.both
    assert run_cli(capsys, "run", genfile, "--quiet").code == 0
    assert pq.ParquetFile(tmp_path / "g" / "account.parquet").metadata.row_group(0) \
        .column(0).compression == "ZSTD"

    done = run_cli(capsys, "run", str(GENFILE), "--target", f"parquet:///{tmp_path / 'c'}",
                   "--tables", "customer", "--quiet")
    assert done.code == 0, done.both
    assert os.listdir(tmp_path / "c") == ["customer.parquet"]

    wrong = write(tmp_path, text.replace('"zstd"', '"zip"'), "Wrong.toml")
    refused = run_cli(capsys, "validate", wrong)
    assert refused.code == 2 and "compression 'zip'" in refused.both
    assert "Traceback" not in refused.both


def test_an_interrupted_run_leaves_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    genfile = write(tmp_path, '[dataset]\nseed = 3\n\n[big]\nrecords = 50000000\n\n'
                    '[big.id]\ntype = "sequence"\n\n[big.at]\ntype = "timestamp"\n')
    process = start_cli("run", genfile, "--target", f"parquet:///{out}", "--batch-size",
                        "20000", "--quiet")
    deadline = time.monotonic() + WAIT_SECONDS
    # Interrupted once rows are in the temporary file (a row group or more).
    while not (out.is_dir() and any(os.path.getsize(out / n) > 0 for n in _temp_files(out))):
        assert process.poll() is None, finish(process).both
        assert time.monotonic() < deadline, "no temporary file appeared"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)

    result = finish(process)
    assert result.code == 130, result.both
    assert not out.exists() or os.listdir(out) == []


def test_only_columns_whose_values_repeat_get_a_dictionary(tmp_path: Path) -> None:
    backend = ParquetBackend(str(tmp_path / "out"))
    users = user_rows(200)
    # `balance` is one of 8 decimals (or NULL); ids, e-mails and UUIDs are unique.
    run(backend.open(), [Table(USER, users, chunk_rows=50)], batch_rows=100)

    metadata = pq.ParquetFile(backend.path("user")).metadata
    assert metadata.num_row_groups == 2
    encodings = {metadata.row_group(0).column(i).path_in_schema:
                 metadata.row_group(0).column(i).encodings for i in range(metadata.num_columns)}
    assert "RLE_DICTIONARY" in encodings["balance"]
    for unique in ("id", "email", "token"):
        assert "RLE_DICTIONARY" not in encodings[unique], encodings
    assert backend.read(USER) == normalise_rows(USER, users)
