"""Expressions evaluated over hand-made columns, with Python values in and out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.genfile.expressions import ExprType, Node, UnknownName, check, parse
from datastorm_core.genfile.expressions.check import convert
from datastorm_core.source.services.evaluate import evaluate_column

NOW = datetime(2026, 1, 1, 12, 0, 0)

#: Column name -> type, for every test of the module (the values vary per test).
TYPES: dict[str, ExprType] = {
    name: ExprType(kind, scale) for name, kind, scale in (
        ("a", "int", 0), ("b", "int", 0), ("x", "float", 0), ("y", "float", 0),
        ("p", "decimal", 2), ("q", "decimal", 2), ("r", "decimal", 4), ("d", "date", 0),
        ("e", "date", 0), ("ts", "timestamp", 0), ("tt", "timestamp", 0), ("ok", "bool", 0),
        ("no", "bool", 0), ("s", "text", 0), ("t", "text", 0))}


class Scope:
    now = NOW

    def type_of(self, name: str) -> ExprType:
        if name not in TYPES:
            raise UnknownName(f"unknown name {name!r}")
        return TYPES[name]


def column(kind: ExprType, values: list[Any]) -> Column:
    """A chunk's column of ``kind`` from Python values (None: NULL)."""
    nulls = np.array([v is None for v in values], dtype=bool)
    filler = {"int": 0, "float": 0.0, "decimal": Decimal(0), "bool": False, "text": "",
              "date": date(2000, 1, 1), "timestamp": datetime(2000, 1, 1)}[kind.kind]
    present = [filler if v is None else v for v in values]
    if kind.kind == "decimal":
        array = np.array([int(Decimal(v).scaleb(kind.scale)) for v in present], dtype=np.int64)
    elif kind.kind == "date":
        array = np.array(present, dtype="datetime64[D]")
    elif kind.kind == "timestamp":
        array = np.array(present, dtype="datetime64[s]")
    else:
        dtype = {"int": np.int64, "float": np.float64, "bool": bool, "text": str}[kind.kind]
        array = np.array(present, dtype=dtype)
    return Column(array, nulls if nulls.any() else None)


def python(kind: ExprType, made: Column) -> list[Any]:
    """A result column as Python values (Decimal for decimals), None where NULL."""
    out = made.to_pylist()
    if kind.kind == "decimal":
        return [None if v is None else Decimal(int(v)).scaleb(-kind.scale) for v in out]
    return out


def typed(text: str, want: ExprType | None = None) -> Node:
    tree = check(parse(text), Scope())
    return tree if want is None else convert(tree, want, "the expression")


def run(text: str, rows: int | None = None, want: ExprType | None = None,
        **values: list[Any]) -> list[Any]:
    """``text`` evaluated over columns given as Python lists (each of the same length)."""
    tree = typed(text, want)
    assert tree.type is not None
    count = rows if rows is not None else len(next(iter(values.values())))
    row = {name: column(TYPES[name], v) for name, v in values.items()}
    made = evaluate_column(tree, row, count)
    assert len(made.values) == count
    return python(tree.type, made)
