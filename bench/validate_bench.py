"""How `datastorm validate` scales with the number of tables: it must be linear.

    python bench/validate_bench.py [--tables 5000,10000,20000,40000]

For each size, two Genfiles: flat tables (each a key and a number) and a
chain (each table references the one before, written children first, the
worst order for a depth-first walk). Each is validated in a fresh process
(``datastorm validate``) and timed end to end; the figures printed are the
seconds, the microseconds a table, and the ratio of each size's time a
table to the smallest size's (about 1 for a linear validator; it was 10x
at 40,000 tables when a table was looked up by a scan).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SIZES = (5_000, 10_000, 20_000, 40_000)


def flat(n: int) -> str:
    return "".join(f'[t{i}]\nrecords = 10\n[t{i}.id]\ntype = "sequence"\n'
                   f'[t{i}.x]\ntype = "int"\n' for i in range(n))


def chain(n: int) -> str:
    parts = []
    for i in reversed(range(n)):
        parts.append(f'[t{i}]\nrecords = 10\n[t{i}.id]\ntype = "sequence"\n')
        if i:
            parts.append(f'[t{i}.parent]\ntype = "reference"\nref = "t{i - 1}.id"\n')
    return "".join(parts)


def timed(text: str, directory: Path) -> float:
    path = directory / "Genfile.toml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "datastorm_core.cli", "validate", str(path)],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"validate failed: {done.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated table counts")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.tables.split(",")]
    with tempfile.TemporaryDirectory() as directory:
        for shape, make in (("flat", flat), ("chain", chain)):
            base = None
            for n in sizes:
                seconds = timed(make(n), Path(directory))
                per_table = seconds / n * 1e6
                base = base or per_table
                print(f"{shape:5} {n:>7,} tables: {seconds:7.2f} s, {per_table:7.1f} us a "
                      f"table, {per_table / base:4.2f}x the smallest size's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
