"""Fields that read other tables' fields: ``REF.FIELD`` names, totals, tied counts.

A name ``REF.FIELD`` (``account_id.customer_id.birth_date``, hop by hop)
must lead, through references, to a field of the parent; an existing parent
only has its key to give. What a field reads across tables makes a graph of
``table.field`` nodes (a ``REF.FIELD`` name: REF here and FIELD there; a
total: the child's field and the child's tie; a count from a parent's
field: that field), and a cycle in it is refused, named field by field:
``loan.total -> installment.amount -> loan.total``. Cycles among the fields
of one table alone are ``table_section``'s to report.

This module also checks the rules that name another field: ``per_parent =
"REF.FIELD"`` and ``per_parent = "STATE"``, ``ordinal``'s, ``lifecycle``'s and
``total``'s ``of``, and ``cumulative``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

from datastorm_core.genfile.collector import Collector
from datastorm_core.genfile.graph import find_cycles
from datastorm_core.genfile.model import Field, Table
from datastorm_core.genfile.sizing import tie_of
from datastorm_core.genfile.types import FIELD_TYPES

__all__ = ["check_field_reads", "resolve"]

Node = tuple[str, str]  # (table, field)


def resolve(tables: Mapping[str, Table], table: Table, name: str) -> tuple[list[Node], str]:
    """The fields a name read in ``table`` needs, in order (each reference passed, then
    the field itself), and why it cannot be read ("" when it can)."""
    needs: list[Node] = []
    here = table
    rest = name
    while True:
        ref, dot, rest_after = rest.partition(".")
        if ref not in here.field_names:
            return needs, f"table {here.name!r} has no field {ref!r}"
        needs.append((here.name, ref))
        if not dot:
            return needs, ""
        reference = here.field(ref)
        if reference.ref is None:
            return needs, f"{here.name}.{ref} is not a reference"
        if reference.ref[0] not in tables:
            return needs, ""  # a reference to no table: check_references says so
        parent = tables[reference.ref[0]]
        key = reference.ref[1]
        if parent.existing and rest_after != key:
            return needs, (f"{parent.name} is an existing table: only its key `{key}` can "
                           "be read")
        here, rest = parent, rest_after


def check_field_reads(tables: Sequence[Table], out: Collector) -> None:
    """Names across tables resolve, the rules that name fields hold, no field cycle."""
    by_name = {t.name: t for t in tables}
    graph: dict[str, list[str]] = {}
    plain: set[tuple[str, str]] = set()  # same-row edges: table_section's cycles
    for table in tables:
        for f in table.fields:
            node = f"{table.name}.{f.name}"
            edges = graph.setdefault(node, [])
            # An expression's names are checked with their positions (expression_checks):
            # here they only make edges of the graph.
            derived = set(FIELD_TYPES[f.type].derives(f.params))
            for name in FIELD_TYPES[f.type].reads(f.params):
                if "." not in name:
                    edges.append(f"{table.name}.{name}")
                    plain.add((node, f"{table.name}.{name}"))
                    continue
                first = name.partition(".")[0]
                if first not in table.field_names or table.field(first).type != "reference":
                    continue  # table_section says so
                needs, why = resolve(by_name, table, name)
                if why and name in derived:
                    out.add(f"reads {name!r}: {why}", table.name, f.name)
                edges.extend(f"{t}.{n}" for t, n in needs)
            edges.extend(_rule_edges(by_name, table, f, out))
    for cycle in find_cycles(graph):
        if all((a, b) in plain for a, b in itertools.pairwise(cycle)):
            continue  # within one row: reported by the table's own check
        first_table, _, first_field = cycle[0].partition(".")
        out.add("fields read each other in a cycle: " + " -> ".join(cycle), first_table,
                first_field)


def _rule_edges(tables: Mapping[str, Table], table: Table, f: Field,
                out: Collector) -> list[str]:
    """Check a field's rules that name other fields; the nodes its values need beyond
    what its type's ``reads`` says."""
    def bad(message: str) -> None:
        out.add(message, table.name, f.name)

    if f.counted_by is not None:
        if not f.counted_by.startswith(f"{f.name}."):
            bad(f"per_parent = {f.counted_by!r}: a child count is a field of the parent, "
                f"named through this reference: per_parent = \"{f.name}.FIELD\"")
            return []
        needs, why = resolve(tables, table, f.counted_by)
        if why:
            bad(f"per_parent = {f.counted_by!r}: {why}")
        return [f"{t}.{n}" for t, n in needs[1:]]  # the first is this reference itself
    if f.walked_by is not None:
        _check_walk(table, f, bad)
        return []  # a path needs the parent's index only: no field's value
    if f.type == "lifecycle":
        tie = tie_of(table)
        of = f.params.get("of")
        if tie is None or tie.name != of:
            bad(f"of = {of!r} must name the reference that ties this table to its parent "
                f"by per_parent (a lifecycle walks one path per parent: per_parent = "
                f"\"{f.name}\" on that reference)")
        elif tie.walked_by != f.name:
            bad(f"of = {of!r}: each row of a parent holds one state of the parent's path, so "
                f"{of} must say per_parent = \"{f.name}\" (one row per state)")
        return []
    if f.type == "ordinal":
        tie = tie_of(table)
        if tie is None or tie.name != f.params.get("of"):
            bad(f"of = {f.params.get('of')!r} must name the reference that ties this table to "
                "its parent by per_parent (ordinal counts a parent's children: 1..n)")
        return []
    if f.type == "total":
        return _total_edges(tables, table, f, bad)
    if f.params.get("cumulative") is True:
        tie = tie_of(table)
        if tie is None:
            bad("cumulative = true steps from child to child of one parent: it needs a table "
                "tied to its parent by per_parent")
        elif not str(f.params.get("after", "")).startswith(f"{tie.name}."):
            bad(f"cumulative = true steps from the parent's value: after must name a field of "
                f"the parent, \"{tie.name}.FIELD\"")
        else:
            return [f"{table.name}.{tie.name}"]
    return []


def _check_walk(table: Table, f: Field, bad: Callable[[str], None]) -> None:
    """``per_parent = "STATE"``: a lifecycle field of this table, walked through ``f``."""
    name = f.walked_by
    walker = table.field(name) if name in table.field_names else None
    if walker is None or walker.type != "lifecycle":
        what = "no field" if walker is None else f"{name} is of type {walker.type}, not a lifecycle"
        bad(f"per_parent = {name!r}: {what} of {table.name}; per_parent takes [min, max], "
            f"a field of the parent (\"{f.name}.FIELD\") or a lifecycle field of this "
            f"table whose path gives each parent its rows")
    elif walker.params.get("of") != f.name:
        bad(f"per_parent = {name!r}: the lifecycle {name} must follow this reference: "
            f"of = \"{f.name}\"")


def _total_edges(tables: Mapping[str, Table], table: Table, f: Field,
                 bad: Callable[[str], None]) -> list[str]:
    """``of = "CHILD.FIELD"`` (or ``"CHILD"``): a child table tied to this one."""
    of = f.params.get("of")
    if not isinstance(of, str):
        return []
    child_name, dot, column = of.partition(".")
    child = tables.get(child_name)
    tie = tie_of(child) if child is not None else None
    if child is None or tie is None or tie.ref is None or tie.ref[0] != table.name:
        bad(f"of = {of!r}: a total reads the children of each row: {child_name!r} must be a "
            f"table tied to {table.name} by per_parent")
        return []
    if not dot:
        if f.params.get("function") not in (None, "count"):
            bad(f"of = {of!r} names no field: only function = \"count\" counts rows; name a "
                f"field to {f.params['function']} (of = \"{child_name}.FIELD\")")
        return [f"{child_name}.{tie.name}"]
    if column not in child.field_names:
        bad(f"of = {of!r}: table {child_name!r} has no field {column!r}")
        return []
    return [f"{child_name}.{column}", f"{child_name}.{tie.name}"]
