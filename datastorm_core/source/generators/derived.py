"""Fields computed from other fields of the same row: template and hash.

Both read their fields' columns (``row``), turn each into text once per
chunk (``core.values.text_array``, the very text the targets write) and
work on whole arrays. A NULL in any field they read makes them NULL; the
compiled table does that, from the catalogue's ``reads``. Neither can be
unique: two rows may read the same values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, ValueSpace
from datastorm_core.core.values import FREE_TEXT, LONGEST_TEXT, text_array
from datastorm_core.genfile import fieldspecs
from datastorm_core.genfile.fieldspecs import Padding
from datastorm_core.genfile.types import FIELD_TYPES
from datastorm_core.source.generators.base import Generator

__all__ = ["HASH_SEPARATOR", "HashGenerator", "TemplateGenerator", "pad"]

# Joins the texts of the fields a hash reads (ASCII unit separator). A single
# field is hashed as its text alone: sha256(email) is the SHA-256 of the address.
HASH_SEPARATOR = "\x1f"

_DATETIME_UNITS_OF_A_DATE = ("Y", "M", "W", "D")


class _DerivedGenerator(Generator):
    """Reads fields of the row as text."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._scales: dict[str, tuple[ColumnType, int | None]] = {}

    def problems(self) -> list[str]:
        return list(FIELD_TYPES[self.field.type].check(self.field.params, self.ctx.now))

    def text(self, name: str, column: Column) -> np.ndarray:
        """The values of field ``name`` as text (ISO dates, decimals with their scale)."""
        values = column.values
        kind = values.dtype.kind
        if kind == "U":
            return values
        if kind == "b":
            return text_array(values, ColumnType.BOOLEAN)
        if kind == "f":
            return text_array(values, ColumnType.DOUBLE)
        if kind == "M":
            unit = np.datetime_data(values.dtype)[0]
            dated = ColumnType.DATE if unit in _DATETIME_UNITS_OF_A_DATE else ColumnType.TIMESTAMP
            return text_array(values, dated)
        if kind in "iu":  # bigint, or a NUMERIC's unscaled count: only the schema tells
            column_type, scale = self._integer_column(name)
            return text_array(values, column_type, scale)
        return text_array(values, ColumnType.TEXT)

    def read_column(self, name: str) -> ColumnSchema:
        """The column of a field this one reads (``REF.FIELD`` included): its type, scale,
        space and syntax; the table is compiled by the time anyone asks."""
        if self.ctx.tables is not None:
            return self.ctx.tables.column(self.ctx.table, name)
        pool = self.ctx.reference_pool(self.ctx.table, name)
        return ColumnSchema(name, pool.column_type, precision=pool.precision, scale=pool.scale,
                            space=pool.space, syntax=pool.syntax)

    def text_length(self, name: str) -> int | None:
        """The longest text of field ``name`` (as ``text`` writes it); None when unknown."""
        read = self.read_column(name)
        space = read.space
        kind = read.type
        if kind in FREE_TEXT:
            return None if space is None else space.max_length
        if kind in LONGEST_TEXT:
            return LONGEST_TEXT[kind]
        if space is None or space.low is None or space.high is None:
            return None
        # BIGINT and NUMERIC: the wider bound's text; "f" writes a Decimal with all its
        # places (str would write 1E-18), as format_numeric does.
        return max(len(f"{bound:f}" if isinstance(bound, Decimal) else str(bound))
                   for bound in (space.low, space.high))

    def _integer_column(self, name: str) -> tuple[ColumnType, int | None]:
        if name not in self._scales:
            read = self.read_column(name)
            scale = read.scale if read.type is ColumnType.NUMERIC else None
            self._scales[name] = (read.type, scale)
        return self._scales[name]


def pad(text: np.ndarray, padding: Padding) -> np.ndarray:
    """``format(value, spec)`` of Python for the specs templates accept, on whole arrays."""
    if not len(text):
        return text
    width, fill = padding.width, padding.fill
    if padding.align == "<":
        return np.strings.ljust(text, width, fill)
    if padding.align == ">":
        return np.strings.rjust(text, width, fill)
    if padding.align == "0":
        return np.strings.zfill(text, width)
    # "^": like format(), the odd padding character goes to the right (str.center
    # would put it on the left).
    lengths = np.strings.str_len(text)
    left = np.maximum(width - lengths, 0) // 2
    return np.strings.ljust(np.strings.rjust(text, lengths + left, fill), width, fill)


class TemplateGenerator(_DerivedGenerator):
    """``template = "{first_name}.{last_name}@corp.com"``: literal text and fields, joined."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        try:
            self.parts = fieldspecs.parse_template(self.field.param("template", ""))
        except fieldspecs.TemplateError:
            self.parts = ()  # reported by problems()

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        result: np.ndarray | str = ""  # a str until the first field: literals are joined once
        texts: dict[str, np.ndarray] = {}
        for part in self.parts:
            if isinstance(result, str):
                result += part.literal
            elif part.literal:
                result = np.strings.add(result, part.literal)
            if part.field is None:
                continue
            if part.field not in texts:
                texts[part.field] = self.text(part.field, row[part.field])
            value = texts[part.field]
            if part.padding is not None:
                value = pad(value, part.padding)
            result = np.strings.add(result, value)
        if isinstance(result, str):  # no field: a constant
            return np.full(len(indices), result, dtype=f"<U{max(len(result), 1)}")
        return result

    def value_space(self) -> ValueSpace | None:
        # The literals, and each field's longest text or its padding's width.
        total = 0
        for part in self.parts:
            total += len(part.literal)
            if part.field is None:
                continue
            length = self.text_length(part.field)
            if length is None:
                return None
            total += max(length, part.padding.width) if part.padding is not None else length
        return ValueSpace(max_length=total)


class HashGenerator(_DerivedGenerator):
    """Hex digest (sha256, md5, sha1, blake2b) of the fields listed in ``of``.

    The input is the UTF-8 of the fields' texts joined by U+001F, so it can
    be recomputed elsewhere, e.g. in PostgreSQL
    ``encode(sha256(convert_to(concat_ws(chr(31), a, b), 'UTF8')), 'hex')``.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.of = [f for f in self.field.param("of", []) if isinstance(f, str)]
        self.algorithm = self.field.param("algorithm", "sha256")
        self.digits = fieldspecs.HASH_ALGORITHMS.get(self.algorithm, 64)
        length = self.field.param("length")
        self.length = length if isinstance(length, int) and 1 <= length <= self.digits \
            else self.digits

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=self.length)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        texts: dict[str, np.ndarray] = {}
        joined: np.ndarray | None = None
        for name in self.of:
            if name not in texts:
                texts[name] = self.text(name, row[name])
            joined = texts[name] if joined is None else \
                np.strings.add(np.strings.add(joined, HASH_SEPARATOR), texts[name])
        if joined is None:
            joined = np.full(len(indices), "", dtype="<U1")
        digest = getattr(hashlib, self.algorithm)
        # One Python call per row: hashlib has no vectorised form. The joined
        # texts are built for the whole chunk first, so the loop does only this.
        texts = joined.tolist()
        if self.length == self.digits:
            hexes = [digest(text.encode()).hexdigest() for text in texts]
        else:
            hexes = [digest(text.encode()).hexdigest()[:self.length] for text in texts]
        return np.array(hexes, dtype=f"<U{self.length}")
