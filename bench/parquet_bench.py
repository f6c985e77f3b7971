"""Parquet writing: datastorm's target against pyarrow writing the same in-memory table.

    python bench/parquet_bench.py --rows 1000000 [--repeat 3] [--json out.json]

The table is ``bench/parquet.toml`` (every column kind, NULLs, a UUID, a
decimal(12, 2)). Methods, each in its own process (so its peak RSS is its
own), the rows generated before the clock starts wherever the method is a
writer:

- ``datastorm-parquet-write``: the generated chunks (in memory) through the run's
  ``Runner`` into ``parquet:///``: Arrow conversion of every column, a row group
  per batch, fsync, rename;
- ``pyarrow-write-table``: ``pq.write_table`` of the same rows, already an
  in-memory ``pyarrow.Table`` (made from the same chunks, untimed), then fsync,
  the same codec (snappy);
- ``datastorm-run-parquet``: ``datastorm run --target parquet:///`` end to end,
  generation included;
- ``datastorm-run-null``: ``datastorm run --target null:``, generation alone.

The first two are the comparison the issue asks for (datastorm ÷ pyarrow
rows/s, at least 0.8): both start from rows in memory and end with a durable
file. The last two show what a user sees and that a run's memory stays that
of a few batches, whatever the row count (the writers hold every row).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import timed  # noqa: E402

GENFILE = HERE / "parquet.toml"
METHODS = ("datastorm-parquet-write", "pyarrow-write-table", "datastorm-run-parquet",
           "datastorm-run-null")


def genfile_text(rows: int) -> str:
    return GENFILE.read_text(encoding="utf-8").replace("records = 1000000", f"records = {rows}")


# -- inside a method's own process ---------------------------------------------------

def _chunks(genfile_path: str) -> tuple[Any, list[Any]]:
    """The table's schema and every chunk of it, generated (untimed)."""
    from datastorm_core import load_genfile
    from datastorm_core.run import check
    from datastorm_core.source import Source

    genfile = load_genfile(genfile_path)
    source = check(genfile, Source(genfile))
    producer = source.producer("event", 0, genfile.table("event").records)
    return source.schema("event"), [producer.produce(s) for s in range(producer.chunk_count)]


class _Chunks:
    """A TableProducer over chunks already made."""

    def __init__(self, chunks: list[Any]) -> None:
        self.chunks = chunks

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.chunks)

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    def produce(self, seq: int) -> Any:
        return self.chunks[seq]


def _warm_up(schema: Any, chunk: Any) -> None:
    """What the other method did before its clock: pyarrow imported, and its first
    conversion made (pyarrow imports pandas then), outside the timed write."""
    import datastorm_core.target.parquet  # noqa: F401
    from datastorm_core.core.values.arrow import arrow_batch

    arrow_batch(chunk, schema)


def child(method: str, genfile_path: str, out: Path) -> dict[str, Any]:
    if method == "datastorm-parquet-write":
        from datastorm_core.core.runner import Runner, RunSettings, TableJob
        from datastorm_core.target import open_target

        schema, chunks = _chunks(genfile_path)
        rows = sum(c.rows for c in chunks)
        _warm_up(schema, chunks[0])
        target = open_target(f"parquet:///{out}")
        started, cpu = time.perf_counter(), time.process_time()
        Runner(target, RunSettings(buffer_rows=4 * target.default_batch_size)).run(
            [TableJob(schema, _Chunks(chunks), 0, rows)])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        path = out / "event.parquet"
    elif method == "pyarrow-write-table":
        import pyarrow as pa
        import pyarrow.parquet as pq

        from datastorm_core.core.values.arrow import arrow_batch, arrow_schema

        schema, chunks = _chunks(genfile_path)
        arrow = arrow_schema(schema)
        table = pa.Table.from_batches([arrow_batch(c, schema, arrow) for c in chunks], arrow)
        del chunks
        rows = table.num_rows
        out.mkdir(parents=True, exist_ok=True)
        path = out / "event.parquet"
        started, cpu = time.perf_counter(), time.process_time()
        pq.write_table(table, path, compression="snappy")
        with open(path, "rb") as written:
            os.fsync(written.fileno())
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    else:
        raise SystemExit(f"unknown child method {method!r}")
    return {"seconds": seconds, "cpu_seconds": round(cpu, 3), "rows": rows,
            "file_mb": round(path.stat().st_size / 2**20, 1)}


# -- the parent ----------------------------------------------------------------------

def run_method(method: str, genfile_path: Path, out: Path) -> dict[str, Any]:
    if method.startswith("datastorm-run-"):
        target = f"parquet:///{out}" if method.endswith("parquet") else "null:"
        result = timed([sys.executable, "-c", "import sys; from datastorm_core.entry import "
                        "main; sys.exit(main())", "run", str(genfile_path), "--target",
                        target, "--quiet"], env=dict(os.environ))
        if result["exit"]:
            raise SystemExit(f"{method} failed: {result['stderr'][-2000:]}")
        written = out / "event.parquet"
        return {"seconds": result["seconds"], "peak_rss_mb": result["peak_rss_mb"],
                "cpu_seconds": result["cpu_seconds"],
                "file_mb": round(written.stat().st_size / 2**20, 1) if target != "null:"
                else None}
    result = timed([sys.executable, __file__, "--child", method, "--genfile",
                    str(genfile_path), "--out", str(out)], env=dict(os.environ))
    if result["exit"]:
        raise SystemExit(f"{method} failed: {result['stderr'][-2000:]}")
    inner = json.loads(result["stdout"].strip().splitlines()[-1])
    return {"seconds": inner["seconds"], "peak_rss_mb": result["peak_rss_mb"],
            "cpu_seconds": inner["cpu_seconds"], "file_mb": inner["file_mb"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated methods to skip")
    parser.add_argument("--json", help="write every round there")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--genfile", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.genfile, Path(args.out))))
        return 0

    methods = [m for m in METHODS if m not in args.skip.split(",")]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                            capture_output=True, text=True).stdout.strip()
    # The machine's load beside the figures: on a shared machine the writers' overlap
    # of conversion and writing (a core each) shows only when a core is free.
    load_at_start = os.getloadavg()
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="datastorm-parquet-bench-") as tmp:
        genfile_path = Path(tmp) / "parquet.toml"
        genfile_path.write_text(genfile_text(args.rows), encoding="utf-8")
        for number in range(1, max(1, args.repeat) + 1):
            turn = (number - 1) % len(methods)  # each method in each place, in turn
            for method in methods[turn:] + methods[:turn]:
                out = Path(tmp) / f"{method}-{number}"
                print(f"round {number}: {method} on {args.rows:,} rows ...", file=sys.stderr)
                result = run_method(method, genfile_path, out)
                subprocess.run(["rm", "-rf", str(out)], check=True)
                rounds.append({"round": number, "method": method, "rows": args.rows,
                               "rows_per_second": round(args.rows / result["seconds"]),
                               **result})

    medians = {}
    for method in methods:
        runs = sorted((r for r in rounds if r["method"] == method),
                      key=lambda r: r["rows_per_second"])
        medians[method] = runs[len(runs) // 2]
    reference = medians.get("pyarrow-write-table")
    load = [round(x, 1) for x in (*load_at_start, *os.getloadavg())]
    print(f"\n{args.rows:,} rows of bench/parquet.toml, medians of {args.repeat} round(s); "
          f"load average {load[0]} at the start, {load[3]} at the end, {os.cpu_count()} "
          "cores\n")
    print("| method | seconds | rows/s | CPU s | peak RSS | file | rows/s ÷ pyarrow's | "
          "CPU ÷ pyarrow's | rows/s of each round |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for method, best in medians.items():
        ratio = (f"{best['rows_per_second'] / reference['rows_per_second']:.2f}"
                 if reference else "-")
        cpu_ratio = (f"{best['cpu_seconds'] / reference['cpu_seconds']:.2f}"
                     if reference and reference["cpu_seconds"] else "-")
        each = ", ".join(f"{r['rows_per_second']:,}" for r in rounds if r["method"] == method)
        file_mb = f"{best['file_mb']} MB" if best.get("file_mb") is not None else "-"
        print(f"| {method} | {best['seconds']:.2f} | {best['rows_per_second']:,} | "
              f"{best['cpu_seconds']} | {best['peak_rss_mb']} MB | {file_mb} | {ratio} | "
              f"{cpu_ratio} | {each} |")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "rows": args.rows, "repeat": args.repeat, "medians": medians, "rounds": rounds,
            "commit": commit, "load_average": {"start": load[:3], "end": load[3:]},
            "cores": os.cpu_count(),
            "spread": {m: round(statistics.pstdev(
                [r["rows_per_second"] for r in rounds if r["method"] == m]))
                for m in methods}}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
