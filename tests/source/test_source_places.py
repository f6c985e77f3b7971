"""Places, companies and text: states, real cities, composed addresses, lorem."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from source_support import load, values, whole

from datastorm_core import run
from datastorm_core.errors import GenfileError
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.parse import tomllib
from datastorm_core.source import Source
from datastorm_core.source.generators.business import CompanyGenerator
from datastorm_core.source.services import brazil, dictionaries, locale_data

ROOT = Path(__file__).resolve().parents[2]
MUNICIPALITIES = ROOT / "datastorm_core" / "source" / "data" / "br_municipalities.csv"
UFS = {"AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
       "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"}
CAPITALS = {
    "AC": "Rio Branco", "AL": "Maceió", "AP": "Macapá", "AM": "Manaus", "BA": "Salvador",
    "CE": "Fortaleza", "DF": "Brasília", "ES": "Vitória", "GO": "Goiânia", "MA": "São Luís",
    "MT": "Cuiabá", "MS": "Campo Grande", "MG": "Belo Horizonte", "PA": "Belém",
    "PB": "João Pessoa", "PR": "Curitiba", "PE": "Recife", "PI": "Teresina",
    "RJ": "Rio de Janeiro", "RN": "Natal", "RS": "Porto Alegre", "RO": "Porto Velho",
    "RR": "Boa Vista", "SC": "Florianópolis", "SP": "São Paulo", "SE": "Aracaju",
    "TO": "Palmas",
}


def shipped() -> list[dict[str, str]]:
    with MUNICIPALITIES.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def one_field(rows: int, spec: str, locale: str = "pt_BR") -> str:
    return f'[dataset]\nseed = 11\nlocale = "{locale}"\n[t]\nrecords = {rows}\n[t.x]\n{spec}\n'


def column(text: str, name: str = "x") -> list[object]:
    return values(whole(run.check(load(text)), "t"), name)


def refused(text: str) -> str:
    with pytest.raises(GenfileError) as caught:
        run.check(load(text))
    return " | ".join(p.message for p in caught.value.problems)


# -- the shipped data -------------------------------------------------------------------


def test_the_municipality_file_is_real_and_whole() -> None:
    rows = shipped()
    assert len(rows) >= 150
    assert {r["uf"] for r in rows} == UFS
    assert len({r["name"] for r in rows}) == len(rows)  # a name is one municipality
    assert all(int(r["population"]) > 0 for r in rows)
    pairs = {(r["uf"], r["name"]) for r in rows}
    assert {(uf, city) for uf, city in CAPITALS.items()} <= pairs
    largest = max(rows, key=lambda r: int(r["population"]))
    assert (largest["name"], largest["uf"]) == ("São Paulo", "SP")


def test_the_municipality_file_is_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "source/data/*.csv" in project["tool"]["setuptools"]["package-data"]["datastorm_core"]
    assert "validate-docbr" in " ".join(project["project"]["optional-dependencies"]["dev"])
    assert len(brazil.municipalities()) == len(shipped())


def test_the_states_are_fakers_with_codes_names_and_populations() -> None:
    s = brazil.states()
    assert set(s.codes.tolist()) == UFS and len(s) == 27
    assert (s.population > 0).all()
    assert s.positions(np.array(["SP", "sp", "São Paulo", "SAO PAULO", "Pará"])).tolist() == \
        [s.codes.tolist().index("SP")] * 4 + [s.codes.tolist().index("PA")]
    with pytest.raises(ValueError, match="'Texas' is not a Brazilian state"):
        s.positions(np.array(["SP", "Texas"]))


# -- state ----------------------------------------------------------------------------


def test_states_are_the_27_ufs_weighted_by_population() -> None:
    states = column(one_field(30_000, 'type = "state"'))
    counts = Counter(states)
    assert set(counts) == UFS
    assert counts.most_common(1)[0][0] == "SP"
    assert 0.20 < counts["SP"] / len(states) < 0.24
    assert counts["RR"] < counts["AC"] < counts["MG"]


def test_state_names() -> None:
    names = set(column(one_field(5000, 'type = "state"\nformat = "name"')))
    assert names == set(brazil.states().names.tolist())
    assert "São Paulo" in names and "Distrito Federal" in names


def test_unique_states() -> None:
    assert sorted(column(one_field(27, 'type = "state"\nunique = true'))) == sorted(UFS)
    assert "only 27 distinct values" in refused(one_field(28, 'type = "state"\nunique = true'))


def test_states_of_locales_without_real_places_come_from_faker() -> None:
    # en_AU is outside services.world: Faker's list still serves it.
    from faker.providers.address.en_AU import Provider

    names = set(column(one_field(3000, 'type = "state"\nformat = "name"', locale="en_AU")))
    codes = set(column(one_field(3000, 'type = "state"', locale="en_AU")))
    assert names <= set(Provider.states) and len(names) > 5
    assert codes <= set(Provider.states_abbr)
    assert "no list of state codes for 'en_NZ'" in refused(one_field(5, 'type = "state"',
                                                                       locale="en_NZ"))


# -- city -----------------------------------------------------------------------------


def test_cities_are_from_the_shipped_list_by_population() -> None:
    cities = column(one_field(30_000, 'type = "city"'))
    names = {r["name"] for r in shipped()}
    assert set(cities) <= names
    counts = Counter(cities)
    assert counts.most_common(1)[0][0] == "São Paulo"
    total = sum(int(r["population"]) for r in shipped())
    assert abs(counts["São Paulo"] / len(cities) - 11_451_000 / total) < 0.01


@pytest.mark.parametrize("state_format", ["code", "name"])
def test_a_city_follows_the_rows_state(state_format: str) -> None:
    text = one_field(20_000, f'type = "state"\nformat = "{state_format}"\n'
                             '[t.city]\ntype = "city"\nstate = "x"\nnull_rate = 0.1')
    chunk = whole(run.check(load(text)), "t")
    s = brazil.states()
    to_code = dict(zip(s.names.tolist(), s.codes.tolist(), strict=True)) \
        if state_format == "name" else {c: c for c in s.codes.tolist()}
    uf_of = {r["name"]: r["uf"] for r in shipped()}
    states = chunk.columns["x"].values.tolist()
    cities = chunk.columns["city"].values.tolist()
    assert all(uf_of[city] == to_code[state] for state, city in zip(states, cities, strict=True))
    # Within a state, by population: Rio de Janeiro is most of RJ's rows.
    rj = Counter(c for st, c in zip(states, cities, strict=True) if to_code[st] == "RJ")
    assert rj.most_common(1)[0][0] == "Rio de Janeiro"
    assert len(set(cities)) > 200
    assert chunk.columns["city"].nulls is not None  # null_rate still applies


def test_a_city_follows_a_choice_of_state_codes_and_refuses_unknown_ones() -> None:
    text = ('[dataset]\nlocale = "pt_BR"\n[t]\nrecords = 500\n'
            '[t.uf]\ntype = "choice"\nvalues = ["AC", "rr"]\n'
            '[t.city]\ntype = "city"\nstate = "uf"\n')
    cities = set(column(text, "city"))
    assert cities == {"Rio Branco", "Cruzeiro do Sul", "Boa Vista", "Rorainópolis"}
    bad = text.replace('["AC", "rr"]', '["AC", "Texas"]')
    with pytest.raises(ValueError, match="'Texas' is not a Brazilian state"):
        whole(run.check(load(bad)), "t")


def test_a_city_state_must_name_a_field() -> None:
    with pytest.raises(GenfileError, match="reads field 'uf'"):
        load(one_field(5, 'type = "city"\nstate = "uf"'))


def test_unique_cities() -> None:
    rows = len(shipped())
    cities = column(one_field(rows, 'type = "city"\nunique = true'))
    assert sorted(cities) == sorted(r["name"] for r in shipped())
    assert "only 241 distinct values" in refused(one_field(rows + 1,
                                                           'type = "city"\nunique = true'))


def test_cities_of_other_locales_only_from_real_lists() -> None:
    # nl_NL is outside services.world: Faker's real list serves it, and en_AU, whose
    # Faker cities are invented, is refused with what to use instead.
    from faker.providers.address.nl_NL import Provider

    dutch = set(column(one_field(2000, 'type = "city"', locale="nl_NL")))
    assert dutch <= set(Provider.cities) and len(dutch) > 100
    message = refused(one_field(5, 'type = "city"', locale="en_AU"))
    assert "'en_AU'" in message and "invented" in message and "pt_BR" in message
    assert "pt_BR only" in refused(one_field(
        5, 'type = "state"\n[t.city]\ntype = "city"\nstate = "x"\nlocale = "nl_NL"'))


# -- address --------------------------------------------------------------------------

ADDRESS = re.compile(r"^(Rua|Avenida|Travessa|Alameda|Praça|Estrada|Rodovia|Largo|Ladeira) "
                     r"(\S.*\S), ([1-9]\d{0,3})(, (Apto \d+|Casa \d|Bloco [A-F]|Sala \d+))?$")


def test_addresses_are_composed_from_prefixes_names_and_numbers() -> None:
    addresses = column(one_field(20_000, 'type = "address"\ncomplement = 0.3'))
    parts = [ADDRESS.match(a) for a in addresses]
    assert all(parts), [a for a, p in zip(addresses, parts, strict=True) if not p][:5]
    prefixes = Counter(p.group(1) for p in parts if p)
    assert prefixes.most_common(1)[0][0] == "Rua"
    numbers = np.array([int(p.group(3)) for p in parts if p])
    assert numbers.min() >= 1 and numbers.max() <= 9999
    assert np.median(numbers) < 300  # small numbers are common
    with_complement = np.mean([p.group(4) is not None for p in parts if p])
    assert 0.27 < with_complement < 0.33
    last_names = set(dictionaries.last_names("pt_BR").words.tolist())
    assert all(any(p.group(2).endswith(n) for n in last_names) for p in parts[:500] if p)


def test_unique_addresses() -> None:
    addresses = column(one_field(100_000, 'type = "address"\nunique = true\ncomplement = 0.5'))
    assert len(set(addresses)) == len(addresses)
    assert all(ADDRESS.match(a) for a in addresses)


def test_addresses_need_real_places_and_complement_is_a_share() -> None:
    assert "pt_BR street data only" in refused(one_field(5, 'type = "address"',
                                                         locale="en_AU"))
    assert "needs locale = \"pt_BR\"" in refused(one_field(
        5, 'type = "address"\ncomplement = 0.2', locale="en_US"))
    assert "between 0 and 1" in refused(one_field(5, 'type = "address"\ncomplement = 1.5'))


# -- company --------------------------------------------------------------------------


def test_companies_follow_fakers_pt_br_formats() -> None:
    companies = column(one_field(20_000, 'type = "company"'))
    suffixes = locale_data.company_suffixes("pt_BR").words.tolist()
    with_suffix = [c for c in companies if any(c.endswith(" " + s) for s in suffixes)]
    assert 0.4 < len(with_suffix) / len(companies) < 0.6  # two of Faker's four formats
    assert any(c.endswith(" Ltda.") for c in companies)


def test_every_unique_pt_br_company_name_is_distinct() -> None:
    # The whole space, enumerated: no two (format, names, suffix) choices spell the same.
    genfile = load(one_field(1, 'type = "company"\nunique = true'))
    generator = Source(genfile).context.compiled("t").fields["x"].generator
    assert isinstance(generator, CompanyGenerator)
    space = generator.space()
    assert space == 63_138
    names = generator.from_ordinals(np.arange(space, dtype=np.int64),
                                    np.arange(space, dtype=np.int64))
    assert len(np.unique(names)) == space


def test_unique_companies_in_english() -> None:
    companies = column(one_field(50_000, 'type = "company"\nunique = true', locale="en_US"))
    assert len(set(companies)) == len(companies)


# -- text -----------------------------------------------------------------------------


def test_text_has_the_word_count_and_sentences() -> None:
    texts = column(one_field(5000, 'type = "text"\nwords = [3, 12]'))
    latin = set(locale_data.lorem_words("pt_BR")[1].words.tolist())
    assert locale_data.lorem_words("pt_BR")[0] == "la"  # Faker has no Portuguese lorem
    counts = []
    for text in texts:
        assert text.endswith(".") and text[0].isupper()
        words = text.replace(".", "").split()
        counts.append(len(words))
        assert {w.lower() for w in words} <= latin
        for sentence in text[:-1].split(". "):
            assert sentence[0].isupper() and len(sentence.split()) >= 1
    assert min(counts) == 3 and max(counts) == 12
    assert any(". " in t for t in texts)


def test_text_of_a_fixed_length_in_english() -> None:
    texts = column(one_field(500, 'type = "text"\nwords = 7', locale="en_US"))
    assert all(len(t.split()) == 7 for t in texts)


@pytest.mark.parametrize("words", ["[5, 2]", "[0, 3]", "[1, 2, 3]", "[1, 5000]", '["a", 2]'])
def test_bad_word_counts_are_refused(words: str) -> None:
    assert "words must" in refused(one_field(5, f'type = "text"\nwords = {words}'))


def test_text_cannot_be_unique() -> None:
    assert "cannot be unique" in refused(one_field(5, 'type = "text"\nunique = true'))


# -- every new type together: determinism and the documented examples -------------------

ALL_NEW = """
[dataset]
seed = 99
locale = "pt_BR"

[c]
records = 3000

[c.id]
type = "sequence"

[c.cpf]
type = "cpf"
unique = true

[c.cnpj]
type = "cnpj"
unique = true

[c.uf]
type = "state"

[c.city]
type = "city"
state = "uf"

[c.cep]
type = "cep"
state = "uf"
null_rate = 0.1

[c.phone]
type = "phone"
state = "uf"

[c.street]
type = "address"
complement = 0.2

[c.company]
type = "company"

[c.notes]
type = "text"
"""


def test_a_slice_equals_the_same_rows_of_the_whole_table() -> None:
    source = Source(loads_genfile(ALL_NEW, environ={}))
    everything = whole(source, "c")
    for start, stop in [(0, 1), (17, 1234), (2999, 3000), (1500, 3000)]:
        part = Source(loads_genfile(ALL_NEW, environ={})).chunk("c", start, stop)
        for name in everything.columns:
            assert values(part, name) == values(everything, name)[start:stop], name


def _documented_examples() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "genfile.md").read_text(encoding="utf-8")
    found = []
    for kind in ("cpf", "cnpj", "cep", "postcode", "phone", "state", "city", "address", "company",
                 "text"):
        section = text.split(f"\n### `{kind}`\n", 1)[1].split("\n## ", 1)[0] \
            .split("\n### ", 1)[0]
        blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL)
        assert blocks, kind
        found.extend((kind, block) for block in blocks)
    return found


@pytest.mark.parametrize(("kind", "example"), _documented_examples(),
                         ids=[k for k, _ in _documented_examples()])
def test_the_documented_examples_load_and_generate(kind: str, example: str) -> None:
    genfile = loads_genfile(example, environ={})
    assert any(f.type == kind for t in genfile.tables for f in t.fields)
    source = run.check(genfile)
    for table in genfile.table_names:
        chunk = source.chunk(table, 0, 20)
        assert chunk.rows == 20


@pytest.mark.parametrize("kind", ["city", "address", "state", "company", "phone", "text",
                                  "postcode"])
@pytest.mark.parametrize("locale", ["en_AU", "en_NZ", "xx_XX"])
def test_a_refused_locale_is_a_problem_even_for_unique_fields(kind: str, locale: str) -> None:
    # The unique check asks for the value space of a generator whose locale is refused.
    text = one_field(5, f'type = "{kind}"\nunique = true', locale=locale)
    try:
        run.check(load(text))
    except GenfileError as caught:
        assert all(p.field == "x" for p in caught.problems)
    else:
        # Faker has their data for that locale; every country has phone numbers.
        assert kind in ("company", "state", "phone") and locale != "xx_XX"
