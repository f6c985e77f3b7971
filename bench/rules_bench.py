"""The cost of the rules: the bank example with its rules against the same Genfile
without them, generated in the same run (issue 15 asks for at least 0.7x).

    python bench/rules_bench.py [--scale 1] [--repeat 5] [--json out.json]

``examples/bank.toml`` (the rules: after, per_parent = "loan_id.months",
ordinal, expr, cases, total) against ``bench/bank_norules.toml`` (the bank
example as it was before them, `git show 6b0541a:examples/bank.toml`), both
to ``null:`` (every table, the Kafka events too): generation alone, the
part the rules change. ``--scale`` multiplies every explicit row count. Each
Genfile runs in a process of its own, so its peak RSS is its own; rounds
alternate which goes first, so a slow spell of a shared machine falls on
both. Prints each one's median rows/s (rows written over the run's own
seconds, from loading the Genfile to the last row), its rows per second of
the CPU time it used (steadier than the wall clock on a busy machine), its
peak RSS, the ratios of the medians and each round's ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GENFILES = {"rules": HERE.parent / "examples" / "bank.toml",
            "no-rules": HERE / "bank_norules.toml"}
REQUIRED = 0.7  # the rules' rows/s over the plain Genfile's, at least

# One method in a child process: loads, sizes and runs the Genfile, then prints its rows,
# seconds and its own peak RSS (RUSAGE_SELF) as JSON.
CHILD = """\
import json, resource, sys, time
from datastorm_core.loading import loads_genfile
from datastorm_core.run import RunOptions, run
def cpu():
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime
text = sys.stdin.read()
started, cpu_started = time.perf_counter(), cpu()
genfile = loads_genfile(text, environ={})
report = run(genfile, RunOptions(target="null:",
                                 target_for={name: "null:" for name in genfile.targets}))
seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
print(json.dumps({"rows": report.stats.rows, "seconds": seconds, "cpu_seconds": cpu_seconds,
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def scaled(text: str, scale: float) -> str:
    """``text`` with every explicit row count times ``scale`` (at least 10)."""
    return re.sub(r"^records = (\d+)$",
                  lambda m: f"records = {max(10, round(int(m.group(1)) * scale))}", text,
                  flags=re.M)


def measure(method: str, scale: float) -> dict[str, Any]:
    text = scaled(GENFILES[method].read_text(encoding="utf-8"), scale)
    done = subprocess.run([sys.executable, "-c", CHILD], input=text, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{method}: exit {done.returncode}: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"rows": result["rows"], "seconds": result["seconds"],
            "rows_per_second": result["rows"] / result["seconds"],
            "rows_per_cpu_second": result["rows"] / result["cpu_seconds"],
            "peak_rss_mb": result["peak_rss_kb"] / 1024}


def summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each method's median rows/s (of the wall clock, and of the CPU time it used) and
    largest peak RSS, the ratios of the medians and each round's ratio."""
    def median(method: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[method])

    rounds = [a["rows_per_second"] / b["rows_per_second"]
              for a, b in zip(runs["rules"], runs["no-rules"], strict=True)]
    return {
        "methods": {m: {"rows": done[0]["rows"],
                        "rows_per_second": round(median(m, "rows_per_second")),
                        "rows_per_cpu_second": round(median(m, "rows_per_cpu_second")),
                        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in done), 1),
                        "rounds_rows_per_second": [round(r["rows_per_second"]) for r in done]}
                    for m, done in runs.items()},
        "ratio": median("rules", "rows_per_second") / median("no-rules", "rows_per_second"),
        "cpu_ratio": (median("rules", "rows_per_cpu_second")
                      / median("no-rules", "rows_per_cpu_second")),
        "round_ratios": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every row count (1: the example's 422k rows)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.repeat < 1:
        parser.error("--scale must be > 0 and --repeat at least 1")
    runs: dict[str, list[dict[str, Any]]] = {"rules": [], "no-rules": []}
    for number in range(args.repeat):
        order = ["rules", "no-rules"] if number % 2 == 0 else ["no-rules", "rules"]
        for method in order:
            print(f"round {number + 1}: {method} ...", file=sys.stderr, flush=True)
            runs[method].append(measure(method, args.scale))
    found = summary(runs)
    print(f"\n{'genfile':<10} {'rows':>10} {'rows/s':>11} {'rows/CPU-s':>11} {'peak RSS':>9}  "
          "rows/s of each round")
    for method, figures in found["methods"].items():
        each = ", ".join(f"{v:,}" for v in figures["rounds_rows_per_second"])
        print(f"{method:<10} {figures['rows']:>10,} {figures['rows_per_second']:>11,} "
              f"{figures['rows_per_cpu_second']:>11,} {figures['peak_rss_mb']:>7.1f}MB  {each}")
    verdict = "at least" if found["ratio"] >= REQUIRED else "BELOW"
    print(f"\nrules / no-rules: {found['ratio']:.2f}x in rows/s ({verdict} the {REQUIRED}x "
          f"required), {found['cpu_ratio']:.2f}x in rows per CPU second; each round: "
          f"{', '.join(f'{r:.2f}' for r in found['round_ratios'])}")
    if args.json:
        record = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"),
                  "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                           capture_output=True, text=True).stdout.strip(),
                  "scale": args.scale, "repeat": args.repeat, **found}
        Path(args.json).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
