"""The four throughput paths against their limits, in one command.

    python bench/throughput.py [--rows 1000000] [--stream-seconds 10] [--events 1000000]
        [--rounds 3] [--json bench/results-throughput.json]

Runs the benchmark of each path, each in its own processes with rounds
alternating between datastorm and its limit (see bench/README.md), and
prints one table of the ratios:

- **load**: ``datastorm run`` of the bank Genfile (``--rows`` customers, twice
  as many accounts) into a fresh PostgreSQL database, against ``pg_restore
  -j 2`` of a ``pg_dump`` of the very same rows and keys (``bench.py``),
  both timed as commands from start to exit;
- **generation**: the same run into ``null:`` by the command's wall time, one
  worker and two, against the 3 million rows/s asked (``bench.py``);
- **change stream**: ``datastorm stream`` with the mix insert=50,update=35,
  delete=15 and one event per transaction, against ``pgbench -N -c 1``
  (``stream_bench.py``);
- **Kafka**: ``datastorm run`` of a million events end to end against a bare
  confluent-kafka process sending the same messages with the same producer
  settings (``kafka_bench.py``).

Exit status 0 when every benchmark ran, whatever the ratios (a ratio under
its target is a finding, not an error).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOAD_METHODS = ("datastorm-cli-generate", "datastorm-cli-generate-2-workers",
                "datastorm-cli-postgres", "pg-restore-j2")
OTHER_METHODS = ("datastorm-generate", "datastorm-postgres", "datastorm-postgres-1-session",
                 "copy-binary-ceiling", "copy-binary-parallel-ceiling", "faker-executemany",
                 "snowfakery-csv")


def _run(script: str, *args: str, out: Path) -> dict[str, Any]:
    command = [sys.executable, str(HERE / script), *args, "--json", str(out)]
    print(f"$ {' '.join(command[1:])}", file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=sys.stderr, check=False)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"{script} failed (exit {done.returncode})")
    found: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="customers (accounts: 2x)")
    parser.add_argument("--stream-seconds", type=float, default=10.0)
    parser.add_argument("--events", type=int, default=1_000_000, help="Kafka events")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rounds = str(args.rounds)
    with tempfile.TemporaryDirectory(prefix="ds-throughput-") as tmp:
        work = Path(tmp)
        load = _run("bench.py", "--rows", str(args.rows), "--repeat", rounds,
                    "--skip", ",".join(OTHER_METHODS), out=work / "load.json")["results"]
        stream = _run("stream_bench.py", "--seconds", str(args.stream_seconds),
                      "--rounds", rounds, out=work / "stream.json")["results"]
        kafka = _run("kafka_bench.py", "--events", str(args.events), "--repeat", rounds,
                     "--end-to-end-only", out=work / "kafka.json")["results"]

    rows = 3 * args.rows
    ours_load, restore = load["datastorm-cli-postgres"], load["pg-restore-j2"]
    generated = load["datastorm-cli-generate"]["rows_per_second"]
    two = load["datastorm-cli-generate-2-workers"]["rows_per_second"]
    table = [
        ("load into PostgreSQL", f"{ours_load['rows_per_second']:,} rows/s",
         f"pg_restore -j 2: {restore['rows_per_second']:,} rows/s",
         restore["seconds"] / ours_load["seconds"], 1.0),
        ("generation (null:)", f"{generated:,} rows/s ({two:,} with 2 workers)",
         "3,000,000 rows/s asked", generated / 3_000_000, 1.0),
        ("change stream, 1 event/transaction", f"{stream['datastorm-stream']['per_second']:,.0f}"
         " events/s", f"pgbench -N -c 1: {stream['pgbench']['per_second']:,.0f} tps",
         stream["datastorm-stream"]["per_second"] / stream["pgbench"]["per_second"], 1.0),
        ("Kafka, end to end", f"{kafka['datastorm-cli']['events_per_second']:,} events/s",
         f"bare client: {kafka['bare-client-cli']['events_per_second']:,} events/s",
         kafka["datastorm-cli"]["events_per_second"]
         / kafka["bare-client-cli"]["events_per_second"], 0.9),
    ]
    print(f"\n{rows:,} rows for the load and generation; medians of {args.rounds} rounds\n")
    print("| path | datastorm | limit | ratio | asked |\n|---|---|---|---:|---:|")
    for path, ours, limit, ratio, asked in table:
        print(f"| {path} | {ours} | {limit} | {ratio:.2f}x | {asked:.1f}x |")
    print(f"\npeak RSS: load {ours_load['peak_rss_mb']} MB, generation "
          f"{load['datastorm-cli-generate']['peak_rss_mb']} MB, stream "
          f"{stream['datastorm-stream']['peak_rss_mb']} MB, Kafka "
          f"{kafka['datastorm-cli']['peak_rss_mb']} MB")
    stream_10 = stream.get("datastorm-stream-10")
    if stream_10:
        print(f"change stream with --events-per-transaction 10: "
              f"{stream_10['per_second']:,.0f} events/s "
              f"({stream_10['per_second'] / stream['pgbench']['per_second']:.2f}x pgbench)")
    if args.json:
        args.json.write_text(json.dumps({"load": load, "stream": stream, "kafka": kafka,
                                         "ratios": {p: round(r, 3) for p, _, _, r, _ in table}},
                                        indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
