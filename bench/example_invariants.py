"""The rules of the shipped examples, measured on every row (issue 15's table).

    python bench/example_invariants.py [--database-url URL] [--seed N] [--scale N]
                                       [--markdown]

Runs examples/bank.toml and examples/hospital.toml (every table, the bank's
events too, into one scratch PostgreSQL database, created and dropped here),
then counts, for each invariant, the rows that hold it and the rows it is
about, by SQL. ``--scale N`` divides every explicit row count by N (the
end-to-end test runs the examples small). The test
tests/e2e/test_e2e_example_invariants.py reads ``INVARIANTS`` from here, so
the table printed and the test check the same queries.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from datastorm_core.loading import loads_genfile
from datastorm_core.run import RunOptions, run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Invariant:
    """One rule of an example: ``sql`` gives (rows holding it, rows it is about)."""

    example: str  # bank.toml or hospital.toml
    label: str
    sql: str  # {now}: the example's [dataset] now, as a timestamp literal


def rule(example: str, label: str, holds: str, rows: str) -> Invariant:
    """An invariant: the rows of ``rows`` (a FROM clause) where ``holds``, of all of them.
    A row whose parent is missing (a LEFT JOIN's NULLs) breaks it."""
    return Invariant(example, label,
                     f"SELECT count(*) FILTER (WHERE {holds}), count(*) FROM {rows}")


def after_parent(example: str, label: str, child: str, ref: str, parent: str, moment: str,
                 base: str, until: str = "{now}") -> Invariant:
    """Rows of ``child`` whose ``moment`` is at or after their parent's ``base`` (through
    the reference ``ref`` to ``parent.id``), and not after ``until``."""
    return rule(example, label, f"c.{moment} >= p.{base} AND c.{moment} <= {until}",
                f"{child} c LEFT JOIN {parent} p ON p.id = c.{ref}")


BANK, HOSPITAL = "bank.toml", "hospital.toml"
INVARIANTS: tuple[Invariant, ...] = (
    # -- issue 15's table ---------------------------------------------------------------
    rule(BANK, "a loan has as many installments as its `months`",
         "l.months = coalesce(i.n, 0)",
         "loan l LEFT JOIN (SELECT loan_id, count(*) AS n FROM installment GROUP BY 1) i "
         "ON i.loan_id = l.id"),
    rule(BANK, "installments fall due after the loan is signed", "i.due_date > l.signed_at",
         "installment i LEFT JOIN loan l ON l.id = i.loan_id"),
    rule(BANK, "a loan's installments fall due in distinct months", "months = n",
         "(SELECT count(DISTINCT date_trunc('month', due_date)) AS months, count(*) AS n "
         "FROM installment GROUP BY loan_id) s"),
    after_parent(BANK, "transactions after their account was opened",
                 "transaction", "account_id", "account", "created_at", "opened_at"),
    after_parent(BANK, "trades after their account was opened",
                 "trade", "account_id", "account", "executed_at", "opened_at"),
    rule(BANK, "account holders are 18 or older when the account opens",
         "a.opened_at >= c.birth_date + interval '18 years'",
         "account a LEFT JOIN customer c ON c.id = a.customer_id"),
    after_parent(HOSPITAL, "appointments after the patient was born",
                 "appointment", "patient_id", "patient", "scheduled_at", "birth_date",
                 until="{now} + interval '3 months'"),
    after_parent(HOSPITAL, "admissions after the patient was born",
                 "admission", "patient_id", "patient", "admitted_at", "birth_date"),
    rule(HOSPITAL, "appointments with status `agendada` lie in the future",
         "scheduled_at > {now}", "appointment WHERE status = 'agendada'"),
    # -- the other rules of the examples ----------------------------------------------------
    rule(BANK, "customers are 18 or older when they join",
         "created_at >= birth_date + interval '18 years'", "customer"),
    after_parent(BANK, "accounts open after their holder joined",
                 "account", "customer_id", "customer", "opened_at", "created_at"),
    after_parent(BANK, "cards are issued after their account was opened",
                 "credit_card", "account_id", "account", "issued_at", "opened_at"),
    after_parent(BANK, "card purchases after their card was issued",
                 "card_transaction", "card_id", "credit_card", "purchased_at", "issued_at"),
    after_parent(BANK, "loans are signed after the customer joined",
                 "loan", "customer_id", "customer", "signed_at", "created_at"),
    rule(BANK, "installments are numbered 1..n, a month apart from the signing",
         "i.number = i.n AND i.due_date = (l.signed_at + i.number * interval '1 month')::date",
         "(SELECT *, row_number() OVER (PARTITION BY loan_id ORDER BY id) AS n "
         "FROM installment) i LEFT JOIN loan l ON l.id = i.loan_id"),
    # Computed again in float8, as datastorm computes it: the amount is that, rounded to
    # cents.
    rule(BANK, "an installment is the price formula's amount",
         "abs(i.amount - p.principal * p.rate / (1 - (1 + p.rate) ^ (-p.months))) "
         "<= 0.0050001",
         "installment i LEFT JOIN (SELECT id, principal::float8 AS principal, "
         "monthly_rate::float8 / 100 AS rate, months FROM loan) p ON p.id = i.loan_id"),
    rule(BANK, "a loan's total is the sum of its installments",
         "l.total_due = coalesce(i.total, 0)",
         "loan l LEFT JOIN (SELECT loan_id, sum(amount) AS total FROM installment "
         "GROUP BY 1) i ON i.loan_id = l.id"),
    rule(BANK, "installments not yet due are not paid", "NOT paid",
         "installment WHERE due_date > {now}"),
    rule(HOSPITAL, "patients are born before they are registered, updated after",
         "birth_date <= registered_at AND registered_at <= updated_at AND updated_at <= {now}",
         "patient"),
    after_parent(HOSPITAL, "appointments after the patient was registered",
                 "appointment", "patient_id", "patient", "scheduled_at", "registered_at",
                 until="{now} + interval '3 months'"),
    after_parent(HOSPITAL, "appointments updated after the patient was registered",
                 "appointment", "patient_id", "patient", "updated_at", "registered_at"),
    rule(HOSPITAL, "confirmed appointments lie in the future", "scheduled_at > {now}",
         "appointment WHERE status = 'confirmada'"),
    rule(HOSPITAL, "appointments done or missed lie in the past", "scheduled_at <= {now}",
         "appointment WHERE status IN ('realizada', 'falta')"),
    after_parent(HOSPITAL, "admissions after the patient was registered",
                 "admission", "patient_id", "patient", "admitted_at", "registered_at"),
    rule(HOSPITAL, "admissions updated after the admission, by now",
         "updated_at >= admitted_at AND updated_at <= {now}", "admission"),
    rule(HOSPITAL, "an admission is open only while its stay runs past now",
         "(status = 'internado') = (admitted_at + days * interval '1 day' > {now})",
         "admission"),
    rule(HOSPITAL, "only a discharged admission has a discharge time",
         "CASE WHEN status = 'alta' THEN discharged_at = admitted_at + days * interval '1 day' "
         "ELSE discharged_at IS NULL END", "admission"),
)


def now_literal(now: datetime) -> str:
    return f"timestamp '{now.isoformat(sep=' ')}'"


def measure(conn: psycopg.Connection, example: str, now: datetime
            ) -> list[tuple[Invariant, int, int]]:
    """(invariant, rows holding, rows about) for each invariant of ``example``."""
    found = []
    for invariant in INVARIANTS:
        if invariant.example == example:
            row = conn.execute(invariant.sql.format(now=now_literal(now))).fetchone()
            assert row is not None
            found.append((invariant, int(row[0]), int(row[1])))
    return found


def scaled(name: str, factor: int) -> str:
    """The example with every explicit row count divided by ``factor`` (at least 10)."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    if factor == 1:
        return text
    return re.sub(r"^records = (\d+)$",
                  lambda m: f"records = {max(10, int(m.group(1)) // factor)}", text, flags=re.M)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    name = f"ds_invariants_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_example(text: str, url: str, seed: int | None) -> datetime:
    """``datastorm run`` of an example into ``url``, the named targets too; its now."""
    genfile = loads_genfile(text, environ={})
    run(genfile, RunOptions(target=url, seed=seed,
                            target_for={name: url for name in genfile.targets}))
    return genfile.dataset.now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "DATASTORM_TEST_DATABASE_URL", DEFAULT_URL),
        help="a server's maintenance database, where a scratch database can be created")
    parser.add_argument("--seed", type=int, default=None, help="default: the examples' own")
    parser.add_argument("--scale", type=int, default=1, help="divide row counts by this")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    broken = 0
    if args.markdown:
        print("| example | invariant | rows holding | rows | share |\n|---|---|---:|---:|---:|")
    for example in ("bank.toml", "hospital.toml"):
        with scratch_database(args.database_url) as url:
            now = run_example(scaled(example, args.scale), url, args.seed)
            with psycopg.connect(url) as conn:
                for invariant, holding, total in measure(conn, example, now):
                    broken += total - holding
                    share = f"{holding / total:.2%}" if total else "-"
                    if args.markdown:
                        print(f"| {example} | {invariant.label} | {holding:,} | {total:,} | "
                              f"{share} |")
                    else:
                        print(f"{example:14} {invariant.label:66} {holding:>9,} of "
                              f"{total:>9,}  {share}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
