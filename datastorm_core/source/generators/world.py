"""Places and phones of countries beyond Brazil, from real data (``services.world``).

State, city, postcode and address share one country (``services.world``):
states are ISO 3166-2 subdivisions weighted by the population of their
cities, a city follows the row's state field (``state = "field"``), a
postcode lies in the state's prefixes where the country's postcodes
follow states, and an address writes a street line, a real city, its
state and a postcode of that state in the country's order (Google's
address format). Phones are valid numbers by libphonenumber
(``services.phones``), mobile or fixed (``line``).

pt_BR keeps its own generators (``brazil``, ``places``); the generators
of the registry hand a field to these when its locale is one of
``world.LOCALES`` (``dispatch``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property, lru_cache

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.services import dictionaries, world
from datastorm_core.source.services.compose import Composer, Pattern
from datastorm_core.source.services.dictionaries import Dictionary
from datastorm_core.source.services.memo import IdentityCache
from datastorm_core.source.services.phones import PhonePlan, phone_plan
from datastorm_core.source.services.text import codepoints, longest, strings_from_codepoints

__all__ = ["WorldAddress", "WorldCity", "WorldPhone", "WorldPostcode", "WorldState",
           "field_locale", "phone_region"]


def field_locale(field_params: Mapping[str, object], ctx: GeneratorContext) -> str:
    return str(field_params.get("locale", ctx.locale))


def phone_region(locale: str) -> str | None:
    """The country of a locale's phones: its territory part, when libphonenumber knows it."""
    import phonenumbers

    _, _, region = locale.partition("_")
    if region and phonenumbers.PhoneMetadata.metadata_for_region(region) is not None:
        return region
    return None


class _Located(Generator):
    def locale(self) -> str:
        return field_locale(self.field.params, self.ctx)

    @cached_property
    def country(self) -> world.Country:
        return world.country(self.locale())

    def state_field(self) -> str | None:
        return self.field.param("state")

    def tie_problems(self) -> list[str]:
        if self.state_field() is not None and self.field.unique:
            return [f"a unique {self.field.type} cannot follow a state field: remove `unique` "
                    "or `state`"]
        return []

    def state_positions(self, row: Mapping[str, Column]) -> np.ndarray | None:
        name = self.state_field()
        if name is None:
            return None
        return self.country.state_positions(row[name].values)


class WorldState(_Located):
    """An ISO 3166-2 subdivision: its code ("CA", "BY") or name, by population."""

    def values(self) -> np.ndarray:
        fmt = self.field.param("format", "code")
        return self.country.state_codes if fmt == "code" else self.country.state_names

    def space(self) -> int:
        return len(self.values())

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=longest(self.values()))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.values()[ordinals]

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.values()[self.stream.weighted(indices, self.country.state_weights)]


def _cities_in(c: world.Country, stream_u: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Positions of cities drawn by population within each row's state."""
    found = np.searchsorted(c.city_within, states + stream_u, side="right")
    return np.clip(found, c.city_start[states], c.city_start[states + 1] - 1)


class WorldCity(_Located):
    """A GeoNames place by population, in the row's state when ``state`` names a field."""

    def problems(self) -> list[str]:
        return self.tie_problems()

    def space(self) -> int:
        return len(self.country.city_names)

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=longest(self.country.city_names))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.country.city_names[ordinals]

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        c = self.country
        states = self.state_positions(row)
        if states is None:
            return c.city_names[self.stream.weighted(indices, c.city_cumulative)]
        return c.city_names[_cities_in(c, self.stream.sub("in-state").uniform(indices), states)]


def _postcode_ordinals(c: world.Country, stream: object, indices: np.ndarray,
                       states: np.ndarray | None) -> np.ndarray:
    """Postcode ordinals: in each row's state where postcodes follow states."""
    from datastorm_core.source.services.randomness import Stream

    assert isinstance(stream, Stream)
    if not c.postcodes_follow_state:
        return stream.sub("postcode").integers(indices, 0, c.postcodes.size - 1)
    if states is None:
        states = stream.sub("state").weighted(indices, c.state_weights)
    first = c.postcode_start[states]
    count = c.postcode_start[states + 1] - first
    u = stream.sub("postcode").uniform(indices)
    return first + np.minimum((u * count).astype(np.int64), count - 1)


class WorldPostcode(_Located):
    """A postcode of the country's format; of the row's state where codes follow states."""

    def problems(self) -> list[str]:
        return self.tie_problems()

    def space(self) -> int:
        return self.country.postcodes.size

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=self.country.postcodes.length)

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.country.postcodes.strings(ordinals)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        c = self.country
        ordinals = _postcode_ordinals(c, self.stream, indices, self.state_positions(row))
        return c.postcodes.strings(ordinals)


# Street lines per country: (parts, weight); "{first}", "{last}", "{number}" are drawn,
# lists are drawn uniformly (street kinds), the rest is literal.
_STREETS: dict[str, tuple[tuple[tuple[object, ...], float], ...]] = {
    "US": ((("{number}", " ", "{last}", " ", ("Street", "Avenue", "Road", "Drive", "Lane",
                                               "Boulevard", "Court", "Place", "Way")), 1.0),),
    "GB": ((("{number}", " ", "{last}", " ", ("Street", "Road", "Lane", "Close", "Avenue",
                                               "Drive", "Gardens", "Way", "Crescent")), 1.0),),
    "DE": ((("{last}", ("straße", "weg", "allee", "ring", "gasse"), " ", "{number}"), 1.0),),
    "FR": ((("{number}", " ", ("rue", "avenue", "boulevard", "place", "chemin", "allée"), " ",
             "{first}", " ", "{last}"), 1.0),),
    "ES": ((("Calle", " ", "{first}", " ", "{last}", ", ", "{number}"), 0.6),
           ((("Avenida", "Paseo", "Plaza", "Camino"), " de ", "{last}", ", ", "{number}"), 0.4)),
    "MX": ((("Calle", " ", "{first}", " ", "{last}", " ", "{number}"), 0.6),
           ((("Avenida", "Boulevard", "Privada", "Calzada"), " ", "{last}", " ", "{number}"),
            0.4)),
    "IT": (((("Via", "Viale", "Piazza", "Corso", "Vicolo"), " ", "{first}", " ", "{last}", ", ",
             "{number}"), 1.0),),
    "PT": (((("Rua", "Avenida", "Travessa", "Largo", "Praça"), " ", "{first}", " ", "{last}",
             ", ", "{number}"), 1.0),),
    "JP": ((("{last}", "町", ("1", "2", "3", "4", "5", "6", "7", "8", "9"), "丁目", "{block}",
             "-", "{small}"), 1.0),),
}


@lru_cache(maxsize=4)
def _numbers(high: int, weighted: bool) -> Dictionary:
    return dictionaries._dictionary(f"numbers 1..{high}", {
        str(n): (1.0 / n if weighted else 1.0) for n in range(1, high + 1)})


@lru_cache(maxsize=16)
def _street_composer(locale: str) -> Composer:
    code = world.country_of(locale)
    assert code is not None
    slots = {"{first}": dictionaries.first_names(locale), "{last}": dictionaries.last_names(locale),
             "{number}": _numbers(9999, True), "{block}": _numbers(30, False),
             "{small}": _numbers(20, False)}
    patterns = []
    for parts, weight in _STREETS[code]:
        resolved: list[str | Dictionary] = []
        for part in parts:
            if isinstance(part, tuple):
                resolved.append(dictionaries._dictionary(f"{code} street kinds", list(part)))
            else:
                resolved.append(slots.get(str(part), str(part)))
        patterns.append(Pattern(_folded(resolved), weight))
    return Composer(patterns)


def _folded(parts: list[str | Dictionary]) -> tuple[str | Dictionary, ...]:
    """The same pattern with its literals written into the word lists beside them
    ("Calle", " ", {first} -> {"Calle " + first}): the same strings, with one string
    addition per word list instead of one per part."""
    out: list[str | Dictionary] = []
    pending = ""
    for part in parts:
        if isinstance(part, str):
            pending += part
            continue
        if pending:
            part = _affixed(part, pending, "")
            pending = ""
        out.append(part)
    if pending:
        if out and isinstance(out[-1], Dictionary):
            out[-1] = _affixed(out[-1], "", pending)
        else:
            out.append(pending)
    return tuple(out)


def _affixed(words: Dictionary, prefix: str, suffix: str) -> Dictionary:
    affixed = np.strings.add(np.strings.add(prefix, words.words), suffix)
    return Dictionary(f"{prefix}{words.name}{suffix}", affixed, words.cumulative)


# A piece of a one-line address: "%A" (street), "%Z" (postcode, with the literals
# written before and after it), "city" (text per city) or "text" (a literal).
Segment = tuple[str, "np.ndarray | str | tuple[str, str]"]


class WorldAddress(_Located):
    """Street line, city, state and postcode in the country's order (Google's format).

    "742 Evergreen Street, Springfield, IL 62704" (en_US), "Müllerweg 12,
    10115 Berlin" (de_DE), "〒100-0001 東京都千代田区..." style (ja_JP). The
    city lies in the state and the postcode follows it where the country's
    postcodes do. ``unique`` enumerates the street lines.
    """

    def problems(self) -> list[str]:
        if float(self.field.param("complement", 0.0)) > 0:
            return ["complement adds Brazilian complements (Apto 101) and needs "
                    "locale = \"pt_BR\""]
        return []

    def street_only(self) -> bool:
        """``parts = "street"``: the street line alone (city, state and postcode being
        fields of their own)."""
        return self.field.param("parts", "full") == "street"

    @cached_property
    def composer(self) -> Composer:
        return _street_composer(self.locale())

    def _template(self) -> list[str]:
        """The one-line format: tokens %A %C %S %Z and literals, empty parts dropped."""
        fmt = self.country.address_format
        for token in ("%N", "%O", "%D"):
            fmt = fmt.replace(token, "")
        joined = fmt.replace("%n", " " if self.country.code == "JP" else ", ")
        # Separators left by dropped fields (", , ") collapse to one; none at the ends.
        pieces = [p if p.startswith("%") else re.sub(r"(,\s*)+", ", ", p)
                  for p in _split_tokens(joined) if p]
        while pieces and not pieces[0].startswith("%") and not pieces[0].strip(" ,"):
            pieces.pop(0)
        while pieces and not pieces[-1].startswith("%"):
            pieces.pop()
        return pieces

    def space(self) -> int:
        return self.composer.space

    def value_space(self) -> ValueSpace:
        c = self.country
        if self.street_only():
            return ValueSpace(max_length=self.composer.max_length)
        lengths = {"%A": self.composer.max_length, "%C": longest(c.city_names),
                   "%S": max(longest(c.state_codes), longest(c.state_names)),
                   "%Z": c.postcodes.length}
        return ValueSpace(max_length=sum(lengths.get(p, len(p)) for p in self._template()))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self._assemble(self.composer.from_ordinals(ordinals), indices)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self._assemble(self.composer.generate(self.stream.sub("street"), indices),
                              indices)

    @cached_property
    def _segments(self) -> list[Segment]:
        """The one-line format as segments: the street ("%A") and the postcode ("%Z") per
        row, and between them runs of literals, city and state, which depend on the city
        alone (the state is the city's): written once per city, gathered per row."""
        c = self.country
        state_text = c.state_codes if c.code == "US" else c.state_names
        per_city = {"%C": c.city_names, "%S": state_text[c.city_state]}
        segments: list[Segment] = []
        run: np.ndarray | str | None = None
        for piece in self._template():
            if piece in ("%A", "%Z"):
                if run is not None:
                    segments.append(("city" if isinstance(run, np.ndarray) else "text", run))
                    run = None
                segments.append((piece, ""))
                continue
            part: np.ndarray | str = per_city.get(piece, piece)
            if run is None:
                run = part
            elif isinstance(run, str) and isinstance(part, str):
                run = run + part
            else:
                run = np.strings.add(run, part)
        if run is not None:
            segments.append(("city" if isinstance(run, np.ndarray) else "text", run))
        # Literals next to the postcode are written with it, in its grid of code points:
        # one string addition less per row. The postcode's value: (before, after).
        folded: list[Segment] = []
        for kind, value in segments:
            if kind == "%Z":
                before = ""
                if folded and folded[-1][0] == "text":
                    before = str(folded.pop()[1])
                folded.append(("%Z", (before, "")))
            elif kind == "text" and folded and folded[-1][0] == "%Z":
                framing = folded[-1][1]
                assert isinstance(framing, tuple)
                folded[-1] = ("%Z", (framing[0], str(value)))
            else:
                folded.append((kind, value))
        return folded

    def _assemble(self, streets: np.ndarray, indices: np.ndarray) -> np.ndarray:
        if self.street_only():
            return streets
        c = self.country
        # A city by population; its state is the city's; a postcode of that state.
        cities = self.stream.sub("city").weighted(indices, c.city_cumulative)
        out: np.ndarray | None = None
        segments = self._segments
        skip = False
        for position, (kind, value) in enumerate(segments):
            if skip:
                skip = False
                continue
            if kind == "%A":
                part: np.ndarray | str = streets
            elif kind == "%Z":
                assert isinstance(value, tuple)
                before, after = value
                shape, rank = c.postcodes.locate(_postcode_ordinals(
                    c, self.stream, indices, c.city_state[cities]))
                grid = _framed_grid(c.postcodes.codepoints(shape, rank), before, after)
                following = segments[position + 1] if position + 1 < len(segments) else None
                if grid is not None and following is not None and following[0] == "city":
                    # "10115 Berlin": the city's text follows a postcode of fixed width in
                    # the same grid of code points, with no string addition.
                    assert isinstance(following[1], np.ndarray)
                    runs = _codepoint_rows(following[1])
                    part = strings_from_codepoints(np.concatenate([grid, runs[cities]], axis=1))
                    skip = True
                elif grid is not None:
                    part = strings_from_codepoints(grid)
                else:
                    part = np.strings.add(np.strings.add(
                        before, c.postcodes.strings(c.postcodes.starts[shape] + rank)), after)
            elif kind == "city":
                assert isinstance(value, np.ndarray)
                part = value[cities]
            else:
                part = str(value)
            if out is None:
                out = part if isinstance(part, np.ndarray) else np.full(len(indices), part)
            else:
                out = np.strings.add(out, part)
        return out if out is not None else np.full(len(indices), "")


_CODEPOINT_ROWS: IdentityCache[np.ndarray] = IdentityCache()


def _codepoint_rows(words: np.ndarray) -> np.ndarray:
    """A string array's (n, width) code points, NUL-padded (built once per array)."""
    return _CODEPOINT_ROWS.get(words, lambda: np.ascontiguousarray(words).view(np.uint32)
                               .reshape(len(words), words.dtype.itemsize // 4))


def _framed_grid(grid: np.ndarray, before: str, after: str) -> np.ndarray | None:
    """Postcode rows with literal text before and after them, as code points; None when
    the postcodes differ in length (GB), which a grid cannot frame."""
    if len(grid) and (grid[:, -1] == 0).any():
        return None
    out = np.empty((len(grid), len(before) + grid.shape[1] + len(after)), dtype=np.uint32)
    out[:, :len(before)] = codepoints(before)
    out[:, len(before):len(before) + grid.shape[1]] = grid
    out[:, len(before) + grid.shape[1]:] = codepoints(after)
    return out


def _split_tokens(text: str) -> list[str]:
    pieces: list[str] = []
    literal = ""
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            pieces.append(literal)
            literal = ""
            pieces.append(text[i:i + 2])
            i += 2
        else:
            literal += text[i]
            i += 1
    pieces.append(literal)
    return pieces


PHONE_FORMATS = ("international", "national", "e164", "digits")


class WorldPhone(Generator):
    """A valid number of the locale's country by libphonenumber: mobile or fixed."""

    def locale(self) -> str:
        return field_locale(self.field.params, self.ctx)

    def problems(self) -> list[str]:
        problems = []
        if self.field.param("state") is not None:
            problems.append(f"a phone follows a state field for pt_BR mobile numbers only, and "
                            f"the locale is {self.locale()!r}: remove `state`")
        if phone_region(self.locale()) is None:
            problems.append(f"no country of phone numbers for locale {self.locale()!r}; use a "
                            "locale with a country, e.g. en_US, de_DE, ja_JP")
            return problems
        try:
            self.plan  # noqa: B018 - building the plan is the check
        except LookupError as caught:
            problems.append(str(caught))
        return problems

    @cached_property
    def plan(self) -> PhonePlan:
        region = phone_region(self.locale())
        assert region is not None
        return phone_plan(region, self.field.param("line", "mobile"))

    def fmt(self) -> str:
        return self.field.param("format", "international")

    def space(self) -> int:
        return self.plan.size if phone_region(self.locale()) else 0

    def value_space(self) -> ValueSpace | None:
        if phone_region(self.locale()) is None:
            return None
        return ValueSpace(max_length=self.plan.max_length(self.fmt()))

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.plan.from_ordinals(ordinals, self.fmt())

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        plan = self.plan
        group = self.stream.sub("length").weighted(indices, plan.group_weights)
        sizes = np.array([g.shapes.size for g in plan.groups], dtype=np.int64)[group]
        u = self.stream.sub("number").uniform(indices)
        rank = np.minimum((u * sizes).astype(np.int64), sizes - 1)
        return plan.render(group, rank, self.fmt())
