"""How a run writes: what happens to rows already there, and when keys are enforced."""

from __future__ import annotations

__all__ = ["CONSTRAINT_MODES", "WRITE_MODES"]

#: "replace": tables end up holding exactly this run's rows; "append": rows are
#: upserted by primary key (files are extended).
WRITE_MODES = ("replace", "append")
#: "after_load": keys added after the load (fast); "immediate": keys at CREATE TABLE.
CONSTRAINT_MODES = ("after_load", "immediate")
