"""What every kind of event shares: the context it reads, what it returns, its signature."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from datastorm_core.stream.catalog import Link
from datastorm_core.stream.events import Change
from datastorm_core.stream.plan import Planner
from datastorm_core.stream.search import KeySearch
from datastorm_core.stream.session import StreamSession, Write
from datastorm_core.stream.spec import StreamSpec, StreamTable

__all__ = ["EventContext", "Handler", "Resolved"]


@dataclass(frozen=True)
class Resolved:
    """What a kind found to do: the rows it changes in order, and the statements that
    change them (sent by the executor with the ledger's move and COMMIT)."""

    changes: tuple[Change, ...]
    writes: tuple[Write, ...]
    # The values (as text) the inserted or updated row gets, by field: what the live
    # keys need to count the references onto each parent (``live_keys.py``).
    fields: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class EventContext:
    """What a handler may read while it resolves an event; the executor's, for its life."""

    spec: StreamSpec
    planner: Planner
    session: StreamSession
    search: KeySearch
    links: Mapping[str, Sequence[Link]]  # parent table -> the foreign keys onto it
    # Tables whose unique fields have no value left: inserts into them stop being tried.
    full: set[str]
    rows_of: Callable[[str], int]  # the row indices a table has used (generated, inserted)


class Handler(Protocol):
    """Resolve event ``n`` of one kind on table ``t`` against the database.

    Reads only (the search may lock the row it found, ``FOR UPDATE``). Returns
    None when ``t`` has no row this kind can change now; the executor then
    draws another kind or table. ``attempt`` counts those draws, so a retry
    searches from another start.
    """

    def __call__(self, ctx: EventContext, n: int, t: StreamTable, attempt: int
                 ) -> Resolved | None: ...
