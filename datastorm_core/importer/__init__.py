"""``datastorm import``: a Genfile for a live PostgreSQL schema, that runs as written.

Three steps:

1. ``live.py`` reads the schema's tables (and the excluded parents they
   reference) from the catalog;
2. ``fields.py`` picks a field for every column, from its type, its name
   (``text_roles.py`` for text columns) and what the schema allows
   (``facts.py``: enums, CHECKs, domains, partitions, keys);
3. ``mending.py`` checks the draft the way a run would check it:
   datastorm's own validator, its generators' checks (is a dictionary large
   enough for a unique column?) and the live-table checks of the PostgreSQL
   target (``target/postgres/compat.py``). A field they refuse falls back to
   the plainest field that fits its column, and the draft is checked again,
   so the Genfile written validates and loads with no edits.

``render.py`` writes it, with a comment beside every field saying where
the choice came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from datastorm_core.errors import GenfileError, UsageError
from datastorm_core.genfile import loads_genfile
from datastorm_core.importer.facts import ColumnFacts, FieldChoice, Reference, describe, facts_of
from datastorm_core.importer.fields import NULL_RATE, choose
from datastorm_core.importer.live import LiveSchema, read_schema
from datastorm_core.importer.mending import break_cycles, mend, problems_of
from datastorm_core.importer.render import FieldDraft, TableDraft, render, section_names
from datastorm_core.importer.text_roles import PERSON_TABLES
from datastorm_core.source import Source
from datastorm_core.target.postgres.connection import ConnectionSettings, mapped_errors
from datastorm_core.target.postgres.live_tables import LiveColumn, LiveTable

__all__ = ["DEFAULT_ROWS", "ImportResult", "import_schema"]

#: Rows of a table whose statistics say nothing (never analyzed, or empty).
DEFAULT_ROWS = 1000
#: Times the draft is checked and its refused fields replaced before giving up.
MAX_ROUNDS = 6
# Field types bound to a locale's data: used only where the locale has it.
_LOCALE_BOUND = ("city", "state", "address", "phone", "cep", "postcode")


@dataclass
class ImportResult:
    """The Genfile's text, and what the user should know about it."""

    text: str
    tables: list[str]
    kept: list[str]
    notes: list[str] = field(default_factory=list)


def import_schema(url: str, *, schema: str | None = None,
                  tables: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
                  rows: int | None = None, locale: str = "en_US", seed: int = 42
                  ) -> ImportResult:
    """A Genfile for the tables of ``schema`` in the database at ``url``.

    Raises:
        UsageError: a bad URL, schema or table selection, or ``rows`` < 0.
        TargetError: the database cannot be reached or read.
    """
    UsageError.unless_at_least(0, ("--rows", rows))
    settings = ConnectionSettings(url, {}, application_name="datastorm-import")
    conn = settings.connect(autocommit=True)
    try:
        with mapped_errors("reading the schema", settings.describe()), conn.cursor() as cur:
            found = read_schema(cur, schema, tables, exclude)
    finally:
        conn.close()
    if not found.tables:
        raise UsageError(f"no table to import in schema {found.schema!r}")
    notes = [f"a foreign key into another schema is not followed: {r}"
             for r in found.skipped_references]
    notes += [f"{table} is left out: {how} fills it (its rows come with that table's); "
              "include it with --tables to generate it anyway"
              for table, how in found.trigger_filled.items()]
    drafts = _drafts(found, rows, _supported(locale), notes)
    break_cycles(drafts, notes)
    dataset = {"seed": seed, "locale": locale}
    for _ in range(MAX_ROUNDS):
        target = {"type": "postgres"}
        if schema is not None:
            target["schema"] = found.schema
        text = render(_header(settings.describe(), found), dataset, target,
                      _TARGET_COMMENTS, list(drafts.values()))
        problems = problems_of(text, drafts)
        if not problems:
            return ImportResult(text, list(found.tables), list(found.kept), notes)
        if not mend(drafts, problems, notes):
            raise GenfileError(problems)
    raise GenfileError(problems_of(text, drafts))


_TARGET_COMMENTS = [
    "Where the rows go: give the database on the command line (datastorm run THIS_FILE",
    "--target postgresql://...), or uncomment: url = \"${DATABASE_URL}\"",
    "The application's tables are emptied and loaded in place, never altered; a table",
    "outside this file whose foreign keys reference them (and that holds rows) makes the",
    "run refuse, unless truncate = \"cascade\". triggers = \"disable\" loads without firing",
    "the application's triggers.",
]


def _header(where: str, found: LiveSchema) -> list[str]:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Genfile written by `datastorm import` from {where}, schema {found.schema!r},",
             f"on {stamp}: {len(found.tables)} tables to fill"]
    if found.kept:
        lines[-1] += f", {len(found.kept)} left as they are (existing = true)"
    lines += ["Each field says beside it what the column is and why its type was chosen:",
              "edit any of them; `datastorm run` checks the file against the live tables",
              "again before writing anything."]
    return lines


# -- the draft ---------------------------------------------------------------------------


def _supported(locale: str) -> dict[str, bool]:
    """Which locale-bound field types work in ``locale`` (asked of the generators)."""
    found = {"cep": locale == "pt_BR"}  # Brazil's postcode: not another country's
    for kind in _LOCALE_BOUND:
        if kind in found:
            continue
        text = f'[dataset]\nlocale = "{locale}"\n[t.f]\ntype = "{kind}"\n'
        try:
            found[kind] = not Source(loads_genfile(text)).check()
        except GenfileError:
            found[kind] = False
    return found


def _drafts(found: LiveSchema, rows: int | None, supported: dict[str, bool],
            notes: list[str]) -> dict[str, TableDraft]:
    everything = found.all()
    sections = section_names(everything)
    drafts: dict[str, TableDraft] = {}
    # Columns of the kept tables that the selected ones reference.
    wanted: dict[str, set[str]] = {}
    for table in found.tables.values():
        for fk in table.foreign_keys:
            if fk.parent in found.kept:
                wanted.setdefault(fk.parent, set()).update(fk.parent_columns)
    for name, live in _write_order(everything):
        kept = name in found.kept
        draft = TableDraft(sections[name], live, existing=kept)
        references = {} if kept else _references(live, sections)
        person = _person_names(live)
        for column in live.columns:
            if kept and column.name not in wanted.get(name, set()):
                continue
            facts = facts_of(live, column)
            choice = choose(live, column, facts, references.get(column.name), person,
                              supported)
            draft.fields.append(_field_draft(live, column, facts, choice, kept))
        if kept:
            draft.comments = [f"{name}: left as it is; references draw from the rows already "
                              "there (read once from the database when a run needs them)"]
            # An existing table's referenced columns must be keys for references to them.
            for fd in draft.fields:
                fd.unique = fd.unique or fd.primary_key or fd.facts.unique
                fd.null_rate = 0.0
        else:
            draft.records, why = _records(live, rows)
            draft.comments = [f"{name}: {why}", *_table_notes(live)]
            draft.unique_groups = _unique_groups(live, references, draft)
            if any(fd.choice is not None and "per_parent" in fd.choice.params
                   for fd in draft.fields):
                draft.records = None  # one child per parent: the parents decide the count
        drafts[name] = draft
    return drafts


def _write_order(tables: dict[str, LiveTable]) -> list[tuple[str, LiveTable]]:
    """Parents before the tables that reference them, else by name: the file reads in the
    order a run writes."""
    done: dict[str, LiveTable] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for fk in tables[name].foreign_keys:
            if fk.parent in tables and fk.parent != name:
                visit(fk.parent, (*path, name))
        done[name] = tables[name]

    for name in sorted(tables):
        visit(name, ())
    return list(done.items())


def _field_draft(live: LiveTable, column: LiveColumn, facts: ColumnFacts,
                 choice: FieldChoice | None, kept: bool) -> FieldDraft:
    comment = describe(column, facts)
    draft = FieldDraft(column, facts, choice, comment)
    if choice is None:
        draft.left_out_because = ("generated by the database" if column.generated
                                  else "no generator for this type")
        if not column.fills_itself:
            draft.left_out_because += "; NOT NULL without a default: edit this field"
        return draft
    draft.primary_key = facts.primary_key and len(live.primary_key) == 1
    # Said even of a sequence (unique anyway): the table's UNIQUE is checked against it.
    draft.unique = facts.unique and not draft.primary_key and choice.type != "reference"
    nullable = not column.not_null and not column.type.domain_not_null
    if nullable and not kept:
        if choice.type == "reference":
            # A composite key's followers are NULL with their leader; a one-to-one and a
            # hierarchy have NULLs of their own (no parent, the roots).
            plain = not {"same_row_as", "per_parent", "root_rate"} & set(choice.params)
            draft.null_rate = NULL_RATE if plain else 0.0
        elif not facts.unique:
            draft.null_rate = NULL_RATE
    return draft


def _references(live: LiveTable, sections: dict[str, str]) -> dict[str, Reference]:
    found: dict[str, Reference] = {}
    for fk in live.foreign_keys:
        if fk.parent not in sections:
            continue  # a table of another schema: not followed
        for position, (column, parent_column) in enumerate(
                zip(fk.columns, fk.parent_columns, strict=True)):
            if column in found:
                continue  # a column in two foreign keys keeps the first
            one_to_one = len(fk.columns) == 1 and (
                (column,) in live.unique or live.primary_key == (column,))
            found[column] = Reference(
                sections[fk.parent], parent_column,
                leader=fk.columns[0] if position else None, unique=one_to_one,
                self_reference=fk.parent == live.name)
    return found


def _person_names(live: LiveTable) -> dict[str, str]:
    names = {}
    for column in live.columns:
        lowered = column.name.lower()
        if lowered in ("name", "full_name", "fullname", "display_name"):
            names.setdefault("name", column.name)
        elif lowered in ("first_name", "firstname", "given_name"):
            names.setdefault("first_name", column.name)
    return names if PERSON_TABLES.search(live.name) else {}


def _records(live: LiveTable, rows: int | None) -> tuple[int, str]:
    if rows is not None:
        return rows, f"{rows:,} rows (--rows)"
    if live.row_estimate > 0:
        return live.row_estimate, f"{live.row_estimate:,} rows, as the table's statistics say"
    return DEFAULT_ROWS, (f"{DEFAULT_ROWS:,} rows (the table has no statistics: "
                          "run ANALYZE for production's proportions, or pass --rows)")


def _table_notes(live: LiveTable) -> list[str]:
    notes = []
    if live.partitioning is not None:
        notes.append(f"partitioned by {live.partitioning.strategy} on "
                     f"{', '.join(live.partitioning.key) or 'an expression'} "
                     f"({len(live.partitioning.bounds)} partitions): rows go through it")
    if live.triggers:
        notes.append("its triggers fire on the loaded rows: "
                     + ", ".join(t.name for t in live.triggers))
    return notes


def _unique_groups(live: LiveTable, references: dict[str, Reference],
                   draft: TableDraft) -> list[list[str]]:
    """Composite keys: references drawn together, or one member made unique."""
    groups = []
    keys = ([live.primary_key] if len(live.primary_key) > 1 else []) + \
        [u for u in live.unique if len(u) > 1]
    grouped: set[str] = set()
    for key in keys:
        fields = [draft.field(c) for c in key]
        if any(fd is None or fd.choice is None for fd in fields):
            continue
        if all(c in references and references[c].leader is None for c in key) and \
                not grouped & set(key):
            if key == live.primary_key:
                for fd in fields:
                    assert fd is not None
                    fd.primary_key = True
                    fd.null_rate = 0.0
            else:
                groups.append(list(key))
            grouped |= set(key)
            continue
        # Not all references: one member unique alone makes the group unique. A
        # sequence or a uuid is already; else the first member that can be.
        present = [fd for fd in fields if fd is not None and fd.choice is not None]
        already = [fd for fd in present if fd.unique or fd.primary_key
                   or fd.choice.type in ("sequence", "uuid")]  # type: ignore[union-attr]
        candidates = already or [fd for fd in present if fd.choice.type not in (  # type: ignore[union-attr]
            "reference", "choice", "bool")]
        if candidates:
            chosen = candidates[0]
            chosen.unique = not chosen.primary_key
            chosen.null_rate = 0.0
    return groups
