"""Relational shapes on real PostgreSQL: per_parent, hierarchies, link tables."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import constraints, table_digest

from datastorm_core.genfile import Partition, loads_genfile
from datastorm_core.run import RunOptions, run

pytestmark = pytest.mark.postgres

GENFILE = """
[dataset]
seed = 11
constraints = "{constraints}"

[customer]
records = 400
[customer.id]
type = "sequence"
[customer.name]
type = "name"

[account.id]
type = "sequence"
[account.customer_id]
type = "reference"
ref = "customer.id"
per_parent = [1, 3]
[account.balance]
type = "decimal"
min = 0
max = 1000

[profile.id]
type = "sequence"
[profile.customer_id]
type = "reference"
ref = "customer.id"
per_parent = [0, 1]
unique = true

[employee]
records = 300
[employee.id]
type = "sequence"
[employee.manager_id]
type = "reference"
ref = "employee.id"
root_rate = 0.05

[product]
records = 30
[product.sku]
type = "string"
pattern = "AAA-999"
primary_key = true

[favorite]
records = 2000
[favorite.customer_id]
type = "reference"
ref = "customer.id"
primary_key = true
[favorite.sku]
type = "reference"
ref = "product.sku"
primary_key = true
"""


def scalar(conn: Any, query: str) -> Any:
    return conn.execute(query).fetchone()[0]


@pytest.mark.parametrize("mode", ["after_load", "immediate"])
def test_relational_shapes_load_with_every_key_checked(pg_url: str, pg_conn: Any,
                                                      mode: str) -> None:
    run(loads_genfile(GENFILE.format(constraints=mode)), RunOptions(target=pg_url))
    per_customer = pg_conn.execute(
        "SELECT min(n), max(n), count(*) FROM (SELECT c.id, count(a.id) AS n FROM customer c "
        "LEFT JOIN account a ON a.customer_id = c.id GROUP BY c.id) s").fetchone()
    assert per_customer[0] >= 1 and per_customer[1] <= 3 and per_customer[2] == 400
    assert scalar(pg_conn, "SELECT count(*) FROM profile") == scalar(
        pg_conn, "SELECT count(DISTINCT customer_id) FROM profile")
    # The hierarchy: every manager is an earlier employee, so walking up always ends.
    assert scalar(pg_conn, "SELECT count(*) FROM employee WHERE manager_id >= id") == 0
    depth = scalar(pg_conn, """
        WITH RECURSIVE up(id, manager_id, depth) AS (
            SELECT id, manager_id, 0 FROM employee
            UNION ALL
            SELECT u.id, e.manager_id, u.depth + 1 FROM up u JOIN employee e
              ON e.id = u.manager_id WHERE u.depth < 1000)
        SELECT max(depth) FROM up""")
    assert depth < 1000
    assert scalar(pg_conn, "SELECT count(*) FROM employee WHERE manager_id IS NULL") >= 1
    assert scalar(pg_conn, "SELECT count(*) FROM (SELECT DISTINCT customer_id, sku "
                           "FROM favorite) s") == 2000
    declared = constraints(pg_conn)
    assert ("favorite", "p", "PRIMARY KEY (customer_id, sku)") in declared
    assert ("employee", "f", "FOREIGN KEY (manager_id) REFERENCES employee(id)") in declared
    assert ("profile", "u", "UNIQUE (customer_id)") in declared
    assert ("account", "f", "FOREIGN KEY (customer_id) REFERENCES customer(id)") in declared


def test_tied_partitions_in_append_mode_add_up_to_the_whole_run(pg_server_url: str,
                                                                 pg_url: str,
                                                                 pg_conn: Any) -> None:
    import uuid

    import psycopg

    genfile = loads_genfile(GENFILE.format(constraints="after_load"))
    for k in range(3):
        run(genfile, RunOptions(target=pg_url, partition=Partition(k, 3), mode="append"))
    name = f"ds_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        whole_url = pg_url.rsplit("/", 1)[0] + f"/{name}"
        run(genfile, RunOptions(target=whole_url))
        with psycopg.connect(whole_url) as whole:
            for table, key in (("customer", "id"), ("account", "id"), ("profile", "id"),
                               ("employee", "id"), ("product", "sku")):
                assert table_digest(pg_conn, table, key) == table_digest(whole, table, key)
        # Once every partition is in, the foreign keys are declared and hold.
        foreign = {d for t, k, d in constraints(pg_conn) if k == "f"}
        assert "FOREIGN KEY (customer_id) REFERENCES customer(id)" in foreign
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
