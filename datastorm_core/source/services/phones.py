"""Telephone numbers of a country, valid by libphonenumber's metadata, on arrays.

libphonenumber (``phonenumbers``) describes each country's mobile and
fixed-line numbers by a regular expression of their national significant
number and the lengths they may have. ``shapes.expand`` turns that into
shapes ("9", "[1-9]", "\\d" x 7); every string of a shape matches the
pattern. libphonenumber then judges samples of each shape, once per
process: a shape is kept when its numbers are valid and of the asked type
(a number that also matches a toll-free or VoIP range is classified as
that), and when they share one layout in each format ("030 123456",
"+49 30 123456"). Shapes are first cut where libphonenumber's format
rules (leading digits, pattern) change the layout (``_FormatRules``); a
shape whose samples still disagree is split on its first varying
position and judged again, ``MAX_SPLIT_DEPTH`` times at most; what still
disagrees is left out. So a generated number is a digit string
filled into its shape's layouts, with no per-row call to phonenumbers.

Numbers are drawn in two steps: a length, in proportion to the shapes of
that length (Germany's fixed lines run from 5 to 15 digits, and a uniform
draw over all numbers would make nearly all of them 15 digits long), then
a number uniformly among that length's numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from datastorm_core.source.services.shapes import Shape, Shapes, expand
from datastorm_core.source.services.text import strings_from_codepoints

__all__ = ["FORMATS", "LINES", "PhonePlan", "phone_plan"]

LINES = ("mobile", "fixed")
FORMATS = ("international", "national", "e164", "digits")
# Times a shape whose samples disagree is split on a varying position before what
# still disagrees is left out. Layouts are separated beforehand (``_FormatRules``):
# this catches the few ranges another type claims, without splitting a long tail
# of digits into millions of shapes.
MAX_SPLIT_DEPTH = 3
# Samples of a shape judged by libphonenumber: its first and last number and these many
# more, drawn with a fixed seed (the plan is the same in every process).
EXTRA_SAMPLES = 2
_SAMPLE_SEED = 20_240_601
# Up to this many layouts in a group, rows are written layout by layout with column
# copies; past it, by one gather over every row and column.
_LAYOUT_LOOP = 24


@dataclass(frozen=True)
class _Group:
    """The shapes of one length and each shape's layout per format."""

    shapes: Shapes
    layouts: dict[str, np.ndarray]  # format -> layout index per shape
    layout_texts: dict[str, tuple[str, ...]]  # format -> distinct layouts ("0## ######")

    @lru_cache(maxsize=8)  # noqa: B019 - a few groups, kept for the process anyway
    def placement(self, fmt: str) -> tuple[np.ndarray, np.ndarray]:
        """Per layout and output column: the digit it takes (-1: none), and the literal
        character otherwise (0 past the layout's end, which numpy drops)."""
        texts = self.layout_texts[fmt]
        width = max(len(t) for t in texts)
        source = np.full((len(texts), width), -1, dtype=np.intp)
        literal = np.zeros((len(texts), width), dtype=np.uint32)
        for k, text in enumerate(texts):
            taken = 0
            for column, char in enumerate(text):
                if char == "#":
                    source[k, column] = taken
                    taken += 1
                else:
                    literal[k, column] = ord(char)
        return source, literal

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


@dataclass(frozen=True)
class PhonePlan:
    """The valid numbers of one country and line type, and their layouts."""

    region: str
    country_code: int
    line: str
    groups: tuple[_Group, ...]
    group_weights: np.ndarray  # cumulative, float64: a length's chance (its shape count)

    @property
    def size(self) -> int:
        return int(sum(g.shapes.size for g in self.groups))

    def max_length(self, fmt: str) -> int:
        return max(len(t) for g in self.groups for t in g.layout_texts[fmt])

    def render(self, group_of: np.ndarray, rank: np.ndarray, fmt: str) -> np.ndarray:
        """Numbers: rank ``rank`` among the numbers of group ``group_of``, written in ``fmt``.

        One grid of code points for the chunk: each group's digits are gathered
        into their shapes' layouts (``_Group.placement``) in one pass.
        """
        n = len(rank)
        width = max(len(t) for g in self.groups for t in g.layout_texts[fmt])
        grid = np.zeros((n, width), dtype=np.uint32)
        for number, group in enumerate(self.groups):
            rows = np.flatnonzero(group_of == number) if len(self.groups) > 1 else None
            if rows is not None and not len(rows):
                continue
            shape, within = group.shapes.locate(rank if rows is None else rank[rows])
            digits = group.shapes.codepoints(shape, within)
            source, literal = group.placement(fmt)
            if len(source) == 1:  # one layout (the usual case): column copies
                part = _place(digits, source[0], literal[0])
            elif len(source) <= _LAYOUT_LOOP:
                layout = group.layouts[fmt][shape]
                part = np.zeros((len(shape), source.shape[1]), dtype=np.uint32)
                for k in range(len(source)):
                    which = np.flatnonzero(layout == k)
                    if len(which):
                        part[which] = _place(digits[which], source[k], literal[k])
            else:
                layout = group.layouts[fmt][shape]
                taken = np.take_along_axis(digits, np.maximum(source[layout], 0), axis=1)
                part = np.where(source[layout] >= 0, taken, literal[layout])
            if rows is None:
                grid[:, :part.shape[1]] = part
            else:
                grid[rows, :part.shape[1]] = part
        return strings_from_codepoints(grid)

    def from_ordinals(self, ordinals: np.ndarray, fmt: str) -> np.ndarray:
        """Distinct numbers for distinct ordinals in ``[0, size)``."""
        starts = np.cumsum([0] + [g.shapes.size for g in self.groups]).astype(np.int64)
        ordinals = np.asarray(ordinals, dtype=np.int64)
        group_of = np.searchsorted(starts[1:], ordinals, side="right")
        return self.render(group_of, ordinals - starts[group_of], fmt)


def _place(digits: np.ndarray, source: np.ndarray, literal: np.ndarray) -> np.ndarray:
    """Digit rows written into one layout: runs of digits copied as slices."""
    out = np.empty((len(digits), len(source)), dtype=np.uint32)
    column = 0
    while column < len(source):
        if source[column] < 0:
            out[:, column] = literal[column]
            column += 1
            continue
        end = column
        while end + 1 < len(source) and source[end + 1] == source[end] + 1:
            end += 1
        first = int(source[column])
        out[:, column:end + 1] = digits[:, first:first + end + 1 - column]
        column = end + 1
    return out


@lru_cache(maxsize=64)
def phone_plan(region: str, line: str) -> PhonePlan:
    """The plan of ``region``'s (ISO 3166-1 alpha-2) mobile or fixed numbers.

    Raises LookupError when libphonenumber knows no such numbers there.
    """
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise LookupError(f"libphonenumber has no numbering plan for {region!r}")
    desc = metadata.mobile if line == "mobile" else metadata.fixed_line
    if desc is None or not desc.national_number_pattern:
        raise LookupError(f"libphonenumber has no {line} numbers for {region!r}")
    lengths = tuple(desc.possible_length or metadata.general_desc.possible_length)
    wanted = _wanted_types(line)
    judge = _Judge(region, metadata.country_code, wanted)
    rules = _FormatRules.of(metadata)
    general = metadata.general_desc.national_number_pattern
    kept: list[tuple[Shape, dict[str, str]]] = []
    for shape in expand(desc.national_number_pattern, lengths):
        # A number must match the country's general pattern too (Germany's fixed-line
        # pattern holds 7-digit numbers starting 49 that the general one does not).
        for inside in _within(shape, general):
            for piece in rules.split(inside):
                kept.extend(judge.refine(piece, 0))
    if not kept:
        raise LookupError(f"no {line} numbers of {region!r} pass libphonenumber's checks")
    by_length: dict[int, list[tuple[Shape, dict[str, str]]]] = {}
    for shape, layouts in kept:
        by_length.setdefault(len(shape), []).append((shape, layouts))
    groups = []
    for length in sorted(by_length):
        members = by_length[length]
        layouts: dict[str, np.ndarray] = {}
        texts: dict[str, tuple[str, ...]] = {}
        for fmt in FORMATS:
            distinct = tuple(dict.fromkeys(m[1][fmt] for m in members))
            index = {t: i for i, t in enumerate(distinct)}
            layouts[fmt] = np.array([index[m[1][fmt]] for m in members], dtype=np.int64)
            texts[fmt] = distinct
        groups.append(_Group(Shapes(tuple(m[0] for m in members)), layouts, texts))
    weights = np.cumsum([len(g.shapes.shapes) for g in groups], dtype=np.float64)
    return PhonePlan(region, metadata.country_code, line, tuple(groups), weights)


def _wanted_types(line: str) -> frozenset[int]:
    from phonenumbers import PhoneNumberType as T

    if line == "mobile":
        return frozenset({T.MOBILE, T.FIXED_LINE_OR_MOBILE})
    return frozenset({T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE})


@dataclass(frozen=True)
class _FormatRules:
    """libphonenumber's choice of a layout, as shapes: which format a number takes.

    A format applies to a number whose start matches its leading-digits
    pattern and which matches its pattern whole; the first that applies
    wins. ``split`` cuts a shape into pieces on each of which every
    format either applies to all numbers or to none, so a piece has one
    layout (checked again on samples by ``_Judge``).
    """

    formats: tuple[tuple[tuple[Shape, ...], str], ...]  # (leading-digit prefixes, pattern)

    @classmethod
    def of(cls, metadata: object) -> _FormatRules:
        found: list[tuple[tuple[Shape, ...], str]] = []
        for group in (getattr(metadata, "number_format", None) or (),
                      getattr(metadata, "intl_number_format", None) or ()):
            for fmt in group:
                leading = fmt.leading_digits_pattern
                prefixes = tuple(expand(leading[-1])) if leading else ((),)
                found.append((prefixes, fmt.pattern))
        return cls(tuple(found))

    def split(self, shape: Shape) -> list[Shape]:
        for prefixes, pattern in self.formats:
            for candidates in (prefixes, _full_shapes(pattern, len(shape))):
                verdict, cut = _relation(shape, candidates)
                if verdict == "part":
                    assert cut is not None
                    return [s for piece in cut for s in self.split(piece)]
                if verdict == "none":
                    break
        return [shape]


def _within(shape: Shape, pattern: str) -> list[Shape]:
    """The pieces of ``shape`` whose numbers all match ``pattern`` whole."""
    verdict, cut = _relation(shape, _full_shapes(pattern, len(shape)))
    if verdict == "all":
        return [shape]
    if verdict == "none" or cut is None:
        return []
    return [s for piece in cut for s in _within(piece, pattern)]


@lru_cache(maxsize=4096)
def _full_shapes(pattern: str, length: int) -> tuple[Shape, ...]:
    return tuple(expand(pattern, (length,)))


def _relation(shape: Shape, prefixes: tuple[Shape, ...]
              ) -> tuple[str, tuple[Shape, Shape] | None]:
    """Whether some prefix covers every number of ``shape`` ("all"), none touches it
    ("none"), or some touch part of it ("part", with the shape cut in two)."""
    masks = [_mask(options) for options in shape]
    cut: tuple[Shape, Shape] | None = None
    for prefix in prefixes:
        if len(prefix) > len(shape):
            continue
        first_partial = None
        for i, allowed in enumerate(prefix):
            mine, theirs = masks[i], _mask(allowed)
            if not mine & theirs:
                break
            if mine & ~theirs and first_partial is None:
                first_partial = i
        else:
            if first_partial is None:
                return "all", None
            if cut is None:
                i = first_partial
                within = "".join(c for c in shape[i] if c in prefix[i])
                outside = "".join(c for c in shape[i] if c not in prefix[i])
                cut = ((*shape[:i], within, *shape[i + 1:]),
                       (*shape[:i], outside, *shape[i + 1:]))
    return ("part", cut) if cut is not None else ("none", None)


@lru_cache(maxsize=4096)
def _mask(options: str) -> int:
    """A character set as bits of its code points: intersections are one ``&``."""
    bits = 0
    for char in options:
        bits |= 1 << ord(char)
    return bits


class _Judge:
    """libphonenumber's verdict on samples of a shape: kept with its layouts, or split."""

    def __init__(self, region: str, country_code: int, wanted: frozenset[int]) -> None:
        self.region = region
        self.country_code = country_code
        self.wanted = wanted
        self.rng = random.Random(_SAMPLE_SEED)

    def refine(self, shape: Shape, depth: int) -> list[tuple[Shape, dict[str, str]]]:
        layouts = self._consistent(shape)
        if layouts is not None:
            return [(shape, layouts)]
        position = next((i for i, options in enumerate(shape) if len(options) > 1), None)
        if position is None or depth >= MAX_SPLIT_DEPTH:
            return []  # still mixed where splitting stops: left out
        found = []
        for char in shape[position]:
            found.extend(self.refine((*shape[:position], char, *shape[position + 1:]),
                                     depth + 1))
        return found

    def _samples(self, shape: Shape) -> list[str]:
        first = "".join(options[0] for options in shape)
        last = "".join(options[-1] for options in shape)
        drawn = ["".join(self.rng.choice(options) for options in shape)
                 for _ in range(EXTRA_SAMPLES)]
        return list(dict.fromkeys([first, last, *drawn]))

    def _consistent(self, shape: Shape) -> dict[str, str] | None:
        import phonenumbers
        from phonenumbers import PhoneNumberFormat as F

        found: dict[str, str] | None = None
        for nsn in self._samples(shape):
            number = phonenumbers.parse(f"+{self.country_code}{nsn}")
            if (phonenumbers.region_code_for_number(number) != self.region
                    or not phonenumbers.is_valid_number(number)
                    or phonenumbers.number_type(number) not in self.wanted
                    or phonenumbers.national_significant_number(number) != nsn):
                return None
            layouts = {
                "international": _layout(phonenumbers.format_number(number, F.INTERNATIONAL),
                                         nsn),
                "national": _layout(phonenumbers.format_number(number, F.NATIONAL), nsn),
                "e164": f"+{self.country_code}" + "#" * len(nsn),
                "digits": "#" * len(nsn),
            }
            if any(v is None for v in layouts.values()):
                return None
            if found is None:
                found = layouts  # type: ignore[assignment]
            elif found != layouts:
                return None
        return found


def _layout(formatted: str, nsn: str) -> str | None:
    """``formatted`` with the national number's digits as ``#`` (aligned from the end);
    None when the digits are not all there in order."""
    out = list(formatted)
    j = len(nsn) - 1
    for i in range(len(formatted) - 1, -1, -1):
        if j < 0:
            break
        if formatted[i].isdigit():
            if formatted[i] != nsn[j]:
                return None
            out[i] = "#"
            j -= 1
    return "".join(out) if j < 0 else None
