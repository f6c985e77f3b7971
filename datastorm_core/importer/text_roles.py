"""A text column's field from its name: an e-mail, a person's or company's name, a place...

The column's name says what it holds (``email``, ``first_name``, ``city``,
``sku``); the table's name tells a person's ``name`` from a company's or a
title. Places and phones need real data in the Genfile's locale
(``supported``); without it the field is plain text of the right shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from datastorm_core.importer.facts import ColumnFacts, FieldChoice
from datastorm_core.target.postgres.live_tables import LiveColumn, LiveTable

__all__ = ["PERSON_TABLES", "text_choice"]

PERSON_TABLES = re.compile(r"(user|customer|client|person|people|employee|staff|member|"
                            r"patient|author|actor|contact|student|teacher|doctor|owner|"
                            r"account_holder|profile|driver|guest|player|subscriber)", re.I)
_COMPANY_TABLES = re.compile(r"(compan|organi[sz]ation|supplier|vendor|business|merchant|"
                             r"partner|insurer|bank|store|shop|brand|manufacturer)", re.I)
_COUNTRIES = ["Brazil", "United States", "Germany", "France", "Spain", "Mexico", "Italy",
              "Portugal", "Japan", "United Kingdom", "Canada", "Argentina", "India",
              "Australia", "Netherlands"]


# -- text, by the column's name --------------------------------------------------------

_TEXT_BY_NAME: list[tuple[str, str]] = [
    (r"e_?mail", "email"),
    (r"(first|given|fore)_?name|^fname$", "first_name"),
    (r"(last|family|sur)_?name|^lname$", "last_name"),
    (r"^cpf$", "cpf"), (r"^cnpj$", "cnpj"), (r"^cep$", "cep"),
    (r"(phone|mobile|cell|fax|telephone)", "phone"),
    (r"(zip|postal|post_?code)", "postcode"),
    (r"^(city|town|municipality)(_name)?$", "city"),
    (r"^(state|province|region|uf)(_name|_code)?$", "state"),
    (r"^country(_name)?$", "country"),
    (r"(address|street|addr)", "address"),
    (r"(company|organi[sz]ation|employer|business)(_name)?$", "company"),
    (r"(url|website|homepage|link)$", "url"),
    (r"slug", "slug"),
    (r"(user_?name|login|handle|nick)", "username"),
    (r"(password|passwd|pwd|secret|token|api_?key|hash|digest)", "secret"),
    (r"(ip_?addr|^ip$)", "ip"),
    (r"(uuid|guid)", "uuid"),
    (r"^(sku|code|.*_code|reference|ref_no|serial)$", "code"),
    (r"(title|subject|headline|caption|label)", "title"),
    (r"(description|bio|notes?|comments?|body|content|summary|message|text|details)", "prose"),
    (r"(colou?r)", "color"),
    (r"^(gender|sex)$", "gender"),
    (r"currency", "currency"),
    (r"^(lang|language|locale)(_code)?$", "language"),
    (r"(full_?name|display_?name|contact_?name|customer_?name|^name$)", "name"),
]


# How a comment names each role of a text column.
_ROLE_NAMES = {"prose": "free text", "secret": "a secret (hex)", "words": "words",
               "code": "a code", "url": "a URL", "postcode": "a postcode"}


def text_choice(table: LiveTable, column: LiveColumn, facts: ColumnFacts,
          person_names: Mapping[str, str], supported: Mapping[str, bool]) -> FieldChoice:
    role = next((r for pattern, r in _TEXT_BY_NAME if re.search(pattern, column.name, re.I)),
                "words")
    choice = _text_role(role, table, column, facts, person_names, supported)
    width = column.type.length or facts.max_length
    if width is not None and choice.type not in ("cpf", "cnpj", "cep", "uuid"):
        choice.params["max_length"] = width
    return choice


def _text_role(role: str, table: LiveTable, column: LiveColumn, facts: ColumnFacts,
               person_names: Mapping[str, str], supported: Mapping[str, bool]) -> FieldChoice:
    why = [f"the column's name says {_ROLE_NAMES.get(role, role.replace('_', ' '))}"]
    if role == "name" and not PERSON_TABLES.search(table.name):
        role = "company" if _COMPANY_TABLES.search(table.name) else "title"
        why = [f"a {role} for a {table.name}"]
    if role in ("first_name", "last_name", "name", "company", "cpf", "cnpj", "cep"):
        return FieldChoice(role, {}, why)
    if role == "email":
        source = person_names.get("name") or person_names.get("first_name")
        return FieldChoice("email", {"from": source} if source else {}, why)
    if role in ("city", "state", "address", "phone") and supported.get(role, False):
        return FieldChoice(role, {}, why)
    if role == "postcode":
        if supported.get("cep", False):
            return FieldChoice("cep", {}, why)
        if supported.get("postcode", False):  # the locale's country's own format
            return FieldChoice("postcode", {}, why)
        return FieldChoice("string", {"pattern": "99999"}, why)
    if role == "phone":
        return FieldChoice("string", {"pattern": "(999) 999-9999"}, why)
    if role in ("city", "state"):
        return FieldChoice("text", {"words": [1, 2]}, [*why, "(no real places in this locale)"])
    if role == "address":
        return FieldChoice("string", {"pattern": "9999 Aaaaaaa Street"}, why)
    if role == "country":
        return FieldChoice("choice", {"values": _COUNTRIES}, why)
    if role == "url":
        return FieldChoice("string", {"pattern": "https://www.aaaaaaaa.com/aaaaaa"}, why)
    if role == "slug":
        return FieldChoice("string", {"length": [6, 24],
                                      "chars": "abcdefghijklmnopqrstuvwxyz0123456789-"}, why)
    if role == "username":
        return FieldChoice("string", {"length": [6, 14],
                                      "chars": "abcdefghijklmnopqrstuvwxyz0123456789_"}, why)
    if role == "secret":
        return FieldChoice("string", {"length": [40, 64],
                                      "chars": "abcdef0123456789"}, why)
    if role == "ip":
        return FieldChoice("ip", {}, why)
    if role == "uuid":
        return FieldChoice("uuid", {}, why)
    if role == "code":
        return FieldChoice("string", {"pattern": "AAA-99999"}, why)
    if role == "title":
        return FieldChoice("text", {"words": [1, 4]}, why)
    if role == "prose":
        return FieldChoice("text", {"words": [5, 25]}, why)
    if role == "color":
        return FieldChoice("choice", {"values": ["red", "green", "blue", "black", "white",
                                                 "yellow", "gray"]}, why)
    if role == "gender":
        return FieldChoice("choice", {"values": ["F", "M"]}, why)
    if role == "currency":
        return FieldChoice("choice", {"values": ["BRL", "USD", "EUR", "GBP", "JPY"]}, why)
    if role == "language":
        return FieldChoice("choice", {"values": ["pt", "en", "es", "fr", "de", "it", "ja"]},
                           why)
    return FieldChoice("text", {"words": [1, 4]}, [])
