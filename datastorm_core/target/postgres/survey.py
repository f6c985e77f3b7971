"""Before a run touches anything: whose each table is, and what the run will do to it.

``survey`` reads the catalog and the ownership ledger and gives every
table of the run one of three actions:

- ``create``: the table does not exist; datastorm creates it (and records it);
- ``replace``: datastorm created it and nothing of anyone else's hangs on
  it; it is dropped and created again (or staged and swapped in);
- ``in_place``: the application's table, or datastorm's with something of
  the application's attached; it is emptied and loaded, never altered.

``datastorm plan`` prints the same survey, so a user sees before running
which tables are whose and what will happen to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from datastorm_core.target.postgres.live_tables import Catalog, LiveTable
from datastorm_core.target.postgres.ownership import foreign_attachments, read_ownership

__all__ = ["TableState", "survey"]


@dataclass(frozen=True)
class TableState:
    """One table of a run as the database has it now."""

    name: str
    live: LiveTable | None
    owned: bool  # recorded in datastorm's ledger
    attachments: tuple[str, ...] = ()  # what others hung on a table datastorm owns

    @property
    def action(self) -> str:
        if self.live is None:
            return "create"
        if self.owned and not self.attachments:
            return "replace"
        return "in_place"

    @property
    def owner(self) -> str:
        """Whose the table is: "datastorm", "application", or "-" when it does not exist."""
        if self.live is None:
            return "-"
        return "datastorm" if self.owned else "application"

    def explain(self, append: bool) -> str:
        """What the run will do to the table, in words."""
        if append:
            verb = "created, then rows upserted" if self.live is None \
                else "rows upserted by primary key"
            return verb + ("" if self.live is None or self.owned
                           else "; the table is kept as it is")
        if self.action == "create":
            return "created"
        if self.action == "replace":
            return "dropped and created again"
        why = f" ({', '.join(self.attachments)} attached)" if self.attachments else ""
        return f"truncated and loaded; kept as it is{why}"


def survey(cur: Any, names: Sequence[str]) -> dict[str, TableState]:
    """The state of each of ``names`` (tables resolve through the session's search_path)."""
    ownership = read_ownership(cur)
    catalog = Catalog(cur)
    states: dict[str, TableState] = {}
    for name in names:
        live = catalog.table(name)
        if live is None:
            states[name] = TableState(name, None, False)
            continue
        owned = ownership.owns(live.oid)
        attachments: tuple[str, ...] = ()
        if owned:
            attachments = tuple(foreign_attachments(
                cur, live.oid, ownership, [c.name for c in live.columns], live.acl))
        states[name] = TableState(name, live, owned, attachments)
    return states
