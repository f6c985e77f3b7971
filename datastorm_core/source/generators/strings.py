"""Strings: patterns (``AAA-999``), random strings of a length, UUIDs, bytea text."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType, ValueSpace
from datastorm_core.genfile import fieldspecs
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.services.permutation import MAX_DOMAIN, KeyedPermutation
from datastorm_core.source.services.randomness import MASK64
from datastorm_core.source.services.text import codepoints, strings_from_codepoints

__all__ = ["BytesGenerator", "StringGenerator", "UuidGenerator", "parse_pattern"]

PATTERN_CLASSES = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}
DEFAULT_CHARS = string.ascii_letters + string.digits
DEFAULT_LENGTH = (8, 16)
DEFAULT_BYTES = (8, 32)


@dataclass(frozen=True)
class _Slot:
    """One position of a pattern: a literal code point or an alphabet."""

    literal: int | None = None
    alphabet: np.ndarray | None = None


def parse_pattern(pattern: str) -> list[_Slot]:
    """``9`` digit, ``A`` upper, ``a`` lower, ``\\`` escapes, anything else literal."""
    slots: list[_Slot] = []
    escaped = False
    for char in pattern:
        if escaped:
            slots.append(_Slot(literal=ord(char)))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in PATTERN_CLASSES:
            slots.append(_Slot(alphabet=codepoints(PATTERN_CLASSES[char])))
        else:
            slots.append(_Slot(literal=ord(char)))
    return slots


class StringGenerator(Generator):
    """``pattern = "AAA-999"`` or ``length = [min, max]`` over ``chars``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        pattern = self.field.param("pattern")
        if pattern is not None:
            self.slots = parse_pattern(pattern)
            self.min_length = len(self.slots)
        else:
            length = self.field.param("length", list(DEFAULT_LENGTH))
            low, high = (length, length) if isinstance(length, int) else length
            alphabet = codepoints(self.field.param("chars", DEFAULT_CHARS))
            self.slots = [_Slot(alphabet=alphabet)] * high
            self.min_length = low
        self.width = len(self.slots)
        # Variable positions that can carry a unique ordinal: the last ones of
        # the always-present prefix, as many as fit in a permutation.
        self._ordinal_slots: list[int] = []
        product = 1
        for position in reversed(range(self.min_length)):
            alphabet = self.slots[position].alphabet
            if alphabet is not None and product * len(alphabet) <= MAX_DOMAIN:
                product *= len(alphabet)
                self._ordinal_slots.append(position)
        self._space = product

    def problems(self) -> list[str]:
        chars = self.field.param("chars")
        if self.field.unique and chars is not None and len(set(chars)) != len(chars):
            repeated = "".join(sorted({c for c in chars if chars.count(c) > 1}))
            return [f"chars repeats {repeated!r}: a unique string counts on every character "
                    f"being another ({len(chars)} given, {len(set(chars))} distinct); write "
                    "each character once"]
        return []

    def space(self) -> int:
        return self._space

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=self.width)  # one character a slot, at most every slot

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        grid = self._random_grid(indices)
        remaining = ordinals.astype(np.int64)
        for position in self._ordinal_slots:  # least significant first
            alphabet = self.slots[position].alphabet
            assert alphabet is not None
            remaining, digit = np.divmod(remaining, len(alphabet))
            grid[:, position] = alphabet[digit]
        return strings_from_codepoints(grid)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return strings_from_codepoints(self._random_grid(indices))

    def _random_grid(self, indices: np.ndarray) -> np.ndarray:
        # One row per slot while filling (contiguous writes), rows per value at the end.
        slots = np.empty((self.width, len(indices)), dtype=np.uint32)
        # Several characters from one draw of 53 random bits: each is the integer part
        # of the fraction left by the previous ones, times the alphabet's size. A hash
        # per character made a phone pattern's eleven digits cost eleven hashes.
        fraction: np.ndarray | None = None
        room = 0  # how many more values the fraction still holds without a visible bias
        draws = 0
        for position, slot in enumerate(self.slots):
            if slot.alphabet is None:
                slots[position] = slot.literal
                continue
            size = len(slot.alphabet)
            if fraction is None or room < size:
                fraction = self.stream.sub("chars", draws).uniform(indices)
                draws += 1
                room = _PACKED_RANGE
            fraction *= size
            drawn = fraction.astype(np.intp)
            fraction -= drawn
            room //= size
            slots[position] = slot.alphabet[drawn]
        grid = np.ascontiguousarray(slots.T)
        if self.min_length < self.width:
            lengths = self.stream.sub("length").integers(indices, self.min_length, self.width)
            grid[np.arange(self.width) >= lengths[:, None]] = 0  # numpy drops trailing NULs
        return grid


# The values drawn from one 53-bit fraction multiply to at most this: 21 bits are left
# under the last one, so each differs from uniform by under 2**-21.
_PACKED_RANGE = 2**32

_HEX = codepoints("0123456789abcdef")
_DASHES = (8, 13, 18, 23)
# Where each of the 32 hex digits goes in the 36-character form.
_DIGIT_COLUMNS = [c for c in range(36) if c not in _DASHES]


class UuidGenerator(Generator):
    """Version-4-shaped UUIDs, unique by construction.

    A v4 UUID has 122 free bits. The 62 free bits of its low half come
    from a keyed permutation of the row index, so two rows never share a
    UUID (up to 2**62 rows), with or without ``unique = true``; the 60
    free bits of the high half are random.
    """

    column_type = ColumnType.UUID
    unique_by_nature = True

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=36)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        permutation = KeyedPermutation(MAX_DOMAIN, self.stream.sub("low").key)
        low = permutation(indices).astype(np.uint64) | np.uint64(1 << 63)  # variant 10xx
        high = self.stream.sub("high").bits(indices)
        high = (high & np.uint64(MASK64 ^ 0xF000)) | np.uint64(0x4000)  # version 4
        grid = np.full((len(indices), 36), ord("-"), dtype=np.uint32)
        for digit, column in enumerate(_DIGIT_COLUMNS):
            half, nibble = (high, digit) if digit < 16 else (low, digit - 16)
            shift = np.uint64(60 - 4 * nibble)
            grid[:, column] = _HEX[((half >> shift) & np.uint64(0xF)).astype(np.intp)]
        return strings_from_codepoints(grid)


class BytesGenerator(Generator):
    """``length`` random bytes as PostgreSQL's hex bytea text: ``\\x`` and two digits a byte.

    Built as a grid of code points, two columns a byte; each 64-bit draw
    gives eight bytes, and the columns past a row's length are NUL, which
    numpy drops (``services.text``).
    """

    syntax = "bytea"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        bounds = fieldspecs.count_bounds(self.field.param("length", list(DEFAULT_BYTES)))
        self.low, self.high = bounds or DEFAULT_BYTES  # validation refused any other shape

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=2 + 2 * self.high)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        grid = np.zeros((len(indices), 2 + 2 * self.high), dtype=np.uint32)
        grid[:, 0], grid[:, 1] = ord("\\"), ord("x")
        for word in range(-(-self.high // 8)):
            bits = self.stream.sub("bytes", word).bits(indices)
            for position in range(8 * word, min(8 * word + 8, self.high)):
                byte = (bits >> np.uint64(8 * (position % 8))) & np.uint64(0xFF)
                grid[:, 2 + 2 * position] = _HEX[(byte >> np.uint64(4)).astype(np.intp)]
                grid[:, 3 + 2 * position] = _HEX[(byte & np.uint64(0xF)).astype(np.intp)]
        if self.low < self.high:
            lengths = self.stream.sub("length").integers(indices, self.low, self.high)
            grid[np.arange(grid.shape[1]) >= (2 + 2 * lengths)[:, None]] = 0
        return strings_from_codepoints(grid)
