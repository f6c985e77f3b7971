"""A deterministic generator of Genfiles, valid and broken, for the fuzz tests.

``valid_genfile(seed)`` builds a Genfile from ``random.Random(seed)``: a few
tables written in a shuffled order, with fields of every common type,
unique fields, NULLs, distributions, references (plain, zipf, per parent,
to a unique non-key field, self-references, link tables). It is kept as a
structure (``Spec``), so the tests know what the rows must look like.

``mutant_genfile(seed)`` breaks a valid one in one to three ways
(``Mutation``): wrong types, bad ranges, unknown keys, bad references,
cycles, huge numbers, NaN, weird names, truncated TOML, deep nesting, ...
A mutation says whether the documentation requires the Genfile to be
refused (``must_reject``) and which table or field the report must name.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = [
    "Mutant",
    "Mutation",
    "Spec",
    "TableSpec",
    "mutant_genfile",
    "render",
    "valid_genfile",
]

LOCALES = ("en_US", "pt_BR", "de_DE")
# SQL reserved words and the like: legal table and field names, quoted by the targets.
AWKWARD_NAMES = ("order", "user", "group", "select", "table", "from", "where", "index",
                 "check", "limit", "values", "default", "primary", "Mixed_Case", "_lead",
                 "x9")
PLAIN_WORDS = ("alpha", "bravo", "carbon", "delta", "ember", "fjord", "glyph", "harbor",
               "iris", "jade", "kelp", "lumen", "mango", "nylon", "onyx", "pixel", "quartz",
               "raven", "sable", "tundra", "umber", "vivid", "walrus", "xenon", "yonder",
               "zephyr")
# Values a choice may hold: quotes, backslashes, commas, unicode, TOML-looking text.
CHOICE_TEXTS = ("open", "closed", "it's", 'say "hi"', "back\\slash", "a,b", "ação",
                "日本", "", " ", "[x]", "# not a comment", "NULL", "null", "\t", "emoji 🎉",
                "line\nbreak", "1e5", "true")
ISO_DAYS = ("1970-01-01", "1999-12-31", "2000-02-29", "2020-06-15", "2024-01-31",
            "2025-12-31")
RELATIVE = ("-5y", "-6m", "-30d", "-2w", "-12h", "now", "today", "+30d", "+1y")


# -- the structure ------------------------------------------------------------------


@dataclass
class TableSpec:
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def records(self) -> int | None:
        value = self.options.get("records")
        return value if isinstance(value, int) else None

    def primary_key(self) -> list[str]:
        marked = [n for n, p in self.fields.items() if p.get("primary_key") is True]
        if marked:
            return marked
        return ["id"] if "id" in self.fields else []

    def per_parent(self) -> tuple[str, dict[str, Any]] | None:
        for name, params in self.fields.items():
            if params.get("type") == "reference" and "per_parent" in params:
                return name, params
        return None


@dataclass
class Spec:
    seed: int
    dataset: dict[str, Any] = field(default_factory=dict)
    tables: list[TableSpec] = field(default_factory=list)  # in file order
    extra_sections: dict[str, Any] = field(default_factory=dict)
    style: int = 0  # how fields are written: headers, inline tables or dotted keys

    def table(self, name: str) -> TableSpec:
        return next(t for t in self.tables if t.name == name)


# -- TOML ---------------------------------------------------------------------------


def _key(name: str) -> str:
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return name if bare else json.dumps(name, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def render(spec: Spec) -> str:
    lines: list[str] = []
    if spec.dataset:
        lines.append("[dataset]")
        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in spec.dataset.items()]
        lines.append("")
    for name, value in spec.extra_sections.items():
        if isinstance(value, dict):
            lines.append(f"[{_key(name)}]")
            lines += [f"{_key(k)} = {toml_value(v)}" for k, v in value.items()]
        else:
            lines.insert(0, f"{_key(name)} = {toml_value(value)}")
        lines.append("")
    for number, table in enumerate(spec.tables):
        style = (spec.style + number) % 3
        if table.options or style != 0:
            lines.append(f"[{_key(table.name)}]")
            lines += [f"{_key(k)} = {toml_value(v)}" for k, v in table.options.items()]
        for fname, params in table.fields.items():
            if style == 1:  # inline tables
                lines.append(f"{_key(fname)} = {toml_value(params)}")
            elif style == 2:  # dotted keys
                lines += [f"{_key(fname)}.{_key(k)} = {toml_value(v)}" for k, v in params.items()]
                if not params:
                    lines.append(f"{_key(fname)} = {{}}")
        lines.append("")
        if style == 0:
            for fname, params in table.fields.items():
                lines.append(f"[{_key(table.name)}.{_key(fname)}]")
                lines += [f"{_key(k)} = {toml_value(v)}" for k, v in params.items()]
                lines.append("")
    return "\n".join(lines) + "\n"


# -- valid Genfiles -----------------------------------------------------------------


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # Minimum rows each table is sure to have (a reference needs a parent with rows).
        self.min_rows: dict[str, int] = {}
        self.exact_rows: dict[str, int | None] = {}

    def name(self, taken: set[str]) -> str:
        rng = self.rng
        while True:
            if rng.random() < 0.25:
                candidate = rng.choice(AWKWARD_NAMES)
            else:
                candidate = rng.choice(PLAIN_WORDS) + (f"_{rng.randrange(100)}"
                                                       if rng.random() < 0.3 else "")
            if candidate.lower() not in {t.lower() for t in taken}:
                taken.add(candidate)
                return candidate

    # One field of each kind; ``rows`` bounds the table, so a unique field's space holds it.

    def int_field(self, rows: int, unique: bool) -> dict[str, Any]:
        rng = self.rng
        low = rng.choice([0, -5, 1, -(2**40), 2**40, -(2**62), 10**6])
        width = rng.choice([0, 1, 10, 1000, 10**9, 2**61])
        if unique:
            width = max(width, rows)
        params: dict[str, Any] = {"type": "int", "min": low, "max": low + width}
        if not unique and rng.random() < 0.5:
            dist = rng.choice(["uniform", "normal", "zipf", "exponential"])
            params["distribution"] = dist
            if dist == "normal" and rng.random() < 0.5 and width > 0:
                params["mean"] = low + width / 3
                params["stddev"] = max(width / 10, 0.5)
            elif dist == "zipf" and rng.random() < 0.5:
                params["exponent"] = rng.choice([0.5, 1.1, 2.0, 3.5])
            elif dist == "exponential" and rng.random() < 0.5 and width > 0:
                params["mean"] = max(width / 7, 0.5)
        return params

    def float_field(self) -> dict[str, Any]:
        rng = self.rng
        low = rng.choice([0.0, -1.5, 1e-9, -1e12, 3.25])
        params: dict[str, Any] = {"type": "float", "min": low,
                                  "max": low + rng.choice([0.0, 0.5, 10.0, 1e15])}
        if rng.random() < 0.1:  # wider than the largest float: max - min overflows
            params["min"], params["max"] = rng.choice([(-1.7e308, 1.7e308), (1e308, 1.7e308),
                                                       (-1.7976931348623157e308, 0.0)])
            if rng.random() < 0.7:
                params["distribution"] = rng.choice(["uniform", "normal", "zipf",
                                                     "exponential"])
            return params
        if rng.random() < 0.5:
            scale = rng.randrange(0, 7)
            params["scale"] = scale
            params["min"] = round(low, scale)
            params["max"] = params["min"] + rng.choice([0, 1, 10, 1e15])
        if rng.random() < 0.4:
            params["distribution"] = rng.choice(["uniform", "normal", "zipf", "exponential"])
        return params

    def decimal_field(self) -> dict[str, Any]:
        rng = self.rng
        scale = rng.choice([0, 1, 2, 2, 4, 6])
        unit = 10**scale
        low = rng.choice([0, -500, 1, -(10**6), 7]) * unit + rng.randrange(unit)
        high = low + rng.choice([0, 1, 99, 10**5]) * unit
        params: dict[str, Any] = {"type": "decimal", "min": _exact(low, scale),
                                  "max": _exact(high, scale), "scale": scale}
        if rng.random() < 0.3:
            params["precision"] = len(str(max(abs(low), abs(high)) // unit)) + scale + 2
        if rng.random() < 0.4:
            params["distribution"] = rng.choice(["uniform", "normal", "zipf", "exponential"])
        return params

    def choice_field(self, rows: int, unique: bool) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(["text", "int"] if unique else ["text", "text", "int", "bool", "float"])
        values: list[Any]
        if kind == "text":
            pool = list(CHOICE_TEXTS) + [f"v{i}" for i in range(max(rows, 1))]
            count = max(rows, 1) if unique else rng.randint(1, 8)
            values = rng.sample(pool[:max(count, len(CHOICE_TEXTS))], k=min(count, len(pool)))
            if unique and len(values) < rows:
                values = pool[: rows]
        elif kind == "int":
            count = max(rows, 1) if unique else rng.randint(1, 6)
            values = rng.sample(range(-(2**62), 2**62, 2**55), k=count) if count <= 256 else \
                list(range(count))
        elif kind == "bool":
            values = [True, False] if unique or rng.random() < 0.7 else [True]
        else:
            values = [1, 2.5, -0.125, 1e-300][: rng.randint(1, 4)]
        params: dict[str, Any] = {"type": "choice", "values": values}
        if not unique and rng.random() < 0.4:
            weights = [rng.choice([0, 1, 2.5, 1000]) for _ in values]
            if sum(weights) <= 0:
                weights[0] = 1
            params["weights"] = weights
        return params

    def string_field(self, rows: int, unique: bool) -> dict[str, Any]:
        rng = self.rng
        if unique or rng.random() < 0.5:
            pieces: list[str] = []
            space = 1
            while space < max(rows, 2) * 4 or not pieces:
                piece = rng.choice(["9", "A", "a", "-", "_", " ", "\\9", "\\A", "é", "/"])
                pieces.append(piece)
                space *= {"9": 10, "A": 26, "a": 26}.get(piece, 1)
            return {"type": "string", "pattern": "".join(pieces)}
        params: dict[str, Any] = {"type": "string"}
        shape = rng.random()
        if shape < 0.4:
            params["length"] = rng.choice([0, 1, 5, 33])
        elif shape < 0.8:
            low = rng.randrange(0, 6)
            params["length"] = [low, low + rng.randrange(0, 30)]
        if rng.random() < 0.4:
            params["chars"] = rng.choice(["ab", "01", "ÀÉÎõü", "x", "!@#$%^&*()", "\"'\\"])
        return params

    def when(self) -> Any:
        rng = self.rng
        if rng.random() < 0.3:
            return date.fromisoformat(rng.choice(ISO_DAYS))
        return rng.choice(ISO_DAYS + RELATIVE)

    def dated_field(self, kind: str, rows: int, unique: bool) -> dict[str, Any]:
        rng = self.rng
        params: dict[str, Any] = {"type": kind}
        roll = rng.random()
        if unique or roll < 0.4:
            start = rng.choice(ISO_DAYS[:4])
            params["start"] = start
            params["end"] = rng.choice(ISO_DAYS[4:])
        elif roll < 0.7:
            params["start"] = rng.choice(["-5y", "-6m", "-30d", "-2w"])
            if rng.random() < 0.5:
                params["end"] = rng.choice(["now", "+30d", "today"])
        elif roll < 0.85:
            day = rng.choice(ISO_DAYS)
            params["start"] = date.fromisoformat(day)
            params["end"] = date.fromisoformat(day)
            if kind == "timestamp":
                params["end"] = datetime.fromisoformat(day + "T00:00:59")
        if not unique and rng.random() < 0.3:
            params["distribution"] = rng.choice(["uniform", "normal", "zipf", "exponential"])
        return params

    def plain_field(self, table: TableSpec, rows: int, unique: bool) -> dict[str, Any]:
        """A field that is not a reference."""
        rng = self.rng
        kinds = ["int", "float", "decimal", "bool", "choice", "string", "date", "timestamp",
                 "name", "first_name", "last_name", "email", "uuid", "sequence", "template",
                 "hash"]
        if unique:
            kinds = ["int", "string", "date", "timestamp", "uuid", "sequence", "email",
                     "choice"]
        kind = rng.choice(kinds)
        if kind == "int":
            return self.int_field(rows, unique)
        if kind == "float":
            return self.float_field()
        if kind == "decimal":
            return self.decimal_field()
        if kind == "bool":
            return {"type": "bool", "probability": rng.choice([0, 0.02, 0.5, 1, 1.0])}
        if kind == "choice":
            return self.choice_field(rows, unique)
        if kind == "string":
            return self.string_field(rows, unique)
        if kind in ("date", "timestamp"):
            if unique and kind == "date" and rows > 1000:
                return self.int_field(rows, unique)
            return self.dated_field(kind, rows, unique)
        if kind in ("name", "first_name", "last_name"):
            params: dict[str, Any] = {"type": kind}
            if rng.random() < 0.4:
                params["locale"] = rng.choice(LOCALES)
            return params
        if kind == "email":
            params = {"type": "email"}
            named = [n for n, p in table.fields.items() if p.get("type") == "name"]
            if named and rng.random() < 0.7:
                params["from"] = rng.choice(named)
            if rng.random() < 0.3:
                params["domain"] = rng.choice(["example.org", ["a.example", "b.example"]])
            return params
        if kind == "sequence":
            return {"type": "sequence", "start": rng.choice([1, 0, -1000, 2**50]),
                    "step": rng.choice([1, 1, 7, -3])}
        if kind in ("template", "hash") and table.fields:
            others = [n for n, p in table.fields.items()
                      if p.get("type") not in ("template", "hash")]
            if others:
                picked = rng.sample(others, k=min(len(others), rng.randint(1, 2)))
                if kind == "hash":
                    return {"type": "hash", "of": picked,
                            "algorithm": rng.choice(["sha256", "md5", "sha1", "blake2b"])}
                return {"type": "template",
                        "template": "{{" + "}-{".join(picked).join("{}") + "}} #" +
                        f"{{{picked[0]}:>12}}"}
        return {"type": "uuid"}

    def table(self, spec: Spec, taken: set[str]) -> TableSpec:
        rng = self.rng
        table = TableSpec(self.name(taken))
        fixed = rng.choice([0, 1, 2, 5, 40, 120, 250, 250, 400])
        parents = [t for t in spec.tables if self.min_rows[t.name] >= 1 and self._keys(t)]
        per_parent = parents and rng.random() < 0.25
        link = len(parents) >= 2 and rng.random() < 0.12
        field_names: set[str] = set()
        rows_bound = fixed
        if link:
            a, b = rng.sample(parents, 2)
            ra, rb = self.exact_rows[a.name], self.exact_rows[b.name]
            if ra is None or rb is None:
                link = False
            else:
                rows = min(fixed, ra * rb)
                table.options["records"] = rows
                for parent in (a, b):
                    key = rng.choice(self._keys(parent))
                    name = self._field_name(field_names, f"{parent.name}_{key}".lower())
                    table.fields[name] = {"type": "reference", "ref": f"{parent.name}.{key}",
                                          "primary_key": True}
                self.min_rows[table.name] = self.exact_rows[table.name] = rows
        if not link:
            pk = rng.random()
            if pk < 0.6:
                table.fields["id"] = {"type": "sequence"}
                if rng.random() < 0.3:
                    table.fields["id"].update(start=rng.choice([0, 100, -50]),
                                              step=rng.choice([1, 2, -1]))
            elif pk < 0.75:
                table.fields["id"] = {"type": "uuid"}
            elif pk < 0.9:
                table.fields["code"] = {"type": "string", "pattern": "K-AA99",
                                        "primary_key": True}
            field_names.update(table.fields)
            if per_parent:
                parent = rng.choice(parents)
                key = rng.choice(self._keys(parent))
                low = rng.choice([0, 0, 1, 2])
                high = low + rng.choice([0, 1, 3])
                if high == 0:
                    high = 1
                name = self._field_name(field_names, f"{parent.name}_ref".lower())
                table.fields[name] = {"type": "reference", "ref": f"{parent.name}.{key}",
                                      "per_parent": [low, high]}
                parent_rows = self.exact_rows[parent.name]
                self.min_rows[table.name] = self.min_rows[parent.name] * low
                self.exact_rows[table.name] = None
                rows_bound = (parent_rows or 400 * 4) * high
            else:
                table.options["records"] = fixed
                self.min_rows[table.name] = self.exact_rows[table.name] = fixed
        for _ in range(rng.randint(1, 6)):
            name = self._field_name(field_names, self.name(set(field_names)).lower())
            roll = rng.random()
            refs = [t for t in parents if t.name != table.name]
            if roll < 0.25 and refs:
                parent = rng.choice(refs)
                key = rng.choice(self._keys(parent))
                params: dict[str, Any] = {"type": "reference", "ref": f"{parent.name}.{key}"}
                if rng.random() < 0.4:
                    params["distribution"] = "zipf"
                    if rng.random() < 0.5:
                        params["exponent"] = rng.choice([0.8, 1.2, 2.5])
                if rng.random() < 0.3:
                    params["null_rate"] = rng.choice([0.1, 0.5, 1.0])
                table.fields[name] = params
                continue
            if roll < 0.32 and "id" in table.fields and table.fields["id"].get("type") \
                    == "sequence" and not any(p.get("ref") == f"{table.name}.id"
                                              for p in table.fields.values()):
                params = {"type": "reference", "ref": f"{table.name}.id"}
                if rng.random() < 0.5:
                    params["root_rate"] = rng.choice([0, 0.1, 0.9, 1])
                table.fields[name] = params
                continue
            unique = roll > 0.8
            params = self.plain_field(table, rows_bound, unique)
            if unique and params["type"] not in ("uuid", "sequence"):
                params["unique"] = True
            if rng.random() < 0.2:
                params["null_rate"] = rng.choice([0, 0.05, 0.5, 1, 1.0])
            if rng.random() < 0.1:
                params["description"] = "fuzz: " + rng.choice(CHOICE_TEXTS)
            table.fields[name] = params
        if rng.random() < 0.1:
            table.options["description"] = rng.choice(CHOICE_TEXTS)
        return table

    def _keys(self, table: TableSpec) -> list[str]:
        """Fields of ``table`` a reference may point at: a lone key, or unique without NULLs."""
        keys = table.primary_key()
        found = [keys[0]] if len(keys) == 1 else []
        found += [n for n, p in table.fields.items()
                  if p.get("unique") is True and "null_rate" not in p and "from" not in p
                  and p.get("type") != "reference" and n not in found]
        return found

    @staticmethod
    def _field_name(taken: set[str], wanted: str) -> str:
        name, number = wanted, 1
        while name.lower() in {t.lower() for t in taken} or name == "id":
            number += 1
            name = f"{wanted}_{number}"
        taken.add(name)
        return name


def _exact(count: int, scale: int) -> int | float:
    """``count`` units of 10**-scale as a TOML number that reads back exactly that."""
    if scale == 0:
        return count
    value = count / 10**scale
    return value if round(value * 10**scale) == count else count // 10**scale


def valid_genfile(seed: int) -> Spec:
    """A Genfile the validator must accept (2 to 5 tables)."""
    rng = random.Random(seed)
    spec = Spec(seed=seed, style=rng.randrange(3))
    spec.dataset["seed"] = rng.choice([0, 1, -7, 2**40, seed])
    if rng.random() < 0.3:
        spec.dataset["locale"] = rng.choice(LOCALES)
    if rng.random() < 0.2:
        spec.dataset["now"] = rng.choice(["2025-06-30", "2000-01-01T12:00:00"])
    if rng.random() < 0.2:
        spec.dataset["batch_size"] = rng.choice([1, 7, 100000])
    builder = _Builder(rng)
    taken: set[str] = set()
    for _ in range(rng.randint(2, 5)):
        spec.tables.append(builder.table(spec, taken))
    rng.shuffle(spec.tables)  # parents need not come first in the file
    return spec


# -- mutations ----------------------------------------------------------------------


@dataclass
class Mutation:
    """What a mutation did: must the Genfile be refused, and what must the report name."""

    kind: str
    must_reject: bool
    names: tuple[str, ...] = ()  # each must appear in the report (when refused)
    text_level: bool = False
    # Found by the full check, which runs only once the language checks pass.
    late: bool = False
    touched: tuple[str, ...] = ()  # the tables it changed


Mutator = Callable[[Spec, random.Random], Mutation]


def _pick_field(spec: Spec, rng: random.Random, *types: str) -> tuple[TableSpec, str] | None:
    found = [(t, n) for t in spec.tables for n, p in t.fields.items()
             if not types or p.get("type") in types]
    return rng.choice(found) if found else None


def _locus(table: TableSpec, field_name: str | None = None) -> str:
    return f"[{table.name}.{field_name}]" if field_name else f"[{table.name}"


def m_wrong_type(spec: Spec, rng: random.Random) -> Mutation:
    picked = _pick_field(spec, rng)
    assert picked is not None
    table, name = picked
    params = table.fields[name]
    wrong: dict[str, Any] = {
        "sequence": {"start": "one", "step": 1.5},
        "int": {"min": "zero", "max": [1, 2], "distribution": 3},
        "float": {"min": "x", "scale": 2.5},
        "decimal": {"scale": "2", "max": {"a": 1}},
        "bool": {"probability": "half"},
        "choice": {"values": "a,b", "weights": "1,2"},
        "string": {"pattern": 9, "length": "5", "chars": []},
        "date": {"start": 20240101, "end": True},
        "timestamp": {"start": 1.5},
        "reference": {"ref": 42, "per_parent": 3, "distribution": 1},
        "email": {"from": 7, "domain": 5},
        "uuid": {"null_rate": "often"},
        "name": {"locale": 5},
        "hash": {"of": "id"},
        "template": {"template": ["{id}"]},
    }.get(params.get("type", ""), {"null_rate": "often"})
    key = rng.choice(sorted(wrong))
    params[key] = wrong[key]
    return Mutation("wrong_type", True, (_locus(table, name),))


def m_common_wrong(spec: Spec, rng: random.Random) -> Mutation:
    picked = _pick_field(spec, rng)
    assert picked is not None
    table, name = picked
    key, value = rng.choice([("null_rate", "0.5"), ("null_rate", True), ("unique", "yes"),
                             ("unique", 1), ("primary_key", "true"), ("type", 5),
                             ("type", "integer"), ("type", "Int"), ("type", ""),
                             ("max_length", 0), ("max_length", "5"), ("mutable", "yes")])
    table.fields[name][key] = value
    return Mutation("common_wrong", True, (_locus(table, name),))


def m_bad_range(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    options: list[Callable[[], Mutation]] = []

    def field_set(name: str, **values: Any) -> Mutation:
        table.fields[name].update(values)
        return Mutation("bad_range", True, (_locus(table, name),))

    for name, params in table.fields.items():
        kind = params.get("type")
        if kind == "int":
            options.append(lambda n=name: field_set(n, min=10, max=-10))
            options.append(lambda n=name: field_set(n, distribution="normal", stddev=-1))
            options.append(lambda n=name: field_set(n, distribution="zipf", exponent=0))
        if kind in ("float", "decimal"):
            options.append(lambda n=name: field_set(n, min=5.5, max=-5.5))
            options.append(lambda n=name: field_set(n, scale=99))
            options.append(lambda n=name: field_set(n, scale=-1))
        if kind == "decimal":
            options.append(lambda n=name: field_set(n, min=0, max=100, scale=2, precision=1))
        if kind in ("date", "timestamp"):
            options.append(lambda n=name: field_set(n, start="2025-01-01", end="2020-01-01"))
            options.append(lambda n=name: field_set(n, start="2024-02-30"))
            options.append(lambda n=name: field_set(n, start="-5x"))
            options.append(lambda n=name: field_set(n, end="yesterday"))
        if kind == "string":
            options.append(lambda n=name: field_set(n, length=[5, 2], pattern=None))
            options.append(lambda n=name: field_set(n, length=10**9, pattern=None))
            options.append(lambda n=name: field_set(n, pattern="", length=None))
            options.append(lambda n=name: field_set(n, pattern="AB\\", length=None))
        if kind == "choice":
            options.append(lambda n=name: field_set(n, values=[], weights=None))
            options.append(lambda n=name: field_set(n, values=["a", "a"], weights=None))
            options.append(lambda n=name: field_set(n, values=["a", "b"], weights=[1]))
            options.append(lambda n=name: field_set(n, values=["a", "b"], weights=[-1, 2]))
            options.append(lambda n=name: field_set(n, values=["a", "b"], weights=[0, 0]))
        if kind == "reference" and "per_parent" in params:
            options.append(lambda n=name: field_set(n, per_parent=[3, 1]))
            options.append(lambda n=name: field_set(n, per_parent=[-1, 2]))
            options.append(lambda n=name: field_set(n, per_parent=[1, 2, 3]))
        if kind == "bool":
            options.append(lambda n=name: field_set(n, probability=1.5))
        if kind == "sequence":
            options.append(lambda n=name: field_set(n, step=0))
        options.append(lambda n=name: field_set(n, null_rate=rng.choice([1.5, -0.1, 2])))
    if not options:
        table.options["records"] = -1
        return Mutation("bad_range", True, (_locus(table),))
    mutation = rng.choice(options)()
    for params in table.fields.values():  # field_set may have cleared a parameter
        for key in [k for k, v in params.items() if v is None]:
            del params[key]
    return mutation


def m_records(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    value = rng.choice([-1, "100", 1.5, True, [10], -(2**63), 2**64, 10**30])
    table.options["records"] = value
    return Mutation("records", True, (_locus(table),))


def m_unknown_key(spec: Spec, rng: random.Random) -> Mutation:
    where = rng.random()
    bad = rng.choice(["colour", "recods", "Type", "minimum", "uniqe", "nullrate", "ref_"])
    if where < 0.5:
        picked = _pick_field(spec, rng)
        assert picked is not None
        table, name = picked
        table.fields[name][bad] = 1
        return Mutation("unknown_key", True, (_locus(table, name), bad))
    if where < 0.75:
        table = rng.choice(spec.tables)
        table.options[bad] = 1
        return Mutation("unknown_key", True, (_locus(table), bad))
    spec.dataset[bad] = 1
    return Mutation("unknown_key", True, ("[dataset]", bad))


def m_bad_reference(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    other = rng.choice(spec.tables)
    plain = [n for n, p in other.fields.items()
             if p.get("type") != "reference" and not p.get("unique") and
             n not in other.primary_key()]
    refs = ["nowhere.id", f"{other.name}.no_such_field", "no_dot", "", ".", "a.b.c",
            f"{other.name}.", f".{other.name}"]
    if plain:
        refs.append(f"{other.name}.{rng.choice(plain)}")
    name = "bad_ref"
    table.fields[name] = {"type": "reference", "ref": rng.choice(refs)}
    return Mutation("bad_reference", True, (_locus(table, name),))


def m_self_ref_not_key(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    table.fields["self_ref"] = {"type": "reference", "ref": f"{table.name}.self_ref"}
    return Mutation("self_reference", True, (_locus(table, "self_ref"),))


def m_cycle(spec: Spec, rng: random.Random) -> Mutation:
    keyed = [t for t in spec.tables if len(t.primary_key()) == 1
             and t.fields[t.primary_key()[0]].get("type") != "reference"]
    if len(keyed) < 2:
        extra = TableSpec(f"cyc_{len(spec.tables)}", {"records": 3}, {"id": {"type": "sequence"}})
        spec.tables.append(extra)
        keyed.append(extra)
        if len(keyed) < 2:
            more = TableSpec(f"cyc_{len(spec.tables)}", {"records": 3},
                             {"id": {"type": "sequence"}})
            spec.tables.append(more)
            keyed.append(more)
    a, b = rng.sample(keyed, 2)
    a.fields["to_b"] = {"type": "reference", "ref": f"{b.name}.{b.primary_key()[0]}"}
    b.fields["to_a"] = {"type": "reference", "ref": f"{a.name}.{a.primary_key()[0]}"}
    return Mutation("cycle", True, ("cycle",))


def m_huge(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    choice = rng.randrange(9)
    if choice == 0:
        table.fields["huge"] = {"type": "int", "min": -(2**63), "max": 2**63 - 1}
        return Mutation("huge", False)
    if choice == 1:
        table.fields["huge"] = {"type": "int", "min": 0, "max": 2**64}
        return Mutation("huge", True, (_locus(table, "huge"),))
    if choice == 2:
        table.fields["huge"] = {"type": "sequence", "start": 2**63 - 2, "step": 1}
        rows = table.records
        return Mutation("huge", rows is not None and rows > 2, (_locus(table, "huge"),),
                        late=True)
    if choice == 3:
        table.fields["huge"] = {"type": "decimal", "min": 0, "max": 1e17, "scale": 4}
        return Mutation("huge", True, (_locus(table, "huge"),))
    if choice == 4:
        table.fields["huge"] = {"type": "float", "min": -1.7e308, "max": 1.7e308,
                                "distribution": rng.choice(["uniform", "normal", "zipf",
                                                            "exponential"])}
        return Mutation("huge", False)
    if choice == 5:
        table.fields["huge"] = {"type": "choice", "values": ["a", "b"], "weights": [1e308, 1e308]}
        return Mutation("huge", True, (_locus(table, "huge"),))  # their sum is infinite
    if choice == 6:
        table.fields["huge"] = {"type": "string", "length": 100001}
        return Mutation("huge", True, (_locus(table, "huge"),))
    if choice == 7:
        spec.dataset["seed"] = rng.choice([10**40, -(10**40), 2**64])  # any integer is a seed
        return Mutation("huge", False)
    table.fields["huge"] = {"type": "int", "min": 0, "max": 10,
                            "distribution": "normal", "mean": 1e308, "stddev": 1e-308}
    return Mutation("huge", False)


def m_nan(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    value = rng.choice([math.nan, math.inf, -math.inf])
    params: dict[str, Any] = rng.choice([
        {"type": "float", "min": value},
        {"type": "float", "max": value},
        {"type": "decimal", "max": value},
        {"type": "int", "min": 0, "max": 5, "distribution": "normal", "mean": value},
        {"type": "int", "min": 0, "max": 5, "distribution": "normal", "stddev": value},
        {"type": "int", "min": 0, "max": 5, "distribution": "zipf", "exponent": value},
        {"type": "bool", "probability": value},
        {"type": "uuid", "null_rate": value},
        {"type": "choice", "values": ["a", "b"], "weights": [1, value]},
        {"type": "choice", "values": [1.0, value]},
    ])
    table.fields["not_a_number"] = params
    return Mutation("nan", True, (_locus(table, "not_a_number"),))


def m_weird_name(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    weird = rng.choice(["has space", "dot.ted", "", "1starts_digit", "x" * 300, "nul\u0000x",
                        "semi;colon", "quote\"d", "tab\tname", "é_accent", "sqlite_master",
                        "dash-ed", "new\nline", "ID"])
    if rng.random() < 0.5:
        old = table.name
        table.name = weird
        for other in spec.tables:
            for params in other.fields.values():
                ref = params.get("ref")
                if isinstance(ref, str) and ref.startswith(old + "."):
                    params["ref"] = weird + ref[len(old):]
        # Names a table cannot have, by the documentation (letters, digits, underscores).
        refused = weird in ("has space", "dot.ted", "", "1starts_digit", "nul\u0000x",
                            "semi;colon", 'quote"d', "tab\tname", "dash-ed", "new\nline",
                            "sqlite_master")
        return Mutation("weird_table_name", refused)
    table.fields[weird] = {"type": "int"}
    refused = weird in ("", "nul\u0000x", "sqlite_master") or (
        weird == "ID" and "id" in table.fields)
    return Mutation("weird_field_name", refused)


def m_target(spec: Spec, rng: random.Random) -> Mutation:
    section = rng.choice([
        {"url": "nope"}, {"type": "mongo"}, {"mode": "upsert"}, {"url": 5},
        {"url": "${DATASTORM_FUZZ_UNSET_VARIABLE}"}, {"type": "csv", "url": "sqlite:///x.db"},
        {"url": "sqlite:///x.db", "mdoe": "replace"}, {"url": ""},
    ])
    spec.extra_sections["target"] = section
    if "mdoe" in section:  # refused by the target itself, once the Genfile is checked
        return Mutation("target", True, ("mdoe",), late=True)
    return Mutation("target", True, ("[target]",))


def m_reserved(spec: Spec, rng: random.Random) -> Mutation:
    choice = rng.randrange(5)
    if choice == 0:
        spec.extra_sections["dataset_extra"] = 5  # a stray top-level scalar
        return Mutation("reserved", True, ("dataset_extra",))
    if choice == 1:
        spec.extra_sections["exports"] = {"x": 1}
        return Mutation("reserved", True, ("exports",))
    if choice == 2:
        spec.extra_sections["dagster"] = {"refresh_cron": "0 3 * * *"}
        return Mutation("reserved", False)
    if choice == 3:
        locale = rng.choice(["xx_YY", 5, ""])
        spec.dataset["locale"] = locale
        # A string is refused by the fields that use a locale, if the tables have any.
        return Mutation("reserved", not isinstance(locale, str), ("locale",))
    spec.dataset["constraints"] = "later"
    return Mutation("reserved", True, ("[dataset]",))


def m_no_type(spec: Spec, rng: random.Random) -> Mutation:
    picked = _pick_field(spec, rng)
    assert picked is not None
    table, name = picked
    table.fields[name].pop("type", None)
    return Mutation("no_type", True, (_locus(table, name),))


def m_empty(spec: Spec, rng: random.Random) -> Mutation:
    if rng.random() < 0.5:
        spec.tables.clear()
        return Mutation("empty", True, ("no table",))
    table = rng.choice(spec.tables)
    table.fields.clear()
    table.options.setdefault("records", 1)
    return Mutation("empty", True, (_locus(table),))


def m_unique_too_small(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    table.options.pop("records", None)
    for params in table.fields.values():
        params.pop("per_parent", None)
    table.options["records"] = 50
    table.fields["tiny"] = rng.choice([
        {"type": "choice", "values": ["a", "b", "c"], "unique": True},
        {"type": "int", "min": 1, "max": 10, "unique": True},
        {"type": "bool", "unique": True},
        {"type": "string", "pattern": "9", "unique": True},
        {"type": "date", "start": "2024-01-01", "end": "2024-01-05", "unique": True},
        {"type": "int", "min": 1, "max": 10**6, "unique": True, "distribution": "zipf"},
        {"type": "template", "template": "x", "unique": True},
    ])
    return Mutation("unique_too_small", True, (_locus(table, "tiny"),), late=True)


def m_derived(spec: Spec, rng: random.Random) -> Mutation:
    table = rng.choice(spec.tables)
    params = rng.choice([
        {"type": "email", "from": "missing_field"},
        {"type": "template", "template": "{missing_field}"},
        {"type": "template", "template": "{unclosed"},
        {"type": "template", "template": "{derived!r}"},
        {"type": "template", "template": "{derived}"},
        {"type": "hash", "of": []},
        {"type": "hash", "of": ["derived"]},
    ])
    table.fields["derived"] = params
    return Mutation("derived", True, (_locus(table, "derived"),))


def m_derived_null_key(spec: Spec, rng: random.Random) -> Mutation:
    """A key derived from a field with a null_rate: NULL in some rows, so no key."""
    number = len(spec.tables)
    parent = TableSpec(f"keyed_{number}", {"records": rng.choice([20, 300])}, {
        "maybe_name": {"type": rng.choice(["name", "first_name"]),
                       "null_rate": rng.choice([0.01, 0.5])},
        "derived_key": {"type": "email", "from": "maybe_name", "unique": True},
    })
    spec.tables.insert(rng.randrange(len(spec.tables) + 1), parent)
    if rng.random() < 0.5:
        parent.fields["derived_key"]["primary_key"] = True
        return Mutation("derived_null_key", True, (_locus(parent, "derived_key"),), late=True)
    child = TableSpec(f"child_{number}", {"records": 5},
                      {"id": {"type": "sequence"},
                       "parent": {"type": "reference", "ref": f"{parent.name}.derived_key"}})
    spec.tables.append(child)
    return Mutation("derived_null_key", True, (_locus(child, "parent"),), late=True)


# Text-level mutations: applied to the rendered TOML.


def t_truncate(text: str, rng: random.Random) -> tuple[str, Mutation]:
    cut = rng.randrange(1, max(len(text) - 1, 2))
    return text[:cut], Mutation("truncated", False, text_level=True)


def t_deep(text: str, rng: random.Random) -> tuple[str, Mutation]:
    depth = rng.choice([64, 500, 5000, 100000])
    if rng.random() < 0.5:
        value = "[" * depth + "1" + "]" * depth
    else:
        value = "{ a = " * depth + "1" + " }" * depth
    return (f'[deep.id]\ntype = "sequence"\n\n[deep.x]\ntype = "choice"\nvalues = {value}\n\n'
            + text, Mutation("deep", True, ("deep",), text_level=True))


def t_deep_headers(text: str, rng: random.Random) -> tuple[str, Mutation]:
    depth = rng.choice([3, 10, 300])
    header = ".".join(f"k{i}" for i in range(depth))
    return (text + f'\n[{header}]\ntype = "int"\n',
            Mutation("deep_headers", True, ("k0",), text_level=True))


def t_duplicate_key(text: str, rng: random.Random) -> tuple[str, Mutation]:
    return (text + '\n[dup.id]\ntype = "sequence"\ntype = "int"\n',
            Mutation("duplicate_key", True, ("TOML",), text_level=True))


def t_garbage(text: str, rng: random.Random) -> tuple[str, Mutation]:
    junk = rng.choice(["\x00", "\ufeff", "\x1b[31m", "\ud7ff", "=", "[[", "]]", '"', "'''",
                       "\\u0000", "\r", "\x7f", "\u2028", "= = =", "[a]\n[a]\n"])
    at = rng.randrange(len(text) + 1)
    return text[:at] + junk + text[at:], Mutation("garbage", False, text_level=True)


def t_bytes(text: str, rng: random.Random) -> tuple[str, Mutation]:
    # Bytes that are not UTF-8: written by the test as raw bytes (see write_mutant).
    return text, Mutation("latin1", True, text_level=True)


STRUCTURAL: tuple[Mutator, ...] = (
    m_wrong_type, m_common_wrong, m_bad_range, m_records, m_unknown_key, m_bad_reference,
    m_self_ref_not_key, m_cycle, m_huge, m_nan, m_weird_name, m_target, m_reserved,
    m_no_type, m_empty, m_unique_too_small, m_derived, m_derived_null_key,
)
TEXTUAL = (t_truncate, t_deep, t_deep_headers, t_duplicate_key, t_garbage, t_bytes)


@dataclass
class Mutant:
    seed: int
    text: str
    mutations: list[Mutation]
    encoding: str = "utf-8"

    @property
    def must_reject(self) -> bool:
        return any(m.must_reject for m in self.mutations)

    @property
    def kinds(self) -> str:
        return "+".join(m.kind for m in self.mutations)

    def required_names(self) -> list[str]:
        """What the report of a refused mutant must name.

        A text-level mutation (broken TOML) is reported alone. Of several
        structural ones, all are listed at once, unless one hides another:
        they changed the same table, or one is found only by the full check
        that runs once the language checks pass.
        """
        textual = [m for m in self.mutations if m.text_level and m.must_reject]
        if textual:
            return [n for m in textual for n in m.names]
        rejecting = [m for m in self.mutations if m.must_reject]
        if any(m.late for m in rejecting) and len(self.mutations) > 1:
            return []
        return [n for m in rejecting for n in m.names]


def _snapshot(spec: Spec) -> dict[str, str]:
    """Each table's text, and the sections' (to see what a mutation changed)."""
    shot = {f"table {t.name}": repr((t.options, t.fields)) for t in spec.tables}
    shot["sections"] = repr((spec.dataset, spec.extra_sections))
    return shot


def mutant_genfile(seed: int) -> Mutant:
    """A valid Genfile broken in one to three ways."""
    rng = random.Random(10_000_019 * (seed + 1))
    spec = valid_genfile(rng.randrange(2**32))
    mutations: list[Mutation] = []
    count = rng.choice([1, 1, 1, 2, 3])
    for number in range(count):
        mutator = rng.choice(STRUCTURAL)
        if (mutator is m_empty and mutations) or (mutator is m_weird_name
                                                  and number < count - 1):
            continue  # an empty Genfile takes no more; a renamed table, no later locus
        if not spec.tables:
            break
        before, kept = _snapshot(spec), copy.deepcopy(spec)
        mutation = mutator(spec, rng)
        after = _snapshot(spec)
        mutation.touched = tuple(sorted(k for k in before.keys() | after.keys()
                                        if before.get(k) != after.get(k)))
        if any(set(mutation.touched) & set(m.touched) for m in mutations):
            spec = kept  # it could undo an earlier mutation: one change per table
            continue
        mutations.append(mutation)
    text = render(spec)
    encoding = "utf-8"
    if rng.random() < 0.3:
        mutate_text = rng.choice(TEXTUAL)
        text, mutation = mutate_text(text, rng)
        if mutate_text is t_bytes:
            encoding = "latin-1"
            text = text + "\n# caf\u00e9 \u00ff\n"
        if mutate_text in (t_truncate, t_garbage, t_bytes):
            # The structural mutations may be cut off or drowned: nothing is certain now.
            mutations = [Mutation(m.kind, False, text_level=True) for m in mutations]
        mutations.append(mutation)
    return Mutant(seed, text, mutations, encoding)
