"""Column kinds and their conversions: the one place that knows how a ``Column``
of each ``ColumnType`` becomes text, JSON or Python values.

The source (derived fields), the targets' encoders and the change stream
all read values through here, so they agree to the last digit by
construction rather than by tests comparing copies. Every conversion is a
map keyed by ``ColumnType``:

- ``kinds``: what each kind travels as (``DTYPES``: NUMERIC is an unscaled
  int64), which kinds hold free text, and ``kind_encoder``, which makes a
  format's column encoder of its map and its NULL token;
- ``text``: ``TEXT``, the canonical text (COPY text, CSV, sqlite, console,
  ``template``/``hash`` fields, the stream's ``%s::type`` parameters);
- ``json_text``: ``JSON``, JSON Lines and Kafka message values;
- ``python``: ``PYTHON``, plain Python values for sqlite3, and
  ``FROM_PYTHON``, a database's value back into a generator's array.

Nothing here does I/O, and core imports no layer above it. The wire forms
that belong to one target (PostgreSQL's binary COPY) stay in that target's
encoder, as a map of the same shape.
"""

from __future__ import annotations

from datastorm_core.core.values.json_text import JSON, JSON_NULL, json_fields
from datastorm_core.core.values.kinds import (
    DTYPES,
    FREE_TEXT,
    INT64_DIGITS,
    NUMBERS,
    ColumnConversion,
    apply_nulls,
    kind_encoder,
    null_rows,
    numeric_decimal,
)
from datastorm_core.core.values.python import FROM_PYTHON, PYTHON, python_column, python_values
from datastorm_core.core.values.text import (
    LONGEST_TEXT,
    TEXT,
    KindText,
    column_text,
    format_numeric,
    spaced_text,
    strings_from_codepoints,
    text_array,
    timestamps_text,
    zero_padded,
)

__all__ = [
    "DTYPES",
    "FREE_TEXT",
    "FROM_PYTHON",
    "INT64_DIGITS",
    "JSON",
    "JSON_NULL",
    "LONGEST_TEXT",
    "NUMBERS",
    "PYTHON",
    "TEXT",
    "ColumnConversion",
    "KindText",
    "apply_nulls",
    "column_text",
    "format_numeric",
    "json_fields",
    "kind_encoder",
    "null_rows",
    "numeric_decimal",
    "python_column",
    "python_values",
    "spaced_text",
    "strings_from_codepoints",
    "text_array",
    "timestamps_text",
    "zero_padded",
]
