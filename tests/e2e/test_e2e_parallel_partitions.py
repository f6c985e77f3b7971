"""Partition runs side by side, as Dagster's executors and run launchers start them."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg
import pytest
from e2e_support import table_digest

from datastorm_core.genfile import Partition, loads_genfile
from datastorm_core.run import RunOptions, run

pytestmark = pytest.mark.postgres

GENFILE = """
[dataset]
seed = 5

[customer]
records = 3000
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
max = 900
"""


@pytest.mark.timeout(120)
def test_partitions_loaded_at_once_on_a_fresh_database_add_up(pg_server_url: str,
                                                               pg_url: str,
                                                               pg_conn: Any) -> None:
    genfile = loads_genfile(GENFILE)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def load(k: int) -> None:
        try:
            start.wait()
            run(genfile, RunOptions(target=pg_url, partition=Partition(k, 4), mode="append"))
        except BaseException as exc:  # collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(100)
    assert not errors, errors
    # Whichever partition finished last found no orphan and no loader: it added the key.
    foreign = pg_conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                              "AND conrelid = 'account'::regclass AND convalidated").fetchone()
    assert foreign[0] == 1

    name = f"ds_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        whole = pg_url.rsplit("/", 1)[0] + f"/{name}"
        run(genfile, RunOptions(target=whole))
        with psycopg.connect(whole) as other:
            for table in ("customer", "account"):
                assert table_digest(pg_conn, table) == table_digest(other, table)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
