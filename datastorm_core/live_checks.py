"""What a run asks of its targets before writing: the keys of the existing tables its
tables reference, whether the targets can hold its names, and whether its fields fit
the tables that exist there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from datastorm_core.errors import GenfileError, Problem, UsageError
from datastorm_core.genfile import names
from datastorm_core.genfile.model import Genfile
from datastorm_core.genfile.plan import TablePlan
from datastorm_core.options import RunOptions
from datastorm_core.phases import phase_schemas
from datastorm_core.routing import prepare_target
from datastorm_core.source import Source
from datastorm_core.source.services.references import as_column_values
from datastorm_core.target.base import BaseTarget

__all__ = ["check_names", "check_targets", "existing_keys"]


def existing_keys(genfile: Genfile, options: RunOptions, plans: Sequence[TablePlan]
                  ) -> dict[tuple[str, str], np.ndarray]:
    """Keys of the existing tables the run's tables reference, read once from their targets.

    Raises:
        UsageError: an existing table lives on a target that cannot be read, or holds
            no row while a table of the run must reference it.
    """
    wanted: dict[str | None, set[tuple[str, str]]] = {}
    needy: dict[tuple[str, str], str] = {}
    for p in plans:
        for f in p.table.references:
            if f.ref is None:
                continue
            parent = genfile.table(f.ref[0])
            if parent.existing:
                wanted.setdefault(parent.target, set()).add(f.ref)
                if p.rows and f.null_rate < 1:
                    needy.setdefault(f.ref, p.table.name)
    keys: dict[tuple[str, str], np.ndarray] = {}
    source = Source(genfile)
    for name, refs in wanted.items():
        target = prepare_target(genfile, options, name)
        for table, field_name in sorted(refs):
            column = source.context.compiled(table).fields[field_name].column
            values = target.read_keys(genfile.table(table).stored_name, field_name)
            keys[table, field_name] = as_column_values(values, column)
            if not values and (table, field_name) in needy:
                raise UsageError(
                    f"table {needy[table, field_name]!r} references {table}.{field_name}, "
                    f"and the existing table {genfile.table(table).stored_name!r} holds no "
                    f"row in {target.describe()}: fill it first")
    return keys


def check_names(genfile: Genfile, phases: Sequence[tuple[BaseTarget, Sequence[TablePlan]]]
                ) -> None:
    """Names the targets the run really writes to cannot hold (the command line may have
    chosen other targets than the Genfile's): one GenfileError listing them all."""
    found: list[Problem] = []
    for target, group in phases:
        for problem in names.problems(target.kind, [p.table for p in group]):
            found.append(replace(problem, line=genfile.line_of(problem.table, problem.field)))
    if found:
        raise GenfileError(sorted(found, key=lambda p: (p.line is None, p.line or 0)),
                           genfile.path)


def check_targets(genfile: Genfile, source: Source,
                  phases: Sequence[tuple[BaseTarget, Sequence[TablePlan]]]) -> None:
    """Fields that do not fit the tables that exist in their targets: every problem of
    every target, raised as one GenfileError before any target is opened."""
    problems: list[Problem] = []
    for target, group in phases:
        schemas = phase_schemas(genfile, source, group)
        if not schemas:
            continue
        names = {p.table.stored_name: p.table.name for p in group}
        for problem in target.check_schemas(schemas):
            table = names.get(problem.table or "", problem.table)
            found = replace(problem, table=table, line=genfile.line_of(table, problem.field))
            problems.append(found)
    if problems:
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        raise GenfileError(ordered, genfile.path)
