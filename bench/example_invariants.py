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


# Every query counts over all the rows it is about (a LEFT JOIN: a row whose parent is
# missing counts as breaking it).
INVARIANTS: tuple[Invariant, ...] = (
    # -- issue 15's table ---------------------------------------------------------------
    Invariant("bank.toml", "a loan has as many installments as its `months`", """
        SELECT count(*) FILTER (WHERE l.months = coalesce(i.n, 0)), count(*)
        FROM loan l LEFT JOIN (SELECT loan_id, count(*) AS n FROM installment GROUP BY 1) i
          ON i.loan_id = l.id"""),
    Invariant("bank.toml", "installments fall due after the loan is signed", """
        SELECT count(*) FILTER (WHERE i.due_date > l.signed_at), count(*)
        FROM installment i LEFT JOIN loan l ON l.id = i.loan_id"""),
    Invariant("bank.toml", "a loan's installments fall due in distinct months", """
        SELECT count(*) FILTER (WHERE months = n), count(*) FROM (
          SELECT count(DISTINCT date_trunc('month', due_date)) AS months, count(*) AS n
          FROM installment GROUP BY loan_id) s"""),
    Invariant("bank.toml", "transactions after their account was opened", """
        SELECT count(*) FILTER (WHERE t.created_at >= a.opened_at
                                  AND t.created_at <= {now}), count(*)
        FROM transaction t LEFT JOIN account a ON a.id = t.account_id"""),
    Invariant("bank.toml", "trades after their account was opened", """
        SELECT count(*) FILTER (WHERE t.executed_at >= a.opened_at
                                  AND t.executed_at <= {now}), count(*)
        FROM trade t LEFT JOIN account a ON a.id = t.account_id"""),
    Invariant("bank.toml", "account holders are 18 or older when the account opens", """
        SELECT count(*) FILTER (WHERE a.opened_at >= c.birth_date + interval '18 years'),
               count(*)
        FROM account a LEFT JOIN customer c ON c.id = a.customer_id"""),
    Invariant("hospital.toml", "appointments after the patient was born", """
        SELECT count(*) FILTER (WHERE a.scheduled_at >= p.birth_date), count(*)
        FROM appointment a LEFT JOIN patient p ON p.id = a.patient_id"""),
    Invariant("hospital.toml", "admissions after the patient was born", """
        SELECT count(*) FILTER (WHERE a.admitted_at >= p.birth_date
                                  AND a.admitted_at <= {now}), count(*)
        FROM admission a LEFT JOIN patient p ON p.id = a.patient_id"""),
    Invariant("hospital.toml", "appointments with status `agendada` lie in the future", """
        SELECT count(*) FILTER (WHERE scheduled_at > {now}), count(*)
        FROM appointment WHERE status = 'agendada'"""),
    # -- the other rules of the examples ----------------------------------------------------
    Invariant("bank.toml", "customers are 18 or older when they join", """
        SELECT count(*) FILTER (WHERE created_at >= birth_date + interval '18 years'),
               count(*)
        FROM customer"""),
    Invariant("bank.toml", "accounts open after their holder joined, by now", """
        SELECT count(*) FILTER (WHERE a.opened_at >= c.created_at
                                  AND a.opened_at <= {now}), count(*)
        FROM account a LEFT JOIN customer c ON c.id = a.customer_id"""),
    Invariant("bank.toml", "cards are issued after their account was opened", """
        SELECT count(*) FILTER (WHERE k.issued_at >= a.opened_at
                                  AND k.issued_at <= {now}), count(*)
        FROM credit_card k LEFT JOIN account a ON a.id = k.account_id"""),
    Invariant("bank.toml", "card purchases after their card was issued", """
        SELECT count(*) FILTER (WHERE t.purchased_at >= k.issued_at
                                  AND t.purchased_at <= {now}), count(*)
        FROM card_transaction t LEFT JOIN credit_card k ON k.id = t.card_id"""),
    Invariant("bank.toml", "loans are signed after the customer joined", """
        SELECT count(*) FILTER (WHERE l.signed_at >= c.created_at
                                  AND l.signed_at <= {now}), count(*)
        FROM loan l LEFT JOIN customer c ON c.id = l.customer_id"""),
    Invariant("bank.toml", "installments are numbered 1..n, a month apart from the signing",
              """
        SELECT count(*) FILTER (WHERE i.number = i.n AND i.due_date =
                                (l.signed_at + i.number * interval '1 month')::date), count(*)
        FROM (SELECT *, row_number() OVER (PARTITION BY loan_id ORDER BY id) AS n
              FROM installment) i LEFT JOIN loan l ON l.id = i.loan_id"""),
    Invariant("bank.toml", "an installment is the price formula's amount", """
        SELECT count(*) FILTER (WHERE abs(i.amount - p.principal * p.rate
                                          / (1 - (1 + p.rate) ^ (-p.months))) <= 0.0050001),
               count(*)
        FROM installment i LEFT JOIN (
          SELECT id, principal::float8 AS principal, monthly_rate::float8 / 100 AS rate,
                 months FROM loan) p ON p.id = i.loan_id"""),
    Invariant("bank.toml", "a loan's total is the sum of its installments", """
        SELECT count(*) FILTER (WHERE l.total_due = coalesce(i.total, 0)), count(*)
        FROM loan l LEFT JOIN (SELECT loan_id, sum(amount) AS total FROM installment
                               GROUP BY 1) i ON i.loan_id = l.id"""),
    Invariant("bank.toml", "installments not yet due are not paid", """
        SELECT count(*) FILTER (WHERE NOT paid), count(*)
        FROM installment WHERE due_date > {now}"""),
    Invariant("hospital.toml", "patients are born before they are registered", """
        SELECT count(*) FILTER (WHERE birth_date <= registered_at
                                  AND registered_at <= updated_at
                                  AND updated_at <= {now}), count(*)
        FROM patient"""),
    Invariant("hospital.toml", "appointments after the patient was registered", """
        SELECT count(*) FILTER (WHERE a.scheduled_at >= p.registered_at
                                  AND a.scheduled_at <= {now} + interval '3 months'
                                  AND a.updated_at >= p.registered_at
                                  AND a.updated_at <= {now}), count(*)
        FROM appointment a LEFT JOIN patient p ON p.id = a.patient_id"""),
    Invariant("hospital.toml", "confirmed appointments lie in the future", """
        SELECT count(*) FILTER (WHERE scheduled_at > {now}), count(*)
        FROM appointment WHERE status = 'confirmada'"""),
    Invariant("hospital.toml", "appointments done or missed lie in the past", """
        SELECT count(*) FILTER (WHERE scheduled_at <= {now}), count(*)
        FROM appointment WHERE status IN ('realizada', 'falta')"""),
    Invariant("hospital.toml", "admissions after the patient was registered", """
        SELECT count(*) FILTER (WHERE a.admitted_at >= p.registered_at
                                  AND a.updated_at >= a.admitted_at
                                  AND a.updated_at <= {now}), count(*)
        FROM admission a LEFT JOIN patient p ON p.id = a.patient_id"""),
    Invariant("hospital.toml", "an admission is open only while its stay runs past now", """
        SELECT count(*) FILTER (WHERE (status = 'internado')
                                  = (admitted_at + days * interval '1 day' > {now})), count(*)
        FROM admission"""),
    Invariant("hospital.toml", "only a discharged admission has a discharge time", """
        SELECT count(*) FILTER (WHERE CASE WHEN status = 'alta'
                                  THEN discharged_at = admitted_at + days * interval '1 day'
                                  ELSE discharged_at IS NULL END), count(*)
        FROM admission"""),
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
