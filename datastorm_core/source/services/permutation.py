"""Keyed permutations of [0, n): unique values by construction, with no memory.

A balanced Feistel network over 2*h bits is a bijection of [0, 4**h);
cycle walking (applying it again while the result is >= n) restricts it
to a bijection of [0, n). Since 4**h < 4n, a value needs fewer than four
rounds of walking on average. Mapping row *i* to ``permute(i)`` gives
distinct ordinals for distinct rows at any scale and in any partition,
and each generator turns ordinals into distinct values.
"""

from __future__ import annotations

import numpy as np

from datastorm_core.source.services.randomness import derive_key, mix64

__all__ = ["MAX_DOMAIN", "KeyedPermutation"]

# Ordinals are int64 at the boundary; a larger space is permuted in this
# many low ordinals (the remaining digits of a value are then random).
MAX_DOMAIN = 1 << 62
ROUNDS = 6  # 6 rounds: well past the 4 Luby-Rackoff needs for a random-looking bijection


class KeyedPermutation:
    """A bijection of ``[0, size)`` chosen by ``key``, evaluated on arrays."""

    def __init__(self, size: int, key: int) -> None:
        if not 1 <= size <= MAX_DOMAIN:
            raise ValueError(f"permutation size must be in [1, 2**62], got {size}")
        self.size = size
        bits = max(2, (size - 1).bit_length())
        self._half = (bits + 1) // 2
        self._mask = np.uint64((1 << self._half) - 1)
        self._shift = np.uint64(self._half)
        self._round_keys = [np.uint64(derive_key(key, "feistel", r)) for r in range(ROUNDS)]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Permute int values in [0, size); returns int64."""
        x = np.asarray(values)
        if x.size and (x.min() < 0 or x.max() >= self.size):
            # Cycle walking would never end for a value outside the domain.
            raise ValueError(f"permutation input outside [0, {self.size})")
        x = x.astype(np.uint64)
        out = self._feistel(x)
        walking = out >= np.uint64(self.size)
        while walking.any():
            out[walking] = self._feistel(out[walking])
            walking = out >= np.uint64(self.size)
        return out.astype(np.int64)

    def _feistel(self, x: np.ndarray) -> np.ndarray:
        left = x >> self._shift
        right = x & self._mask
        for round_key in self._round_keys:
            mixed = mix64(right ^ round_key) & self._mask
            left, right = right, left ^ mixed
        return (left << self._shift) | right
