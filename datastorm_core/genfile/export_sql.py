"""An export's SQL read by PostgreSQL's own parser (pglast): its ``:name`` parameters,
whether it is one query, and the tables it reads.

Parameters are found among the scanner's tokens, never by a regular expression
over the text: a ``:state`` inside a string literal, a comment or a quoted
identifier is not a token of its own and stays text, and ``::`` is the cast
token. A ``:`` inside brackets is an array slice (``a[1:n]``), not a parameter.
The SQL is then rewritten with each parameter at its token's position, so the
text of a value never becomes SQL (see ``exports.query``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pglast import parse_sql
from pglast.parser import ParseError, scan

__all__ = ["ExportSql", "SqlProblem", "read_sql"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SqlProblem(ValueError):
    """The SQL of an export is not one query PostgreSQL can parse."""


@dataclass(frozen=True)
class ExportSql:
    """The SQL cut around its parameters: ``parts[0] p0 parts[1] p1 ... parts[n]``."""

    parts: tuple[str, ...]
    params: tuple[str, ...]  # the parameter at each place, in order (a name may repeat)
    tables: tuple[str, ...]  # tables (and views) read, as written (``schema.table`` or ``table``)

    @property
    def names(self) -> tuple[str, ...]:
        """Each parameter once, in order of first use."""
        return tuple(dict.fromkeys(self.params))

    def text(self, placeholder: str = "${n}") -> str:
        """The SQL with each parameter replaced by ``placeholder`` (``{n}``: 1-based place,
        ``{name}``: its name)."""
        out = [self.parts[0]]
        for n, (name, part) in enumerate(zip(self.params, self.parts[1:], strict=True), 1):
            out.append(placeholder.replace("{n}", str(n)).replace("{name}", name))
            out.append(part)
        return "".join(out)


def read_sql(sql: str) -> ExportSql:
    """Parameters and tables of one SELECT; raise SqlProblem saying what is wrong."""
    try:
        tokens = scan(sql)
    except ParseError as exc:
        raise SqlProblem(f"the SQL does not parse: {exc}") from None
    places: list[tuple[int, int, str]] = []  # (start, end exclusive, name), in characters
    depth = 0
    for i, token in enumerate(tokens):
        if token.name == "PARAM":  # $1: ours are placed by name; mixing would misnumber
            raise SqlProblem(f"write parameters as :name, not {sql[token.start:token.end + 1]}")
        if token.name == "ASCII_91":  # [
            depth += 1
        elif token.name == "ASCII_93":  # ]
            depth = max(0, depth - 1)
        elif token.name == "ASCII_58" and depth == 0 and i + 1 < len(tokens):
            following = tokens[i + 1]
            word = sql[following.start:following.end + 1]
            if following.start == token.end + 1 and _NAME.fullmatch(word):
                places.append((token.start, following.end + 1, word))
    parts: list[str] = []
    last = 0
    for start, end, _ in places:
        parts.append(sql[last:start])
        last = end
    parts.append(sql[last:])
    found = ExportSql(tuple(parts), tuple(p[2] for p in places), ())
    # Parsed with $n in place of the parameters: what the server will be given.
    try:
        statements = parse_sql(found.text())
    except ParseError as exc:
        raise SqlProblem(f"the SQL does not parse: {exc}") from None
    if len(statements) != 1:
        raise SqlProblem(f"the SQL must be one query, found {len(statements)} statements")
    statement = statements[0].stmt
    kind = type(statement).__name__
    if kind != "SelectStmt":
        raise SqlProblem(f"the SQL must be a query (SELECT, VALUES or WITH ... SELECT), "
                         f"found {kind.removesuffix('Stmt').upper() or kind}")
    if getattr(statement, "intoClause", None) is not None:
        raise SqlProblem("the SQL must be a query, not SELECT ... INTO")
    return ExportSql(found.parts, found.params, _tables_read(statement))


def _tables_read(statement: object) -> tuple[str, ...]:
    """Tables named in FROM clauses, minus the query's own CTEs."""
    from pglast import ast
    from pglast.visitors import Visitor

    ctes: set[str] = set()
    read: list[str] = []

    class _Walk(Visitor):  # type: ignore[misc]
        def visit_CommonTableExpr(self, ancestors: object, node: ast.CommonTableExpr) -> None:
            ctes.add(node.ctename)

        def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
            name = f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname
            read.append(name)

    _Walk()(statement)
    return tuple(dict.fromkeys(n for n in read if n not in ctes))
