"""An export's SQL made into what psycopg sends, parameters placed at their tokens.

Two forms, both built from ``genfile.export_sql``'s cut of the SQL at the
parameter tokens (never by searching the text for ``:name``):

- ``bound``: for a server-side cursor (JSONL, Parquet). Each parameter is a
  psycopg placeholder cast to its declared type, ``CAST(%(state)s AS text)``;
  the values travel apart from the SQL and the server binds them.
- ``with_literals``: for ``COPY (query) TO STDOUT`` (CSV), which takes no bind
  parameters (the server's COPY has no parameter slots, and PREPARE cannot hold
  a COPY). Each value is rendered by psycopg's ``sql.Literal``, the driver's own
  quoting with the connection's encoding (quotes doubled, backslashes handled,
  ``E''`` when needed), and cast to its declared type: a value is always one
  literal, whatever text it carries. The SQL around it is the Genfile's, not the
  caller's: the API accepts no SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql

from datastorm_core.genfile.export_params import SQL_TYPES
from datastorm_core.genfile.export_sql import ExportSql, read_sql
from datastorm_core.genfile.model import Export

__all__ = ["bound", "with_literals"]


def _cut(export: Export) -> tuple[ExportSql, dict[str, str]]:
    return read_sql(export.sql), {p.name: SQL_TYPES[p.type] for p in export.params}


def bound(export: Export) -> str:
    """The SQL with ``CAST(%(name)s AS type)`` placeholders (``%`` of the SQL doubled, as
    psycopg reads ``%%``); execute it with the values as a mapping."""
    cut, types = _cut(export)
    out = [cut.parts[0].replace("%", "%%")]
    for name, part in zip(cut.params, cut.parts[1:], strict=True):
        out.append(f"CAST(%({name})s AS {types[name]})")
        out.append(part.replace("%", "%%"))
    return "".join(out)


def with_literals(export: Export, values: Mapping[str, Any]) -> sql.Composed:
    """The SQL with each parameter a ``CAST(<literal> AS type)`` quoted by psycopg."""
    cut, types = _cut(export)
    pieces: list[sql.Composable] = [sql.SQL(cut.parts[0])]
    for name, part in zip(cut.params, cut.parts[1:], strict=True):
        pieces += [sql.SQL("CAST("), sql.Literal(values[name]),
                   sql.SQL(f" AS {types[name]})"), sql.SQL(part)]
    return sql.Composed(pieces)
