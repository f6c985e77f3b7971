"""``per_parent``: how many children each parent has, and whose child a row is.

Parent *j* has ``count(j)`` children, a hash of *j* (uniform in
[low, high]). Children are laid out parent by parent: the children of
parent *j* are the rows ``[S(j), S(j+1))`` of the child table, where *S* is
the prefix sum of the counts. So child row *i* belongs to the parent *j*
with ``S(j) <= i < S(j+1)``, child ids stay global and deterministic, and
the children of a range of parents are a range of child rows: a parent's
partition maps onto a child partition.

Prefix sums are kept per block of ``BLOCK`` parents (one int64 per block),
computed once in O(parents) vectorized work; any child index then needs
one block's counts, computed again on demand.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

from datastorm_core.core.hashing import derive_key, uniform

__all__ = ["BLOCK", "Cardinality", "cardinality"]

# Parents per block of prefix sums: the memory is rows/BLOCK int64s, and a
# random child lookup recomputes at most BLOCK counts per distinct block.
BLOCK = 256
# Parents hashed per step while building the block sums (bounded memory).
_SWEEP = 1 << 20


class Cardinality:
    """Children per parent for one ``per_parent`` reference."""

    def __init__(self, key: int, parents: int, low: int, high: int) -> None:
        self.key = derive_key(key, "per_parent")
        self.parents, self.low, self.high = parents, low, high
        self._block_starts: np.ndarray | None = None
        self._lock = threading.Lock()

    def counts(self, parents: np.ndarray) -> np.ndarray:
        """Children of each given parent index."""
        span = self.high - self.low + 1
        drawn = np.floor(uniform(self.key, parents) * span).astype(np.int64)
        return drawn + np.int64(self.low)

    @property
    def block_starts(self) -> np.ndarray:
        """S at every block boundary: ``block_starts[b] = S(b * BLOCK)``; last = total."""
        with self._lock:
            if self._block_starts is None:
                totals = []
                for first in range(0, self.parents, _SWEEP):  # _SWEEP is a multiple of BLOCK
                    last = min(first + _SWEEP, self.parents)
                    counts = self.counts(np.arange(first, last, dtype=np.int64))
                    padded = np.zeros(-(-len(counts) // BLOCK) * BLOCK, dtype=np.int64)
                    padded[:len(counts)] = counts
                    totals.append(padded.reshape(-1, BLOCK).sum(axis=1))
                sums = np.concatenate(totals) if totals else np.zeros(0, dtype=np.int64)
                self._block_starts = np.concatenate(([0], np.cumsum(sums))).astype(np.int64)
            return self._block_starts

    @property
    def children(self) -> int:
        """Rows of the child table: the sum of every parent's count."""
        return int(self.block_starts[-1]) if self.parents else 0

    def first_child(self, parent: int) -> int:
        """S(parent): the first child row of ``parent`` (``parents`` gives the total)."""
        if parent >= self.parents:
            return self.children
        block = parent // BLOCK
        start = block * BLOCK
        before = self.counts(np.arange(start, parent, dtype=np.int64)).sum()
        return int(self.block_starts[block] + before)

    def parents_of(self, children: np.ndarray) -> np.ndarray:
        """The parent index of each child row index (any order, any spread)."""
        children = np.asarray(children, dtype=np.int64)
        if children.size == 0:
            return np.empty(0, dtype=np.int64)
        starts = self.block_starts
        blocks = np.searchsorted(starts, children, side="right") - 1
        distinct = np.unique(blocks)
        # Child-row boundaries of every parent in the blocks involved, as one sorted
        # array: each block's own cumulative counts offset by the block's start.
        parents = (distinct[:, None] * BLOCK + np.arange(BLOCK)).ravel()
        counts = np.where(parents < self.parents, self.counts(parents), 0).reshape(-1, BLOCK)
        ends = (starts[distinct][:, None] + np.cumsum(counts, axis=1)).ravel()
        position = np.searchsorted(ends, children, side="right")
        return parents[position]


@lru_cache(maxsize=256)
def cardinality(key: int, parents: int, low: int, high: int) -> Cardinality:
    """The (cached) cardinality of one ``per_parent`` reference."""
    return Cardinality(key, parents, low, high)
