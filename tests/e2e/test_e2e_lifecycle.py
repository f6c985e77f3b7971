"""Event logs (``lifecycle``) on real PostgreSQL: `datastorm run` of
tests/fixtures/lifecycle.toml, then every path checked by SQL, with window functions over
each parent's rows in the order of their ordinal; and the same rows whatever the workers,
the batch size or the partition layout."""

from __future__ import annotations

import math
from typing import Any

import psycopg
import pytest
from e2e_support import FIXTURES, run_cli, table_digest

from datastorm_core.loading import load_genfile

pytestmark = pytest.mark.postgres

LIFECYCLE = FIXTURES / "lifecycle.toml"
TABLES = ("order", "order_event", "ticket", "ticket_step")
# (event table, parent, reference, ordinal, lifecycle field, time field)
LOGS = [("order_event", "order", "order_id", "step", "status", "at"),
        ("ticket_step", "ticket", "ticket_id", "n", "state", "on")]


def moves(table: str, field: str) -> tuple[str, str, list[tuple[str, str]], list[str], int]:
    """The lifecycle's initial state, its allowed (from, to) pairs, its terminal states
    (as SQL literals), and its max_steps."""
    params = load_genfile(LIFECYCLE).table(table).field(field).params
    transitions = params["transitions"]
    initial = params.get("initial", next(iter(transitions)))
    pairs = [(a, b) for a, targets in transitions.items() for b in targets]
    states = {s for pair in pairs for s in pair}
    terminal = sorted(s for s in states if not transitions.get(s))
    values = ", ".join(f"('{a}', '{b}')" for a, b in pairs)
    return initial, values, pairs, terminal, params.get("max_steps", 20)


def violations(conn: Any, table: str, parent: str, ref: str, ordinal: str, field: str,
               time: str) -> dict[str, int]:
    """Rows (or parents) that break each rule of an event log: all must be 0."""
    initial, values, _, terminal, most = moves(table, field)
    ends = ", ".join(f"'{s}'" for s in terminal)
    walk = f"""
        SELECT {ref} AS parent, {ordinal} AS k, {field} AS state, "{time}" AS at,
               row_number() OVER w AS n, count(*) OVER (PARTITION BY {ref}) AS steps,
               lag({field}) OVER w AS before, lag("{time}") OVER w AS earlier,
               lead({field}) OVER w AS after
        FROM {table} WINDOW w AS (PARTITION BY {ref} ORDER BY {ordinal})"""
    rules = {
        "the ordinal numbers each parent's rows 1..n": "k <> n",
        "each path starts at the initial state": f"n = 1 AND state <> '{initial}'",
        "each step is an allowed transition": f"""n > 1 AND (before, state) NOT IN
                                                  (VALUES {values})""",
        "each path ends in a terminal state or at max_steps": f"""after IS NULL AND
                                   state NOT IN ({ends}) AND steps <> {most}""",
        "no path is longer than max_steps": f"steps > {most}",
        "times increase strictly within a parent": "n > 1 AND at <= earlier",
    }
    found = {rule: conn.execute(f"SELECT count(*) FROM ({walk}) s WHERE {where}").fetchone()[0]
             for rule, where in rules.items()}
    found["every parent has a path"] = conn.execute(
        f'SELECT count(*) FROM "{parent}" p WHERE NOT EXISTS '
        f"(SELECT 1 FROM {table} e WHERE e.{ref} = p.id)").fetchone()[0]
    return found


def test_every_path_is_valid_and_in_time(pg_url: str, pg_conn: Any,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "run", str(LIFECYCLE), "--target", pg_url, "--quiet")
    assert result.code == 0, result.both
    for table, *rest in LOGS:
        broken = violations(pg_conn, table, *rest)
        assert broken == dict.fromkeys(broken, 0), table
    # An order's total counts its events; the events are the Genfile's count.
    assert pg_conn.execute(
        'SELECT count(*) FROM "order" o WHERE o.events <> '
        "(SELECT count(*) FROM order_event e WHERE e.order_id = o.id)").fetchone()[0] == 0
    events = pg_conn.execute("SELECT count(*) FROM order_event").fetchone()[0]
    assert events == load_genfile(LIFECYCLE).table("order_event").records
    # Cancelled: 15% at once, then 5% of the 85% that paid (the weights, exactly).
    orders, cancelled = pg_conn.execute(
        "SELECT count(DISTINCT order_id), count(*) FILTER (WHERE status = 'cancelled') "
        "FROM order_event").fetchone()
    expected = 0.15 + 0.85 * 0.05
    assert abs(cancelled / orders - expected) < 4.5 * math.sqrt(expected * (1 - expected)
                                                                 / orders)
    kinds = dict(pg_conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'order_event'").fetchall())
    assert kinds["status"] == "text"


def digests(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return {table: table_digest(conn, table) for table in TABLES}


def test_partitions_workers_and_batches_write_the_same_rows(
        pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for k in (1, 2, 0):  # any order: each partition is its own rows
        result = run_cli(capsys, "run", str(LIFECYCLE), "--target", pg_url, "--quiet",
                         "--partition", f"{k}/3", "--mode", "append")
        assert result.code == 0, result.both
    parts = digests(pg_url)
    assert run_cli(capsys, "run", str(LIFECYCLE), "--target", pg_url, "--quiet",
                   "--workers", "1").code == 0
    assert digests(pg_url) == parts
    assert run_cli(capsys, "run", str(LIFECYCLE), "--target", pg_url, "--quiet",
                   "--workers", "2", "--batch-size", "501").code == 0
    assert digests(pg_url) == parts
