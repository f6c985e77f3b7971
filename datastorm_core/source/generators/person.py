"""People: first, last and full names from the locale's dictionaries; e-mails."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.services import dictionaries
from datastorm_core.source.services.dictionaries import Dictionary
from datastorm_core.source.services.memo import IdentityCache
from datastorm_core.source.services.permutation import KeyedPermutation
from datastorm_core.source.services.text import ascii_slug, longest, zero_padded

__all__ = ["EmailGenerator", "FirstNameGenerator", "LastNameGenerator", "NameGenerator"]


class _DictionaryGenerator(Generator):
    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def problems(self) -> list[str]:
        if self.locale() not in dictionaries.available_locales():
            return [f"unknown locale {self.locale()!r}; e.g. pt_BR, en_US, de_DE, es_ES"]
        return []


class _SingleWordGenerator(_DictionaryGenerator):
    @abstractmethod
    def dictionary(self) -> Dictionary:
        """The word list this generator draws from."""

    def space(self) -> int:
        return len(self.dictionary())

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=longest(self.dictionary().words))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.dictionary().words[ordinals]

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        words = self.dictionary()
        return words.words[self.stream.weighted(indices, words.cumulative)]


class FirstNameGenerator(_SingleWordGenerator):
    def dictionary(self) -> Dictionary:
        return dictionaries.first_names(self.locale())


class LastNameGenerator(_SingleWordGenerator):
    def dictionary(self) -> Dictionary:
        return dictionaries.last_names(self.locale())


# Precompute every "First Last" when there are at most this many: a name is
# then one gather instead of two gathers and two string concatenations
# (pt_BR has 28,764; en_US's 690,000 stay concatenated per row).
FULL_NAME_LIMIT = 1 << 18


class NameGenerator(_DictionaryGenerator):
    """``First Last`` (``Last First`` where the locale writes the family name first:
    ja_JP's ``佐藤 健一``); unique names enumerate the (first, last) pairs."""

    def parts(self) -> tuple[Dictionary, Dictionary]:
        return dictionaries.first_names(self.locale()), dictionaries.last_names(self.locale())

    def space(self) -> int:
        first, last = self.parts()
        return len(first) * len(last)

    def value_space(self) -> ValueSpace:
        first, last = self.parts()  # "First Last": any first name with any last name
        separator = len(dictionaries.name_order(self.locale())[1])
        return ValueSpace(max_length=longest(first.words) + separator + longest(last.words))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray | Column:
        return self._names(ordinals)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray | Column:
        first, last = self.parts()
        i = self.stream.sub("first").weighted(indices, first.cumulative)
        j = self.stream.sub("last").weighted(indices, last.cumulative)
        return self._names(i * len(last) + j)

    def _names(self, codes: np.ndarray) -> np.ndarray | Column:
        """Names of (first, last) pair codes ``i * len(last) + j``."""
        first, last = self.parts()
        order = dictionaries.name_order(self.locale())
        full = _full_names(first, last, order)
        if full is not None:
            return Column(full[codes], codes=codes, categories=full)
        i, j = np.divmod(codes, len(last))
        family_first, separator = order
        if family_first:
            return np.strings.add(np.strings.add(last.words[j], separator), first.words[i])
        return np.strings.add(np.strings.add(first.words[i], separator), last.words[j])


# Share of non-unique addresses that carry a number (ana.silva83@...), as real ones do.
NUMBERED_SHARE = 0.4
# RFC 5321's longest local part: a local part folded from any text (``from``) is cut
# to it, so an address has a known maximum length (a varchar(254) column holds it).
LOCAL_PART_MAX = 64


class EmailGenerator(_DictionaryGenerator):
    """``first.last[number]@domain``, from a name field of the row when ``from`` is set.

    With ``unique = true`` every address carries a fixed-width number from
    a keyed permutation of the row index: two rows never share an address,
    whatever their names.
    """

    handles_unique = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        digits = max(3, len(str(max(self.ctx.table_rows - 1, 1))))
        self.suffix_digits = digits
        self.unique_suffix = KeyedPermutation(10**digits, self.stream.sub("suffix").key)

    def space(self) -> int:
        return 10**self.suffix_digits

    def number_width(self) -> int:
        """Digits after the local part: the unique suffix, or up to two."""
        return self.suffix_digits if self.field.unique else 2

    def value_space(self) -> ValueSpace:
        # first.last, the number (two digits, or the unique suffix), @domain; a local
        # part folded from another field is cut to LOCAL_PART_MAX with its number.
        if self.field.param("from") is not None:
            local = LOCAL_PART_MAX
        else:
            first = dictionaries.first_names(self.locale())
            last = dictionaries.last_names(self.locale())
            local = longest(_slugs(first)) + 1 + longest(_slugs(last)) + self.number_width()
        return ValueSpace(max_length=local + 1 + longest(self.domains()))

    def domains(self) -> np.ndarray:
        domain = self.field.param("domain")
        if domain is None:
            return dictionaries.email_domains(self.locale()).words
        return np.array(domain if isinstance(domain, list) else [domain])

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        source = self.field.param("from")
        if source is not None:
            locals_ = _local_parts(row[source])
            room = max(1, LOCAL_PART_MAX - self.number_width())
            if locals_.dtype.itemsize // 4 > room:  # a narrower dtype cuts every string
                locals_ = locals_.astype(f"<U{room}")
        else:
            first = dictionaries.first_names(self.locale())
            last = dictionaries.last_names(self.locale())
            i = self.stream.sub("first").weighted(indices, first.cumulative)
            j = self.stream.sub("last").weighted(indices, last.cumulative)
            locals_ = np.strings.add(np.strings.add(_slugs(first)[i], "."), _slugs(last)[j])
        # Narrow dtypes and "@domain" built on the small domain list: numpy
        # string work is proportional to the widest element.
        if self.field.unique:
            suffix = zero_padded(self.unique_suffix(indices), self.suffix_digits)
        else:
            numbered = self.stream.sub("numbered").below(indices, NUMBERED_SHARE)
            numbers = self.stream.sub("number").integers(indices, 1, 99).astype("U2")
            suffix = np.where(numbered, numbers, "")
        at_domains = np.strings.add("@", self.domains())
        domain = at_domains[self.stream.sub("domain").integers(indices, 0, len(at_domains) - 1)]
        return np.strings.add(np.strings.add(locals_, suffix), domain)

def _full_names(first: Dictionary, last: Dictionary, order: tuple[bool, str] = (False, " ")
                ) -> np.ndarray | None:
    """Every "First Last" (or "Last First", by ``order``) of two word lists (built once),
    or None when too many; position ``i * len(last) + j`` holds first ``i``, last ``j``."""
    if len(first) * len(last) > FULL_NAME_LIMIT:
        return None
    by_last = _FULL_NAMES.get(first.words, dict)  # last list -> names, for this first list
    key = (id(last.words), *order)
    entry = by_last.get(key)
    if entry is None or entry[0] is not last.words:
        family_first, separator = order
        if family_first:
            names = np.strings.add(np.strings.add(last.words[None, :], separator),
                                   first.words[:, None])
        else:
            names = np.strings.add(np.strings.add(first.words[:, None], separator),
                                   last.words[None, :])
        entry = (last.words, names.ravel())
        by_last[key] = entry
        if order == (False, " "):  # "First Last": its local part is folded word by word
            _FULL_NAME_PARTS.get(entry[1], lambda: (first, last))
    return entry[1]


# Full names per pair of word lists (and the pair of each), local parts per category array.
_FULL_NAMES: IdentityCache[dict[tuple[int, bool, str], tuple[np.ndarray, np.ndarray]]] = \
    IdentityCache()
_FULL_NAME_PARTS: IdentityCache[tuple[Dictionary, Dictionary]] = IdentityCache()
_CATEGORY_LOCALS: IdentityCache[np.ndarray] = IdentityCache()


def _local_parts(names: Column) -> np.ndarray:
    """Local parts for a column of names, folding each distinct name once."""
    if names.categories is not None and names.codes is not None:
        categories = names.categories
        parts = _FULL_NAME_PARTS.find(categories)
        locals_ = _CATEGORY_LOCALS.get(categories, lambda: (
            _pair_local_parts(*parts) if parts is not None else
            np.array([_local_part(n) for n in categories.tolist()], dtype=str)))
        return locals_[names.codes]
    distinct, inverse = np.unique(names.values.astype(str), return_inverse=True)
    # dtype=str: an empty chunk has no names, and np.array([]) would be float.
    return np.array([_local_part(name) for name in distinct.tolist()], dtype=str)[inverse]


def _pair_local_parts(first: Dictionary, last: Dictionary) -> np.ndarray:
    """``_local_part`` of every "First Last" (in ``_full_names``' order), folding each
    word of the two lists once instead of each of their pairs (28,764 for pt_BR).

    A full name's words are its first name's then its last name's, so its local part
    is the first word of the one and the last word of the other.
    """
    heads = [ascii_slug(w) for w in first.words.tolist()]
    tails = [ascii_slug(w) for w in last.words.tolist()]
    if not (all(heads) and all(tails)):  # a name that folds to no word: the general rule
        return np.array([_local_part(f"{a} {b}") for a in first.words.tolist()
                         for b in last.words.tolist()], dtype=str)
    starts = np.array([h[0] for h in heads])
    ends = np.array([t[-1] for t in tails])
    return np.strings.add(np.strings.add(starts[:, None], "."), ends[None, :]).ravel()


def _slugs(words: Dictionary) -> np.ndarray:
    """A dictionary's words folded for addresses ("Conceição" -> "conceicao")."""
    return _slugs_of(words.name, tuple(words.words.tolist()))


@lru_cache(maxsize=64)
def _slugs_of(name: str, words: tuple[str, ...]) -> np.ndarray:
    return np.array([".".join(ascii_slug(w)) or "x" for w in words])


def _local_part(name: str) -> str:
    words = ascii_slug(name)
    if not words:
        return "user"
    return words[0] if len(words) == 1 else f"{words[0]}.{words[-1]}"


