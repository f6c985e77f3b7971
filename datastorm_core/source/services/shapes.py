"""Every string a simple regular expression matches, as shapes enumerated on arrays.

libphonenumber's number patterns and Google's postcode patterns are
regular expressions of a small dialect: literals, character classes,
groups, alternations and bounded repeats. ``expand`` turns one into
*shapes*: fixed-length sequences of character sets ("2", "0", "[1-35-9]",
"\\d" x 7), whose union is exactly the language of the expression.

A ``Shapes`` value lays its shapes' strings end to end, so an ordinal in
``[0, size)`` is one string: the shape found by ``searchsorted``, then a
mixed-radix number with one digit per position. Drawing a value uniformly
is drawing an ordinal; a unique field enumerates ordinals. Everything is
numpy over whole chunks: positions are columns of a code-point grid.
"""

from __future__ import annotations

import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from datastorm_core.source.services.documents import digits_of
from datastorm_core.source.services.text import strings_from_codepoints

__all__ = ["Shape", "Shapes", "TooManyShapes", "expand"]

# The characters a class like \d, \w or [^...] stands for in these patterns: phone
# numbers and postcodes are ASCII digits and upper-case letters.
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CATEGORIES = {sre.CATEGORY_DIGIT: "0123456789", sre.CATEGORY_WORD: _ALPHABET,
               sre.CATEGORY_SPACE: " "}
# Expanding stops past this many shapes: a pattern that needs more is refused, not
# expanded for minutes (the largest real one, Germany's fixed lines, needs ~4,000).
MAX_SHAPES = 200_000
# An unbounded repeat (+, *) is cut at this many repetitions.
MAX_REPEAT = 4

Shape = tuple[str, ...]
# The longest run of trailing digits cut at once: 10**18 still fits an int64.
_TAIL_DIGITS = 18


class TooManyShapes(ValueError):
    """The expression has more shapes than ``MAX_SHAPES``."""


def expand(pattern: str, lengths: tuple[int, ...] | None = None) -> list[Shape]:
    """The shapes of ``pattern`` (anchored at both ends), of the given lengths only."""
    allowed = set(lengths) if lengths else None
    limit = max(allowed) if allowed else None
    shapes = _sequence(list(sre_parse.parse(pattern)), limit)
    return list(dict.fromkeys(s for s in shapes if allowed is None or len(s) in allowed))


def _sequence(items: list[tuple[Any, Any]], limit: int | None) -> list[Shape]:
    shapes: list[Shape] = [()]
    for op, arg in items:
        options = _item(op, arg, limit)
        shapes = [a + b for a in shapes for b in options
                  if limit is None or len(a) + len(b) <= limit]
        if len(shapes) > MAX_SHAPES:
            raise TooManyShapes(f"more than {MAX_SHAPES} shapes")
    return shapes


def _item(op: Any, arg: Any, limit: int | None) -> list[Shape]:
    if op is sre.LITERAL:
        return [(chr(arg),)]
    if op is sre.IN:
        return [(_class(arg),)]
    if op is sre.SUBPATTERN:
        return _sequence(list(arg[-1]), limit)
    if op is sre.BRANCH:
        return [s for branch in arg[1] for s in _sequence(list(branch), limit)]
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, high, sub = arg
        high = low + MAX_REPEAT if high is sre.MAXREPEAT else high
        body = _sequence(list(sub), limit)
        found: list[Shape] = []
        current: list[Shape] = [()]
        for count in range(high + 1):
            if count >= low:
                found.extend(current)
            current = [a + b for a in current for b in body
                       if limit is None or len(a) + len(b) <= limit]
            if not current:
                break
        return found
    if op is sre.ANY:
        return [(_ALPHABET,)]
    if op is sre.AT:
        return [()]
    raise ValueError(f"unsupported regular expression element {op}")


def _class(items: list[tuple[Any, Any]]) -> str:
    chars: set[str] = set()
    negate = False
    for op, arg in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            chars.add(chr(arg))
        elif op is sre.RANGE:
            chars.update(chr(c) for c in range(arg[0], arg[1] + 1))
        elif op is sre.CATEGORY:
            chars.update(_CATEGORIES[arg])
        else:
            raise ValueError(f"unsupported character class element {op}")
    if negate:
        chars = set(_ALPHABET) - chars
    return "".join(sorted(chars))


@dataclass(frozen=True)
class Shapes:
    """Shapes laid end to end: ordinals to strings, on arrays."""

    shapes: tuple[Shape, ...]

    @cached_property
    def length(self) -> int:
        """The longest shape's length: shorter ones end in NULs, which numpy drops."""
        return max(len(s) for s in self.shapes)

    @cached_property
    def sizes(self) -> np.ndarray:
        return np.array([_size(s) for s in self.shapes], dtype=np.int64)

    @cached_property
    def starts(self) -> np.ndarray:
        """Where each shape's strings begin; the last entry is the size."""
        return np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)

    @property
    def size(self) -> int:
        return int(self.starts[-1])

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Per shape and position: the set's size, and its characters (padded)."""
        n, width = len(self.shapes), self.length
        widest = max((len(c) for s in self.shapes for c in s), default=1)
        radix = np.ones((n, width), dtype=np.int64)
        chars = np.zeros((n, width, widest), dtype=np.uint32)
        for i, shape in enumerate(self.shapes):
            for j, options in enumerate(shape):
                radix[i, j] = len(options)
                chars[i, j, :len(options)] = [ord(c) for c in options]
        return radix, chars

    def locate(self, ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shape of each ordinal, and the ordinal's rank within it."""
        ordinals = np.asarray(ordinals, dtype=np.int64)
        shape = np.searchsorted(self.starts[1:], ordinals, side="right")
        return shape, ordinals - self.starts[shape]

    @cached_property
    def _columns(self) -> tuple[str, ...]:
        """Each position's kind across shapes: "fixed" (one character in every shape: a
        literal, or the padding), "digit" (\\d in every shape) or "mixed"."""
        radix, chars = self._tables
        digits = np.arange(ord("0"), ord("9") + 1, dtype=np.uint32)
        kinds = []
        for position in range(self.length):
            if (radix[:, position] == 1).all():
                kinds.append("fixed")
            elif (radix[:, position] == 10).all() and (chars[:, position, :10] == digits).all():
                kinds.append("digit")
            else:
                kinds.append("mixed")
        return tuple(kinds)

    def codepoints(self, shape: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """An (n, length) grid of code points: rank ``rank`` of shape ``shape``."""
        radix, chars = self._tables
        grid = np.empty((len(shape), self.length), dtype=np.uint32)
        rest = np.asarray(rank, dtype=np.int64).copy()
        # The last position varies fastest. Phone numbers and postcodes end in runs of
        # plain digits: the trailing run is cut three digits at a time (digits_of), the
        # other digit columns are a division by 10, not a gather per row.
        tail = 0
        while tail < min(self.length, _TAIL_DIGITS) and \
                self._columns[self.length - 1 - tail] == "digit":
            tail += 1
        if tail:
            rest, low = np.divmod(rest, 10**tail)
            np.add(digits_of(low, tail), ord("0"), out=grid[:, self.length - tail:],
                   casting="unsafe")
        for position in range(self.length - 1 - tail, -1, -1):
            kind = self._columns[position]
            if kind == "fixed":
                grid[:, position] = chars[shape, position, 0]
            elif kind == "digit":
                rest, digit = np.divmod(rest, 10)
                np.add(digit, ord("0"), out=grid[:, position], casting="unsafe")
            else:
                rest, digit = np.divmod(rest, radix[shape, position])
                grid[:, position] = chars[shape, position, digit]
        return grid

    def strings(self, ordinals: np.ndarray) -> np.ndarray:
        shape, rank = self.locate(ordinals)
        return strings_from_codepoints(self.codepoints(shape, rank))


def _size(shape: Shape) -> int:
    size = 1
    for options in shape:
        size *= len(options)
    return size
