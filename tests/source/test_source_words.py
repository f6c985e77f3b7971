"""word: values from the user's own dictionary files (.txt, .csv), weighted or unique."""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from source_support import load, values, whole

from datastorm_core import run
from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import load_genfile
from datastorm_core.genfile.model import Field
from datastorm_core.source.generators.base import GeneratorContext
from datastorm_core.source.generators.words import WordGenerator
from datastorm_core.source.services.randomness import Stream
from datastorm_core.source.services.userdict import DictionaryFileError, load_dictionary

ROWS = 20000

# Spaces around a value are dropped; a "#" inside a value is kept.
FRUITS_TXT = ("# fruits, one a line\napple\n  banana  \n\n# a second comment\n"
              "cherry\napple\nC# minor\n")

CITIES_CSV = """city,state,population
São Paulo,SP,12000
Rio de Janeiro,RJ,6000
"Brasília, DF",DF,3000
Nowhere,XX,0
Curitiba,PR,2000
Curitiba,PR,1000
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def genfile(field_text: str, records: int = ROWS) -> str:
    return f"[dataset]\nseed = 3\n[t]\nrecords = {records}\n[t.id]\ntype = \"sequence\"\n" \
           f"[t.x]\ntype = \"word\"\n{field_text}\n"


def words_of(text: str) -> list[object]:
    return values(whole(run.check(load(text)), "t"), "x")


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        run.check(load(text))
    return caught.value.problems


def one_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    assert (problems[0].table, problems[0].field) == ("t", "x")
    return problems[0]


def test_a_text_dictionary_skips_blanks_and_comments_and_counts_repeats(tmp_path: Path) -> None:
    path = write(tmp_path, "fruits.txt", FRUITS_TXT)
    drawn = Counter(words_of(genfile(f'dictionary = "{path}"')))
    assert set(drawn) == {"apple", "banana", "cherry", "C# minor"}
    # apple is listed twice: twice as likely as each other value (weights 2:1:1:1).
    assert drawn["apple"] / ROWS == pytest.approx(2 / 5, abs=0.02)
    for once in ("banana", "cherry", "C# minor"):
        assert drawn[once] / ROWS == pytest.approx(1 / 5, abs=0.02)


def test_a_csv_dictionary_respects_its_weights(tmp_path: Path) -> None:
    path = write(tmp_path, "cities.csv", CITIES_CSV)
    drawn = Counter(words_of(genfile(f'dictionary = "{path}"\ncolumn = "city"\n'
                                     'weight_column = "population"')))
    total = 12000 + 6000 + 3000 + 3000
    expected = {"São Paulo": 12000, "Rio de Janeiro": 6000, "Brasília, DF": 3000,
                "Curitiba": 3000}  # Curitiba's two lines add up
    assert set(drawn) == set(expected)  # weight 0: never drawn
    for city, weight in expected.items():
        assert drawn[city] / ROWS == pytest.approx(weight / total, abs=0.015)


def test_a_csv_column_without_weights_is_uniform_over_its_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "cities.csv", CITIES_CSV)
    drawn = Counter(words_of(genfile(f'dictionary = "{path}"\ncolumn = "state"')))
    assert set(drawn) == {"SP", "RJ", "DF", "XX", "PR"}
    assert drawn["PR"] / ROWS == pytest.approx(2 / 6, abs=0.02)


def test_a_one_column_csv_needs_no_column(tmp_path: Path) -> None:
    path = write(tmp_path, "codes.CSV", "code\nA1\nB2\n\nC3\n")
    assert set(words_of(genfile(f'dictionary = "{path}"'))) == {"A1", "B2", "C3"}


def test_words_are_deterministic_and_the_same_in_any_slice(tmp_path: Path) -> None:
    path = write(tmp_path, "fruits.txt", FRUITS_TXT)
    text = genfile(f'dictionary = "{path}"', records=500)
    source = run.check(load(text))
    everything = values(whole(source, "t"), "x")
    assert everything == words_of(text)
    for start, stop in ((0, 1), (99, 300), (499, 500)):
        assert values(source.chunk("t", start, stop), "x") == everything[start:stop]


def test_unique_words_are_unique_and_use_the_whole_dictionary(tmp_path: Path) -> None:
    names = [f"word{i:04}" for i in range(1000)]
    path = write(tmp_path, "many.txt", "\n".join(names) + "\n")
    drawn = words_of(genfile(f'dictionary = "{path}"\nunique = true', records=1000))
    assert sorted(drawn) == names  # type: ignore[type-var]
    some = words_of(genfile(f'dictionary = "{path}"\nunique = true\nnull_rate = 0.3',
                            records=700))
    present = [w for w in some if w is not None]
    assert len(present) == len(set(present)) and set(present) <= set(names)


def test_a_dictionary_too_small_for_a_unique_field_gives_both_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "fruits.txt", FRUITS_TXT)
    p = one_problem(genfile(f'dictionary = "{path}"\nunique = true', records=10))
    assert p.message == "unique: only 4 distinct values exist, for 10 rows"


def test_a_missing_file_is_a_problem_naming_the_field_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    p = one_problem(genfile(f'dictionary = "{missing}"'))
    assert str(missing) in p.message and "no such file" in p.message


def test_a_missing_file_is_reported_before_anything_is_written(tmp_path: Path) -> None:
    from datastorm_core.cli import main

    genfile_path = write(tmp_path, "Genfile.toml", genfile('dictionary = "/no/such/words.txt"'))
    database = tmp_path / "out.db"
    code = main(["run", str(genfile_path), "--target", f"sqlite:///{database}", "--quiet"])
    assert code == 2
    assert not database.exists()


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [('column = "town"', ["has no column 'town' (column)", "city, state, population"]),
     ('column = "city"\nweight_column = "pop"', ["has no column 'pop' (weight_column)"]),
     ("", ["has several columns (city, state, population)", 'column = "city"'])],
)
def test_a_missing_column_is_a_problem_listing_the_columns(tmp_path: Path, spec: str,
                                                           fragments: list[str]) -> None:
    path = write(tmp_path, "cities.csv", CITIES_CSV)
    p = one_problem(genfile(f'dictionary = "{path}"\n{spec}'))
    assert repr(str(path)) in p.message
    for fragment in fragments:
        assert fragment in p.message


@pytest.mark.parametrize(
    ("name", "content", "spec", "fragment"),
    [("w.csv", "a,w\nx,1\ny,-2\n", 'column = "a"\nweight_column = "w"',
      "line 3: weight '-2' is not a number >= 0"),
     ("w.csv", "a,w\nx,1\ny,lots\n", 'column = "a"\nweight_column = "w"',
      "line 3: weight 'lots' is not a number >= 0"),
     ("w.csv", "a,w\nx,0\n", 'column = "a"\nweight_column = "w"',
      "has no value with a positive weight"),
     ("e.txt", "# only a comment\n\n", "", "has no values"),
     ("e.csv", "", "", "is empty: its first line must name the columns"),
     ("e.txt", "apple\n", 'column = "a"', "column applies only to a .csv dictionary")],
)
def test_bad_dictionaries_are_problems(tmp_path: Path, name: str, content: str, spec: str,
                                       fragment: str) -> None:
    path = write(tmp_path, name, content)
    problems = problems_of(genfile(f'dictionary = "{path}"\n{spec}'))
    assert any(fragment in p.message for p in problems), problems
    assert all((p.table, p.field) == ("t", "x") for p in problems)


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("maçã\n".encode("latin-1"))
    p = one_problem(genfile(f'dictionary = "{path}"'))
    assert "not UTF-8 text" in p.message


def test_a_relative_path_of_a_genfile_given_as_text_is_read_from_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "fruits.txt", FRUITS_TXT)
    monkeypatch.chdir(tmp_path)
    assert set(words_of(genfile('dictionary = "fruits.txt"'))) == \
        {"apple", "banana", "cherry", "C# minor"}


def context(base_dir: str | None) -> GeneratorContext:
    def no_pool(table: str, field: str) -> object:
        raise AssertionError("a word reads no pool")

    return GeneratorContext(stream=Stream(1), table="t", table_rows=10, locale="en_US",
                            now=datetime(2026, 1, 1), reference_pool=no_pool,  # type: ignore[arg-type]
                            base_dir=base_dir)


def test_a_relative_path_is_read_from_the_genfiles_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    write(tmp_path / "data", "fruits.txt", FRUITS_TXT)
    field = Field("x", "word", {"dictionary": "data/fruits.txt"})
    generator = WordGenerator(field, context(str(tmp_path)))
    made = generator.generate(np.arange(200, dtype=np.int64), {})
    assert set(made.tolist()) == {"apple", "banana", "cherry", "C# minor"}
    with pytest.raises(DictionaryFileError, match="no such file"):
        WordGenerator(field, context(str(tmp_path / "elsewhere")))


def test_a_genfile_read_from_a_file_finds_its_dictionaries_next_to_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write(project, "fruits.txt", FRUITS_TXT)
    path = write(project, "Genfile.toml", genfile('dictionary = "fruits.txt"', records=50))
    monkeypatch.chdir(tmp_path)  # not the Genfile's directory
    source = run.check(load_genfile(path, environ={}))
    assert set(values(whole(source, "t"), "x")) <= {"apple", "banana", "cherry", "C# minor"}


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, "w.txt", "one\n")
    assert load_dictionary(str(path)).words.tolist() == ["one"]
    path.write_text("one\ntwo\nthree\n", encoding="utf-8")
    os.utime(path, ns=(0, 10**18))
    assert load_dictionary(str(path)).words.tolist() == ["one", "three", "two"]
