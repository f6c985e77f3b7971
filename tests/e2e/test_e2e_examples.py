"""The example Genfiles load into PostgreSQL with every foreign key declared and holding."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from validate_docbr import CNPJ, CPF

from datastorm_core.genfile import Genfile
from datastorm_core.loading import loads_genfile
from datastorm_core.run import RunOptions, run

pytestmark = pytest.mark.postgres

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def scaled(name: str, factor: int = 10) -> str:
    """The example with every explicit row count divided by ``factor`` (at least 10)."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    return re.sub(r"^records = (\d+)$",
                  lambda m: f"records = {max(10, int(m.group(1)) // factor)}", text, flags=re.M)


def foreign_keys(conn: Any) -> set[tuple[str, str, str]]:
    rows = conn.execute("""
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
        FROM pg_constraint c JOIN pg_attribute a
          ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.convalidated""").fetchall()
    return {(child, column, parent) for child, column, parent in rows}


def everything_to(genfile: Genfile, url: str) -> RunOptions:
    """The default target and every named one (the bank's Kafka events) to ``url``."""
    return RunOptions(target=url, target_for={name: url for name in genfile.targets})


@pytest.mark.parametrize("example", ["bank.toml", "hospital.toml"])
def test_example_loads_with_every_reference_a_checked_foreign_key(example: str, pg_url: str,
                                                                pg_conn: Any) -> None:
    genfile = loads_genfile(scaled(example))
    report = run(genfile, everything_to(genfile, pg_url))
    assert report.stats.rows == sum(t.records for t in genfile.tables)
    declared = foreign_keys(pg_conn)
    for table in genfile.tables:
        count = pg_conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]
        assert count == table.records, table.name
        for field in table.references:
            parent = field.ref[0]
            # A key can only join tables of one target; across targets the
            # rows still match (checked below), but nothing declares it.
            same_target = genfile.table(parent).target == table.target
            assert ((table.name, field.name, parent) in declared) == same_target, \
                (table.name, field.name)
            orphans = pg_conn.execute(
                f'SELECT count(*) FROM "{table.name}" c WHERE c."{field.name}" IS NOT NULL '
                f'AND NOT EXISTS (SELECT 1 FROM "{parent}" p WHERE p."{field.ref[1]}" = '
                f'c."{field.name}")').fetchone()[0]
            assert orphans == 0


def test_bank_documents_are_valid_and_cardinalities_hold(pg_url: str, pg_conn: Any) -> None:
    bank = loads_genfile(scaled("bank.toml"))
    run(bank, everything_to(bank, pg_url))
    cpfs = [r[0] for r in pg_conn.execute("SELECT cpf FROM customer").fetchall()]
    assert len(set(cpfs)) == len(cpfs) and all(CPF().validate(c) for c in cpfs)
    cnpjs = [r[0] for r in pg_conn.execute("SELECT company_cnpj FROM stock").fetchall()]
    assert all(CNPJ().validate(c) for c in cnpjs)
    low, high = pg_conn.execute(
        "SELECT min(n), max(n) FROM (SELECT count(a.id) AS n FROM customer c "
        "LEFT JOIN account a ON a.customer_id = c.id GROUP BY c.id) s").fetchone()
    assert low >= 1 and high <= 3
    per_loan = pg_conn.execute(
        "SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM installment "
        "GROUP BY loan_id) s").fetchone()
    assert per_loan[0] >= 12 and per_loan[1] <= 60
    # Hot accounts: transactions follow a zipf distribution over accounts.
    top, median = pg_conn.execute(
        "SELECT max(n), percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM "
        "(SELECT count(*) AS n FROM transaction GROUP BY account_id) s").fetchone()
    assert top > 20 * median


def test_hospital_link_table_and_cities(pg_url: str, pg_conn: Any) -> None:
    run(loads_genfile(scaled("hospital.toml")), RunOptions(target=pg_url))
    pairs, distinct = pg_conn.execute(
        "SELECT count(*), count(DISTINCT (patient_id, insurer_id)) FROM coverage").fetchone()
    assert pairs == distinct > 0
    crms = [r[0] for r in pg_conn.execute("SELECT crm FROM doctor").fetchall()]
    assert all(re.fullmatch(r"CRM/[A-Z]{2} \d{6}", c) for c in crms)
    states = {r[0] for r in pg_conn.execute("SELECT DISTINCT state FROM patient").fetchall()}
    assert states and all(re.fullmatch(r"[A-Z]{2}", s) for s in states)
