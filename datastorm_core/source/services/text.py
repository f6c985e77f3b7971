"""Building many strings at once, and folding them to ASCII.

Strings are assembled as a 2-D array of UCS-4 code points (one row per
value) and viewed as a numpy unicode array: trailing NUL code points are
dropped by numpy, which gives variable lengths for free.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

# Core's: the canonical text of numbers is built with it too.
from datastorm_core.core.values import strings_from_codepoints, zero_padded
from datastorm_core.source.services.memo import IdentityCache

__all__ = ["ascii_slug", "codepoints", "longest", "strings_from_codepoints", "zero_padded"]


def codepoints(text: str) -> np.ndarray:
    """The code points of ``text`` as a uint32 array (an alphabet, a literal)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()


@lru_cache(maxsize=200_000)
def ascii_slug(text: str) -> tuple[str, ...]:
    """Lower-case ASCII words of ``text``: accents folded, punctuation dropped.

    Cached: names repeat (a dictionary has thousands of names, a table
    millions of rows), so each distinct name is folded once.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = "".join(c if c.isalnum() else " " for c in folded.lower()).split()
    return tuple(words)


# The longest text of each word list (value spaces), computed once per list.
_LONGEST: IdentityCache[int] = IdentityCache()


def longest(words: np.ndarray) -> int:
    """Characters of the longest string of a unicode array (0 when empty), once per array."""
    return _LONGEST.get(words, lambda: int(np.strings.str_len(words).max()) if len(words)
                        else 0)
