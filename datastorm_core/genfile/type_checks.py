"""Each field type's own checks of its parameters, beyond their TOML types.

The type catalogue (``types.FIELD_TYPES``) points each type at its checks
here; validation calls them with the dataset's ``now`` (relative dates) and
reports what they return under the field's header.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from datastorm_core.genfile import fieldspecs
from datastorm_core.genfile.literals import INT64_MAX, is_int, toml_text
from datastorm_core.genfile.model import Dataset
from datastorm_core.genfile.timeexpr import TimeExprError, resolve_time

__all__ = ["Check", "checks"]

#: One part of a type's check: its parameters and the dataset's ``now`` -> problems.
Part = Callable[[Mapping[str, Any], datetime], list[str]]

_DEFAULT_BOUNDS = {"int": (0, 1_000_000), "float": (0.0, 1.0), "decimal": (0, 1000)}


class Check:
    """A field type's check: its parts' problems, in order. ``now`` (relative dates)
    defaults to the dataset's default anchor."""

    def __init__(self, *parts: Part) -> None:
        self.parts = parts

    def __call__(self, params: Mapping[str, Any], now: datetime | None = None
                 ) -> tuple[str, ...]:
        anchor = now or Dataset().now
        return tuple(message for part in self.parts for message in part(params, anchor))


def checks(*parts: Part) -> Check:
    """One check made of several parts."""
    return Check(*parts)


def params_only(check: Callable[[Mapping[str, Any]], tuple[str, ...]]) -> Part:
    """A part that needs no ``now`` (templates, hashes, dictionaries)."""
    return lambda p, now: list(check(p))


def shape(p: Mapping[str, Any], now: datetime) -> list[str]:
    """A distribution's parameters: positive spreads and exponents."""
    found = []
    # A duration ("7d") is a gap's (genfile.time_order checks it).
    numbers = {k: p[k] for k in ("stddev", "exponent", "mean")
               if isinstance(p.get(k), (int, float))}
    if numbers.get("stddev", 1) <= 0:
        found.append(f"stddev must be positive, got {p['stddev']}")
    if numbers.get("exponent", 1) <= 0:
        found.append(f"exponent must be positive, got {p['exponent']}")
    if p.get("distribution") == "exponential" and numbers.get("mean", 1) <= 0:
        found.append("an exponential distribution needs a positive mean")
    return found


def bounds(kind: str) -> Part:
    """``min <= max``, either of them defaulted as the type defaults it."""
    def check(p: Mapping[str, Any], now: datetime) -> list[str]:
        if "min" not in p and "max" not in p:
            return []
        low = p.get("min", _DEFAULT_BOUNDS[kind][0])
        high = p.get("max", _DEFAULT_BOUNDS[kind][1])
        if low <= high:
            return []
        which = "" if "min" in p and "max" in p else " (the other bound is the default)"
        return [f"min ({low}) is greater than max ({high}){which}"]
    return check


def sequence(p: Mapping[str, Any], now: datetime) -> list[str]:
    return ["step cannot be 0"] if p.get("step") == 0 else []


def boolean(p: Mapping[str, Any], now: datetime) -> list[str]:
    if "probability" in p and not 0 <= p["probability"] <= 1:
        return [f"probability must be between 0 and 1, got {p['probability']}"]
    return []


def decimal(p: Mapping[str, Any], now: datetime) -> list[str]:
    scale = p.get("scale", 2)
    if not 0 <= scale <= 18:
        return [f"scale must be between 0 and 18, got {scale}"]
    found = []
    bound = max(abs(p.get("min", 0)), abs(p.get("max", 1000)))
    if bound * 10**scale > INT64_MAX:
        found.append(f"range too wide for scale {scale}: |value| * 10**scale must stay below "
                     "2**63")
    if "precision" in p and p["precision"] < _digits_needed(bound, scale):
        found.append(f"precision {p['precision']} cannot hold {bound} with scale {scale}")
    return found


def floating(p: Mapping[str, Any], now: datetime) -> list[str]:
    if "scale" in p and not 0 <= p["scale"] <= 15:
        return [f"scale must be between 0 and 15, got {p['scale']}"]
    return []


def choice(p: Mapping[str, Any], now: datetime) -> list[str]:
    if "values" not in p:
        return []
    values = p["values"]
    if not values:
        return ["values cannot be empty"]
    if not all(isinstance(v, (str, int, float, bool)) for v in values):
        return ["values must be strings, numbers or booleans"]
    if len({(type(v), v) for v in values}) != len(values):
        return ["values has duplicates"]
    weights = p.get("weights")
    if weights is None:
        return []
    if all(isinstance(w, (int, float)) for w in weights) and \
            not math.isfinite(sum(float(w) for w in weights)):
        return ["weights add up to more than a number can hold: scale them down"]
    if len(weights) != len(values):
        return [f"weights and values must have as many entries ({len(weights)} weights, "
                f"{len(values)} values)"]
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0
               for w in weights) or sum(weights) <= 0:
        return ["weights must be non-negative numbers with a positive sum"]
    return []


def cases(p: Mapping[str, Any], now: datetime) -> list[str]:
    """A choice's ``cases``: tables of `weights` (and `when`, but in a last default case)."""
    if "cases" not in p:
        return []
    given = p["cases"]
    found = []
    if "weights" in p:
        found.append("give weights in each case, or weights alone, not both")
    if not given:
        found.append("cases cannot be empty")
    values = p.get("values") if isinstance(p.get("values"), list) else None
    for number, case in enumerate(given, start=1):
        where = f"cases[{number}]"
        if not isinstance(case, dict):
            found.append(f"{where} must be a table like {{ when = \"...\", weights = [...] }}, "
                         f"got {toml_text(case)}")
            continue
        unknown = sorted(set(case) - {"when", "weights"})
        if unknown:
            found.append(f"{where}: unknown key {unknown[0]!r}; a case has when and weights")
        if "when" in case and (not isinstance(case["when"], str) or not case["when"].strip()):
            found.append(f"{where}.when must be an expression (a string), got "
                         f"{toml_text(case['when'])}")
        if "when" not in case and number < len(given):
            found.append(f"{where} has no when, so the cases after it never apply: only the "
                         "last case may go without when")
        weights = case.get("weights")
        if weights is None:
            found.append(f"{where} needs weights, one per value")
        elif values is not None:
            found += [f"{where}: {problem}" for problem in _weights(weights, values)]
    return found


def _weights(weights: Any, values: list[Any]) -> list[str]:
    if not isinstance(weights, list):
        return [f"weights must be an array of numbers, got {toml_text(weights)}"]
    if len(weights) != len(values):
        return [f"weights and values must have as many entries ({len(weights)} weights, "
                f"{len(values)} values)"]
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w)
               and w >= 0 for w in weights) or sum(weights) <= 0:
        return ["weights must be non-negative numbers with a positive sum"]
    if not math.isfinite(sum(float(w) for w in weights)):
        return ["weights add up to more than a number can hold: scale them down"]
    return []


def expr_result(p: Mapping[str, Any], now: datetime) -> list[str]:
    """An expr's `scale`: a decimal's places (whether the result is a decimal is the
    expression's, checked with the fields it reads)."""
    scale = p.get("scale")
    if scale is not None and not 0 <= scale <= 18:
        return [f"scale must be between 0 and 18, got {scale}"]
    if scale is not None and p.get("as", "decimal") != "decimal":
        return [f"scale goes with a decimal result, and as = {toml_text(p['as'])}: "
                "remove scale"]
    return []


def string(p: Mapping[str, Any], now: datetime) -> list[str]:
    found = []
    if "pattern" in p and "length" in p:
        found.append("give either pattern or length, not both")
    if "pattern" in p:
        if not p["pattern"]:
            found.append("pattern cannot be empty")
        elif (len(p["pattern"]) - len(p["pattern"].rstrip("\\"))) % 2 == 1:
            found.append("pattern ends with a lone backslash: write \\\\ for a literal one")
    if "length" in p:
        length = p["length"]
        limits = [length, length] if isinstance(length, int) else length
        if len(limits) != 2 or not all(is_int(b) for b in limits):
            found.append(f"length must be an integer or [min, max], got {length!r}")
        elif not 0 <= limits[0] <= limits[1] <= 100_000:
            found.append(f"length bounds must satisfy 0 <= min <= max <= 100000, got {length!r}")
    if "chars" in p and not p["chars"]:
        found.append("chars cannot be empty")
    return found


def moments(p: Mapping[str, Any], now: datetime) -> list[str]:
    """A date or timestamp range: both ends resolve, and start is not after end."""
    if "after" in p or "before" in p:  # one end at most, checked with the order
        return []
    try:
        start = resolve_time(p.get("start", "-5y"), now)
        end = resolve_time(p.get("end", "now"), now)
    except TimeExprError as exc:
        return [str(exc)]
    return [f"start ({start}) is after end ({end})"] if start > end else []


def email(p: Mapping[str, Any], now: datetime) -> list[str]:
    if "domain" not in p:
        return []
    domains = p["domain"] if isinstance(p["domain"], list) else [p["domain"]]
    if not domains or not all(isinstance(d, str) and d and "@" not in d for d in domains):
        return ["domain must be a domain name like \"example.com\" or a list of them"]
    return []


def reference(p: Mapping[str, Any], now: datetime) -> list[str]:
    if "ref" not in p:
        return []
    parent, dot, column = p["ref"].partition(".")
    if not dot or not parent or not column:
        return [f"ref must name a parent field as \"table.field\", got {p['ref']!r}"]
    return []


def json_object(p: Mapping[str, Any], now: datetime) -> list[str]:
    found = []
    if "of" in p and "keys" in p:
        found.append("give either of (fields of the row) or keys (lorem keys), not both")
    if "of" in p:
        of = p["of"]
        if not of:
            found.append("of must name at least one field, e.g. of = [\"name\", \"age\"]")
        elif not all(isinstance(f, str) and f for f in of):
            found.append(f"of must be a list of field names, got {toml_text(of)}")
        elif len(set(of)) != len(of):
            found.append("of names a field twice (a JSON object has each key once): "
                         f"{toml_text(of)}")
    if "keys" in p:
        found += count("keys", p["keys"], 0, fieldspecs.MAX_JSON_KEYS)
    return found


def array(p: Mapping[str, Any], now: datetime) -> list[str]:
    found = []
    if "values" in p:
        values = p["values"]
        if "element" in p:
            found.append("give either values or element, not both")
        if not values:
            found.append("values cannot be empty")
        elif not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                     for v in values):
            found.append("values must be strings or numbers")
        elif len({v if isinstance(v, str) else repr(v) for v in values}) != len(values):
            found.append("values has duplicates")  # by their text: 1 and "1" are one element
    ranged = [k for k in ("min", "max") if k in p]
    if ranged and p.get("element") != "int":
        verb = "apply" if len(ranged) > 1 else "applies"
        found.append(f"{' and '.join(ranged)} {verb} to element = \"int\"")
    elif p.get("min", 0) > p.get("max", 1000):
        found.append(f"min ({p.get('min', 0)}) is greater than max ({p.get('max', 1000)})")
    if "length" in p:
        found += count("length", p["length"], 0, fieldspecs.MAX_ARRAY_LENGTH)
    return found


def byte_string(p: Mapping[str, Any], now: datetime) -> list[str]:
    return count("length", p["length"], 0, fieldspecs.MAX_BYTES) if "length" in p else []


def interval(p: Mapping[str, Any], now: datetime) -> list[str]:
    return _span(p, fieldspecs.parse_duration, ("min", "max"), ("0s", "30d"), "interval")


def time_of_day(p: Mapping[str, Any], now: datetime) -> list[str]:
    return _span(p, fieldspecs.parse_time_of_day, ("start", "end"), ("00:00:00", "23:59:59"),
                 "time")


def _span(p: Mapping[str, Any], read: Callable[[Any], Any], names: tuple[str, str],
          defaults: tuple[str, str], kind: str) -> list[str]:
    found = []
    ends = []
    for key, default in zip(names, defaults, strict=True):
        try:
            ends.append(read(p.get(key, default)))
        except ValueError as exc:
            found.append(f"{key}: {exc}")
    if len(ends) == 2 and ends[0] > ends[1]:
        low, high = (toml_text(p.get(k, d)) for k, d in zip(names, defaults, strict=True))
        found.append(f"{names[0]} ({low}) is after {names[1]} ({high})" if kind == "time"
                     else f"min ({low}) is greater than max ({high})")
    return found


def count(key: str, value: Any, least: int, most: int) -> list[str]:
    """``key = n`` or ``key = [min, max]`` with ``least <= min <= max <= most``."""
    limits = fieldspecs.count_bounds(value)
    if limits is None:
        return [f"{key} must be an integer or [min, max], got {toml_text(value)}"]
    if not least <= limits[0] <= limits[1] <= most:
        return [f"{key} must satisfy {least} <= min <= max <= {most}, got {toml_text(value)}"]
    return []


def _digits_needed(bound: float, scale: int) -> int:
    integer_digits = math.floor(math.log10(bound)) + 1 if bound >= 1 else 0
    return max(1, integer_digits + scale)
