"""Helpers shared by the CLI and end-to-end tests: Genfiles, the CLI, PostgreSQL queries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from datastorm_core.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHOP = FIXTURES / "shop.toml"
# Rows of the shop Genfile (tests/fixtures/shop.toml).
SHOP_ROWS = {"user": 300, "order": 1000}
# A process or a query gets this long before the test calls it a hang.
WAIT_SECONDS = 30.0

# The example of the original design, exactly as the contract writes it.
ORIGINAL_DESIGN = """\
[dataset]
records = 100000
buffer_size = 5000

[user.id]
type = "sequence"

[user.name]
type = "name"

[user.email]
type = "email"
"""


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def shop_text(**dataset: Any) -> str:
    """The shop Genfile, with extra ``[dataset]`` options."""
    text = SHOP.read_text(encoding="utf-8")
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in dataset.items())
    return text.replace("[dataset]\n", "[dataset]\n" + extra, 1)


def write(tmp_path: Path, text: str, name: str = "Genfile.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """``datastorm ARGV`` in this process; its exit code and what it printed."""
    capsys.readouterr()  # drop what came before
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = main(list(argv))
    finally:
        signal.signal(signal.SIGTERM, previous)  # main() installs its own handler
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def cli_command(*argv: str) -> list[str]:
    """``datastorm ARGV`` as the installed command runs it: its script is this line.

    Not ``python -m``: after a Ctrl-C that entry.main caught while the command loaded,
    CPython 3.11 run that way sometimes ends the process by SIGINT instead of exit 130.
    """
    return [sys.executable, "-c", "import sys; from datastorm_core.entry import main; "
            "sys.exit(main())", *argv]


def start_cli(*argv: str, cwd: str | None = None,
              env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``datastorm ARGV`` as a child process (default SIGINT handling, pipes for output);
    ``env``: variables to set on top of this process's."""

    def default_sigint() -> None:  # a shell may have left SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen(cli_command(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, env={**os.environ, "COLUMNS": "200", **(env or {})},
                            preexec_fn=default_sigint)


def finish(process: subprocess.Popen[str]) -> Result:
    try:
        out, err = process.communicate(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"datastorm did not exit within {WAIT_SECONDS} s: {err[-2000:]}")
    return Result(process.returncode, out, err)


def copy_backend(conn: Any, dbname: str, process: subprocess.Popen[str]) -> int:
    """Wait until datastorm's connection is inside COPY; its backend pid."""
    return backend_running(conn, dbname, process, "COPY")


def backend_running(conn: Any, dbname: str, process: subprocess.Popen[str],
                    statement: str) -> int:
    """Wait until one of datastorm's connections runs a statement starting with
    ``statement`` (COPY, ALTER TABLE...); its backend pid."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND application_name = 'datastorm' AND query ILIKE %s "
            "AND state = 'active'", (dbname, statement + "%")).fetchone()
        if row is not None:
            return int(row[0])
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"datastorm ended ({process.returncode}) before {statement} was seen: "
                        f"{err}")
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"datastorm never reached {statement}")


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def tables(conn: Any) -> list[str]:
    """The tables of the public schema, but datastorm's ledger of what it created."""
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'datastorm_owned_tables' ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def table_digest(conn: Any, table: str, order_by: str = "id") -> tuple[int, str]:
    """Row count and md5 of every row's text, in ``order_by`` order, computed by PostgreSQL."""
    row = conn.execute(
        f'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t."{order_by}"), \'\')) '
        f'FROM "{table}" AS t').fetchone()
    return int(row[0]), str(row[1])


def shop_digests(conn: Any) -> dict[str, tuple[int, str]]:
    return {name: table_digest(conn, name) for name in SHOP_ROWS}


def orphans(conn: Any) -> int:
    row = conn.execute('SELECT count(*) FROM "order" o LEFT JOIN "user" u ON u.id = o.user_id '
                       "WHERE u.id IS NULL").fetchone()
    return int(row[0])


def constraints(conn: Any) -> set[tuple[str, str, str]]:
    """(table, kind p/u/f, definition) of every constraint in the public schema."""
    rows = conn.execute(
        "SELECT conrelid::regclass::text, contype::text, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
        "AND conrelid::regclass::text <> 'datastorm_owned_tables'").fetchall()
    return {(t, k, d) for t, k, d in rows}


def assert_clean_failure(result: Result, code: int, *needles: str) -> None:
    """Exit ``code``, each needle in stderr, and no traceback anywhere."""
    assert result.code == code, result
    assert "Traceback" not in result.both, result.err
    for needle in needles:
        assert needle in result.err, (needle, result.err)


def listed(err: str) -> list[str]:
    """The problems ``validate`` lists, one a line."""
    return [line.strip() for line in err.splitlines() if line.strip().startswith("- ")]


def under(text: str, header: str) -> str:
    """``- line N: [header]``: how validate starts a problem under ``header`` of ``text``."""
    return f"- line {text.splitlines().index(header) + 1}: {header}"


def csv_tables(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.csv"))}


def assert_runs_write_the_same_csv(capsys: pytest.CaptureFixture[str], genfile: Path,
                                   folder: Path) -> dict[str, str]:
    """Runs of ``genfile`` with one worker, two workers and an odd batch size, and in three
    partitions, write the same CSV files; their text by file name."""
    one, two, parts = folder / "one", folder / "two", folder / "parts"
    assert run_cli(capsys, "run", str(genfile), "--target", f"csv:///{one}", "--quiet",
                   "--workers", "1").code == 0
    assert run_cli(capsys, "run", str(genfile), "--target", f"csv:///{two}", "--quiet",
                   "--workers", "2", "--batch-size", "333").code == 0
    whole = csv_tables(one)
    assert whole == csv_tables(two)
    for k in range(3):
        assert run_cli(capsys, "run", str(genfile), "--target", f"csv:///{parts}", "--quiet",
                       "--partition", f"{k}/3").code == 0
    for name, text in whole.items():
        table = name.removesuffix(".csv")
        pieces = [(parts / f"{table}.part-{k:05d}-of-00003.csv").read_text(encoding="utf-8")
                  for k in range(3)]
        header, *_ = text.splitlines(keepends=True)
        assert header + "".join(p.split("\n", 1)[1] for p in pieces) == text, table
    return whole


def names(items: Sequence[str]) -> str:
    return ",".join(items)
