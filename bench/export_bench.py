"""``datastorm export`` of a large result to CSV, against ``psql``'s ``\\copy`` of the same query.

    python bench/export_bench.py [--rows 2000000] [--repeat 3] [--url URL] [--json out.json]
                                 [--jsonl] [--keep]

A scratch database gets a table ``report_source`` of ``--rows`` rows (an id,
a text, a numeric, a date, a timestamp, a boolean and a nullable text),
built by ``generate_series`` (untimed). The export's query is a join-free
scan with a parameter: ``SELECT * FROM report_source WHERE id > :after
ORDER BY id`` with ``after = 0``.

Methods, each a subprocess timed end to end (``measure.timed``: wall seconds,
the child's own peak RSS and CPU by wait4), the order alternating from round
to round so that a slow spell of a shared machine spreads over both:

- ``datastorm-csv``: ``datastorm export bench.toml big --param after=0 --out F``:
  COPY (query) TO STDOUT WITH CSV HEADER through psycopg into a temporary
  file renamed into place.
- ``psql-copy``: ``psql -c "\\copy (same query, 0 in place of :after) TO F CSV
  HEADER"``: the same COPY, read by libpq in C. The reference.
- ``datastorm-jsonl`` (``--jsonl``): the same export as JSONL through a
  server-side cursor, for its rows/s and memory; not in the ratio.

The two CSV files are checked equal byte for byte once. Printed: rows/s,
peak RSS and CPU of each method (the median round), and datastorm's rows/s
over psql's, per round and of the medians.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import timed  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MAX_RSS_MB = 100.0  # asked of the CSV export, whatever the size
REQUIRED = 0.9  # datastorm's rows/s over psql's

GENFILE = """\
[dataset]
records = 1

[report_source.id]
type = "sequence"

[exports.big]
sql = "SELECT * FROM report_source WHERE id > :after ORDER BY id"
format = "csv"

[exports.big.params]
after = "int"

[exports.big_jsonl]
sql = "SELECT * FROM report_source WHERE id > :after ORDER BY id"
format = "jsonl"

[exports.big_jsonl.params]
after = "int"
"""
QUERY = "SELECT * FROM report_source WHERE id > 0 ORDER BY id"
TABLE = """
CREATE TABLE report_source AS
SELECT i AS id,
       'customer ' || md5(i::text) AS name,
       round((i % 100000) / 7.0, 2)::numeric(12, 2) AS amount,
       date '2020-01-01' + (i % 2000) AS day,
       timestamp '2020-01-01' + i * interval '1 second' AS at,
       i % 3 = 0 AS flag,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'note, "quoted" ' || (i % 97) END AS note
FROM generate_series(1, %s) AS i;
ALTER TABLE report_source ADD PRIMARY KEY (id);
VACUUM ANALYZE report_source;
"""


def _datastorm(*argv: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from datastorm_core.entry import main; "
            "sys.exit(main())", *argv]


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def measure(method: str, genfile: Path, url: str, folder: Path) -> dict[str, Any]:
    out = folder / f"{method}.out"
    if out.exists():
        out.unlink()
    if method == "datastorm-csv":
        command = _datastorm("export", str(genfile), "big", "--param", "after=0", "--out",
                             str(out), "--target", url, "--statement-timeout", "3600")
    elif method == "datastorm-jsonl":
        command = _datastorm("export", str(genfile), "big_jsonl", "--param", "after=0",
                             "--out", str(out), "--target", url, "--statement-timeout", "3600")
    else:
        command = ["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                   f"\\copy ({QUERY}) TO '{out}' CSV HEADER"]
    result = timed(command, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    if result["exit"] != 0:
        raise SystemExit(f"{method} failed ({result['exit']}): {result['stderr'][-2000:]}")
    result["bytes"] = out.stat().st_size
    return result


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000,
                        help="rows of the result (default 2,000,000; try 10,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--url", default=os.environ.get("DATASTORM_BENCH_URL", DEFAULT_URL),
                        help="a server where a database can be created")
    parser.add_argument("--jsonl", action="store_true", help="also time the JSONL export")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    import psycopg

    name = f"ds_export_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(args.url, name)
    try:
        with tempfile.TemporaryDirectory(prefix="datastorm-export-bench-") as tmp:
            folder = Path(tmp)
            genfile = folder / "bench.toml"
            genfile.write_text(GENFILE, encoding="utf-8")
            print(f"building {args.rows:,} rows ...", file=sys.stderr, flush=True)
            with psycopg.connect(url, autocommit=True) as conn:
                for statement in TABLE.replace("%s", str(int(args.rows))).split(";"):
                    if statement.strip():
                        conn.execute(statement)  # type: ignore[arg-type]
            methods = ["datastorm-csv", "psql-copy"] + (["datastorm-jsonl"] if args.jsonl
                                                        else [])
            runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
            for number in range(args.repeat):
                order = methods if number % 2 == 0 else methods[::-1]
                for method in order:
                    print(f"round {number + 1}: {method} ...", file=sys.stderr, flush=True)
                    runs[method].append(measure(method, genfile, url, folder))
                if number == 0:
                    same = _digest(folder / "datastorm-csv.out") == _digest(
                        folder / "psql-copy.out")
                    print(f"CSV files equal byte for byte: {same}", file=sys.stderr)
                    if not same:
                        raise SystemExit("datastorm's CSV differs from psql's")
    finally:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    found = summary(runs, args.rows)
    print(f"\n{'method':<16} {'rows':>11} {'seconds':>8} {'rows/s':>11} {'peak RSS':>9} "
          f"{'CPU s':>6}  rows/s of each round")
    for method, figures in found["methods"].items():
        each = ", ".join(f"{v:,}" for v in figures["rounds_rows_per_second"])
        print(f"{method:<16} {args.rows:>11,} {figures['seconds']:>8.2f} "
              f"{figures['rows_per_second']:>11,} {figures['peak_rss_mb']:>7.1f}MB "
              f"{figures['cpu_seconds']:>6.2f}  {each}")
    rss = found["methods"]["datastorm-csv"]["max_peak_rss_mb"]
    print(f"\ndatastorm / psql \\copy: {found['ratio']:.2f}x in rows/s "
          f"({'at least' if found['ratio'] >= REQUIRED else 'BELOW'} the {REQUIRED}x asked); "
          f"each round: {', '.join(f'{r:.2f}' for r in found['round_ratios'])}")
    print(f"datastorm CSV peak RSS: {rss:.1f} MB at most over the rounds "
          f"({'under' if rss < MAX_RSS_MB else 'OVER'} the {MAX_RSS_MB:.0f} MB asked)")
    if args.json:
        record = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"),
                  "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                           capture_output=True, text=True).stdout.strip(),
                  "rows": args.rows, "repeat": args.repeat, **found}
        Path(args.json).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


def summary(runs: dict[str, list[dict[str, Any]]], rows: int) -> dict[str, Any]:
    """Each method's median round, and datastorm's rows/s over psql's."""
    methods: dict[str, Any] = {}
    for method, rounds in runs.items():
        median = sorted(rounds, key=lambda r: r["seconds"])[len(rounds) // 2]
        methods[method] = {
            "seconds": round(median["seconds"], 3),
            "rows_per_second": round(rows / median["seconds"]),
            "peak_rss_mb": median["peak_rss_mb"],
            "max_peak_rss_mb": max(r["peak_rss_mb"] for r in rounds),
            "cpu_seconds": median["cpu_seconds"],
            "bytes": median["bytes"],
            "rounds_rows_per_second": [round(rows / r["seconds"]) for r in rounds],
        }
    ours, theirs = runs["datastorm-csv"], runs["psql-copy"]
    round_ratios = [t["seconds"] / o["seconds"] for o, t in zip(ours, theirs, strict=True)]
    return {"methods": methods,
            "ratio": round(methods["psql-copy"]["seconds"]
                           / methods["datastorm-csv"]["seconds"], 3),
            "round_ratios": [round(r, 3) for r in round_ratios],
            "median_round_ratio": round(statistics.median(round_ratios), 3)}


if __name__ == "__main__":
    sys.exit(main())
