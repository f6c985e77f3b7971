"""Generators of the user's own, as the Genfile names them: found, shaped, given parameters.

The generators are tests/fixtures/plugins/datastorm_test_plugins.py (on sys.path by
tests/conftest.py); entry points come from a distribution's metadata written into a
temporary directory put on sys.path, which is what installing a package does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from datastorm_core import run
from datastorm_core.core.schema import ColumnType
from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import Genfile, loads_genfile
from datastorm_core.genfile import plugins as plugin_registry
from datastorm_core.genfile.plugins import PLUGIN_TYPE

MODULE = "datastorm_test_plugins"


def load(text: str) -> Genfile:
    return loads_genfile(text, environ={})


def problems_of(text: str, checked: bool = False) -> list[Problem]:
    """The Genfile's problems; ``checked``: those the generators find too (run.check, as
    ``datastorm validate`` asks)."""
    with pytest.raises(GenfileError) as caught:
        genfile = load(text)
        if checked:
            run.check(genfile)
    return caught.value.problems


def field(type_and_params: str, records: int = 100) -> str:
    return f'[t]\nrecords = {records}\n[t.id]\ntype = "sequence"\n[t.x]\n{type_and_params}\n'


def one_message(text: str, checked: bool = False) -> str:
    problems = problems_of(text, checked)
    assert len(problems) == 1, problems
    assert (problems[0].table, problems[0].field) == ("t", "x")
    return problems[0].message


@pytest.fixture
def entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        type[_Distributions]]:
    """Install distributions' metadata (entry points only) for the test's duration."""
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin_registry._entry_points.cache_clear()
    yield _Distributions.at(tmp_path)
    plugin_registry._entry_points.cache_clear()


class _Distributions:
    root: Path

    @classmethod
    def at(cls, root: Path) -> type[_Distributions]:
        cls.root = root
        return cls

    @classmethod
    def add(cls, name: str, **generators: str) -> None:
        info = cls.root / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = "".join(f"{k} = {v}\n" for k, v in generators.items())
        (info / "entry_points.txt").write_text(f"[datastorm.generators]\n{lines}")
        plugin_registry._entry_points.cache_clear()


# -- found by a dotted path --------------------------------------------------------------


def test_a_dotted_path_names_a_class_and_its_parameters_go_to_it() -> None:
    genfile = load(field(f'type = "{MODULE}:Codes"\nprefix = "Q"\nwidth = 4\nnull_rate = 0.1'))
    made = genfile.table("t").field("x")
    assert made.type == PLUGIN_TYPE
    assert made.params == {"generator": f"{MODULE}:Codes",
                           "options": {"prefix": "Q", "width": 4}}
    assert made.null_rate == 0.1  # the common parameters stay datastorm's


@pytest.mark.parametrize(("name", "expected"), [
    ("amounts", ColumnType.NUMERIC), ("counts", ColumnType.BIGINT),
    ("ratios", ColumnType.DOUBLE), ("flags", ColumnType.BOOLEAN), ("days", ColumnType.DATE),
    ("moments", ColumnType.TIMESTAMP), ("ids", ColumnType.UUID), ("maybe", ColumnType.TEXT),
])
def test_the_column_is_the_type_the_generator_declares(name: str, expected: ColumnType) -> None:
    column = run.check(load(field(f'type = "{MODULE}:{name}"'))).schema("t").column("x")
    assert column.type is expected
    assert column.nullable is (name == "maybe")  # only a generator declaring nullable
    if expected is ColumnType.NUMERIC:
        assert column.scale == 2


def test_an_expression_reads_a_plugin_field_in_its_declared_type() -> None:
    text = (field(f'type = "{MODULE}:amounts"')
            + '[t.twice]\ntype = "expr"\nexpr = "x * 2"\n'
            + '[t.bad]\ntype = "expr"\nexpr = "x + \'a\'"\n')
    problems = problems_of(text)
    assert [p.field for p in problems] == ["bad"]
    schema = run.check(load(text.split("[t.bad]")[0])).schema("t")
    assert schema.column("twice").type is ColumnType.NUMERIC


# -- what is wrong, reported as the Genfile's problems -------------------------------------


@pytest.mark.parametrize(("spec", "says"), [
    ('type = "no_such_package.gens:Iban"', ["no module named 'no_such_package'", "PYTHONPATH"]),
    (f'type = "{MODULE}:Missing"', [f"module '{MODULE}' has no attribute 'Missing'"]),
    (f'type = "{MODULE}:NOT_A_GENERATOR"', ["not a generator", "int"]),
    (f'type = "{MODULE}:NoGenerate"', ["no generate method"]),
    (f'type = "{MODULE}:Codes"\nwidth = 40', ["refused its parameters",
                                               "width must be an integer from 1 to 12"]),
    (f'type = "{MODULE}:Codes"\ncolour = "red"', ["unknown parameter 'colour'",
                                                   "accepts: prefix, width"]),
    (f'type = "{MODULE}:bad_column"', ["column_type = 'money'", "text, int"]),
    ('type = ":Iban"', ["module:attribute"]),
    ('type = "plugin"', ["name your generator as the type"]),
    ('type = "iban"', ['unknown type "iban"', "plugin generator of your own"]),
])
def test_a_generator_that_cannot_be_used_is_a_genfile_error(spec: str, says: list[str]) -> None:
    message = one_message(field(spec))
    for part in says:
        assert part in message


def test_every_broken_generator_is_reported_at_once() -> None:
    text = ('[t.a]\ntype = "nowhere:A"\n[t.b]\ntype = "datastorm_test_plugins:Missing"\n'
            '[t.c]\ntype = "sequence"\nstep = "x"\n')
    assert [p.field for p in problems_of(text)] == ["a", "b", "c"]


@pytest.mark.parametrize(("name", "says"), [
    ('short"', "returned 15 values for 16 rows"),
    ('wrong_type"', "returned 0 (int) at row 0; a str for a text column is needed"),
    ('unmarked_null"', "declares nullable = True"),
    ('writes_indices"', "read-only"),
    ('explodes_after"\nrow = 3', "RuntimeError: the ledger has no code past row 3"),
])
def test_a_generator_that_fails_on_its_first_rows_is_refused_before_the_run(
        name: str, says: str) -> None:
    message = one_message(field(f'type = "{MODULE}:{name}'), checked=True)
    assert says in message
    assert "before the run" in message


def test_unique_needs_a_generator_that_enumerates_its_values() -> None:
    message = one_message(field(f'type = "{MODULE}:maybe"\nunique = true'), checked=True)
    assert "space() and from_ordinals" in message
    message = one_message(field(f'type = "{MODULE}:Codes"\nwidth = 2\nunique = true',
                                records=101), checked=True)
    assert "only 100 distinct values" in message


# -- found by an entry point ---------------------------------------------------------------


def test_an_entry_point_names_a_generator(entry_points: type[_Distributions]) -> None:
    entry_points.add("acme_gens", acme_code=f"{MODULE}:Codes")
    genfile = load(field('type = "acme_code"\nprefix = "A"'))
    assert genfile.table("t").field("x").params["generator"] == "acme_code"
    values = run.check(genfile).chunk("t", 0, 5).columns["x"].values.tolist()
    assert all(v.startswith("A-") for v in values)


def test_a_built_in_type_wins_over_an_entry_point_of_its_name(
        entry_points: type[_Distributions]) -> None:
    entry_points.add("shadowing", int=f"{MODULE}:Codes")
    made = load(field('type = "int"\nmin = 1\nmax = 3')).table("t").field("x")
    assert made.type == "int"
    assert run.check(load(field('type = "int"'))).schema("t").column("x").type is \
        ColumnType.BIGINT


def test_two_packages_registering_one_name_is_an_error_naming_both(
        entry_points: type[_Distributions]) -> None:
    entry_points.add("first_gens", code=f"{MODULE}:Codes")
    entry_points.add("second_gens", code=f"{MODULE}:maybe")
    message = one_message(field('type = "code"'))
    assert "registered by several packages" in message
    assert f"{MODULE}:Codes (first_gens)" in message and f"{MODULE}:maybe (second_gens)" in message


def test_an_entry_point_whose_module_is_gone_is_a_genfile_error(
        entry_points: type[_Distributions]) -> None:
    entry_points.add("stale_gens", stale="removed_module:Gen")
    message = one_message(field('type = "stale"'))
    assert "removed_module" in message and "importing it failed" in message


def test_unknown_type_lists_the_installed_generators(entry_points: type[_Distributions]) -> None:
    entry_points.add("acme_gens", acme_code=f"{MODULE}:Codes")
    assert "installed generators: acme_code" in one_message(field('type = "acme"'))


# -- the documentation ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", [
    "examples/plugin/pyproject.toml",
    "examples/plugin/datastorm_example_plugin/__init__.py",
    "examples/plugin/datastorm_example_plugin/iban.py",
    "examples/plugin/datastorm_example_plugin/sku.py",
    "examples/plugin/Genfile.toml",
])
def test_the_docs_show_each_file_of_the_example_package_as_it_is(path: str) -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    lang = "toml" if path.endswith(".toml") else "python"
    shown = docs.split(f"`{path}`:\n\n```{lang}\n", 1)[1].split("```\n", 1)[0]
    assert shown == (ROOT / path).read_text(encoding="utf-8")
