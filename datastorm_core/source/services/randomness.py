"""Counter-based randomness: a value is a pure function of (key, row index).

A sequential random stream would make row *i* depend on how many rows
came before it, on which thread made them and on the partition layout.
Hashing the row index instead (splitmix64's finaliser over
``key + index * golden``) makes every row computable on its own, in any
order, on arrays of indices.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

__all__ = ["Stream", "derive_key", "mix64"]

MASK64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_POW_MINUS_53 = 2.0**-53
# Above this span, floor(u * span) would skip values: use a modulo instead.
_EXACT_FLOAT_SPAN = 1 << 53


def derive_key(*parts: object) -> int:
    """A 64-bit key from names and numbers (stable across processes, unlike hash())."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, applied in place to a uint64 array and returned."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


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
        z = indices.astype(np.uint64, copy=True)
        z *= _GOLDEN
        z += np.uint64(self.key)
        return mix64(z)

    def uniform(self, indices: np.ndarray) -> np.ndarray:
        """Floats in [0, 1) with 53 random bits."""
        return (self.bits(indices) >> _S11).astype(np.float64) * _TWO_POW_MINUS_53

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
        u = self.uniform(indices) * cumulative[-1]
        return np.minimum(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1)

    def below(self, indices: np.ndarray, probability: float) -> np.ndarray:
        """True with the given probability (null masks, booleans)."""
        return self.uniform(indices) < probability
