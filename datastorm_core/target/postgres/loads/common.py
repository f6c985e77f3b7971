"""Steps several loads share: COPY on the main session, foreign keys put back."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from datastorm_core.core.schema import TableSchema
from datastorm_core.target.postgres import sql as q
from datastorm_core.target.postgres.loads.base import Copy, LoadContext

__all__ = ["copy_on_main", "restore_outside_keys"]


def copy_on_main(ctx: LoadContext, schema: TableSchema, into: str, copy: Copy) -> None:
    """One COPY into table ``into`` on the run's main session (inside its transaction)."""
    with ctx.session.cursor(f"loading table {schema.name!r}") as cur, \
            cur.copy(q.copy_from_stdin(into, schema.column_names, copy.format)) as stream:
        for payload in copy.payloads:
            stream.write(payload)


def restore_outside_keys(ctx: LoadContext, keys: Sequence[tuple[str, str, str]]) -> None:
    """Add back the foreign keys that replacing their parents dropped.

    ``keys`` are (child, constraint name, definition) as
    ``catalog.outside_foreign_keys`` read them before the drop. Each is
    validated when its child's rows still match the new parent (the usual
    case: same seed, same keys). If they no longer do (the parent's
    definition changed), it comes back NOT VALID: new rows are checked,
    and the child's asset check reports the orphans until the child is
    regenerated too.
    """
    for child, name, definition in keys:
        with ctx.session.cursor(f"restoring foreign key {name} of {child}") as cur:
            try:
                with ctx.session.savepoint():
                    cur.execute(q.restore_foreign_key(child, name, definition, valid=True))
            except psycopg.errors.ForeignKeyViolation:
                cur.execute(q.restore_foreign_key(child, name, definition, valid=False))
                ctx.warnings.append(
                    f"{child} holds rows whose {name} no longer matches the replaced "
                    "parent; the key is back as NOT VALID: regenerate the child too")
