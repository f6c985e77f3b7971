"""Names a target cannot hold: refused before anything is written.

A name that is fine in TOML may be cut, merged or refused by the target
that stores it: PostgreSQL cuts identifiers at 63 bytes (two long names
become one), has system columns every table owns (``xmin``, ``ctid``...),
reserves ``sqlite_`` on SQLite, and some targets fold case (SQLite, the
files of a case-insensitive file system), so ``User`` and ``user`` would be
one table. ``problems`` lists what is wrong for the kind of target a
table goes to; the validator asks it for the Genfile's targets, the run
again for the targets the command line names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from datastorm_core.errors import Problem
from datastorm_core.genfile.model import Table

__all__ = ["MAX_IDENTIFIER_BYTES", "SYSTEM_COLUMNS", "problems"]

#: PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes: longer names are cut.
MAX_IDENTIFIER_BYTES = 63
#: Columns every PostgreSQL table has; a column of that name cannot be created.
SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", "oid"})


def problems(kind: str, tables: Sequence[Table]) -> list[Problem]:
    """What is wrong with the names of ``tables`` on a target of ``kind`` (postgres, sqlite,
    csv, jsonl, ...). Existing tables are checked too: their names are read."""
    found: list[Problem] = []
    found += _clashes([(t.stored_name, t.name) for t in tables], None, "tables")
    for table in tables:
        found += _clashes([(f.name, f.name) for f in table.fields], table.name, "fields")
        for name, field in [(table.stored_name, None), *((f.name, f.name) for f in table.fields)]:
            found += [Problem(m, table.name, field) for m in _name_problems(kind, name, field)]
    return found


def _name_problems(kind: str, name: str, field: str | None) -> list[str]:
    what = "field" if field is not None else "table"
    found = []
    if not name and field is not None:  # PostgreSQL refuses a zero-length identifier
        found.append("a field name is empty: give it a name")
    if "\x00" in name:
        found.append(f"the {what} name holds a NUL character, which no target stores")
    if kind == "postgres":
        size = len(name.encode())
        if size > MAX_IDENTIFIER_BYTES:
            found.append(f"the {what} name {name!r} is {size} bytes long; PostgreSQL cuts "
                         f"names at {MAX_IDENTIFIER_BYTES}, so it would not be that name")
        if field is not None and name.lower() in SYSTEM_COLUMNS:
            found.append(f"{name!r} is a system column of every PostgreSQL table: rename the "
                         "field")
    if kind == "sqlite" and field is None and name.lower().startswith("sqlite_"):
        found.append(f"table names starting with sqlite_ are reserved by SQLite ({name!r})")
    if kind in ("csv", "jsonl", "parquet") and field is None \
            and ("/" in name or name in (".", "..")):
        found.append(f"the table name {name!r} cannot be a file name")
    return found


def _clashes(names: Iterable[tuple[str, str]], table: str | None, what: str) -> list[Problem]:
    """Names equal but for case: one table (or column) on a target that folds case."""
    seen: dict[str, str] = {}
    found = []
    for stored, label in names:
        key = stored.casefold()
        if key in seen and seen[key] != stored:
            message = (f"{what} {seen[key]!r} and {stored!r} differ only in case; some targets "
                       "(SQLite, files on macOS and Windows) would make them one: rename one")
            found.append(Problem(message, table, label) if table else Problem(message, label))
        seen.setdefault(key, stored)
    return found
