"""A table's columns as Dagster's column schema: the type the target shows, the
constraints, and a description saying how each column is generated.

The description is what someone reading the catalog wants to know without
opening the Genfile: the generator, its range or values, its distribution,
what it references, how often it is NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from datastorm_core.core.schema import TableSchema
from datastorm_core.genfile.model import Field, Table

__all__ = ["column_schema", "field_description"]

# Pairs of bounds shown as one range, in the units the Genfile wrote.
_BOUNDS = (("min", "max"), ("start", "end"), ("min_length", "max_length"))
# A list longer than this is shown by its first items and a count.
_SHOWN_ITEMS = 5
# A value longer than this is cut: a description is a line, not the Genfile.
_SHOWN_CHARS = 60


def column_schema(schema: TableSchema, table: Table | None = None,
                  types: Mapping[str, str] | None = None) -> dg.TableSchema:
    """A datastorm table schema as Dagster's column schema metadata: each column's type
    as its target shows it (``types``, from ``tables.column_types``; else datastorm's
    column kind), and how it is generated when ``table`` is given."""
    fields = {f.name: f for f in table.fields} if table is not None else {}
    columns = []
    for col in schema.columns:
        other = []
        if col.name in schema.primary_key:
            other.append("primary key")
        for fk in schema.foreign_keys:
            if fk.column == col.name:
                other.append(f"references {fk.parent_table}.{fk.parent_column}")
        constraints = dg.TableColumnConstraints(
            nullable=col.nullable,
            unique=col.name in schema.primary_key or col.name in schema.unique,
            other=other,
        )
        spec = fields.get(col.name)
        columns.append(dg.TableColumn(
            col.name, (types or {}).get(col.name, col.type.value),
            description=field_description(spec) if spec is not None else None,
            constraints=constraints))
    return dg.TableSchema(columns=columns)


def field_description(spec: Field) -> str:
    """How a field is generated, in one line: ``int: 18..90, normal (mean 40); 5% NULL``."""
    params = dict(spec.params)
    if spec.written_type != spec.type:  # a generator of the user's: its own parameters
        params = {**params.pop("options", {}),
                  **{k: v for k, v in params.items() if k != "generator"}}
    parts = []
    for low, high in _BOUNDS:
        if low in params or high in params:
            parts.append(f"{_shown(params.pop(low, '…'))}..{_shown(params.pop(high, '…'))}")
    if "ref" in params:
        parts.append(f"references {_shown(params.pop('ref'))}")
    if "values" in params:
        parts.append("one of " + _listed(params.pop("values"), params.pop("weights", None)))
    if "distribution" in params:
        shape = _shown(params.pop("distribution"))
        settings = {k: params.pop(k) for k in ("mean", "stddev", "exponent")
                    if k in params}
        parts.append(shape + (f" ({_settings(settings)})" if settings else ""))
    parts.extend(f"{key} {_shown(value)}" for key, value in params.items()
                 if key not in ("type", "description", "null_rate", "unique", "primary_key"))
    tail = []
    if spec.null_rate:
        tail.append(f"{spec.null_rate:.0%} NULL")
    if spec.unique:
        tail.append("unique")
    text = spec.written_type + (": " + ", ".join(parts) if parts else "")
    described = spec.params.get("description")
    head = f"{described}. " if isinstance(described, str) and described else ""
    return head + text + ("; " + ", ".join(tail) if tail else "")


def _settings(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {_shown(v)}" for k, v in values.items())


def _listed(values: Any, weights: Any = None) -> str:
    if not isinstance(values, (list, tuple)):
        return _shown(values)
    if isinstance(weights, (list, tuple)) and len(weights) == len(values):
        items = [f"{_shown(v)} ({_shown(w)})" for v, w in zip(values, weights, strict=True)]
    else:
        items = [_shown(v) for v in values]
    more = len(items) - _SHOWN_ITEMS
    return ", ".join(items[:_SHOWN_ITEMS]) + (f" (+{more} more)" if more > 0 else "")


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value) if not isinstance(
        value, (int, float)) else f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 1] + "…"
