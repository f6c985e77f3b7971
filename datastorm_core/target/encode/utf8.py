"""Text columns as UTF-8 for binary COPY, without a loop over values.

A dictionary-encoded column (``Column.codes``/``categories``) encodes each
category once and gathers by code, the category arrays cached by identity
across chunks.
"""

from __future__ import annotations

import threading

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.target.encode.binary_forms import Field, as_str_array

__all__ = ["text_field"]

# Dictionary-encoded text: the UTF-8 of a categories array is kept, by
# identity, for the next chunks that draw from the same array (the word
# lists of a source live as long as the run and are never mutated).
# Categories are encoded on first sight when there are no more of them than
# rows, else on second sight, so a one-off array costs no more than its rows.
_CATEGORY_CACHE_ENTRIES = 64


def text_field(column: Column, rows: int) -> Field:
    """UTF-8 bytes of each value; dictionary-encoded columns encode each category once."""
    if column.codes is not None and column.categories is not None:
        encoded = _CATEGORIES.get(column.categories, rows)
        if encoded is not None:
            data, lengths = encoded
            return Field(data[column.codes], np.dtype(("u1", (data.shape[1],))),
                         lengths[column.codes])
    data, lengths, keep = _utf8(as_str_array(column.values))
    return Field(data, np.dtype(("u1", (data.shape[1],))), lengths, keep)


def _utf8(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """UTF-8 of a ``U`` array: ``(n, width)`` bytes, byte lengths, and which bytes count.

    ASCII (the common case) is one cast, each value's bytes a prefix of its
    row (``keep`` None). Otherwise each code point gets as many byte slots
    as the widest character needs (2 up to U+07FF, ...) and ``keep`` drops
    the unused ones. Everything stays uint32 or narrower: mixing in int64
    makes numpy several times slower. This is several times faster than
    ``np.strings.encode``, which goes through Python's codec value by value.
    """
    rows = len(text)
    chars = text.dtype.itemsize // 4
    points = text.view(np.uint32).reshape(rows, chars)
    lengths = np.strings.str_len(text)
    top = int(points.max()) if points.size else 0
    if top < 0x80:
        return points.astype(np.uint8), lengths, None
    inside = np.arange(chars) < lengths[:, None]
    slots = 2 if top < 0x800 else 3 if top < 0x10000 else 4
    data = np.empty((rows, chars, slots), dtype=np.uint8)
    keep = np.empty((rows, chars, slots), dtype=bool)
    keep[:, :, 0] = inside
    if slots == 2:  # Latin, Greek, Cyrillic...: the common case, kept simple
        wide = points >= 0x80
        data[:, :, 0] = np.where(wide, 0xC0 | (points >> 6), points)
        data[:, :, 1] = 0x80 | (points & 0x3F)
        np.logical_and(inside, wide, out=keep[:, :, 1])
    else:
        # size: bytes of each character; byte i > 0 of a size-byte sequence
        # carries the 6 bits from 6 * (size - 1 - i) up.
        size = np.ones(points.shape, dtype=np.uint32)
        for limit in (0x80, 0x800, 0x10000):
            size += points >= limit
        lead_mark = (np.uint32(0xFF00) >> size) & 0xFF  # 0xC0, 0xE0, 0xF0 for 2, 3, 4
        data[:, :, 0] = np.where(size == 1, points, lead_mark | (points >> (6 * (size - 1))))
        for i in range(1, slots):
            follows = size > i
            shift = np.where(follows, 6 * (size - 1 - i), 0).astype(np.uint32)
            data[:, :, i] = 0x80 | ((points >> shift) & 0x3F)
            np.logical_and(inside, follows, out=keep[:, :, i])
    keep = keep.reshape(rows, chars * slots)
    return data.reshape(rows, chars * slots), np.count_nonzero(keep, axis=1), keep


def _packed_utf8(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 of a ``U`` array with each value's bytes a prefix of its row, as narrow as can be."""
    data, lengths, keep = _utf8(text)
    if keep is None:
        return data, lengths
    width = int(lengths.max()) if len(lengths) else 0
    packed = np.zeros((len(text), width), dtype=np.uint8)
    packed[np.arange(width) < lengths[:, None]] = data[keep]
    return packed, lengths


class _CategoryCache:
    """UTF-8 of categories arrays by identity (see ``_CATEGORY_CACHE_ENTRIES``)."""

    def __init__(self, limit: int) -> None:
        # id -> (the array itself, so its id is not reused; its encoding, or None: seen once)
        self._entries: dict[int, tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, categories: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The encoding of ``categories``, or None when encoding the rows is cheaper."""
        with self._lock:
            entry = self._entries.get(id(categories))
        seen = False
        if entry is not None and entry[0] is categories:
            if entry[1] is not None:
                return entry[1]
            seen = True
        encoded = None
        if seen or len(categories) <= rows:
            encoded = _packed_utf8(as_str_array(categories))
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[id(categories)] = (categories, encoded)
        return encoded


_CATEGORIES = _CategoryCache(_CATEGORY_CACHE_ENTRIES)
