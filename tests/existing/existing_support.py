"""Helpers of the existing-schema tests: schemas made by someone else, and their dumps."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg

PAGILA = Path(__file__).resolve().parent / "fixtures" / "pagila-schema.sql"

# The example of the issue: an application's schema with everything that hangs on
# tables (defaults, checks, a view, a trigger, a grant, a comment); ROLE is replaced
# by the test's own role name.
APP_SCHEMA = """
CREATE TABLE customer (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE, born date,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','blocked')),
  created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE account (id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customer(id),
  balance numeric(12,2) NOT NULL CHECK (balance > -1000));
CREATE VIEW rich AS SELECT c.name, a.balance FROM customer c
  JOIN account a ON a.customer_id = c.id WHERE a.balance > 10000;
CREATE TABLE audit (id bigserial PRIMARY KEY, customer_id bigint, at timestamptz DEFAULT now());
CREATE FUNCTION audit_customer() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO audit(customer_id) VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER customer_audit AFTER INSERT ON customer
  FOR EACH ROW EXECUTE FUNCTION audit_customer();
GRANT SELECT ON customer TO ROLE;
COMMENT ON TABLE customer IS 'the application''s customers';
"""

APP_GENFILE = """\
[dataset]
seed = 7

[customer]
records = 400

[customer.id]
type = "sequence"

[customer.name]
type = "name"

[customer.email]
type = "email"
from = "name"
unique = true

[customer.born]
type = "date"
start = "1950-01-01"
end = "2005-12-31"

[account]
records = 1000

[account.id]
type = "sequence"

[account.customer_id]
type = "reference"
ref = "customer.id"

[account.balance]
type = "decimal"
min = -500
max = 50000
scale = 2
"""


def pg_tool(name: str) -> str:
    """A PostgreSQL client program (pg_dump, psql): on PATH, else beside the newest server."""
    found = shutil.which(name)
    if found:
        return found
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        candidate = os.path.join(bindir, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(f"{name} is not on PATH nor under /usr/lib/postgresql/*/bin")


def schema_dump(url: str) -> str:
    """``pg_dump --schema-only``, without the random ``\\restrict`` key of newer pg_dumps."""
    out = subprocess.run([pg_tool("pg_dump"), "--schema-only", "--no-owner", url],
                         check=True, capture_output=True, text=True).stdout
    return "\n".join(line for line in out.splitlines()
                     if not line.startswith(("\\restrict", "\\unrestrict")))


def load_sql(url: str, text: str) -> None:
    """Run a schema script as its author would (psql, stop at the first error)."""
    subprocess.run([pg_tool("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", url],
                   input=text, check=True, capture_output=True, text=True)


def rows(conn: Any, query: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(query).fetchall()]


def table_rows(url: str, table: str, order: str = "1") -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return rows(conn, f'SELECT * FROM "{table}" ORDER BY {order}')
