"""Strings composed from patterns of literals and word lists, on arrays.

A company name is "{last_name} {last_name} {suffix}", a street address
"{prefix} {first_name} {last_name}, {number}". A ``Composer`` holds such
patterns with their weights. For a chunk it draws a pattern per row,
then one word per slot, and concatenates column by column (numpy string
additions over the rows that use the pattern): no per-row Python.

It can also enumerate its values, for unique fields: the patterns' spaces
(the product of their word lists' sizes) are laid end to end, and an
ordinal is a pattern plus a mixed-radix number, one digit per slot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datastorm_core.source.services.dictionaries import Dictionary
from datastorm_core.source.services.permutation import MAX_DOMAIN
from datastorm_core.source.services.randomness import Stream
from datastorm_core.source.services.text import longest

__all__ = ["Composer", "Pattern"]

Part = str | Dictionary


@dataclass(frozen=True)
class Pattern:
    """Literals and word lists, concatenated; ``weight``: how often it is drawn."""

    parts: tuple[Part, ...]
    weight: float = 1.0

    @property
    def slots(self) -> tuple[Dictionary, ...]:
        return tuple(p for p in self.parts if isinstance(p, Dictionary))

    @property
    def space(self) -> int:
        size = 1
        for slot in self.slots:
            size *= len(slot)
        return size

    @property
    def max_length(self) -> int:
        """The longest string the pattern can spell: its literals and its longest words."""
        return sum(len(p) if isinstance(p, str) else longest(p.words) for p in self.parts)


class Composer:
    """Weighted patterns, drawn per row or enumerated.

    Distinct ordinals give distinct strings as long as no two (pattern,
    words) choices spell the same text; callers choose patterns for
    which that holds (the tests enumerate them).
    """

    def __init__(self, patterns: list[Pattern] | tuple[Pattern, ...]) -> None:
        if not patterns:
            raise ValueError("a composer needs at least one pattern")
        self.patterns = tuple(patterns)
        self.cumulative = np.cumsum([p.weight for p in self.patterns], dtype=np.float64)
        starts = [0]
        for p in self.patterns:
            starts.append(starts[-1] + p.space)
        self.space = starts[-1]
        self.max_length = max(p.max_length for p in self.patterns)
        # Ordinals stay below 2**62: clipped starts keep the arithmetic in int64.
        self._starts = np.array([min(s, MAX_DOMAIN) for s in starts], dtype=np.int64)

    def generate(self, stream: Stream, indices: np.ndarray) -> np.ndarray:
        """One drawn value per row index."""
        chosen = stream.sub("pattern").weighted(indices, self.cumulative)
        pieces = []
        for number, pattern in enumerate(self.patterns):
            rows = np.flatnonzero(chosen == number)
            if not len(rows):
                continue
            words = [
                slot.words[stream.sub("slot", number, position).weighted(indices[rows],
                                                                         slot.cumulative)]
                for position, slot in enumerate(pattern.slots)
            ]
            pieces.append((rows, _concatenate(pattern, words, len(rows))))
        return _assemble(pieces, len(indices))

    def from_ordinals(self, ordinals: np.ndarray) -> np.ndarray:
        """Distinct values for distinct ordinals in ``[0, min(space, 2**62))``."""
        ordinals = np.asarray(ordinals, dtype=np.int64)
        chosen = np.searchsorted(self._starts[1:], ordinals, side="right")
        pieces = []
        for number, pattern in enumerate(self.patterns):
            rows = np.flatnonzero(chosen == number)
            if not len(rows):
                continue
            remaining = ordinals[rows] - self._starts[number]
            digits = []
            for slot in reversed(pattern.slots):  # the last slot varies fastest
                remaining, digit = np.divmod(remaining, len(slot))
                digits.append(slot.words[digit])
            pieces.append((rows, _concatenate(pattern, digits[::-1], len(rows))))
        return _assemble(pieces, len(ordinals))


def _concatenate(pattern: Pattern, words: list[np.ndarray], n: int) -> np.ndarray:
    out: np.ndarray | None = None
    drawn = iter(words)
    for part in pattern.parts:
        value = next(drawn) if isinstance(part, Dictionary) else np.full(n, part)
        out = value if out is None else np.strings.add(out, value)
    return out if out is not None else np.full(n, "")


def _assemble(pieces: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    width = max((piece.dtype.itemsize // 4 for _, piece in pieces), default=1)
    out = np.full(n, "", dtype=f"<U{max(width, 1)}")
    for rows, piece in pieces:
        out[rows] = piece
    return out
