"""A table's section: its options, its fields and each field's parameters.

Everything here concerns one table at a time; rules between tables (references,
stored names, cycles) are ``cross_checks``'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from datastorm_core.genfile.collector import Collector
from datastorm_core.genfile.literals import INT64_MAX, INT64_MIN, is_int, toml_text
from datastorm_core.genfile.model import (
    DailyPartitioning,
    Dataset,
    Field,
    Table,
    TargetConfig,
)
from datastorm_core.genfile.plugins import (
    PLUGIN_TYPE,
    installed_names,
    is_plugin_name,
    plugin_params,
)
from datastorm_core.genfile.streaming import TABLE_OPTIONS as STREAM_OPTIONS
from datastorm_core.genfile.streaming import table_problems as stream_problems
from datastorm_core.genfile.timeexpr import TimeExprError, resolve_time
from datastorm_core.genfile.types import COMMON_PARAMS, FIELD_TYPES, PLANNED_TYPES, Param

__all__ = ["DAILY_OPTIONS", "DEFAULT_RECORDS", "TABLE_OPTIONS", "table_section"]

TABLE_OPTIONS = ("records", "target", "description", "key", "partition_by", "time_field",
                 "start_date", "rows_per_day", "table", "existing", "unique", *STREAM_OPTIONS)
DAILY_OPTIONS = ("time_field", "start_date", "rows_per_day")
DEFAULT_RECORDS = 1000
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The types a Genfile writes by name (a plugin's is the generator's own name).
_BUILT_IN = tuple(k for k in FIELD_TYPES if k != PLUGIN_TYPE)


def table_section(
    name: str,
    spec: dict[str, Any],
    dataset: Dataset,
    targets: Mapping[str, TargetConfig],
    out: Collector,
) -> Table | None:
    fields: list[Field] = []
    options: dict[str, Any] = {}
    if not _TABLE_NAME.match(name):
        # A table becomes an SQL table, a file name and a Dagster asset: the name
        # must be valid for all of them.
        out.add(f"table name {name!r} must be letters, digits and underscores, not starting "
                "with a digit (it names an SQL table, files and a Dagster asset)", name)
    for key, value in spec.items():
        if isinstance(value, dict):
            built = _field(name, key, value, dataset, out)
            if built is not None:
                fields.append(built)
        elif key in TABLE_OPTIONS:
            options[key] = value
        else:
            out.add(f"unknown table option {key!r}; a field is written as a sub-table "
                    f"[{name}.{key}] with a type, options are {', '.join(TABLE_OPTIONS)}", name)
    records = options.get("records", dataset.records)
    if not is_int(records) or not 0 <= records <= INT64_MAX:
        out.add(f"records must be a whole number from 0 to {INT64_MAX:,}, got {records!r}",
                name)
        records = 0
    daily = _daily(name, options, fields, dataset, out)
    if daily is not None:
        # The days from start_date up to [dataset] now: what a whole run writes.
        records = daily.rows_per_day * max(0, (dataset.now.date() - daily.start).days)
    target = options.get("target")
    if target is not None and target not in targets:
        out.add(f"target {target!r} is not defined: add [targets.{target}]", name)
        target = None
    key = options.get("key")
    if key is not None and key not in {f.name for f in fields}:
        out.add(f"key {key!r} must name a field of the table (the field whose value keys "
                "each message)", name)
    if not spec or not any(isinstance(v, dict) for v in spec.values()):
        out.add("table has no field: add one, e.g. [" + name + ".id] type = \"sequence\"", name)
        return None
    names = {f.name for f in fields}
    kinds = {f.name: f.type for f in fields}
    for f in fields:
        # Names in expressions are checked with their types and positions
        # (expression_checks); the other fields' names here.
        for dependency in FIELD_TYPES[f.type].derives(f.params):
            ref, dot, _ = dependency.partition(".")
            if dot:  # REF.FIELD: the parent's side is checked with every table (field_reads)
                if kinds.get(ref) != "reference":
                    out.add(f"reads {dependency!r}, but {ref!r} is not a reference of table "
                            f"{name!r} (REF.FIELD reads FIELD of the row that reference REF "
                            "points at)", name, f.name)
            elif dependency not in names:
                out.add(f"reads field {dependency!r}, which table {name!r} does not have",
                        name, f.name)
            elif dependency == f.name:
                out.add("a field cannot be derived from itself", name, f.name)
    for cycle in _read_cycles(fields):
        out.add("fields are derived from each other in a cycle: " + " -> ".join(cycle),
                name, cycle[0])
    marked = tuple(f.name for f in fields if f.primary_key)
    primary_key = marked or (("id",) if "id" in names else ())
    by_name = {f.name: f for f in fields}
    # A key of several fields is a link table's: references whose combination
    # is unique by construction (pairs drawn from a permutation), not each one.
    composite = len(primary_key) > 1
    if composite and not all(by_name[k].type == "reference" for k in primary_key
                             if k in by_name):
        out.add(f"a primary key of several fields ({', '.join(primary_key)}) must be made of "
                "references (a link table); mark one field primary_key = true otherwise", name)
    for i, f in enumerate(fields):
        if f.name in primary_key:
            if f.null_rate > 0:
                out.add("a primary key cannot have a null_rate", name, f.name)
            if "when" in f.params:
                out.add("a primary key cannot be NULL: remove when", name, f.name)
            if not composite:
                # A primary key is unique by construction, like any unique field.
                fields[i] = replace(f, unique=True)
    sql_name = _sql_name(name, options.get("table"), out)
    existing = options.get("existing", False)
    if not isinstance(existing, bool):
        out.add(f"existing must be true or false, got {toml_text(existing)}", name)
        existing = False
    if existing:
        _check_existing(name, options, fields, daily, out)
        records = 0
    groups = _unique_groups(name, options.get("unique"), by_name, out)
    built = Table(name=name, records=int(records), fields=tuple(fields), primary_key=primary_key,
                  target=target, options=options, daily=daily, sql_name=sql_name,
                  existing=existing, unique_groups=groups)
    for message, field_name in stream_problems(built):  # mutable, transitions, stream_*
        out.add(message, name, field_name)
    return built


def _sql_name(name: str, given: Any, out: Collector) -> str | None:
    """The ``table`` option: the table's name in the target, when not the section's."""
    if given is None:
        return None
    if not isinstance(given, str) or not given.strip():
        out.add(f"table must be the table's name in the target, got {toml_text(given)}", name)
        return None
    return given  # what its target can hold is names.problems' question


def _check_existing(name: str, options: Mapping[str, Any], fields: list[Field],
                    daily: DailyPartitioning | None, out: Collector) -> None:
    """``existing = true``: rows already in the database, read for references, never written."""
    for option in ("records", "partition_by"):
        if option in options:
            out.add(f"{option} is set, but an existing table's rows are the database's: "
                    f"remove {option}", name)
    for f in fields:
        if f.type == "reference":
            out.add("an existing table is read, not generated: its fields name the keys other "
                    "tables reference; remove this reference", name, f.name)


def _unique_groups(name: str, given: Any, by_name: Mapping[str, Field],
                   out: Collector) -> tuple[tuple[str, ...], ...]:
    """``unique = [["a", "b"], ...]``: references unique together, drawn jointly."""
    if given is None:
        return ()
    if not isinstance(given, list) or not all(
            isinstance(g, list) and len(g) >= 2 and all(isinstance(x, str) for x in g)
            for g in given):
        out.add(f"unique must be a list of field lists, e.g. unique = [[\"a\", \"b\"]], "
                f"got {toml_text(given)}", name)
        return ()
    groups: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for group in given:
        missing = [f for f in group if f not in by_name]
        if missing:
            out.add(f"unique names {', '.join(map(repr, missing))}, which the table does not "
                    "have", name)
            continue
        plain = [f for f in group if by_name[f].type != "reference"]
        if plain:
            out.add(f"unique = [{', '.join(map(repr, group))}]: {', '.join(plain)} "
                    f"{'is' if len(plain) == 1 else 'are'} not a reference; a group is made of "
                    "references (drawn together); to make a group of other fields unique, mark "
                    "one of them unique = true", name)
            continue
        shared = seen & set(group)
        if shared:
            out.add(f"{', '.join(sorted(shared))} cannot be in two unique groups", name)
            continue
        seen |= set(group)
        groups.append(tuple(group))
    return tuple(groups)


def _field(table: str, name: str, spec: dict[str, Any], dataset: Dataset,
           out: Collector) -> Field | None:
    kind = spec.get("type")
    if kind is not None and not isinstance(kind, str):
        out.add(f"type must be a string like \"int\", got {toml_text(kind)}", table, name)
        return None
    if kind is None:
        out.add("missing `type`; e.g. type = \"int\"; known types: " + ", ".join(_BUILT_IN),
                table, name)
        return None
    if kind in PLANNED_TYPES:
        out.add(f"type {kind!r} is planned but not available in this version; available: "
                f"{', '.join(_BUILT_IN)}", table, name)
        return None
    if kind == PLUGIN_TYPE:
        out.add(f"type {kind!r} is not written as such: name your generator as the type, "
                "type = \"my_pkg.gens:Iban\" or an installed entry point's name "
                "(docs/plugins.md)", table, name)
        return None
    # A type that is not built in may name a generator of the user's (genfile.plugins).
    plugin = kind not in FIELD_TYPES and is_plugin_name(kind)
    if kind not in FIELD_TYPES and not plugin:
        installed = installed_names()
        out.add(f"unknown type {toml_text(kind)}; known types: {', '.join(_BUILT_IN)}"
                + (f"; installed generators: {', '.join(installed)}" if installed else "")
                + "; or a plugin generator of your own, type = \"module:Name\" "
                "(docs/plugins.md)", table, name)
        return None
    if plugin:
        params = plugin_params(kind, spec, COMMON_PARAMS)
        kind = PLUGIN_TYPE
    else:
        params = _type_params(table, name, kind, spec, out)
    null_rate = spec.get("null_rate", 0.0)
    if not isinstance(null_rate, (int, float)) or isinstance(null_rate, bool) \
            or not 0 <= null_rate <= 1:
        out.add(f"null_rate must be a number between 0 and 1, got {toml_text(null_rate)}",
                table, name)
        null_rate = 0.0
    flags = {}
    for flag in ("unique", "primary_key", "mutable"):
        value = spec.get(flag, False)
        if not isinstance(value, bool):
            out.add(f"{flag} must be true or false, got {toml_text(value)}", table, name)
            value = False
        flags[flag] = value
    if "max_length" in spec:
        # Carried with the type's parameters: source.table cuts TEXT values to it, and
        # refuses it where a cut would break something (not text, unique, a reference).
        max_length = spec["max_length"]
        if not is_int(max_length) or max_length < 1:
            out.add(f"max_length must be an integer >= 1, got {toml_text(max_length)}", table, name)
        else:
            params["max_length"] = max_length
    if "when" in spec:
        # Carried with the type's parameters, like max_length: source.table makes the
        # value NULL where the condition does not hold.
        when = spec["when"]
        if not isinstance(when, str) or not when.strip():
            out.add(f"when must be a condition (a string), e.g. when = \"status == 'done'\", "
                    f"got {toml_text(when)}", table, name)
        else:
            params["when"] = when
    _check_params(table, name, kind, params, dataset, out)
    return Field(name=name, type=kind, params=params, null_rate=float(null_rate),
                 unique=flags["unique"],
                 primary_key=flags["primary_key"], mutable=flags["mutable"])


def _type_params(table: str, name: str, kind: str, spec: dict[str, Any],
                 out: Collector) -> dict[str, Any]:
    """A built-in type's parameters, each checked against the type's catalogue entry."""
    ftype = FIELD_TYPES[kind]
    params: dict[str, Any] = {}
    for key, value in spec.items():
        if key in COMMON_PARAMS:
            continue
        param = ftype.param(key)
        if param is None:
            accepted = [p.name for p in ftype.params] + list(COMMON_PARAMS[1:])
            out.add(f"unknown parameter {key!r} for type {kind}; accepted: "
                    f"{', '.join(accepted)}", table, name)
            continue
        if not _matches(value, param):
            out.add(f"{key} must be {param.describe_kinds()}, got {toml_text(value)}", table, name)
            continue
        # TOML has inf and nan, and integers of any size: a number a column cannot hold
        # would wrap or poison a whole draw, inside a list as much as alone.
        wrong = _unholdable(value)
        if wrong is not None:
            out.add(f"{key} {wrong}", table, name)
            continue
        if param.choices and value not in param.choices:
            allowed = ", ".join(map(str, param.choices))
            out.add(f"{key} must be one of {allowed}, got {toml_text(value)}", table, name)
            continue
        params[key] = value
    for param in ftype.params:
        if param.required and param.name not in spec:
            out.add(f"type {kind} needs `{param.name}`", table, name)
    return params


def _check_params(table: str, name: str, kind: str, p: dict[str, Any], dataset: Dataset,
                  out: Collector) -> None:
    """Checks of a field's parameters that need more than their types (the type's own)."""
    for message in FIELD_TYPES[kind].check(p, dataset.now):
        out.add(message, table, name)


def _daily(table: str, options: dict[str, Any], fields: list[Field], dataset: Dataset,
           out: Collector) -> DailyPartitioning | None:
    """``partition_by = "day"``: an event table whose rows are cut in days."""
    given = [k for k in DAILY_OPTIONS if k in options]
    if options.get("partition_by") is None:
        if given:
            out.add(f"{', '.join(given)} go with partition_by = \"day\"", table)
        return None
    if options["partition_by"] != "day":
        out.add(f"partition_by must be \"day\", got {toml_text(options['partition_by'])}", table)
        return None
    missing = [k for k in DAILY_OPTIONS if k not in options]
    if missing:
        out.add(f"partition_by = \"day\" needs {', '.join(missing)}", table)
        return None
    if "records" in options:
        out.add("records is set, but a daily table has rows_per_day rows a day: remove records",
                table)
    rows = options["rows_per_day"]
    if not is_int(rows) or rows < 1:
        out.add(f"rows_per_day must be a whole number >= 1, got {toml_text(rows)}", table)
        return None
    try:
        start = resolve_time(options["start_date"], dataset.now).date()
    except TimeExprError as exc:
        out.add(f"start_date: {exc}", table)
        return None
    by_name = {f.name: f for f in fields}
    time_field = by_name.get(options["time_field"])
    if time_field is None or time_field.type not in ("timestamp", "date"):
        out.add(f"time_field {toml_text(options['time_field'])} must name a timestamp or date "
                "field of this table", table)
        return None
    placed = [k for k in ("start", "end", "distribution") if k in time_field.params]
    if placed:
        out.add(f"the time field falls inside its partition's day: remove {', '.join(placed)}",
                table, time_field.name)
    return DailyPartitioning(time_field.name, start, rows)


def _read_cycles(fields: list[Field]) -> list[list[str]]:
    """Cycles among fields of one table that read each other (a -> b -> a)."""
    reads = {f.name: [d for d in FIELD_TYPES[f.type].reads(f.params) if d != f.name]
             for f in fields}
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for dependency in reads.get(name, []):
            if dependency not in reads:
                continue
            if state.get(dependency) == 1:
                cycle = [*path[path.index(dependency):], dependency]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            elif dependency not in state:
                visit(dependency)
        path.pop()
        state[name] = 2

    for name in reads:
        if name not in state:
            visit(name)
    return cycles


def _unholdable(value: Any) -> str | None:
    """Why ``value`` (or a number inside it) cannot be a column's value; None if it can."""
    if isinstance(value, list):
        for item in value:
            found = _unholdable(item)
            if found is not None:
                return found
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {toml_text(value)}"
    if is_int(value) and not INT64_MIN <= value <= INT64_MAX:
        return f"{value} does not fit a 64-bit integer"
    return None


def _matches(value: Any, param: Param) -> bool:
    if isinstance(value, bool):
        return bool in param.kinds
    return isinstance(value, param.kinds)
