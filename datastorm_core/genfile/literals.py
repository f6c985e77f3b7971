"""The Genfile's values as messages show them, and what counts as an integer.

Shared by validation and the type checks so that every message writes a
value the way the user wrote it in TOML.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["INT64_MAX", "INT64_MIN", "is_int", "toml_text"]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def is_int(value: Any) -> bool:
    """An integer that is not a boolean (TOML's true is not 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def toml_text(value: Any) -> str:
    """A value as the user wrote it in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
