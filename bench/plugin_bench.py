"""What a generator of the user's own costs beside a built-in one.

    python bench/plugin_bench.py [--rows 2000000] [--repeat 3]

The example plugin package (examples/plugin) is installed into a temporary
directory with pip, as a user installs it. Then, each in its own process,
``datastorm run ... --target null:`` (generation alone, no database) of one
table of ``--rows`` rows whose one field is:

- ``builtin-string``: the reference, a built-in ``string`` of the IBAN's shape
  (``pattern = "DE9999999999999999999"``: 22 characters, 20 drawn digits);
- ``builtin-string-unique``: the same, unique (datastorm's keyed permutation), the
  reference of ``plugin-iban-unique``;
- ``plugin-iban``: the example's ``Iban`` class (numpy, its check digits
  computed over the chunk), by its entry point;
- ``plugin-iban-unique``: the same with ``unique = true`` (through
  ``from_ordinals`` and datastorm's keyed permutation);
- ``plugin-sku``: the example's ``sku`` function (numpy string operations).

It prints rows/s, peak RSS and the ratio of each method's rows/s to the
reference's, measured in the same run (medians of ``--repeat`` rounds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import ROOT, timed

FIELDS = {
    "builtin-string": 'type = "string"\npattern = "DE9999999999999999999"',
    "builtin-string-unique": 'type = "string"\npattern = "DE9999999999999999999"\n'
                             'unique = true',
    "plugin-iban": 'type = "iban"\ncountry = "DE"',
    "plugin-iban-unique": 'type = "iban"\ncountry = "DE"\nunique = true',
    "plugin-sku": 'type = "sku"\ncategories = ["TOY", "BOOK", "HOME"]\nweights = [5, 3, 1]',
}
REFERENCE = "builtin-string"


def install(directory: Path) -> Path:
    source = directory / "source"
    shutil.copytree(ROOT / "examples" / "plugin", source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = directory / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--no-build-isolation", "--disable-pip-version-check",
                    "--target", str(site), str(source)], check=True)
    return site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        site = install(directory)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
        genfiles = {}
        for method, field in FIELDS.items():
            path = directory / f"{method}.toml"
            path.write_text(f"[dataset]\nseed = 1\n[t]\nrecords = {args.rows}\n[t.x]\n{field}\n",
                            encoding="utf-8")
            genfiles[method] = path
        runs: dict[str, list[dict[str, float]]] = {m: [] for m in FIELDS}
        for _ in range(args.repeat):  # rounds interleaved: a slow spell hits every method
            for method, path in genfiles.items():
                done = timed([sys.executable, "-m", "datastorm_core.cli", "run", str(path),
                              "--target", "null:", "--quiet"], env=env)
                if done["exit"] != 0:
                    raise SystemExit(f"{method} failed: {done['stderr'][-2000:]}")
                runs[method].append(done)
    medians = {m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()}
    reference = args.rows / medians[REFERENCE]
    print(f"{'method':<22} {'rows':>10} {'seconds':>8} {'rows/s':>12} {'peak RSS':>10} "
          f"{'÷ ' + REFERENCE:>18}")
    for method, seconds in medians.items():
        rate = args.rows / seconds
        rss = max(r["peak_rss_mb"] for r in runs[method])
        print(f"{method:<22} {args.rows:>10,} {seconds:>8.2f} {rate:>12,.0f} "
              f"{rss:>8.1f} MB {rate / reference:>18.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
