"""The kinds of event, one module each, behind ``HANDLERS``: kind -> handler.

A handler (``base.Handler``) resolves event *n* of its kind on a table:
it searches the database for the rows to change and returns the changes
and the statements that make them, or None when the table has none now.
Handlers never write; the executor sends an event's writes, the ledger's
move and COMMIT together. A new kind is a module here and an entry below,
once the Genfile's language knows its name (``genfile.streaming.KINDS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from datastorm_core.stream.kinds import delete, insert, update
from datastorm_core.stream.kinds.base import EventContext, Handler, Resolved

__all__ = ["HANDLERS", "EventContext", "Handler", "Resolved"]

HANDLERS: Mapping[str, Handler] = MappingProxyType({
    "insert": insert.resolve,
    "update": update.resolve,
    "delete": delete.resolve,
})
