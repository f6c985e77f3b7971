"""Structured text: JSON objects and PostgreSQL array literals.

These fill an application's json/jsonb and array columns (``text[]``,
``int[]``) with text in the syntax PostgreSQL reads. Both are assembled
on whole arrays: each element's text is made once per chunk (or once per
word list, for words) and joined position by position with numpy string
additions, never one row at a time through ``json.dumps``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cached_property, lru_cache

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.core.values import format_numeric
from datastorm_core.genfile import fieldspecs
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.generators.brazil import locale_problem
from datastorm_core.source.generators.derived import _DerivedGenerator
from datastorm_core.source.services import locale_data
from datastorm_core.source.services.memo import IdentityCache
from datastorm_core.source.services.text import longest

__all__ = ["ArrayGenerator", "JsonGenerator", "array_element", "json_strings"]

DEFAULT_JSON_KEYS = (1, 4)
# A lorem-keyed object's values: a word or an integer in [0, JSON_INT_MAX], half and half.
JSON_INT_MAX = 9999
DEFAULT_ARRAY_LENGTH = (0, 3)
DEFAULT_ELEMENT_RANGE = (0, 1000)


# -- JSON -------------------------------------------------------------------------------


def json_strings(texts: np.ndarray) -> np.ndarray:
    """JSON string literals of a unicode array, as ``json.dumps(ensure_ascii=False)`` writes.

    Most generated text needs no escape: only the rows holding a quote or a
    backslash are escaped (on arrays), and the rarer rows holding a control
    character (below U+0020, which has escapes of its own) go through
    ``json.dumps`` one by one (a per-row loop over those rows only).
    """
    texts = np.asarray(texts, dtype=str)
    quoted = np.strings.add(np.strings.add('"', texts), '"')
    width = texts.dtype.itemsize // 4
    if not len(texts) or not width:
        return quoted
    points = np.ascontiguousarray(texts).view(np.uint32).reshape(len(texts), width)
    control = ((points < 0x20) & (points != 0)).any(axis=1)
    escaped = ((points == ord('"')) | (points == ord("\\"))).any(axis=1) & ~control
    if not control.any() and not escaped.any():
        return quoted
    rows = np.flatnonzero(escaped)
    fixed = None
    if len(rows):  # np.strings.replace fails on an empty array
        fixed = np.strings.replace(np.strings.replace(texts[rows], "\\", "\\\\"), '"', '\\"')
        fixed = np.strings.add(np.strings.add('"', fixed), '"')
    redone = [json.dumps(text, ensure_ascii=False) for text in texts[control].tolist()]
    widest = max(quoted.dtype.itemsize // 4, 0 if fixed is None else fixed.dtype.itemsize // 4,
                 *map(len, redone))
    quoted = quoted.astype(f"<U{widest}")
    if fixed is not None:
        quoted[rows] = fixed
    quoted[control] = redone
    return quoted


# Quoted words of each word list (lorem words, names), made once per list.
_QUOTED_WORDS: IdentityCache[np.ndarray] = IdentityCache()


class JsonGenerator(_DerivedGenerator):
    """A JSON object a row: the fields of ``of`` by name, or lorem keys with word or int values.

    With ``of``, numbers stay numbers (a NUMERIC with its scale), booleans
    are booleans, dates and timestamps ISO strings, and a NULL field is
    ``null``: the object is never NULL because a field it holds is.
    """

    syntax = "json"
    nulls_from_reads = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.of = [f for f in self.field.param("of", []) if isinstance(f, str)]
        bounds = fieldspecs.count_bounds(self.field.param("keys", list(DEFAULT_JSON_KEYS)))
        self.low, self.high = bounds or DEFAULT_JSON_KEYS  # validation refused other shapes

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def problems(self) -> list[str]:
        if self.of:
            return []
        problems = locale_problem(self.locale())
        if not problems and len(self._words) < self.high:
            problems.append(f"keys: an object of {self.high} keys needs {self.high} distinct "
                            f"words, and the lorem list has {len(self._words)}")
        return problems

    @cached_property
    def _words(self) -> np.ndarray:
        _, words = locale_data.lorem_words(self.locale())
        return words.words

    def _quoted_words(self) -> np.ndarray:
        return _QUOTED_WORDS.get(self._words, lambda: json_strings(self._words))

    def value_space(self) -> ValueSpace | None:
        if self.of:
            return None  # as long as the fields' texts: not worth a bound
        # Each key: "word":value, the value a quoted word or up to four digits.
        quoted = longest(self._quoted_words())
        member = quoted + 1 + max(quoted, len(str(JSON_INT_MAX)))
        return ValueSpace(max_length=2 + self.high * member + max(self.high - 1, 0))

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        members = self._fields(row) if self.of else self._lorem(indices)
        return _joined("{", members, "}", len(indices))

    def _fields(self, row: Mapping[str, Column]) -> list[tuple[np.ndarray | None, np.ndarray]]:
        """``"name":value`` of each field of ``of``, for every row."""
        members = []
        for name in self.of:
            column = row[name]
            kind = column.values.dtype.kind
            # Text, uuids and ISO dates are quoted; numbers, true/false and the objects
            # of a json field are JSON already.
            quoted = kind in "UM" and not self._is_json(name)
            if quoted and column.categories is not None and column.codes is not None:
                # Drawn from a word list (names): each distinct value is quoted once.
                categories = column.categories
                value = _QUOTED_WORDS.get(categories, lambda c=categories: json_strings(c))[
                    column.codes]
            else:
                text = self.text(name, column)
                value = json_strings(text) if quoted else text
            if column.nulls is not None:
                value = np.where(column.nulls, "null", value)
            key = ("," if members else "") + json.dumps(name, ensure_ascii=False) + ":"
            members.append((None, np.strings.add(key, value)))
        return members

    def _is_json(self, name: str) -> bool:
        return self.read_column(name).syntax == "json"

    def _lorem(self, indices: np.ndarray) -> list[tuple[np.ndarray | None, np.ndarray]]:
        """Between ``keys`` bounds of distinct lorem keys, each with a word or an integer."""
        words = self._quoted_words()
        # '"key":' and ',"key":' (the first member has no comma before it), made once.
        first_keys, next_keys = _KEYS.get(words, lambda: (
            np.strings.add(words, ":"), np.strings.add(np.strings.add(",", words), ":")))
        numbers = _json_integers()
        size = len(words)
        counts = self.stream.sub("count").integers(indices, self.low, self.high)
        # Distinct keys: a random first word, then steps of at most size // high words:
        # the steps add up to less than the list's length, so no key comes twice.
        position = self.stream.sub("first-key").integers(indices, 0, size - 1)
        widest_step = max(size // max(self.high, 1), 1)
        members = []
        for slot in range(self.high):
            if slot:
                position = (position + self.stream.sub("step", slot).integers(
                    indices, 1, widest_step)) % size
            is_word = self.stream.sub("is-word", slot).below(indices, 0.5)
            word = words[self.stream.sub("word", slot).integers(indices, 0, size - 1)]
            number = numbers[self.stream.sub("int", slot).integers(indices, 0, JSON_INT_MAX)]
            keys = next_keys if slot else first_keys
            member = np.strings.add(keys[position], np.where(is_word, word, number))
            members.append((None if slot < self.low else slot < counts, member))
        return members


# '"key":' and ',"key":' of each quoted lorem list, made once per list.
_KEYS: IdentityCache[tuple[np.ndarray, np.ndarray]] = IdentityCache()


@lru_cache(maxsize=1)
def _json_integers() -> np.ndarray:
    """"0" to str(JSON_INT_MAX): gathered, not formatted, for each chunk."""
    return np.array([str(n) for n in range(JSON_INT_MAX + 1)])


def _joined(opening: str, members: list[tuple[np.ndarray | None, np.ndarray]], closing: str,
            n: int) -> np.ndarray:
    """``opening``, the members present in each row, ``closing``.

    A member is ``(present, text)``, ``present`` a mask or None (every row); every
    member but the first carries its leading comma (gathered from tables that
    have it, which saves a string addition a member). The members a row has
    come first: member k is present only where member k - 1 is.
    """
    out = np.full(n, opening)
    for present, member in members:
        out = np.strings.add(out, member if present is None else np.where(present, member, ""))
    return np.strings.add(out, closing)


# -- PostgreSQL arrays ------------------------------------------------------------------

# PostgreSQL's array_out quotes an element that is empty, that spells NULL, or that
# holds a delimiter, a brace, a quote, a backslash or white space.
_NEEDS_QUOTES = re.compile(r'[{}",\\\s]')


def array_element(value: str | int | float) -> str:
    """One element as PostgreSQL writes it in an array literal (quoted when it must be)."""
    text = value if isinstance(value, str) else repr(value)
    if text == "" or text.upper() == "NULL" or _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


# Array elements of each lorem list, made once per list.
_ARRAY_WORDS: IdentityCache[np.ndarray] = IdentityCache()


class ArrayGenerator(Generator):
    """``{a,b,"c d"}``: a subset of ``values`` in their order, or words or integers.

    With ``values``, each row keeps between ``length`` bounds of them
    (capped at how many there are), every subset of a size equally likely,
    in the list's order, each value at most once.
    """

    syntax = "array"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        values = self.field.param("values")
        self.listed = None if values is None else \
            np.array([array_element(v) for v in values], dtype=str)
        bounds = fieldspecs.count_bounds(self.field.param("length", list(DEFAULT_ARRAY_LENGTH)))
        low, high = bounds or DEFAULT_ARRAY_LENGTH  # validation refused other shapes
        if self.listed is not None:
            low, high = min(low, len(self.listed)), min(high, len(self.listed))
        self.low, self.high = low, high
        self.element = self.field.param("element", "word")
        self.range = (self.field.param("min", DEFAULT_ELEMENT_RANGE[0]),
                      self.field.param("max", DEFAULT_ELEMENT_RANGE[1]))

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def problems(self) -> list[str]:
        if self.listed is None and self.element == "word":
            return locale_problem(self.locale())
        return []

    def _words(self) -> np.ndarray:
        _, words = locale_data.lorem_words(self.locale())
        return _ARRAY_WORDS.get(words.words, lambda: np.array(
            [array_element(w) for w in words.words.tolist()], dtype=str))

    def value_space(self) -> ValueSpace:
        if self.listed is not None:  # the longest values, as many as an array can hold
            lengths = np.sort(np.strings.str_len(self.listed))[::-1][:self.high]
            elements = int(lengths.sum())
        elif self.element == "int":
            elements = self.high * max(len(str(self.range[0])), len(str(self.range[1])))
        else:
            elements = self.high * longest(self._words())
        return ValueSpace(max_length=2 + elements + max(self.high - 1, 0))

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        n = len(indices)
        counts = self.stream.sub("length").integers(indices, self.low, self.high)
        if self.listed is not None:
            elements = self._subsets(indices, counts)
        elif self.element == "int":
            elements = []
            for slot in range(self.high):
                drawn = format_numeric(self.stream.sub("int", slot).integers(indices, *self.range))
                elements.append(np.strings.add(",", drawn) if slot else drawn)
        else:
            words, commas = _with_commas(self._words())
            elements = [(commas if slot else words)[self.stream.sub("word", slot).integers(
                indices, 0, len(words) - 1)] for slot in range(self.high)]
        return _joined("{", [(slot < counts, element) for slot, element in enumerate(elements)],
                       "}", n)

    def _subsets(self, indices: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
        """The elements of each row's subset, slot by slot, in the list's order.

        Each value gets a random key per row; a row keeps the ``count``
        values of smallest keys (a uniform subset of that size), then puts
        them back in the list's order.
        """
        assert self.listed is not None
        size = len(self.listed)
        keys = np.stack([self.stream.sub("pick", i).uniform(indices) for i in range(size)],
                        axis=1) if size else np.empty((len(indices), 0))
        chosen = np.argsort(keys, axis=1, kind="stable")[:, :self.high]
        # Slots past the row's count get `size`, which sorts last and is never shown.
        chosen = np.where(np.arange(self.high) < counts[:, None], chosen, size)
        chosen.sort(axis=1)
        padded, commas = _with_commas(self._padded)
        return [(commas if slot else padded)[chosen[:, slot]] for slot in range(self.high)]

    @cached_property
    def _padded(self) -> np.ndarray:
        """The listed values, then "" for the slots a row leaves empty."""
        assert self.listed is not None
        return np.append(self.listed, "")


# Each element table with its elements after a comma, made once per table.
_COMMAS: IdentityCache[np.ndarray] = IdentityCache()


def _with_commas(elements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``elements``, and ``elements`` each preceded by the comma that separates it."""
    return elements, _COMMAS.get(elements, lambda: np.strings.add(",", elements))
