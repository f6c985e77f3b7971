"""Brazilian numbers: CPF, CNPJ, CEP, phone. Checked against an independent validator."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from source_support import load, whole
from validate_docbr import CNPJ, CPF

from datastorm_core import run
from datastorm_core.errors import GenfileError
from datastorm_core.source import Source
from datastorm_core.source.services import brazil
from datastorm_core.source.services.documents import (
    CPF_SPACE,
    cnpj_digits,
    cpf_base_from_ordinal,
    cpf_digits,
    digits_of,
    format_digits,
)

# Anatel's area codes (DDD), by state.
REAL_DDDS = {
    "SP": {11, 12, 13, 14, 15, 16, 17, 18, 19}, "RJ": {21, 22, 24}, "ES": {27, 28},
    "MG": {31, 32, 33, 34, 35, 37, 38}, "PR": {41, 42, 43, 44, 45, 46}, "SC": {47, 48, 49},
    "RS": {51, 53, 54, 55}, "DF": {61}, "GO": {62, 64}, "TO": {63}, "MT": {65, 66},
    "MS": {67}, "AC": {68}, "RO": {69}, "BA": {71, 73, 74, 75, 77}, "SE": {79},
    "PE": {81, 87}, "AL": {82}, "PB": {83}, "RN": {84}, "CE": {85, 88}, "PI": {86, 89},
    "PA": {91, 93, 94}, "AM": {92, 97}, "RR": {95}, "AP": {96}, "MA": {98, 99},
}
ALL_DDDS = set().union(*REAL_DDDS.values())

CPF_FORMATTED = re.compile(r"^\d{3}\.\d{3}\.\d{3}-\d{2}$")
CNPJ_FORMATTED = re.compile(r"^\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}$")
PHONE_SHAPES = {
    "international": re.compile(r"^\+55 (\d{2}) 9[6-9]\d{3}-\d{4}$"),
    "national": re.compile(r"^\((\d{2})\) 9[6-9]\d{3}-\d{4}$"),
    "digits": re.compile(r"^(\d{2})9[6-9]\d{7}$"),
    "e164": re.compile(r"^\+55(\d{2})9[6-9]\d{7}$"),
}


def column(text: str, table: str = "t", name: str = "x", start: int = 0,
           stop: int | None = None) -> np.ndarray:
    source = run.check(load(text))
    stop = source.genfile.table(table).records if stop is None else stop
    return source.chunk(table, start, stop).columns[name].values


def one_field(rows: int, spec: str, locale: str = "pt_BR") -> str:
    return f'[dataset]\nseed = 7\nlocale = "{locale}"\n[t]\nrecords = {rows}\n[t.x]\n{spec}\n'


def refused(text: str) -> str:
    with pytest.raises(GenfileError) as caught:
        run.check(load(text))
    return " | ".join(p.message for p in caught.value.problems)


# -- CPF ------------------------------------------------------------------------------


@pytest.mark.parametrize("unique", [False, True])
@pytest.mark.parametrize("formatted", [True, False])
def test_every_cpf_passes_an_independent_validator(formatted: bool, unique: bool) -> None:
    spec = f'type = "cpf"\nformatted = {str(formatted).lower()}\nunique = {str(unique).lower()}'
    cpfs = column(one_field(200_000, spec))
    validator = CPF()
    assert all(validator.validate(c) for c in cpfs.tolist())
    shape = CPF_FORMATTED if formatted else re.compile(r"^\d{11}$")
    assert all(shape.match(c) for c in cpfs.tolist())
    if unique:
        assert len(np.unique(cpfs)) == len(cpfs)


def test_cpfs_cover_the_whole_base_space() -> None:
    # Faker's cpf() restricts its bases; ours are uniform over 9 digits, first one included.
    cpfs = column(one_field(50_000, 'type = "cpf"\nformatted = false'))
    first_digits = {c[0] for c in cpfs.tolist()}
    ninth_digits = {c[8] for c in cpfs.tolist()}
    assert first_digits == ninth_digits == set("0123456789")


def test_repeated_digit_cpfs_are_never_made() -> None:
    repeated = np.arange(10, dtype=np.int64) * 111_111_111
    # The ordinals right around each excluded base, and the space's ends.
    ordinals = np.unique(np.clip(np.concatenate(
        [repeated + k for k in range(-15, 16)] + [np.array([0, CPF_SPACE - 1])]),
        0, CPF_SPACE - 1))
    bases = cpf_base_from_ordinal(ordinals)
    assert not np.isin(bases, repeated).any()
    assert (np.diff(bases) > 0).all()  # increasing, hence one to one
    assert bases.min() == 1 and cpf_base_from_ordinal(np.array([CPF_SPACE - 1]))[0] == 999_999_998
    strings = format_digits(cpf_digits(bases), "#" * 11).tolist()
    assert all(len(set(s)) > 1 for s in strings)


@given(st.lists(st.integers(0, CPF_SPACE - 1), min_size=1, max_size=300, unique=True))
@settings(max_examples=60, deadline=None)
def test_cpf_ordinals_map_one_to_one_to_valid_bases(ordinals: list[int]) -> None:
    bases = cpf_base_from_ordinal(np.array(ordinals, dtype=np.int64))
    assert len(set(bases.tolist())) == len(ordinals)
    assert bases.min() >= 1 and bases.max() <= 999_999_998
    assert all(len(set(f"{b:09d}")) > 1 for b in bases.tolist())
    # The ordinal is the base minus the excluded bases at or below it.
    excluded_below = (np.arange(10)[None, :] * 111_111_111 <= bases[:, None]).sum(axis=1)
    assert (bases - excluded_below == np.array(ordinals)).all()


def test_known_cpf_and_cnpj_check_digits() -> None:
    assert format_digits(cpf_digits(np.array([123456789])), "###.###.###-##")[0] == \
        "123.456.789-09"
    # Banco do Brasil's headquarters: 00.000.000/0001-91.
    assert format_digits(cnpj_digits(np.array([0]), np.array([1])),
                         "##.###.###/####-##")[0] == "00.000.000/0001-91"
    assert digits_of(np.array([7, 1234]), 5).tolist() == [[0, 0, 0, 0, 7], [0, 1, 2, 3, 4]]


def test_an_empty_chunk_of_documents() -> None:
    source = run.check(load(one_field(10, 'type = "cpf"\nunique = true')))
    assert source.chunk("t", 3, 3).columns["x"].values.size == 0


# -- CNPJ -----------------------------------------------------------------------------


@pytest.mark.parametrize("unique", [False, True])
@pytest.mark.parametrize("formatted", [True, False])
def test_every_cnpj_passes_an_independent_validator(formatted: bool, unique: bool) -> None:
    spec = f'type = "cnpj"\nformatted = {str(formatted).lower()}\nunique = {str(unique).lower()}'
    cnpjs = column(one_field(100_000, spec))
    validator = CNPJ()
    assert all(validator.validate(c) for c in cnpjs.tolist())
    shape = CNPJ_FORMATTED if formatted else re.compile(r"^\d{14}$")
    assert all(shape.match(c) for c in cnpjs.tolist())
    if unique:
        assert len(np.unique(cnpjs)) == len(cnpjs)
    branches = np.array([int(re.sub(r"\D", "", c)[8:12]) for c in cnpjs.tolist()])
    assert 0.83 < (branches == 1).mean() < 0.87  # mostly headquarters
    assert branches.min() >= 1 and branches.max() <= 30


def test_unique_cnpjs_of_a_huge_table_enumerate_base_and_branch() -> None:
    # Past 10**8 rows every base is used: (base, branch) pairs are enumerated.
    text = one_field(300_000_000, 'type = "cnpj"\nunique = true')
    source = run.check(load(text))
    cnpjs = source.chunk("t", 123_456_789, 123_456_789 + 50_000).columns["x"].values
    assert len(np.unique(cnpjs)) == len(cnpjs)
    assert all(CNPJ().validate(c) for c in cnpjs.tolist())
    branches = {int(re.sub(r"\D", "", c)[8:12]) for c in cnpjs.tolist()}
    assert max(branches) > 1000  # branches spread over 0001..9999
    assert 0 not in branches


def test_too_many_unique_cpfs_are_refused() -> None:
    assert "only 999,999,990 distinct values" in \
        refused(one_field(1_000_000_000, 'type = "cpf"\nunique = true'))


# -- CEP ------------------------------------------------------------------------------


def _cep_prefixes_of(uf: str) -> set[int]:
    s = brazil.states()
    ranges = s.cep_ranges[s.codes.tolist().index(uf)]
    return {p for low, high in ranges for p in range(low, high + 1)}


def test_ceps_have_the_shape_and_lie_in_some_state() -> None:
    ceps = column(one_field(20_000, 'type = "cep"')).tolist()
    assert all(re.fullmatch(r"\d{5}-\d{3}", c) for c in ceps)
    every_prefix = set().union(*(_cep_prefixes_of(uf) for uf in REAL_DDDS))
    assert all(int(c[:5]) in every_prefix for c in ceps)
    assert all(int(c[-3:]) < 900 for c in ceps)  # street suffixes, not special codes
    # By population: São Paulo (01000-19999) is the largest share.
    sp = np.mean([int(c[:5]) < 20000 for c in ceps])
    assert 0.19 < sp < 0.25
    raw = column(one_field(100, 'type = "cep"\nformatted = false')).tolist()
    assert all(re.fullmatch(r"\d{8}", c) for c in raw)


def test_a_cep_follows_the_rows_state() -> None:
    text = one_field(5000, 'type = "state"\n[t.cep]\ntype = "cep"\nstate = "x"')
    source = run.check(load(text))
    chunk = whole(source, "t")
    states = chunk.columns["x"].values.tolist()
    ceps = chunk.columns["cep"].values.tolist()
    prefixes = {uf: _cep_prefixes_of(uf) for uf in set(states)}
    assert all(int(c[:5]) in prefixes[uf] for uf, c in zip(states, ceps, strict=True))


def test_unique_ceps() -> None:
    ceps = column(one_field(100_000, 'type = "cep"\nunique = true'))
    assert len(np.unique(ceps)) == len(ceps)
    assert all(re.fullmatch(r"\d{5}-\d{3}", c) for c in ceps.tolist())


def test_a_unique_field_cannot_follow_a_state() -> None:
    text = one_field(10, 'type = "state"\n[t.cep]\ntype = "cep"\nstate = "x"\nunique = true')
    assert "cannot follow a state field" in refused(text)


# -- phone ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(PHONE_SHAPES))
def test_phones_have_the_shape_and_real_area_codes(fmt: str) -> None:
    phones = column(one_field(20_000, f'type = "phone"\nformat = "{fmt}"')).tolist()
    codes = []
    for phone in phones:
        found = PHONE_SHAPES[fmt].match(phone)
        assert found, phone
        codes.append(int(found.group(1)))
    assert set(codes) <= ALL_DDDS
    assert len(set(codes)) == len(ALL_DDDS) == 67  # every real code is used
    # A state's population is split evenly among its codes: SP's 22% over 9 codes.
    assert 0.018 < np.mean(np.array(codes) == 11) < 0.031
    assert 0.011 < np.mean(np.array(codes) == 61) < 0.017  # DF: one code, 1.4%


def test_the_default_phone_format_is_international() -> None:
    phones = column(one_field(100, 'type = "phone"')).tolist()
    assert all(PHONE_SHAPES["international"].match(p) for p in phones)


def test_a_phone_follows_the_rows_state() -> None:
    text = one_field(5000, 'type = "state"\nformat = "name"\n'
                           '[t.phone]\ntype = "phone"\nstate = "x"\nformat = "digits"')
    chunk = whole(run.check(load(text)), "t")
    s = brazil.states()
    code_of = dict(zip(s.names.tolist(), s.codes.tolist(), strict=True))
    for name, phone in zip(chunk.columns["x"].values.tolist(),
                           chunk.columns["phone"].values.tolist(), strict=True):
        assert int(phone[:2]) in REAL_DDDS[code_of[name]]


def test_unique_phones() -> None:
    phones = column(one_field(100_000, 'type = "phone"\nunique = true'))
    assert len(np.unique(phones)) == len(phones)
    assert all(PHONE_SHAPES["international"].match(p) for p in phones.tolist())


def test_phones_follow_the_locale() -> None:
    # Another country's locale gives that country's numbers (tests/source/
    # test_locales_real.py checks them); the field's own locale wins over the dataset's.
    assert all(p.startswith("+1 ") for p in
               column(one_field(10, 'type = "phone"', locale="en_US")).tolist())
    phones = column(one_field(10, 'type = "phone"\nlocale = "pt_BR"', locale="en_US"))
    assert all(PHONE_SHAPES["international"].match(p) for p in phones.tolist())
    # A locale without a country has no numbering plan: refused, saying what to use.
    assert "no country of phone numbers" in refused(one_field(10, 'type = "phone"',
                                                              locale="en"))


def test_documents_do_not_depend_on_the_locale() -> None:
    for locale in ("en_US", "de_DE"):
        text = one_field(100, 'type = "cpf"\n[t.cnpj]\ntype = "cnpj"\n[t.cep]\ntype = "cep"',
                         locale=locale)
        chunk = whole(Source(load(text)), "t")
        assert all(CPF().validate(c) for c in chunk.columns["x"].values.tolist())
        assert all(CNPJ().validate(c) for c in chunk.columns["cnpj"].values.tolist())


@pytest.mark.parametrize("spec", ['type = "phone"\nformat = "mobile"',
                                  'type = "cpf"\nformatted = "yes"'])
def test_bad_parameters_are_refused_by_the_language(spec: str) -> None:
    with pytest.raises(GenfileError):
        load(one_field(10, spec))
