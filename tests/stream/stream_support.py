"""Helpers of the stream tests: the clinic Genfile, loading it, and reading the database back."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from datastorm_core.genfile import load_genfile
from datastorm_core.genfile.model import Genfile
from datastorm_core.run import RunOptions, run
from datastorm_core.stream import StreamOptions, StreamReport, stream

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CLINIC = FIXTURES / "clinic.toml"
REPO = Path(__file__).resolve().parents[2]
HOSPITAL = REPO / "examples" / "hospital.toml"
# datastorm's bookkeeping: the stream's ledger, and the record of what datastorm created.
LEDGER_TABLES = ("datastorm_stream_state", "datastorm_stream_tables", "datastorm_owned_tables")
# A process or a query gets this long before the test calls it a hang.
WAIT_SECONDS = 60.0


def clinic() -> Genfile:
    return load_genfile(CLINIC)


def load(url: str, genfile: Genfile | None = None) -> Genfile:
    """``datastorm run`` of the Genfile (default: the clinic) into ``url``."""
    genfile = genfile or clinic()
    run(genfile, RunOptions(target=url))
    return genfile


def stream_events(url: str, events: int, genfile: Genfile | None = None,
                  **options: Any) -> tuple[StreamReport, list[dict[str, Any]]]:
    """Stream ``events`` events as fast as possible; the report and the events as JSON."""
    log: list[dict[str, Any]] = []
    report = stream(genfile or clinic(),
                    StreamOptions(target=url, rate=0, events=events, **options),
                    on_event=lambda e: log.append(e.as_json()))
    return report, log


def query(url: str, statement: str | sql.Composable, params: Sequence[Any] = ()
          ) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement, tuple(params)).fetchall()  # type: ignore[arg-type]


def execute(url: str, statement: str | sql.Composable, params: Sequence[Any] = ()) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement, tuple(params))  # type: ignore[arg-type]


def scalar(url: str, statement: str | sql.Composable, params: Sequence[Any] = ()) -> Any:
    return query(url, statement, params)[0][0]


def counts(url: str, genfile: Genfile) -> dict[str, int]:
    return {t.name: int(scalar(url, sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(t.name)))) for t in genfile.tables}


def orphans(url: str, genfile: Genfile) -> dict[str, int]:
    """child.field -> rows whose reference points at no parent row (all should be 0)."""
    found = {}
    for table in genfile.tables:
        for f in table.references:
            assert f.ref is not None
            parent, column = f.ref
            statement = sql.SQL(
                "SELECT count(*) FROM {} AS c WHERE c.{} IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM {} AS p WHERE p.{} = c.{})").format(
                sql.Identifier(table.name), sql.Identifier(f.name), sql.Identifier(parent),
                sql.Identifier(column), sql.Identifier(f.name))
            found[f"{table.name}.{f.name}"] = int(scalar(url, statement))
    return found


def foreign_keys_valid(url: str) -> tuple[int, int]:
    """(foreign keys, of which validated)."""
    total, valid = query(url, "SELECT count(*), count(*) FILTER (WHERE convalidated) "
                              "FROM pg_constraint WHERE contype = 'f'")[0]
    return int(total), int(valid)


def fingerprint(url: str, genfile: Genfile) -> dict[str, tuple[int, str | None]]:
    """table -> (rows, md5 of every row in key order): equal iff the tables are."""
    prints = {}
    for table in genfile.tables:
        key = sql.SQL(", ").join(sql.Identifier("t", k) for k in table.primary_key) \
            if table.primary_key else sql.SQL("t::text")
        statement = sql.SQL("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY {})) "
                            "FROM {} AS t").format(key, sql.Identifier(table.name))
        rows, digest = query(url, statement)[0]
        prints[table.name] = (int(rows), digest)
    return prints


def ledger(url: str) -> tuple[int, dict[str, tuple[int, int, int, int]]]:
    """(next event, table -> (next index, inserts, updates, deletes))."""
    next_event = int(scalar(url, "SELECT next_event FROM datastorm_stream_state"))
    tables = {name: (int(a), int(b), int(c), int(d)) for name, a, b, c, d in query(
        url, "SELECT table_name, next_index, inserts, updates, deletes "
             "FROM datastorm_stream_tables")}
    return next_event, tables


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "datastorm_core.cli", *argv]


def spawn(*argv: str) -> subprocess.Popen[str]:
    """``datastorm ARGV`` in a child process (signals reach it as they reach the command)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cli(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=REPO)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS,
             process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the process ended ({process.returncode}) before {what}:\n"
                                 f"{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


def root_conftest() -> Any:
    """tests/conftest.py as a module, for its ThrowawayCluster."""
    spec = importlib.util.spec_from_file_location(
        "datastorm_tests_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def database(server_url: str, name: str) -> Iterator[str]:
    """A fresh database on ``server_url`` for the block, dropped after."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
