"""What PostgreSQL's catalog says about allowed values, read from its own text.

A run that writes into an application's existing table should find out
before loading that a generated value breaks one of the table's CHECK
constraints or falls outside every partition, and a Genfile written from a
live schema should draw values the schema accepts. PostgreSQL already says
what it accepts, as text: ``pg_get_constraintdef(oid)`` for CHECK and domain
constraints, ``pg_get_expr(relpartbound, oid)`` for partitions. This module
turns the simple, common shapes of that text into data: bounds, value lists,
lengths, partition ranges.

It reads shapes, it does not evaluate SQL: whatever it does not understand it
leaves out and says so (``CheckReading.complete``, a None bound), and it never
raises on such text. The parsing is pglast's (PostgreSQL's own parser), so
quoting, casts and precedence are read as the server reads them. No I/O here:
the caller queries the catalog and passes the text in.

NULL is outside every rule: a CHECK passes when its expression is NULL, so
the rules say which non-null values are allowed.

The package: ``literals`` (PostgreSQL's printed values into Python's),
``readings`` (what is read: constants, bounds, rules), ``nodes`` (pglast's AST
piece by piece), ``checks`` (CHECK constraints) and ``partitions`` (partition
bounds and the ranges they cover).
"""

from __future__ import annotations

from datastorm_core.target.postgres.constraints.checks import read_check
from datastorm_core.target.postgres.constraints.partitions import (
    covered_ranges,
    read_partition_bound,
)
from datastorm_core.target.postgres.constraints.readings import (
    MAXVALUE,
    MINVALUE,
    Bound,
    CheckReading,
    ColumnRule,
    Constant,
    PartitionBound,
    Sentinel,
)

__all__ = [
    "MAXVALUE",
    "MINVALUE",
    "Bound",
    "CheckReading",
    "ColumnRule",
    "Constant",
    "PartitionBound",
    "Sentinel",
    "covered_ranges",
    "read_check",
    "read_partition_bound",
]
