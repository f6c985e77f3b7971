"""Parameters that need more than a TOML type check: templates, hashes, words, durations.

A template is parsed here once, for the catalogue (which fields it reads),
for the checks and for the generator, so the three always agree. Nothing
in a template is evaluated: ``{name}`` names a field of the same row, and
the only format specs are paddings, checked here. Durations (``interval``)
and times of day (``time``) are read here too, for the same reason: the
validation and the generator must read "1d12h" the same way.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

__all__ = [
    "HASH_ALGORITHMS",
    "MAX_ARRAY_LENGTH",
    "MAX_BYTES",
    "MAX_INTERVAL_SECONDS",
    "MAX_JSON_KEYS",
    "MAX_TEMPLATE_WIDTH",
    "Padding",
    "TemplateError",
    "TemplatePart",
    "count_bounds",
    "hash_problems",
    "hash_reads",
    "is_csv",
    "json_reads",
    "parse_duration",
    "parse_template",
    "parse_time_of_day",
    "template_problems",
    "template_reads",
    "word_problems",
]

# Hex digits of each algorithm's digest (hashlib's default digest sizes).
HASH_ALGORITHMS: dict[str, int] = {"sha256": 64, "md5": 32, "sha1": 40, "blake2b": 128}
# A padding wider than this is surely a typo (and would make huge strings).
MAX_TEMPLATE_WIDTH = 1000

# `{x:>8}`, `{x:*<8}`, `{x:^8}`: fill (one character, optional) and alignment, then a width.
_ALIGNED = re.compile(r"(?P<fill>.)?(?P<align>[<>^])(?P<width>\d+)", re.DOTALL)
# `{x:08}`: zeros after the sign, like str.zfill and Python's format of numbers.
_ZEROS = re.compile(r"0(?P<width>\d+)")
_SPEC_HELP = ("use {f:>8}, {f:<8} or {f:^8} (optionally a fill character before the "
              "alignment, as in {f:*>8}) or {f:08} for zeros")


class TemplateError(ValueError):
    """A template that cannot be used; the message says why and how to fix it."""


@dataclass(frozen=True)
class Padding:
    """A validated format spec: pad the text to ``width``."""

    width: int
    align: str  # "<", ">", "^", or "0" (zeros after the sign)
    fill: str = " "


@dataclass(frozen=True)
class TemplatePart:
    """Literal text, then (optionally) the value of a field, padded."""

    literal: str
    field: str | None = None
    padding: Padding | None = None


def parse_template(text: str) -> tuple[TemplatePart, ...]:
    """The parts of a template; raise TemplateError for anything but plain field names."""
    parts: list[TemplatePart] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"template {text!r}: {exc}; write {{{{ and }}}} for literal "
                            "braces") from None
    pending = ""  # literal text not yet attached to a field ("{{" comes as its own piece)
    for literal, name, spec, conversion in parsed:
        pending += literal
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + \
            (f":{spec}" if spec else "") + "}"
        if not name.strip():
            raise TemplateError(f"template {text!r}: {shown} names no field; write the name "
                                "of a field of the same row, e.g. {first_name}")
        if any(c in name for c in ".[]"):
            raise TemplateError(f"template {text!r}: {shown}: only plain field names are "
                                "allowed (no attribute or index access)")
        if conversion is not None:
            raise TemplateError(f"template {text!r}: {shown}: conversions (!r, !s, !a) are not "
                                "supported")
        parts.append(TemplatePart(pending, name, _padding(text, shown, spec)))
        pending = ""
    if pending:
        parts.append(TemplatePart(pending))
    return tuple(parts)


def _padding(text: str, shown: str, spec: str) -> Padding | None:
    if not spec:
        return None
    aligned = _ALIGNED.fullmatch(spec)
    zeros = _ZEROS.fullmatch(spec)
    if aligned is None and zeros is None:
        raise TemplateError(f"template {text!r}: {shown}: format spec {spec!r} is not "
                            f"supported; {_SPEC_HELP}")
    width = int((aligned or zeros).group("width"))  # type: ignore[union-attr]
    if width > MAX_TEMPLATE_WIDTH:
        raise TemplateError(f"template {text!r}: {shown}: width {width} is larger than "
                            f"{MAX_TEMPLATE_WIDTH}")
    if aligned is not None:
        return Padding(width, aligned.group("align"), aligned.group("fill") or " ")
    return Padding(width, "0", "0")


def template_reads(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Fields a template reads, in order, each once; () when it cannot be parsed."""
    text = params.get("template")
    if not isinstance(text, str):
        return ()
    try:
        parts = parse_template(text)
    except TemplateError:
        return ()
    return tuple(dict.fromkeys(p.field for p in parts if p.field is not None))


def template_problems(params: Mapping[str, Any]) -> tuple[str, ...]:
    text = params.get("template")
    if not isinstance(text, str):
        return ()
    try:
        parse_template(text)
    except TemplateError as exc:
        return (str(exc),)
    return ()


def hash_reads(params: Mapping[str, Any]) -> tuple[str, ...]:
    of = params.get("of")
    if not isinstance(of, list):
        return ()
    return tuple(dict.fromkeys(f for f in of if isinstance(f, str)))


def hash_problems(params: Mapping[str, Any]) -> tuple[str, ...]:
    problems: list[str] = []
    of = params.get("of")
    if isinstance(of, list):
        if not of:
            problems.append("of must name at least one field, e.g. of = [\"email\"]")
        elif not all(isinstance(f, str) and f for f in of):
            problems.append(f"of must be a list of field names, got {of!r}")
    algorithm = params.get("algorithm", "sha256")
    length = params.get("length")
    digits = HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if digits is not None and isinstance(length, int) and not isinstance(length, bool) \
            and not 1 <= length <= digits:
        problems.append(f"length must be between 1 and {digits} for {algorithm}, got {length}")
    return tuple(problems)


def word_problems(params: Mapping[str, Any]) -> tuple[str, ...]:
    path = params.get("dictionary")
    if not isinstance(path, str):
        return ()
    if not path.strip():
        return ("dictionary must be the path of a .txt or .csv file",)
    if not is_csv(path):
        extra = [p for p in ("column", "weight_column") if p in params]
        if extra:
            verb = "apply" if len(extra) > 1 else "applies"
            return (f"{' and '.join(extra)} {verb} only to a .csv dictionary, and "
                    f"{path!r} is read as a text file (one value per line)",)
    return ()


def is_csv(path: str) -> bool:
    """A dictionary is read as CSV when its name ends in .csv (any case)."""
    return path.lower().endswith(".csv")


# -- json, array, bytes: counts given as `n` or `[min, max]` ---------------------------

# Upper bounds that keep a chunk's strings a few megabytes (and catch typos).
MAX_JSON_KEYS = 50
MAX_ARRAY_LENGTH = 1000
MAX_BYTES = 1000


def count_bounds(value: Any) -> tuple[int, int] | None:
    """``n`` or ``[min, max]`` as ``(min, max)``; None when it is neither shape."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value[0], value[1]
    return None


def json_reads(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields a json object is made of (``of``), each once."""
    return hash_reads(params)


# -- interval: durations ----------------------------------------------------------------

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
# PostgreSQL keeps an interval's days in an int32: the text "N days" cannot go beyond.
MAX_INTERVAL_SECONDS = (2**31 - 1) * 86_400


def parse_duration(value: Any) -> int:
    """Seconds of a duration: an integer of seconds, or "90s", "15m", "2h", "3d", "1w", "1d12h".

    Raises:
        ValueError: with a message that says how to write one.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and _DURATION.fullmatch(value.replace(" ", "")):
        seconds = sum(int(number) * _UNIT_SECONDS[unit]
                      for number, unit in _DURATION_PART.findall(value.replace(" ", "")))
    else:
        raise ValueError(f"cannot read duration {value!r}: write a number of seconds or a "
                         "number with a unit s, m, h, d or w, like \"90s\", \"15m\", \"2h\", "
                         "\"3d\", \"1w\" or \"1d12h\"")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    if seconds > MAX_INTERVAL_SECONDS:
        raise ValueError(f"duration {value!r} is longer than PostgreSQL's 2147483647 days")
    return seconds


# -- time: times of day -------------------------------------------------------------------

_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_time_of_day(value: Any) -> int:
    """Seconds since midnight of "HH:MM" or "HH:MM:SS" (or a TOML time like 08:30:00).

    Raises:
        ValueError: with a message that says how to write one.
    """
    if isinstance(value, time):
        if value.microsecond:
            raise ValueError(f"time {value.isoformat()} has a fraction of a second; times are "
                             "whole seconds")
        return value.hour * 3600 + value.minute * 60 + value.second
    found = _TIME_OF_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"cannot read time {value!r}: write \"HH:MM\" or \"HH:MM:SS\", "
                         "like \"08:30\" or \"17:45:30\"")
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"time {value!r} is not a time of day (00:00:00 to 23:59:59)")
    return hours * 3600 + minutes * 60 + seconds
