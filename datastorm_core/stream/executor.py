"""Events against PostgreSQL: one transaction per event (or per group), the ledger inside it.

``execute(n)`` draws event *n*'s kind and table, lets that kind's handler
(``kinds/``) resolve it against the database (which rows exist, which are
referenced) and queues its writes and the ledger's move; ``commit_events``
sends ``COMMIT``, so an event's writes and its COMMIT travel in one round
trip (pipeline mode, ``session.py``). ``--events-per-transaction N`` calls
``commit_events`` after every N events instead of every one: the events of
a group see each other's rows, as they would one transaction apart, so the
events are the same whatever N. The runner calls ``connect``, ``setup``,
``execute`` and ``resync`` apart so that a connection lost during COMMIT
can be settled by reading the ledger back.

The parts, each in its module: the connection and its lock
(``session.py``), the tables as the catalog has them (``catalog.py``), row
searches and the key cache (``search.py``), the live keys the client keeps
(``live_keys.py``), the values a field gets
(``draw.py``, ``values.py``) and one module per kind of event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from datastorm_core.errors import TargetError, UsageError
from datastorm_core.stream import catalog, state
from datastorm_core.stream.catalog import Link
from datastorm_core.stream.events import Event
from datastorm_core.stream.kinds import HANDLERS, EventContext, Resolved
from datastorm_core.stream.plan import Planner
from datastorm_core.stream.publication import publish
from datastorm_core.stream.search import KeySearch
from datastorm_core.stream.session import StreamSession
from datastorm_core.stream.spec import StreamSpec
from datastorm_core.target.postgres import catalog as pg_catalog

__all__ = ["PostgresStream", "Setup"]

# The ledger's counters a change moves: (indices used, inserts, updates, deletes).
_COUNTER = {"insert": 1, "update": 2, "delete": 3}


@dataclass
class Setup:
    """What preparing the database did (reported in the summary)."""

    ledger: state.Ledger
    indexes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class PostgresStream:
    """One connection to the target, and the events run through it."""

    def __init__(self, url: str, spec: StreamSpec, planner: Planner,
                 options: Mapping[str, Any] | None = None) -> None:
        self.session = StreamSession(url, options)
        self.settings = self.session.settings
        self.url = url
        self.spec = spec
        self.planner = planner
        self.relids: dict[str, int] = {}
        self.links: dict[str, list[Link]] = {}
        self.next_index: dict[str, int] = {}
        self.search = KeySearch(self.session, planner, self.rows_of)
        self._context: EventContext | None = None
        # The events whose writes were sent, until their COMMIT is acknowledged.
        self.pending: list[Event] = []

    def describe(self) -> str:
        return self.session.describe()

    # -- connection ----------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection and take the database's stream lock (see ``StreamSession``)."""
        self.session.connect()

    def close(self) -> None:
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.pending = []
        self.search.live.clear()  # they moved with the rolled-back events; read them again
        self.session.rollback()

    # -- setup ---------------------------------------------------------------------

    def setup(self) -> Setup:
        """Check the tables, index the foreign keys, open the ledger; one transaction."""
        cur = self.session.cursor
        try:
            self.relids = catalog.table_oids(cur, self.spec, self.describe())
            catalog.check_primary_keys(cur, self.spec, self.relids)
        except UsageError:
            self.rollback()  # only reads so far: end the transaction before saying why
            raise
        self.links = catalog.read_links(cur, self.spec, self.relids)
        setup = Setup(state.Ledger(0, 0))
        setup.indexes = catalog.index_foreign_keys(cur, self.spec, self.relids, self.links)
        first = {t.name: (self.relids[t.name], max(t.records, catalog.row_count(cur, t.name)))
                 for t in self.spec.tables}
        setup.ledger = state.Ledger.open(cur, self.planner.seed, first)
        setup.notes = list(setup.ledger.notes)
        self._load(setup.ledger)
        self.search.live.load(cur, self._live_tables(), self.links)
        self._context = EventContext(self.spec, self.planner, self.session, self.search,
                                     self.links, set(), self.rows_of)
        return setup

    def resync(self) -> int:
        """After a reconnect: the ledger's next event, and the tables still the same."""
        cur = self.session.cursor
        ledger = state.Ledger.read(cur)
        for name in self.spec.names:
            relid = pg_catalog.oid_of(cur, name)
            if relid is None or relid != self.relids[name]:
                self.rollback()
                raise TargetError(f"table {name!r} was dropped or reloaded while the stream "
                                  "ran; start the stream again")
        self.search.live.load(cur, self._live_tables(), self.links)
        self.commit()
        self._load(ledger)
        return ledger.next_event

    def recover(self) -> int:
        """After a statement failed on a row another session changed: roll back, read
        the ledger and the live keys again; the next event."""
        self.rollback()
        return self.resync()

    def _live_tables(self) -> dict[str, tuple[tuple[str, ...], Any]]:
        """The streamed tables and the parents they reference: their keys and schemas."""
        names = dict.fromkeys([*self.spec.names,
                               *(r.parent for t in self.spec.tables for r in t.references)])
        return {name: (tuple(self.spec.genfile.table(name).primary_key),
                       self.search.schema(name)) for name in names}

    def _load(self, ledger: state.Ledger) -> None:
        if ledger.seed != self.planner.seed:
            raise TargetError(f"the ledger says seed {ledger.seed}, this stream has seed "
                              f"{self.planner.seed}")
        self.next_index = {name: t.next_index for name, t in ledger.tables.items()}

    def rows_of(self, table: str) -> int:
        """The row indices a table has used so far (generated and inserted)."""
        return self.next_index.get(table, self.spec.genfile.table(table).records)

    # -- events --------------------------------------------------------------------

    def execute(self, n: int) -> Event:
        """Apply event ``n`` in the open transaction: find its rows, then queue its
        writes and the ledger's move (``commit_events`` commits them).

        If the connection is lost, ``pending`` holds the events sent since the
        last COMMIT: the ledger, read back after reconnecting, says whether
        they were committed.
        """
        assert self._context is not None, "setup() first"
        excluded: list[tuple[str, str]] = []
        pairs = len(self.spec.tables) * 3
        for attempt in range(pairs + 1):
            choice = self.planner.choose(n, attempt, excluded)
            if choice is None:
                break
            kind, table = choice
            resolved = HANDLERS[kind](self._context, n, table, attempt)
            if resolved is not None:
                return self._apply(n, kind, table.name, resolved)
            excluded.append((kind, table.name))
        self.rollback()
        raise TargetError(f"event {n}: no event is possible (no row to update or delete, no "
                          "parent or key left to insert a row); tried "
                          + ", ".join(f"{k} {t}" for k, t in excluded))

    def _apply(self, n: int, kind: str, table: str, resolved: Resolved) -> Event:
        counts: dict[str, list[int]] = {}
        for change in resolved.changes:
            entry = counts.setdefault(change.table, [0, 0, 0, 0])
            entry[_COUNTER[change.op]] += 1
            if change.op == "insert":
                entry[0] += 1
        event = Event(n, kind, table, resolved.changes)
        moves = state.advance(n, {t: (c[0], c[1], c[2], c[3]) for t, c in counts.items()})
        self.pending.append(event)
        self.session.send([*resolved.writes, *moves])
        self.search.live.apply(resolved.changes, resolved.fields)
        # The next event of the transaction sees these rows: it inserts after them.
        for name, entry in counts.items():
            self.next_index[name] = self.rows_of(name) + entry[0]
        return event

    def commit_events(self) -> list[Event]:
        """COMMIT the events sent since the last one; those events, in order."""
        committed = self.pending
        if committed:
            self.session.commit()
        self.pending = []
        return committed

    # -- CDC ----------------------------------------------------------------------------

    def publish(self, name: str) -> dict[str, Any]:
        """Create (or point) publication ``name`` at the streamed tables, keyed for CDC."""
        return publish(self.session.cursor, name, self.spec.names)
