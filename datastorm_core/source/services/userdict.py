"""Dictionaries the user gives as files: a text file or a column of a CSV file.

A ``.txt`` (or any non-CSV) file holds one value per line; blank lines and
lines starting with ``#`` are skipped, and surrounding spaces are dropped.
A ``.csv`` file has a header line; ``column`` names the column of values
(optional when the file has only one) and ``weight_column`` an optional
column of non-negative weights. A value listed several times gets the sum
of its weights (one per line without weights); a value whose weight is 0
is never drawn.

Files are read once per (path, size, modification time): a long-lived
process (Dagster) sees a changed file, a run reads each file once.
"""

from __future__ import annotations

import csv
import math
import os
from functools import lru_cache

import numpy as np

from datastorm_core.genfile.fieldspecs import is_csv
from datastorm_core.genfile.paths import file_problem, resolve_path
from datastorm_core.source.services.dictionaries import Dictionary

__all__ = ["DictionaryFileError", "load_dictionary", "resolve_path"]


class DictionaryFileError(LookupError):
    """A dictionary file that cannot be used; the message names the path and the fix."""


def load_dictionary(path: str, base_dir: str | None = None, column: str | None = None,
                    weight_column: str | None = None) -> Dictionary:
    """The distinct values of a dictionary file with their cumulative weights."""
    resolved = resolve_path(path, base_dir)
    problem = file_problem(resolved)
    if problem is not None:
        raise DictionaryFileError(f"dictionary {path!r}: {problem}")
    try:
        stat = os.stat(resolved)
    except OSError as exc:
        raise DictionaryFileError(f"dictionary {path!r}: cannot read {resolved}: "
                                  f"{exc.strerror}") from None
    return _load(path, resolved, stat.st_size, stat.st_mtime_ns, column, weight_column)


@lru_cache(maxsize=32)
def _load(shown: str, resolved: str, size: int, mtime_ns: int, column: str | None,
          weight_column: str | None) -> Dictionary:
    try:
        with open(resolved, encoding="utf-8-sig", newline="") as handle:
            if is_csv(shown):
                weights = _csv_weights(shown, handle, column, weight_column)
            else:
                weights = _text_weights(handle)
    except UnicodeDecodeError as exc:
        raise DictionaryFileError(f"dictionary {shown!r}: not UTF-8 text ({exc.reason} at "
                                  f"byte {exc.start})") from None
    except OSError as exc:
        raise DictionaryFileError(f"dictionary {shown!r}: cannot read {resolved}: "
                                  f"{exc.strerror}") from None
    words = sorted(w for w, weight in weights.items() if weight > 0)
    if not words:
        what = "no value with a positive weight" if weights else "no values"
        raise DictionaryFileError(f"dictionary {shown!r} has {what}")
    cumulative = np.cumsum(np.array([weights[w] for w in words], dtype=np.float64))
    return Dictionary(shown, np.array(words, dtype=str), cumulative)


def _text_weights(handle: object) -> dict[str, float]:
    weights: dict[str, float] = {}
    for line in handle:  # type: ignore[attr-defined]
        value = line.strip()
        if value and not value.startswith("#"):
            weights[value] = weights.get(value, 0.0) + 1.0
    return weights


def _csv_weights(shown: str, handle: object, column: str | None,
                 weight_column: str | None) -> dict[str, float]:
    reader = csv.reader(handle)  # type: ignore[arg-type]
    try:
        header = next(reader, None)
        if not header:
            raise DictionaryFileError(f"dictionary {shown!r} is empty: its first line must "
                                      "name the columns")
        columns = ", ".join(header)
        if column is None:
            if len(header) != 1:
                raise DictionaryFileError(f"dictionary {shown!r} has several columns "
                                          f"({columns}): say which with column = "
                                          f"\"{header[0]}\"")
            column = header[0]
        positions = {}
        for role, name in (("column", column), ("weight_column", weight_column)):
            if name is None:
                continue
            if name not in header:
                raise DictionaryFileError(f"dictionary {shown!r} has no column {name!r} "
                                          f"({role}); its columns are {columns}")
            positions[role] = header.index(name)
        weights: dict[str, float] = {}
        for row in reader:
            line = reader.line_num
            if not row or positions["column"] >= len(row):
                continue
            value = row[positions["column"]].strip()
            if not value:
                continue
            weight = 1.0
            if "weight_column" in positions:
                cell = row[positions["weight_column"]] \
                    if positions["weight_column"] < len(row) else ""
                weight = _weight(cell)
                if weight is None:
                    raise DictionaryFileError(f"dictionary {shown!r}, line {line}: weight "
                                              f"{cell!r} is not a number >= 0")
            weights[value] = weights.get(value, 0.0) + weight
        return weights
    except csv.Error as exc:
        raise DictionaryFileError(f"dictionary {shown!r}, line {reader.line_num}: malformed "
                                  f"CSV: {exc}") from None


def _weight(cell: str) -> float | None:
    try:
        weight = float(cell)
    except ValueError:
        return None
    return weight if math.isfinite(weight) and weight >= 0 else None
