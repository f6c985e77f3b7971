"""Faults injected into real ``datastorm run`` processes against a real PostgreSQL.

Every case starts from a database that a completed run (seed 1) of the shop
Genfile filled (at 200 times its size), and starts the command on it with
seed 2: about 1.5 s of work, two COPY sessions into scratch tables, keys
built on them, a swap, a commit (a staged load). Then a fault lands at a
chosen moment: SIGINT or SIGTERM, SIGKILL, the server ending the run's
backends, a lock another session holds. Whatever the moment, afterwards:

- the exit code says what happened (0 done; 130 interrupted, by SIGINT or
  SIGTERM alike; 1 failed; a SIGKILL is the kernel's -9);
- nothing prints a traceback;
- the database holds either exactly what it held before (the seed-1
  digests) or exactly the new run (the seed-2 digests), keys included:
  never a part, never a mix, and exit 0 if and only if it is the new run;
- no session of the run is left, and after the next run no scratch table
  (``datastorm_load_%``) and no ledger row of one is left either.

The end-to-end tests stop a run of a table too big to finish, always
mid-COPY (tests/e2e/test_e2e_failures.py); tests/core/test_interrupts.py
places a signal exactly after the commit. This is the sweep over moments, on
a run that can finish, with a full before/after comparison.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2e_support import (
    SHOP,
    SHOP_ROWS,
    WAIT_SECONDS,
    Result,
    backend_running,
    constraints,
    database_name,
    finish,
    run_cli,
    start_cli,
    table_digest,
    tables,
)

from datastorm_core.cli import main

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

SCALE = 100
GENFILE = (SHOP.read_text(encoding="utf-8")
           .replace("\nrecords = 300\n", f"\nrecords = {300 * SCALE}\n")
           .replace("\nrecords = 1000\n", f"\nrecords = {1000 * SCALE}\n"))
BEFORE_SEED, RUN_SEED = "1", "2"
SCRATCH_PREFIX = "datastorm_load_"
# A small run that is staged too: it drops what a dead run left.
NEXT_RUN = '[probe]\nrecords = 10\n\n[probe.id]\ntype = "sequence"\n'
# What the statements of a staged load start with, for the moments of a fault.
ANCHORS = {"copy": "COPY", "keys": "ALTER TABLE"}


@dataclass(frozen=True)
class Contents:
    """What a run leaves in a database: each table's row count and digest, and the keys."""

    tables: dict[str, tuple[int, str]]
    keys: frozenset[tuple[str, str, str]]


@dataclass(frozen=True)
class Baseline:
    template: str  # URL of a database holding the seed-1 run, copied for each case
    before: Contents
    whole: Contents  # the seed-2 run


def contents(url: str) -> Contents:
    with psycopg.connect(url, autocommit=True) as conn:
        return Contents(
            {t: table_digest(conn, t) for t in tables(conn) if not t.startswith(SCRATCH_PREFIX)},
            frozenset(k for k in constraints(conn) if not k[0].startswith(SCRATCH_PREFIX)))


def leftovers(url: str) -> tuple[list[str], int]:
    """Scratch tables in any schema, and the ledger's rows of scratch tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        found = [r[0] for r in conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE tablename LIKE 'datastorm\\_load\\_%' ORDER BY 1")]
        rows = 0
        if conn.execute("SELECT to_regclass('datastorm_owned_tables')").fetchone()[0]:
            rows = conn.execute("SELECT count(*) FROM datastorm_owned_tables "
                                "WHERE relname LIKE 'datastorm\\_load\\_%'").fetchone()[0]
        return found, int(rows)


def run_sessions(admin: psycopg.Connection[Any], dbname: str, where: str = "true") -> int:
    return int(admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
        f"AND application_name = 'datastorm' AND {where}", (dbname,)).fetchone()[0])


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (the server's view, which has no event to wait on)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


@dataclass
class Run:
    """A ``datastorm run`` child process on a database."""

    process: subprocess.Popen[str]
    started: float
    url: str

    @property
    def dbname(self) -> str:
        return database_name(self.url)

    def reach(self, admin: psycopg.Connection[Any], point: str) -> bool:
        """Wait for ``point``: "start+S" is S seconds after the process started; "copy+S"
        and "keys+S", S seconds after a COPY, or a key being built on a loaded table
        (ALTER TABLE; the swap and the commit follow within a few tenths), was seen.
        False if the run ended first."""
        anchor, _, offset = point.partition("+")
        moment = self.started
        if anchor in ANCHORS:
            backend_running(admin, self.dbname, self.process, ANCHORS[anchor])
            moment = time.monotonic()
        try:
            self.process.wait(timeout=max(moment + float(offset) - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            return True
        return False

    def result(self) -> Result:
        return finish(self.process)

    def assert_gone(self, admin: psycopg.Connection[Any]) -> None:
        """None of the run's sessions is left (the server notices a dead client at once)."""
        wait_until(lambda: run_sessions(admin, self.dbname) == 0, "the run's sessions ended")


def start_run(url: str, workdir: Path, *extra: str, unbuffered: bool = False) -> Run:
    genfile = workdir / "Genfile.toml"
    if not genfile.exists():
        genfile.write_text(GENFILE, encoding="utf-8")
    process = start_cli("run", str(genfile), "--target", url, "--seed", RUN_SEED, *extra,
                        cwd=str(workdir), env={"PYTHONUNBUFFERED": "1"} if unbuffered else None)
    return Run(process, time.monotonic(), url)


def assert_before_or_whole(result: Result, url: str, baseline: Baseline,
                           allowed: tuple[int, ...]) -> str:
    """The exit code is one of ``allowed``, and the database is all old or all new (which one
    the exit code says); returns "before" or "whole"."""
    assert result.code in allowed, result
    assert "Traceback" not in result.both, result.err
    assert "internal error" not in result.err, result.err
    now = contents(url)
    if now == baseline.whole:
        # Killed after the commit, nothing can say so; otherwise the run says it is in.
        assert result.code in (0, -signal.SIGKILL), f"the run is in, yet exit {result.code}"
        return "whole"
    assert now == baseline.before, (
        f"neither the previous contents nor the whole new run (exit {result.code}):\n"
        f"before {baseline.before}\nwhole  {baseline.whole}\nnow    {now}\n{result.err}")
    assert result.code != 0, f"exit 0, yet the run is not in: {result.both}"
    return "before"


def assert_next_run_cleans_up(url: str, workdir: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    probe = workdir / "next.toml"
    probe.write_text(NEXT_RUN, encoding="utf-8")
    result = run_cli(capsys, "run", str(probe), "--target", url, "--quiet")
    assert result.code == 0, result
    assert leftovers(url) == ([], 0)


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(pg_databases: Any, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Baseline]:
    """A database filled by a completed seed-1 run (the template), and both runs' digests."""
    genfile = tmp_path_factory.mktemp("faults") / "Genfile.toml"
    genfile.write_text(GENFILE, encoding="utf-8")
    with pg_databases.scratch() as template, pg_databases.scratch() as scratch:
        for url, seed in ((template, BEFORE_SEED), (scratch, RUN_SEED)):
            assert main(["run", str(genfile), "--target", url, "--seed", seed, "--quiet"]) == 0
        before, whole = contents(template), contents(scratch)
        assert {t: n for t, (n, _) in before.tables.items()} == \
            {t: n * SCALE for t, n in SHOP_ROWS.items()}
        assert before.keys == whole.keys and len(before.keys) == 5  # 2 primary, 2 unique, 1 foreign
        assert before.tables != whole.tables
        yield Baseline(template, before, whole)


@pytest.fixture
def filled_url(pg_databases: Any, baseline: Baseline) -> Iterator[str]:
    """A fresh copy of the seed-1 database."""
    with pg_databases.scratch(template=baseline.template) as url:
        yield url


@pytest.fixture
def admin(pg_server_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        yield conn


# -- signals ------------------------------------------------------------------------


def test_a_signal_at_any_moment_leaves_the_old_rows_or_the_whole_run(
        signal_case: tuple[str, str], filled_url: str, baseline: Baseline,
        admin: psycopg.Connection[Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    name, point = signal_case
    run = start_run(filled_url, tmp_path)
    if run.reach(admin, point):
        run.process.send_signal(getattr(signal, name))
    result = run.result()
    # SIGTERM is Ctrl-C: 130 from the moment the command starts loading (entry.py).
    outcome = assert_before_or_whole(result, filled_url, baseline, (0, 130))
    if result.code == 130:
        # A sentence, after the progress lines of the tables done: not a dump.
        said = [line for line in result.err.splitlines() if " rows in " not in line]
        assert len(said) == 1 and "interrupted" in said[0], result.err
    elif "interrupted" in result.err:
        # The signal came during the commit or after it: the run is in, and says so.
        assert "after the commit: the run was complete and is kept" in result.err
    run.assert_gone(admin)
    # A run that stops on a signal drops its own scratch tables.
    assert leftovers(filled_url) == ([], 0)
    assert_next_run_cleans_up(filled_url, tmp_path, capsys)
    print(f"outcome: {outcome}, exit {result.code}")  # pytest -rP shows the mix


def test_a_signal_once_the_run_is_committed_changes_nothing(
        after_commit_case: tuple[str, float], filled_url: str, baseline: Baseline,
        admin: psycopg.Connection[Any], tmp_path: Path) -> None:
    """While the summary prints and the interpreter shuts down, the run is in: exit 0.

    Before the fix, a signal there ended the process as killed by it (-2, -15), or said
    "interrupted; nothing was written" with exit 130, about a committed run.
    """
    name, delay = after_commit_case
    run = start_run(filled_url, tmp_path, unbuffered=True)
    stdout, stderr = run.process.stdout, run.process.stderr
    assert stdout is not None and stderr is not None
    head = ""
    while "datastorm: wrote to" not in head:  # the summary's first line: the run is in
        line = stdout.readline()
        assert line, f"the run ended without its summary: {head}{stderr.read()}"
        head += line
    try:
        run.process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        run.process.send_signal(getattr(signal, name))
    # Read through the same buffered pipes, then the exit code (the test's timeout bounds it).
    out, err = head + stdout.read(), stderr.read()
    result = Result(run.process.wait(), out, err)
    assert assert_before_or_whole(result, filled_url, baseline, (0,)) == "whole"
    assert "nothing was written" not in result.err, result.err
    run.assert_gone(admin)
    assert leftovers(filled_url) == ([], 0)


def test_sigkill_at_any_moment_leaves_the_old_rows_or_the_whole_run(
        kill_point: str, filled_url: str, baseline: Baseline,
        admin: psycopg.Connection[Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    run = start_run(filled_url, tmp_path)
    if run.reach(admin, kill_point):
        run.process.send_signal(signal.SIGKILL)
    result = run.result()
    outcome = assert_before_or_whole(result, filled_url, baseline, (0, -signal.SIGKILL))
    if result.code == 0:
        assert outcome == "whole" and "datastorm: wrote to" in result.out, result
    # PostgreSQL rolls back what the dead sessions had open; the scratch tables the
    # loaders committed stay until the next staged run drops them.
    run.assert_gone(admin)
    assert_next_run_cleans_up(filled_url, tmp_path, capsys)
    print(f"outcome: {outcome}, exit {result.code}")


# -- the server ends the run's sessions ---------------------------------------------


@pytest.mark.parametrize("which", ["a-copy-session", "every-session"])
def test_a_backend_terminated_by_the_server_fails_the_run_cleanly(
        which: str, filled_url: str, baseline: Baseline, admin: psycopg.Connection[Any],
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = start_run(filled_url, tmp_path, "--quiet")
    copying = backend_running(admin, run.dbname, run.process, "COPY")
    victims = [copying] if which == "a-copy-session" else [r[0] for r in admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s "
        "AND application_name = 'datastorm'", (run.dbname,))]
    for pid in victims:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    result = run.result()
    outcome = assert_before_or_whole(result, filled_url, baseline, (0, 1))
    if result.code == 1:
        assert result.err.startswith("datastorm: error:"), result.err
        assert "terminat" in result.err or "connection" in result.err, result.err
    else:  # the terminated session had sent its last rows already
        assert outcome == "whole"
    run.assert_gone(admin)
    assert_next_run_cleans_up(filled_url, tmp_path, capsys)


# -- locks --------------------------------------------------------------------------
# A lock held past --lock-timeout: tests/existing/test_existing_load.py.


def test_a_lock_released_within_the_timeout_lets_the_run_finish(
        filled_url: str, baseline: Baseline, admin: psycopg.Connection[Any],
        tmp_path: Path) -> None:
    with psycopg.connect(filled_url, application_name="hardening-reader") as reader:
        reader.execute('SELECT count(*) FROM "user"')  # its transaction stays open
        run = start_run(filled_url, tmp_path, "--lock-timeout", "20", "--quiet")
        wait_until(lambda: run_sessions(admin, run.dbname, "wait_event_type = 'Lock'") > 0
                   or run.process.poll() is not None, "the run waited for the lock")
        reader.rollback()  # the lock goes; the run goes on
    result = run.result()
    assert assert_before_or_whole(result, filled_url, baseline, (0,)) == "whole"
    assert leftovers(filled_url) == ([], 0)


def test_ctrl_c_while_waiting_for_a_lock_stops_at_once_and_changes_nothing(
        filled_url: str, baseline: Baseline, admin: psycopg.Connection[Any],
        tmp_path: Path) -> None:
    with psycopg.connect(filled_url, application_name="hardening-reader") as reader:
        reader.execute('SELECT count(*) FROM "order"')
        run = start_run(filled_url, tmp_path, "--quiet")  # would wait up to 30 s
        wait_until(lambda: run_sessions(admin, run.dbname, "wait_event_type = 'Lock'") > 0
                   or run.process.poll() is not None, "the run waited for the lock")
        signalled = time.monotonic()
        run.process.send_signal(signal.SIGINT)
        result = run.result()
        stopped = time.monotonic() - signalled
        reader.rollback()
    assert assert_before_or_whole(result, filled_url, baseline, (130,)) == "before"
    assert stopped < 5, f"took {stopped:.1f} s to stop"
    run.assert_gone(admin)
    assert leftovers(filled_url) == ([], 0)
