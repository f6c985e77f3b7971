"""The expression language: what parses, what is refused (and where), and the types.

Names are typed by the scope of a table of one field per type; what else a
Genfile refuses (and where it says so) is test_genfile_rules.py's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.expression_scope import TableScope
from datastorm_core.genfile.expressions import (
    FUNCTIONS,
    ExpressionError,
    ExprType,
    check,
    names_in,
    parse,
    position,
)
from datastorm_core.genfile.expressions.parse import MAX_DEPTH, MAX_LENGTH
from datastorm_core.genfile.expressions.tree import (
    BOOL,
    DATE,
    FLOAT,
    INT,
    TEXT,
    TIMESTAMP,
    Compare,
    Convert,
    Literal,
    Logical,
    decimal,
    interval,
)

NOW = datetime(2026, 1, 1, 12, 30, 15)
# A field of each type the tests read, and a reference for a dotted name.
GENFILE = loads_genfile("""
[dataset]
now = "2026-01-01T12:30:15"

[account]
id = { type = "sequence" }
opened_at = { type = "timestamp" }

[t]
n = { type = "int" }
m = { type = "int" }
x = { type = "float" }
price = { type = "decimal", scale = 2 }
rate = { type = "decimal", scale = 4 }
d = { type = "date" }
ts = { type = "timestamp" }
flag = { type = "bool" }
name = { type = "first_name" }
account_id = { type = "reference", ref = "account.id" }
""", environ={})
SCOPE = TableScope({t.name: t for t in GENFILE.tables}, "t", None, GENFILE.dataset.now)


def typed(text: str) -> ExprType:
    tree = check(parse(text), SCOPE)
    assert tree.type is not None
    return tree.type


def refused(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        check(parse(text), SCOPE)
    return caught.value


# -- what is refused, with where -----------------------------------------------------------

@pytest.mark.parametrize(("text", "words", "column"), [
    ("qty * 2", "unknown name 'qty'", 1),
    ("n + qty", "unknown name 'qty'", 5),
    ("n[0]", "subscripts", 1),
    ("(lambda: 1)()", "only the language's functions", 1),
    ("[v for v in name]", "comprehensions", 1),
    ("f'{n}'", "f-strings", 1),
    ("n.real", "'n' is not a reference", 1),
    ("name.upper()", "only the language's functions", 1),
    ("(n + 1).bit_length", "attributes are not part", 1),
    ("__import__('os')", "unknown function '__import__'", 1),
    ("eval('1')", "unknown function 'eval'", 1),
    ("round(x, ndigits=2)", "no keyword arguments", 10),
    ("max(*[n, m])", "* and ** arguments", 5),
    ("{n: 1}", "dictionaries", 1),
    ("{n}", "sets", 1),
    ("(n, m)", "tuples", 1),
    ("n if (m := 2) else 1", "assignments", 7),
    ("n & m", "bit operators", 3),
    ("~n", "~ is not part", 1),
    ("n is m", "`is` is not part", 6),
    ("None", "None is not part", 1),
    ("b'x'", "bytes constants", 1),
    ("1j", "complex constants", 1),
    ("n +", "syntax error", 4),
    ("n + * m", "syntax error", 5),
    ("", "empty", 1),
    ("n in m", "`in` takes a list", 6),
    ("n in []", "is empty", 6),
    ("round", "round is a function", 1),
    ("   qty", "unknown name 'qty'", 4),
    ("name == 'ação' and qty", "unknown name 'qty'", 20),  # characters, not UTF-8 bytes
])
def test_refused_with_what_and_where(text: str, words: str, column: int) -> None:
    error = refused(text)
    assert words in error.message
    assert position(text, error.at) == f"column {column}"


def test_a_position_in_a_multi_line_expression_has_its_line() -> None:
    text = "n +\n  qty"
    error = refused(text)
    assert position(text, error.at) == "line 2, column 3"


def test_too_long_or_too_deep_is_refused_not_crashed() -> None:
    assert "longer than" in refused("1 + " * (MAX_LENGTH // 4) + "1").message
    assert "nested" in refused("-" * (MAX_DEPTH + 5) + "n").message
    assert "nested" in refused("abs(" * (MAX_DEPTH + 5) + "n" + ")" * (MAX_DEPTH + 5)).message
    assert refused("(" * 300 + "n" + ")" * 300).message  # Python's parser's own limit
    assert refused("-" * 3999 + "1").message


# -- types ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("n + m", INT), ("n * 2", INT), ("n / m", FLOAT), ("n // m", INT), ("n % m", INT),
    ("n ** 2", FLOAT), ("n + x", FLOAT), ("-n", INT), ("+x", FLOAT),
    ("price + n", decimal(2)), ("price * n", decimal(2)), ("price * rate", decimal(6)),
    ("price + rate", decimal(4)), ("price / n", FLOAT), ("price // n", INT),
    ("price % 3", decimal(2)), ("price * 1.10", decimal(4)), ("price * 1.1e0", FLOAT),
    ("1.5", decimal(1)), ("round(price)", INT), ("round(price, 1)", decimal(1)),
    ("round(price, 5)", decimal(2)), ("round(x, 2)", FLOAT), ("round(x)", INT),
    ("floor(price)", INT), ("ceil(x)", INT), ("abs(price)", decimal(2)),
    ("min(n, price)", decimal(2)), ("max(n, x, price)", FLOAT), ("min(d, ts)", TIMESTAMP),
    ("max(name, 'z')", TEXT), ("coalesce(n, 0)", INT), ("coalesce(d, ts)", TIMESTAMP),
    ("d + days(3)", DATE), ("d + months(n)", DATE), ("years(1) + d", DATE),
    ("d + hours(2)", TIMESTAMP), ("ts - days(1)", TIMESTAMP), ("d - d", INT),
    ("ts - d", interval(False, False)), ("days(2) * n", interval(False, True)),
    ("n * months(1)", interval(True, True)), ("date(ts)", DATE), ("year(d)", INT),
    ("month(ts)", INT), ("day(d)", INT), ("age(d, now)", INT), ("now", TIMESTAMP),
    ("text(price)", TEXT), ("concat(name, n, d)", TEXT), ("lower(name)", TEXT),
    ("name + '!'", TEXT), ("n > 3", BOOL), ("1 < n <= m", BOOL), ("d < ts", BOOL),
    ("ts - d > hours(1)", BOOL), ("flag and not flag or n == 2", BOOL),
    ("n in [1, 2]", BOOL), ("name not in ['a']", BOOL), ("n if flag else x", FLOAT),
    ("true", BOOL), ("False", BOOL), ("account_id.opened_at + days(1)", TIMESTAMP),
])
def test_types(text: str, expected: ExprType) -> None:
    assert typed(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("d + 1", "a number of what? write days(n)"),
    ("ts + 1", "write days(n), hours(n)"),
    ("name + 1", "cannot combine text and int"),
    ("n and flag", "and needs a condition"),
    ("not n", "not needs a condition"),
    ("n if name else 1", "if needs a condition"),
    ("n if flag else name", "mixes int and text"),
    ("n == name", "mixes int and text"),
    ("flag < flag", "true and false have no order"),
    ("months(1) > days(30)", "intervals holding months"),
    ("days(x)", "days(n) takes a whole number"),
    ("round(x, n)", "written as it is"),
    ("round(x, 19)", "from 0 to 18"),
    ("round(name)", "round() takes numbers"),
    ("lower(n)", "lower() takes text"),
    ("year(n)", "year() takes a date or a timestamp"),
    ("min(flag, flag)", "min() takes numbers, dates"),
    ("min(n)", "min() takes at least 2 arguments, got 1"),
    ("round(x, 1, 2)", "round() takes 1 or 2 arguments, got 3"),
    ("age(d)", "age() takes 2 arguments, got 1"),
    ("text(days(1))", "cannot write an interval"),
    ("9223372036854775808", "does not fit a 64-bit integer"),
    ("-months(1) in [days(1)]", "intervals holding months"),
])
def test_type_errors(text: str, words: str) -> None:
    assert words in refused(text).message


def test_a_negative_literal_is_one_constant_even_the_smallest_int64() -> None:
    tree = check(parse("-9223372036854775808"), SCOPE)
    assert isinstance(tree, Literal) and tree.value == -(2**63)


def test_now_is_the_anchor_and_decimals_are_exact_literals() -> None:
    tree = check(parse("now"), SCOPE)
    assert isinstance(tree, Literal) and tree.value == NOW
    literal = check(parse("1.10"), SCOPE)
    assert isinstance(literal, Literal) and literal.value == Decimal("1.10")


def test_conversions_are_nodes_of_their_own() -> None:
    tree = check(parse("price + n"), SCOPE)
    assert isinstance(tree.right, Convert) and tree.right.type == decimal(2)  # type: ignore
    chained = check(parse("1 < n <= x"), SCOPE)
    assert isinstance(chained, Logical)
    assert all(isinstance(p, Compare) for p in chained.operands)


def test_names_in_gives_each_field_once_dotted_as_written_without_now() -> None:
    text = "n + account_id.opened_at.year_x + n if flag and ts < now else m"
    assert names_in(text) == ("n", "account_id.opened_at.year_x", "flag", "ts", "m")
    assert names_in("n +") == ()


def test_a_field_named_like_a_function_is_read_where_it_is_not_called() -> None:
    # An admission's `days`: the field where it is a name, the function where it is called.
    genfile = loads_genfile("""
[stay]
admitted_at = { type = "timestamp" }
days = { type = "int", min = 1, max = 60 }
year = { type = "int" }
""", environ={})
    scope = TableScope({t.name: t for t in genfile.tables}, "stay", None, NOW)
    assert check(parse("admitted_at + days(days)"), scope).type == TIMESTAMP
    assert check(parse("year(admitted_at) - year"), scope).type == INT
    assert names_in("admitted_at + days(days)") == ("admitted_at", "days")
    # Without such a field, the name alone is still the function, said as before.
    with pytest.raises(ExpressionError, match=r"days is a function: write days\(n\)"):
        check(parse("ts + days"), SCOPE)


def test_every_function_is_documented_with_its_usage() -> None:
    for name, function in FUNCTIONS.items():
        assert function.usage.startswith(name + "(")
        assert function.summary


def test_nothing_of_an_expression_is_run_as_python() -> None:
    """The language and its evaluator only read the text with ast.parse: no eval, exec or
    compile anywhere in them (ast.parse compiles to a tree only)."""
    root = Path(__file__).resolve().parents[2] / "datastorm_core"
    modules = [*(root / "genfile" / "expressions").glob("*.py"),
               root / "genfile" / "expression_scope.py", root / "genfile" / "expression_checks.py",
               *(root / "source" / "services").glob("expr_*.py"),
               root / "source" / "services" / "evaluate.py",
               root / "source" / "generators" / "expr.py"]
    for module in modules:
        code = module.read_text(encoding="utf-8")
        for call in ("eval(", "exec(", "compile(", "__import__(", "importlib"):
            assert call not in code.replace("ast.parse(", ""), (module.name, call)
