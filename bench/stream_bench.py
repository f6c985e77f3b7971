"""Events per second of ``datastorm stream`` against ``pgbench -N -c 1``'s transactions per second.

    python bench/stream_bench.py [--seconds 10] [--rounds 3] [--json out.json]

Both run on one connection, as fast as they can, against the same server:

- ``pgbench``: ``pgbench -N -c 1 -T S`` on a scratch database initialised
  with ``pgbench -i -s 1`` (untimed): each transaction is BEGIN, an UPDATE
  of a random account, a SELECT of it, an INSERT into the history, END;
  its ``tps`` excludes the connection.
- ``datastorm-stream``: ``datastorm stream --rate 0 --duration S --mix
  insert=50,update=35,delete=15`` on a scratch database that ``datastorm
  run`` of ``examples/hospital.toml`` loaded (untimed): 196 k rows in seven
  tables, bigint keys, zipf and per-parent references, transitions and a
  cascading delete, so every kind of event and search is in the mix. One
  event per transaction, as a CDC consumer sees it; its events/s (the
  summary's) counts from the first event, after the setup.
- ``datastorm-stream-10``: the same with ``--events-per-transaction 10``.

Rounds alternate the methods (pgbench, stream, stream-10, pgbench, ...), so
a slow spell of a shared machine falls on all of them; each method's median
round is kept, and the ratio is the stream's median events/s over pgbench's
median tps. The stream goes on from its ledger from one round to the next
(the tables change as it runs, as they would under any stream). Every
method runs in its own process: the peak RSS printed is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import ROOT, timed  # noqa: E402

from bench import median_run, write_record  # noqa: E402  (bench/ is not a package)

DEFAULT_URL = os.environ.get("DATASTORM_BENCH_URL",
                             "postgresql://postgres@127.0.0.1:5432/postgres")
GENFILE = ROOT / "examples" / "hospital.toml"
MIX = "insert=50,update=35,delete=15"
METHODS = ("pgbench", "datastorm-stream", "datastorm-stream-10")
_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")


def _pgbench() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        raise SystemExit("pgbench not found (install postgresql-contrib or put it on PATH)")
    return found


def _database(server_url: str, prefix: str) -> str:
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def _drop(server_url: str, url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _checked(result: dict[str, Any], what: str) -> dict[str, Any]:
    if result["exit"] != 0:
        raise SystemExit(f"{what} failed (exit {result['exit']}):\n{result['stderr'][-2000:]}")
    return result


def run_pgbench(url: str, seconds: float) -> dict[str, Any]:
    result = _checked(timed([_pgbench(), "-N", "-c", "1", "-T", str(int(seconds)), "-n", url]),
                      "pgbench")
    match = _TPS.search(result["stdout"])
    if match is None:
        raise SystemExit(f"no tps in pgbench's output:\n{result['stdout']}")
    return {"per_second": round(float(match[1]), 1), "seconds": round(result["seconds"], 2),
            "peak_rss_mb": result["peak_rss_mb"], "cpu_seconds": result["cpu_seconds"]}


def run_stream(url: str, seconds: float, per_transaction: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        command = [sys.executable, "-m", "datastorm_core.cli", "stream", str(GENFILE),
                   "--target", url, "--rate", "0", "--duration", str(seconds), "--mix", MIX,
                   "--events-per-transaction", str(per_transaction), "--quiet",
                   "--summary-json", str(summary)]
        result = _checked(timed(command), "datastorm stream")
        data = json.loads(summary.read_text(encoding="utf-8"))
    return {"per_second": data["events_per_second"], "events": data["events"],
            "seconds": round(result["seconds"], 2), "peak_rss_mb": result["peak_rss_mb"],
            "cpu_seconds": result["cpu_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="a server where databases can be created (DATASTORM_BENCH_URL)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per method and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the figures (every round) to this file")
    args = parser.parse_args()
    if args.seconds < 1 or args.rounds < 1:
        parser.error("--seconds must be >= 1 and --rounds >= 1")

    env_path = str(ROOT)
    os.environ["PYTHONPATH"] = env_path + os.pathsep + os.environ.get("PYTHONPATH", "")
    pg_url = _database(args.database_url, "ds_bench_pgbench")
    stream_url = _database(args.database_url, "ds_bench_stream")
    try:
        _checked(timed([_pgbench(), "-i", "-s", "1", "-q", pg_url]), "pgbench -i")
        _checked(timed([sys.executable, "-m", "datastorm_core.cli", "run", str(GENFILE),
                        "--target", stream_url, "--quiet"]), "datastorm run")
        rounds: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
        for number in range(1, args.rounds + 1):
            rounds["pgbench"].append(run_pgbench(pg_url, args.seconds))
            rounds["datastorm-stream"].append(run_stream(stream_url, args.seconds, 1))
            rounds["datastorm-stream-10"].append(run_stream(stream_url, args.seconds, 10))
            print(f"round {number}: " + ", ".join(
                f"{m} {rounds[m][-1]['per_second']:,.0f}/s" for m in METHODS), flush=True)
    finally:
        _drop(args.database_url, pg_url)
        _drop(args.database_url, stream_url)

    results = {m: median_run(runs, "per_second") for m, runs in rounds.items()}
    reference = results["pgbench"]["per_second"]
    print(f"\n{'method':<22} {'per second':>11} {'peak RSS':>9} {'client CPU':>10} "
          f"{'÷ pgbench':>10}  rounds")
    for method, r in results.items():
        ratio = r["per_second"] / reference if reference else 0.0
        r["ratio_to_pgbench"] = round(ratio, 2)
        every = ", ".join(f"{v:,.0f}" for v in r["runs_per_second"])
        print(f"{method:<22} {r['per_second']:>11,.1f} {r['peak_rss_mb']:>7.1f}MB "
              f"{r['cpu_seconds']:>9.2f}s {ratio:>10.2f}  {every}")
    if args.json:
        write_record(args.json, results, seconds=args.seconds, rounds=args.rounds, mix=MIX,
                     genfile=str(GENFILE.relative_to(ROOT)),
                     load_average=os.getloadavg())


if __name__ == "__main__":
    main()
