"""Failures end to end: the target dies, the source raises, Ctrl-C, SIGTERM, bad input.

In every case the command exits with the contract's code, says why
without a traceback, and leaves the target as it was before the run.
The interrupted runs are real ``datastorm`` processes, stopped while
their COPY is under way.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from e2e_support import (
    SHOP_ROWS,
    WAIT_SECONDS,
    assert_clean_failure,
    copy_backend,
    database_name,
    finish,
    run_cli,
    shop_digests,
    shop_text,
    start_cli,
    table_digest,
    tables,
    write,
)

from datastorm_core.core import runner as runner_module
from datastorm_core.errors import SourceError
from datastorm_core.genfile import loads_genfile
from datastorm_core.run import RunOptions, run
from datastorm_core.source.generators.numeric import IntGenerator

# A narrow table far too big to finish during the test: it is stopped mid-COPY.
BIG = """\
[dataset]
records = 50000000

[t.id]
type = "sequence"

[t.v]
type = "int"
min = 0
max = 1000
"""
# What t holds before a run that is then stopped.
PREVIOUS_ROWS = [(1, 10), (2, 20), (3, 30)]


STALL = """\
[dataset]
records = 5000
buffer_size = 100
batch_size = 100

[t.id]
type = "sequence"

[t.v]
type = "int"
min = 0
max = 1000
"""


def create_previous_t(conn: Any) -> None:
    conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, v bigint)")
    conn.execute("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")


def previous_t_is_intact(conn: Any) -> None:
    assert tables(conn) == ["t"]
    assert conn.execute("SELECT id, v FROM t ORDER BY id").fetchall() == PREVIOUS_ROWS


@pytest.mark.postgres
@pytest.mark.timeout(90)
@pytest.mark.parametrize("before", ["fresh", "previous-rows"])
def test_a_target_that_dies_mid_copy_fails_cleanly_and_leaves_the_database_as_it_was(
        tmp_path: Path, pg_url: str, pg_conn: Any, before: str) -> None:
    if before == "previous-rows":
        create_previous_t(pg_conn)
    process = start_cli("run", write(tmp_path, BIG), "--target", pg_url, "--quiet",
                        cwd=str(tmp_path))
    pid = copy_backend(pg_conn, database_name(pg_url), process)
    assert pg_conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    result = finish(process)

    assert_clean_failure(result, 1, "datastorm: error:", "loading table 't'")
    assert "terminat" in result.err or "connection" in result.err, result.err
    assert result.out == ""
    if before == "fresh":
        assert tables(pg_conn) == []
    else:
        previous_t_is_intact(pg_conn)


@pytest.mark.postgres
@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("before", ["fresh", "previous-rows"])
def test_an_interrupted_run_exits_130_and_writes_nothing(
        tmp_path: Path, pg_url: str, pg_conn: Any, signum: int, before: str) -> None:
    if before == "previous-rows":
        create_previous_t(pg_conn)
    process = start_cli("run", write(tmp_path, BIG), "--target", pg_url, cwd=str(tmp_path))
    copy_backend(pg_conn, database_name(pg_url), process)
    process.send_signal(signum)
    result = finish(process)

    assert_clean_failure(result, 130, "interrupted")
    if before == "fresh":
        assert tables(pg_conn) == []
    else:
        previous_t_is_intact(pg_conn)
    # The session is gone: nothing of the run is left holding locks.
    assert pg_conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                           "AND application_name = 'datastorm'",
                           (database_name(pg_url),)).fetchone()[0] == 0


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_a_failing_source_raises_source_error_and_keeps_the_previous_rows(
        pg_url: str, pg_conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # 100-row chunks: order's 1000 rows come in 10 chunks.
    genfile = loads_genfile(shop_text(buffer_size=100))
    run(genfile, RunOptions(target=pg_url))
    before = shop_digests(pg_conn)
    assert {t: n for t, (n, _) in before.items()} == SHOP_ROWS

    real_generate = IntGenerator.generate

    def generate(self: IntGenerator, indices: np.ndarray, row: Any) -> np.ndarray:
        if indices.size and indices[0] == 200:  # the third chunk
            raise ArithmeticError("generator broke at row 200")
        return real_generate(self, indices, row)

    monkeypatch.setattr(IntGenerator, "generate", generate)
    with pytest.raises(SourceError) as raised:
        run(genfile, RunOptions(target=pg_url, seed=12, workers=3))
    assert isinstance(raised.value.__cause__, ArithmeticError)
    assert "'order'" in str(raised.value) and "row 200" in str(raised.value)
    assert shop_digests(pg_conn) == before


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_a_source_error_while_the_target_waits_on_a_lock_aborts_the_write(
        pg_url: str, pg_conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The consumer is stuck in PostgreSQL (a row lock); the source fails meanwhile.

    The runner must not wait for the stuck write forever: after the grace
    it cancels the statement (abort), rolls back, and raises the source's error.
    """
    monkeypatch.setattr(runner_module, "GRACE_SECONDS", 0.3)
    genfile = loads_genfile(STALL)
    run(genfile, RunOptions(target=pg_url, mode="append"))
    before = table_digest(pg_conn, "t")
    assert before[0] == 5000

    dbname = database_name(pg_url)
    real_generate = IntGenerator.generate

    def generate(self: IntGenerator, indices: np.ndarray, row: Any) -> np.ndarray:
        if indices.size and indices[0] == 200:  # chunk 2: once the first write is stuck
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline and not pg_conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                    "application_name = 'datastorm' AND wait_event_type = 'Lock'",
                    (dbname,)).fetchone()[0]:
                time.sleep(0.02)
            raise ArithmeticError("generator broke while the target was stuck")
        return real_generate(self, indices, row)

    monkeypatch.setattr(IntGenerator, "generate", generate)
    with psycopg.connect(pg_url) as locker:  # holds row id 1 until the end of the test
        locker.execute("SELECT * FROM t WHERE id = 1 FOR UPDATE")
        with pytest.raises(SourceError) as raised:
            run(genfile, RunOptions(target=pg_url, mode="append", seed=3, workers=2))
        assert isinstance(raised.value.__cause__, ArithmeticError)
        assert pg_conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                               "AND application_name = 'datastorm'", (dbname,)
                               ).fetchone()[0] == 0
        locker.rollback()
    assert table_digest(pg_conn, "t") == before


@pytest.mark.timeout(60)
def test_a_failing_source_through_the_cli_is_exit_1_without_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def generate(self: IntGenerator, indices: np.ndarray, row: Any) -> np.ndarray:
        raise ArithmeticError("generator broke")

    monkeypatch.setattr(IntGenerator, "generate", generate)
    db = tmp_path / "out.db"
    result = run_cli(capsys, "run", write(tmp_path, shop_text()), "--target", f"sqlite:///{db}")
    assert_clean_failure(result, 1, "'order'", "generator broke")
    # sqlite rolls the whole run back: the file holds no table.
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


BAD_GENFILES = {
    "malformed-toml": ('[dataset]\nrecords = 10\n\n[t.id]\ntype = "sequence"\nthis is not toml\n',
                       ["line 6", "malformed TOML"]),
    "unknown-type": ('[t.id]\ntype = "sequence"\n\n[t.when]\ntype = "datetime"\n',
                     ["[t.when]", "datetime", "line 4"]),
    "bad-reference": ('[user.id]\ntype = "sequence"\n\n[order.id]\ntype = "sequence"\n\n'
                      '[order.user_id]\ntype = "reference"\nref = "customer.id"\n',
                      ["[order.user_id]", "customer"]),
    "unique-space-too-small": ('[dataset]\nrecords = 10\n\n[t.id]\ntype = "sequence"\n\n'
                               '[t.color]\ntype = "choice"\nvalues = ["red", "green", "blue"]\n'
                               'unique = true\n',
                               ["[t.color]", "only 3 distinct", "10 rows"]),
}
GOOD = '[t.id]\ntype = "sequence"\n\n[t.name]\ntype = "name"\n'
BAD_ARGUMENTS = {
    "unknown-table": (["--tables", "t,nosuch"], ["nosuch"]),
    "partition-out-of-range": (["--partition", "3/3"], ["--partition", "3/3"]),
    "partition-not-k-of-n": (["--partition", "half"], ["--partition", "half"]),
    "unknown-target": (["--target", "mysql://u@h/db"], ["mysql://u@h/db"]),
    "bad-postgres-port": (["--target", "postgresql://u@localhost:port/db"], ["port"]),
    "bad-sqlite-url": (["--target", "sqlite://x.db"], ["sqlite:///"]),
}


@pytest.mark.parametrize("case", sorted(BAD_GENFILES))
def test_a_bad_genfile_is_exit_2_naming_the_field_and_nothing_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    text, needles = BAD_GENFILES[case]
    genfile = write(tmp_path, text)
    db = tmp_path / "out.db"
    for command in (["validate", genfile], ["run", genfile, "--target", f"sqlite:///{db}"],
                    ["plan", genfile]):
        result = run_cli(capsys, *command)
        assert_clean_failure(result, 2, *needles)
    assert not db.exists()


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_a_bad_argument_is_exit_2_and_nothing_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    arguments, needles = BAD_ARGUMENTS[case]
    genfile = write(tmp_path, GOOD)
    if "--target" not in arguments:
        arguments = [*arguments, "--target", f"sqlite:///{tmp_path}/out.db"]
    result = run_cli(capsys, "run", genfile, *arguments)
    assert_clean_failure(result, 2, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Genfile.toml"]


@pytest.mark.postgres
def test_bad_input_leaves_postgres_untouched(tmp_path: Path, pg_url: str, pg_conn: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    for case in sorted(BAD_GENFILES):
        text, _ = BAD_GENFILES[case]
        result = run_cli(capsys, "run", write(tmp_path, text), "--target", pg_url)
        assert_clean_failure(result, 2)
    genfile = write(tmp_path, GOOD)
    for arguments, _ in BAD_ARGUMENTS.values():
        if "--target" in arguments:
            continue
        result = run_cli(capsys, "run", genfile, "--target", pg_url, *arguments)
        assert_clean_failure(result, 2)
    # A partition in replace mode would drop the other partitions' rows: refused first.
    result = run_cli(capsys, "run", genfile, "--target", pg_url, "--partition", "0/2")
    assert_clean_failure(result, 2, "append")
    assert tables(pg_conn) == []


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once closed


@pytest.mark.parametrize("url", [
    "postgresql://alice:Sup3rSecret@127.0.0.1:{port}/shop",
    "postgres://alice@127.0.0.1:{port}/shop?password=Sup3rSecret&connect_timeout=5",
])
def test_an_unreachable_postgres_is_exit_1_without_the_password(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    target = url.format(port=closed_port())
    result = run_cli(capsys, "run", write(tmp_path, GOOD), "--target", target)
    assert_clean_failure(result, 1, "cannot connect", "127.0.0.1")
    assert "Sup3rSecret" not in result.both
    assert "alice@127.0.0.1" in result.err  # the URL is still recognisable


def test_debug_shows_the_traceback_of_a_run_failure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"postgresql://alice@127.0.0.1:{closed_port()}/shop"
    result = run_cli(capsys, "--debug", "run", write(tmp_path, GOOD), "--target", target)
    assert result.code == 1
    assert "Traceback" in result.err and "cannot connect" in result.err


@pytest.mark.postgres
def test_a_constraint_violation_is_exit_1_and_rolls_back(
        tmp_path: Path, pg_url: str, pg_conn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """--tables order alone into a database whose user table lacks most ids."""
    genfile = write(tmp_path, shop_text())
    pg_conn.execute('CREATE TABLE "user" (id bigint PRIMARY KEY, name text, email text, '
                    "born date)")
    pg_conn.execute("INSERT INTO \"user\" VALUES (1, 'a', 'a@x', NULL)")
    result = run_cli(capsys, "run", genfile, "--target", pg_url, "--tables", "order")
    assert_clean_failure(result, 1, "'order'", "foreign key")
    assert tables(pg_conn) == ["user"]
    assert table_digest(pg_conn, "user")[0] == 1
    with pytest.raises(psycopg.errors.UndefinedTable):
        pg_conn.execute('SELECT 1 FROM "order"')
