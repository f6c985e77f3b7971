"""What the benchmarks measure of a command they run: wall time, exit, output, peak RSS, CPU."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command`` from the repository; its wall seconds, exit code, output, its own
    peak RSS and CPU (wait4: the child's, not this process's)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"seconds": seconds, "exit": process.returncode,
                "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace"),
                # ru_maxrss is in kilobytes on Linux
                "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                # the client's own CPU: beside the wall time, client-bound or server-bound
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2)}
