"""Rows/s of each locale's place and phone types beside their pt_BR counterparts.

    .venv/bin/python bench/locale_bench.py [--rows 200000] [--repeat 3] [--json PATH]

For every locale of ``services.world`` and every type (state, a city that
follows the state, a postcode that follows it, an address, a mobile and a
fixed-line phone), the same one-table Genfile is generated in this
process, ``--rows`` rows in chunks of ``CHUNK``, after one warm-up chunk
that loads the data (its seconds are printed apart, as ``load s``). The
ratio is the locale's rows/s over pt_BR's for the same type (pt_BR's
postcode is its CEP; its fixed line goes through libphonenumber as every
other country's; its address is a street line, so ``street`` (the street
line alone, ``parts = "street"``) is the like-for-like comparison, and
``address`` the whole address against that street line). Rounds are
interleaved and each figure is the median.

The last lines time ``datastorm validate`` of a Genfile with every type,
in pt_BR and in en_US, each in its own process (bench/measure.py): the
start-up cost of loading the places of a country.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from measure import timed  # bench/ is on the path when this script runs

from datastorm_core import run
from datastorm_core.genfile import loads_genfile

LOCALES = ("pt_BR", "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "es_MX", "it_IT", "pt_PT",
           "ja_JP")
# Each type's fields: the measured field last, after the state it follows.
TYPES = {
    "state": '[t.x]\ntype = "state"\n',
    "city": '[t.s]\ntype = "state"\n[t.x]\ntype = "city"\nstate = "s"\n',
    "postcode": '[t.s]\ntype = "state"\n[t.x]\ntype = "{postcode}"\nstate = "s"\n',
    "address": '[t.x]\ntype = "address"\n',
    "street": '[t.x]\ntype = "address"\nparts = "street"\n',
    "phone": '[t.x]\ntype = "phone"\n',
    "phone_fixed": '[t.x]\ntype = "phone"\nline = "fixed"\nformat = "national"\n',
}
CHUNK = 50_000


def genfile(locale: str, kind: str, rows: int) -> str:
    fields = TYPES[kind].replace("{postcode}", "cep" if locale == "pt_BR" else "postcode")
    return f'[dataset]\nseed = 1\nlocale = "{locale}"\n[t]\nrecords = {rows}\n{fields}'


def measure(locale: str, kind: str, rows: int) -> tuple[float, float]:
    """Seconds to compile and make the first chunk (data loading), and rows/s after it."""
    started = time.perf_counter()
    source = run.check(loads_genfile(genfile(locale, kind, rows + CHUNK), environ={}))
    source.chunk("t", 0, CHUNK)
    load = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(CHUNK, CHUNK + rows, CHUNK):
        source.chunk("t", start, min(start + CHUNK, CHUNK + rows))
    return load, rows / (time.perf_counter() - started)


def validate_seconds() -> dict[str, float]:
    every = "".join(TYPES[k].replace("[t.x]", f"[t.{k}]").replace("[t.s]", f"[t.s_{k}]")
                    .replace('state = "s"', f'state = "s_{k}"') for k in TYPES)
    found = {}
    for locale in ("pt_BR", "en_US"):
        text = every.replace("{postcode}", "cep" if locale == "pt_BR" else "postcode")
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(f'[dataset]\nlocale = "{locale}"\n[t]\nrecords = 10\n{text}')
        result = timed([sys.executable, "-m", "datastorm_core.cli", "validate", f.name])
        assert result["exit"] == 0, result["stderr"]
        found[locale] = result["seconds"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rounds: dict[tuple[str, str], list[float]] = {}
    loads: dict[tuple[str, str], float] = {}
    for _ in range(args.repeat):
        for kind in TYPES:
            for locale in LOCALES:
                load, speed = measure(locale, kind, args.rows)
                rounds.setdefault((locale, kind), []).append(speed)
                loads.setdefault((locale, kind), load)  # the first: data not yet cached
    print(f"{'type':<12} {'locale':<6} {'rows/s':>12} {'÷ pt_BR':>8} {'load s':>7}")
    results = []
    for kind in TYPES:
        reference = statistics.median(rounds[("pt_BR", kind)])
        for locale in LOCALES:
            speed = statistics.median(rounds[(locale, kind)])
            ratio = speed / reference
            print(f"{kind:<12} {locale:<6} {speed:>12,.0f} {ratio:>8.2f} "
                  f"{loads[(locale, kind)]:>7.2f}")
            results.append({"type": kind, "locale": locale, "rows_per_s": round(speed),
                            "ratio_to_pt_BR": round(ratio, 3),
                            "first_load_s": round(loads[(locale, kind)], 3),
                            "rounds": [round(r) for r in rounds[(locale, kind)]]})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.1f} MB")
    validate = validate_seconds()
    for locale, seconds in validate.items():
        print(f"datastorm validate, every type, {locale}: {seconds:.2f} s")
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "repeat": args.repeat,
                                         "results": results, "peak_rss_mb": round(peak, 1),
                                         "validate_s": validate}, indent=1) + "\n")


if __name__ == "__main__":
    main()

