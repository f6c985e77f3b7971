"""Rows/s served as NDJSON over loopback by ``datastorm serve`` against ``datastorm run
--target null:`` of the same table, in the same run.

    python bench/serve_bench.py --rows 1000000 [--tables customer,account] [--repeat 3]
                                [--json out.json]

On the bank schema of ``bench/bank.toml`` (``--rows`` customers, twice as many
accounts), for each table:

- ``run-null``: ``datastorm run --tables TABLE --target null:``: the rows
  generated and dropped, the generator's own ceiling; its rows/s is the one
  the run reports for the table (process start and checks left out).
- ``run-jsonl``: the same run into ``jsonl:///DIR``, which encodes every row
  to the JSON text the API sends: the generator plus the encoding.
- ``serve-ndjson``: a ``datastorm serve`` already listening on 127.0.0.1; a
  client (this process, httpx) reads every row of the table as NDJSON in pages
  of ``--page`` rows (``GET /tables/TABLE/rows?offset=&limit=&format=ndjson``),
  timed from the first request to the last byte. The served rows are encoded
  to JSON, which ``null:`` never does, and go through HTTP on the same two cores.

Prints rows/s, peak RSS (the run's process; the server's VmHWM) and the ratio
serve ÷ run; ``--json`` keeps the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import timed  # noqa: E402

from bench import median_run, write_record  # noqa: E402  (bench/ is not a package)

DATASTORM = [sys.executable, "-c", "import sys; from datastorm_core.entry import main; "
             "sys.exit(main())"]
#: run-null is the reference; run-jsonl writes the same JSON text to a file, so the
#: gap between the two is what encoding rows as JSON costs, which null: never pays.
METHODS = ("run-null", "run-jsonl", "serve-ndjson")
# A page as large as the server allows by default: fewer round trips, same streaming.
DEFAULT_PAGE_ROWS = 100_000


def genfile(rows: int, directory: Path) -> Path:
    text = (HERE / "bank.toml").read_text(encoding="utf-8")
    text = text.replace("records = 1000000", f"records = {rows}")
    text = text.replace("records = 2000000", f"records = {2 * rows}")
    path = directory / "bank.toml"
    path.write_text(text, encoding="utf-8")
    return path


def method_run(path: Path, table: str, target: str) -> dict[str, Any]:
    done = timed([*DATASTORM, "run", str(path), "--tables", table, "--target", target])
    if done["exit"]:
        return {"error": f"exit {done['exit']}: {done['stderr'].strip()[-300:]}"}
    # The summary's line of the table: | table | rows | seconds | rows/s |
    line = re.search(rf"^\W*{table}\s*\W\s*([\d,]+)\s*\W\s*([\d.]+)\s*\W", done["stdout"], re.M)
    if line is None:
        return {"error": f"no summary line for {table} in: {done['stdout'][-300:]}"}
    rows, seconds = int(line.group(1).replace(",", "")), float(line.group(2))
    return {"rows": rows, "seconds": seconds, "rows_per_second": round(rows / seconds),
            "wall_seconds": round(done["seconds"], 3), "peak_rss_mb": done["peak_rss_mb"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(path: Path, page: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATASTORM_API_TOKEN"}
    process = subprocess.Popen([*DATASTORM, "serve", str(path), "--port", str(port),
                                "--log-level", "warning", "--max-page-rows", str(page)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"datastorm serve ended with {process.returncode}")
        try:
            if httpx.get(f"{url}/status", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    sys.exit("datastorm serve did not start within 120 s")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def method_serve(url: str, pid: int, table: str, rows: int, page: int) -> dict[str, Any]:
    received = size = 0
    with httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        for offset in range(0, rows, page):
            with client.stream("GET", f"{url}/tables/{table}/rows", params={
                    "offset": offset, "limit": page, "format": "ndjson"}) as answer:
                answer.raise_for_status()
                for piece in answer.iter_raw(1 << 20):
                    received += piece.count(b"\n")
                    size += len(piece)
        seconds = time.perf_counter() - started
    if received != rows:
        return {"error": f"received {received} rows of {rows}"}
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds),
            "mb_per_second": round(size / seconds / 1e6, 1), "peak_rss_mb": peak_rss_mb(pid)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="customers (accounts: 2x)")
    parser.add_argument("--tables", default="customer,account")
    parser.add_argument("--page", type=int, default=DEFAULT_PAGE_ROWS, help="rows a request")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every method; each keeps its median run (default 1)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        path = genfile(args.rows, Path(scratch))
        server, url = start_server(path, args.page)
        runs: dict[str, list[dict[str, Any]]] = {}
        try:
            for round_number in range(1, max(1, args.repeat) + 1):
                for table in tables:
                    rows = args.rows * (2 if table == "account" else 1)
                    for method in METHODS:
                        print(f"round {round_number}: {method} {table} ({rows:,} rows) ...",
                              file=sys.stderr, flush=True)
                        if method == "serve-ndjson":
                            result = method_serve(url, server.pid, table, rows, args.page)
                        else:
                            target = ("null:" if method == "run-null"
                                      else f"jsonl:///{Path(scratch) / 'jsonl'}")
                            result = method_run(path, table, target)
                        runs.setdefault(f"{method}:{table}", []).append(result)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    results = {key: median_run(done) for key, done in runs.items()}
    print(f"\n{'method':<22} {'table':<10} {'rows':>10} {'seconds':>8} {'rows/s':>11} "
          f"{'peak RSS':>9} {'serve/run':>9}")
    for table in tables:
        reference = results.get(f"run-null:{table}", {}).get("rows_per_second")
        for method in METHODS:
            r = results[f"{method}:{table}"]
            if "rows_per_second" not in r:
                print(f"{method:<22} {table:<10} {r.get('error')}")
                continue
            ratio = f"{r['rows_per_second'] / reference:.2f}" if reference else "-"
            print(f"{method:<22} {table:<10} {r['rows']:>10,} {r['seconds']:>8.2f} "
                  f"{r['rows_per_second']:>11,} {r['peak_rss_mb']:>7.1f} MB {ratio:>9}")
    if args.json:
        write_record(args.json, results, rows=args.rows, page=args.page, repeat=args.repeat)


if __name__ == "__main__":
    main()
