"""Paths through states, one per parent: the rows of a ``lifecycle`` field.

A state machine (its states, each state's next states with their weights,
an initial state, ``max_steps``) gives every parent index one path: from
the initial state, each step draws the next state among the current one's,
by weight, until a state with no next one (terminal) or ``max_steps``
states. Step *s* of parent *j* draws ``uniform(key_s, j)``, a counter-based
hash of the parent's index, so a parent's path is the same whatever else is
drawn: in any chunk, partition, worker or process.

The path's length is the parent's child count (a ``Cardinality``) and child
*k* of the parent holds the path's k-th state. Nothing here needs a
generator, only the parent's index: the Genfile's sizing and the source
both stand on it, so it lives in core.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from datastorm_core.core.cardinality import Cardinality
from datastorm_core.core.hashing import derive_key, uniform

__all__ = ["StateMachine", "path_cardinality"]

# Above any uniform draw (< 1): a padded slot of a state with fewer next states.
_NEVER = 2.0


@dataclass(frozen=True)
class StateMachine:
    """States and their weighted transitions; hashable, so layouts can be cached by it."""

    states: tuple[str, ...]
    # For each state (by its position in ``states``): its next states' positions and
    # their weights (> 0); both empty for a terminal state.
    nexts: tuple[tuple[int, ...], ...]
    weights: tuple[tuple[float, ...], ...]
    initial: int
    max_steps: int  # the most states a path holds (>= 1), the initial one included

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Next states (states x widest), the cumulative share that ends each one's slot
        (padded with a bound no draw reaches) and which states are terminal."""
        width = max(1, *(len(n) for n in self.nexts))
        targets = np.zeros((len(self.states), width), dtype=np.int64)
        bounds = np.full((len(self.states), width), _NEVER)
        for state, (nexts, weights) in enumerate(zip(self.nexts, self.weights, strict=True)):
            if not nexts:
                continue
            shares = np.cumsum(np.array(weights, dtype=np.float64)) / float(sum(weights))
            shares[-1] = 1.0  # exactly: a draw below 1 always lands in some slot
            targets[state, :len(nexts)] = nexts
            bounds[state, :len(nexts)] = shares
        terminal = np.array([not n for n in self.nexts], dtype=bool)
        return targets, bounds, terminal

    def _step(self, key: int, step: int, parents: np.ndarray, states: np.ndarray
              ) -> np.ndarray:
        """The state after transition ``step`` (0-based) of each parent, from ``states``
        (none terminal)."""
        targets, bounds, _ = self._tables
        drawn = uniform(_step_key(key, step), parents)
        slot = (drawn[:, None] >= bounds[states]).sum(axis=1)
        return targets[states, slot]

    def lengths(self, key: int, parents: np.ndarray) -> np.ndarray:
        """The number of states in each parent's path (1..max_steps)."""
        parents = np.asarray(parents, dtype=np.int64)
        terminal = self._tables[2]
        counts = np.ones(len(parents), dtype=np.int64)
        states = np.full(len(parents), self.initial, dtype=np.int64)
        moving = np.flatnonzero(~terminal[states]) if self.max_steps > 1 else np.empty(0, int)
        step = 0
        while moving.size:
            states[moving] = self._step(key, step, parents[moving], states[moving])
            counts[moving] += 1
            step += 1
            if step + 1 >= self.max_steps:
                break
            moving = moving[~terminal[states[moving]]]
        return counts

    def states_at(self, key: int, parents: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The state (its position in ``states``) at place ``positions`` (0-based) of each
        parent's path; a place past a path's end holds its last state."""
        parents = np.asarray(parents, dtype=np.int64)
        positions = np.asarray(positions, dtype=np.int64)
        result = np.full(len(parents), self.initial, dtype=np.int64)
        if not len(parents):
            return result
        terminal = self._tables[2]
        # Each distinct parent walks once, as far as its furthest row asks.
        distinct, where = np.unique(parents, return_inverse=True)
        where = where.reshape(-1)
        furthest = np.zeros(len(distinct), dtype=np.int64)
        np.maximum.at(furthest, where, positions)
        states = np.full(len(distinct), self.initial, dtype=np.int64)
        order = np.argsort(positions, kind="stable")
        ordered = positions[order]
        walking = np.flatnonzero(furthest > 0)
        step = 0
        while walking.size:
            moving = walking[~terminal[states[walking]]]
            if moving.size and step + 1 < self.max_steps:
                states[moving] = self._step(key, step, distinct[moving], states[moving])
            step += 1
            low, high = np.searchsorted(ordered, [step, step + 1])
            rows = order[low:high]
            result[rows] = states[where[rows]]
            walking = walking[furthest[walking] > step]
        return result

    def longest(self) -> int:
        """The most states any path can hold: the longest walk from the initial state,
        ``max_steps`` when a cycle can be reached (or the walk is longer)."""
        depth: dict[int, int] = {}
        on_path: set[int] = set()
        stack = [(self.initial, iter(self.nexts[self.initial]))]
        on_path.add(self.initial)
        while stack:
            state, nexts = stack[-1]
            following = next(nexts, None)
            if following is None:
                stack.pop()
                on_path.discard(state)
                depth[state] = 1 + max((depth[n] for n in self.nexts[state]), default=0)
                continue
            if following in on_path:
                return self.max_steps  # a cycle: only max_steps ends the path
            if following not in depth:
                on_path.add(following)
                stack.append((following, iter(self.nexts[following])))
        return min(depth[self.initial], self.max_steps)


@lru_cache(maxsize=4096)
def _step_key(key: int, step: int) -> int:
    """The key of transition ``step`` of every path of one field."""
    return derive_key(key, "lifecycle", step)


@lru_cache(maxsize=256)
def path_cardinality(key: int, parents: int, machine: StateMachine) -> Cardinality:
    """The (cached) children of ``parents`` parents: each one's path length."""
    return Cardinality(parents, lambda indices: machine.lengths(key, indices),
                       most=machine.longest())
