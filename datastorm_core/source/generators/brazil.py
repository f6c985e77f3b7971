"""Brazilian numbers: CPF, CNPJ, CEP and mobile phone numbers.

Every value is an int64 built with numpy (check digits included) and then
written into its layout in one pass. CPF, CNPJ and CEP are Brazilian
whatever the locale; ``phone`` makes Brazilian mobile numbers and refuses
other locales (see ``PhoneGenerator``).

``cep`` and ``phone`` may follow a state field of the same row
(``state = "uf"``): the CEP then lies in that state's range, and the
phone number has one of its area codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.genfile.model import Field
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.services import brazil, dictionaries
from datastorm_core.source.services.documents import (
    CPF_SPACE,
    cnpj_digits,
    cpf_base_from_ordinal,
    cpf_digits,
    digits_of,
    format_digits,
)
from datastorm_core.source.services.permutation import KeyedPermutation

__all__ = ["CepGenerator", "CnpjGenerator", "CpfGenerator", "PhoneGenerator", "StateTied"]

CPF_LAYOUTS = {True: "###.###.###-##", False: "#" * 11}
CNPJ_LAYOUTS = {True: "##.###.###/####-##", False: "#" * 14}
CEP_LAYOUTS = {True: "#####-###", False: "#" * 8}
PHONE_LAYOUTS = {
    "international": "+55 ## #####-####",
    "national": "(##) #####-####",
    "digits": "#" * 11,
    "e164": "+55" + "#" * 11,
}

CNPJ_BASES = 10**8
CNPJ_BRANCHES = 9999  # branch numbers 0001..9999 (0000 is not a branch)
# Most companies are a single establishment: their one CNPJ ends in /0001.
HEADQUARTERS_SHARE = 0.85
OTHER_BRANCHES = (2, 30)  # the branch number of the others, uniformly

# A CEP's last three digits: 000..899 are streets (900..999 are the Correios'
# special codes: large users, post office boxes, promotions).
CEP_STREET_SUFFIXES = 900

# A mobile number: 9, then a digit 6-9 (the historic mobile range), then 7 digits.
MOBILE_LOW, MOBILE_HIGH = 960_000_000, 999_999_999
MOBILE_NUMBERS = MOBILE_HIGH - MOBILE_LOW + 1


class CpfGenerator(Generator):
    """CPF numbers over the whole space of nine-digit bases, with valid check digits.

    The ten bases made of one repeated digit (111.111.111-11) are left out:
    their check digits are valid but every validator rejects them. That
    leaves 10**9 - 10 values, enumerated in order for unique fields.
    """

    def layout(self) -> str:
        return CPF_LAYOUTS[bool(self.field.param("formatted", True))]

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=len(self.layout()))  # one character per layout position

    def space(self) -> int:
        return CPF_SPACE

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return format_digits(cpf_digits(cpf_base_from_ordinal(ordinals)), self.layout())

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.from_ordinals(self.stream.integers(indices, 0, CPF_SPACE - 1), indices)


class CnpjGenerator(Generator):
    """CNPJ numbers: an eight-digit base, a branch (mostly 0001), valid check digits.

    ``unique = true``: while the table has at most 10**8 rows, every row
    gets its own base (a keyed permutation of the row index) and the branch
    is drawn as for any row, so unique CNPJs keep the /0001 majority. A
    larger table enumerates (base, branch) pairs: 10**8 * 9999 values.
    """

    handles_unique = True

    def layout(self) -> str:
        return CNPJ_LAYOUTS[bool(self.field.param("formatted", True))]

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=len(self.layout()))

    def space(self) -> int:
        return CNPJ_BASES * CNPJ_BRANCHES

    @cached_property
    def _unique_bases(self) -> KeyedPermutation:
        return KeyedPermutation(CNPJ_BASES, self.stream.sub("unique-base").key)

    @cached_property
    def _unique_pairs(self) -> KeyedPermutation:
        return KeyedPermutation(self.space(), self.stream.sub("unique-pair").key)

    def _branches(self, indices: np.ndarray) -> np.ndarray:
        headquarters = self.stream.sub("headquarters").below(indices, HEADQUARTERS_SHARE)
        other = self.stream.sub("branch").integers(indices, *OTHER_BRANCHES)
        return np.where(headquarters, 1, other)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        if not self.field.unique:
            bases = self.stream.sub("base").integers(indices, 0, CNPJ_BASES - 1)
            branches = self._branches(indices)
        elif self.ctx.table_rows <= CNPJ_BASES:
            bases = self._unique_bases(indices)
            branches = self._branches(indices)
        else:
            pairs = self._unique_pairs(indices)
            branch_slots, bases = np.divmod(pairs, CNPJ_BASES)
            branches = branch_slots + 1
        return format_digits(cnpj_digits(bases, branches), self.layout())


class StateTied(Generator):
    """A generator that may follow a state field of its row (``state = "field"``)."""

    def state_field(self) -> str | None:
        return self.field.param("state")

    def problems(self) -> list[str]:
        # Values that follow a state are drawn, not enumerated: space() counts the
        # values of the untied field, and this check keeps a tied one from using it.
        if self.state_field() is not None and self.field.unique:
            return [f"a unique {self.field.type} cannot follow a state field: remove `unique` "
                    "or `state`"]
        return []

    def state_positions(self, row: Mapping[str, Column]) -> np.ndarray | None:
        """Positions (0..26) of the row's states, or None when not tied."""
        name = self.state_field()
        if name is None:
            return None
        return brazil.states().positions(row[name].values)


class CepGenerator(StateTied):
    """A CEP in the range the Correios assign to a state.

    The state is the row's state field when ``state`` names one, else
    drawn by population. Within the state, the five-digit prefix is
    uniform over the state's ranges and the suffix over 000..899.
    """

    @cached_property
    def _layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ranges end to end: first prefix, offset of each range, offset of each state."""
        s = brazil.states()
        lows, offsets, state_offsets = [], [0], [0]
        for ranges in s.cep_ranges:
            for low, high in ranges:
                lows.append(low)
                offsets.append(offsets[-1] + high - low + 1)
            state_offsets.append(offsets[-1])
        return (np.array(lows, dtype=np.int64), np.array(offsets, dtype=np.int64),
                np.array(state_offsets, dtype=np.int64),
                np.cumsum(s.population.astype(np.float64)))

    def _prefixes(self, positions: np.ndarray) -> np.ndarray:
        """Five-digit prefixes at positions of the ranges laid end to end."""
        lows, offsets, _, _ = self._layout
        r = np.searchsorted(offsets[1:], positions, side="right")
        return lows[r] + (positions - offsets[r])

    def layout(self) -> str:
        return CEP_LAYOUTS[bool(self.field.param("formatted", True))]

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=len(self.layout()))

    def space(self) -> int | None:
        return int(self._layout[1][-1]) * CEP_STREET_SUFFIXES

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        positions, suffixes = np.divmod(np.asarray(ordinals, dtype=np.int64),
                                        CEP_STREET_SUFFIXES)
        return format_digits(digits_of(self._prefixes(positions) * 1000 + suffixes, 8),
                             self.layout())

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        _, _, state_offsets, population = self._layout
        states = self.state_positions(row)
        if states is None:
            states = self.stream.sub("state").weighted(indices, population)
        first, count = state_offsets[states], np.diff(state_offsets)[states]
        u = self.stream.sub("prefix").uniform(indices)
        positions = first + np.minimum((u * count).astype(np.int64), count - 1)
        suffixes = self.stream.sub("suffix").integers(indices, 0, CEP_STREET_SUFFIXES - 1)
        return format_digits(digits_of(self._prefixes(positions) * 1000 + suffixes, 8),
                             self.layout())


class PhoneGenerator(StateTied):
    """Brazilian mobile numbers with real area codes (DDD): +55 11 91234-5678.

    Area codes are weighted by their state's population (split evenly
    among a state's codes), or are codes of the row's state field when
    ``state`` names one. Other locales, and ``line = "fixed"``, are served
    by ``world.WorldPhone`` (libphonenumber's metadata).
    """

    def __new__(cls, field: Field, ctx: GeneratorContext) -> Generator:  # type: ignore[misc]
        from datastorm_core.source.generators.world import WorldPhone, field_locale

        locale = field_locale(field.params, ctx)
        if cls is PhoneGenerator and (locale != "pt_BR"
                                      or field.param("line", "mobile") != "mobile"):
            return WorldPhone(field, ctx)
        return super().__new__(cls)

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def problems(self) -> list[str]:
        problems = super().problems()
        if self.locale() != "pt_BR":
            problems.append(
                f"phone makes Brazilian mobile numbers only, and the locale is "
                f"{self.locale()!r}: set locale = \"pt_BR\" on the field (or in [dataset]), "
                "or use a string with a pattern for other countries")
        return problems

    @cached_property
    def _codes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Area codes grouped by state, their cumulative weights, each state's offset."""
        s = brazil.states()
        codes, weights, offsets = [], [], [0]
        for population, ddds in zip(s.population.tolist(), s.ddds, strict=True):
            codes.extend(ddds)
            weights.extend([population / len(ddds)] * len(ddds))
            offsets.append(len(codes))
        return (np.array(codes, dtype=np.int64), np.cumsum(weights),
                np.array(offsets, dtype=np.int64))

    def layout(self) -> str:
        return PHONE_LAYOUTS[self.field.param("format", "international")]

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=len(self.layout()))

    def space(self) -> int | None:
        return len(self._codes[0]) * MOBILE_NUMBERS

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        code, number = np.divmod(np.asarray(ordinals, dtype=np.int64), MOBILE_NUMBERS)
        return self._format(self._codes[0][code], MOBILE_LOW + number)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        codes, cumulative, offsets = self._codes
        states = self.state_positions(row)
        if states is None:
            code = self.stream.sub("ddd").weighted(indices, cumulative)
        else:
            first, count = offsets[states], np.diff(offsets)[states]
            u = self.stream.sub("ddd-of-state").uniform(indices)
            code = first + np.minimum((u * count).astype(np.int64), count - 1)
        numbers = self.stream.sub("number").integers(indices, MOBILE_LOW, MOBILE_HIGH)
        return self._format(codes[code], numbers)

    def _format(self, ddd: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        return format_digits(digits_of(ddd * 10**9 + numbers, 11), self.layout())


def locale_problem(locale: str) -> list[str]:
    """The usual complaint about a locale Faker does not know."""
    if locale not in dictionaries.available_locales():
        return [f"unknown locale {locale!r}; e.g. pt_BR, en_US, de_DE, es_ES"]
    return []
