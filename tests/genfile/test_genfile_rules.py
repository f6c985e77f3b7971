"""The rules' language (issue 15): what validation refuses, each with table, field and line;
and what only the generators can refuse (``run.check``): no room, a child count out of
range."""

from __future__ import annotations

from pathlib import Path

import pytest

from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import loads_genfile
from datastorm_core.loading import sized
from datastorm_core.run import check

# A customer born 20 to 60 years ago (at most 2006-01-01), with 0 to 3 kids.
PARENT = (Path(__file__).resolve().parents[1] / "fixtures" / "customers.toml").read_text(
    encoding="utf-8")


# A table o with a reference c to the customer, untied or tied to it.
REF = '[o.c]\ntype = "reference"\nref = "customer.id"\n'
TIED = REF + 'per_parent = [1, 2]\n'
# o's date, or timestamp, at a gap from another field: its parameters follow.
DATE = REF + '[o.at]\ntype = "date"\n'
MOMENT = REF + '[o.at]\ntype = "timestamp"\n'


def problems(text: str) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        check(loads_genfile(PARENT + text))
    return caught.value.problems


def assert_refused(found: list[Problem], text: str, where: tuple[str, str],
                   fragment: str) -> None:
    """A problem saying ``fragment``, at ``where`` (table, field) and its header's line."""
    matching = [p for p in found if fragment in p.message]
    assert matching, found
    assert (matching[0].table, matching[0].field) == where
    header = f"[{where[0]}.{where[1]}]"
    assert matching[0].line == (PARENT + text).splitlines().index(header) + 1


@pytest.mark.parametrize(("text", "where", "fragment"), [
    # A name through something that is not a reference.
    ('[o.id]\ntype = "sequence"\n[o.at]\ntype = "date"\nafter = "id.born"\nwithin = "1d"\n',
     ("o", "at"), "'id' is not a reference"),
    # A parent without the field.
    (DATE + 'after = "c.nope"\nwithin = "1d"\n', ("o", "at"), "has no field 'nope'"),
    # per_parent through another reference, or to no field.
    (REF + 'per_parent = "x.kids"\n', ("o", "c"), '"c.FIELD"'),
    (REF + 'per_parent = "c.nope"\n', ("o", "c"), "has no field 'nope'"),
    # ordinal of a reference that does not tie the table.
    (REF + '[o.n]\ntype = "ordinal"\nof = "c"\n', ("o", "n"), "ties this table"),
    # A total of a table that is not a child tied to this one.
    ('[o.id]\ntype = "sequence"\n[o.t]\ntype = "total"\nof = "customer.kids"\n'
     'function = "sum"\n', ("o", "t"), "tied to o by per_parent"),
    ('[customer.t]\ntype = "total"\nof = "o"\nfunction = "sum"\n' + TIED, ("customer", "t"),
     "only function = \"count\""),
    # cumulative outside a tied table, or not from the parent's value.
    (DATE + 'after = "c.born"\nwithin = "9d"\ncumulative = true\n', ("o", "at"),
     "tied to its parent"),
    (TIED + '[o.d]\ntype = "date"\nstart = "-1y"\n[o.at]\ntype = "date"\nafter = "d"\n'
     'within = "9d"\ncumulative = true\n', ("o", "at"), '"c.FIELD"'),
    (TIED + '[o.at]\ntype = "date"\nbefore = "c.born"\nwithin = "9d"\ncumulative = true\n',
     ("o", "at"), "goes with after"),
    # The order's own parameters.
    (DATE + 'after = "c.born"\n', ("o", "at"), "need the gap"),
    (DATE + 'after = "c.born"\nbefore = "c.born"\nwithin = "1d"\n', ("o", "at"), "not both"),
    (DATE + 'after = "c.born"\nwithin = "1d"\nstart = "-1y"\n', ("o", "at"),
     "start does not apply"),
    (DATE + 'after = "c.born"\ngap = ["1h", "5h"]\n', ("o", "at"), "no whole day"),
    (MOMENT + 'after = "c.born"\ngap = ["2d", "1d"]\n', ("o", "at"), "greater than its max"),
    (MOMENT + 'after = "c.born"\nwithin = "3d"\ndistribution = "zipf"\n', ("o", "at"), "the gap's"),
    (MOMENT + 'after = "c.born"\nwithin = "3d"\ndistribution = "exponential"\nmean = "5d"\n',
     ("o", "at"), "between the gap's min and max"),
    ('[o.at]\ntype = "timestamp"\nmean = "5d"\n', ("o", "at"), "goes with after or before"),
    # Fields that read each other across tables, or their own value in the parent row.
    ('[customer.last]\ntype = "total"\nof = "o.at"\nfunction = "max"\n' + TIED +
     '[o.at]\ntype = "date"\nafter = "c.last"\nwithin = "9d"\n', ("customer", "last"),
     "fields read each other in a cycle: customer.last -> o.at -> customer.last"),
    ('[customer.n]\ntype = "total"\nof = "o"\nfunction = "count"\n' + REF +
     'per_parent = "c.n"\n', ("customer", "n"), "customer.n -> o.c -> customer.n"),
    ('[e.id]\ntype = "sequence"\n[e.boss]\ntype = "reference"\nref = "e.id"\n'
     '[e.at]\ntype = "date"\nafter = "boss.at"\nwithin = "9d"\n', ("e", "at"), "e.at -> e.at"),
    # An existing table gives only its key.
    ('[app]\nexisting = true\n[app.id]\ntype = "sequence"\n[app.at]\ntype = "date"\n'
     '[o.a]\ntype = "reference"\nref = "app.id"\n[o.at]\ntype = "date"\nafter = "a.at"\n'
     'within = "1d"\n[o.k]\ntype = "date"\nafter = "a.id"\nwithin = "1d"\n', ("o", "at"),
     "app is an existing table: only its key `id` can be read"),
])
def test_validation_refuses_a_rule_that_cannot_hold(text: str, where: tuple[str, str],
                                                    fragment: str) -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(PARENT + text)
    assert_refused(caught.value.problems, text, where, fragment)


@pytest.mark.parametrize(("text", "where", "fragment"), [
    # The latest birth date plus 18 years is past the end.
    (MOMENT + 'after = "c.born"\ngap = ["10000d", "12000d"]\nend = "now"\n', ("o", "at"),
     "after c.born by at least 10000d leaves no room before end = now: the latest born is "
     "2006-01-01"),
    (DATE + 'before = "c.born"\nwithin = "3d"\nstart = "-20y"\n', ("o", "at"),
     "leaves no room after start"),
    (REF + 'per_parent = [2, 4]\n[o.at]\n'
     'type = "date"\nafter = "c.born"\ngap = ["3000d", "4000d"]\ncumulative = true\n'
     'end = "now"\n', ("o", "at"), "for each of up to 4 children"),
    (DATE + 'after = "c.kids"\nwithin = "3d"\n', ("o", "at"), "must name a date or timestamp"),
    # Child counts beyond [0, 1,000,000], or not whole numbers.
    ('[customer.many]\ntype = "int"\nmin = 0\nmax = 2000000\n' + REF +
     'per_parent = "c.many"\n', ("o", "c"), "a child count beyond the declared range"),
    ('[customer.few]\ntype = "int"\nmin = -1\nmax = 3\n' + REF + 'per_parent = "c.few"\n',
     ("o", "c"), "from -1 to 3"),
    ('[customer.w]\ntype = "float"\n' + REF + 'per_parent = "c.w"\n', ("o", "c"),
     "a whole number"),
    ('[customer.t]\ntype = "total"\nof = "o.s"\nfunction = "sum"\n' + TIED +
     '[o.s]\ntype = "name"\n', ("customer", "t"), "cannot take text values"),
])
def test_the_generators_refuse_what_cannot_hold(text: str, where: tuple[str, str],
                                                fragment: str) -> None:
    assert_refused(problems(text), text, where, fragment)


def test_a_bad_child_count_leaves_the_table_empty_until_refused() -> None:
    genfile = loads_genfile(PARENT + '[customer.w]\ntype = "float"\n' + REF +
                            'per_parent = "c.w"\n')
    assert sized(genfile).table("o").records == 0


def test_a_childs_definition_is_in_its_totalling_parents_digest() -> None:
    text = PARENT + '[customer.t]\ntype = "total"\nof = "o.s"\nfunction = "sum"\n' + TIED + \
        '[o.s]\ntype = "int"\nmax = 9\n'
    plain, edited = loads_genfile(text), loads_genfile(text.replace("max = 9", "max = 8"))
    assert plain.table_digests["customer"] != edited.table_digests["customer"]
    assert plain.table_digests["o"] != edited.table_digests["o"]
    untouched = loads_genfile(PARENT), loads_genfile(PARENT + '[x.id]\ntype = "sequence"\n')
    assert untouched[0].table_digests["customer"] == untouched[1].table_digests["customer"]
