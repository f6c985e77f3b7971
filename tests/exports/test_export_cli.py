"""``datastorm export``: files equal to what PostgreSQL itself returns, parameters bound
as values, and nothing written when the query fails."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from e2e_support import assert_clean_failure, listed, run_cli
from export_support import EXPORTS, INJECTION, TABLES

pytestmark = pytest.mark.postgres


def _psql_copy(url: str, query: str, path: Path) -> None:
    """``psql``'s ``\\copy (query) TO path CSV HEADER``: the reference bytes."""
    one_line = " ".join(query.split())  # \\copy takes one line
    subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    f"\\copy ({one_line}) TO '{path}' CSV HEADER"], check=True, timeout=60)


def _sql(genfile: str, name: str) -> str:
    import tomllib

    return tomllib.loads(Path(genfile).read_text())["exports"][name]["sql"]


def test_csv_equals_psql_copy_byte_for_byte(capsys: pytest.CaptureFixture[str],
                                            shop: tuple[str, str], out_dir: Path) -> None:
    genfile, url = shop
    ours = out_dir / "sp.csv"
    result = run_cli(capsys, "export", genfile, "by_state", "--param", "state=SP",
                     "--out", str(ours), "--target", url)
    assert result.code == 0, result.err
    reference = out_dir / "psql.csv"
    _psql_copy(url, _sql(genfile, "by_state").replace(":state", "'SP'"), reference)
    assert ours.read_bytes() == reference.read_bytes()
    rows = len(ours.read_bytes().splitlines()) - 1
    with psycopg.connect(url) as conn:
        expected = conn.execute("SELECT count(*) FROM customer WHERE state = 'SP'").fetchone()
    assert rows == expected[0] > 0  # type: ignore[index]
    assert f"{rows:,} rows" in result.out and str(ours) in result.out
    assert [p.name for p in out_dir.iterdir()] != [] and not list(out_dir.glob(".*"))


def test_jsonl_holds_the_rows_of_the_query(capsys: pytest.CaptureFixture[str],
                                           shop: tuple[str, str], out_dir: Path) -> None:
    genfile, url = shop
    path = out_dir / "rj.jsonl"
    result = run_cli(capsys, "export", genfile, "by_state_jsonl", "--param", "state=RJ",
                     "--param", "after=40", "--out", str(path), "--target", url)
    assert result.code == 0, result.err
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT id, name, balance, born, active, note FROM customer "
                           "WHERE state = 'RJ' AND id > 40 ORDER BY id")
        names = [c.name for c in cur.description or ()]
        expected = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    got = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(expected) > 0
    for mine, theirs in zip(got, expected, strict=True):
        assert list(mine) == names
        assert mine["id"] == theirs["id"] and mine["name"] == theirs["name"]
        assert Decimal(mine["balance"]) == theirs["balance"]  # exact, as text
        assert mine["born"] == theirs["born"].isoformat()
        assert mine["active"] is theirs["active"] and mine["note"] == theirs["note"]


def test_parquet_holds_the_rows_and_types_of_the_query(capsys: pytest.CaptureFixture[str],
                                                       shop: tuple[str, str],
                                                       out_dir: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    genfile, url = shop
    path = out_dir / "mg.parquet"
    result = run_cli(capsys, "export", genfile, "by_state_parquet", "--param", "state=MG",
                     "--out", str(path), "--target", url)
    assert result.code == 0, result.err
    table = pq.read_table(path)
    with psycopg.connect(url) as conn:
        expected = conn.execute("SELECT id, name, balance, born, active, note FROM customer "
                                "WHERE state = 'MG' ORDER BY id").fetchall()
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("born").type == pa.date32()
    assert table.schema.field("active").type == pa.bool_()
    assert pa.types.is_decimal(table.schema.field("balance").type)
    got = [tuple(row.values()) for row in table.to_pylist()]
    assert got == expected and len(got) > 0


@pytest.mark.parametrize("name", ["by_name", "by_name_jsonl"])
def test_a_parameter_carrying_sql_is_a_value(capsys: pytest.CaptureFixture[str],
                                             shop: tuple[str, str], out_dir: Path,
                                             name: str) -> None:
    genfile, url = shop
    path = out_dir / "who"
    for value, rows in ((INJECTION, 1), ("x' OR '1'='1", 0), ("%' OR 1=1 --", 0)):
        result = run_cli(capsys, "export", genfile, name, "--param", f"name={value}",
                         "--out", str(path), "--target", url)
        assert result.code == 0, result.err
        lines = path.read_text(encoding="utf-8").splitlines()
        if name == "by_name":
            lines = lines[1:]
        assert len(lines) == rows, (value, lines)
        if rows:
            assert INJECTION in lines[0] and ("7," in lines[0] or '"id": 7' in lines[0])
    with psycopg.connect(url) as conn:  # still there
        assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == 300  # type: ignore[index]


def test_a_query_past_its_statement_timeout_leaves_no_file(
        capsys: pytest.CaptureFixture[str], shop: tuple[str, str], out_dir: Path) -> None:
    genfile, url = shop
    path = out_dir / "slow.csv"
    result = run_cli(capsys, "export", genfile, "slow", "--param", "seconds=5",
                     "--statement-timeout", "0.2", "--out", str(path), "--target", url)
    assert_clean_failure(result, 1, "statement_timeout", "nothing was written")
    assert list(out_dir.iterdir()) == []


def test_a_query_failing_midway_leaves_no_file_and_keeps_the_old_one(
        capsys: pytest.CaptureFixture[str], shop: tuple[str, str], out_dir: Path) -> None:
    genfile, url = shop
    path = out_dir / "report.jsonl"
    path.write_text("the previous report\n")
    result = run_cli(capsys, "export", genfile, "fails_midway", "--out", str(path),
                     "--target", url)
    assert_clean_failure(result, 1, "division by zero", "nothing was written")
    assert [p.name for p in out_dir.iterdir()] == ["report.jsonl"]
    assert path.read_text() == "the previous report\n"


@pytest.mark.parametrize(("argv", "needle"), [
    (["nope"], "no export named 'nope'"),
    (["by_state"], "parameter 'state' (text) is required"),
    (["by_state", "--param", "state=SP", "--param", "city=X"], "unknown parameter 'city'"),
    (["by_state_jsonl", "--param", "state=SP", "--param", "after=ten"],
     "parameter 'after' (int) must be an integer"),
])
def test_bad_requests_exit_2_before_connecting(capsys: pytest.CaptureFixture[str],
                                               shop: tuple[str, str], out_dir: Path,
                                               argv: list[str], needle: str) -> None:
    genfile, _ = shop
    result = run_cli(capsys, "export", genfile, *argv, "--out", str(out_dir / "x"),
                     "--target", "postgresql://nobody@127.0.0.1:1/none")
    assert_clean_failure(result, 2, needle)
    assert list(out_dir.iterdir()) == []


BAD_EXPORTS = """
[exports.wrong_format]
sql = "SELECT 1"
format = "xlsx"

[exports.undeclared]
sql = "SELECT * FROM customer WHERE state = :state"

[exports.unused]
sql = "SELECT * FROM customer"

[exports.unused.params]
state = "text"
city = { type = "txt" }

[exports.broken]
sql = "SELECT FROM WHERE customer"

[exports.writes]
sql = "DELETE FROM customer"

[exports.two]
sql = "SELECT 1; SELECT 2"

[exports.deps_unknown]
sql = "SELECT 1"
deps = ["customers"]

[exports.dollar]
sql = "SELECT * FROM customer WHERE id = $1"

[exports.bad_default]
sql = "SELECT :n"

[exports.bad_default.params]
n = { type = "int", default = "many" }
"""


def test_validate_lists_every_bad_export_with_its_line(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(TABLES + BAD_EXPORTS, encoding="utf-8")
    result = run_cli(capsys, "validate", str(genfile))
    assert_clean_failure(result, 2)
    lines = genfile.read_text().splitlines()

    def line(header: str) -> int:
        return lines.index(header) + 1

    expected = [
        ("[exports.wrong_format]", "format must be one of csv, jsonl, parquet, got 'xlsx'"),
        ("[exports.undeclared]", "the SQL uses :state, which is not declared"),
        ("[exports.unused]", "parameter 'state' is declared but the SQL never uses :state"),
        ("[exports.unused]", "parameter 'city' has type 'txt'"),
        ("[exports.broken]", "the SQL does not parse"),
        ("[exports.writes]", "the SQL must be a query (SELECT, VALUES or WITH ... SELECT), "
         "found DELETE"),
        ("[exports.two]", "the SQL must be one query, found 2 statements"),
        ("[exports.deps_unknown]", "deps names 'customers', which is not a table"),
        ("[exports.dollar]", "write parameters as :name, not $1"),
        ("[exports.bad_default]", "parameter 'n': default must be an integer"),
    ]
    for header, needle in expected:
        start = f"line {line(header)}: {header} "
        assert any(p.startswith(start) and needle in p
                   for p in (line.removeprefix("- ") for line in listed(result.err))), \
            (header, needle, result.err)


def test_validate_accepts_the_exports(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(TABLES + EXPORTS, encoding="utf-8")
    result = run_cli(capsys, "validate", str(genfile))
    assert result.code == 0, result.err


def test_an_unreachable_target_fails_clearly_without_its_password(
        capsys: pytest.CaptureFixture[str], shop: tuple[str, str], out_dir: Path) -> None:
    genfile, _ = shop
    result = run_cli(capsys, "export", genfile, "by_state", "--param", "state=SP", "--out",
                     str(out_dir / "x.csv"), "--target",
                     "postgresql://postgres:s3cret-pw@127.0.0.1:1/none")
    assert_clean_failure(result, 1, "export 'by_state' failed", "nothing was written")
    assert "s3cret-pw" not in result.both
    assert list(out_dir.iterdir()) == []
