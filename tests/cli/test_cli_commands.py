"""The ``datastorm`` command: validate, plan, preview, run --quiet, --version, exit codes."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from e2e_support import SHOP, SHOP_ROWS, assert_clean_failure, cli_command, run_cli, write

from datastorm_core import __version__

pytestmark = pytest.mark.timeout(60)

MANY_ERRORS = """\
[dataset]
records = 10
seed = "forty-two"

[t.id]
type = "sequence"

[t.age]
type = "int"
min = 10
max = 1.5

[t.kind]
type = "nope"

[u.t_id]
type = "reference"
ref = "t.age"
"""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, "--version")
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"datastorm {__version__}"


def test_the_installed_command_runs() -> None:
    done = subprocess.run(cli_command("--version"), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"datastorm {__version__}"


def test_validate_a_good_genfile(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "validate", str(SHOP))
    assert result.code == 0, result
    assert "ok" in result.out and "2 tables" in result.out and "1,300 rows" in result.out
    assert result.err == ""


def test_validate_lists_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "validate", write(tmp_path, MANY_ERRORS))
    assert_clean_failure(result, 2)
    assert "4 errors" in result.err
    listed = [line.strip() for line in result.err.splitlines() if line.strip().startswith("- ")]
    assert len(listed) == 4, result.err
    # Each with the line of its section, the table and field, and what is wrong.
    assert listed[0].startswith("- line 1: [dataset] seed")
    assert listed[1].startswith("- line 8: [t.age] max")
    assert listed[2].startswith("- line 13: [t.kind]") and "nope" in listed[2]
    assert listed[3].startswith("- line 16: [u.t_id]") and "t.age" in listed[3]


def test_validate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "validate", str(tmp_path / "absent.toml"))
    assert_clean_failure(result, 2, "absent.toml")


def test_a_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert_clean_failure(run_cli(capsys, "launch", str(SHOP)), 2, "usage")
    assert_clean_failure(run_cli(capsys, "run"), 2, "genfile")
    assert_clean_failure(run_cli(capsys, "run", str(SHOP), "--workers", "0"), 2, "workers")
    assert_clean_failure(run_cli(capsys, "run", str(SHOP), "--batch-size", "x"), 2, "batch")
    assert_clean_failure(run_cli(capsys, "preview", str(SHOP), "user", "-n", "-1"), 2, "-n")
    assert_clean_failure(run_cli(capsys, "preview", str(SHOP), "nosuch"), 2, "nosuch")


def test_plan_lists_parents_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # In the shop Genfile `order` comes first but references `user`.
    target = f"sqlite:///{tmp_path}/x.db"
    result = run_cli(capsys, "plan", str(SHOP), "--target", target)
    assert result.code == 0, result
    table = result.out.split("\n", 1)[1]  # below the title "write order (partition 0/1)"
    assert table.index("user") < table.index("order")
    listed = run_cli(capsys, "plan", str(SHOP), "--target", target, "--format", "json")
    assert listed.code == 0, listed
    entries = json.loads(listed.out)
    assert [e["table"] for e in entries] == ["user", "order"]
    assert entries[1]["references"] == {"user_id": "user.id"}
    assert (entries[0]["rows"], entries[1]["rows"]) == (300, 1000)
    assert entries[0]["owner"] == "-" and entries[0]["action"] == "created"
    assert not (tmp_path / "x.db").exists()  # plan writes nothing


def test_plan_of_a_partition_shows_its_rows(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "plan", str(SHOP), "--partition", "2/3", "--tables", "order")
    assert result.code == 0, result
    assert "334" in result.out and "1,000" in result.out
    assert "│ user " not in result.out


@pytest.fixture
def shop_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The shop Genfile written by `datastorm run --quiet` into csv files and sqlite."""
    for target in (f"csv:///{tmp_path}/csv", f"sqlite:///{tmp_path}/shop.db"):
        result = run_cli(capsys, "run", str(SHOP), "--target", target, "--quiet")
        assert result == type(result)(0, "", ""), result  # --quiet: nothing at all on success
    return tmp_path


def test_preview_csv_is_the_header_and_the_first_rows_run_writes(
        shop_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "preview", str(SHOP), "order", "-n", "7", "--format", "csv")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert len(lines) == 1 + 7
    written = (shop_run / "csv" / "order.csv").read_text(encoding="utf-8").splitlines()
    assert lines == written[:8]
    header = next(csv.reader(io.StringIO(lines[0])))
    assert header == ["id", "user_id", "total", "paid", "placed", "token", "code", "qty"]


def test_preview_json_parses_and_matches_the_run(
        shop_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "preview", str(SHOP), "user", "-n", "5", "--format", "json")
    assert result.code == 0, result
    rows = json.loads(result.out)
    assert [list(r) for r in rows] == [["id", "name", "email", "born"]] * 5
    with sqlite3.connect(shop_run / "shop.db") as conn:
        written = conn.execute('SELECT id, name, email, born FROM "user" ORDER BY id LIMIT 5'
                               ).fetchall()
    assert [(r["id"], r["name"], r["email"], r["born"]) for r in rows] == written


def test_preview_table_shows_the_columns_and_rows(capsys: pytest.CaptureFixture[str]) -> None:
    csv_rows = run_cli(capsys, "preview", str(SHOP), "order", "-n", "3", "--format", "csv")
    codes = [line.split(",")[6] for line in csv_rows.out.splitlines()[1:]]
    result = run_cli(capsys, "preview", str(SHOP), "order", "-n", "3")
    assert result.code == 0, result
    assert "order" in result.out and "first 3 of 1,000" in result.out
    for column in ("user_id", "total", "numeric", "uuid", "boolean"):
        assert column in result.out
    for code in codes:
        assert code in result.out


def test_preview_more_rows_than_the_table_has(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, '[dataset]\nrecords = 3\n\n[t.id]\ntype = "sequence"\n')
    result = run_cli(capsys, "preview", genfile, "t", "-n", "50", "--format", "json")
    assert [r["id"] for r in json.loads(result.out)] == [1, 2, 3]
    result = run_cli(capsys, "preview", genfile, "t", "-n", "0", "--format", "json")
    assert json.loads(result.out) == []


def test_preview_seed_changes_the_rows(capsys: pytest.CaptureFixture[str]) -> None:
    default = run_cli(capsys, "preview", str(SHOP), "user", "--format", "csv")
    again = run_cli(capsys, "preview", str(SHOP), "user", "--format", "csv")
    other = run_cli(capsys, "preview", str(SHOP), "user", "--format", "csv", "--seed", "5")
    assert default.out == again.out
    assert default.out != other.out


def test_run_without_quiet_prints_a_summary(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "run", str(SHOP), "--target", f"jsonl:///{tmp_path}/out")
    assert result.code == 0, result
    assert "total" in result.out and "1,300" in result.out and "seed 11" in result.out
    for table, rows in SHOP_ROWS.items():
        lines = (tmp_path / "out" / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == rows


def test_the_default_target_is_a_sqlite_file_in_the_working_directory(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "run", str(SHOP), "--quiet", "--tables", "user")
    assert result.code == 0, result
    with sqlite3.connect(tmp_path / "datastorm.db") as conn:
        assert conn.execute('SELECT count(*) FROM "user"').fetchone()[0] == 300


def test_a_stream_of_a_table_laid_out_by_its_parents_is_refused_before_any_broker(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Its rows are its parents' children: there is no row past the last to send (it was
    an IndexError from the layout)."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1")  # never reached
    bank = Path(__file__).resolve().parents[2] / "examples" / "bank.toml"
    result = run_cli(capsys, "stream", str(bank), "--tables", "installment", "--events", "5")
    assert result.code == 2, result.both
    assert "'installment' has exactly its" in result.both and "stream its parent" in result.both
    assert "Traceback" not in result.both
