"""``[exports.NAME]``: named SQL reports, checked with the rest of the Genfile.

::

    [exports.spending_by_state]
    sql = "SELECT ... WHERE c.state = :state"
    format = "csv"                 # csv (default) | jsonl | parquet
    deps = ["customer"]            # optional: else the Genfile's tables the SQL reads
    statement_timeout = 600        # optional, seconds

    [exports.spending_by_state.params]
    state = "text"                 # or { type = "text", default = "SP" }

Every parameter the SQL uses is declared with a type, and every declared one is
used: a typo in either is an error with its line, not a query that fails later.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from datastorm_core.genfile.collector import Collector
from datastorm_core.genfile.export_params import PARAM_TYPES, coerce
from datastorm_core.genfile.export_sql import SqlProblem, read_sql
from datastorm_core.genfile.model import Export, ExportParam

__all__ = ["EXPORT_FORMATS", "exports_section"]

EXPORT_FORMATS = ("csv", "jsonl", "parquet")
_KNOWN = ("sql", "format", "params", "deps", "statement_timeout")
# Names end up in file names, URLs and Dagster asset keys.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def exports_section(spec: Any, tables: Collection[str], out: Collector) -> dict[str, Export]:
    """The exports of ``[exports]``; each problem goes to ``out``, located by its header."""
    if not isinstance(spec, dict):
        out.add("[exports] must be a table of named exports, e.g. [exports.by_state]")
        return {}
    found: dict[str, Export] = {}
    for name, body in spec.items():
        export = _export(name, body, tables, out)
        if export is not None:
            found[name] = export
    return found


def _export(name: str, body: Any, tables: Collection[str], out: Collector) -> Export | None:
    where = f"exports.{name}"
    start = len(out.problems)
    if not _NAME.fullmatch(name):
        out.add(f"export name {name!r} must be letters, digits and _ (it names files and URLs)",
                where)
    if not isinstance(body, dict):
        out.add("an export must be a table with sql = \"SELECT ...\"", where)
        return None
    for key in body:
        if key not in _KNOWN:
            out.add(f"unknown option {key!r}; expected one of {', '.join(_KNOWN)}", where)
    sql = body.get("sql")
    parsed = None
    if not isinstance(sql, str) or not sql.strip():
        out.add("sql must be a query, e.g. sql = \"SELECT * FROM customer WHERE state = :state\"",
                where)
    else:
        try:
            parsed = read_sql(sql)
        except SqlProblem as exc:
            out.add(str(exc), where)
    fmt = body.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        out.add(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}", where)
    params, params_ok = _params(body.get("params", {}), where, out)
    if parsed is not None:
        declared = set(params)
        for used in parsed.names:
            if used not in declared:
                out.add(f"the SQL uses :{used}, which is not declared; add it to "
                        f"[{where}.params] with its type, e.g. {used} = \"text\"", where)
        for name_ in params:
            if name_ not in parsed.names:
                out.add(f"parameter {name_!r} is declared but the SQL never uses :{name_}",
                        where)
    deps: tuple[str, ...] = ()
    if "deps" in body:
        raw = body["deps"]
        if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
            out.add(f"deps must be a list of table names, got {raw!r}", where)
        else:
            for dep in raw:
                if dep not in tables:
                    out.add(f"deps names {dep!r}, which is not a table of the Genfile", where)
            deps = tuple(raw)
    elif parsed is not None:
        # Tables the SQL reads that the Genfile makes; others (a view, a table of the
        # application) are no asset to depend on.
        known = set(tables)
        deps = tuple(t for t in parsed.tables if t in known or t.rpartition(".")[2] in known)
        deps = tuple(dict.fromkeys(t.rpartition(".")[2] if t not in known else t for t in deps))
    timeout = body.get("statement_timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        out.add(f"statement_timeout must be a number of seconds above 0, got {timeout!r}", where)
    if len(out.problems) > start or parsed is None or not params_ok:
        return None
    return Export(name=name, sql=sql, format=fmt, params=tuple(params.values()), deps=deps,
                  statement_timeout=float(timeout) if timeout is not None else None)


def _params(spec: Any, where: str, out: Collector) -> tuple[dict[str, ExportParam], bool]:
    """The declared parameters, by name (those with a bad type too, so that their use
    is still checked), and whether all are right."""
    if not isinstance(spec, dict):
        out.add(f"params must be a table of name = \"type\" ({', '.join(PARAM_TYPES)}), "
                f"got {spec!r}", where)
        return {}, False
    params: dict[str, ExportParam] = {}
    ok = True
    for name, decl in spec.items():
        kind, default = decl, None
        if isinstance(decl, dict):
            for key in decl:
                if key not in ("type", "default"):
                    out.add(f"parameter {name!r}: unknown option {key!r}; expected type, default",
                            where)
                    ok = False
            kind, default = decl.get("type"), decl.get("default")
        if not _NAME.fullmatch(name):
            out.add(f"parameter name {name!r} must be letters, digits and _", where)
            ok = False
        if kind not in PARAM_TYPES:
            out.add(f"parameter {name!r} has type {kind!r}; expected one of "
                    f"{', '.join(PARAM_TYPES)}", where)
            ok = False
            params[name] = ExportParam(name, "text")
            continue
        if default is not None:
            try:
                default = coerce(kind, default)
            except ValueError as exc:
                out.add(f"parameter {name!r}: default {exc}", where)
                ok = False
        params[name] = ExportParam(name, kind, default)
    return params, ok
