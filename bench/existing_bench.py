"""datastorm loading an application's existing tables, against pg_restore of the same rows.

    python bench/existing_bench.py --rows 1000000 [--repeat 3] [--url URL] [--json out.json]

The schema is an application's, written as SQL the way Django or Rails
migrations would make it (``SCHEMA``): ``customer`` (a bigserial key, a
varchar name, a unique varchar e-mail, a unique char(14) CPF, a CHECKed
status with a default), ``account`` (a foreign key to customer with its
index, a smallint branch, a CHECKed numeric(14,2) balance) and ``card`` (an
identity key, a foreign key to account with its index, a unique char(16)
number, a column left to its DEFAULT now()), and a view on them. No
triggers unless ``--with-trigger``. N customers, 2N accounts, N cards.

datastorm does not create these tables, so ``datastorm run`` empties them
with TRUNCATE and loads them with COPY in one transaction on one session,
indexes in place and maintained, every row checked by the CHECKs, and
moves the sequences (``datastorm_core/target/postgres/loads/existing.py``).
Its foreign keys are checked one of two ways: by default, where the role
may set ``session_replication_role`` (a superuser here) and no trigger
would fire, each key is checked once over the loaded rows before the
commit (an anti-join), the server's per-row checks left out; otherwise, or
with ``reference_checks = "row"``, by the server row by row.
The limit a user can measure on the same machine for the very same work is
``pg_restore --data-only`` of a ``pg_dump`` of the very same rows into the
very same emptied tables: no generation at all, PostgreSQL's own COPY
text, the same indexes maintained and the foreign keys checked row by row.

Methods, each timed as a subprocess end to end after a CHECKPOINT (so no
round pays for the last one's dirty pages), the order rotating from round
to round so that a slow spell of a shared machine spreads over all:

- ``datastorm``: ``datastorm run existing.toml --target URL`` on the filled
  tables (the TRUNCATE is its own job, inside its transaction), with its
  defaults. It runs without ``--quiet``: out of a terminal that prints one
  line a table and the summary, nothing live, and those lines give the
  seconds of each table.
- ``datastorm-row-checks``: the same with ``reference_checks = "row"``: the
  foreign keys checked by the server row by row, the same work as pg_restore.
- ``pg_restore``: the tables emptied by TRUNCATE (untimed), then
  ``pg_restore --data-only -d URL dump``. One job: with the foreign keys
  checked (no ``--disable-triggers``) a table can only load after the one
  it references has committed, and ``-j 2`` loads them all at once, so the
  children's COPY fails; the benchmark runs that once and shows the error.
- ``pg_restore-j2-unchecked``: ``pg_restore --data-only -j 2
  --disable-triggers``, two tables at a time with the foreign keys not
  checked at all (CHECKs and unique indexes still are): what parallelism
  buys when rows are trusted, a bound rather than the same work.

The dump (``pg_dump -Fd -j 2 --data-only``, which orders the tables by
their foreign keys) is taken once, of the rows an untimed first datastorm
run loaded. After every round the row counts, an md5 of every customer row
and the sequences are compared with that dump's, so both methods are
known to have loaded the same rows (the foreign keys hold by then). Peak RSS is the process's own
``ru_maxrss``, as bench.py measures it (here from ``wait4``, since the
process is the CLI); beside it the client's CPU seconds and the WAL the
server wrote, which say where the time goes: a load into indexed,
foreign-keyed tables is the server's work. Medians of ``--repeat`` rounds;
every round goes to ``--json`` (default bench/results-existing.json).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from measure import timed  # noqa: E402

from bench import median_run, write_record  # noqa: E402  (bench/ is not a package)

GENFILE = HERE / "existing.toml"
DEFAULT_URL = os.environ.get("DATASTORM_BENCH_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DEFAULT_DATABASE = "datastorm_bench_existing"
DEFAULT_JSON = HERE / "results-existing.json"
# Rows of each table per customer, parents first (the order of the foreign keys).
PER_CUSTOMER = {"customer": 1, "account": 2, "card": 1}
# pg_dump and the unchecked pg_restore use one job per core of the 2-core machine
# the figures were measured on; more jobs than tables would add nothing anyway.
JOBS = 2
# The table whose every row is hashed after each round: the most text and the most
# column types (varchar, char, date, timestamptz), 1M rows hashed in about a second.
HASHED_TABLE = "customer"
METHODS = ("datastorm", "datastorm-row-checks", "pg_restore", "pg_restore-j2-unchecked")
# [target] of datastorm-row-checks: the server checks every row's foreign keys.
ROW_CHECKS = '[target]\ntype = "postgres"\nreference_checks = "row"\n\n'


SCHEMA = """
CREATE TABLE customer (
  id bigserial PRIMARY KEY,
  name varchar(120) NOT NULL,
  email varchar(254) UNIQUE,
  cpf char(14) UNIQUE,
  born date,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'closed')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE account (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customer (id),
  branch smallint,
  kind text NOT NULL DEFAULT 'corrente' CHECK (kind IN ('corrente', 'poupanca', 'salario')),
  balance numeric(14,2) NOT NULL CHECK (balance > -100000),
  opened_at timestamptz
);
CREATE INDEX account_customer_id_idx ON account (customer_id);
CREATE TABLE card (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES account (id),
  number char(16) NOT NULL UNIQUE,
  brand text NOT NULL CHECK (brand IN ('visa', 'mastercard', 'elo')),
  expires date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX card_account_id_idx ON card (account_id);
CREATE VIEW customer_balance AS
  SELECT c.id, c.name, count(a.id) AS accounts, coalesce(sum(a.balance), 0) AS balance
  FROM customer c LEFT JOIN account a ON a.customer_id = c.id
  GROUP BY c.id, c.name;
"""

# --with-trigger: a row trigger as an application might keep one (e-mails stored in
# lower case). The generated e-mails are lower case already, so the rows stay the same
# (pg_restore-j2-unchecked disables it with the foreign keys' triggers).
TRIGGER = """
CREATE FUNCTION customer_lower_email() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
CREATE TRIGGER customer_lower_email BEFORE INSERT OR UPDATE ON customer
  FOR EACH ROW EXECUTE FUNCTION customer_lower_email();
"""

# One line a finished table on datastorm's stderr when it is not a terminal.
_TABLE_LINE = re.compile(r"^(\w+): ([\d,]+) rows in ([\d.]+) s", re.MULTILINE)
# The total row of the summary table datastorm prints on stdout.
_TOTAL_ROW = re.compile(r"total\W+([\d,]+)\W+([\d.]+)\W")


# -- helpers ------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, else beside the newest server."""
    found = shutil.which(name)
    if found:
        return found
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        candidate = os.path.join(bindir, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(f"{name} is not on PATH nor under /usr/lib/postgresql/*/bin")


def genfile_text(rows: int) -> str:
    """existing.toml with ``rows`` customers and each table's records in proportion."""
    text = GENFILE.read_text(encoding="utf-8")
    for table, factor in PER_CUSTOMER.items():
        text, found = re.subn(rf"(\[{table}\]\nrecords = )\d+", rf"\g<1>{factor * rows}", text)
        assert found == 1, f"[{table}] records not found in {GENFILE}"
    return text


def database_url(server_url: str, name: str) -> str:
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def fresh_database(server_url: str, name: str, with_trigger: bool) -> str:
    """The application's database: created anew, its schema made by its migrations."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA + (TRIGGER if with_trigger else ""))
    return url


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe_schema(url: str) -> dict[str, Any]:
    """What hangs on the tables: indexes, constraints by kind, user triggers."""
    import psycopg

    tables = list(PER_CUSTOMER)
    with psycopg.connect(url) as conn:
        indexes = [r[0] for r in conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid::regclass::text"
            " = ANY(%s) ORDER BY 1", (tables,))]
        kinds = dict(conn.execute(
            "SELECT contype::text, count(*) FROM pg_constraint WHERE conrelid::regclass::text"
            " = ANY(%s) GROUP BY 1", (tables,)).fetchall())
        triggers = [r[0] for r in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text"
            " = ANY(%s) ORDER BY 1", (tables,))]
    return {"indexes": indexes, "foreign_keys": kinds.get("f", 0), "checks": kinds.get("c", 0),
            "triggers": triggers}


def table_state(url: str) -> dict[str, Any]:
    """Row counts, an md5 of every row of HASHED_TABLE, and the sequences: to compare rounds."""
    import psycopg

    with psycopg.connect(url) as conn:
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in PER_CUSTOMER}
        digest = conn.execute(
            f"SELECT md5(string_agg(md5(t::text), '' ORDER BY id)) FROM {HASHED_TABLE} t"
        ).fetchone()[0]
        sequences = {}
        for table in PER_CUSTOMER:
            sequence = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')",
                                    (table,)).fetchone()[0]
            last, called = conn.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
            # The value the application's next INSERT gets.
            sequences[table] = last + 1 if called else last
    return {"rows": counts, f"md5_{HASHED_TABLE}": digest, "next_id": sequences}


def working_tree() -> dict[str, Any]:
    """The commit and datastorm's uncommitted files now: write_record reads the commit at
    the end, and a tree others edit may change during a run of several minutes."""
    def git(*args: str) -> str:
        # --no-optional-locks: never take the index lock a concurrent git command needs.
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT,
                              capture_output=True, text=True).stdout.rstrip()

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "modified": git("status", "--porcelain", "--", "datastorm_core").splitlines()}


def may_check_in_bulk(url: str) -> bool:
    """Whether this role may set session_replication_role, as datastorm's bulk checks need."""
    import psycopg

    with psycopg.connect(url) as conn:
        try:
            conn.execute("SET LOCAL session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()
    return True


def empty_tables(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"TRUNCATE {', '.join(PER_CUSTOMER)}")


def checkpoint(url: str) -> None:
    """Write out the last round's dirty pages now, not during the next timed round."""
    import psycopg

    # Without superuser or pg_checkpoint there is none; the rounds still alternate.
    with psycopg.connect(url, autocommit=True) as conn, contextlib.suppress(
            psycopg.errors.InsufficientPrivilege):
        conn.execute("CHECKPOINT")


def wal_position(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])


def wal_since(url: str, before: str) -> float:
    """MB of WAL the whole server wrote since ``before``: the load's, and anyone else's."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        written = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)",
                               (before,)).fetchone()[0]
    return round(float(written) / 2**20, 1)



def datastorm_command(genfile: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "datastorm_core.cli", "run", str(genfile), "--target", url]


def restore_command(dump: Path, url: str, unchecked: bool) -> list[str]:
    extra = ["-j", str(JOBS), "--disable-triggers"] if unchecked else []
    return [pg_tool("pg_restore"), "--data-only", *extra, "-d", url, str(dump)]


def first_error(text: str) -> str:
    lines = [line for line in text.splitlines() if "error" in line.lower()]
    return (lines or text.strip().splitlines() or ["?"])[0]


# -- one round of one method ----------------------------------------------------


def run_method(method: str, url: str, genfile: Path, dump: Path) -> dict[str, Any]:
    if method == "datastorm":
        command = datastorm_command(genfile, url)  # on the filled tables: it truncates them
    elif method == "datastorm-row-checks":
        command = datastorm_command(genfile.with_name("row-checks.toml"), url)
    else:
        empty_tables(url)
        command = restore_command(dump, url, unchecked=method == "pg_restore-j2-unchecked")
    checkpoint(url)
    wal_before = wal_position(url)
    done = timed(command)
    if done["exit"]:
        return {"error": f"exit {done['exit']}: {first_error(done['stderr'])}",
                "command": command}
    result: dict[str, Any] = {key: done[key] for key in ("seconds", "peak_rss_mb",
                                                         "cpu_seconds")}
    result["wal_mb"] = wal_since(url, wal_before)
    if method.startswith("datastorm"):
        result["tables_seconds"] = {name: float(seconds) for name, _, seconds
                                    in _TABLE_LINE.findall(done["stderr"])}
        total = _TOTAL_ROW.search(done["stdout"])
        if total:
            result["datastorm_seconds"] = float(total.group(2))
    return result


# -- the driver -------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="customers (accounts: 2x, cards: 1x)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of every method; each keeps its median (default 3)")
    parser.add_argument("--url", "--database-url", default=DEFAULT_URL,
                        help="a server where the benchmark's database can be created")
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help=f"the database created and dropped (default {DEFAULT_DATABASE})")
    parser.add_argument("--json", default=str(DEFAULT_JSON),
                        help="where every round is written (default bench/results-existing.json)")
    parser.add_argument("--skip", default="", help="comma-separated methods to skip")
    parser.add_argument("--with-trigger", action="store_true",
                        help="add a BEFORE INSERT row trigger on customer")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    methods = [m for m in METHODS if m not in skip]

    url = fresh_database(args.url, args.database, args.with_trigger)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            code = _measure(args, methods, url, Path(tmp))
    finally:
        if not args.keep:
            drop_database(args.url, args.database)
    sys.exit(code)


def _measure(args: argparse.Namespace, methods: list[str], url: str, tmp: Path) -> int:
    genfile = tmp / "existing.toml"
    genfile.write_text(genfile_text(args.rows), encoding="utf-8")
    genfile.with_name("row-checks.toml").write_text(ROW_CHECKS + genfile_text(args.rows),
                                                    encoding="utf-8")
    total_rows = sum(factor * args.rows for factor in PER_CUSTOMER.values())
    tree_at_start = working_tree()
    schema = describe_schema(url)
    sizes = ", ".join(f"{t} {f * args.rows:,}" for t, f in PER_CUSTOMER.items())
    print(f"schema: {sizes} rows; {len(schema['indexes'])} indexes, "
          f"{schema['foreign_keys']} foreign keys, {schema['checks']} CHECKs, triggers: "
          f"{', '.join(schema['triggers']) or 'none'}")
    bulk = may_check_in_bulk(url)
    print("datastorm checks the foreign keys "
          + ("in bulk after the load where no trigger fires on the table (this role may set "
             "session_replication_role)" if bulk
             else "row by row (this role may not set session_replication_role)")
          + "; datastorm-row-checks and pg_restore row by row")

    log(f"untimed first run: datastorm fills the tables ({total_rows:,} rows) ...")
    first = timed(datastorm_command(genfile, url))
    if first["exit"]:
        raise SystemExit(f"datastorm failed: {first['stderr'].strip()}")
    reference = table_state(url)
    if sum(reference["rows"].values()) != total_rows:
        raise SystemExit(f"datastorm loaded {reference['rows']}, not {total_rows:,} rows")
    dump = tmp / "dump"
    log(f"pg_dump -Fd -j {JOBS} --data-only of those rows ...")
    subprocess.run([pg_tool("pg_dump"), "-Fd", "-j", str(JOBS), "--data-only",
                    "--exclude-table=datastorm_owned_tables", "-f", str(dump), url],
                   check=True, capture_output=True, text=True)

    # Why pg_restore runs one job: shown, not assumed.
    log(f"pg_restore --data-only -j {JOBS} (foreign keys checked), once, untimed ...")
    empty_tables(url)
    probe = timed([pg_tool("pg_restore"), "--data-only", "-j", str(JOBS), "-d", url,
                   str(dump)])
    parallel_checked = ("failed: " + first_error(probe["stderr"]) if probe["exit"]
                        else f"succeeded in {probe['seconds']:.2f} s")
    print(f"pg_restore --data-only -j {JOBS} without --disable-triggers: {parallel_checked}")

    rounds: list[dict[str, Any]] = []
    mismatches = 0
    for number in range(1, max(1, args.repeat) + 1):
        # Rotate the order: over len(methods) rounds each method runs once in each place.
        turn = (number - 1) % len(methods)
        order = methods[turn:] + methods[:turn]
        for method in order:
            log(f"round {number}: {method} on {args.rows:,} customers ...")
            result = {"round": number, "method": method, "customers": args.rows,
                      **run_method(method, url, genfile, tmp / "dump")}
            if "seconds" in result:
                state = table_state(url)
                result["rows"] = sum(state["rows"].values())
                result["rows_per_second"] = round(result["rows"] / result["seconds"])
                result["same_rows_as_dump"] = state == reference
                if state != reference:
                    mismatches += 1
                    result["state"] = state
            rounds.append(result)

    results = {m: median_run([r for r in rounds if r["method"] == m]) for m in methods}
    _report(results, total_rows, mismatches)
    write_record(args.json, results, rows=args.rows, repeat=args.repeat,
                 total_rows=total_rows, schema=schema, bulk_reference_checks=bulk,
                 dump=reference, tree_at_start=tree_at_start, tree_at_end=working_tree(),
                 pg_restore_parallel_checked=parallel_checked, rounds=rounds)
    print(f"\nevery round: {args.json}")
    if mismatches:
        print(f"{mismatches} round(s) did not load the dump's rows (see the JSON)")
        return 1
    return 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _report(results: dict[str, dict[str, Any]], total_rows: int, mismatches: int) -> None:
    ours = results.get("datastorm", {}).get("rows_per_second")
    print(f"\n{'method':<25} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak RSS':>9} "
          f"{'client CPU':>10} {'WAL':>8} {'datastorm/x':>11}  rows/s of each round")
    for method, r in results.items():
        if "rows_per_second" not in r:
            print(f"{method:<25} {r.get('error')}")
            continue
        ratio = f"{ours / r['rows_per_second']:.2f}" if ours else "-"
        each = ", ".join(f"{v:,}" for v in r["runs_rows_per_second"])
        print(f"{method:<25} {r['rows']:>10,} {r['seconds']:>8.2f} {r['rows_per_second']:>10,} "
              f"{r['peak_rss_mb']:>7.1f}MB {r['cpu_seconds']:>9.1f}s {r['wal_mb']:>6,.0f}MB "
              f"{ratio:>11}  {each}")
    checked = (f"{mismatches} round(s) did NOT load the dump's rows" if mismatches else
               "every round loaded the dump's rows")
    print(f"\nchecked: {checked} (counts, md5 of every {HASHED_TABLE} row, next ids; "
          f"{total_rows:,} rows).\n"
          "All but pg_restore-j2-unchecked keep and maintain the indexes and check every "
          "row's CHECKs and foreign keys;\npg_restore-j2-unchecked runs with "
          "--disable-triggers: its foreign keys are NOT checked (a bound, not the same work).\n"
          "pg_restore's peak RSS is the client's (and its workers'), not the server's; "
          "WAL is the whole server's.")
    for method in ("datastorm", "datastorm-row-checks"):
        median = results.get(method, {})
        if not median.get("tables_seconds"):
            continue
        tables = ", ".join(f"{t} {s:.2f} s" for t, s in median["tables_seconds"].items())
        line = f"\n{method}, median round, per table (its summary): {tables}"
        own = median.get("datastorm_seconds")
        if own:
            after = own - sum(median["tables_seconds"].values())
            line += (f"; then {after:.2f} s connecting, TRUNCATE, foreign key checks in bulk "
                     f"(if any), sequences, commit; {median['seconds'] - own:.2f} s before its "
                     "run (Python, the Genfile checked against the catalog)")
        print(line)


if __name__ == "__main__":
    main()
