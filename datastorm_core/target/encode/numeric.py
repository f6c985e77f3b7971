"""NUMERIC values as text: the one place that turns unscaled integers into decimals.

A NUMERIC(p, s) column travels as int64 holding ``value * 10**s``, so it is
exact; every target formats it here, so they all agree to the last digit.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

__all__ = ["INT64_DIGITS", "format_numeric", "numeric_decimal"]

# An unscaled value is an int64, which has at most 19 digits: NUMERIC(19, s)
# holds every value a chunk can carry when the Genfile names no precision.
INT64_DIGITS = 19


def format_numeric(unscaled: np.ndarray, scale: int) -> np.ndarray:
    """Decimal strings of ``unscaled / 10**scale``, vectorised: 12345, 2 -> "123.45".

    Always exactly ``scale`` decimal places (-5, 2 -> "-0.05"), like PostgreSQL
    prints numeric(p, s).
    """
    ints = np.asarray(unscaled, dtype=np.int64)
    if scale <= 0:
        return ints.astype(str)
    # |int64 min| does not fit int64; the validator keeps values inside 2**63 - 1.
    magnitude = np.abs(ints)
    whole, frac = np.divmod(magnitude, np.int64(10) ** scale)
    text = np.char.add(np.char.add(whole.astype(str), "."),
                       np.char.zfill(frac.astype(str), scale))
    return np.where(ints < 0, np.char.add("-", text), text)


def numeric_decimal(unscaled: int, scale: int) -> Decimal:
    """One unscaled value as an exact ``Decimal`` (for previews and tests)."""
    return Decimal(int(unscaled)).scaleb(-scale)
