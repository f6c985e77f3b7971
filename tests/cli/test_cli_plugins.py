"""Generators of the user's own through the command line, into PostgreSQL.

The example plugin package (examples/plugin) is installed for the module, as a user
installs one: pip builds it and installs it into a directory that the CLI's processes
get on PYTHONPATH, where ``importlib.metadata`` finds its entry points (``iban``,
``sku``). Its IBANs are checked here by ISO 13616's rule, independently of how the
plugin computes them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2e_support import (
    Result,
    assert_clean_failure,
    finish,
    run_cli,
    start_cli,
    table_digest,
    tables,
    write,
)

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "plugin"
TEST_PLUGINS = REPO / "tests" / "fixtures" / "plugins"
ROWS = 2500
PIP_SECONDS = 120

GENFILE = f"""
[dataset]
seed = 3
records = {ROWS}

[account.id]
type = "sequence"

# The example package's entry point.
[account.iban]
type = "iban"
country = "DE"
unique = true

# The same generator by its dotted path, with other parameters.
[account.iban_ch]
type = "datastorm_example_plugin.iban:Iban"
country = "CH"
formatted = true
null_rate = 0.1

[account.sku]
type = "sku"
categories = ["TOY", "BOOK"]
weights = [3, 1]
digits = 5
"""


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a CLI process that has the example package installed."""
    root = tmp_path_factory.mktemp("plugin")
    # Built from a copy: pip builds in the source tree (build/, *.egg-info).
    source = root / "source"
    shutil.copytree(EXAMPLE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = root / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(site),
         str(source)],
        capture_output=True, text=True, timeout=PIP_SECONDS, check=False)
    assert done.returncode == 0, done.stderr
    assert list(site.glob("datastorm_example_plugin-*.dist-info"))
    paths = [str(site), str(TEST_PLUGINS), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def cli(env: dict[str, str], *argv: str) -> Result:
    return finish(start_cli(*argv, env=env))


def is_valid_iban(text: str) -> bool:
    """ISO 13616: the first four characters moved to the end, letters as 10..35, the
    number mod 97 is 1."""
    compact = text.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, iban, iban_ch, sku FROM account ORDER BY id").fetchall()


def digest(url: str) -> tuple[int, str]:
    with psycopg.connect(url) as conn:
        return table_digest(conn, "account")


def test_plugin_values_land_in_postgres_the_same_whatever_workers_and_partitions(
        tmp_path: Path, pg_url: str, pg_databases: Any,
        plugin_env: dict[str, str]) -> None:
    genfile = write(tmp_path, GENFILE)
    done = cli(plugin_env, "run", genfile, "--target", pg_url, "--quiet")
    assert done.code == 0, done.err
    made = rows(pg_url)
    assert len(made) == ROWS
    ibans = [r[1] for r in made]
    assert all(isinstance(i, str) and re.fullmatch(r"DE\d{20}", i) for i in ibans)
    assert all(is_valid_iban(i) for i in ibans)  # type: ignore[arg-type]
    assert len(set(ibans)) == ROWS  # unique = true
    swiss = [r[2] for r in made if r[2] is not None]
    assert 0.8 * ROWS < len(swiss) < ROWS  # null_rate = 0.1: datastorm's NULLs
    assert all(re.fullmatch(r"CH\d\d( \d{4}){4} \d", s) for s in swiss)  # type: ignore[arg-type]
    assert all(is_valid_iban(s) for s in swiss)  # type: ignore[arg-type]
    skus = [r[3] for r in made]
    assert all(re.fullmatch(r"SKU-(TOY|BOOK)-\d{5}", s) for s in skus)  # type: ignore[arg-type]
    assert 0.65 < sum(s.startswith("SKU-TOY") for s in skus) / ROWS < 0.85  # type: ignore
    with psycopg.connect(pg_url) as conn:
        unique = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'account'::regclass "
            "AND contype = 'u'").fetchone()
        assert unique is not None and unique[0] == 1  # the unique IBAN is a UNIQUE column
    whole = digest(pg_url)

    again = cli(plugin_env, "run", genfile, "--target", pg_url, "--workers", "2",
                "--batch-size", "333", "--quiet")
    assert again.code == 0, again.err
    assert digest(pg_url) == whole

    with pg_databases.scratch() as parts_url:
        for k in range(2):
            part = cli(plugin_env, "run", genfile, "--target", parts_url, "--partition",
                       f"{k}/2", "--mode", "append", "--quiet")
            assert part.code == 0, part.err
        assert digest(parts_url) == whole


# The broken generators are tests/fixtures/plugins' (on sys.path by tests/conftest.py): the
# CLI runs in this process, which is quicker than a child and exits the same way.
BROKEN_BASE = """
[dataset]
seed = 3
records = 2500

[account.id]
type = "sequence"

[account.code]
type = "datastorm_test_plugins:Codes"
unique = true
"""


def test_a_missing_module_is_refused_before_anything_is_written(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, BROKEN_BASE + '[account.sku]\ntype = "datastorm_gone_plugin:Sku"\n')
    for argv in (("validate", genfile), ("run", genfile, "--target", pg_url)):
        result = run_cli(capsys, *argv)
        assert_clean_failure(result, 2, "[account.sku]",
                             "no module named 'datastorm_gone_plugin'")
    with psycopg.connect(pg_url) as conn:
        assert tables(conn) == []


def test_a_generator_returning_too_few_values_is_refused_before_anything_is_written(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, BROKEN_BASE
                    + '[account.broken]\ntype = "datastorm_test_plugins:short"\n')
    result = run_cli(capsys, "run", genfile, "--target", pg_url)
    assert_clean_failure(result, 2, "[account.broken]", "returned 15 values for 16 rows")
    with psycopg.connect(pg_url) as conn:
        assert tables(conn) == []


def test_a_generator_raising_during_the_run_fails_it_with_its_cause_and_leaves_the_table(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, BROKEN_BASE, "good.toml")
    assert run_cli(capsys, "run", good, "--target", pg_url, "--quiet").code == 0
    before = digest(pg_url)
    # Fine on the rows validation asks for; raises in the chunk holding row 2000.
    broken = write(tmp_path, BROKEN_BASE + '[account.ledger]\ntype = "datastorm_test_plugins:'
                   'explodes_after"\nrow = 2000\n', "broken.toml")
    assert run_cli(capsys, "validate", broken).code == 0
    result = run_cli(capsys, "run", broken, "--target", pg_url, "--workers", "2")
    assert_clean_failure(result, 1, "[account.ledger]",
                         "generator 'datastorm_test_plugins:explodes_after' failed",
                         "RuntimeError: the ledger has no code past row 2000")
    assert digest(pg_url) == before
    with psycopg.connect(pg_url) as conn:
        columns = conn.execute("SELECT column_name FROM information_schema.columns "
                               "WHERE table_name = 'account'").fetchall()
    assert "ledger" not in {c[0] for c in columns}
