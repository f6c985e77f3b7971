"""`expr`, `when` and `cases` in a Genfile: what validation refuses (table, field, line,
where in the expression), what names mean (dotted ones too) and what fields read."""

from __future__ import annotations

import pytest

from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import Genfile, loads_genfile
from datastorm_core.genfile.expression_scope import TableScope
from datastorm_core.genfile.expressions import ExprType
from datastorm_core.genfile.expressions.tree import DATE, INT, TEXT, TIMESTAMP, decimal
from datastorm_core.genfile.types import FIELD_TYPES

BANK = """
[dataset]
now = "2026-01-01"

[customer]
id = { type = "sequence" }
birth_date = { type = "date" }
code = { type = "string", pattern = "C-9999", unique = true }

[account]
id = { type = "sequence" }
customer_id = { type = "reference", ref = "customer.id" }
opened_at = { type = "timestamp" }
limit = { type = "decimal", scale = 3 }
level = { type = "choice", values = [1, 2, 3] }
doubled = { type = "expr", expr = "level * 2.5" }

[tx]
id = { type = "sequence" }
account_id = { type = "reference", ref = "account.id" }
amount = { type = "decimal", scale = 2 }
kind = { type = "choice", values = ["debit", "credit"] }
"""


def load(extra: str = "") -> Genfile:
    return loads_genfile(BANK + extra, environ={})


def problems(extra: str) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        load(extra)
    return caught.value.problems


def one(extra: str) -> Problem:
    found = problems(extra)
    assert len(found) == 1, found
    return found[0]


def scope(genfile: Genfile, table: str = "tx") -> TableScope:
    return TableScope({t.name: t for t in genfile.tables}, table, None, genfile.dataset.now)


# -- names and their types -----------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("amount", decimal(2)), ("kind", TEXT), ("account_id", INT),
    ("account_id.opened_at", TIMESTAMP), ("account_id.limit", decimal(3)),
    ("account_id.level", INT), ("account_id.doubled", decimal(1)),
    ("account_id.customer_id", INT), ("account_id.customer_id.birth_date", DATE),
    ("account_id.customer_id.code", TEXT),
])
def test_the_type_of_a_name_follows_the_field_it_names(name: str, expected: ExprType) -> None:
    assert scope(load()).type_of(name) == expected


def test_an_expr_with_as_has_that_type_and_a_reference_its_keys() -> None:
    genfile = load('[tx.due]\ntype = "expr"\nexpr = "account_id.opened_at"\nas = "date"\n'
                   '[tx.cents]\ntype = "expr"\nexpr = "amount * 100"\nas = "decimal"\n'
                   'scale = 0\n')
    assert scope(genfile).type_of("due") == DATE
    assert scope(genfile).type_of("cents") == decimal(0)


@pytest.mark.parametrize(("expr", "message"), [
    ("amount.x", "expr: 'amount' is not a reference: a dot reads a field of the row a "
                 "reference points at (amount.FIELD needs amount to be a reference) at column 1"),
    ("2 * account_id.nope", "expr: unknown name 'account_id.nope': table 'account' has no such "
                            "field at column 5"),
    ("account_id.opened_at.year", "expr: 'account_id.opened_at' is not a reference"),
    ("acount_id.opened_at", "expr: unknown name 'acount_id' at column 1"),
    ("account_id.customer_id.nope", "has no such field"),
    ("amount + account_id.opened_at", "expr: + cannot combine decimal(2) and timestamp: a "
                                      "number of what? write days(n), hours(n)... at column 1"),
    ("account_id.opened_at + 1", "a number of what? write days(n), hours(n)..."),
    ("total", "the expression reads 'total', the field it belongs to"),
    ("days(1)", "an interval is no column's value"),
])
def test_expression_errors_name_table_field_line_and_column(expr: str, message: str) -> None:
    problem = one(f'[tx.total]\ntype = "expr"\nexpr = "{expr}"\n')
    assert message in problem.message
    assert (problem.table, problem.field, problem.line) == ("tx", "total", BANK.count("\n") + 1)


def test_an_existing_parent_gives_only_its_key() -> None:
    text = BANK.replace("[customer]\n", "[customer]\nexisting = true\n")
    text = text.replace('birth_date = { type = "date" }\n', "")
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text + '[account.born]\ntype = "expr"\nexpr = "customer_id.code"\n',
                      environ={})  # code is unique, not the key the reference reads
    assert "customer is an existing table: only its key `id` can be read" in \
        caught.value.problems[0].message
    loads_genfile(text + '[account.twice]\ntype = "expr"\nexpr = "customer_id.id * 2"\n',
                  environ={})


@pytest.mark.parametrize(("extra", "message"), [
    ('[tx.t]\ntype = "expr"\nexpr = "kind"\nas = "int"\n',
     "expr: the expression makes text, which cannot be made int at column 1"),
    ('[tx.t]\ntype = "expr"\nexpr = "amount"\nas = "date"\n', "makes decimal(2), which cannot"),
    ('[tx.t]\ntype = "expr"\nexpr = "amount"\nas = "interval"\n', "as must be one of"),
    ('[tx.t]\ntype = "expr"\nexpr = "amount"\nscale = 19\n', "scale must be between 0 and 18"),
    ('[tx.t]\ntype = "expr"\nexpr = "kind"\nscale = 2\n',
     "scale goes with a decimal, and the expression makes text: add as = \"decimal\""),
    ('[tx.t]\ntype = "expr"\nexpr = "amount"\nas = "int"\nscale = 2\n',
     "scale goes with a decimal result, and as = \"int\": remove scale"),
    ('[tx.t]\ntype = "expr"\n', "type expr needs `expr`"),
    ('[tx.t]\ntype = "expr"\nexpr = ""\n', "expr: the expression is empty"),
    ('[tx.t]\ntype = "int"\nwhen = "kind"\n',
     "when: a condition must be true or false, and this is text"),
    ('[tx.t]\ntype = "int"\nwhen = 3\n', "when must be a condition (a string)"),
    ('[tx.t]\ntype = "int"\nwhen = "kind == \'debit\' and"\n', "when: syntax error"),
    ('[tx.id2]\ntype = "sequence"\nprimary_key = true\nwhen = "amount > 0"\n',
     "a primary key cannot be NULL: remove when"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\nweights = [1, 1]\n'
     'cases = [{ weights = [1, 1] }]\n', "give weights in each case, or weights alone"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = []\n', "cases cannot be empty"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [{ weights = [1, 1] }, '
     '{ when = "amount > 0", weights = [1, 0] }]\n', "only the last case may go without when"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [{ when = "amount > 0" }]\n',
     "cases[1] needs weights"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [{ when = "amount > 0", '
     'weights = [1] }]\n', "cases[1]: weights and values must have as many entries"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [{ when = "amount > 0", '
     'weights = [0, 0] }]\n', "cases[1]: weights must be non-negative numbers"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [{ when = "amount > 0", '
     'weights = [1, 1], then = 2 }]\n', "cases[1]: unknown key 'then'"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [3]\n', "cases[1] must be a table"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [{ when = "amount", '
     'weights = [1, 1] }]\n', "cases[1].when: a condition must be true or false"),
    ('[tx.t]\ntype = "choice"\nvalues = ["a", "b"]\ncases = [{ when = 1, weights = [1, 1] }]\n',
     "cases[1].when must be an expression"),
])
def test_refusals(extra: str, message: str) -> None:
    found = problems(extra)
    assert any(message in p.message for p in found), found


def test_when_on_a_reference_tied_by_per_parent_is_refused() -> None:
    problem = one('[line.id]\ntype = "sequence"\n[line.tx_id]\ntype = "reference"\n'
                  'ref = "tx.id"\nper_parent = [1, 3]\nwhen = "id > 3"\n')
    assert problem.message == "with per_parent every row has its parent: remove when"


def test_every_problem_is_listed_at_once() -> None:
    found = problems('[tx.a]\ntype = "expr"\nexpr = "qty"\n[tx.b]\ntype = "int"\n'
                     'when = "qty > 1"\n[tx.c]\ntype = "choice"\nvalues = [1]\n'
                     'cases = [{ when = "nope", weights = [1] }]\n')
    assert [(p.field, p.message) for p in found] == [
        ("a", "expr: unknown name 'qty' at column 1"),
        ("b", "when: unknown name 'qty' at column 1"),
        ("c", "cases[1].when: unknown name 'nope' at column 1")]


def test_a_cycle_of_exprs_is_reported_once_as_a_cycle() -> None:
    found = problems('[tx.a]\ntype = "expr"\nexpr = "b + 1"\n'
                     '[tx.b]\ntype = "int"\nwhen = "a > 2"\n')
    assert [p.message for p in found] == ["fields are derived from each other in a cycle: "
                                          "a -> b -> a"]


def test_a_field_reading_an_expr_with_an_error_reports_only_that_error() -> None:
    found = problems('[tx.a]\ntype = "expr"\nexpr = "qty"\n[tx.b]\ntype = "expr"\n'
                     'expr = "a + 1"\n')
    assert [(p.field, p.message) for p in found] == [("a", "expr: unknown name 'qty' at column 1")]


# -- what a field reads --------------------------------------------------------------------

def test_reads_gives_the_names_of_expr_when_and_cases_dotted_ones_as_written() -> None:
    expr = FIELD_TYPES["expr"]
    params = {"expr": "amount * account_id.customer_id.birth_date + amount", "when": "kind == 'x'"}
    assert expr.reads(params) == ("amount", "account_id.customer_id.birth_date", "kind")
    assert expr.derives(params) == ()
    choice = FIELD_TYPES["choice"]
    cases = {"values": [1, 2], "cases": [{"when": "account_id.opened_at > now", "weights": [1, 0]},
                                          {"when": "kind == 'a'", "weights": [0, 1]},
                                          {"weights": [1, 1]}]}
    assert choice.reads(cases) == ("account_id.opened_at", "kind")
    template = FIELD_TYPES["template"]
    assert template.reads({"template": "{a}-{b}", "when": "c > 1"}) == ("a", "b", "c")
    assert template.derives({"template": "{a}-{b}", "when": "c > 1"}) == ("a", "b")


def test_a_field_read_in_when_cannot_change_on_update() -> None:
    found = problems('[tx.fee]\ntype = "int"\nwhen = "kind == \'debit\'"\n'
                     'mutable = true\n').copy()
    assert any("a field derived from other fields cannot be mutable" in p.message
               for p in found)
