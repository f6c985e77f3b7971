"""Every expression of a Genfile typed against the fields it reads, before anything runs.

An `expr`, a `when` and each case's `when` of a `choice` are parsed and
type-checked here, with the tables their dotted names reach; a problem is
reported under the field's header with where it is in the expression
("expr: unknown name 'qty' at column 1").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from datastorm_core.genfile.collector import Collector
from datastorm_core.genfile.expression_scope import TableScope, Unsettled, compile_expression
from datastorm_core.genfile.expressions import ExpressionError, position
from datastorm_core.genfile.model import Table
from datastorm_core.genfile.types import FIELD_TYPES, expressions_of

__all__ = ["check_expressions"]


def check_expressions(tables: Iterable[Table], now: datetime, out: Collector) -> None:
    by_name = {t.name: t for t in tables}
    for table in by_name.values():
        for f in table.fields:
            for where, text in expressions_of(FIELD_TYPES[f.type], f.params):
                scope = TableScope(by_name, table.name, f.name, now)
                try:
                    compile_expression(text, scope, f.params if where == "expr" else None,
                                       condition=where != "expr")
                except ExpressionError as exc:
                    out.add(f"{where}: {exc.message} at {position(text, exc.at)}",
                            table.name, f.name)
                except Unsettled:
                    pass  # a cycle, or a field read with an error of its own: reported there
