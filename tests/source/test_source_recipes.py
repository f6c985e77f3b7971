"""Every Genfile of docs/recipes.md is accepted as it is written and makes rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from datastorm_core import run
from datastorm_core.loading import loads_genfile

RECIPES = (Path(__file__).resolve().parents[2] / "docs" / "recipes.md").read_text(
    encoding="utf-8")


def recipes() -> list[tuple[str, str]]:
    """(the section's title, its Genfile) for each ```toml block."""
    found = []
    for section in RECIPES.split("\n## ")[1:]:
        title = section.splitlines()[0]
        found.extend((title, block) for block in re.findall(r"```toml\n(.*?)```", section,
                                                             flags=re.DOTALL))
    return found


def test_the_page_has_a_recipe_for_each_rule_it_promises() -> None:
    titles = {title for title, _ in recipes()}
    assert {"After: an event follows its parent", "Adults only", "N children from a field",
            "A month apart", "Sum of the children", "Only when", "Future if booked"} <= titles


@pytest.mark.parametrize(("title", "genfile"), recipes(), ids=[t for t, _ in recipes()])
def test_every_recipe_validates_and_makes_rows(title: str, genfile: str) -> None:
    loaded = loads_genfile(genfile, environ={})
    source = run.check(loaded)  # the full check: the generators' own problems too
    for table in loaded.tables:
        rows = min(table.records, 500)
        assert rows > 0, table.name
        chunk = source.chunk(table.name, 0, rows)
        assert chunk.rows == rows and set(chunk.columns) == set(table.field_names)
