"""A signal during COMMIT or after it: the run says what is true (committed), never
"interrupted"; before it, the run is rolled back and says so."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from core_support import SCHEMA, CountingProducer
from e2e_support import run_cli, start_cli, write

from datastorm_core import cli
from datastorm_core import run as run_module
from datastorm_core.core import interrupts
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.runner import Runner, RunSettings, TableJob
from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import Interrupted
from datastorm_core.target.base import BaseTarget
from datastorm_core.target.sqlite import SqliteTarget

SIGNALS = pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM],
                                  ids=["SIGINT", "SIGTERM"])
FIVE_ROWS = '[t]\nrecords = 5\n[t.id]\ntype = "sequence"\n'


class SignalledTarget(BaseTarget):
    """A real target that keeps rows in memory; SIGINT reaches it at a chosen moment."""

    kind = "memory"

    def __init__(self, when: str) -> None:
        super().__init__("memory:")
        self.when = when
        self.rows: list[object] = []
        self.kept: list[object] = []

    def open(self) -> None: ...

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            self.rows.extend(chunk.columns["id"].values.tolist())

    def commit(self) -> None:
        if self.when == "before":  # not in yet: the run is interrupted, and rolled back
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)
        with interrupts.deferred():
            if self.when == "during":  # arrives while the rows are published
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # the signal waits for the block to end
            self.kept = list(self.rows)
            self.committed = True

    def rollback(self) -> None:
        self.kept = []

    def close(self) -> None: ...


def run(target: SignalledTarget) -> object:
    job = TableJob(SCHEMA, CountingProducer(5, 10), 0, 50)
    return Runner(target, RunSettings(buffer_rows=100)).run([job])


def test_a_signal_during_the_commit_waits_and_the_run_reports_it_is_in() -> None:
    target = SignalledTarget("during")
    stats = run(target)
    assert stats.interrupted_after_commit  # type: ignore[attr-defined]
    assert len(target.kept) == 50


def test_a_signal_before_the_commit_rolls_back_and_says_interrupted() -> None:
    target = SignalledTarget("before")
    with pytest.raises(Interrupted):
        run(target)
    assert target.kept == []


def test_the_last_publish_is_heard_before_a_signal_held_during_it() -> None:
    """Inside a run's last phase the listener is told the publish went through before the
    held signal is delivered; in an earlier phase nobody is told."""
    events: list[str] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: events.append("signal"))
    try:
        with interrupts.on_final_publish(lambda: events.append("published")):
            with interrupts.final_phase():
                run(SignalledTarget("during"))
            run(SignalledTarget("during"))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert events == ["published", "signal", "signal"]


def test_ctrl_c_ends_a_wait_for_a_locked_sqlite_file_at_once(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    genfile = tmp_path / "g.toml"
    genfile.write_text('[t.id]\ntype = "sequence"\n', encoding="utf-8")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        process = start_cli("run", str(genfile), "--target", f"sqlite:///{db}")
        time.sleep(2.0)  # started, and waiting for the lock (30 s by default)
        assert process.poll() is None
        signalled = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert time.monotonic() - signalled < 3
        assert process.returncode == 130, err
        assert "Traceback" not in err
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# -- the command: what it says a signal did -----------------------------------------


def signal_when_called(monkeypatch: pytest.MonkeyPatch, owner: object, name: str,
                       signum: int) -> None:
    """Send ``signum`` to this process as ``owner.name`` is next called."""
    real = getattr(owner, name)

    def signalling(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signum)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, signalling)


def rows_in(db: Path, table: str) -> int | None:
    """Rows of ``table`` in the SQLite file, None if there is no such table (or file)."""
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    return None


# When the signal comes: (what is called then, the exit code that says what is true).
MOMENTS = {
    "before the publish": (SqliteTarget, "commit", 130),
    "after the publish, inside run()": (BaseTarget, "table_details", 0),
    "while the summary prints": (cli, "render_summary", 0),
}


@SIGNALS
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_the_command_says_what_a_signal_did_to_the_run(
        moment: str, signum: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Up to the publish a signal rolls back (130); from the instant the last target has
    published, the run is in: exit 0, and the signal is named as one that came after."""
    owner, name, code = MOMENTS[moment]
    signal_when_called(monkeypatch, owner, name, signum)
    db = tmp_path / "out.db"
    result = run_cli(capsys, "run", write(tmp_path, FIVE_ROWS), "--target", f"sqlite:///{db}")
    assert result.code == code, result
    assert "Traceback" not in result.both
    if code == 0:
        assert rows_in(db, "t") == 5
        assert "nothing was written" not in result.err, result.err
        assert "interrupted after the commit: the run was complete and is kept" in result.err
    else:
        assert rows_in(db, "t") is None
        assert "interrupted" in result.err and "kept" not in result.err, result.err


def test_a_signal_ignored_when_the_command_starts_stays_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A background job's SIGINT, ignored by the shell that started it, stops nothing."""
    signal_when_called(monkeypatch, SqliteTarget, "commit", signal.SIGINT)
    db = tmp_path / "out.db"
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = run_cli(capsys, "run", write(tmp_path, FIVE_ROWS), "--target",
                         f"sqlite:///{db}", "--quiet")
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # as the command found it
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.code == 0 and result.err == "", result
    assert rows_in(db, "t") == 5


def test_a_signal_while_a_failure_is_reported_leaves_the_report_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The outcome is known once the command returns or raises: a Ctrl-C while the error
    is printed (here, its --debug traceback) neither cuts the report nor escapes."""
    signal_when_called(monkeypatch, cli, "_traceback", signal.SIGINT)
    result = run_cli(capsys, "--debug", "run", write(tmp_path, FIVE_ROWS),
                     "--target", "postgresql://u@127.0.0.1:1/x")
    assert result.code == 1, result
    assert "datastorm: error: cannot connect" in result.err, result.err


def test_a_signal_between_two_targets_says_the_first_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The first target is committed when a Ctrl-C comes before the second starts: the
    message says what was kept, not "nothing was written"."""
    db, out = tmp_path / "masters.db", tmp_path / "events"
    genfile = write(tmp_path, f'[target]\nurl = "sqlite:///{db}"\n'
                              '[targets.events]\ntype = "jsonl"\nurl = "jsonl:///unused"\n'
                              '[account]\nrecords = 20\nid = { type = "sequence" }\n'
                              '[deposit]\nrecords = 10\ntarget = "events"\n'
                              'id = { type = "sequence" }\n'
                              'account_id = { type = "reference", ref = "account.id" }\n')
    calls: list[str] = []
    real = run_module._jobs

    def jobs(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2].describe())
        if len(calls) == 2:  # the second target's jobs: the first is committed
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "_jobs", jobs)
    result = run_cli(capsys, "run", genfile, "--quiet", "--target-for", f"events=jsonl:///{out}")
    assert len(calls) == 2, calls
    assert result.code == 130, result
    assert "already committed, and kept: account on" in result.err, result.err
    assert "nothing was written" not in result.err
    assert rows_in(db, "account") == 20
    assert not (out / "deposit.jsonl").exists()


# -- the command's process: from the first import to the last instant ---------------

# Runs entry.main (the installed command) with a hook that sends a signal at a moment no
# test can reach from outside: while the command's modules load, or once the
# interpreter is shutting down.
HOOKED_ENTRY = """\
import functools, os, sys
from datastorm_core.entry import main

SIGNUM, WHEN = {signum}, {when!r}
send = functools.partial(os.kill, os.getpid(), SIGNUM)

class SignalOnImport:  # a finder that finds nothing: it only sees the import start
    def find_spec(self, name, path=None, target=None):
        if WHEN.startswith("loading") and name == "datastorm_core.cli":
            send()
        return None

class SignalOnWrite:  # stderr: another signal as the interruption is reported
    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        send()
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)

if WHEN == "loading, then while reporting it":
    sys.stderr = SignalOnWrite(sys.stderr)

class SignalAtShutdown:  # a global: collected as the interpreter shuts down
    def __init__(self, send):
        self.send = send  # its own: the module's globals may be gone by then

    def __del__(self):
        self.send()

sys.meta_path.insert(0, SignalOnImport())
at_shutdown = SignalAtShutdown(send if WHEN == "shutdown" else lambda: None)
sys.exit(main())
"""


def hooked_command(when: str, signum: int, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HOOKED_ENTRY.format(signum=int(signum), when=when), *argv],
        capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@SIGNALS
@pytest.mark.parametrize("when", ["loading", "loading, then while reporting it"])
def test_a_signal_while_the_command_loads_is_ctrl_c(when: str, signum: int) -> None:
    """No traceback, exit 130: SIGTERM too, before cli.py has set up anything; a second
    signal does not cut the message short."""
    done = hooked_command(when, signum, "validate", "examples/users.toml")
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert done.stderr == "datastorm: interrupted while starting; nothing was written\n"


@SIGNALS
def test_a_signal_during_the_shutdown_leaves_the_exit_code_alone(signum: int,
                                                                 tmp_path: Path) -> None:
    """At shutdown Python gives a signal its default action back (death by it), unless
    it is ignored: a committed run must still exit 0."""
    db = tmp_path / "out.db"
    done = hooked_command("shutdown", signum, "run", write(tmp_path, FIVE_ROWS),
                          "--target", f"sqlite:///{db}", "--quiet")
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert rows_in(db, "t") == 5
