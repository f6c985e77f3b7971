"""Counter-based randomness: a value is a pure function of (key, row index).

A sequential random stream would make row *i* depend on how many rows
came before it, on which thread made them and on the partition layout.
Hashing the row index instead (splitmix64's finaliser over
``key + index * golden``) makes every row computable on its own, in any
order, on arrays of indices.
"""

from __future__ import annotations

import math

import numpy as np

from datastorm_core.core.hashing import MASK64, derive_key, hash_bits, mix64, uniform
from datastorm_core.source.services.memo import IdentityCache
from datastorm_core.source.services.sampling import AliasTable

__all__ = ["MASK64", "Stream", "derive_key", "mix64"]

# Alias tables of the weight arrays seen so far (word lists, choices): few, long-lived.
_ALIAS_TABLES: IdentityCache[AliasTable] = IdentityCache()


def _alias_table(cumulative: np.ndarray) -> AliasTable:
    """The alias table of a cumulative weight array, built once per array."""
    return _ALIAS_TABLES.get(
        cumulative, lambda: AliasTable(np.diff(np.concatenate(([0.0], cumulative)))))


# Above this span, floor(u * span) would skip values: use a modulo instead.
_EXACT_FLOAT_SPAN = 1 << 53


class Stream:
    """Independent random values per row index for one purpose (table, field, role)."""

    __slots__ = ("key",)

    def __init__(self, key: int) -> None:
        self.key = key & MASK64

    def sub(self, *parts: object) -> Stream:
        """A stream independent of this one, e.g. one per character position."""
        return Stream(derive_key(self.key, *parts))

    def bits(self, indices: np.ndarray) -> np.ndarray:
        """64 random bits per index."""
        return hash_bits(self.key, indices)

    def uniform(self, indices: np.ndarray) -> np.ndarray:
        """Floats in [0, 1) with 53 random bits."""
        return uniform(self.key, indices)

    def integers(self, indices: np.ndarray, low: int, high: int) -> np.ndarray:
        """Integers in [low, high] (both included), uniformly."""
        span = high - low + 1
        if span <= _EXACT_FLOAT_SPAN:
            return np.floor(self.uniform(indices) * span).astype(np.int64) + np.int64(low)
        drawn = self.bits(indices) % np.uint64(span) if span <= MASK64 else self.bits(indices)
        # Two's-complement wrap gives the right int64 for a negative low.
        return (drawn + np.uint64(low & MASK64)).view(np.int64)

    def normal(self, indices: np.ndarray) -> np.ndarray:
        """Standard normal values (Box-Muller over two sub-streams)."""
        u1 = self.sub("normal-radius").uniform(indices)
        u2 = self.sub("normal-angle").uniform(indices)
        return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * math.pi * u2)

    def weighted(self, indices: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
        """Positions drawn with probabilities given by a cumulative weight array."""
        return _alias_table(cumulative).draw(self.key, indices)

    def below(self, indices: np.ndarray, probability: float) -> np.ndarray:
        """True with the given probability (null masks, booleans)."""
        return self.uniform(indices) < probability
