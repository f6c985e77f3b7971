"""The draft checked as a run would check it, and mended where it is refused.

``problems_of`` runs datastorm's own validator, its generators' checks and
the PostgreSQL target's live-table checks on the rendered draft; ``mend``
replaces each field they refuse by the plainest one that fits its column;
``break_cycles`` defers a nullable reference in each cycle of tables, so the
tables can be written parents first.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from datastorm_core.errors import GenfileError, Problem, UsageError
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.graph import table_cycles
from datastorm_core.importer.fields import fallback
from datastorm_core.importer.render import TableDraft
from datastorm_core.source import Source
from datastorm_core.target.postgres.compat import table_problems

__all__ = ["break_cycles", "mend", "problems_of"]


def problems_of(text: str, drafts: dict[str, TableDraft]) -> list[Problem]:
    try:
        genfile = loads_genfile(text, target_overridden=True)
    except GenfileError as exc:
        return exc.problems
    source = Source(genfile)
    problems = source.check()
    if problems:
        return problems
    by_section = {d.section: d for d in drafts.values()}
    found: list[Problem] = []
    for table in genfile.tables:
        if table.existing:
            continue
        draft = by_section[table.name]
        for problem in table_problems(source.schema(table.name), draft.live):
            found.append(Problem(problem.message, table.name, problem.field))
    return found


def mend(drafts: dict[str, TableDraft], problems: list[Problem], notes: list[str]) -> bool:
    """Replace the fields the problems name by their fallback; False if none could be."""
    by_section = {d.section: d for d in drafts.values()}
    mended = False
    for problem in problems:
        draft = by_section.get(problem.table or "")
        if draft is None:
            continue
        if problem.field is None:
            mended |= _mend_table(draft, problem, notes)
            continue
        fd = draft.field(problem.field)
        if fd is None or fd.fallen_back or fd.choice is None:
            continue
        replacement = fallback(fd.column, fd.facts)
        if replacement is None:
            if fd.column.fills_itself and not fd.facts.unique:
                fd.choice, fd.left_out_because = None, f"datastorm refused: {problem.message}"
                mended = True
            continue
        notes.append(f"{draft.section}.{fd.column.name}: {problem.message}; written as a "
                     f"plain {replacement.type} instead")
        replacement.why.insert(0, f"instead of {fd.choice.type} ({problem.message})")
        fd.choice, fd.fallen_back = replacement, True
        mended = True
    return mended


def _mend_table(draft: TableDraft, problem: Problem, notes: list[str]) -> bool:
    """Table-wide problems the draft can answer: too few combinations of parents."""
    message = problem.message
    if "distinct combinations of parents" in message and draft.records:
        space = int(message.split(" only ")[1].split(" distinct")[0].replace(",", ""))
        notes.append(f"{draft.section}: {message}; records lowered to {space:,}")
        draft.records = space
        return True
    return False


def _cycles(drafts: dict[str, TableDraft]) -> list[list[str]]:
    """Cycles of references between the drafts' sections (deferred ones do not count)."""
    parents: dict[str, list[str]] = {}
    for draft in drafts.values():
        found = parents.setdefault(draft.section, [])
        for fd in draft.fields:
            choice = fd.choice
            if choice is None or choice.type != "reference" or choice.params.get("deferred"):
                continue
            parent = str(choice.params["ref"]).split(".")[0]
            if parent != draft.section and parent not in found:
                found.append(parent)
    return table_cycles([_Node(name, tuple(p)) for name, p in parents.items()])


@dataclass(frozen=True)
class _Node:
    """What ``table_cycles`` reads of a table: its name and its parents."""

    name: str
    parents: tuple[str, ...]


def break_cycles(drafts: dict[str, TableDraft], notes: list[str]) -> None:
    """Tables that reference each other in a cycle: a nullable reference in it is
    deferred (written NULL, set once its parent's rows are in, in the same
    transaction), so the tables can be written parents first; without a primary key
    to set it by, it is left NULL."""
    for _ in range(len(drafts)):
        cycles = _cycles(drafts)
        if not cycles:
            return
        by_section = {d.section: d for d in drafts.values()}
        cycle = cycles[0]
        broken = False
        for child, parent in itertools.pairwise(cycle):
            draft = by_section[child]
            for fd in draft.fields:
                choice = fd.choice
                if choice is None or choice.type != "reference" or fd.column.not_null:
                    continue
                if choice.params["ref"].split(".")[0] == parent:
                    loop = " -> ".join(cycle)
                    if any(fd.primary_key for fd in draft.fields):
                        choice.params["deferred"] = True
                        choice.why.append(f"set after the load: {loop} reference each other")
                        notes.append(f"{child}.{fd.column.name} is deferred: {loop} reference "
                                     "each other in a cycle")
                    else:
                        fd.choice = None
                        fd.left_out_because = (f"left NULL: {loop} reference each other in a "
                                               "cycle, and the table has no key to set it by")
                        notes.append(f"{child}.{fd.column.name}: {fd.left_out_because}")
                    broken = True
                    break
            if broken:
                break
        if not broken:
            raise UsageError(f"tables {' -> '.join(cycle)} reference each other through NOT "
                             "NULL columns only; import them apart (--exclude) or make one "
                             "of those columns nullable")
