"""Counter-based hashing: 64 random bits as a pure function of (key, index).

The primitive every layer shares: the source draws values with it, and
the Genfile layer sizes ``per_parent`` tables with it (a child count is a
hash of the parent's index). It lives in core because both stand on it.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["MASK64", "derive_key", "field_key", "hash_bits", "mix64", "uniform"]

MASK64 = (1 << 64) - 1
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_POW_MINUS_53 = 2.0**-53
# Bump to change every generated value on purpose (never by accident).
STREAM_VERSION = "datastorm/v1"


def derive_key(*parts: object) -> int:
    """A 64-bit key from names and numbers (stable across processes, unlike hash())."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def field_key(seed: int, table: str, field: str) -> int:
    """The key of one field's values: a function of (seed, table, field) only."""
    return derive_key(STREAM_VERSION, seed, table, field)


def mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, applied in place to a uint64 array and returned."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def hash_bits(key: int, indices: np.ndarray) -> np.ndarray:
    """64 random bits per index: splitmix64 of ``key + index * golden``."""
    z = indices.astype(np.uint64, copy=True)
    z *= GOLDEN
    z += np.uint64(key & MASK64)
    return mix64(z)


def uniform(key: int, indices: np.ndarray) -> np.ndarray:
    """Floats in [0, 1) with 53 random bits per index."""
    return (hash_bits(key, indices) >> _S11).astype(np.float64) * _TWO_POW_MINUS_53
