"""Pure encoders: chunks of columns in, text or bytes or Python values out.

Nothing here opens a file or a connection (style rule 2), so each format
is tested on its own and the targets stay thin. One module per format
(``copy_binary`` and ``copy_text`` are the PostgreSQL target's two). Each
format is a map from column kind to function (``copy_text.FIELDS``,
``csv_text.FIELDS``, ``copy_binary.FIELDS``) over the conversions every
layer shares, in ``core.values``: the canonical text, JSON and Python
values of each kind.
"""

from __future__ import annotations

from datastorm_core.target.encode import copy_binary, copy_text, csv_text, jsonl
from datastorm_core.target.encode.pyvalues import sqlite_rows

__all__ = [
    "copy_binary",
    "copy_text",
    "csv_text",
    "jsonl",
    "sqlite_rows",
]
