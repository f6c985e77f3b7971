"""A signal during COMMIT: the run says what is true (committed), never "interrupted"."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from core_support import SCHEMA, CountingProducer

from datastorm_core.core import interrupts
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.runner import Runner, RunSettings, TableJob
from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import Interrupted
from datastorm_core.target.base import BaseTarget


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


def _command(*argv: str) -> subprocess.Popen[str]:
    def default_sigint() -> None:  # a shell may have left SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen([sys.executable, "-c", "import sys; from datastorm_core.entry "
                             "import main; sys.exit(main())", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)


def test_ctrl_c_while_the_command_starts_prints_no_traceback() -> None:
    process = _command("validate", "examples/users.toml")
    time.sleep(0.1)  # inside the imports
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    if process.returncode == 0:
        pytest.skip("the command was faster than the signal")
    assert process.returncode == 130, err
    assert "Traceback" not in err


def test_ctrl_c_ends_a_wait_for_a_locked_sqlite_file_at_once(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    genfile = tmp_path / "g.toml"
    genfile.write_text('[t.id]\ntype = "sequence"\n', encoding="utf-8")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        process = _command("run", str(genfile), "--target", f"sqlite:///{db}")
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
