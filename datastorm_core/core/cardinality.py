"""``per_parent``: how many children each parent has, and whose child a row is.

Parent *j* has ``count(j)`` children: a hash of *j* (``per_parent = [low,
high]``, uniform in the range) or a field of the parent row (``per_parent =
"REF.FIELD"``, computed by the parent's own generators and handed in as a
counts function). Children are laid out parent by parent: the children of
parent *j* are the rows ``[S(j), S(j+1))`` of the child table, where *S* is
the prefix sum of the counts. So child row *i* belongs to the parent *j*
with ``S(j) <= i < S(j+1)``, child ids stay global and deterministic, and
the children of a range of parents are a range of child rows: a parent's
partition maps onto a child partition.

Prefix sums are kept per block of ``BLOCK`` parents (one int64 per block),
computed once in O(parents) vectorized work; any child index then needs
one block's counts, computed again on demand. A layout of at most
``WHOLE`` parents keeps every parent's S (8 MB at most), found by the same
sweep: a child's parent is then one binary search, with no count computed
again (children that read their parent's fields locate parents all over the
table, chunk after chunk).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from datastorm_core.core.hashing import derive_key, uniform

__all__ = ["BLOCK", "WHOLE", "Cardinality", "Counts", "cardinality", "hashed_counts"]

# Parents per block of prefix sums: the memory is rows/BLOCK int64s, and a
# random child lookup recomputes at most BLOCK counts per distinct block.
BLOCK = 256
# Parents counted per step while building the block sums (bounded memory).
_SWEEP = 1 << 20
# Layouts of at most this many parents keep S of every parent (one int64 each).
WHOLE = _SWEEP

#: Children of each parent index given (an int64 array of counts >= 0).
Counts = Callable[[np.ndarray], np.ndarray]


def hashed_counts(key: int, low: int, high: int) -> Counts:
    """``per_parent = [low, high]``: a count uniform in the range, a hash of the parent."""
    derived = derive_key(key, "per_parent")
    span = high - low + 1

    def counts(parents: np.ndarray) -> np.ndarray:
        drawn = np.floor(uniform(derived, parents) * span).astype(np.int64)
        return drawn + np.int64(low)

    return counts


class Cardinality:
    """Children per parent for one ``per_parent`` reference: the child table's layout."""

    def __init__(self, parents: int, counts: Counts, most: int | None = None) -> None:
        self.parents = parents
        self._counts = counts
        # The most children any parent can have, when known (a bound, not the maximum
        # drawn): what a cumulative time or a total must leave room for.
        self.most = most
        self._block_starts: np.ndarray | None = None
        # S(j) of every parent and the total after them, when parents <= WHOLE.
        self._firsts: np.ndarray | None = None
        self._lock = threading.Lock()
        # The last rows located, per thread: a chunk's reference, the parents' fields it
        # reads and its ordinals or cumulative times all locate the same index array.
        self._last = threading.local()

    def counts(self, parents: np.ndarray) -> np.ndarray:
        """Children of each given parent index."""
        return self._counts(parents)

    @property
    def block_starts(self) -> np.ndarray:
        """S at every block boundary: ``block_starts[b] = S(b * BLOCK)``; last = total."""
        with self._lock:
            if self._block_starts is None:
                totals = []
                for first in range(0, self.parents, _SWEEP):  # _SWEEP is a multiple of BLOCK
                    last = min(first + _SWEEP, self.parents)
                    counts = self.counts(np.arange(first, last, dtype=np.int64))
                    if self.parents <= WHOLE:  # one sweep: every parent's S, kept
                        self._firsts = np.concatenate(([0], np.cumsum(counts))).astype(
                            np.int64)
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

    def first_children(self, parents: np.ndarray) -> np.ndarray:
        """S(j) of each given parent index ``j`` (any order); past the last parent (a row
        the change stream adds), the child table's row count: no child."""
        parents = np.asarray(parents, dtype=np.int64)
        found = np.full(len(parents), self.children, dtype=np.int64)
        real = parents < self.parents
        if not real.any():
            return found
        if self._whole() is not None:
            found[real] = self._firsts[parents[real]]
            return found
        blocks = parents[real] // BLOCK
        distinct, where = np.unique(blocks, return_inverse=True)
        _, counts, ends = self._blocks(distinct)
        # Row of each parent in the (distinct blocks x BLOCK) layout, then its end - count.
        position = where.reshape(-1) * BLOCK + parents[real] % BLOCK
        found[real] = ends[position] - counts.ravel()[position]
        return found

    def parents_of(self, children: np.ndarray) -> np.ndarray:
        """The parent index of each child row index (any order, any spread)."""
        return self.locate(children)[0]

    def locate(self, children: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The parent of each child row and that parent's first child row, S(parent):
        ``children - S`` is each row's place among its parent's children (0-based)."""
        last = getattr(self._last, "located", None)
        if last is not None and last[0] is children:  # the very same array: same answer
            return last[1]
        asked = children
        children = np.asarray(children, dtype=np.int64)
        if children.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        firsts = self._whole()
        if firsts is not None:
            found = _in_whole(firsts, children)
        else:
            members, counts, ends = self._blocks(self._blocks_of(children))
            position = np.searchsorted(ends, children, side="right")
            found = members[position], ends[position] - counts.ravel()[position]
        self._last.located = (asked, found)
        return found

    def _whole(self) -> np.ndarray | None:
        """S of every parent and the total after them, when the layout keeps them."""
        if self.parents > WHOLE:
            return None
        _ = self.block_starts  # the sweep that finds them, once
        return self._firsts

    def _blocks_of(self, children: np.ndarray) -> np.ndarray:
        """The blocks holding the given child rows' parents, sorted and distinct (every
        block between the first and the last for a chunk's rows)."""
        starts = self.block_starts
        if children.size > 1 and bool((children[1:] >= children[:-1]).all()):
            first, last = np.searchsorted(starts, children[[0, -1]], side="right") - 1
            if (last - first + 1) * BLOCK <= 4 * children.size:
                # A chunk: rows rising with few gaps, so the blocks between are met or
                # cheap, and neither every row's block nor a hash of them is needed.
                return np.arange(first, last + 1, dtype=np.int64)
            blocks = np.searchsorted(starts, children, side="right") - 1
            return blocks[np.flatnonzero(np.diff(blocks, prepend=-1))]
        return np.unique(np.searchsorted(starts, children, side="right") - 1)

    def _blocks(self, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The parents of the given blocks (sorted, distinct), their counts (blocks x
        BLOCK, 0 past the last parent) and their child-row ends as one sorted array:
        each block's own cumulative counts offset by the block's start."""
        members = (blocks[:, None] * BLOCK + np.arange(BLOCK)).ravel()
        counts = np.zeros(len(members), dtype=np.int64)
        real = members < self.parents  # the last block may run past the last parent
        counts[real] = self.counts(members[real])
        counts = counts.reshape(-1, BLOCK)
        ends = (self.block_starts[blocks][:, None] + np.cumsum(counts, axis=1)).ravel()
        return members, counts, ends


def _in_whole(firsts: np.ndarray, children: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each child row's parent and its S, from every parent's S (``firsts``, the total
    last): the last parent whose first child is at or before the row (a parent without
    children shares its S with the next one, which the search passes)."""
    low, high = int(children[0]), int(children[-1])
    if high - low + 1 == len(children) and high < firsts[-1] and \
            bool((np.diff(children) == 1).all()):
        # A chunk's rows [low, high]: its parents' runs, one search for each end.
        first, last = np.searchsorted(firsts, [low, high], side="right") - 1
        bounds = np.clip(firsts[first:last + 2], low, high + 1)
        parents = np.repeat(np.arange(first, last + 1, dtype=np.int64), np.diff(bounds))
    else:
        parents = np.searchsorted(firsts, children, side="right") - 1
    return parents, firsts[parents]


@lru_cache(maxsize=256)
def cardinality(key: int, parents: int, low: int, high: int) -> Cardinality:
    """The (cached) cardinality of one ``per_parent = [low, high]`` reference."""
    return Cardinality(parents, hashed_counts(key, low, high), most=high)
