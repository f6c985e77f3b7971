"""Weighted draws in O(1) a row: Vose's alias method.

A binary search over cumulative weights costs log2(K) dependent steps a
row; an alias table costs one hash and two gathers whatever K is. Tables
are built once per word list (a few thousand entries) and reused.
"""

from __future__ import annotations

import numpy as np

from datastorm_core.core.hashing import hash_bits

__all__ = ["AliasTable"]

_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_TWO_POW_MINUS_32 = 2.0**-32


class AliasTable:
    """Draws index k with probability weights[k] / sum(weights)."""

    def __init__(self, weights: np.ndarray) -> None:
        weights = np.asarray(weights, dtype=np.float64)
        size = len(weights)
        if size == 0 or weights.sum() <= 0:
            raise ValueError("an alias table needs positive weights")
        scaled = weights * (size / weights.sum())
        self.size = size
        self.accept = np.ones(size, dtype=np.float64)
        self.alias = np.arange(size, dtype=np.int64)
        small = [i for i in range(size) if scaled[i] < 1.0]
        large = [i for i in range(size) if scaled[i] >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            self.accept[s] = scaled[s]
            self.alias[s] = g
            scaled[g] -= 1.0 - scaled[s]
            (small if scaled[g] < 1.0 else large).append(g)

    def draw(self, key: int, indices: np.ndarray) -> np.ndarray:
        """One index per row: the high 32 bits pick a slot, the low 32 accept or alias."""
        bits = hash_bits(key, indices)
        slot = ((bits >> _S32) * np.uint64(self.size)) >> _S32  # uniform in [0, size)
        slot = slot.astype(np.intp)
        u = (bits & _LOW32).astype(np.float64) * _TWO_POW_MINUS_32
        return np.where(u < self.accept[slot], slot, self.alias[slot])
