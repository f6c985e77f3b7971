"""Brazilian document numbers (CPF, CNPJ) and digit layouts, on arrays.

Check digits are computed for a whole column at once: the digits of every
number are the columns of a small-integer matrix (looked up three digits
at a time), and a weighted sum is a matrix product. Layouts
(``###.###.###-##``) are filled into a grid of code points, which numpy
views as strings without a Python loop.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from datastorm_core.source.services.text import strings_from_codepoints

__all__ = [
    "CPF_BASES",
    "CPF_SPACE",
    "cnpj_digits",
    "cpf_base_from_ordinal",
    "cpf_digits",
    "digits_of",
    "format_digits",
]

CPF_BASES = 10**9
# Bases whose nine digits are all the same (111.111.111-11): their check
# digits are that digit again, and validators reject them.
_REPEATED = np.arange(10, dtype=np.int64) * 111_111_111
CPF_SPACE = CPF_BASES - len(_REPEATED)

_CPF_FIRST = np.arange(10, 1, -1, dtype=np.int32)  # 10..2
_CPF_SECOND = np.arange(11, 1, -1, dtype=np.int32)  # 11..2
_CNPJ_FIRST = np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int32)
_CNPJ_SECOND = np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int32)
# The three digits of 0..999: numbers are cut into groups of three digits
# (one division per group instead of one per digit), then looked up.
_TRIPLETS = np.array([[h // 100, h // 10 % 10, h % 10] for h in range(1000)], dtype=np.uint8)


def digits_of(numbers: np.ndarray, width: int) -> np.ndarray:
    """The last ``width`` decimal digits of each number, most significant first.

    Returns an (n, width) uint8 array; numbers must be >= 0.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    groups = -(-width // 3)
    cut = np.empty((len(numbers), groups), dtype=np.intp)
    rest = numbers
    for group in range(groups - 1, -1, -1):
        rest, cut[:, group] = np.divmod(rest, 1000)
    return _TRIPLETS[cut].reshape(len(numbers), 3 * groups)[:, 3 * groups - width:]


def cpf_base_from_ordinal(ordinals: np.ndarray) -> np.ndarray:
    """Ordinals in ``[0, CPF_SPACE)`` to the nine-digit bases that are not all one digit.

    Increasing and one to one: each excluded base at or below a value
    pushes it up by one (the excluded bases are taken in increasing order,
    so a push past one of them is seen by the next comparison).
    """
    base = np.asarray(ordinals, dtype=np.int64).copy()
    for excluded in _REPEATED:
        base += base >= excluded
    return base


def _mod11_digit(total: np.ndarray) -> np.ndarray:
    """11 - (total mod 11), or 0 when the remainder is 0 or 1 (CPF and CNPJ)."""
    remainder = total % 11
    return np.where(remainder < 2, 0, 11 - remainder).astype(np.uint8)


def cpf_digits(bases: np.ndarray) -> np.ndarray:
    """The eleven digits of the CPFs of nine-digit bases: (n, 11) uint8."""
    digits = np.empty((len(bases), 11), dtype=np.uint8)
    digits[:, :9] = digits_of(bases, 9)
    base = digits[:, :9].astype(np.int32)
    digits[:, 9] = _mod11_digit(base @ _CPF_FIRST)
    digits[:, 10] = _mod11_digit(base @ _CPF_SECOND[:9] + digits[:, 9] * _CPF_SECOND[9])
    return digits


def cnpj_digits(bases: np.ndarray, branches: np.ndarray) -> np.ndarray:
    """The fourteen digits of CNPJs: eight-digit bases, four-digit branches; (n, 14) uint8."""
    digits = np.empty((len(bases), 14), dtype=np.uint8)
    digits[:, :8] = digits_of(bases, 8)
    digits[:, 8:12] = digits_of(branches, 4)
    root = digits[:, :12].astype(np.int32)
    digits[:, 12] = _mod11_digit(root @ _CNPJ_FIRST)
    digits[:, 13] = _mod11_digit(root @ _CNPJ_SECOND[:12] + digits[:, 12] * _CNPJ_SECOND[12])
    return digits


@lru_cache(maxsize=32)
def _layout(layout: str) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]], int]:
    """A layout's literals (column, code point) and its runs of ``#`` (start, stop, first digit)."""
    literals, runs, digit = [], [], 0
    column = 0
    while column < len(layout):
        if layout[column] != "#":
            literals.append((column, ord(layout[column])))
            column += 1
            continue
        stop = column
        while stop < len(layout) and layout[stop] == "#":
            stop += 1
        runs.append((column, stop, digit))
        digit += stop - column
        column = stop
    return literals, runs, digit


def format_digits(digits: np.ndarray, layout: str) -> np.ndarray:
    """Rows of digits written into a layout, ``#`` taking the next digit.

    ``format_digits(cpf_digits([123456789]), "###.###.###-##")`` is
    ``["123.456.789-09"]``. Runs of ``#`` are copied as slices (a fancy
    index over columns costs twice as much).
    """
    literals, runs, width = _layout(layout)
    if digits.shape[1] != width:
        raise ValueError(f"layout {layout!r} has {width} digits, got {digits.shape[1]}")
    grid = np.empty((len(digits), len(layout)), dtype=np.uint32)
    for column, code in literals:
        grid[:, column] = code
    for start, stop, first in runs:
        np.add(digits[:, first:first + stop - start], ord("0"), out=grid[:, start:stop],
               dtype=np.uint32, casting="unsafe")
    return strings_from_codepoints(grid)
