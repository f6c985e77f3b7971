"""``transitions``: which state may follow which, one description for two readers.

```toml
transitions = { created = { paid = 85, cancelled = 15 }, paid = ["shipped", "cancelled"] }
```

Each state maps to its next states: a list (equal weights) or a table of
weights (numbers > 0). A state with no entry, or an empty list, is final.
A ``lifecycle`` field walks one path per parent through them
(``genfile.lifecycle``); the change stream moves a mutable ``choice`` along
them (``genfile.streaming``, ``stream.spec``). Both read them through
``read_transitions``, so a description means the same to both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datastorm_core.genfile.literals import toml_text

__all__ = ["Targets", "read_transitions"]


@dataclass(frozen=True)
class Targets:
    """The next states of one state, as written."""

    # A list's entries (any TOML scalar: a choice's values may be numbers or booleans)
    # or a weight table's keys (strings, as TOML keys are).
    states: tuple[Any, ...]
    # A weight table's weights; None for a list: equal weights, which the stream reads
    # as the choice's own weights.
    weights: tuple[float, ...] | None

    def shares(self) -> tuple[float, ...]:
        """The weights of the next states, equal for a list."""
        return self.weights if self.weights is not None else (1.0,) * len(self.states)


def read_transitions(raw: Any) -> tuple[dict[str, Targets], list[str]]:
    """The transitions as written, state by state, and the problems of their shape
    (messages start with ``transitions``); a state whose entry has a problem is left out.
    """
    if not isinstance(raw, Mapping):
        return {}, [f"transitions must be a table, got {toml_text(raw)}"]
    found: dict[str, Targets] = {}
    problems: list[str] = []
    for source, targets in raw.items():
        head = f"transitions: {source!r}"
        if isinstance(targets, list):
            kept = list(dict.fromkeys((type(t), t) for t in targets))
            if len(kept) != len(targets):
                problems.append(f"{head} names a next state twice: {toml_text(targets)}")
                continue
            found[source] = Targets(tuple(targets), None)
        elif isinstance(targets, Mapping):
            bad = [f"{head} -> {state!r}: a weight must be a number > 0, got "
                   f"{toml_text(weight)}" for state, weight in targets.items()
                   if not _positive(weight)]
            if not bad and not math.isfinite(sum(float(w) for w in targets.values())):
                bad.append(f"{head}: the weights add up to more than a number can hold: "
                           "scale them down")
            problems.extend(bad)
            if not bad:
                found[source] = Targets(tuple(targets), tuple(float(w) for w in
                                                              targets.values()))
        else:
            problems.append(f"{head} must map to a list of next states or a table of "
                            f"weights ({{ state = weight }}), got {toml_text(targets)}")
    return found, problems


def _positive(weight: Any) -> bool:
    return isinstance(weight, (int, float)) and not isinstance(weight, bool) \
        and math.isfinite(weight) and weight > 0
