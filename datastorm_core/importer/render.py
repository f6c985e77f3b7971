"""Writing the imported Genfile: TOML sections, keys quoted when they must be, comments.

The import builds ``TableDraft`` values (one per table, its fields in the
table's column order) and ``render`` writes them. Section names are the
table names where TOML and the Genfile allow it; a table named like a
reserved section (``dataset``, ``target``...) or with characters a Genfile
table name cannot have gets a plain section name and ``table = "..."``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datastorm_core.importer.facts import ColumnFacts, FieldChoice
from datastorm_core.target.postgres.live_tables import LiveColumn, LiveTable

__all__ = ["FieldDraft", "TableDraft", "render", "section_names", "toml_key", "toml_value"]

RESERVED = ("dataset", "target", "targets", "dagster", "exports")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class FieldDraft:
    """One column's field, as it will be written."""

    column: LiveColumn
    facts: ColumnFacts
    choice: FieldChoice | None  # None: left to the database
    comment: str
    null_rate: float = 0.0
    unique: bool = False
    primary_key: bool = False
    fallen_back: bool = False  # the plain fallback replaced the first choice
    left_out_because: str | None = None


@dataclass
class TableDraft:
    """One table's section."""

    section: str
    live: LiveTable
    existing: bool = False
    records: int | None = None
    fields: list[FieldDraft] = field(default_factory=list)
    unique_groups: list[list[str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def field(self, name: str) -> FieldDraft | None:
        return next((f for f in self.fields if f.column.name == name), None)


def section_names(tables: Iterable[str]) -> dict[str, str]:
    """A Genfile section name for each table name, unique among them."""
    taken: set[str] = set()
    names: dict[str, str] = {}
    for table in tables:
        name = table
        if not _TABLE_NAME.match(name) or name in RESERVED:
            name = re.sub(r"\W", "_", name)
            if not re.match(r"[A-Za-z_]", name) or name in RESERVED:
                name = "t_" + name
        base, number = name, 1
        while name in taken:
            number += 1
            name = f"{base}_{number}"
        taken.add(name)
        names[table] = name
    return names


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def render(header: Sequence[str], dataset: dict[str, Any], target: dict[str, Any],
           target_comments: Sequence[str], drafts: Sequence[TableDraft]) -> str:
    """The whole Genfile text."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["", "[dataset]"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in dataset.items()]
    lines += ["", "[target]"]
    lines += [f"# {c}" for c in target_comments]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in target.items()]
    for draft in drafts:
        lines.append("")
        lines += [f"# {c}" for c in draft.comments]
        lines.append(f"[{toml_key(draft.section)}]")
        if draft.section != draft.live.name:
            lines.append(f"table = {toml_value(draft.live.name)}")
        if draft.existing:
            lines.append("existing = true")
        elif draft.records is not None:
            lines.append(f"records = {draft.records}")
        if draft.unique_groups:
            lines.append(f"unique = {toml_value(draft.unique_groups)}")
        for f in draft.fields:
            lines += _field_lines(draft.section, f)
    return "\n".join(lines) + "\n"


def _field_lines(section: str, f: FieldDraft) -> list[str]:
    key = f"{toml_key(section)}.{toml_key(f.column.name)}"
    if f.choice is None:
        why = f" ({f.left_out_because})" if f.left_out_because else ""
        return ["", f"# [{key}]: {f.comment}; left to the database{why}"]
    lines = ["", f"[{key}]"]
    why = "; ".join(f.choice.why)
    lines[-1] += f"  # {f.comment}" + (f": {why}" if why else "")
    lines.append(f"type = {toml_value(f.choice.type)}")
    for name, value in f.choice.params.items():
        if value is not None:
            lines.append(f"{toml_key(name)} = {toml_value(value)}")
    if f.primary_key:
        lines.append("primary_key = true")
    elif f.unique:
        lines.append("unique = true")
    if f.null_rate:
        lines.append(f"null_rate = {f.null_rate}")
    return lines
