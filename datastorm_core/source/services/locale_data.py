"""Locale data for places, companies and text, read once from Faker's providers.

Like ``dictionaries``, this never calls Faker per row: it reads the lists
Faker's provider classes hold (state names, city lists, street prefixes,
company formats and suffixes, lorem word lists) and keeps them as numpy
arrays. Where Faker only has patterns (en_US cities are "{prefix}
{first_name}{suffix}" inventions), nothing is returned, and the generator
refuses the locale instead of inventing.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

from datastorm_core.source.services import dictionaries
from datastorm_core.source.services.dictionaries import Dictionary

__all__ = [
    "STREET_PREFIX_WEIGHTS",
    "STREET_TITLES",
    "city_list",
    "company_formats",
    "company_suffixes",
    "company_words",
    "lorem_words",
    "state_list",
    "street_prefixes",
]

# How common each kind of street is in Brazilian addresses (a rough share, in
# percent). Only prefixes in Faker's pt_BR list are used; Faker's list also
# has places that are not street addresses (Aeroporto, Favela, Lago...).
STREET_PREFIX_WEIGHTS = {
    "Rua": 62, "Avenida": 20, "Travessa": 6, "Alameda": 4, "Praça": 3, "Estrada": 2,
    "Rodovia": 1, "Largo": 1, "Ladeira": 1,
}
# Titles of the people Brazilian streets are named after ("Rua Coronel Souza").
STREET_TITLES = ("Doutor", "Professor", "Padre", "Coronel", "Capitão", "Major", "General",
                 "Marechal", "Presidente", "Senador", "Deputado", "Governador", "Prefeito",
                 "Vereador", "Engenheiro", "Desembargador", "Dom", "Monsenhor", "Frei",
                 "Comendador")
# Faker's formats that draw a city verbatim from the provider's list.
_VERBATIM_CITY_FORMATS = (("{{city_name}}",), ("{{city}}",))
_TOKEN = re.compile(r"(\{\{\w+\}\})")


def _exact_provider(family: str, locale: str) -> Any | None:
    """The provider of ``locale`` (or its language), never another locale's."""
    for candidate in dict.fromkeys((locale, locale.split("_")[0])):
        try:
            return importlib.import_module(f"faker.providers.{family}.{candidate}").Provider
        except ModuleNotFoundError:
            continue
    return None


@lru_cache(maxsize=64)
def city_list(locale: str) -> Dictionary | None:
    """The locale's list of real city names, or None when Faker only has patterns."""
    p = _exact_provider("address", locale)
    if p is None:
        return None
    formats = tuple(getattr(p, "city_formats", None) or ())
    names = getattr(p, "cities", None) or getattr(p, "city_names", None)
    if formats not in _VERBATIM_CITY_FORMATS or not names:
        return None
    return dictionaries._dictionary(f"{locale} cities", names)


@lru_cache(maxsize=64)
def state_list(locale: str, fmt: str) -> Dictionary | None:
    """The locale's states (names, or codes with ``fmt == "code"``), or None."""
    p = _exact_provider("address", locale)
    if p is None:
        return None
    names = getattr(p, "states_abbr" if fmt == "code" else "states", None)
    if not names or not all(isinstance(n, str) for n in names):
        return None
    return dictionaries._dictionary(f"{locale} states", names)


@lru_cache(maxsize=8)
def street_prefixes(locale: str) -> Dictionary | None:
    """Street prefixes (Rua, Avenida...) weighted by how common they are: pt_BR only."""
    if locale != "pt_BR":
        return None
    p = _exact_provider("address", locale)
    known = set(getattr(p, "street_prefixes", ()) or ())
    weights = {w: float(n) for w, n in STREET_PREFIX_WEIGHTS.items() if w in known}
    if not weights:
        return None
    return dictionaries._dictionary(f"{locale} street prefixes", weights)


@lru_cache(maxsize=64)
def company_suffixes(locale: str) -> Dictionary:
    p = dictionaries._provider("company", locale)
    return dictionaries._dictionary(f"{locale} company suffixes",
                                    getattr(p, "company_suffixes", None))


@lru_cache(maxsize=64)
def company_formats(locale: str) -> tuple[tuple[tuple[str, ...], float], ...]:
    """Faker's company formats as parts, with how often Faker picks each.

    A part is literal text or one of the tokens ``{{last_name}}``,
    ``{{first_name}}``, ``{{company_suffix}}``; formats with other tokens
    are left out. Repeated formats (Faker repeats one to weight it) are
    merged into one with the summed weight.
    """
    p = dictionaries._provider("company", locale)
    merged: dict[tuple[str, ...], float] = {}
    for fmt in getattr(p, "formats", ()) or ():
        parts = tuple(part for part in _TOKEN.split(fmt) if part)
        tokens = {part for part in parts if _TOKEN.fullmatch(part)}
        known = {"{{last_name}}", "{{first_name}}"}
        if tokens and all(t in known or _word_list(p, t) for t in tokens):
            merged[parts] = merged.get(parts, 0.0) + 1.0
    return tuple(merged.items())


def _word_list(provider: Any, token: str) -> tuple[str, ...]:
    """The provider's list behind a format token: {{company_suffix}} reads
    ``company_suffixes``, ja_JP's {{company_category}} ``company_categories``."""
    name = token.strip("{}")
    for plural in (name + "es", name + "s", name[:-1] + "ies" if name.endswith("y") else ""):
        found = getattr(provider, plural, None) if plural else None
        if isinstance(found, (list, tuple, dict)) and found and all(
                isinstance(w, str) for w in found):
            return tuple(found)
    return ()


@lru_cache(maxsize=64)
def company_words(locale: str, token: str) -> Dictionary:
    """The words of a company format token other than names (suffixes, categories)."""
    p = dictionaries._provider("company", locale)
    return dictionaries._dictionary(f"{locale} {token.strip('{}')}", _word_list(p, token))


@lru_cache(maxsize=64)
def lorem_words(locale: str) -> tuple[str, Dictionary]:
    """The locale's lorem word list, else its language's, else Latin (as Faker does).

    Returns the locale the words are from, and the words.
    """
    for candidate in dict.fromkeys((locale, locale.split("_")[0], "la")):
        try:
            module = importlib.import_module(f"faker.providers.lorem.{candidate}")
        except ModuleNotFoundError:
            continue
        words = [w for w in getattr(module.Provider, "word_list", ()) if w.strip()]
        if words:
            return candidate, dictionaries._dictionary(f"{candidate} lorem words", words)
    raise LookupError(f"no lorem word list for {locale}")
