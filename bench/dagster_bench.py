"""Dagster's "materialize all" against ``datastorm run`` of the same Genfile.

    python bench/dagster_bench.py [--genfile examples/hospital.toml] [--repeat 3]
        [--url URL] [--json out.json] [--keep] [--with-multiprocess]

Every Genfile table is a Dagster asset (``datastorm_dagster``); materializing
them all writes the same rows ``datastorm run`` writes, one asset (one
transaction) at a time, plus what Dagster adds: loading the code location,
an instance and its event log, a step per table, the asset checks. This
measures what that costs. Each method runs as a process of its own, timed
end to end (wall time, and peak RSS and CPU from ``os.wait4``), into a
fresh database of the server ``--url`` names:

- ``datastorm-run``: ``datastorm run GENFILE --target URL --quiet``.
- ``dagster-materialize-all``: ``dagster asset materialize --select '*' -m
  datastorm_dagster.definitions`` with ``DATASTORM_GENFILE`` and
  ``DATASTORM_TARGET`` set and ``DAGSTER_HOME`` a fresh directory holding a
  copy of the repository's ``dagster.yaml`` (local storage). The run
  executes in that process with the Definitions' executor (in-process): the
  same work the UI's "Materialize all" launches, less the webserver.
- ``dagster-materialize-all-multiprocess`` (``--with-multiprocess``): the
  same with Dagster's multiprocess executor, one process per step, as
  Dagster's default executor ran it before the Definitions set the
  in-process one. ``dagster asset materialize`` cannot switch an executor
  the Definitions fix (run config ``execution: {config: {multiprocess: {}}}``
  is refused as invalid config for ``in_process_executor``), so a generated
  module (``-f``, in the run's ``DAGSTER_HOME``) rebuilds the very same
  Definitions with ``executor=multiprocess_executor``. Its peak RSS is the
  largest of its processes (``wait4`` reports the maximum over the process
  and the children it reaped, not their sum); its CPU is their sum.

Every other ``DAGSTER_*`` and ``DATASTORM_*`` variable is removed from the
methods' environment. After each method the tables are read back: the row
count of every table, which must be the Genfile's, and an md5 of all its
rows (``md5(string_agg(t::text, '|' ORDER BY t::text))``), which must be
the first ``datastorm-run``'s (same Genfile, same seed: the same rows).
Dagster's output gives the asset check evaluations (passed, did not pass)
and the seconds its steps took (the rest of its time is starting up).
The Genfile should write every table to its one ``[target]``, unpartitioned.

``--repeat N`` runs N rounds, the methods' order rotating from round to
round so that a slow spell of a shared machine spreads over all, each after
a ``CHECKPOINT``; the median round of each method is reported, and every
round goes to ``--json``. The databases (``ds_bench_dagster_<hex>_...``)
are dropped after they are checked unless ``--keep``.

The bound the Dagster layer is held to: ``dagster-materialize-all`` seconds
<= 3 x ``datastorm-run`` seconds + 10 s (medians). Being outside it is a
finding, not an error: the exit status is 0 either way, 1 when a command
failed or a method's tables were not datastorm-run's.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from measure import timed  # noqa: E402

from bench import median_run, write_record  # noqa: E402  (bench/ is not a package)

DEFAULT_GENFILE = ROOT / "examples" / "hospital.toml"
DEFAULT_URL = os.environ.get("DATASTORM_BENCH_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DAGSTER_YAML = ROOT / "dagster.yaml"
RUN = "datastorm-run"
DAGSTER = "dagster-materialize-all"
MULTIPROCESS = "dagster-materialize-all-multiprocess"
# Short names in the databases' names.
SHORT = {RUN: "run", DAGSTER: "dagster", MULTIPROCESS: "dagster_mp"}
# The bound: Dagster's "materialize all" within 3x the CLI plus 10 s.
BOUND_FACTOR, BOUND_SECONDS = 3.0, 10.0

# The Definitions of datastorm_dagster.definitions with the multiprocess executor. The
# source is imported as a module: Dagster refuses a file with two Definitions in scope.
MULTIPROCESS_MODULE = '''\
"""datastorm_dagster.definitions with the multiprocess executor (dagster_bench.py)."""
import dagster as dg

import datastorm_dagster.definitions as source


def _with_multiprocess_executor(defs: dg.Definitions) -> dg.Definitions:
    return dg.Definitions(
        assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
        schedules=defs.schedules, sensors=defs.sensors, resources=defs.resources,
        loggers=defs.loggers, metadata=defs.metadata, executor=dg.multiprocess_executor)


defs = _with_multiprocess_executor(source.defs)
'''

# Dagster's event lines: one per asset check evaluation, and the steps' total.
_CHECK = re.compile(r"ASSET_CHECK_EVALUATION - Asset check '([^']*)' on '([^']*)' "
                    r"(passed|did not pass)")
_STEPS = re.compile(r"Finished steps in process \(pid: \d+\) in ([\d.hms]+)"
                    r"|Multiprocess executor: parent process exiting after ([\d.hms]+)")
# Dagster's durations: 975ms, 2.75s, 4m52s, 1h4m.
_DURATION_PART = re.compile(r"([\d.]+)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


# -- helpers ------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_tables(genfile: Path) -> dict[str, int]:
    """The tables the Genfile writes (their names in the database) and their row counts."""
    from datastorm_core.genfile import load_genfile

    parsed = load_genfile(genfile, target_overridden=True, named_overridden=True)
    routed = [t.name for t in parsed.tables if t.target is not None and not t.existing]
    if routed:
        raise SystemExit(f"{genfile}: tables {routed} go to named targets; this benchmark "
                         "loads one PostgreSQL database")
    return {t.stored_name: t.records for t in parsed.tables if not t.existing}


def database_url(server_url: str, name: str) -> str:
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def create_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def checkpoint(server_url: str) -> None:
    """Write out the last method's dirty pages now, not during the next timed one."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn, contextlib.suppress(
            psycopg.errors.InsufficientPrivilege):
        conn.execute("CHECKPOINT")


def table_state(url: str, tables: list[str]) -> dict[str, dict[str, Any]]:
    """Each table's row count and an md5 of all its rows (in the order of their text)."""
    import psycopg
    from psycopg import sql

    state: dict[str, dict[str, Any]] = {}
    with psycopg.connect(url) as conn:
        for table in tables:
            rows, digest = conn.execute(sql.SQL(
                "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t"
            ).format(sql.Identifier(table))).fetchone()
            state[table] = {"rows": rows, "md5": digest}
    return state


def working_tree() -> dict[str, Any]:
    """The commit and the uncommitted edits of datastorm's code now (others edit this tree,
    and write_record reads the commit only at the end)."""
    def git(*args: str) -> str:
        # --no-optional-locks: never take the index lock a concurrent git command needs.
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT,
                              capture_output=True, text=True).stdout

    code = ("datastorm_core", "datastorm_dagster")
    diff = git("diff", "HEAD", "--", *code)
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "modified": git("status", "--porcelain", "--", *code).splitlines(),
            "diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None}


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without DAGSTER_* and DATASTORM_*, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DAGSTER_", "DATASTORM_"))}
    env.update(extra)
    return env


def venv_tool(name: str) -> str:
    """A console script of this interpreter's environment (.venv/bin/NAME), else PATH's."""
    beside = Path(sys.executable).with_name(name)
    if os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is neither beside {sys.executable} nor on PATH")
    return found



def last_error(done: dict[str, Any]) -> str:
    """The line that says why a command failed: its last error line, else its last line."""
    lines = (done["stderr"] + done["stdout"]).strip().splitlines()
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["?"])[-1][:500]


# -- one method, once -------------------------------------------------------------


def run_method(method: str, genfile: Path, url: str) -> dict[str, Any]:
    """Time one method into the (empty) database at ``url``."""
    if method == RUN:
        command = [venv_tool("datastorm"), "run", str(genfile), "--target", url, "--quiet"]
        return _outcome(timed(command, clean_environment()), command)
    with tempfile.TemporaryDirectory(prefix="ds_bench_dagster_home_") as home:
        shutil.copy(DAGSTER_YAML, Path(home) / "dagster.yaml")
        if method == MULTIPROCESS:
            module = Path(home) / "multiprocess_definitions.py"
            module.write_text(MULTIPROCESS_MODULE, encoding="utf-8")
            location = ["-f", str(module)]
        else:
            location = ["-m", "datastorm_dagster.definitions"]
        command = [venv_tool("dagster"), "asset", "materialize", "--select", "*", *location]
        env = clean_environment(DAGSTER_HOME=home, DATASTORM_GENFILE=str(genfile),
                                DATASTORM_TARGET=url)
        done = timed(command, env)
    result = _outcome(done, command)
    output = done["stdout"] + done["stderr"]
    outcomes = [found[2] for found in _CHECK.findall(output)]
    result["checks_passed"] = outcomes.count("passed")
    result["checks_failed"] = outcomes.count("did not pass")
    steps = _STEPS.search(output)
    if steps:
        result["steps_seconds"] = dagster_duration(steps.group(1) or steps.group(2))
    return result


def dagster_duration(text: str) -> float:
    """Seconds of a duration as Dagster prints it (``975ms``, ``2.75s``, ``4m52s``)."""
    return round(sum(float(number) * _UNIT_SECONDS[unit]
                     for number, unit in _DURATION_PART.findall(text)), 3)


def _outcome(done: dict[str, Any], command: list[str]) -> dict[str, Any]:
    if done["exit"]:
        return {"error": f"exit {done['exit']}: {last_error(done)}", "command": command}
    return {key: done[key] for key in ("seconds", "peak_rss_mb", "cpu_seconds")}


# -- the driver -------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genfile", type=Path, default=DEFAULT_GENFILE,
                        help="the Genfile both methods write (default examples/hospital.toml)")
    parser.add_argument("--url", "--database-url", default=DEFAULT_URL,
                        help="a PostgreSQL server where fresh databases can be created "
                             "(default $DATASTORM_BENCH_URL or the local postgres)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of every method; each keeps its median (default 3)")
    parser.add_argument("--json", help="also write the figures and every round to this file")
    parser.add_argument("--keep", action="store_true",
                        help="keep the databases (their names are printed)")
    parser.add_argument("--with-multiprocess", action="store_true",
                        help=f"also time {MULTIPROCESS} (a process per step)")
    args = parser.parse_args()
    genfile = args.genfile.resolve()
    if not genfile.is_file():
        raise SystemExit(f"no Genfile at {genfile}")
    methods = [RUN, DAGSTER] + ([MULTIPROCESS] if args.with_multiprocess else [])
    tables = load_tables(genfile)
    token = uuid.uuid4().hex[:8]
    created: list[str] = []
    try:
        code = _measure(args, genfile, methods, tables, token, created)
    finally:
        if args.keep:
            print("kept databases: " + ", ".join(created))
        else:
            for name in created:
                drop_database(args.url, name)
    sys.exit(code)


def _measure(args: argparse.Namespace, genfile: Path, methods: list[str],
             tables: dict[str, int], token: str, created: list[str]) -> int:
    total_rows = sum(tables.values())
    tree_at_start = working_tree()
    print(f"{genfile.name}: {len(tables)} tables, {total_rows:,} rows ("
          + ", ".join(f"{t} {n:,}" for t, n in tables.items()) + ")")
    rounds: list[dict[str, Any]] = []
    for number in range(1, max(1, args.repeat) + 1):
        # Rotate the order: over len(methods) rounds each method runs once in each place.
        turn = (number - 1) % len(methods)
        for method in methods[turn:] + methods[:turn]:
            name = f"ds_bench_dagster_{token}_{number}_{SHORT[method]}"
            url = create_database(args.url, name)
            created.append(name)
            checkpoint(args.url)
            log(f"round {number}: {method} into {name} ...")
            result: dict[str, Any] = {"round": number, "method": method, "database": name,
                                      **run_method(method, genfile, url)}
            if "error" not in result:
                state = table_state(url, list(tables))
                result["rows"] = sum(s["rows"] for s in state.values())
                result["rows_per_second"] = round(result["rows"] / result["seconds"])
                result["rows_as_genfile"] = all(state[t]["rows"] == n for t, n in tables.items())
                result["state"] = state
            else:
                log(f"  {method} failed: {result['error']}")
            if not args.keep:
                drop_database(args.url, name)
                created.remove(name)
            rounds.append(result)

    # Every run's tables against the first datastorm-run's (the same runs included:
    # datastorm's rows are the same from run to run).
    reference = first_run_tables(rounds)
    errors = 0
    for result in rounds:
        if "state" not in result:
            errors += 1
            continue
        result["same_tables_as_datastorm_run"] = result["state"] == reference
        if not (result["rows_as_genfile"] and result["same_tables_as_datastorm_run"]):
            errors += 1
    results = {m: median_run([r for r in rounds if r["method"] == m], key="seconds")
               for m in methods}
    bound = _report(results, total_rows, rounds)
    if args.json:
        write_record(args.json, results, genfile=str(genfile.relative_to(ROOT)
                                                     if genfile.is_relative_to(ROOT)
                                                     else genfile),
                     repeat=args.repeat, tables=tables, total_rows=total_rows,
                     reference=reference, bound=bound, tree_at_start=tree_at_start,
                     tree_at_end=working_tree(), rounds=rounds)
        print(f"every round: {args.json}")
    if errors:
        print(f"{errors} run(s) failed or did not write datastorm-run's rows (see above"
              + (" and the JSON)" if args.json else ")"))
        return 1
    return 0


def _report(results: dict[str, dict[str, Any]], total_rows: int,
            rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The table of medians, the check of the tables, the bound line; the bound's figures."""
    ours = results[RUN].get("seconds")
    print(f"\n{'method':<37} {'seconds':>8} {'rows':>9} {'rows/s':>9} {'peak RSS':>9} "
          f"{'CPU':>7} {'x run':>6} {'steps':>7} {'checks':>9}  seconds of each round")
    for method, r in results.items():
        if "seconds" not in r:
            print(f"{method:<37} {r.get('error')}")
            continue
        ratio = f"{r['seconds'] / ours:.2f}" if ours else "-"
        steps = f"{r['steps_seconds']:.2f}s" if "steps_seconds" in r else "-"
        checks = (f"{r['checks_passed']}/{r['checks_passed'] + r['checks_failed']}"
                  if "checks_passed" in r else "-")
        each = ", ".join(f"{s:.2f}" for s in r["runs_seconds"])
        print(f"{method:<37} {r['seconds']:>8.2f} {r['rows']:>9,} {r['rows_per_second']:>9,} "
              f"{r['peak_rss_mb']:>7.1f}MB {r['cpu_seconds']:>6.1f}s {ratio:>6} {steps:>7} "
              f"{checks:>9}  {each}")
    print("x run: seconds / datastorm-run's; steps: Dagster's own time running the steps (the "
          "rest is starting up);\nchecks: asset check evaluations passed / run. CPU includes "
          "the children the process reaped; peak RSS is the largest process's.")

    reference = first_run_tables(rounds)
    for r in rounds:
        if "state" not in r:
            print(f"round {r['round']}, {r['method']}: FAILED: {r['error']}")
        elif not r["rows_as_genfile"]:
            print(f"round {r['round']}, {r['method']}: MISMATCH: row counts "
                  f"{ {t: s['rows'] for t, s in r['state'].items()} } are not the Genfile's")
        elif reference is None:
            print(f"round {r['round']}, {r['method']}: no datastorm-run tables to compare with")
        elif not r["same_tables_as_datastorm_run"]:
            differ = [t for t, s in r["state"].items() if s != reference.get(t)]
            print(f"round {r['round']}, {r['method']}: MISMATCH: tables {differ} differ "
                  "from datastorm-run's")
        elif r.get("checks_failed"):
            print(f"round {r['round']}, {r['method']}: warning: {r['checks_failed']} asset "
                  "check(s) did not pass")
    checked = [r for r in rounds if "state" in r]
    if checked and all(r["rows_as_genfile"] and r["same_tables_as_datastorm_run"]
                       for r in checked):
        runs = "every run" if len(checked) == len(rounds) else "every run that finished"
        print(f"tables: {runs} wrote the Genfile's row counts ({total_rows:,} rows) and "
              "the same rows as datastorm-run (md5 of every table)")

    dagster = results.get(DAGSTER, {}).get("seconds")
    if ours is None or dagster is None:
        print("bound: not measured (a method failed)")
        return None
    limit = BOUND_FACTOR * ours + BOUND_SECONDS
    within = dagster <= limit
    print(f"\nbound: {DAGSTER} {dagster:.2f} s <= {BOUND_FACTOR:g} x {RUN} {ours:.2f} s + "
          f"{BOUND_SECONDS:g} s = {limit:.2f} s: "
          + ("within bound" if within else "OUTSIDE bound")
          + f" ({dagster / ours:.2f}x {RUN})")
    multiprocess = results.get(MULTIPROCESS, {}).get("seconds")
    if multiprocess is not None:
        print(f"(for comparison, {MULTIPROCESS} {multiprocess:.2f} s, "
              f"{multiprocess / ours:.2f}x {RUN}: "
              + ("within" if multiprocess <= limit else "outside") + " the same bound)")
    return {"dagster_seconds": dagster, "datastorm_run_seconds": ours, "limit_seconds": limit,
            "within": within}


def first_run_tables(rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first datastorm-run's tables: the reference of every comparison."""
    return next((r["state"] for r in rounds if r["method"] == RUN and "state" in r), None)


if __name__ == "__main__":
    main()
