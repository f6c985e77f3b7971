"""The ledger: what the stream has done to a database, kept in that database.

Two small tables live beside the data:

- ``datastorm_stream_state``: one row, the seed and ``next_event``, the
  number of the next event to apply;
- ``datastorm_stream_tables``: per streamed table, its ``relid`` (the
  table's OID, which changes when ``datastorm run`` recreates the table),
  ``next_index`` (the row index of its next insert) and how many rows the
  stream inserted, updated and deleted.

Every event updates the ledger in its own transaction, so the ledger and
the data never disagree: after a lost connection (even one lost during
COMMIT) the stream reads ``next_event`` back and knows whether the event in
flight happened. Which rows exist is not kept here: the database itself
says it, and the stream reads it in key order.

A ``run`` that reloads every streamed table gives them new OIDs: the
ledger starts over at event 0 (that is "the state the same seed's run
left"). A table reloaded alone starts over at its generated row count; the
event numbers go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from datastorm_core.errors import UsageError
from datastorm_core.target.postgres import catalog

__all__ = ["LEDGER_STATE", "LEDGER_TABLES", "LOCK_KEY", "Ledger", "TableLedger"]

LEDGER_STATE = "datastorm_stream_state"
LEDGER_TABLES = "datastorm_stream_tables"
#: pg_advisory_lock key held by a running stream: one stream per database.
LOCK_KEY = 0x6473_7472_6561_6D  # "dstream"

_CREATE = [
    sql.SQL("CREATE TABLE IF NOT EXISTS {} (id integer PRIMARY KEY CHECK (id = 1), "
            "seed numeric NOT NULL, next_event bigint NOT NULL)").format(
        sql.Identifier(LEDGER_STATE)),
    sql.SQL("CREATE TABLE IF NOT EXISTS {} (table_name text PRIMARY KEY, relid oid NOT NULL, "
            "next_index bigint NOT NULL, inserts bigint NOT NULL DEFAULT 0, "
            "updates bigint NOT NULL DEFAULT 0, deletes bigint NOT NULL DEFAULT 0)").format(
        sql.Identifier(LEDGER_TABLES)),
]


@dataclass
class TableLedger:
    relid: int
    next_index: int
    inserts: int = 0
    updates: int = 0
    deletes: int = 0


@dataclass
class Ledger:
    seed: int
    next_event: int
    tables: dict[str, TableLedger] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, cur: Any) -> Ledger:
        state = cur.execute(sql.SQL("SELECT seed, next_event FROM {} WHERE id = 1").format(
            sql.Identifier(LEDGER_STATE))).fetchone()
        if state is None:
            raise UsageError(f"the ledger {LEDGER_STATE} is empty; start the stream again")
        ledger = cls(int(state[0]), int(state[1]))
        for name, relid, next_index, ins, upd, dele in cur.execute(sql.SQL(
                "SELECT table_name, relid, next_index, inserts, updates, deletes FROM {}").format(
                sql.Identifier(LEDGER_TABLES))):
            ledger.tables[name] = TableLedger(int(relid), int(next_index), int(ins), int(upd),
                                              int(dele))
        return ledger

    @classmethod
    def open(cls, cur: Any, seed: int, tables: Mapping[str, tuple[int, int]]) -> Ledger:
        """The ledger of the streamed ``tables`` (name -> (relid, first insert index)),
        created, continued or started over as the tables' OIDs say."""
        for statement in _CREATE:
            cur.execute(statement)
        cur.execute(sql.SQL("LOCK TABLE {}, {} IN EXCLUSIVE MODE").format(
            sql.Identifier(LEDGER_STATE), sql.Identifier(LEDGER_TABLES)))
        state = cur.execute(sql.SQL("SELECT seed, next_event FROM {} WHERE id = 1").format(
            sql.Identifier(LEDGER_STATE))).fetchone()
        known = {name: int(relid) for name, relid in cur.execute(sql.SQL(
            "SELECT table_name, relid FROM {}").format(sql.Identifier(LEDGER_TABLES)))}
        # A table is the one the ledger knows while its OID is the same; a reloaded
        # (or dropped) table is not. None left: every table was reloaded, start over.
        now = {name: tables[name][0] if name in tables else catalog.oid_of(cur, name)
               for name in known}
        alive = {name for name, relid in known.items() if now[name] == relid}
        notes: list[str] = []
        if state is None or not alive:
            if known:
                notes.append("the tables were reloaded since the last stream: the ledger "
                             "starts over at event 0")
            cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(LEDGER_TABLES)))
            cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(LEDGER_STATE)))
            cur.execute(sql.SQL("INSERT INTO {} (id, seed, next_event) VALUES (1, %s, 0)").format(
                sql.Identifier(LEDGER_STATE)), (seed,))
            known = {}
        elif int(state[0]) != seed:
            raise UsageError(
                f"this database was streamed with seed {int(state[0])}; stream it with "
                f"--seed {int(state[0])}, or reload the tables with `datastorm run` first")
        for name in [n for n in known if n not in alive]:
            if now[name] is not None:
                notes.append(f"table {name!r} was reloaded: its inserts start over")
            cur.execute(sql.SQL("DELETE FROM {} WHERE table_name = %s").format(
                sql.Identifier(LEDGER_TABLES)), (name,))
            known.pop(name)
        for name, (relid, first_index) in tables.items():
            if name not in known:
                cur.execute(sql.SQL("INSERT INTO {} (table_name, relid, next_index) "
                                    "VALUES (%s, %s, %s)").format(
                    sql.Identifier(LEDGER_TABLES)), (name, relid, first_index))
        ledger = cls.read(cur)
        ledger.notes = notes
        return ledger


def advance(n: int, counts: Mapping[str, tuple[int, int, int, int]]
            ) -> list[tuple[sql.Composed, tuple[Any, ...]]]:
    """The statements that move the ledger past event ``n``, in the event's transaction.

    ``counts``: table -> (indices used by inserts, inserts, updates, deletes).
    ``next_event`` is set to ``n + 1`` outright: the stream's advisory lock
    keeps any other stream away, and after a reconnect the stream reads it back.
    The event's number moves with the first table's counters in one statement
    (a statement less to send per event; each is prepared once per connection).
    """
    moves = [(used, inserts, updates, deletes, name)
             for name, (used, inserts, updates, deletes) in counts.items()]
    if not moves:
        return [(_MOVE_EVENT, (n + 1,))]
    return [(_MOVE_EVENT_AND_TABLE, (n + 1, *moves[0])),
            *((_MOVE_TABLE, move) for move in moves[1:])]


_MOVE_EVENT = sql.SQL("UPDATE {} SET next_event = %s WHERE id = 1").format(
    sql.Identifier(LEDGER_STATE))
_MOVE_TABLE = sql.SQL(
    "UPDATE {} SET next_index = next_index + %s, inserts = inserts + %s, "
    "updates = updates + %s, deletes = deletes + %s WHERE table_name = %s").format(
    sql.Identifier(LEDGER_TABLES))
_MOVE_EVENT_AND_TABLE = sql.SQL("WITH event AS ({}) {}").format(_MOVE_EVENT, _MOVE_TABLE)
