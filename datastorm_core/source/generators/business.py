"""Companies and text.

Company names follow Faker's formats for the locale ("Souza Ltda.",
"Costa Ferreira S.A." in pt_BR), with Faker's last names and suffixes,
composed on arrays. Text is built from the locale's lorem word list,
position by position over the whole chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.generators.brazil import locale_problem
from datastorm_core.source.services import dictionaries, locale_data
from datastorm_core.source.services.compose import Composer, Pattern
from datastorm_core.source.services.dictionaries import Dictionary
from datastorm_core.source.services.text import codepoints, longest, strings_from_codepoints

__all__ = ["CompanyGenerator", "TextGenerator"]

DEFAULT_WORDS = (5, 20)
MAX_WORDS = 1000
# After this many words a sentence may end, with this chance at each word.
SENTENCE_MIN_WORDS = 4
SENTENCE_END_CHANCE = 0.15


class CompanyGenerator(Generator):
    """A company name from Faker's formats of the locale, composed on arrays.

    ``unique = true`` enumerates every (format, names, suffix) choice; most
    of that space is in the two-name formats, so unique names are mostly
    "Costa Ferreira Ltda." rather than "Costa".
    """

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def problems(self) -> list[str]:
        problems = locale_problem(self.locale())
        if not problems and not locale_data.company_formats(self.locale()):
            problems.append(f"Faker has no company formats datastorm can compose for "
                            f"{self.locale()!r}")
        return problems

    @cached_property
    def composer(self) -> Composer:
        slots: dict[str, Dictionary] = {
            "{{last_name}}": dictionaries.last_names(self.locale()),
            "{{first_name}}": dictionaries.first_names(self.locale()),
        }
        patterns = []
        for parts, weight in locale_data.company_formats(self.locale()):
            for part in parts:  # suffixes, and ja_JP's prefixes and categories
                if part.startswith("{{") and part not in slots:
                    slots[part] = locale_data.company_words(self.locale(), part)
            patterns.append(Pattern(tuple(slots.get(p, p) for p in parts), weight))
        return Composer(patterns)

    def space(self) -> int:
        if not locale_data.company_formats(self.locale()):
            return 0  # a refused locale (its problem says why)
        return self.composer.space

    def value_space(self) -> ValueSpace | None:
        if not locale_data.company_formats(self.locale()):
            return None
        return ValueSpace(max_length=self.composer.max_length)

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.composer.from_ordinals(ordinals)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.composer.generate(self.stream, indices)


class TextGenerator(Generator):
    """Sentences of lorem words: ``words = [min, max]`` words in all.

    The words come from Faker's lorem list of the locale, else of its
    language, else Latin (Faker has no Portuguese list: pt_BR text is
    lorem ipsum, as Faker's own). A sentence starts with a capital and
    ends with a period; it ends after 4 words or more, at random.
    """

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def bounds(self) -> tuple[int, int]:
        words = self.field.param("words", list(DEFAULT_WORDS))
        if isinstance(words, int):
            return words, words
        low, high = words
        return low, high

    def problems(self) -> list[str]:
        problems = locale_problem(self.locale())
        words = self.field.param("words", list(DEFAULT_WORDS))
        shape = (isinstance(words, int) and not isinstance(words, bool)) or (
            isinstance(words, list) and len(words) == 2
            and all(isinstance(w, int) and not isinstance(w, bool) for w in words))
        if not shape:
            problems.append(f"words must be a count or [min, max] of whole numbers, got {words}")
        elif not 1 <= self.bounds()[0] <= self.bounds()[1] <= MAX_WORDS:
            problems.append(f"words must satisfy 1 <= min <= max <= {MAX_WORDS}, got {words}")
        return problems

    def value_space(self) -> ValueSpace | None:
        if self.problems():
            return None
        # Every word is followed by one character (" ", or "." after the last), and
        # each sentence that ends before the last word adds a space: a sentence has
        # SENTENCE_MIN_WORDS words or more, so at most (words - 1) // that many end early.
        _, words = locale_data.lorem_words(self.locale())
        high = self.bounds()[1]
        return ValueSpace(max_length=high * (longest(words.words) + 1)
                          + (high - 1) // SENTENCE_MIN_WORDS)

    @cached_property
    def _vocabulary(self) -> _Vocabulary:
        _, words = locale_data.lorem_words(self.locale())
        return _Vocabulary.of(words.words)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        low, high = self.bounds()
        n = len(indices)
        vocabulary = self._vocabulary
        counts = self.stream.sub("count").integers(indices, low, high)
        drawn = np.empty((n, high), dtype=np.int64)
        # starts[:, k]: word k begins a sentence; words since the sentence began.
        starts = np.zeros((n, high), dtype=bool)
        starts[:, 0] = True
        since = np.ones(n, dtype=np.int64)
        for position in range(high):
            drawn[:, position] = self.stream.sub("word", position).integers(
                indices, 0, len(vocabulary.lengths) - 1)
            if position:
                ends = (since >= SENTENCE_MIN_WORDS) & self.stream.sub("end", position).below(
                    indices, SENTENCE_END_CHANCE)
                starts[:, position] = ends
                since = np.where(ends, 1, since + 1)
        active = np.arange(high) < counts[:, None]
        # What follows each word: " ", ". " (a sentence begins next) or "." (the last).
        follows_end = np.zeros((n, high), dtype=bool)
        follows_end[:, :-1] = starts[:, 1:]
        last = np.arange(high) == (counts - 1)[:, None]
        trailer = np.where(last, _LAST, np.where(follows_end, _SENTENCE, _SPACE))[active]
        return vocabulary.render(drawn[active], starts[active], trailer,
                                 np.nonzero(active)[0], n)


# Trailer kinds: what follows a word, and its length.
_SPACE, _SENTENCE, _LAST = 0, 1, 2
_TRAILER_LENGTH = np.array([1, 2, 1], dtype=np.int64)


@dataclass(frozen=True)
class _Vocabulary:
    """A word list as one flat buffer of code points, to gather text from."""

    flat: np.ndarray  # uint32 code points of every word, end to end
    offsets: np.ndarray  # int64: where each word starts in ``flat``
    lengths: np.ndarray  # int64
    capitals: np.ndarray  # uint32: each word's first code point, upper-cased

    @classmethod
    def of(cls, words: np.ndarray) -> _Vocabulary:
        texts = [str(w) for w in words.tolist()]
        lengths = np.array([len(t) for t in texts], dtype=np.int64)
        return cls(codepoints("".join(texts)), np.cumsum(lengths) - lengths, lengths,
                   np.array([ord(t[:1].upper()[:1] or " ") for t in texts], dtype=np.uint32))

    def render(self, words: np.ndarray, capital: np.ndarray, trailer: np.ndarray,
               rows: np.ndarray, n: int) -> np.ndarray:
        """Texts of ``n`` rows from their words in order (row-major, ``rows`` of each).

        A ragged gather: every output character is located with
        ``np.repeat`` over the words' lengths, so the cost is a few passes
        over the characters, whatever the number of words.
        """
        word_length = self.lengths[words]
        token_length = word_length + _TRAILER_LENGTH[trailer]
        first = np.cumsum(token_length) - token_length  # each token's first character
        row_length = np.bincount(rows, weights=token_length, minlength=n).astype(np.int64)
        row_start = np.cumsum(row_length) - row_length
        width = max(int(row_length.max()) if n else 0, 1)
        # Per character c of token t: its source in ``flat`` is c + (offsets[t] - first[t]),
        # its place in the grid c + (rows[t] * width - row_start[rows[t]]); the word ends
        # at first[t] + word_length[t]. Repeating per-token values beats gathering per char.
        # int32 positions (a chunk's characters and grid fit) halve the memory traffic.
        wide = np.int64 if n * width >= 2**31 or len(self.flat) >= 2**31 else np.int32
        character = np.arange(int(token_length.sum()), dtype=wide)
        source = character + np.repeat((self.offsets[words] - first).astype(wide), token_length)
        in_word = character < np.repeat((first + word_length).astype(wide), token_length)
        chars = np.where(in_word, self.flat[np.minimum(source, len(self.flat) - 1)],
                         np.uint32(ord(" ")))
        chars[first[capital]] = self.capitals[words[capital]]
        chars[(first + word_length)[trailer != _SPACE]] = ord(".")
        place = character + np.repeat((rows * width - row_start[rows]).astype(wide),
                                      token_length)
        grid = np.zeros((n, width), dtype=np.uint32)
        grid.ravel()[place] = chars
        return strings_from_codepoints(grid)
