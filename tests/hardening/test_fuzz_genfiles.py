"""Fuzz: Genfiles made from seeds, valid and broken, through ``datastorm validate`` and ``run``.

For a valid Genfile (genfile_fuzz.valid_genfile): ``validate`` says ok, and
``run`` into SQLite writes exactly the declared rows, every reference
resolves, unique fields hold no duplicate, NULLs appear only where the
Genfile allows them, values stay in their ranges and patterns, and a second
run (other batch size, buffer, worker count) gives the same rows.

For a broken one (genfile_fuzz.mutant_genfile): ``validate`` exits 0 or 2,
never 1, never with a traceback; a Genfile the documentation says is wrong
is refused, and the report names the table or field. What it accepts, it
must also run.

The CLI runs in this process (``run_cli``), as the CLI tests do; a few
cases go through the command in its own process too (``cli_command``).
"""

from __future__ import annotations

import math
import re
import sqlite3
import subprocess
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Result, cli_command, run_cli
from genfile_fuzz import Spec, TableSpec, mutant_genfile, render, valid_genfile
from source_support import pattern_regex

# A failed run must not hide what the fuzzer made: the Genfile is kept in the message.
MAX_SHOWN = 6000
# Accepted broken Genfiles are run when they are this small.
MAX_RUN_ROWS = 20_000
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HASH_DIGITS = {"sha256": 64, "md5": 32, "sha1": 40, "blake2b": 128}
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)(?::[^{}]*)?\}")
# A date field's end is the whole day; a timestamp's the moment.
DAY, NO_TIME = timedelta(days=1) - timedelta(microseconds=1), timedelta(0)


def shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "\n[...]"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def assert_clean(result: Result, *, allowed: tuple[int, ...], genfile: str) -> None:
    assert result.code in allowed, (
        f"exit {result.code}, expected one of {allowed}\n{result.err}\n{shown(genfile)}")
    assert "Traceback" not in result.both, f"{result.both}\n{shown(genfile)}"
    assert "internal error" not in result.err, f"{result.err}\n{shown(genfile)}"


# -- what a valid Genfile promises --------------------------------------------------


def reads(params: dict[str, Any]) -> list[str]:
    """The fields of the row a field is derived from (NULL there makes it NULL)."""
    kind = params.get("type")
    if kind == "email" and isinstance(params.get("from"), str):
        return [params["from"]]
    if kind == "template":
        return PLACEHOLDER.findall(params["template"].replace("{{", "").replace("}}", ""))
    if kind == "hash":
        return list(params["of"])
    return []


def self_reference(table: TableSpec, params: dict[str, Any]) -> bool:
    return params.get("type") == "reference" and \
        str(params.get("ref", "")).split(".")[0] == table.name


def nullable(table: TableSpec) -> set[str]:
    """Fields that may hold NULL: a null_rate, a hierarchy's roots, or derived from those."""
    found = {n for n, p in table.fields.items()
             if p.get("null_rate", 0) > 0 or self_reference(table, p)}
    grew = True
    while grew:
        more = {n for n, p in table.fields.items()
                if n not in found and any(r in found for r in reads(p))}
        found |= more
        grew = bool(more)
    return found


def moment(value: Any) -> datetime | None:
    """An absolute ``start``/``end`` as a datetime; None for a relative one ("-5y")."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return datetime.fromisoformat(value)
    return None


def stored_moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace(" ", "T"))


def fetch(db: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = db.execute(f"SELECT * FROM {q(table)}")
    return [d[0] for d in cursor.description], cursor.fetchall()


def snapshot(path: Path, spec: Spec) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(path)) as db:
        return {t.name: sorted(fetch(db, t.name)[1], key=repr) for t in spec.tables}


def check_field(table: TableSpec, name: str, values: list[Any], rows: int,
                key_values: dict[str, set[Any]], maybe_null: set[str]) -> None:
    params = table.fields[name]
    kind = params["type"]
    where = f"{table.name}.{name} ({params})"
    present = [v for v in values if v is not None]
    nulls = len(values) - len(present)
    if name not in maybe_null:
        assert nulls == 0, f"{where}: {nulls} NULLs, and nothing allows them"
    if params.get("null_rate") == 1:
        assert not present, f"{where}: null_rate 1, yet {len(present)} values"
    if params.get("unique") is True or table.primary_key() == [name]:
        assert len(set(present)) == len(present), f"{where}: duplicates in a unique field"
    for value in present:
        if isinstance(value, float):
            assert math.isfinite(value), f"{where}: {value}"
    if kind == "sequence":
        start, step = params.get("start", 1), params.get("step", 1)
        expected = {start + step * i for i in range(rows)}
        assert set(present) <= expected and len(set(present)) == len(present), where
        if nulls == 0:
            assert set(present) == expected, where
    elif kind == "int":
        assert all(params["min"] <= v <= params["max"] for v in present), where
    elif kind in ("float", "decimal"):
        low, high = params.get("min", 0), params.get("max", 1 if kind == "float" else 1000)
        slack = 1e-9 * max(abs(low), abs(high), 1)
        assert all(low - slack <= v <= high + slack for v in present), (where, present[:5])
    elif kind == "bool":
        assert set(present) <= {0, 1}, where
        if params.get("probability") in (0, 1):
            assert set(present) <= {int(params["probability"])}, where
    elif kind == "choice":
        weights = params.get("weights") or [1] * len(params["values"])
        allowed = [v for v, w in zip(params["values"], weights, strict=True) if w > 0]
        assert all(v in allowed for v in present), \
            (where, [v for v in present if v not in allowed][:5])
    elif kind == "string" and "pattern" in params:
        regex = re.compile(pattern_regex(params["pattern"]), re.DOTALL)
        assert all(isinstance(v, str) and regex.fullmatch(v) for v in present), \
            (where, present[:5])
    elif kind == "string":
        length = params.get("length", [8, 16])
        low, high = (length, length) if isinstance(length, int) else length
        chars = params.get("chars")
        for v in present:
            assert low <= len(v) <= high, (where, v)
            assert chars is None or set(v) <= set(chars), (where, v)
    elif kind in ("date", "timestamp"):
        start = moment(params.get("start"))
        end = moment(params.get("end"))
        for v in present:
            at = stored_moment(v)
            assert start is None or at >= start, (where, v)
            assert end is None or at <= end + (DAY if kind == "date" else NO_TIME), (where, v)
    elif kind == "email":
        domains = params.get("domain")
        domains = [domains] if isinstance(domains, str) else domains
        for v in present:
            local, _, domain = v.rpartition("@")
            assert local and domain, (where, v)
            assert domains is None or domain in domains, (where, v)
    elif kind == "uuid":
        assert all(UUID4.match(v) for v in present), (where, present[:3])
    elif kind == "hash":
        digits = HASH_DIGITS[params.get("algorithm", "sha256")]
        assert all(re.fullmatch(f"[0-9a-f]{{{digits}}}", v) for v in present), where
    elif kind in ("name", "first_name", "last_name"):
        assert all(isinstance(v, str) and v.strip() for v in present), where
    elif kind == "reference":
        parent, _, column = params["ref"].partition(".")
        orphans = [v for v in present if v not in key_values[f"{parent}.{column}"]]
        assert not orphans, f"{where}: {len(orphans)} orphans, e.g. {orphans[:3]}"


def check_rows(spec: Spec, path: Path) -> None:
    """Every promise of the Genfile, checked on the SQLite file a run wrote."""
    with closing(sqlite3.connect(path)) as db:
        tables = {t.name: fetch(db, t.name) for t in spec.tables}
    key_values: dict[str, set[Any]] = {}
    for table in spec.tables:
        columns, rows = tables[table.name]
        for name in table.fields:
            index = columns.index(name)
            key_values[f"{table.name}.{name}"] = {r[index] for r in rows}
    for table in spec.tables:
        columns, rows = tables[table.name]
        assert columns == list(table.fields), (table.name, columns)
        tied = table.per_parent()
        if tied is None:
            assert len(rows) == table.records, (table.name, len(rows), table.records)
        else:
            name, params = tied
            parent, _, column = params["ref"].partition(".")
            low, high = params["per_parent"]
            index = columns.index(name)
            counts = dict.fromkeys(key_values[f"{parent}.{column}"], 0)
            for row in rows:
                assert row[index] in counts, (table.name, row[index])
                counts[row[index]] += 1
            spread = sorted(set(counts.values()))
            assert all(low <= c <= high for c in spread), (table.name, low, high, spread)
        maybe_null = nullable(table)
        for name in table.fields:
            values = [r[columns.index(name)] for r in rows]
            check_field(table, name, values, len(rows), key_values, maybe_null)
        key = table.primary_key()
        if len(key) > 1:
            pairs = [tuple(r[columns.index(k)] for k in key) for r in rows]
            assert len(set(pairs)) == len(pairs), f"{table.name}: duplicate composite keys"
        check_hierarchy(table, columns, rows)


def check_hierarchy(table: TableSpec, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """A self-reference points at an earlier row: the first row and the roots are NULL."""
    for name, params in table.fields.items():
        if not self_reference(table, params) or not rows:
            continue
        ident = table.fields["id"]
        start, step = ident.get("start", 1), ident.get("step", 1)
        position = {start + step * i: i for i in range(len(rows))}
        ids, refs = columns.index("id"), columns.index(name)
        for row in rows:
            if row[refs] is not None:
                assert position[row[refs]] < position[row[ids]], (table.name, name, row)
        roots = sum(1 for r in rows if r[refs] is None)
        assert roots >= 1
        rate = params.get("root_rate", 0)
        if rate == 0:
            assert roots == 1, (table.name, name, roots)
        elif rate == 1:
            assert roots == len(rows), (table.name, name, roots)


# -- the tests ----------------------------------------------------------------------


def test_a_valid_genfile_validates_and_runs_as_declared(
        valid_seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # a relative target lands there, nowhere else
    spec = valid_genfile(valid_seed)
    text = render(spec)
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(text, encoding="utf-8")

    checked = run_cli(capsys, "validate", str(genfile))
    assert_clean(checked, allowed=(0,), genfile=text)
    assert f"{len(spec.tables)} table" in checked.out, checked.out

    db = tmp_path / "out.db"
    first = run_cli(capsys, "run", str(genfile), "--target", f"sqlite:///{db}", "--quiet")
    assert_clean(first, allowed=(0,), genfile=text)
    check_rows(spec, db)
    rows = snapshot(db, spec)

    # Again into the same file, cut differently: the same rows (and only them).
    again = run_cli(capsys, "run", str(genfile), "--target", f"sqlite:///{db}", "--quiet",
                    "--batch-size", str(1 + valid_seed % 97), "--buffer-size",
                    str(1 + valid_seed % 13), "--workers", str(1 + valid_seed % 3))
    assert_clean(again, allowed=(0,), genfile=text)
    assert snapshot(db, spec) == rows, shown(text)


def test_a_broken_genfile_is_refused_cleanly_or_runs(
        mutant_seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # a relative target lands there, nowhere else
    mutant = mutant_genfile(mutant_seed)
    genfile = tmp_path / "Genfile.toml"
    genfile.write_bytes(mutant.text.encode(mutant.encoding, errors="replace"))
    context = f"mutations: {mutant.kinds}\n{shown(mutant.text)}"

    result = run_cli(capsys, "validate", str(genfile))
    assert_clean(result, allowed=(0, 2), genfile=context)
    if result.code == 2:
        assert result.err.startswith("datastorm: error:"), result.err
        assert len(result.err.strip()) > len("datastorm: error:") + 10, result.err
        assert result.out == "", result.out
        for name in mutant.required_names():
            assert name in result.err, f"{name!r} not named in:\n{result.err}\n{context}"
        return
    assert not mutant.must_reject, f"accepted, but the documentation refuses it\n{context}"
    found = re.search(r"([\d,]+) rows", result.out)
    assert found is not None, result.out
    if int(found.group(1).replace(",", "")) > MAX_RUN_ROWS:
        return
    # What validate accepts, run does: a Genfile problem is never found only by run.
    db = tmp_path / "out.db"
    ran = run_cli(capsys, "run", str(genfile), "--target", f"sqlite:///{db}", "--quiet")
    assert_clean(ran, allowed=(0,), genfile=context)
    with closing(sqlite3.connect(db)) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name <> 'datastorm_owned_tables'")]
        total = sum(conn.execute(f"SELECT count(*) FROM {q(n)}").fetchone()[0] for n in names)
        infinite = [n for n in names for c in fetch(conn, n)[0] if conn.execute(
            f"SELECT count(*) FROM {q(n)} WHERE typeof({q(c)}) = 'real' "
            f"AND abs({q(c)}) > 1.7976931348623157e308").fetchone()[0]]
    assert total == int(found.group(1).replace(",", "")), (total, result.out, context)
    assert not infinite, f"infinite values in {infinite}\n{context}"


@pytest.mark.parametrize("case", ["deep", "not-utf8"])
def test_the_installed_command_exits_as_in_process(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command in its own process: the same refusal as in-process, no traceback.

    Deep nesting gets a fresh interpreter's stack here, not pytest's.
    """
    text = render(valid_genfile(7))
    if case == "deep":
        depth = 200_000
        data = (f'[deep.x]\ntype = "choice"\nvalues = {"[" * depth}1{"]" * depth}\n'
                + text).encode()
    else:
        data = text.encode() + "# caf\u00e9\n".encode("latin-1")
    genfile = tmp_path / "Genfile.toml"
    genfile.write_bytes(data)
    inside = run_cli(capsys, "validate", str(genfile))
    child = subprocess.run(cli_command("validate", str(genfile)), capture_output=True,
                           text=True, timeout=60, cwd=tmp_path, check=False)
    assert child.returncode == inside.code == 2, (child.returncode, inside, child.stderr)
    assert "Traceback" not in child.stdout + child.stderr, child.stderr
    assert child.stderr.startswith("datastorm: error:"), child.stderr
    assert child.stderr == inside.err
