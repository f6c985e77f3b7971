"""The fast paths of text building give what the general rules give, value for value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datastorm_core.core.values import zero_padded
from datastorm_core.source.generators import person
from datastorm_core.source.services import dictionaries
from datastorm_core.source.services.dictionaries import Dictionary


@given(st.lists(st.integers(0, 10**12 - 1), max_size=50), st.integers(1, 12))
def test_zero_padded_is_python_formatting(values: list[int], width: int) -> None:
    values = [v % 10**width for v in values]
    got = zero_padded(np.array(values, dtype=np.int64), width)
    assert got.tolist() == [f"{v:0{width}d}" for v in values]


@pytest.mark.parametrize("locale", ["pt_BR", "fr_FR", "ja_JP", "es_MX"])
def test_the_local_parts_of_full_names_are_those_of_each_name_folded(locale: str) -> None:
    first, last = dictionaries.first_names(locale), dictionaries.last_names(locale)
    fast = person._pair_local_parts(first, last)
    slow = [person._local_part(f"{a} {b}") for a in first.words.tolist()
            for b in last.words.tolist()]
    assert fast.tolist() == slow


def test_a_name_that_folds_to_no_word_takes_the_general_rule() -> None:
    first = Dictionary("first", np.array(["Ana", "李"]), np.array([1.0, 2.0]))
    last = Dictionary("last", np.array(["Souza Lima", "!"]), np.array([1.0, 2.0]))
    assert person._pair_local_parts(first, last).tolist() == [
        "ana.lima", "ana", "souza.lima", "user"]
