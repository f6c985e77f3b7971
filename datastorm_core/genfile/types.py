"""The field types of the Genfile language: their parameters and column types.

This is the language's catalogue, not the generators: it says which
parameters a type takes, which are required, what column type it makes
and which other fields of the row it reads. ``source.generators`` has one
generator per entry (a test checks that none is missing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from datastorm_core.core.schema import ColumnType
from datastorm_core.genfile import fieldspecs
from datastorm_core.genfile import type_checks as tc
from datastorm_core.genfile.expressions import KINDS, names_in
from datastorm_core.genfile.lifecycle import lifecycle_problems
from datastorm_core.genfile.plugins import PLUGIN_TYPE, plugin_problems
from datastorm_core.genfile.time_order import order_check, order_reads

__all__ = [
    "COMMON_PARAMS",
    "DISTRIBUTIONS",
    "FIELD_TYPES",
    "PLANNED_TYPES",
    "TOTALS",
    "FieldType",
    "Param",
    "choice_column_type",
    "expressions_of",
]

DISTRIBUTIONS = ("uniform", "normal", "zipf", "exponential")
# What a `total` computes over a parent's children.
TOTALS = ("sum", "count", "min", "max", "avg")
# In the contract, not in this version yet: refused with a message that says so.
PLANNED_TYPES: tuple[str, ...] = ()
COMMON_PARAMS = ("type", "null_rate", "unique", "primary_key", "description", "mutable",
                 "max_length", "when")


@dataclass(frozen=True)
class Param:
    """One parameter of a field type."""

    name: str
    kinds: tuple[type, ...]
    required: bool = False
    choices: tuple[Any, ...] | None = None

    def describe_kinds(self) -> str:
        names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
                 list: "an array", date: "a date", dict: "a table", time: "a time"}
        return " or ".join(dict.fromkeys(names[k] for k in self.kinds))


_NO_CHECK = tc.Check()  # a type whose parameters need nothing beyond their TOML types

#: Expressions of a field's parameters: (where, as messages name it; text).
Expressions = tuple[tuple[str, str], ...]


def _none(params: Mapping[str, Any]) -> tuple[str, ...]:
    return ()


def _no_expressions(params: Mapping[str, Any]) -> Expressions:
    return ()


@dataclass(frozen=True)
class FieldType:
    """A field type: its parameters, its column type and what it reads."""

    name: str
    params: tuple[Param, ...]
    column_type: ColumnType | None  # None: decided by parameters (choice, reference, expr)
    summary: str
    # The fields a value is built from, so that a NULL there is a NULL here (a template's
    # placeholders); the engine propagates those NULLs (source.table).
    derives: Callable[[Mapping[str, Any]], tuple[str, ...]] = _none
    # Problems of the parameters beyond their TOML types (type_checks: ranges, a
    # template's syntax), given the dataset's ``now`` for relative dates.
    check: tc.Check = _NO_CHECK
    # The type's own expressions (expr's `expr`, choice's `cases`); `when` is every type's.
    expressions: Callable[[Mapping[str, Any]], Expressions] = _no_expressions

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def reads(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """Every field a value reads, dotted names (``account_id.opened_at``) as written:
        what it derives from and the names of its expressions, `when` included. The
        evaluation order and the cycle checks follow these."""
        names = list(self.derives(params))
        for _, text in expressions_of(self, params):
            names.extend(names_in(text))
        return tuple(dict.fromkeys(names))


def expressions_of(ftype: FieldType, params: Mapping[str, Any]) -> Expressions:
    """The expressions of a field: its type's own, then its `when`."""
    when = params.get("when")
    return (*ftype.expressions(params), *((("when", when),) if isinstance(when, str) else ()))


def _expr_expressions(params: Mapping[str, Any]) -> Expressions:
    text = params.get("expr")
    return (("expr", text),) if isinstance(text, str) else ()


def _cases_expressions(params: Mapping[str, Any]) -> Expressions:
    """Each case's `when`, named as the Genfile counts them (cases[1] is the first)."""
    cases = params.get("cases")
    if not isinstance(cases, list):
        return ()
    return tuple((f"cases[{i}].when", case["when"]) for i, case in enumerate(cases, start=1)
                 if isinstance(case, dict) and isinstance(case.get("when"), str))


_NUM = (int, float)
_DIST = Param("distribution", (str,), choices=DISTRIBUTIONS)
_NUMERIC_SHAPE = (Param("mean", _NUM), Param("stddev", _NUM), Param("exponent", _NUM))
_LOCALE = Param("locale", (str,))
# A date or timestamp after or before another field (genfile.time_order): its mean and
# stddev are then durations of the gap.
_ORDER = (Param("after", (str,)), Param("before", (str,)), Param("gap", (list,)),
          Param("within", (str, int)), Param("cumulative", (bool,)))
_MOMENT_SHAPE = (Param("mean", (*_NUM, str)), Param("stddev", (*_NUM, str)),
                 Param("exponent", _NUM))
_WHEN = (str, date)  # TOML dates and datetimes (datetime is a date subclass)
# Words of `datastorm stream` (genfile.streaming gives their rules).
_ON_UPDATE = Param("on_update", (str,), choices=("now",))


def _reads_from(params: Mapping[str, Any]) -> tuple[str, ...]:
    source = params.get("from")
    return (source,) if isinstance(source, str) else ()


def _reads_of(params: Mapping[str, Any]) -> tuple[str, ...]:
    """A field that follows its row's tie (``of = "REF"``) reads the reference."""
    of = params.get("of")
    return (of,) if isinstance(of, str) else ()


FIELD_TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType("sequence", (Param("start", (int,)), Param("step", (int,))),
                  ColumnType.BIGINT, "start + step * row index", check=tc.checks(tc.sequence)),
        FieldType("int", (Param("min", (int,)), Param("max", (int,)), _DIST, *_NUMERIC_SHAPE),
                  ColumnType.BIGINT, "an integer in [min, max]",
                  check=tc.checks(tc.bounds("int"), tc.shape)),
        FieldType("float", (Param("min", _NUM), Param("max", _NUM), Param("scale", (int,)), _DIST,
                            *_NUMERIC_SHAPE),
                  ColumnType.DOUBLE, "a floating-point number in [min, max]",
                  check=tc.checks(tc.bounds("float"), tc.shape, tc.floating)),
        FieldType("decimal", (Param("min", _NUM), Param("max", _NUM), Param("scale", (int,)),
                              Param("precision", (int,)), _DIST, *_NUMERIC_SHAPE),
                  ColumnType.NUMERIC, "an exact decimal in [min, max] with `scale` places",
                  check=tc.checks(tc.bounds("decimal"), tc.shape, tc.decimal)),
        FieldType("bool", (Param("probability", _NUM),), ColumnType.BOOLEAN,
                  "true with `probability`", check=tc.checks(tc.boolean)),
        FieldType("choice", (Param("values", (list,), required=True), Param("weights", (list,)),
                             Param("transitions", (dict,)), Param("cases", (list,))),
                  None, "one of `values`, weighted by `weights` (or by the first case that holds)",
                  check=tc.checks(tc.choice, tc.cases), expressions=_cases_expressions),
        FieldType("string", (Param("pattern", (str,)), Param("length", (int, list)),
                             Param("chars", (str,))),
                  ColumnType.TEXT, "a string from a pattern or of a length",
                  check=tc.checks(tc.string)),
        FieldType("uuid", (), ColumnType.UUID, "a version-4-shaped UUID, deterministic"),
        FieldType("date", (Param("start", _WHEN), Param("end", _WHEN), _DIST, *_MOMENT_SHAPE,
                           _ON_UPDATE, *_ORDER),
                  ColumnType.DATE, "a date in [start, end], or after/before another field",
                  derives=order_reads,
                  check=tc.checks(tc.shape, tc.moments, order_check(86_400))),
        FieldType("timestamp", (Param("start", _WHEN), Param("end", _WHEN), _DIST,
                                *_MOMENT_SHAPE, _ON_UPDATE, *_ORDER),
                  ColumnType.TIMESTAMP,
                  "a timestamp (seconds) in [start, end], or after/before another field",
                  derives=order_reads, check=tc.checks(tc.shape, tc.moments, order_check(1))),
        FieldType("name", (_LOCALE,), ColumnType.TEXT, "a full name from the locale"),
        FieldType("first_name", (_LOCALE,), ColumnType.TEXT, "a first name from the locale"),
        FieldType("last_name", (_LOCALE,), ColumnType.TEXT, "a last name from the locale"),
        FieldType("email", (Param("from", (str,)), Param("domain", (str, list)), _LOCALE),
                  ColumnType.TEXT, "an e-mail address, derived from a name field with `from`",
                  derives=_reads_from, check=tc.checks(tc.email)),
        FieldType("reference", (Param("ref", (str,), required=True),
                                Param("distribution", (str,), choices=("uniform", "zipf")),
                                Param("exponent", _NUM), Param("per_parent", (list, str)),
                                Param("root_rate", _NUM),
                                Param("on_delete", (str,), choices=("restrict", "cascade")),
                                Param("same_row_as", (str,)), Param("deferred", (bool,))),
                  None, "a foreign key: a value of the parent's key",
                  derives=lambda p: (p["same_row_as"],) if isinstance(p.get("same_row_as"), str)
                  else (), check=tc.checks(tc.shape, tc.reference)),
        FieldType("cpf", (Param("formatted", (bool,)),), ColumnType.TEXT,
                  "a CPF with valid check digits: XXX.XXX.XXX-XX"),
        FieldType("cnpj", (Param("formatted", (bool,)),), ColumnType.TEXT,
                  "a CNPJ with valid check digits: XX.XXX.XXX/XXXX-XX"),
        FieldType("cep", (Param("formatted", (bool,)), Param("state", (str,))), ColumnType.TEXT,
                  "a CEP (XXXXX-XXX) in a state's range, of the row's `state` field if set",
                  derives=lambda p: (p["state"],) if isinstance(p.get("state"), str) else ()),
        FieldType("phone", (Param("format", (str,), choices=("international", "national",
                                                               "digits", "e164")),
                            Param("line", (str,), choices=("mobile", "fixed")),
                            Param("state", (str,)), _LOCALE), ColumnType.TEXT,
                  "a valid mobile or fixed number of the locale's country: +55 11 91234-5678",
                  derives=lambda p: (p["state"],) if isinstance(p.get("state"), str) else ()),
        FieldType("postcode", (Param("state", (str,)), _LOCALE), ColumnType.TEXT,
                  "a postcode of the locale's country, in the row's `state` where codes "
                  "follow states", derives=lambda p: (p["state"],)
                  if isinstance(p.get("state"), str) else ()),
        FieldType("state", (Param("format", (str,), choices=("code", "name")), _LOCALE),
                  ColumnType.TEXT, "a state (pt_BR: UF code or name, by population)"),
        FieldType("city", (Param("state", (str,)), _LOCALE), ColumnType.TEXT,
                  "a real city (pt_BR: a municipality by population, in the row's `state`)",
                  derives=lambda p: (p["state"],) if isinstance(p.get("state"), str) else ()),
        FieldType("address", (Param("complement", _NUM),
                              Param("parts", (str,), choices=("full", "street")), _LOCALE),
                  ColumnType.TEXT, "a street line, real city, state and postcode in the "
                  "country's order (pt_BR: the street line, Rua Francisco Souza, 123)"),
        FieldType("company", (_LOCALE,), ColumnType.TEXT,
                  "a company name from the locale's formats: Souza Ltda."),
        FieldType("text", (Param("words", (int, list)), _LOCALE), ColumnType.TEXT,
                  "sentences of the locale's lorem words, `words = [min, max]`"),
        FieldType("template", (Param("template", (str,), required=True),), ColumnType.TEXT,
                  "a string built from fields of the same row: \"{first}.{last}\"",
                  derives=fieldspecs.template_reads,
                  check=tc.checks(tc.params_only(fieldspecs.template_problems))),
        FieldType("hash", (Param("of", (list,), required=True),
                           Param("algorithm", (str,), choices=tuple(fieldspecs.HASH_ALGORITHMS)),
                           Param("length", (int,))),
                  ColumnType.TEXT, "hex digest of the fields listed in `of`",
                  derives=fieldspecs.hash_reads,
                  check=tc.checks(tc.params_only(fieldspecs.hash_problems))),
        FieldType("word", (Param("dictionary", (str,), required=True), Param("column", (str,)),
                           Param("weight_column", (str,))),
                  ColumnType.TEXT, "a value from a user dictionary file (.txt or .csv)",
                  check=tc.checks(tc.params_only(fieldspecs.word_problems))),
        # Text in the input syntax of a PostgreSQL type (the generator's `syntax`), to fill
        # an application's json, array, inet, interval, bytea and time columns.
        FieldType("json", (Param("of", (list,)), Param("keys", (int, list)), _LOCALE),
                  ColumnType.TEXT, "a JSON object: the fields listed in `of`, or lorem keys",
                  derives=fieldspecs.json_reads, check=tc.checks(tc.json_object)),
        FieldType("array", (Param("values", (list,)), Param("element", (str,),
                                                            choices=("word", "int")),
                            Param("min", (int,)), Param("max", (int,)),
                            Param("length", (int, list)), _LOCALE),
                  ColumnType.TEXT, "a PostgreSQL array literal: {Trailers,\"Deleted Scenes\"}",
                  check=tc.checks(tc.array)),
        FieldType("ip", (Param("version", (int,), choices=(4, 6)),), ColumnType.TEXT,
                  "an IPv4 (or IPv6) address: 203.0.113.7"),
        FieldType("interval", (Param("min", (int, str)), Param("max", (int, str))),
                  ColumnType.TEXT, "a duration in [min, max] as PostgreSQL writes it: 2 days "
                  "03:00:00", check=tc.checks(tc.interval)),
        FieldType("bytes", (Param("length", (int, list)),), ColumnType.TEXT,
                  "random bytes in PostgreSQL's hex bytea text: \\x0a1bff",
                  check=tc.checks(tc.byte_string)),
        FieldType("time", (Param("start", (str, time)), Param("end", (str, time))),
                  ColumnType.TEXT, "a time of day (seconds) in [start, end]: 08:30:00",
                  check=tc.checks(tc.time_of_day)),
        # Fields that follow a parent's children (per_parent): genfile.field_reads checks
        # what they name, source.generators.children makes them.
        FieldType("ordinal", (Param("of", (str,), required=True), Param("start", (int,))),
                  ColumnType.BIGINT, "the row's place among its parent's children: 1..n",
                  derives=_reads_of),
        FieldType("total", (Param("of", (str,), required=True),
                            Param("function", (str,), required=True, choices=TOTALS)),
                  None, "a sum, count, min, max or avg of a field of the row's children"),
        # An event log: each parent's rows walk a path through states (genfile.lifecycle).
        FieldType("lifecycle", (Param("of", (str,), required=True), Param("initial", (str,)),
                                Param("transitions", (dict,), required=True),
                                Param("max_steps", (int,))),
                  ColumnType.TEXT, "one state per row of a path drawn per parent: an event log",
                  derives=_reads_of, check=tc.checks(lifecycle_problems)),
        # Typed against the fields it reads: validation checks it (expression_checks), and
        # its column type follows from `as` or from the expression (expression_scope).
        FieldType("expr", (Param("expr", (str,), required=True),
                           Param("as", (str,), choices=tuple(k for k in KINDS if k != "interval")),
                           Param("scale", (int,))),
                  None, "a value computed from fields of the row: quantity * unit_price",
                  check=tc.checks(tc.expr_result), expressions=_expr_expressions),
        # A generator of the user's own (genfile.plugins): the Genfile writes its name as
        # the type, validation turns it into this one, its name and parameters carried as
        # `generator` and `options`; its column type is what the generator declares.
        FieldType(PLUGIN_TYPE, (), None,
                  "a generator written in Python: type = \"my_pkg.gens:Iban\" or an entry "
                  "point's name (docs/plugins.md)",
                  check=tc.checks(tc.params_only(plugin_problems))),
    )
}


def choice_column_type(values: list[Any]) -> ColumnType:
    """Column type of a choice: the narrowest type that holds every value."""
    if all(isinstance(v, bool) for v in values):
        return ColumnType.BOOLEAN
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return ColumnType.BIGINT
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return ColumnType.DOUBLE
    return ColumnType.TEXT
