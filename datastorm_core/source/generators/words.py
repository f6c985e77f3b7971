"""word: values drawn from a dictionary file the user gives (.txt or .csv)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.genfile.types import FIELD_TYPES
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.services.text import longest
from datastorm_core.source.services.userdict import load_dictionary

__all__ = ["WordGenerator"]


class WordGenerator(Generator):
    """A value of the dictionary, weighted by its weights; unique fields enumerate it.

    The file is read when the field is compiled, so a missing file, a
    missing column or a bad weight is reported before anything is written
    (``DictionaryFileError`` is a ``LookupError``, which the compiled table
    reports as a problem of this field).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        f = self.field
        self.dictionary = load_dictionary(f.param("dictionary"), self.ctx.base_dir,
                                          f.param("column"), f.param("weight_column"))

    def problems(self) -> list[str]:
        return list(FIELD_TYPES[self.field.type].check(self.field.params, self.ctx.now))

    def space(self) -> int:
        return len(self.dictionary)

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=longest(self.dictionary.words))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.dictionary.words[ordinals]

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.dictionary.words[self.stream.weighted(indices, self.dictionary.cumulative)]
