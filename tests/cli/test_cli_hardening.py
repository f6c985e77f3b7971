"""Inputs a run used to get wrong, or crash on: each refused up front, exit 2, with its line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from e2e_support import run_cli, write

BIG = "9223372036854775808"  # 2**63: one more than a 64-bit integer holds

# (Genfile text, where the problem is: "[table.field]" or "[table]" or None, words said)
REFUSED = [
    (f'[t.x]\ntype = "int"\nmin = 0\nmax = {BIG}\n', "[t.x]", "does not fit a 64-bit integer"),
    (f'[t.x]\ntype = "choice"\nvalues = [1, {BIG}]\n', "[t.x]", "does not fit a 64-bit"),
    (f'[t]\nrecords = {BIG}0\n[t.x]\ntype = "int"\n', "[t]", "records must be a whole number"),
    ('[t]\nrecords = 9\n[t.x]\ntype = "sequence"\nstart = 9223372036854775000\nstep = 1000\n',
     "[t.x]", "beyond a 64-bit integer"),
    ('[t.x]\ntype = "choice"\nvalues = [1.5, nan]\n', "[t.x]", "must be a finite number"),
    ('[t.x]\ntype = "choice"\nvalues = ["a", "b"]\nweights = [inf, 1]\n', "[t.x]",
     "must be a finite number"),
    ('[t.x]\ntype = "choice"\nvalues = ["a", "b"]\nweights = [1e308, 1e308]\n', "[t.x]",
     "weights add up to more than a number can hold"),
    ('[t.x]\ntype = "float"\nmin = -inf\n', "[t.x]", "must be a finite number"),
    ('[t.x]\ntype = "timestamp"\nstart = "2020-01-01T00:00:00.1234567"\n', "[t.x]",
     "finer than a microsecond"),
    ('[t.x]\ntype = "timestamp"\nstart = 2020-01-01T00:00:00.123456789\n', None,
     "finer than a microsecond"),
    ('[t.x]\ntype = "date"\nstart = "+99999999999d"\n', "[t.x]", "out of the calendar"),
    ('[t.x]\ntype = "date"\nstart = "-99999999y"\n', "[t.x]", "cannot shift"),
    ('[t.x]\ntype = "string"\nlength = 2\nchars = "aab"\nunique = true\n', "[t.x]",
     "chars repeats 'a'"),
    ('[t.x]\ntype = {a = 1}\n', "[t.x]", "type must be a string"),
    ('[t.x]\ntype = "int"\nmin = ' + "[" * 3000 + "]" * 3000 + "\n", None,
     "nested too deeply"),
    ('[t.id]\ntype = "sequence"\n[t.Id]\ntype = "int"\n', "[t.Id]", "differ only in case"),
    ('[t.id]\ntype = "sequence"\n[T]\ntable = "T"\n[T.id]\ntype = "sequence"\n', "[T]",
     "differ only in case"),
    ('[t]\ntable = "a\\u0000b"\n[t.id]\ntype = "sequence"\n', "[t]", "NUL character"),
    ('[sqlite_x.id]\ntype = "sequence"\n', "[sqlite_x]", "reserved by SQLite"),
]


@pytest.mark.parametrize(("text", "where", "said"), REFUSED)
def test_what_a_run_would_get_wrong_is_refused_with_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str | None,
        said: str) -> None:
    path = write(tmp_path, text)
    for argv in (["validate", path], ["run", path, "--target", f"sqlite:///{tmp_path}/x.db"]):
        result = run_cli(capsys, *argv)
        assert result.code == 2, result.both
        assert said in result.err, result.err
        assert "Traceback" not in result.both and "internal error" not in result.err
        assert "line " in result.err
        if where is not None:
            assert where in result.err, result.err
    assert not (tmp_path / "x.db").exists()  # a refused run leaves no file behind


@pytest.mark.parametrize(("text", "said"), [
    ('[t.xmin]\ntype = "int"\n', "system column"),
    ('[t]\ntable = "' + "n" * 64 + '"\n[t.id]\ntype = "sequence"\n', "PostgreSQL cuts"),
    ('[t.id]\ntype = "sequence"\n[t."' + "c" * 70 + '"]\ntype = "int"\n', "PostgreSQL cuts"),
])
def test_names_postgresql_cannot_hold_are_refused_for_a_postgresql_target(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str) -> None:
    on_postgres = write(tmp_path, '[target]\ntype = "postgres"\n\n' + text)
    result = run_cli(capsys, "validate", on_postgres)
    assert result.code == 2 and said in result.err, result.both
    # Given on the command line, the target is checked when the run starts.
    plain = write(tmp_path, text, "plain.toml")
    assert run_cli(capsys, "validate", plain).code == 0  # on SQLite these are fine
    run = run_cli(capsys, "run", plain, "--target", "postgresql://u@127.0.0.1:1/x")
    assert run.code == 2 and said in run.err, run.both


def test_an_empty_target_is_refused_and_writes_no_default_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, '[t.x]\ntype = "int"\n')
    result = run_cli(capsys, "run", path, "--target", "")
    assert result.code == 2 and "--target is empty" in result.err
    assert not (tmp_path / "datastorm.db").exists()


def test_a_failed_sqlite_run_removes_the_file_it_created_but_not_one_that_was_there(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = '[u.id]\ntype = "sequence"\n[u.t_id]\ntype = "reference"\nref = "t.id"\n' \
           '[t.id]\ntype = "sequence"\n'
    path = write(tmp_path, text)
    fresh = tmp_path / "fresh.db"
    result = run_cli(capsys, "run", path, "--target", f"sqlite:///{fresh}", "--tables", "u")
    assert result.code == 1, result.both  # its parent is not there
    assert not fresh.exists()
    kept = tmp_path / "kept.db"
    sqlite3.connect(kept).close()
    run_cli(capsys, "run", path, "--target", f"sqlite:///{kept}", "--tables", "u")
    assert kept.exists()


@pytest.mark.parametrize(("target", "said"), [
    ("postgresql://u@127.0.0.1:99999/x", "the port must be a number from 1 to 65535"),
    ("postgresql://u@127.0.0.1:5432/x?sslmode=bogus", "sslmode must be one of"),
])
def test_a_bad_port_or_sslmode_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, said: str) -> None:
    result = run_cli(capsys, "run", write(tmp_path, '[t.x]\ntype = "int"\n'), "--target", target)
    assert result.code == 2 and said in result.err, result.both


def test_a_non_numeric_sqlite_timeout_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, f'[target]\nurl = "sqlite:///{tmp_path}/t.db"\ntimeout = "abc"\n'
                           '[t.x]\ntype = "int"\n')
    result = run_cli(capsys, "run", path)
    assert result.code == 2 and "timeout must be a number" in result.err, result.both


def test_debug_is_accepted_after_the_command_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '[t.x]\ntype = "int"\n')
    assert run_cli(capsys, "validate", path, "--debug").code == 0
    assert run_cli(capsys, "--debug", "validate", path).code == 0
    assert run_cli(capsys, "run", path, "--target", "null:", "--quiet", "--debug").code == 0


def test_a_dictionary_must_be_a_regular_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    fifo = tmp_path / "words.txt"
    os.mkfifo(fifo)  # reading it would wait forever
    text = ('[t.x]\ntype = "word"\ndictionary = "/dev/zero"\n'  # reading it would never end
            f'[t.y]\ntype = "word"\ndictionary = "{fifo}"\n')
    result = run_cli(capsys, "validate", write(tmp_path, text))
    assert result.code == 2, result.both
    assert result.err.count("is not a regular file") == 2
    assert "line 1:" in result.err and "line 4:" in result.err


def test_a_chain_of_thousands_of_tables_written_children_first_validates_and_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No recursion follows a chain of references: its length is the schema's."""
    parts = []
    for i in reversed(range(3000)):
        parts.append(f'[t{i}]\nrecords = 3\n[t{i}.id]\ntype = "sequence"\n')
        if i:
            parts.append(f'[t{i}.p]\ntype = "reference"\nref = "t{i - 1}.id"\n')
    path = write(tmp_path, "".join(parts))
    assert run_cli(capsys, "validate", path).code == 0
    result = run_cli(capsys, "run", path, "--target", "null:", "--quiet")
    assert result.code == 0, result.both
