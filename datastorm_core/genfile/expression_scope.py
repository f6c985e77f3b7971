"""What names mean in an expression: the fields of a table, and of the rows it references.

``FIELD`` is a field of the same row; ``REF.FIELD`` is FIELD of the parent
row that the reference REF points at, and ``REF.REF2.FIELD`` goes on from
there. A field's type in the language follows from its Genfile type (a
``decimal`` is a decimal of its scale, a ``choice`` of integers an int, a
``reference`` its parent key's type, an ``expr`` its `as` or its own
expression's type), so validation and the source type an expression alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from datastorm_core.core.schema import ColumnType
from datastorm_core.genfile.expressions import ExpressionError, ExprType, UnknownName, check, parse
from datastorm_core.genfile.expressions.check import convert
from datastorm_core.genfile.expressions.tree import BOOL, Node, decimal
from datastorm_core.genfile.model import Field, Table
from datastorm_core.genfile.plugins import PLUGIN_TYPE, PluginError, load_generator
from datastorm_core.genfile.types import FIELD_TYPES, choice_column_type

__all__ = ["TableScope", "Unsettled", "compile_expression", "field_type", "result_type"]

# What a column of each type is in the language (a uuid is read as its text).
_BY_COLUMN = {column: ExprType(kind) for column, kind in (
    (ColumnType.BIGINT, "int"), (ColumnType.DOUBLE, "float"), (ColumnType.BOOLEAN, "bool"),
    (ColumnType.DATE, "date"), (ColumnType.TIMESTAMP, "timestamp"), (ColumnType.TEXT, "text"),
    (ColumnType.UUID, "text"))}
_TEXT = _BY_COLUMN[ColumnType.TEXT]
_DEFAULT_DECIMAL_SCALE = 2  # a `decimal` field's, and an `as = "decimal"` of a non-decimal


class Unsettled(LookupError):
    """A field read whose type cannot be settled: an expr in a cycle, or one with an error
    of its own. Either is reported where it belongs (the cycle's or the field's header),
    so the expression that reads it reports nothing more."""


class TableScope:
    """Names of an expression written in ``table``'s field ``field`` (``tables``: the
    Genfile's tables by name, for the parents of dotted names)."""

    def __init__(self, tables: Mapping[str, Table], table: str, field: str | None,
                 now: datetime, _typing: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.tables = tables
        self.table = table
        self.field = field
        self._now = now
        # (table, field) of the expr fields being typed: their types depend on this one.
        self._typing = _typing

    @property
    def now(self) -> datetime:
        return self._now.replace(microsecond=0)  # timestamps are whole seconds

    def type_of(self, name: str) -> ExprType:
        parts = name.split(".")
        if name == self.field:
            raise UnknownName(f"the expression reads {name!r}, the field it belongs to")
        table = self.tables[self.table]
        for depth, ref in enumerate(parts[:-1]):
            f = _field(table, ref)
            written = ".".join(parts[:depth + 1])
            if f is None:
                raise UnknownName(f"unknown name {written!r}: table {table.name!r} has no such "
                                  "field" if depth else f"unknown name {written!r}")
            if f.type != "reference" or f.ref is None or f.ref[0] not in self.tables:
                raise UnknownName(f"{written!r} is not a reference: a dot reads a field of the "
                                  f"row a reference points at ({written}.FIELD needs "
                                  f"{f.name} to be a reference)")
            parent = self.tables[f.ref[0]]
            following = parts[depth + 1]
            if parent.existing and following != f.ref[1]:
                raise UnknownName(f"{parent.name} is an existing table: only its key "
                                  f"`{f.ref[1]}` can be read (as {written}.{f.ref[1]})")
            table = parent
        f = _field(table, parts[-1])
        if f is None:
            where = f": table {table.name!r} has no such field" if len(parts) > 1 else ""
            raise UnknownName(f"unknown name {name!r}{where}")
        return self._type_of_field(table, f)

    def _type_of_field(self, table: Table, f: Field) -> ExprType:
        if f.type == "expr":
            key = (table.name, f.name)
            if key in self._typing:
                raise Unsettled(f"{f.name} is computed from this field")
            inner = TableScope(self.tables, table.name, f.name, self._now, self._typing | {key})
            try:
                typed = compile_expression(f.param("expr", ""), inner, f.params)
            except ExpressionError as exc:
                raise Unsettled(exc.message) from None
            assert typed.type is not None
            return typed.type
        hops = 0
        while f.type == "reference" and f.ref is not None:  # its parent key's type
            parent = self.tables.get(f.ref[0])
            key_field = _field(parent, f.ref[1])
            hops += 1
            if parent is None or key_field is None or hops > len(self.tables) + 1:
                # A broken ref (or refs in a ring), reported with the references.
                raise Unsettled(f"{f.name}: its ref is reported with the references")
            table, f = parent, key_field
        if f.type == "expr":
            return self._type_of_field(table, f)
        return field_type(f)


def field_type(f: Field) -> ExprType:
    """The language's type of a field that is not an expr or a reference."""
    if f.type == "decimal":
        return decimal(f.param("scale", _DEFAULT_DECIMAL_SCALE))
    if f.type == PLUGIN_TYPE:
        return _plugin_type(f)
    if f.type == "choice":
        values = f.param("values")
        return _BY_COLUMN[choice_column_type(values)] if values else _TEXT
    column = FIELD_TYPES[f.type].column_type if f.type in FIELD_TYPES else None
    return _BY_COLUMN.get(column, _TEXT) if column is not None else _TEXT


def _plugin_type(f: Field) -> ExprType:
    """A user's generator's type: the column it declares (genfile.plugins)."""
    try:
        column = load_generator(f.params["generator"], f.params.get("options", {})).column
    except PluginError:
        raise Unsettled(f"{f.name}: its generator's problem is reported on its field") from None
    if column.type is ColumnType.NUMERIC:
        return decimal(column.scale or 0)
    return _BY_COLUMN[column.type]


def _field(table: Table | None, name: str) -> Field | None:
    if table is None:
        return None
    return next((f for f in table.fields if f.name == name), None)


def result_type(inferred: ExprType, params: Mapping[str, Any]) -> ExprType:
    """An expr's column type: its `as` (and `scale`), or what the expression makes."""
    kind = params.get("as")
    scale = params.get("scale")
    if kind is None and scale is None:
        return inferred
    if kind in (None, "decimal"):
        if scale is None:
            scale = inferred.scale if inferred.kind == "decimal" else _DEFAULT_DECIMAL_SCALE
        return decimal(scale)
    return ExprType(kind)


def compile_expression(text: str, scope: TableScope, params: Mapping[str, Any] | None = None,
                       condition: bool = False) -> Node:
    """The typed tree of an expression: an expr's value in its result type (``params``:
    its `as` and `scale`), or a condition (``condition``: `when`, a case's `when`).

    Raises:
        ExpressionError: the first problem, with its offset in ``text``.
    """
    typed = check(parse(text), scope)
    assert typed.type is not None
    if condition:
        if typed.type != BOOL:
            raise ExpressionError(f"a condition must be true or false, and this is "
                                  f"{typed.type}: compare it (==, <, in [...])", typed.at)
        return typed
    if typed.type.kind == "interval":
        raise ExpressionError("an interval is no column's value: add it to a date or a "
                              "timestamp (signed_at + months(1))", typed.at)
    if scope.field is not None and params is not None and \
            params.get("scale") is not None and params.get("as") is None \
            and typed.type.kind != "decimal":
        raise ExpressionError(f"scale goes with a decimal, and the expression makes {typed.type}"
                              ": add as = \"decimal\"", typed.at)
    wanted = result_type(typed.type, params or {})
    return convert(typed, wanted, "the expression")
