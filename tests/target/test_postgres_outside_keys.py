"""Replacing a parent alone keeps the foreign keys its children outside the run hold."""

from __future__ import annotations

import pytest

from datastorm_core.genfile import loads_genfile
from datastorm_core.run import RunOptions, run

pytestmark = pytest.mark.postgres

GENFILE = """
[dataset]
seed = 1

[customer]
records = {customers}

[customer.id]
type = "sequence"

[customer.name]
type = "name"

[account]
records = 500

[account.id]
type = "sequence"

[account.customer_id]
type = "reference"
ref = "customer.id"
"""


def _foreign_keys(pg_conn) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    return pg_conn.execute(
        "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'").fetchall()


def test_replacing_the_parent_alone_restores_the_childs_foreign_key(pg_url, pg_conn) -> None:
    run(loads_genfile(GENFILE.format(customers=200)), RunOptions(target=pg_url))
    report = run(loads_genfile(GENFILE.format(customers=200)),
                 RunOptions(target=pg_url, tables=["customer"]))
    assert _foreign_keys(pg_conn) == [("account_customer_id_fkey", True)]
    assert report.warnings == ()
    # The key is enforced again: an orphan is refused.
    with pytest.raises(Exception, match="foreign key"):
        pg_conn.execute("INSERT INTO account VALUES (100000, 999999)")


def test_a_parent_that_no_longer_matches_gets_the_key_back_not_valid(pg_url, pg_conn) -> None:
    run(loads_genfile(GENFILE.format(customers=200)), RunOptions(target=pg_url))
    report = run(loads_genfile(GENFILE.format(customers=20)),
                 RunOptions(target=pg_url, tables=["customer"]))
    assert _foreign_keys(pg_conn) == [("account_customer_id_fkey", False)]
    assert len(report.warnings) == 1 and "account" in report.warnings[0]
    orphans = pg_conn.execute("SELECT count(*) FROM account a WHERE NOT EXISTS "
                              "(SELECT 1 FROM customer c WHERE c.id = a.customer_id)").fetchone()
    assert orphans[0] > 0
