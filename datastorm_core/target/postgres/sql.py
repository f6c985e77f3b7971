"""The SQL the PostgreSQL target sends, built from a TableSchema (no I/O).

Every identifier goes through ``sql.Identifier``, so tables named ``user``
or ``order`` (reserved words) and mixed-case names work as written.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from datastorm_core.core.schema import ColumnSchema, ColumnType, ForeignKey, TableSchema
from datastorm_core.core.values import INT64_DIGITS

__all__ = [
    "FILL_TABLE",
    "add_foreign_key",
    "add_foreign_keys",
    "add_keys",
    "column_type",
    "copy_from_stdin",
    "create_fill",
    "create_staging",
    "create_table",
    "drop_tables",
    "has_orphans",
    "storage_type",
    "unique_columns",
    "update_from_fill",
    "upsert_from",
]

_TYPES = {
    ColumnType.BIGINT: "bigint",
    ColumnType.DOUBLE: "double precision",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
    ColumnType.UUID: "uuid",
    ColumnType.TEXT: "text",
}


# TEXT in a type's input syntax (ColumnSchema.syntax): the column type datastorm
# creates for it, and that type's name as the catalog (and the encoders) know it.
_SYNTAX_TYPES = {
    "json": ("jsonb", "jsonb"),
    "array": ("text[]", "_text"),
    "inet": ("inet", "inet"),
    "interval": ("interval", "interval"),
    "bytea": ("bytea", "bytea"),
    "time": ("time", "time"),
}


def column_type(col: ColumnSchema) -> str:
    """The PostgreSQL type of a column datastorm creates."""
    if col.type is ColumnType.NUMERIC:
        return f"numeric({col.precision or INT64_DIGITS}, {col.scale or 0})"
    if col.type is ColumnType.TEXT and col.syntax in _SYNTAX_TYPES:
        return _SYNTAX_TYPES[col.syntax][0]
    return _TYPES[col.type]


def storage_type(col: ColumnSchema) -> str | None:
    """The catalog's name of the type ``column_type`` gives, when it is not the column
    type's own (None): what an encoder must convert the column's values to."""
    if col.type is ColumnType.TEXT and col.syntax in _SYNTAX_TYPES:
        return _SYNTAX_TYPES[col.syntax][1]
    return None


def unique_columns(schema: TableSchema) -> list[str]:
    """Columns that need their own UNIQUE: the primary key is unique already."""
    return [c for c in schema.unique if (c,) != tuple(schema.primary_key)]


def _names(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _key_clauses(schema: TableSchema) -> list[sql.Composable]:
    clauses: list[sql.Composable] = []
    if schema.primary_key:
        clauses.append(sql.SQL("PRIMARY KEY ({})").format(_names(schema.primary_key)))
    clauses += [sql.SQL("UNIQUE ({})").format(sql.Identifier(c)) for c in unique_columns(schema)]
    return clauses


def _foreign_key_clause(fk: ForeignKey) -> sql.Composed:
    return sql.SQL("FOREIGN KEY ({}) REFERENCES {} ({})").format(
        sql.Identifier(fk.column), sql.Identifier(fk.parent_table),
        sql.Identifier(fk.parent_column))


def _foreign_key_clauses(schema: TableSchema) -> list[sql.Composable]:
    return [_foreign_key_clause(fk) for fk in schema.foreign_keys]


def create_table(schema: TableSchema, *, with_keys: bool, if_not_exists: bool = False,
                 with_foreign_keys: bool | None = None) -> sql.Composed:
    """CREATE TABLE; keys inline when ``with_keys``, else added after the load.

    ``with_foreign_keys`` (default: ``with_keys``) says whether the foreign
    keys are inline too.
    """
    parts: list[sql.Composable] = [
        sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(column_type(c)),
                                  sql.SQL("" if c.nullable else " NOT NULL"))
        for c in schema.columns
    ]
    foreign_keys = with_keys if with_foreign_keys is None else with_foreign_keys
    if with_keys:
        parts += _key_clauses(schema)
    if foreign_keys:
        parts += _foreign_key_clauses(schema)
    head = "CREATE TABLE IF NOT EXISTS" if if_not_exists else "CREATE TABLE"
    return sql.SQL(head + " {} ({})").format(sql.Identifier(schema.name),
                                             sql.SQL(", ").join(parts))


def drop_tables(names: Sequence[str]) -> sql.Composed:
    """Drop tables if they exist; CASCADE also drops foreign keys that point at them."""
    return sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(_names(names))


def _alter_add(schema: TableSchema, clauses: list[sql.Composable]) -> sql.Composed | None:
    if not clauses:
        return None
    adds = sql.SQL(", ").join(sql.SQL("ADD {}").format(c) for c in clauses)
    return sql.SQL("ALTER TABLE {} {}").format(sql.Identifier(schema.name), adds)


def add_keys(schema: TableSchema) -> sql.Composed | None:
    """ALTER TABLE adding the primary key and UNIQUEs after the load (None if none)."""
    return _alter_add(schema, _key_clauses(schema))


def add_foreign_keys(schema: TableSchema) -> sql.Composed | None:
    """ALTER TABLE adding the foreign keys after the load (None if none)."""
    return _alter_add(schema, _foreign_key_clauses(schema))


def add_foreign_key(schema: TableSchema, fk: ForeignKey) -> sql.Composed:
    """ALTER TABLE adding one foreign key (the server checks every row)."""
    return sql.SQL("ALTER TABLE {} ADD {}").format(sql.Identifier(schema.name),
                                                   _foreign_key_clause(fk))


def has_orphans(schema: TableSchema, fk: ForeignKey) -> sql.Composed:
    """Whether a row of ``schema`` references a parent row that does not exist."""
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM {} AS c WHERE c.{} IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM {} AS p WHERE p.{} = c.{}))").format(
        sql.Identifier(schema.name), sql.Identifier(fk.column),
        sql.Identifier(fk.parent_table), sql.Identifier(fk.parent_column),
        sql.Identifier(fk.column))


def copy_from_stdin(table: str, columns: Sequence[str], fmt: str) -> sql.Composed:
    """COPY into ``table`` from the client, in ``fmt`` ("text" or "binary")."""
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(
        sql.Identifier(table), _names(columns), sql.SQL(fmt))


def create_staging(staging: str, table: str) -> sql.Composed:
    """A temporary copy of ``table``'s columns that vanishes at commit."""
    return sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
        sql.Identifier(staging), sql.Identifier(table))


def upsert_from(schema: TableSchema, staging: str, *, overriding: bool = False
                ) -> sql.Composed:
    """Move staged rows into the table, rewriting rows whose primary key exists.

    ``overriding``: the table has GENERATED ALWAYS identity columns, which an
    INSERT only writes with OVERRIDING SYSTEM VALUE.
    """
    names = schema.column_names
    rest = [c for c in names if c not in schema.primary_key]
    if rest:
        action = sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in rest))
    else:
        action = sql.SQL("DO NOTHING")
    return sql.SQL("INSERT INTO {} ({}) {}SELECT {} FROM {} ON CONFLICT ({}) {}").format(
        sql.Identifier(schema.name), _names(names),
        sql.SQL("OVERRIDING SYSTEM VALUE " if overriding else ""), _names(names),
        sql.Identifier(staging), _names(schema.primary_key), action)


def restore_foreign_key(child: str, name: str, definition: str, *, valid: bool) -> sql.Composed:
    """Add back a foreign key read from pg_constraint; ``child`` is already quoted."""
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}{}").format(
        sql.SQL(child), sql.Identifier(name), sql.SQL(definition),
        sql.SQL("" if valid else " NOT VALID"))


#: The temporary table a fill's rows go into before they update the table.
FILL_TABLE = "datastorm_fill"


def create_fill(schema: TableSchema) -> sql.Composed:
    """A temporary table with the fill's columns, typed as the table has them."""
    return sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
        sql.Identifier(FILL_TABLE), _names(schema.column_names), sql.Identifier(schema.name))


def update_from_fill(schema: TableSchema) -> sql.Composed:
    """Set the fill's columns of the rows whose primary key the fill holds."""
    rest = [c for c in schema.column_names if c not in schema.primary_key]
    sets = sql.SQL(", ").join(sql.SQL("{0} = f.{0}").format(sql.Identifier(c)) for c in rest)
    match = sql.SQL(" AND ").join(sql.SQL("t.{0} = f.{0}").format(sql.Identifier(c))
                                   for c in schema.primary_key)
    return sql.SQL("UPDATE {} AS t SET {} FROM {} AS f WHERE {}").format(
        sql.Identifier(schema.name), sets, sql.Identifier(FILL_TABLE), match)
