"""Word lists of a locale, read once from Faker's locale data.

Faker is not called per row (that costs about 100 us a row): its provider
classes hold the real lists (and, for some locales, frequency weights) as
class attributes, which we read once and keep as numpy arrays.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["Dictionary", "available_locales", "email_domains", "first_names", "last_names",
           "name_order"]

FALLBACK_LOCALE = "en_US"


@dataclass(frozen=True)
class Dictionary:
    """Distinct words and the cumulative weights to draw them with."""

    name: str
    words: np.ndarray  # unicode array
    cumulative: np.ndarray  # float64, same length, increasing

    def __len__(self) -> int:
        return len(self.words)


@lru_cache(maxsize=1)
def available_locales() -> frozenset[str]:
    from faker.config import AVAILABLE_LOCALES

    return frozenset(AVAILABLE_LOCALES)


def _provider(family: str, locale: str) -> Any:
    """Faker's provider class of ``family`` for ``locale``, else its default."""
    for candidate in (locale, locale.split("_")[0], FALLBACK_LOCALE):
        try:
            module = importlib.import_module(f"faker.providers.{family}.{candidate}")
            return module.Provider
        except ModuleNotFoundError:
            continue
    return importlib.import_module(f"faker.providers.{family}").Provider


def _dictionary(name: str, *sources: Any) -> Dictionary:
    weights: dict[str, float] = {}
    for source in sources:
        if not source:
            continue
        items = source.items() if hasattr(source, "items") else ((w, 1.0) for w in source)
        for word, weight in items:
            weights[str(word)] = weights.get(str(word), 0.0) + float(weight)
    words = sorted(weights)  # sorted: independent of Faker's declaration order
    if not words:
        raise LookupError(f"no {name} in Faker's data")
    cumulative = np.cumsum(np.array([weights[w] for w in words], dtype=np.float64))
    return Dictionary(name, np.array(words), cumulative)


@lru_cache(maxsize=64)
def first_names(locale: str) -> Dictionary:
    p = _provider("person", locale)
    male = getattr(p, "first_names_male", None)
    female = getattr(p, "first_names_female", None)
    if male or female:
        return _dictionary(f"{locale} first names", male, female)
    return _dictionary(f"{locale} first names", getattr(p, "first_names", None))


@lru_cache(maxsize=64)
def last_names(locale: str) -> Dictionary:
    p = _provider("person", locale)
    return _dictionary(f"{locale} last names", getattr(p, "last_names", None))


@lru_cache(maxsize=64)
def email_domains(locale: str) -> Dictionary:
    p = _provider("internet", locale)
    return _dictionary(f"{locale} e-mail domains", getattr(p, "free_email_domains", None))


@lru_cache(maxsize=64)
def name_order(locale: str) -> tuple[bool, str]:
    """Whether the locale writes the family name first, and what separates the two.

    Read from Faker's name formats: when every format starts with the last
    name (ja_JP's "{{last_name}} {{first_name_male}}", zh_CN's without a
    space), a full name is "Last First"; otherwise "First Last".
    """
    p = _provider("person", locale)
    formats = list(getattr(p, "formats", None) or ())
    if isinstance(getattr(p, "formats", None), dict):
        formats = list(p.formats)
    if formats and all(str(f).startswith("{{last_name}}") for f in formats):
        after = str(formats[0])[len("{{last_name}}"):]
        return True, " " if after.startswith(" ") else ""
    return False, " "
