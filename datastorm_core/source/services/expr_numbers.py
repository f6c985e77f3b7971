"""Arithmetic on whole arrays that says where it failed instead of wrapping.

numpy's int64 arithmetic wraps around silently and its floats overflow to
inf. A generated value must be the value the expression means, so every
operation here returns its result and a mask of the rows where there is no
such value (beyond 64 bits, a division by zero, not a finite number); the
evaluator makes those rows NULL. Decimals are int64 counts of
``10**-scale``, so their arithmetic is this integer arithmetic.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INT64_LIMIT", "checked_add", "checked_divide", "checked_floor_divide",
           "checked_modulo", "checked_multiply", "checked_negate", "checked_subtract",
           "float_result", "half_away", "rescale", "to_int"]

# A product estimated in float64 beyond this may not fit an int64 (2**63 is about
# 9.223e18; the margin covers the estimate's rounding): such rows are NULL.
INT64_LIMIT = 9.2e18
_MIN = np.iinfo(np.int64).min

#: Values and the rows where they are not values (None: every row is).
Result = tuple[np.ndarray, np.ndarray | None]


def _any(mask: np.ndarray) -> np.ndarray | None:
    return mask if np.any(mask) else None


def checked_add(a: np.ndarray, b: np.ndarray) -> Result:
    with np.errstate(over="ignore"):
        result = np.add(a, b, dtype=np.int64)
    # Overflow: both operands have one sign and the sum the other.
    return result, _any(((a ^ result) & (b ^ result)) < 0)


def checked_subtract(a: np.ndarray, b: np.ndarray) -> Result:
    with np.errstate(over="ignore"):
        result = np.subtract(a, b, dtype=np.int64)
    return result, _any(((a ^ b) & (a ^ result)) < 0)


def checked_multiply(a: np.ndarray, b: np.ndarray) -> Result:
    estimate = np.multiply(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    bad = np.abs(estimate) >= INT64_LIMIT
    with np.errstate(over="ignore"):
        result = np.multiply(a, b, dtype=np.int64)
    return result, _any(bad)


def checked_negate(a: np.ndarray) -> Result:
    with np.errstate(over="ignore"):
        return np.negative(a), _any(a == _MIN)


def rescale(counts: np.ndarray, places: int) -> Result:
    """Counts of ``10**-s`` as counts of ``10**-(s + places)``; ``places`` >= 0."""
    if places == 0:
        return counts, None
    return checked_multiply(counts, np.int64(10**places))


def half_away(counts: np.ndarray, places: int) -> np.ndarray:
    """Counts divided by ``10**places``, rounded half away from zero (as SQL's numeric)."""
    if places == 0:
        return counts
    unit = np.int64(10**places)
    # Floored quotient and its remainder (0 <= rest < unit): nothing here can overflow.
    quotient, rest = np.divmod(counts, unit)
    up = np.where(counts >= 0, 2 * rest >= unit, 2 * rest > unit)  # -2.5 -> -3, 2.5 -> 3
    return quotient + up


def _zero_safe(b: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    zero = b == 0
    if not np.any(zero):
        return b, None
    return np.where(zero, np.ones_like(b), b), zero


def checked_divide(a: np.ndarray, b: np.ndarray) -> Result:
    """True division in float64; by zero is no value."""
    divisor, zero = _zero_safe(b)
    with np.errstate(all="ignore"):
        return float_result(np.true_divide(a, divisor), zero)


def checked_floor_divide(a: np.ndarray, b: np.ndarray) -> Result:
    """Floored division (Python's //) of int64 counts at one scale, or of floats."""
    divisor, zero = _zero_safe(b)
    if np.asarray(a).dtype.kind == "f" or np.asarray(divisor).dtype.kind == "f":
        with np.errstate(all="ignore"):
            return float_result(np.floor_divide(a, divisor), zero)
    overflow = (a == _MIN) & (divisor == -1)  # the one quotient an int64 cannot hold
    with np.errstate(over="ignore"):
        result = np.floor_divide(a, np.where(overflow, 1, divisor))
    return result, _merge(zero, _any(overflow))


def checked_modulo(a: np.ndarray, b: np.ndarray) -> Result:
    """Python's %: the sign of the divisor; by zero is no value."""
    divisor, zero = _zero_safe(b)
    with np.errstate(all="ignore"):
        result = np.remainder(a, divisor)
    if result.dtype.kind == "f":
        return float_result(result, zero)
    return result, zero


def float_result(values: np.ndarray, bad: np.ndarray | None = None) -> Result:
    """Floats, with inf and nan marked as no value."""
    return values, _merge(bad, _any(~np.isfinite(values)))


def to_int(values: np.ndarray, bad: np.ndarray | None = None) -> Result:
    """Whole floats as int64; beyond 64 bits (or not finite) is no value."""
    wrong = ~np.isfinite(values) | (np.abs(values) >= INT64_LIMIT)
    safe = np.where(wrong, 0.0, values)
    return safe.astype(np.int64), _merge(bad, _any(wrong))


def _merge(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a | b
