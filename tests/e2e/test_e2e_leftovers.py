"""A CSV run killed with SIGKILL leaves temporary files; the next run removes its own kind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from e2e_support import WAIT_SECONDS, finish, run_cli, start_cli, write

BIG = """\
[people]
records = 3000000

[people.id]
type = "sequence"

[people.name]
type = "name"
"""


def leftovers(directory: Path) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.endswith(".datastorm-tmp"))


def test_the_next_run_removes_a_killed_runs_files_and_nobody_elses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    genfile = write(tmp_path, BIG)
    process = start_cli("run", genfile, "--target", f"csv:///{out}")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and not (out.exists() and leftovers(out)):
        time.sleep(0.05)
    time.sleep(0.3)  # some rows are in the temporary file
    process.send_signal(signal.SIGKILL)
    finish(process)
    killed = leftovers(out)
    assert killed, "the killed run left its temporary file"
    # Files that only look alike: another machine's run, and a run still alive here.
    other_host = out / ".people.csv.elsewhere.4242.abcd.datastorm-tmp"
    other_host.write_text("not ours", encoding="utf-8")
    alive = out / f".people.csv.{killed[0].split('.')[3]}.{os.getpid()}.efgh.datastorm-tmp"
    alive.write_text("still writing", encoding="utf-8")
    small = write(tmp_path, BIG.replace("3000000", "10"), "small.toml")
    assert run_cli(capsys, "run", small, "--target", f"csv:///{out}").code == 0
    assert leftovers(out) == sorted([other_host.name, alive.name])
    assert (out / "people.csv").read_text(encoding="utf-8").count("\n") == 11
