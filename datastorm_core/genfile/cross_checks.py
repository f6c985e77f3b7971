"""Rules between tables (references, one table per stored name, the targets' order)
and over the Genfile's text (date-times finer than TOML keeps)."""

from __future__ import annotations

import re

from datastorm_core.errors import Problem
from datastorm_core.genfile.collector import Collector
from datastorm_core.genfile.graph import table_cycles, target_order
from datastorm_core.genfile.literals import is_int, toml_text
from datastorm_core.genfile.model import (
    Field,
    Table,
)
from datastorm_core.genfile.parse import RawGenfile

__all__ = ["check_fine_datetimes", "check_references", "check_stored_names",
           "check_target_order"]


def check_stored_names(tables: list[Table], out: Collector) -> None:
    """Two sections cannot write one table of a target."""
    seen: dict[tuple[str | None, str], str] = {}
    for table in tables:
        key = (table.target, table.stored_name)
        if key in seen:
            out.add(f"tables {seen[key]!r} and {table.name!r} both write the table "
                    f"{table.stored_name!r}", table.name)
        else:
            seen[key] = table.name


def check_target_order(tables: list[Table], out: Collector) -> None:
    if table_cycles(tables):
        return  # reported as a cycle of tables already
    try:
        target_order(tables)
    except ValueError as exc:
        out.add(str(exc))


def check_references(tables: list[Table], out: Collector) -> list[Table]:
    """References must point at a primary key or unique field of a known table.

    Also the rules of cardinality: at most one ``per_parent`` reference per
    table (it decides the table's row count), self-references that stay
    acyclic, and one-to-one references (unique) only through ``per_parent``.
    """
    by_name = {t.name: t for t in tables}
    for table in tables:
        tied = [f for f in table.references if "per_parent" in f.params]
        if len(tied) > 1:
            out.add(f"only one reference may set per_parent (the table's row count follows "
                    f"from it); found {', '.join(f.name for f in tied)}", table.name)
        if tied and "records" in table.options:
            out.add(f"records is set, but the row count follows from {tied[0].name}'s "
                    "per_parent: remove records", table.name)
        for f in table.references:
            # A malformed ref ("p", "p.") is already reported by _check_params;
            # looking it up would report the same mistake a second time.
            if f.ref is None or "ref" not in f.params or not all(f.ref):
                continue
            _check_reference(table, f, by_name, out)
    return tables


def _check_reference(table: Table, f: Field, by_name: dict[str, Table], out: Collector) -> None:
    def bad(message: str) -> None:
        out.add(message, table.name, f.name)

    assert f.ref is not None
    parent_name, column = f.ref
    parent = by_name.get(parent_name)
    if parent is None:
        bad(f"ref {f.params['ref']!r}: there is no table {parent_name!r}")
        return
    if column not in parent.field_names:
        bad(f"ref {f.params['ref']!r}: table {parent_name!r} has no field {column!r}")
        return
    if parent.daily is not None:
        bad(f"ref {f.params['ref']!r}: {parent_name} is partitioned by day (its rows grow "
            "every day); events can reference masters, not the other way round")
    if parent.existing and "per_parent" in f.params:
        bad(f"ref {f.params['ref']!r}: {parent_name} is an existing table whose row count "
            "the database decides; per_parent cannot tie a row count to it")
    if f.deferred:
        why = ("it is the primary key" if f.name in table.primary_key
               else "it sets the row count (per_parent)" if "per_parent" in f.params
               else "it is part of a composite key (same_row_as)"
               if "same_row_as" in f.params or any(
                   r.params.get("same_row_as") == f.name for r in table.references)
               else "it is in a unique group" if any(f.name in g for g in table.unique_groups)
               else "a self-reference is written in order already" if parent_name == table.name
               else None)
        if why is not None:
            bad(f"deferred = true: {why}")
        if not table.primary_key:
            bad("deferred = true sets the value by the table's primary key after the load; "
                "the table has none")
    partner_name = f.params.get("same_row_as")
    if partner_name is not None:
        partner = next((p for p in table.fields if p.name == partner_name), None)
        if partner is None or partner.ref is None or partner.name == f.name:
            bad(f"same_row_as {partner_name!r} must name another reference of this table")
        elif partner.ref[0] != parent_name or "same_row_as" in partner.params:
            bad(f"same_row_as {partner_name!r}: that reference must point at {parent_name} "
                "itself (the same parent row gives this field its value)")
        elif {"per_parent", "distribution"} & set(f.params):
            bad("same_row_as takes its parent row from the other reference: remove "
                "per_parent and distribution")
        elif parent.existing:
            # An existing table's keys are read one column at a time (the distinct values
            # of each), so no row ties the values of two of its columns together.
            bad(f"same_row_as {partner_name!r}: {parent_name} is an existing table, whose "
                "keys are read column by column, not row by row; a composite foreign key "
                "into an existing table is not supported yet")
    if table.daily is not None and "per_parent" in f.params:
        bad("a daily table has rows_per_day rows a day: remove per_parent")
    target = parent.field(column)
    # A composite foreign key: a leader and the references that follow its parent row
    # (same_row_as). Together their parent fields must be a key; alone they need not.
    followers = [r for r in table.references if r.params.get("same_row_as") == f.name]
    composite = bool(followers) or "same_row_as" in f.params
    if not composite and column not in parent.primary_key and not target.unique:
        bad(f"ref {f.params['ref']!r}: {parent_name}.{column} is neither a primary key nor "
            "unique; mark it `unique = true`")
    if followers:
        columns = {column, *(r.ref[1] for r in followers if r.ref is not None)}
        keyed = (set(parent.primary_key) <= columns and parent.primary_key) or any(
            set(g) <= columns for g in parent.unique_groups) or any(
            parent.field(c).unique for c in columns if c in parent.field_names)
        if not keyed:
            bad(f"ref {f.params['ref']!r} and its same_row_as followers point at "
                f"{parent_name}({', '.join(sorted(columns))}), which is not a key of it: mark "
                "one of them unique, or list them in its unique option")
    if target.null_rate > 0:
        bad(f"ref {f.params['ref']!r}: {parent_name}.{column} has a null_rate; a referenced "
            "key cannot be null")
    if target.type == "reference" and not composite:
        bad(f"ref {f.params['ref']!r}: {parent_name}.{column} is itself a reference; point at "
            "the key it references instead")
    per_parent = f.params.get("per_parent")
    self_reference = parent_name == table.name
    if "root_rate" in f.params:
        if not self_reference:
            bad("root_rate applies to a self-reference (a hierarchy) only")
        elif not 0 <= f.params["root_rate"] <= 1:
            bad(f"root_rate must be between 0 and 1, got {f.params['root_rate']}")
    if per_parent is not None:
        # "REF.FIELD" (a count from the parent's field) and "STATE" (a lifecycle's paths)
        # are field_reads' to resolve.
        if not isinstance(per_parent, str) and (
                len(per_parent) != 2 or not all(is_int(v) for v in per_parent)
                or not 0 <= per_parent[0] <= per_parent[1]):
            bad(f"per_parent must be [min, max] with 0 <= min <= max, \"{f.name}.FIELD\" "
                "(a field of the parent) or the name of a lifecycle field of this table, "
                f"got {toml_text(per_parent)}")
        if self_reference:
            bad("per_parent cannot tie a table to itself")
        if f.params.get("distribution", "uniform") != "uniform":
            bad("per_parent decides which parent each row has: remove `distribution`")
        if f.null_rate > 0:
            bad("with per_parent every row has its parent: remove null_rate")
        if "when" in f.params:
            bad("with per_parent every row has its parent: remove when")
    one_to_one = isinstance(per_parent, list) and len(per_parent) == 2 and per_parent[1] == 1
    grouped = any(f.name in g for g in table.unique_groups)
    if f.unique and len(table.primary_key) < 2 and not one_to_one and not grouped:
        bad("a unique reference (one-to-one) needs per_parent = [0, 1] or [1, 1]")
    if self_reference:
        if f.name in table.primary_key:
            bad("a self-reference cannot be the primary key")
        if column == f.name:
            bad("a field cannot reference itself")


# A TOML date-time literal (not a string) with more than 6 decimals of a second: TOML
# readers keep microseconds and drop the rest without a word.
_FINE_DATETIME = re.compile(r"=\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}\.\d{7,}")


def check_fine_datetimes(raw: RawGenfile, out: Collector) -> None:
    for number, line in enumerate(raw.text.splitlines(), start=1):
        if _FINE_DATETIME.search(line):
            out.problems.append(Problem(
                "a date-time finer than a microsecond, which PostgreSQL keeps: write at most "
                "6 decimals of a second", line=number))
