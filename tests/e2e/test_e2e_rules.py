"""The rules (issue 15) on real PostgreSQL: `datastorm run` of tests/fixtures/rules.toml,
then every invariant checked on every row by SQL; and the same rows whatever the workers,
the batch size or the partition layout."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from e2e_support import FIXTURES, run_cli, table_digest

pytestmark = pytest.mark.postgres

RULES = str(FIXTURES / "rules.toml")
TABLES = ("customer", "account", "transaction", "loan", "installment", "employee")

# Each query counts the rows that break one rule: all must be 0.
VIOLATIONS = {
    "a loan has as many installments as its months": """
        SELECT count(*) FROM loan l
        WHERE l.months <> (SELECT count(*) FROM installment i WHERE i.loan_id = l.id)""",
    "installments fall due after the loan is signed": """
        SELECT count(*) FILTER (WHERE i.due_date < l.signed_at)
        FROM installment i JOIN loan l ON l.id = i.loan_id""",
    "a loan's installments are numbered 1..n in order": """
        SELECT count(*) FROM (
          SELECT number, row_number() OVER (PARTITION BY loan_id ORDER BY id) AS n,
                 due_date, lag(due_date) OVER (PARTITION BY loan_id ORDER BY id) AS before
          FROM installment) s
        WHERE number <> n OR due_date <= before OR due_date - before NOT BETWEEN 28 AND 31""",
    "transactions after their account was opened": """
        SELECT count(*) FILTER (WHERE t.created_at < a.opened_at
                                   OR t.created_at > a.opened_at + interval '90 days'
                                   OR t.created_at > '2026-01-01')
        FROM transaction t JOIN account a ON a.id = t.account_id""",
    "a transaction without an account has no time": """
        SELECT count(*) FROM transaction
        WHERE (account_id IS NULL) <> (created_at IS NULL)""",
    "account holders are 18 or older when the account opens": """
        SELECT count(*) FILTER (WHERE age(a.opened_at, c.birth_date) < interval '18 years')
        FROM account a JOIN customer c ON c.id = a.customer_id""",
    "two hops: a transaction's customer's birth date": """
        SELECT count(*) FROM transaction t JOIN account a ON a.id = t.account_id
        JOIN customer c ON c.id = a.customer_id WHERE t.born IS DISTINCT FROM c.birth_date""",
    "a review after the manager was hired, none without a manager": """
        SELECT count(*) FROM employee e LEFT JOIN employee m ON m.id = e.manager_id
        WHERE (e.manager_id IS NULL) <> (e.reviewed_at IS NULL)
           OR e.reviewed_at NOT BETWEEN m.hired_at AND m.hired_at + 30""",
    "a loan's totals are its installments'": """
        SELECT count(*) FROM loan l JOIN (
          SELECT loan_id, sum(amount) AS total, count(*) AS n, max(due_date) AS last,
                 round(avg(amount), 2) AS mean
          FROM installment GROUP BY loan_id) i ON i.loan_id = l.id
        WHERE l.total_due <> i.total OR l.installments <> i.n OR l.last_due <> i.last
           OR abs(l.mean_amount - i.mean) > 0.01""",
}


def digests(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return {table: table_digest(conn, table) for table in TABLES}


def test_every_rule_holds_on_every_row(pg_url: str, pg_conn: Any,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "run", RULES, "--target", pg_url, "--quiet")
    assert result.code == 0, result.both
    broken = {rule: pg_conn.execute(query).fetchone()[0] for rule, query in VIOLATIONS.items()}
    assert broken == dict.fromkeys(VIOLATIONS, 0)
    loans, installments = pg_conn.execute(
        "SELECT (SELECT count(*) FROM loan), (SELECT count(*) FROM installment)").fetchone()
    assert loans == 400 and installments > 400 * 6
    nullable = dict(pg_conn.execute(
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'transaction'").fetchall())
    assert nullable["created_at"] == "YES"


def test_partitions_workers_and_batches_write_the_same_rows(
        pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for k in (2, 0, 1):  # any order: each partition is its own rows
        result = run_cli(capsys, "run", RULES, "--target", pg_url, "--quiet",
                         "--partition", f"{k}/3", "--mode", "append")
        assert result.code == 0, result.both
    parts = digests(pg_url)
    assert run_cli(capsys, "run", RULES, "--target", pg_url, "--quiet", "--workers", "1").code == 0
    assert digests(pg_url) == parts
    assert run_cli(capsys, "run", RULES, "--target", pg_url, "--quiet", "--workers", "2",
                   "--batch-size", "777").code == 0
    assert digests(pg_url) == parts
