"""`expr`, `when` and `cases` after `datastorm run` on PostgreSQL: PostgreSQL itself
recomputes every rule on every row, and finds the column types the rules make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import FIXTURES, run_cli, write

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

ACCOUNTS = 20_000
GENFILE = (FIXTURES / "expressions.toml").read_text(encoding="utf-8").replace(
    "records = 3000", f"records = {ACCOUNTS}")

# Each rule as PostgreSQL says it; every count must be 0.
VIOLATIONS = {
    "when on a reference": "(customer_id IS NULL) <> (status = 'frozen')",
    "when on an expr": "(closed_at IS NULL) <> (status <> 'closed')",
    "an expr of timestamps": "closed_at <> opened_at + interval '30 days' + (id % 24) * "
                             "interval '1 hour'",
    "decimals exact, rounded half away from zero": "fee IS DISTINCT FROM CASE WHEN balance > 0 "
                                                   "THEN round(balance * 0.015, 2) ELSE 0 END",
    "months clipped at month ends": "due <> (opened_at::date + (id % 13) * interval "
                                    "'1 month')::date",
    "a condition": "recent <> (opened_at > timestamp '2026-01-01' - interval '1 year')",
    "age in whole years": "holder_age <> extract(year FROM age(opened_at, birth_date))",
    "the first case that holds": "NOT CASE WHEN balance >= 5000 THEN tier IN ('plus', "
                                 "'premium') WHEN balance >= 1000 THEN tier IN ('basic', 'plus') "
                                 "ELSE tier = 'basic' END",
    "cases on now": "NOT CASE WHEN scheduled_at > timestamp '2026-01-01' THEN visit IN "
                    "('booked', 'confirmed') ELSE visit IN ('done', 'cancelled', 'missed') END",
    "text and when together": "label IS DISTINCT FROM CASE WHEN tier IN ('plus', 'premium') AND "
                              "NOT recent THEN upper(status) || '-' || id END",
}


def test_every_rule_holds_on_every_row(tmp_path: Path, pg_url: str, pg_conn: Any,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "run", write(tmp_path, GENFILE), "--target", pg_url, "--quiet",
                     "--workers", "2")
    assert result.code == 0, result
    assert pg_conn.execute("SELECT count(*) FROM account").fetchone()[0] == ACCOUNTS
    broken = {rule: pg_conn.execute(f"SELECT count(*) FROM account WHERE {sql}").fetchone()[0]
              for rule, sql in VIOLATIONS.items()}
    assert broken == dict.fromkeys(VIOLATIONS, 0)
    # Both sides of every condition occur: the checks above were not vacuous.
    seen = pg_conn.execute(
        "SELECT count(*) FILTER (WHERE closed_at IS NULL), count(*) FILTER (WHERE closed_at "
        "IS NOT NULL), count(DISTINCT tier), count(DISTINCT visit), count(*) FILTER (WHERE "
        "label IS NULL), count(*) FILTER (WHERE label IS NOT NULL), count(*) FILTER (WHERE "
        "customer_id IS NULL) FROM account").fetchone()
    assert all(n > 0 for n in seen) and seen[2:4] == (3, 5)
    orphans = pg_conn.execute("SELECT count(*) FROM account a LEFT JOIN customer c ON "
                              "c.id = a.customer_id WHERE a.customer_id IS NOT NULL AND "
                              "c.id IS NULL").fetchone()[0]
    assert orphans == 0


def test_the_rules_make_the_columns_they_say(tmp_path: Path, pg_url: str, pg_conn: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    small = GENFILE.replace(f"records = {ACCOUNTS}", "records = 50")
    assert run_cli(capsys, "run", write(tmp_path, small), "--target", pg_url,
                   "--quiet").code == 0
    columns = {name: (kind, scale, nullable) for name, kind, scale, nullable in pg_conn.execute(
        "SELECT column_name, data_type, numeric_scale, is_nullable FROM "
        "information_schema.columns WHERE table_name = 'account'").fetchall()}
    assert columns["fee"] == ("numeric", 2, "YES")  # its balance may be NULL
    assert columns["closed_at"] == ("timestamp without time zone", None, "YES")
    assert columns["due"] == ("date", None, "NO")
    assert columns["recent"] == ("boolean", None, "NO")
    assert columns["holder_age"] == ("bigint", 0, "NO")
    assert columns["tier"] == ("text", None, "NO")  # a default case
    assert columns["customer_id"] == ("bigint", 0, "YES")
