"""A replace run holding tables of both kinds: each table to the load that suits it.

The application's tables go to ``ExistingLoad`` (emptied, loaded in place),
datastorm's own to ``DirectLoad`` (dropped and created again). Both work
in the run's one transaction, so the run stays all or nothing. The loads
prepare in the order given: the application's tables are emptied first,
so that a table datastorm creates with its foreign keys at once
(``constraints = "immediate"``) never stands in the way of a TRUNCATE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from datastorm_core.core.schema import TableSchema
from datastorm_core.target.postgres.loads.base import Copy, Load, LoadContext

__all__ = ["RoutedLoad"]


class RoutedLoad(Load):
    """Sends each table's steps to its own load; run-wide steps to every load."""

    def __init__(self, ctx: LoadContext, loads: Sequence[Load],
                 routes: Mapping[str, Load]) -> None:
        super().__init__(ctx)
        self.loads = list(loads)
        self.routes = dict(routes)

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        for load in self.loads:
            mine = [s for s in schemas if self.routes[s.name] is load]
            if mine:
                load.prepare(mine)

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        self.routes[schema.name].begin_table(schema, start, stop)

    def write(self, schema: TableSchema, copy: Copy) -> None:
        self.routes[schema.name].write(schema, copy)

    def end_table(self, schema: TableSchema) -> None:
        self.routes[schema.name].end_table(schema)

    def checks_rows(self, schema: TableSchema) -> bool:
        return self.routes[schema.name].checks_rows(schema)

    def before_commit(self) -> None:
        for load in self.loads:
            load.before_commit()

    def after_commit(self) -> None:
        for load in self.loads:
            load.after_commit()

    def after_rollback(self) -> None:
        for load in self.loads:
            load.after_rollback()

    def abort(self) -> None:
        for load in self.loads:
            load.abort()

    def close(self) -> None:
        for load in self.loads:
            load.close()
