"""Turn a parsed TOML document into a validated ``Genfile``, or list every problem.

Validation never stops at the first error: a user fixing a Genfile wants
the whole list at once, each naming the table, the field and what is
wrong. Checks that need the generators (dictionary sizes, whether a
unique field's space is large enough) live in ``source``; ``run.check``
runs both before anything is written.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from datastorm_core.core.modes import CONSTRAINT_MODES, WRITE_MODES
from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import names
from datastorm_core.genfile.dagster_section import dagster_settings
from datastorm_core.genfile.digests import genfile_digest, table_digest
from datastorm_core.genfile.graph import table_cycles, target_order
from datastorm_core.genfile.literals import INT64_MAX, INT64_MIN, is_int, toml_text
from datastorm_core.genfile.model import (
    DailyPartitioning,
    Dataset,
    Field,
    Genfile,
    Table,
    TargetConfig,
)
from datastorm_core.genfile.parse import RawGenfile, expand_env
from datastorm_core.genfile.sizing import size_tables
from datastorm_core.genfile.streaming import TABLE_OPTIONS as STREAM_OPTIONS
from datastorm_core.genfile.streaming import table_problems as stream_problems
from datastorm_core.genfile.timeexpr import TimeExprError, parse_anchor, resolve_time
from datastorm_core.genfile.types import COMMON_PARAMS, FIELD_TYPES, PLANNED_TYPES, Param
from datastorm_core.secrets import remember

__all__ = ["RESERVED", "TARGET_TYPES", "WRITE_MODES", "validate"]

RESERVED = ("dataset", "target", "targets", "dagster", "exports")
TARGET_TYPES = ("postgres", "sqlite", "csv", "jsonl", "console", "null", "kafka")
TABLE_OPTIONS = ("records", "target", "description", "key", "partition_by", "time_field",
                 "start_date", "rows_per_day", "table", "existing", "unique", *STREAM_OPTIONS)

DAILY_OPTIONS = ("time_field", "start_date", "rows_per_day")
DEFAULT_RECORDS = 1000
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Defaults of min and max; the generators use the same (see source.generators).


class _Collector:
    """Gathers problems, locating each by the header it sits under."""

    def __init__(self, raw: RawGenfile) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def add(self, message: str, table: str | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(message, table, field, self.raw.line_of(table, field)))


def validate(
    raw: RawGenfile,
    environ: Mapping[str, str] | None = None,
    target_overridden: bool = False,
    named_overridden: Collection[str] | bool = (),
) -> Genfile:
    """Validate a parsed Genfile; raise GenfileError listing every problem."""
    out = _Collector(raw)
    doc = raw.document
    _check_fine_datetimes(raw, out)

    dataset = _dataset(doc.get("dataset", {}), out)

    def skip_named(name: str) -> bool:
        """Whether the command line replaces the named target (its type is unknown here)."""
        return named_overridden is True or (
            not isinstance(named_overridden, bool) and name in named_overridden)

    target = _target(doc.get("target", {}), "target", out, environ, skip_env=target_overridden)
    targets: dict[str, TargetConfig] = {}
    named = doc.get("targets", {})
    if not isinstance(named, dict):
        out.add("[targets] must be a table of named targets")
    else:
        for name, spec in named.items():
            skip = named_overridden is True or (
                not isinstance(named_overridden, bool) and name in named_overridden)
            targets[name] = _target(spec, f"targets.{name}", out, environ, skip_env=skip)
    dagster_spec = doc.get("dagster", {})
    if not isinstance(dagster_spec, dict):  # `dagster = 3`: no [dagster] header to point at
        out.add("[dagster] must be a table")
        dagster_spec = {}
    dagster = dagster_settings(dagster_spec, lambda message: out.add(message, "dagster"))
    if "exports" in doc:  # reserved by the contract for `datastorm export`
        out.add("[exports] is reserved for SQL reports (`datastorm export`), which this version "
                "does not have yet; a table of that name is written with a section of another "
                "name and table = \"exports\"")

    tables: list[Table] = []
    for key, value in doc.items():
        if key in RESERVED:
            continue
        if not isinstance(value, dict):
            out.add(f"top-level key {key!r} must be a table ([{key}]) or one of the reserved "
                    f"sections {', '.join(RESERVED)}")
            continue
        table = _table(key, value, dataset, targets, out)
        if table is not None:
            tables.append(table)
    if not tables and not out.problems:
        out.add("the Genfile defines no table: add one, e.g. [user.id] with type = \"sequence\"")

    tables = _check_references(tables, out)
    _check_stored_names(tables, out)
    kinds = {None: None if target_overridden else target.type,
             **{n: (None if skip_named(n) else t.type) for n, t in targets.items()}}
    for name_, kind in kinds.items():
        on_target = [t for t in tables if t.target == name_]
        for problem in names.problems(kind or "", on_target):
            out.add(problem.message, problem.table, problem.field)
    _check_target_order(tables, out)
    for cycle in table_cycles(tables):
        out.add("tables reference each other in a cycle: " + " -> ".join(cycle), cycle[0])

    if out.problems:
        ordered = sorted(out.problems, key=lambda p: (p.line is None, p.line or 0))
        raise GenfileError(ordered, raw.path)
    tables = size_tables(tables, dataset.seed)
    base_dir = os.path.dirname(os.path.abspath(raw.path)) if raw.path else None
    return Genfile(
        dataset=dataset,
        target=target,
        tables=tuple(tables),
        targets=targets,
        dagster=dagster,
        path=raw.path,
        digest=genfile_digest(doc),
        table_digests={t.name: table_digest(doc, t.name, dataset, base_dir) for t in tables},
        header_lines=dict(raw.header_lines),
    )


# -- sections ---------------------------------------------------------------


def _dataset(spec: Any, out: _Collector) -> Dataset:
    if not isinstance(spec, dict):
        out.add("[dataset] must be a table")
        return Dataset()
    known = ("seed", "records", "buffer_size", "batch_size", "locale", "partitions", "now",
             "constraints")
    for key in spec:
        if key not in known:
            out.add(f"unknown option {key!r}; expected one of {', '.join(known)}", "dataset")
    values: dict[str, Any] = {}
    for key, minimum in (("seed", None), ("records", 0), ("buffer_size", 1), ("batch_size", 1),
                         ("partitions", 1)):
        if key in spec:
            value = spec[key]
            if not is_int(value):
                out.add(f"{key} must be an integer, got {value!r}", "dataset")
            elif minimum is not None and value < minimum:
                out.add(f"{key} must be at least {minimum}, got {value}", "dataset")
            else:
                values[key] = value
    if "locale" in spec:
        if isinstance(spec["locale"], str):
            values["locale"] = spec["locale"]
        else:
            out.add(f"locale must be a string like \"pt_BR\", got {spec['locale']!r}", "dataset")
    if "now" in spec:
        try:
            values["now"] = parse_anchor(spec["now"])
        except TimeExprError as exc:
            out.add(f"now: {exc}", "dataset")
    if "constraints" in spec:
        if spec["constraints"] in CONSTRAINT_MODES:
            values["constraints"] = spec["constraints"]
        else:
            out.add(f"constraints must be one of {', '.join(CONSTRAINT_MODES)}, "
                    f"got {spec['constraints']!r}", "dataset")
    return Dataset(**values)


def _target(
    spec: Any,
    section: str,
    out: _Collector,
    environ: Mapping[str, str] | None,
    skip_env: bool,
) -> TargetConfig:
    if not isinstance(spec, dict):
        out.add(f"[{section}] must be a table")
        return TargetConfig()
    # An unset variable in `url` is one mistake: it is reported as unset
    # below, not a second time as an empty url.
    url_unset: list[Problem] = []
    expand_env(spec.get("url"), url_unset, environ)
    env_problems: list[Problem] = []
    spec = expand_env(spec, env_problems, environ, (section, None))
    if not skip_env:
        for p in env_problems:
            out.add(p.message, section)
    kind = spec.get("type")
    if kind is not None and not isinstance(kind, str):
        out.add(f"type must be a string like \"postgres\", got {toml_text(kind)}", section)
        kind = None
    if kind == "postgresql":
        kind = "postgres"
    url = spec.get("url")
    if isinstance(url, str):
        remember(url)  # read from the Genfile or the environment: never printed
    if kind == "kafka" and isinstance(url, str) and url.strip() and "://" not in url:
        url = "kafka://" + url.strip()  # the contract's url = "host:port[,host:port]"
    if url is not None and not isinstance(url, str):
        out.add(f"url must be a string, got {toml_text(url)}", section)
        url = None
    elif url is not None and not url.strip() and url_unset:
        url = None
    elif url is not None and not url.strip() and not skip_env:
        out.add("url is empty (is the environment variable it names set to \"\"?)", section)
        url = None
    if url:
        scheme = url.split(":", 1)[0] if ":" in url else None
        scheme = "postgres" if scheme == "postgresql" else scheme
        if scheme is None:
            out.add(f"url {url!r} has no scheme; write e.g. sqlite:///{url} or "
                    "postgresql://user@host:5432/db", section)
        elif kind is not None and scheme != kind and not skip_env:
            out.add(f"type {kind!r} does not match the url's scheme {scheme!r}", section)
        kind = kind or scheme
    kind = kind or "sqlite"
    if kind not in TARGET_TYPES:
        out.add(f"unknown target type {kind!r}; expected one of {', '.join(TARGET_TYPES)}",
                section)
    mode = spec.get("mode", "replace")
    if mode not in WRITE_MODES:
        out.add(f"mode must be one of {', '.join(WRITE_MODES)}, got {mode!r}", section)
    options = {k: v for k, v in spec.items() if k not in ("type", "url", "mode")}
    named = "type" in spec or "url" in spec
    return TargetConfig(type=kind, url=url, mode=mode, options=options, named=named)


def _table(
    name: str,
    spec: dict[str, Any],
    dataset: Dataset,
    targets: Mapping[str, TargetConfig],
    out: _Collector,
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
    for f in fields:
        for dependency in FIELD_TYPES[f.type].reads(f.params):
            if dependency not in names:
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


def _sql_name(name: str, given: Any, out: _Collector) -> str | None:
    """The ``table`` option: the table's name in the target, when not the section's."""
    if given is None:
        return None
    if not isinstance(given, str) or not given.strip():
        out.add(f"table must be the table's name in the target, got {toml_text(given)}", name)
        return None
    return given  # what its target can hold is names.problems' question


def _check_existing(name: str, options: Mapping[str, Any], fields: list[Field],
                    daily: DailyPartitioning | None, out: _Collector) -> None:
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
                   out: _Collector) -> tuple[tuple[str, ...], ...]:
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
           out: _Collector) -> Field | None:
    kind = spec.get("type")
    if kind is not None and not isinstance(kind, str):
        out.add(f"type must be a string like \"int\", got {toml_text(kind)}", table, name)
        return None
    if kind is None:
        out.add("missing `type`; e.g. type = \"int\"; known types: " + ", ".join(FIELD_TYPES),
                table, name)
        return None
    if kind in PLANNED_TYPES:
        out.add(f"type {kind!r} is planned but not available in this version; available: "
                f"{', '.join(FIELD_TYPES)}", table, name)
        return None
    if kind not in FIELD_TYPES:
        out.add(f"unknown type {toml_text(kind)}; known types: {', '.join(FIELD_TYPES)}",
                table, name)
        return None
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
    _check_params(table, name, kind, params, dataset, out)
    return Field(name=name, type=kind, params=params, null_rate=float(null_rate),
                 unique=flags["unique"],
                 primary_key=flags["primary_key"], mutable=flags["mutable"])


def _check_params(table: str, name: str, kind: str, p: dict[str, Any], dataset: Dataset,
                  out: _Collector) -> None:
    """Checks of a field's parameters that need more than their types (the type's own)."""
    for message in FIELD_TYPES[kind].check(p, dataset.now):
        out.add(message, table, name)


def _daily(table: str, options: dict[str, Any], fields: list[Field], dataset: Dataset,
           out: _Collector) -> DailyPartitioning | None:
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


def _check_stored_names(tables: list[Table], out: _Collector) -> None:
    """Two sections cannot write one table of a target."""
    seen: dict[tuple[str | None, str], str] = {}
    for table in tables:
        key = (table.target, table.stored_name)
        if key in seen:
            out.add(f"tables {seen[key]!r} and {table.name!r} both write the table "
                    f"{table.stored_name!r}", table.name)
        else:
            seen[key] = table.name


def _check_target_order(tables: list[Table], out: _Collector) -> None:
    if table_cycles(tables):
        return  # reported as a cycle of tables already
    try:
        target_order(tables)
    except ValueError as exc:
        out.add(str(exc))


def _check_references(tables: list[Table], out: _Collector) -> list[Table]:
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


def _check_reference(table: Table, f: Field, by_name: dict[str, Table], out: _Collector) -> None:
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
        if (len(per_parent) != 2 or not all(is_int(v) for v in per_parent)
                or not 0 <= per_parent[0] <= per_parent[1]):
            bad(f"per_parent must be [min, max] with 0 <= min <= max, got {toml_text(per_parent)}")
        if self_reference:
            bad("per_parent cannot tie a table to itself")
        if f.params.get("distribution", "uniform") != "uniform":
            bad("per_parent decides which parent each row has: remove `distribution`")
        if f.null_rate > 0:
            bad("with per_parent every row has its parent: remove null_rate")
    one_to_one = per_parent is not None and len(per_parent) == 2 and per_parent[1] == 1
    grouped = any(f.name in g for g in table.unique_groups)
    if f.unique and len(table.primary_key) < 2 and not one_to_one and not grouped:
        bad("a unique reference (one-to-one) needs per_parent = [0, 1] or [1, 1]")
    if self_reference:
        if f.name in table.primary_key:
            bad("a self-reference cannot be the primary key")
        if column == f.name:
            bad("a field cannot reference itself")


# -- helpers ----------------------------------------------------------------


# A TOML date-time literal (not a string) with more than 6 decimals of a second: TOML
# readers keep microseconds and drop the rest without a word.
_FINE_DATETIME = re.compile(r"=\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}\.\d{7,}")


def _check_fine_datetimes(raw: RawGenfile, out: _Collector) -> None:
    for number, line in enumerate(raw.text.splitlines(), start=1):
        if _FINE_DATETIME.search(line):
            out.problems.append(Problem(
                "a date-time finer than a microsecond, which PostgreSQL keeps: write at most "
                "6 decimals of a second", line=number))


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
