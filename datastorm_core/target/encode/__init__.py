"""Pure encoders: chunks of columns in, text or bytes or Python values out.

Nothing here opens a file or a connection (style rule 2), so each format
is tested on its own and the targets stay thin. One module per format
(``copy_binary`` and ``copy_text`` are the PostgreSQL target's two);
``numeric`` is the single place that formats decimals, ``text`` the
canonical text every format starts from.
"""

from __future__ import annotations

from datastorm_core.target.encode import copy_binary, copy_text, csv_text, jsonl
from datastorm_core.target.encode.numeric import format_numeric, numeric_decimal
from datastorm_core.target.encode.pyvalues import json_values, sqlite_rows, sqlite_values
from datastorm_core.target.encode.text import apply_nulls, column_text, null_rows

__all__ = [
    "apply_nulls",
    "column_text",
    "copy_binary",
    "copy_text",
    "csv_text",
    "format_numeric",
    "json_values",
    "jsonl",
    "null_rows",
    "numeric_decimal",
    "sqlite_rows",
    "sqlite_values",
]
