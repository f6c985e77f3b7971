"""Turn a parsed TOML document into a validated ``Genfile``, or list every problem.

Validation never stops at the first error: a user fixing a Genfile wants
the whole list at once, each naming the table, the field and what is
wrong. This module walks the document; ``sections`` checks [dataset] and
the targets, ``table_section`` each table and its fields (the field types'
own checks are ``type_checks``'), ``cross_checks`` the rules between
tables. Checks that need the generators (dictionary sizes, whether a
unique field's space is large enough) live in ``source``; ``run.check``
runs both before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

from datastorm_core.core.modes import WRITE_MODES
from datastorm_core.errors import GenfileError
from datastorm_core.genfile import names
from datastorm_core.genfile.collector import Collector
from datastorm_core.genfile.cross_checks import (
    check_fine_datetimes,
    check_references,
    check_stored_names,
    check_target_order,
)
from datastorm_core.genfile.dagster_section import dagster_settings
from datastorm_core.genfile.digests import genfile_digest, table_digest
from datastorm_core.genfile.exports_section import exports_section
from datastorm_core.genfile.expression_checks import check_expressions
from datastorm_core.genfile.field_reads import check_field_reads
from datastorm_core.genfile.graph import table_cycles
from datastorm_core.genfile.model import Genfile, Table, TargetConfig
from datastorm_core.genfile.parse import RawGenfile
from datastorm_core.genfile.sections import TARGET_TYPES, dataset_section, target_section
from datastorm_core.genfile.sizing import size_tables
from datastorm_core.genfile.table_section import table_section

__all__ = ["RESERVED", "TARGET_TYPES", "WRITE_MODES", "validate"]

RESERVED = ("dataset", "target", "targets", "dagster", "exports")


def validate(
    raw: RawGenfile,
    environ: Mapping[str, str] | None = None,
    target_overridden: bool = False,
    named_overridden: Collection[str] | bool = (),
) -> Genfile:
    """Validate a parsed Genfile; raise GenfileError listing every problem."""
    out = Collector(raw)
    doc = raw.document
    check_fine_datetimes(raw, out)

    dataset = dataset_section(doc.get("dataset", {}), out)

    def skip_named(name: str) -> bool:
        """Whether the command line replaces the named target (its type is unknown here)."""
        return named_overridden is True or (
            not isinstance(named_overridden, bool) and name in named_overridden)

    target = target_section(doc.get("target", {}), "target", out, environ,
                            skip_env=target_overridden)
    targets: dict[str, TargetConfig] = {}
    named = doc.get("targets", {})
    if not isinstance(named, dict):
        out.add("[targets] must be a table of named targets")
    else:
        for name, spec in named.items():
            targets[name] = target_section(spec, f"targets.{name}", out, environ,
                                           skip_env=skip_named(name))
    dagster_spec = doc.get("dagster", {})
    if not isinstance(dagster_spec, dict):  # `dagster = 3`: no [dagster] header to point at
        out.add("[dagster] must be a table")
        dagster_spec = {}
    dagster = dagster_settings(dagster_spec, lambda message: out.add(message, "dagster"))
    if dagster.fan_out > 1 and (dataset.partitions or 1) > 1:
        out.add("fan_out splits each table's materialization into steps, and [dataset] "
                "partitions already splits tables into partitions: use one of them", "dagster")
    if dagster.fan_out > 1 and dagster.frames:
        out.add("fan_out writes a table in slices with nothing to hand on, and frames hands "
                "each table on as a DataFrame: use one of them", "dagster")
    tables: list[Table] = []
    for key, value in doc.items():
        if key in RESERVED:
            continue
        if not isinstance(value, dict):
            out.add(f"top-level key {key!r} must be a table ([{key}]) or one of the reserved "
                    f"sections {', '.join(RESERVED)}")
            continue
        table = table_section(key, value, dataset, targets, out)
        if table is not None:
            tables.append(table)
    if not tables and not out.problems:
        out.add("the Genfile defines no table: add one, e.g. [user.id] with type = \"sequence\"")

    tables = check_references(tables, out)
    check_field_reads(tables, out)
    check_expressions(tables, dataset.now, out)
    check_stored_names(tables, out)
    kinds = {None: None if target_overridden else target.type,
             **{n: (None if skip_named(n) else t.type) for n, t in targets.items()}}
    for name_, kind in kinds.items():
        on_target = [t for t in tables if t.target == name_]
        for problem in names.problems(kind or "", on_target):
            out.add(problem.message, problem.table, problem.field)
    check_target_order(tables, out)
    exports = exports_section(doc.get("exports", {}), [t.name for t in tables], out)
    for cycle in table_cycles(tables):
        out.add("tables reference each other in a cycle: " + " -> ".join(cycle), cycle[0])

    if out.problems:
        ordered = sorted(out.problems, key=lambda p: (p.line is None, p.line or 0))
        raise GenfileError(ordered, raw.path)
    tables, layouts = size_tables(tables, dataset.seed)
    base_dir = os.path.dirname(os.path.abspath(raw.path)) if raw.path else None
    return Genfile(
        dataset=dataset,
        target=target,
        tables=tuple(tables),
        targets=targets,
        dagster=dagster,
        exports=exports,
        path=raw.path,
        digest=genfile_digest(doc),
        table_digests={t.name: table_digest(doc, t.name, dataset, base_dir) for t in tables},
        header_lines=dict(raw.header_lines),
        layouts=layouts,
    )
