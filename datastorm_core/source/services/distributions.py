"""Numbers drawn over a range with a shape: uniform, normal, zipf, exponential.

All draws are continuous in [low, high]; integer-valued fields floor
them. Normal values are clipped to the range (as the Genfile contract
says); exponential values use the truncated inverse CDF, so nothing
piles up at the upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from datastorm_core.source.services.randomness import Stream

__all__ = ["DEFAULT_ZIPF_EXPONENT", "draw_continuous", "draw_integers", "zipf_ranks"]

DEFAULT_ZIPF_EXPONENT = 1.2
# The int64 range as floats that convert back without overflow.
_INT64_MIN_FLOAT = -(2.0**63)
_INT64_MAX_FLOAT = math.nextafter(2.0**63, 0.0)
# Bounds beyond this are drawn in larger units (see draw_continuous), so nothing overflows.
_HUGE_FLOAT = 2.0**1000
_SHRINK = 2.0**30


def zipf_ranks(stream: Stream, indices: np.ndarray, n: int, exponent: float) -> np.ndarray:
    """Ranks in [0, n): rank 0 the most frequent, frequency ~ (rank+1)**-exponent.

    Inverse CDF of the continuous power law on [1, n + 1], floored: exact
    enough for test data and O(1) a value for any n.
    """
    u = stream.uniform(indices)
    if math.isclose(exponent, 1.0):
        x = np.power(float(n + 1), u)
    else:
        a = 1.0 - exponent
        x = np.power(1.0 + u * (float(n + 1) ** a - 1.0), 1.0 / a)
    return np.clip(np.floor(x).astype(np.int64) - 1, 0, n - 1)


def draw_integers(stream: Stream, indices: np.ndarray, low: int, high: int,
                  params: Mapping[str, Any]) -> np.ndarray:
    """Integers in [low, high] following ``params['distribution']``.

    ``mean`` and ``stddev`` are in the integers' own units. A normal or
    exponential draw is rounded to the nearest integer, so the integers'
    mean is the Genfile's ``mean`` (flooring would shift it down by half a
    unit).
    """
    distribution = params.get("distribution", "uniform")
    if distribution == "uniform":
        return stream.integers(indices, low, high)
    if distribution == "zipf":
        exponent = params.get("exponent", DEFAULT_ZIPF_EXPONENT)
        return zipf_ranks(stream, indices, high - low + 1, exponent) + np.int64(low)
    if distribution in ("normal", "exponential"):
        # Each integer k takes the draws in [k - 0.5, k + 0.5); an exponential decays
        # from low itself, as its mean is a distance from low.
        floor = float(low) - (0.5 if distribution == "normal" else 0.0)
        values = draw_continuous(stream, indices, floor, float(high) + 0.5, params)
        rounded = np.clip(np.rint(values), _INT64_MIN_FLOAT, _INT64_MAX_FLOAT)
        return np.clip(rounded.astype(np.int64), low, high)
    values = draw_continuous(stream, indices, float(low), float(high) + 1.0, params)
    # Clip as integers: beyond 2**53 float(low) and float(high) round past
    # the bounds (and 2**63 itself does not fit an int64), so a float clip
    # would let values out of [low, high].
    floored = np.clip(np.floor(values), _INT64_MIN_FLOAT, _INT64_MAX_FLOAT)
    return np.clip(floored.astype(np.int64), low, high)


def draw_continuous(stream: Stream, indices: np.ndarray, low: float, high: float,
                    params: Mapping[str, Any]) -> np.ndarray:
    """Floats in [low, high] following ``params['distribution']``."""
    distribution = params.get("distribution", "uniform")
    width = high - low
    if max(abs(low), abs(high)) > _HUGE_FLOAT and math.isfinite(low) and math.isfinite(high):
        # Near the largest float (-1e308 to 1e308), max - min or a normal draw's tail
        # overflows: inf, or NaN once it meets -inf. Draw in units 2**30 times larger
        # (exact: a power of two), then scale back.
        shrunk = {k: v / _SHRINK if k in ("mean", "stddev") and isinstance(v, int | float)
                  and not isinstance(v, bool) else v for k, v in params.items()}
        values = draw_continuous(stream, indices, low / _SHRINK, high / _SHRINK, shrunk)
        return np.clip(values * _SHRINK, low, high)
    if distribution == "normal":
        mean = params.get("mean", low + width / 2)
        stddev = params.get("stddev", width / 6 if width > 0 else 1.0)
        return np.clip(mean + stddev * stream.normal(indices), low, high)
    if distribution == "exponential":
        scale = params.get("mean", width / 4)
        if not width > 0 or not scale > 0:  # a point range, or one too narrow to divide
            return np.full(len(indices), low, dtype=np.float64)
        u = stream.uniform(indices)
        # Truncated exponential: invert the CDF restricted to [0, width].
        tail = -math.expm1(-width / scale)
        return np.minimum(low - scale * np.log1p(-u * tail), high)
    if distribution == "zipf":
        exponent = params.get("exponent", DEFAULT_ZIPF_EXPONENT)
        steps = 1_000_000
        ranks = zipf_ranks(stream, indices, steps, exponent)
        return low + (ranks + stream.sub("zipf-fraction").uniform(indices)) * (width / steps)
    return low + stream.uniform(indices) * width
