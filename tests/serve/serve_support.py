"""A real ``datastorm serve`` in a child process, for the serve tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

# The server reads the Genfile, compiles its tables and listens in well under this.
START_SECONDS = 30.0

# A parent and a child with a foreign key, NULLs, decimals, dates and timestamps; a child
# laid out parent by parent (per_parent), whose rows end at its count.
SHOP_GENFILE = """\
[dataset]
seed = 7

[customer]
records = 400

[customer.id]
type = "sequence"

[customer.name]
type = "name"

[customer.email]
type = "email"
from = "name"
unique = true

[customer.born]
type = "date"
start = "1950-01-01"
end = "2005-12-31"
null_rate = 0.2

[account]
records = 1200

[account.id]
type = "sequence"

[account.customer_id]
type = "reference"
ref = "customer.id"

[account.balance]
type = "decimal"
min = -500
max = 50000
scale = 2

[account.opened_at]
type = "timestamp"
start = "2020-01-01"
end = "2025-12-31"

[account.note]
type = "string"
pattern = "AAA 999"
null_rate = 0.3

[login]

[login.id]
type = "sequence"

[login.customer_id]
type = "reference"
ref = "customer.id"
per_parent = [0, 2]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(*argv: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from datastorm_core.entry import main; "
            "sys.exit(main())", "serve", *argv]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log: Path
    process: subprocess.Popen[bytes]

    def rss_kb(self) -> int:
        """The server's resident memory now (VmRSS of /proc/<pid>/status), in kB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@contextmanager
def running_server(genfile: Path, log: Path, *argv: str, env: Mapping[str, str] | None = None,
                   token: str | None = None) -> Iterator[Server]:
    """``datastorm serve GENFILE --port <free> ARGV`` until the block ends; stopped by pid."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "DATASTORM_API_TOKEN"}
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            serve_command(str(genfile), "--port", str(port), "--log-level", "warning", *argv),
            stdout=out, stderr=subprocess.STDOUT, env={**environment, **(env or {})})
    server = Server(f"http://127.0.0.1:{port}", process.pid, log, process)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"datastorm serve ended ({process.returncode}): {log.read_text()}")
            try:
                if httpx.get(f"{server.url}/status", headers=headers, timeout=1).status_code \
                        == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"datastorm serve not ready in {START_SECONDS} s: {log.read_text()}")
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
