"""A run's tables grouped by the target they go to (one phase a target, in the
order the targets are committed), and the schemas each target receives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from datastorm_core.core.schema import TableSchema
from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.genfile.plan import TablePlan
from datastorm_core.source import Source

__all__ = ["local_schema", "phase_schemas", "target_phases"]


def target_phases(plans: Sequence[TablePlan]) -> list[tuple[str | None, list[TablePlan]]]:
    """Consecutive plans of one target (plans come grouped by target, in target order)."""
    phases: list[tuple[str | None, list[TablePlan]]] = []
    for p in plans:
        if phases and phases[-1][0] == p.table.target:
            phases[-1][1].append(p)
        else:
            phases.append((p.table.target, [p]))
    return phases


def local_schema(genfile: Genfile, table: Table, schema: TableSchema) -> TableSchema:
    """The schema without foreign keys into another target (no key can cross systems)."""
    targets = {t.stored_name: t.target for t in genfile.tables}
    kept = tuple(fk for fk in schema.foreign_keys
                 if targets.get(fk.parent_table, table.target) == table.target)
    return schema if kept == schema.foreign_keys else replace(schema, foreign_keys=kept)


def phase_schemas(genfile: Genfile, source: Source, group: Sequence[TablePlan]
                  ) -> list[TableSchema]:
    return [local_schema(genfile, p.table, source.schema(p.table.name)) for p in group]
