"""A target's lifecycle around whatever writes into it: open, prepare, then finish.

Everything that writes through a ``Target`` (a run's ``Runner``, the Kafka
event stream) goes through ``target_lifecycle``, so they agree on the rules
that make a failure leave the target as it was:

- ``open`` and ``prepare`` run first; if either fails, ``finish`` still
  runs with that error (a half-opened target releases what it holds);
- ``finish(None)`` commits when the body returned, ``finish(error)`` undoes
  what the body wrote when it raised;
- Ctrl-C (``KeyboardInterrupt``) becomes ``Interrupted``, a ``DatastormError``;
- the first error wins: a failing rollback never hides its cause;
- a Ctrl-C held back during COMMIT (``core.interrupts``) that arrives once
  the target says ``committed`` is not a failure: the writes are in, and
  ``Ending.interrupted_after_commit`` tells the caller to say so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from datastorm_core.core.protocols import Target
from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import Interrupted

__all__ = ["Ending", "target_lifecycle"]


@dataclass
class Ending:
    """How the lifecycle ended, filled in when the ``with`` block is left."""

    #: Ctrl-C came while COMMIT ran, and the commit went through.
    interrupted_after_commit: bool = False


@contextmanager
def target_lifecycle(target: Target, schemas: Sequence[TableSchema]) -> Iterator[Ending]:
    """Open ``target`` and prepare ``schemas``; on leaving, finish it, all or nothing.

    Raises:
        The first error of open, prepare, the block or finish (``Interrupted``
        for Ctrl-C), after ``finish`` has undone the writes.
    """
    ending = Ending()
    error: BaseException | None = None
    try:
        target.open()
        target.prepare(schemas)
        yield ending
    except KeyboardInterrupt:
        error = Interrupted()
    except BaseException as exc:
        error = exc
    try:
        target.finish(error)
    except KeyboardInterrupt:
        if error is None and getattr(target, "committed", False):
            # Held back during COMMIT (core.interrupts): the writes are in, and say so.
            ending.interrupted_after_commit = True
        else:
            error = error or Interrupted()
    except BaseException as exc:
        error = error or exc
    if error is not None:
        raise error
