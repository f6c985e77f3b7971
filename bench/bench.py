"""Benchmark datastorm against the references that matter, in one run.

    python bench/bench.py --rows 1000000 [--database-url URL] [--json out.json]

Every method runs in its own process, so its peak RSS is its own, on the
bank schema of ``bench/bank.toml``: N customers and 2N accounts. Methods:

- ``datastorm -> postgres``: ``datastorm run`` into a fresh database (a staged
  load on two COPY sessions, the default), and the same on one session.
- ``datastorm generate only``: the same run into ``null:`` (the generator's ceiling).
- ``faker + executemany``: Faker pt_BR row by row, psycopg ``executemany``
  (the naive loader most teams start with), on ``--naive-rows`` customers.
- ``COPY binary ceiling``: the same rows, pre-encoded by PostgreSQL itself
  (COPY TO binary, untimed), loaded back with COPY binary and keys added
  after the load: what the server can ingest on one connection.
- ``COPY binary parallel ceiling``: the same bytes in halves on two
  connections, the customer keys built while the accounts load: a bound
  on any loader of this server with the same keys.
- ``snowfakery``: an equivalent recipe to CSV, when Snowfakery is installed.
- ``datastorm-cli-*``: the ``datastorm run`` command timed as a user times it,
  from start to exit (imports and Genfile included), into a fresh database
  and into ``null:`` (with one worker and with two).
- ``pg-restore-j2``: ``pg_restore -j 2`` of a ``pg_dump -Fd`` of the very
  rows datastorm wrote (the dump made untimed): the limit a user can measure
  for the same rows and keys, no generation at all.

Prints a table of rows/s, peak RSS and ratios; ``--json`` keeps the figures
to compare across commits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
GENFILE = HERE / "bank.toml"
DEFAULT_URL = os.environ.get("DATASTORM_BENCH_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# -- helpers ------------------------------------------------------------------


def _genfile(rows: int, copy_connections: int | None = None) -> Any:
    from datastorm_core.genfile import loads_genfile

    text = GENFILE.read_text(encoding="utf-8")
    text = text.replace("records = 1000000", f"records = {rows}")
    text = text.replace("records = 2000000", f"records = {2 * rows}")
    if copy_connections is not None:
        text = f'[target]\ntype = "postgres"\ncopy_connections = {copy_connections}\n\n' + text
    return loads_genfile(text)


def _fresh_database(server_url: str) -> str:
    import psycopg

    name = f"ds_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def _drop_database(server_url: str, url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- methods (each runs in a child process) -------------------------------------


def method_datastorm(rows: int, server_url: str, target: str | None,
                     copy_connections: int | None = None) -> dict[str, Any]:
    from datastorm_core.run import RunOptions, run

    url = target or _fresh_database(server_url)
    try:
        started = time.perf_counter()
        report = run(_genfile(rows, copy_connections), RunOptions(target=url))
        seconds = time.perf_counter() - started
        return {"rows": report.stats.rows, "seconds": seconds}
    finally:
        if target is None:
            _drop_database(server_url, url)


def method_faker(rows: int, server_url: str) -> dict[str, Any]:
    import random

    import psycopg
    from faker import Faker

    fake = Faker("pt_BR")
    Faker.seed(2024)
    rnd = random.Random(2024)
    url = _fresh_database(server_url)
    try:
        with psycopg.connect(url) as conn:
            conn.execute("""CREATE TABLE customer (id bigint PRIMARY KEY, name text, email text
                UNIQUE, birth_date date, income numeric(7,2), segment text, phone_code text,
                active boolean, created_at timestamp)""")
            conn.execute("""CREATE TABLE account (id bigint PRIMARY KEY, customer_id bigint
                REFERENCES customer(id), branch bigint, balance numeric(8,2), kind text,
                opened_at timestamp)""")
            started = time.perf_counter()
            with conn.cursor() as cur:
                customers = [
                    (i, fake.name(), f"{i}.{fake.email()}", fake.date_of_birth(),
                     round(rnd.uniform(1200, 60000), 2), rnd.choice(["varejo", "alta_renda"]),
                     fake.phone_number(), rnd.random() < 0.92, fake.date_time_between("-10y"))
                    for i in range(1, rows + 1)
                ]
                cur.executemany("INSERT INTO customer VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                                customers)
                accounts = [
                    (i, rnd.randint(1, rows), rnd.randint(1, 9999),
                     round(rnd.uniform(-5000, 250000), 2), rnd.choice(["corrente", "poupanca"]),
                     fake.date_time_between("-10y"))
                    for i in range(1, 2 * rows + 1)
                ]
                cur.executemany("INSERT INTO account VALUES (%s,%s,%s,%s,%s,%s)", accounts)
            conn.commit()
            seconds = time.perf_counter() - started
        return {"rows": 3 * rows, "seconds": seconds}
    finally:
        _drop_database(server_url, url)


def _dump_tables(url: str, out: Path, halves: bool) -> dict[str, str]:
    """COPY TO binary files of customer and account (whole, or two halves by id); their DDL."""
    import psycopg

    ddl: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        for table in ("customer", "account"):
            columns = conn.execute(
                "SELECT string_agg(quote_ident(column_name) || ' ' || "
                "format_type(atttypid, atttypmod), ', ' ORDER BY ordinal_position) "
                "FROM information_schema.columns c JOIN pg_attribute a ON "
                "a.attrelid = c.table_name::regclass AND a.attname = c.column_name "
                "WHERE table_name = %s", (table,)).fetchone()[0]
            ddl[table] = f"CREATE TABLE {table} ({columns})"
            count = conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
            parts = ([(0, count // 2), (count // 2, count)] if halves else [(0, count)])
            for number, (low, high) in enumerate(parts):
                query = f"SELECT * FROM {table} WHERE id > {low} AND id <= {high}"
                with (out / f"{table}.{number}.bin").open("wb") as dump, conn.cursor().copy(
                        f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
                    for block in copy:
                        dump.write(block)
    return ddl


def _load_dump(url: str, table: str, path: Path) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn, conn.cursor().copy(
            f"COPY {table} FROM STDIN (FORMAT binary)") as copy, path.open("rb") as data:
        while block := data.read(1 << 20):
            copy.write(block)


_CUSTOMER_KEYS = "ALTER TABLE customer ADD PRIMARY KEY (id), ADD UNIQUE (email)"
_ACCOUNT_KEY = "ALTER TABLE account ADD PRIMARY KEY (id)"
_ACCOUNT_FK = "ALTER TABLE account ADD FOREIGN KEY (customer_id) REFERENCES customer (id)"


def method_copy_ceiling(rows: int, server_url: str) -> dict[str, Any]:
    import psycopg

    from datastorm_core.run import RunOptions, run

    source_url = _fresh_database(server_url)
    load_url = _fresh_database(server_url)
    try:
        run(_genfile(rows), RunOptions(target=source_url))  # untimed: only makes the bytes
        with tempfile.TemporaryDirectory() as tmp, psycopg.connect(load_url) as load:
            ddl = _dump_tables(source_url, Path(tmp), halves=False)
            started = time.perf_counter()
            for table in ("customer", "account"):
                load.execute(ddl[table])
                with load.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy, \
                        (Path(tmp) / f"{table}.0.bin").open("rb") as data:
                    while block := data.read(1 << 20):
                        copy.write(block)
            for statement in (_CUSTOMER_KEYS, _ACCOUNT_KEY, _ACCOUNT_FK):
                load.execute(statement)
            load.commit()
            seconds = time.perf_counter() - started
        return {"rows": 3 * rows, "seconds": seconds}
    finally:
        _drop_database(server_url, source_url)
        _drop_database(server_url, load_url)


def method_copy_parallel_ceiling(rows: int, server_url: str) -> dict[str, Any]:
    """The best any loader could do on this server with the same keys.

    Pre-encoded rows (no generation cost at all), each table in two halves
    on two connections at once, and the customer keys built while the
    accounts load. It gives up the one transaction (each connection
    commits its own work), which is why it is a bound, not a method.
    """
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    from datastorm_core.run import RunOptions, run

    source_url = _fresh_database(server_url)
    load_url = _fresh_database(server_url)
    try:
        run(_genfile(rows), RunOptions(target=source_url))  # untimed: only makes the bytes
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(3) as pool, \
                psycopg.connect(load_url, autocommit=True) as conn:
            ddl = _dump_tables(source_url, Path(tmp), halves=True)
            started = time.perf_counter()
            for table in ("customer", "account"):
                conn.execute(ddl[table])

            def execute(statement: str) -> None:
                with psycopg.connect(load_url, autocommit=True) as side:
                    side.execute(statement)

            keys = None
            for table in ("customer", "account"):
                loads = [pool.submit(_load_dump, load_url, table, Path(tmp) / f"{table}.{n}.bin")
                         for n in (0, 1)]
                for done in loads:
                    done.result()
                if table == "customer":
                    keys = pool.submit(execute, _CUSTOMER_KEYS)
            conn.execute(_ACCOUNT_KEY)
            assert keys is not None
            keys.result()
            conn.execute(_ACCOUNT_FK)
            seconds = time.perf_counter() - started
        return {"rows": 3 * rows, "seconds": seconds}
    finally:
        _drop_database(server_url, source_url)
        _drop_database(server_url, load_url)


def _genfile_text(rows: int, directory: Path) -> Path:
    text = GENFILE.read_text(encoding="utf-8")
    text = text.replace("records = 1000000", f"records = {rows}")
    path = directory / "bank.toml"
    path.write_text(text.replace("records = 2000000", f"records = {2 * rows}"), encoding="utf-8")
    return path


def _command_seconds(command: list[str]) -> tuple[float, int]:
    """A command's wall seconds from start to exit, and its own peak RSS (kB, wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{command[0]} failed: {process.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss


def method_cli(rows: int, server_url: str, target: str | None, workers: int = 1
               ) -> dict[str, Any]:
    """``datastorm run`` as a user times it: the command, from start to exit."""
    url = target or _fresh_database(server_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            genfile = _genfile_text(rows, Path(tmp))
            seconds, rss = _command_seconds(
                [str(Path(sys.executable).with_name("datastorm")), "run", str(genfile),
                 "--target", url, "--quiet", "--workers", str(workers)])
        return {"rows": 3 * rows, "seconds": seconds, "command_peak_rss_kb": rss}
    finally:
        if target is None:
            _drop_database(server_url, url)


def method_pg_restore(rows: int, server_url: str) -> dict[str, Any]:
    """``pg_restore -j 2`` of a ``pg_dump -Fd`` of the very rows datastorm writes (made
    untimed): tables, rows, primary keys, the unique e-mail and the foreign key."""
    source_url = _fresh_database(server_url)
    load_url = _fresh_database(server_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_cli = [str(Path(sys.executable).with_name("datastorm")), "run",
                       str(_genfile_text(rows, Path(tmp))), "--target", source_url, "--quiet"]
            subprocess.run(run_cli, check=True, capture_output=True)
            dump = Path(tmp) / "dump"
            subprocess.run(["pg_dump", "-Fd", "-f", str(dump), source_url], check=True)
            seconds, rss = _command_seconds(["pg_restore", "-j", "2", "-d", load_url,
                                             str(dump)])
        return {"rows": 3 * rows, "seconds": seconds, "command_peak_rss_kb": rss}
    finally:
        _drop_database(server_url, source_url)
        _drop_database(server_url, load_url)


def method_snowfakery(rows: int) -> dict[str, Any]:
    try:
        from snowfakery import generate_data  # type: ignore[import-not-found]
    except ImportError:
        return {"skipped": "snowfakery is not installed (pip install snowfakery)"}
    recipe = f"""
- object: customer
  count: {rows}
  fields:
    name: ${{{{fake.name}}}}
    email: ${{{{fake.email}}}}
    birth_date: ${{{{date_between(start_date='-80y', end_date='-18y')}}}}
  friends:
    - object: account
      count: 2
      fields:
        customer_id:
          reference: customer
        balance: ${{{{random_number(min=-5000, max=250000)}}}}
"""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recipe.yml"
        path.write_text(recipe)
        started = time.perf_counter()
        generate_data(str(path), output_format="csv", output_folder=tmp)
        seconds = time.perf_counter() - started
    return {"rows": 3 * rows, "seconds": seconds}


# -- the driver -------------------------------------------------------------------


def _child(method: str, rows: int, server_url: str) -> dict[str, Any]:
    """Run one method in a child process; its result plus its own peak RSS."""
    # The child reports its own peak RSS (RUSAGE_SELF): a figure per method.
    code = ("import json, resource, sys; sys.path.insert(0, %r); import bench; "
            "r = bench.%s; r['peak_rss_kb'] = resource.getrusage(resource.RUSAGE_SELF)"
            ".ru_maxrss; print(json.dumps(r))")
    call = {
        "datastorm-postgres": f"method_datastorm({rows}, {server_url!r}, None)",
        "datastorm-postgres-1-session": f"method_datastorm({rows}, {server_url!r}, None, 1)",
        "datastorm-generate": f"method_datastorm({rows}, {server_url!r}, 'null:')",
        "faker-executemany": f"method_faker({rows}, {server_url!r})",
        "copy-binary-ceiling": f"method_copy_ceiling({rows}, {server_url!r})",
        "copy-binary-parallel-ceiling": f"method_copy_parallel_ceiling({rows}, {server_url!r})",
        "snowfakery-csv": f"method_snowfakery({rows})",
        "datastorm-cli-postgres": f"method_cli({rows}, {server_url!r}, None)",
        "datastorm-cli-generate": f"method_cli({rows}, {server_url!r}, 'null:')",
        "datastorm-cli-generate-2-workers": f"method_cli({rows}, {server_url!r}, 'null:', 2)",
        "pg-restore-j2": f"method_pg_restore({rows}, {server_url!r})",
    }[method]
    proc = subprocess.run([sys.executable, "-c", code % (str(HERE), call)],
                          capture_output=True, text=True)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {last}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # A method timing a command reports that command's peak RSS, not its driver's.
    own = result.pop("command_peak_rss_kb", None)
    result["peak_rss_mb"] = round((own or result.pop("peak_rss_kb")) / 1024, 1)
    result.pop("peak_rss_kb", None)
    if "seconds" in result:
        result["rows_per_second"] = round(result["rows"] / result["seconds"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="customers (accounts: 2x)")
    parser.add_argument("--naive-rows", type=int, default=20_000,
                        help="customers for the Faker loader, which is ~100x slower")
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="a server where fresh databases can be created")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--skip", default="", help="comma-separated methods to skip")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every method; each keeps its median run (default 1)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    # Generation first: the loads leave the server checkpointing for a while,
    # which would slow down whatever runs next on the same two cores.
    plan = [("datastorm-generate", args.rows), ("datastorm-postgres", args.rows),
            ("datastorm-postgres-1-session", args.rows),
            ("copy-binary-ceiling", args.rows), ("copy-binary-parallel-ceiling", args.rows),
            ("faker-executemany", args.naive_rows),
            ("snowfakery-csv", args.naive_rows),
            ("datastorm-cli-generate", args.rows), ("datastorm-cli-generate-2-workers", args.rows),
            ("datastorm-cli-postgres", args.rows), ("pg-restore-j2", args.rows)]
    # Rounds interleave the methods, so a slow spell of a shared machine
    # spreads over all of them instead of landing on one.
    runs: dict[str, list[dict[str, Any]]] = {}
    for round_number in range(1, max(1, args.repeat) + 1):
        for method, rows in plan:
            if method in skip:
                continue
            print(f"round {round_number}: {method} on {rows:,} customers ...", file=sys.stderr,
                  flush=True)
            runs.setdefault(method, []).append(
                {"customers": rows, **_child(method, rows, args.database_url)})
    _report({method: median_run(done) for method, done in runs.items()}, args)


def median_run(runs: list[dict[str, Any]], key: str = "rows_per_second") -> dict[str, Any]:
    """The run with the median ``key``, and every run's ``key`` beside it."""
    timed = sorted((r for r in runs if key in r), key=lambda r: r[key])
    if not timed:
        return runs[0]
    chosen = dict(timed[(len(timed) - 1) // 2])
    chosen[f"runs_{key}"] = [r[key] for r in runs if key in r]
    return chosen


def _report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    ours = results.get("datastorm-postgres", {}).get("rows_per_second")
    results = {m: results[m] for m in sorted(results, key=lambda m: m != "datastorm-postgres")}
    print(f"\n{'method':<30} {'customers':>10} {'rows':>10} {'seconds':>8} {'rows/s':>11} "
          f"{'peak RSS':>9} {'datastorm/x':>11}")
    for method, r in results.items():
        if "rows_per_second" not in r:
            print(f"{method:<30} {r.get('skipped') or r.get('error')}")
            continue
        ratio = f"{ours / r['rows_per_second']:.2f}" if ours else "-"
        print(f"{method:<30} {r['customers']:>10,} {r['rows']:>10,} {r['seconds']:>8.2f} "
              f"{r['rows_per_second']:>11,} {r['peak_rss_mb']:>7.1f}MB {ratio:>11}")
    # What issue 18 holds the engine to, both timed as commands from start to exit.
    load, restore = (results.get(m, {}).get("seconds") for m in ("datastorm-cli-postgres",
                                                                   "pg-restore-j2"))
    if load and restore:
        print(f"\nload: datastorm run is {restore / load:.2f}x pg_restore -j 2 of the same rows "
              "(asked: at least 1.00x)")
    generated = results.get("datastorm-cli-generate", {}).get("rows_per_second")
    if generated:
        two = results.get("datastorm-cli-generate-2-workers", {}).get("rows_per_second")
        print(f"generation: {generated:,} rows/s by the command's wall time, one worker "
              f"(asked: 3,000,000)" + (f"; {two:,} with --workers 2" if two else ""))
    if args.json:
        write_record(args.json, results, rows=args.rows, repeat=args.repeat)


def write_record(path: str, results: dict[str, Any], **run: Any) -> None:
    """The figures as JSON, with when, the commit and the machine, to compare across commits."""
    record = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                 capture_output=True, text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **run,
        "results": results,
    }
    Path(path).write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
