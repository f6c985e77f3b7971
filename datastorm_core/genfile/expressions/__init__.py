"""The expression language of ``expr``, ``when`` and ``cases``: parse, check, types.

Python's expression syntax read by ``ast`` and narrowed to a whitelist
(``parse``), typed against the fields it names (``check``), and evaluated
over whole chunks by ``source.services.evaluate``; nothing is ever run as
Python code. What names mean in a Genfile is ``genfile.expression_scope``'s.
"""

from __future__ import annotations

from datastorm_core.genfile.expressions.check import Scope, UnknownName, check, convert
from datastorm_core.genfile.expressions.functions import FUNCTIONS, Function
from datastorm_core.genfile.expressions.parse import names_in, parse, position
from datastorm_core.genfile.expressions.tree import (
    BOOL,
    KINDS,
    ExpressionError,
    ExprType,
    Node,
)

__all__ = ["BOOL", "FUNCTIONS", "KINDS", "ExprType", "ExpressionError", "Function", "Node",
           "Scope", "UnknownName", "check", "convert", "names_in", "parse", "position"]
