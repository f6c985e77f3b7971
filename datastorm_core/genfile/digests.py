"""Digests of what decides the rows: the whole Genfile's, and each table's.

A table's digest changes exactly when its rows would: its own section, the
dataset options it uses, the dictionary files it reads. The Dagster sensor
regenerates a table when its digest changes, and a child refuses a parent
whose digest is not the one its keys were drawn from.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from datastorm_core.genfile.model import Dataset
from datastorm_core.genfile.paths import file_digest
from datastorm_core.genfile.streaming import rows_definition

__all__ = ["genfile_digest", "table_digest"]


def genfile_digest(doc: dict[str, Any]) -> str:
    """The digest of a whole Genfile, its targets left out (where rows go is not what
    they are)."""
    return _digest({k: v for k, v in doc.items() if k not in ("target", "targets")})


def _digest(value: Any) -> str:
    """sha256 of a canonical JSON text of ``value`` (keys sorted)."""
    canonical = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def table_digest(doc: dict[str, Any], name: str, dataset: Dataset,
                  base_dir: str | None) -> str:
    """What decides a table's rows: its section, the dataset options it uses, its files."""
    section = doc.get(name)
    files = {}
    if isinstance(section, dict):
        for field_name, spec in section.items():
            if isinstance(spec, dict) and isinstance(spec.get("dictionary"), str):
                # An edited dictionary changes the rows as much as an edited field.
                files[field_name] = file_digest(spec["dictionary"], base_dir)
    decided = {
        "table": rows_definition(section),  # the stream's words change no row
        "files": files,
        "seed": dataset.seed,
        "records": dataset.records,
        "locale": dataset.locale,
        "now": dataset.now.isoformat(),
        "partitions": dataset.partitions,
    }
    children = _totalled(doc, section)
    if children:  # only then: the digests of tables without totals stay as they were
        decided["children"] = children
    return _digest(decided)


def _totalled(doc: dict[str, Any], section: Any) -> dict[str, Any]:
    """The sections of the child tables a table's ``total`` fields read: a child's rows
    decide the parent's totals, as a parent's decide its children's references (which
    the Dagster sensor follows downwards; a total points upwards)."""
    if not isinstance(section, dict):
        return {}
    names = {spec["of"].partition(".")[0] for spec in section.values()
             if isinstance(spec, dict) and spec.get("type") == "total"
             and isinstance(spec.get("of"), str)}
    return {name: rows_definition(doc.get(name)) for name in sorted(names)}
