"""Places: states, cities and street addresses.

pt_BR is first-class: states weighted by population, cities from a data
file of real municipalities (see ``services.brazil``) weighted by
population, and a city that follows the row's state field when asked.
Other locales get Faker's lists where Faker has real ones (states, and
cities for the locales whose Faker city is a name from a list); where
Faker only invents (en_US cities), the field is refused, not invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property, lru_cache

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.genfile.model import Field
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.generators.brazil import StateTied, locale_problem
from datastorm_core.source.generators.world import (
    WorldAddress,
    WorldCity,
    WorldPostcode,
    WorldState,
    field_locale,
)
from datastorm_core.source.services import brazil, dictionaries, locale_data, world
from datastorm_core.source.services.compose import Composer, Pattern
from datastorm_core.source.services.dictionaries import Dictionary
from datastorm_core.source.services.text import longest

__all__ = ["AddressGenerator", "CityGenerator", "PostcodeGenerator", "StateGenerator",
           "real_city_locales"]

BUILDING_NUMBERS = 9999


class StateGenerator(Generator):
    """A state: pt_BR's 27 UFs by population (code or name), else Faker's list."""

    def __new__(cls, field: Field, ctx: GeneratorContext) -> Generator:  # type: ignore[misc]
        # A locale with real places (services.world) is served by its generator.
        if cls is StateGenerator and world.country_of(field_locale(field.params, ctx)):
            return WorldState(field, ctx)
        return super().__new__(cls)

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def format(self) -> str:
        return self.field.param("format", "code")

    def problems(self) -> list[str]:
        problems = locale_problem(self.locale())
        if not problems and self.locale() != "pt_BR" and self._values is None:
            kind = "codes" if self.format() == "code" else "names"
            problems.append(f"Faker has no list of state {kind} for {self.locale()!r}; use "
                            "locale = \"pt_BR\" or a choice")
        return problems

    @cached_property
    def _values(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The states and their cumulative weights."""
        if self.locale() == "pt_BR":
            s = brazil.states()
            values = s.codes if self.format() == "code" else s.names
            return values, np.cumsum(s.population.astype(np.float64))
        found = locale_data.state_list(self.locale(), self.format())
        return None if found is None else (found.words, found.cumulative)

    def space(self) -> int:
        # A refused locale has no states: 0 values (its problem says why).
        return 0 if self._values is None else len(self._values[0])

    def value_space(self) -> ValueSpace | None:
        return None if self._values is None else ValueSpace(max_length=longest(self._values[0]))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        assert self._values is not None
        return self._values[0][ordinals]

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        assert self._values is not None
        values, cumulative = self._values
        return values[self.stream.weighted(indices, cumulative)]


def real_city_locales() -> list[str]:
    """Locales whose Faker city is a name from a list (pt_BR: the shipped file)."""
    return ["pt_BR", *sorted(loc for loc in dictionaries.available_locales()
                             if loc != "pt_BR" and locale_data.city_list(loc) is not None)]


class CityGenerator(StateTied):
    """A real city. pt_BR: a municipality by population, in the row's state if tied."""

    def __new__(cls, field: Field, ctx: GeneratorContext) -> Generator:  # type: ignore[misc]
        # A locale with real places (services.world) is served by its generator.
        if cls is CityGenerator and world.country_of(field_locale(field.params, ctx)):
            return WorldCity(field, ctx)
        return super().__new__(cls)

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def problems(self) -> list[str]:
        problems = super().problems() + locale_problem(self.locale())
        if problems:
            return problems
        if self.locale() == "pt_BR":
            return []
        if self.state_field() is not None:
            return [f"a city follows a state field for pt_BR only, and the locale is "
                    f"{self.locale()!r}"]
        if locale_data.city_list(self.locale()) is None:
            return [f"Faker has no list of real cities for {self.locale()!r} (its cities are "
                    "invented from patterns), and datastorm does not invent them: use "
                    "locale = \"pt_BR\" or one of " + ", ".join(real_city_locales()[1:])
                    + ", or a choice of your own cities"]
        return []

    @cached_property
    def _other(self) -> Dictionary:
        found = locale_data.city_list(self.locale())
        assert found is not None
        return found

    def space(self) -> int:
        if self.locale() == "pt_BR":
            return len(brazil.municipalities())
        found = locale_data.city_list(self.locale())
        return 0 if found is None else len(found)  # a refused locale: no real cities

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        if self.locale() == "pt_BR":
            return brazil.municipalities().names[ordinals]
        return self._other.words[ordinals]

    def value_space(self) -> ValueSpace | None:
        if self.locale() == "pt_BR":
            return ValueSpace(max_length=longest(brazil.municipalities().names))
        found = locale_data.city_list(self.locale())
        return None if found is None else ValueSpace(max_length=longest(found.words))

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        if self.locale() != "pt_BR":
            return self._other.words[self.stream.weighted(indices, self._other.cumulative)]
        m = brazil.municipalities()
        states = self.state_positions(row)
        if states is None:
            return m.names[self.stream.weighted(indices, m.cumulative)]
        # One searchsorted over "state + cumulative share": lands in the row's state.
        target = states + self.stream.sub("in-state").uniform(indices)
        found = np.searchsorted(m.within, target, side="right")
        found = np.clip(found, m.start[states], m.start[states + 1] - 1)
        return m.names[found]


@lru_cache(maxsize=1)
def _building_numbers() -> Dictionary:
    """1..9999, weighted 1/n: most buildings have small numbers, a few very large ones."""
    numbers = range(1, BUILDING_NUMBERS + 1)
    return dictionaries._dictionary("building numbers", {str(n): 1.0 / n for n in numbers})


@lru_cache(maxsize=1)
def _complements() -> Dictionary:
    weights: dict[str, float] = {}
    for floor in range(1, 21):
        for unit in range(1, 5):
            weights[f"Apto {floor}{unit:02d}"] = 0.65 / 80
    for n in range(1, 6):
        weights[f"Casa {n}"] = 0.15 / 5
    for block in "ABCDEF":
        weights[f"Bloco {block}"] = 0.1 / 6
    for n in range(1, 11):
        weights[f"Sala {100 + n}"] = 0.1 / 10
    return dictionaries._dictionary("address complements", weights)


class AddressGenerator(Generator):
    """A street address composed from Faker's pt_BR data, not a real address.

    "Rua Francisco Souza, 123": a street prefix (Rua, Avenida, Travessa...,
    from Faker's list, weighted by how common each is), the name of a
    person as real Brazilian streets have (first and last name, a last
    name, or a title and a last name: "Avenida Presidente Vargas" style),
    and a building number in 1..9999 (weighted 1/n). With ``complement``,
    that share of addresses adds ", Apto 101", ", Casa 2", ", Bloco B"...
    """

    def __new__(cls, field: Field, ctx: GeneratorContext) -> Generator:  # type: ignore[misc]
        # A locale with real places (services.world) is served by its generator.
        if cls is AddressGenerator and world.country_of(field_locale(field.params, ctx)):
            return WorldAddress(field, ctx)
        return super().__new__(cls)

    def locale(self) -> str:
        return self.field.param("locale", self.ctx.locale)

    def problems(self) -> list[str]:
        problems = locale_problem(self.locale())
        if not problems and locale_data.street_prefixes(self.locale()) is None:
            problems.append(f"address is composed from pt_BR street data only, and the locale "
                            f"is {self.locale()!r}: set locale = \"pt_BR\" on the field")
        if self.field.param("parts", "street") != "street":
            problems.append(f"a {self.locale()} address is a street line (parts = \"street\"): "
                            "write its city, state and postcode as fields of their own")
        share = self.field.param("complement", 0.0)
        if not 0 <= share <= 1:
            problems.append(f"complement must be a share between 0 and 1, got {share}")
        return problems

    @cached_property
    def composer(self) -> Composer:
        prefixes = locale_data.street_prefixes(self.locale())
        assert prefixes is not None
        first = dictionaries.first_names(self.locale())
        last = dictionaries.last_names(self.locale())
        titles = dictionaries._dictionary("street titles", locale_data.STREET_TITLES)
        number = _building_numbers()
        return Composer([
            Pattern((prefixes, " ", first, " ", last, ", ", number), 0.5),
            Pattern((prefixes, " ", last, ", ", number), 0.25),
            Pattern((prefixes, " ", titles, " ", last, ", ", number), 0.25),
        ])

    def space(self) -> int:
        if locale_data.street_prefixes(self.locale()) is None:
            return 0  # a refused locale (its problem says why)
        return self.composer.space

    def value_space(self) -> ValueSpace | None:
        if locale_data.street_prefixes(self.locale()) is None:
            return None
        streets = self.composer.max_length
        if float(self.field.param("complement", 0.0)) > 0:  # ", Apto 101"
            streets += 2 + longest(_complements().words)
        return ValueSpace(max_length=streets)

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self._complete(self.composer.from_ordinals(ordinals), indices)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self._complete(self.composer.generate(self.stream, indices), indices)

    def _complete(self, streets: np.ndarray, indices: np.ndarray) -> np.ndarray:
        share = float(self.field.param("complement", 0.0))
        if share <= 0:
            return streets
        rows = np.flatnonzero(self.stream.sub("has-complement").below(indices, share))
        if not len(rows):
            return streets
        complements = _complements()
        drawn = complements.words[self.stream.sub("complement").weighted(
            indices[rows], complements.cumulative)]
        completed = np.strings.add(np.strings.add(streets[rows], ", "), drawn)
        out = streets.astype(f"<U{max(streets.dtype.itemsize, completed.dtype.itemsize) // 4}")
        out[rows] = completed
        return out


class PostcodeGenerator(Generator):
    """A postcode of the locale's country: a CEP for pt_BR, else ``WorldPostcode``.

    Only a locale without real postcodes stays an instance of this class,
    and it is refused with what to use instead.
    """

    def __new__(cls, field: Field, ctx: GeneratorContext) -> Generator:  # type: ignore[misc]
        from datastorm_core.source.generators.brazil import CepGenerator

        locale = field_locale(field.params, ctx)
        if cls is PostcodeGenerator and locale == "pt_BR":
            return CepGenerator(field, ctx)
        if cls is PostcodeGenerator and world.country_of(locale):
            return WorldPostcode(field, ctx)
        return super().__new__(cls)

    def problems(self) -> list[str]:
        locale = field_locale(self.field.params, self.ctx)
        return [f"datastorm has no real postcodes for {locale!r}: use one of "
                + ", ".join(["pt_BR", *world.supported_locales()])
                + ", or a string with a pattern (pattern = \"99999\")"]

    def space(self) -> int:
        return 0

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        raise TypeError("a refused postcode field generates nothing")
