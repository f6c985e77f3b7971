"""The shipped examples obey their rules on every row (issue 15's table, and the other
rules the examples state), on PostgreSQL, at two seeds and in partitions; and names of
the referenced row (``REF.FIELD``) read end to end in expr, when and cases."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2e_support import FIXTURES, run_cli, table_digest

from datastorm_core.core.partition import Partition
from datastorm_core.loading import loads_genfile
from datastorm_core.run import RunOptions, run

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from example_invariants import INVARIANTS, measure, scaled  # noqa: E402  (not a package)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

EXAMPLES = ("bank.toml", "hospital.toml")
# A tenth of the rows; the examples' own seed and another one.
FACTOR = 10
SEEDS = (None, 20260415)
# The key to order each table's rows by, where it is not `id`.
ORDER_BY = {"coverage": "card_number", "stock": "ticker"}


def run_example(example: str, url: str, **options: Any) -> Any:
    """The scaled example into ``url``, its named targets (the bank's events) too."""
    genfile = loads_genfile(scaled(example, FACTOR), environ={})
    run(genfile, RunOptions(target=url, target_for={name: url for name in genfile.targets},
                            **options))
    return genfile


@pytest.mark.parametrize("seed", SEEDS, ids=["own-seed", "other-seed"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_invariant_holds_on_every_row(example: str, seed: int | None, pg_url: str,
                                            pg_conn: Any) -> None:
    genfile = run_example(example, pg_url, seed=seed)
    found = measure(pg_conn, example, genfile.dataset.now)
    assert len(found) == sum(1 for i in INVARIANTS if i.example == example)
    broken = {invariant.label: total - holding for invariant, holding, total in found}
    assert broken == dict.fromkeys(broken, 0)
    # Every invariant is about some rows: none holds for want of rows to check.
    assert all(total > 0 for _, _, total in found), found


@pytest.mark.parametrize("example", EXAMPLES)
def test_partitions_in_append_mode_add_up_to_the_whole_run(example: str, pg_url: str,
                                                           pg_conn: Any) -> None:
    parts = 3
    order = list(range(parts))
    random.Random(example).shuffle(order)  # any order: each partition is its own rows
    for k in order:
        genfile = run_example(example, pg_url, partition=Partition(k, parts), mode="append")
    names = genfile.table_names
    pieces = {t: table_digest(pg_conn, t, ORDER_BY.get(t, "id")) for t in names}
    run_example(example, pg_url, workers=2)
    whole = {t: table_digest(pg_conn, t, ORDER_BY.get(t, "id")) for t in names}
    assert pieces == whole
    assert all(count > 0 for count, _ in whole.values())


# -- names of the referenced row, end to end ---------------------------------------------

DOTTED = str(FIXTURES / "dotted.toml")
REGION_IDS = (3, 8, 21, 55)  # the application's keys: not 1..n

# Each query counts the rows that break one reading; all must be 0. c is the account's
# customer (NULL where the account has none), r a customer's referrer.
DOTTED_VIOLATIONS = {
    "expr of a parent's fields, NULL without a parent": """
        SELECT count(*) FROM account a LEFT JOIN customer c ON c.id = a.customer_id
        WHERE a.holder_age IS DISTINCT FROM
                extract(year FROM age(a.opened_at, c.birth_date))::bigint
           OR a.credit IS DISTINCT FROM c.credit_limit * 2""",
    "two hops to an existing table's key": """
        SELECT count(*) FROM account a LEFT JOIN customer c ON c.id = a.customer_id
        WHERE a.region IS DISTINCT FROM c.region_id""",
    "when reading the parent": """
        SELECT count(*) FROM account a LEFT JOIN customer c ON c.id = a.customer_id
        WHERE a.premium_until IS DISTINCT FROM CASE WHEN c.tier = 'gold'
              THEN (a.opened_at::date + interval '1 year')::date END""",
    "cases reading the parent; NULL holds in no case": """
        SELECT count(*) FROM account a LEFT JOIN customer c ON c.id = a.customer_id
        WHERE NOT CASE WHEN c.tier = 'gold' THEN a.kind = 'premium'
                       WHEN age(timestamp '2026-01-01', c.birth_date) < interval '30 years'
                       THEN a.kind IN ('standard', 'young')
                       ELSE a.kind = 'standard' END""",
    "a hierarchy's roots read NULL": """
        SELECT count(*) FROM customer c LEFT JOIN customer r ON r.id = c.referrer_id
        WHERE c.referrer_tier IS DISTINCT FROM upper(r.tier)""",
    "an existing table's key, read through the reference": """
        SELECT count(*) FROM customer WHERE region_key IS DISTINCT FROM region_id""",
}


def dotted_digests(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return {table: table_digest(conn, table) for table in ("customer", "account")}


def test_names_of_the_referenced_row_read_the_parents_generated_row(
        pg_url: str, pg_conn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pg_conn.execute("CREATE TABLE region (id integer PRIMARY KEY, name text)")
    pg_conn.execute("INSERT INTO region SELECT i, 'r' || i FROM unnest(%s::int[]) AS i",
                    (list(REGION_IDS),))
    for k in (1, 2, 0):
        result = run_cli(capsys, "run", DOTTED, "--target", pg_url, "--quiet",
                         "--partition", f"{k}/3", "--mode", "append")
        assert result.code == 0, result.both
    parts = dotted_digests(pg_url)
    result = run_cli(capsys, "run", DOTTED, "--target", pg_url, "--quiet", "--workers", "2",
                     "--batch-size", "333")
    assert result.code == 0, result.both
    assert dotted_digests(pg_url) == parts  # dotted reads are the same in any partition
    broken = {rule: pg_conn.execute(sql).fetchone()[0]
              for rule, sql in DOTTED_VIOLATIONS.items()}
    assert broken == dict.fromkeys(DOTTED_VIOLATIONS, 0)
    # Each side of every reading occurs, so none of the checks above held for want of rows.
    seen = pg_conn.execute("""
        SELECT count(*) FILTER (WHERE a.customer_id IS NULL),
               count(*) FILTER (WHERE a.premium_until IS NOT NULL),
               count(*) FILTER (WHERE a.kind = 'young'),
               count(*) FILTER (WHERE a.kind = 'standard' AND a.customer_id IS NOT NULL),
               (SELECT count(*) FROM customer WHERE referrer_id IS NULL),
               (SELECT count(*) FROM customer WHERE referrer_id IS NOT NULL)
        FROM account a""").fetchone()
    assert all(n > 0 for n in seen), seen
    regions = {r[0] for r in pg_conn.execute("SELECT DISTINCT region FROM account "
                                             "WHERE region IS NOT NULL").fetchall()}
    assert regions == set(REGION_IDS)
    assert pg_conn.execute("SELECT count(*) FROM region").fetchone()[0] == len(REGION_IDS)
    nullable = dict(pg_conn.execute(
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'account'").fetchall())
    assert nullable["credit"] == nullable["holder_age"] == nullable["premium_until"] == "YES"
    assert nullable["kind"] == "NO"  # a default case: a NULL parent falls to it
