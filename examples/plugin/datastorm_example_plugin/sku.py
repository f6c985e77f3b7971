"""SKUs: ``PREFIX-CATEGORY-000123``, a category drawn by weight and a number.

A function generator: ``sku(indices, stream, **params)``, its parameters
checked before the run by the ``check`` attribute beside it (each string it
returns is a Genfile error under the field).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

DEFAULT_CATEGORIES = ("TOY", "BOOK", "HOME", "FOOD")


def sku(indices: np.ndarray, stream: Any, *, prefix: str = "SKU",
        categories: Sequence[str] = DEFAULT_CATEGORIES,
        weights: Sequence[float] | None = None, digits: int = 6) -> np.ndarray:
    """One SKU per row index: the category from ``stream.sub("category")``, the number
    from ``stream.sub("number")``, so each part is a function of the row alone."""
    chosen = np.asarray(categories, dtype=str)
    if weights is None:
        picks = stream.sub("category").integers(indices, 0, len(chosen) - 1)
    else:
        # A uniform draw in [0, total) falls in category k's share of the cumulative sum.
        cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
        drawn = stream.sub("category").uniform(indices) * cumulative[-1]
        picks = np.minimum(np.searchsorted(cumulative, drawn, side="right"), len(chosen) - 1)
    numbers = stream.sub("number").integers(indices, 0, 10**digits - 1)
    head = np.char.add(f"{prefix}-", chosen[picks])
    return np.char.add(np.char.add(head, "-"), np.char.zfill(numbers.astype(str), digits))


def check(params: Mapping[str, Any]) -> list[str]:
    """What is wrong with the Genfile's parameters (empty: nothing)."""
    problems = []
    categories = params.get("categories", DEFAULT_CATEGORIES)
    if not isinstance(categories, (list, tuple)) or not categories or not all(
            isinstance(c, str) and c.isalnum() for c in categories):
        problems.append(f"categories must be a non-empty list of letters and digits, got "
                        f"{categories!r}")
    weights = params.get("weights")
    if weights is not None and (
            not isinstance(weights, list) or len(weights) != len(categories)
            or not all(isinstance(w, (int, float)) and w >= 0 for w in weights)
            or not sum(weights) > 0):
        problems.append("weights must be one number >= 0 per category, not all 0")
    digits = params.get("digits", 6)
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 12:
        problems.append(f"digits must be an integer from 1 to 12, got {digits!r}")
    return problems


sku.check = check  # type: ignore[attr-defined]
sku.column_type = "text"  # type: ignore[attr-defined]
