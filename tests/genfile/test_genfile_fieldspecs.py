"""The language side of template, hash and word: parameters, reads, checks."""

from __future__ import annotations

import pytest

from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.fieldspecs import (
    Padding,
    TemplateError,
    TemplatePart,
    parse_template,
)
from datastorm_core.genfile.types import FIELD_TYPES, PLANNED_TYPES


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text, environ={})
    return caught.value.problems


HEAD = '[t.id]\ntype = "sequence"\n\n[t.first]\ntype = "first_name"\n\n'


def test_template_hash_and_word_are_available_types() -> None:
    for kind in ("template", "hash", "word"):
        assert kind in FIELD_TYPES and kind not in PLANNED_TYPES
    genfile = loads_genfile(HEAD + '[t.login]\ntype = "template"\ntemplate = "{first}.{id}"\n'
                            '[t.fp]\ntype = "hash"\nof = ["first", "login"]\nalgorithm = "md5"\n'
                            'length = 8\n[t.w]\ntype = "word"\ndictionary = "words.csv"\n'
                            'column = "w"\nweight_column = "n"\n', environ={})
    table = genfile.table("t")
    assert FIELD_TYPES["template"].reads(table.field("login").params) == ("first", "id")
    assert FIELD_TYPES["hash"].reads(table.field("fp").params) == ("first", "login")
    assert table.field("w").params == {"dictionary": "words.csv", "column": "w",
                                       "weight_column": "n"}


def test_an_unknown_field_in_a_template_is_a_problem_with_its_line() -> None:
    (p,) = problems_of(HEAD + '[t.login]\ntype = "template"\ntemplate = "{first}.{surname}"\n')
    assert (p.table, p.field, p.line) == ("t", "login", 7)
    assert p.message == "reads field 'surname', which table 't' does not have"


@pytest.mark.parametrize(
    ("spec", "message"),
    [('type = "template"', "type template needs `template`"),
     ('type = "template"\ntemplate = 3', "template must be a string, got 3"),
     ('type = "hash"', "type hash needs `of`"),
     ('type = "hash"\nof = ["first"]\nalgorithm = "crc32"',
      'algorithm must be one of sha256, md5, sha1, blake2b, got "crc32"'),
     ('type = "hash"\nof = ["first"]\nlength = "8"', 'length must be an integer, got "8"'),
     ('type = "word"', "type word needs `dictionary`"),
     ('type = "word"\ndictionary = "w.txt"\nweights = "n"',
      "unknown parameter 'weights' for type word; accepted: dictionary, column, weight_column")],
)
def test_parameters_are_checked_by_the_language(spec: str, message: str) -> None:
    (p,) = problems_of(HEAD + f"[t.x]\n{spec}\n")
    assert (p.table, p.field) == ("t", "x")
    assert p.message.startswith(message), p.message


def test_a_malformed_template_is_a_language_problem_with_its_line() -> None:
    (p,) = problems_of(HEAD + '[t.login]\ntype = "template"\ntemplate = "{first!r}"\n')
    assert (p.table, p.field, p.line) == ("t", "login", 7)
    assert "conversions" in p.message


# -- parse_template -------------------------------------------------------------


def test_a_template_is_literals_fields_and_paddings() -> None:
    assert parse_template("{{x}} {a}-{b:*>5}{c:03}{d:<2}{e:^4}.") == (
        TemplatePart("{x} ", "a"),
        TemplatePart("-", "b", Padding(5, ">", "*")),
        TemplatePart("", "c", Padding(3, "0", "0")),
        TemplatePart("", "d", Padding(2, "<", " ")),
        TemplatePart("", "e", Padding(4, "^", " ")),
        TemplatePart("."),
    )
    assert parse_template("") == ()
    assert parse_template("no fields") == (TemplatePart("no fields"),)


@pytest.mark.parametrize("template", ["{a.b}", "{a[0]}", "{a!s}", "{}", "{a", "}", "{a:x}",
                                      "{a:>}", "{a:,}", "{a:{w}}", "{a:>1001}"])
def test_anything_but_plain_fields_and_paddings_is_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(template)
    # The catalogue stays usable: a template it cannot parse reads nothing.
    assert FIELD_TYPES["template"].reads({"template": template}) == ()
    (message,) = FIELD_TYPES["template"].check({"template": template})
    assert repr(template) in message


def test_a_template_reads_each_field_once_in_order() -> None:
    reads = FIELD_TYPES["template"].reads
    assert reads({"template": "{b}{a}{b}{c}"}) == ("b", "a", "c")
    assert reads({"template": 12}) == ()
    assert FIELD_TYPES["template"].check({"template": "{a}"}) == ()


def test_hash_reads_its_of_and_checks_it() -> None:
    hash_type = FIELD_TYPES["hash"]
    assert hash_type.reads({"of": ["b", "a", "b", 3]}) == ("b", "a")
    assert hash_type.reads({"of": "a"}) == ()
    assert hash_type.check({"of": ["a"], "algorithm": "blake2b", "length": 128}) == ()
    assert hash_type.check({"of": ["a"], "algorithm": "blake2b", "length": 129}) == (
        "length must be between 1 and 128 for blake2b, got 129",)


def test_word_checks_its_dictionary() -> None:
    check = FIELD_TYPES["word"].check
    assert check({"dictionary": "w.csv", "column": "a", "weight_column": "b"}) == ()
    assert check({"dictionary": "w.txt"}) == ()
    assert check({"dictionary": " "}) == ("dictionary must be the path of a .txt or .csv file",)
    (message,) = check({"dictionary": "w.txt", "weight_column": "b"})
    assert message.startswith("weight_column applies only to a .csv dictionary")
