"""Several Genfiles in one code location: a ``name`` each keeps their definitions apart."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster_support import (
    FIXTURES,
    check_results,
    copy_genfile,
    failure_messages,
    materialize,
    row_count,
)

from datastorm_core.genfile import load_genfile
from datastorm_dagster import DatastormTranslator, DatastormTranslatorSettings, build_definitions

pytestmark = pytest.mark.postgres


def named(name: str) -> DatastormTranslator:
    return DatastormTranslator(DatastormTranslatorSettings(name=name, key_prefix=(name,),
                                                           group_name=name))


def test_two_genfiles_with_the_same_tables_share_a_code_location(
        pg_url: str, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    bank = build_definitions(FIXTURES / "bank.toml", target=pg_url, translator=named("bank"))
    tiny = build_definitions(FIXTURES / "tiny.toml", target=f"sqlite:///{lite}",
                             translator=named("tiny"))
    defs = dg.Definitions.merge(bank, tiny)
    defs.get_repository_def()  # loads: no two ops, jobs or schedules share a name

    assert {s.name for s in defs.schedules or []} == {
        "datastorm_bank_nightly_refresh", "datastorm_tiny_nightly_refresh"}
    assert set(defs.resources or {}) == {"datastorm_bank", "datastorm_tiny"}

    result = materialize(defs, dg.DagsterInstance.ephemeral())
    assert result.success, failure_messages(result)
    # each Genfile went to its own target: its own resource served its assets
    assert row_count(pg_url, "customer") == load_genfile(FIXTURES / "bank.toml").table(
        "customer").records
    with sqlite3.connect(lite) as conn:
        assert conn.execute("SELECT count(*) FROM customer").fetchone() == (
            load_genfile(FIXTURES / "tiny.toml").table("customer").records,)
    checks = check_results(result)
    assert checks and all(c.passed for c in checks.values())
    keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"bank/customer", "tiny/customer"} <= keys


def test_a_name_that_cannot_name_an_op_is_refused() -> None:
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        DatastormTranslatorSettings(name="bank-2")


def test_two_genfiles_pass_dagster_definitions_validate(tmp_path: Path) -> None:
    """The whole Definitions, as `dagster dev` loads them: before, the second Genfile's
    stream op had the first one's name and the location failed to load. One of the two
    mixes static partitions and days, which once failed too."""
    events = copy_genfile(tmp_path, "events.toml", partitions=2, name="events.toml")
    module = tmp_path / "location.py"
    module.write_text(
        "import dagster as dg\n"
        "from datastorm_dagster import (DatastormTranslator, DatastormTranslatorSettings,\n"
        "                               build_definitions)\n\n"
        "def named(name):\n"
        "    return DatastormTranslator(DatastormTranslatorSettings(\n"
        "        name=name, key_prefix=(name,), group_name=name))\n\n"
        f"defs = dg.Definitions.merge(\n"
        f"    build_definitions({str(FIXTURES / 'bank.toml')!r}, translator=named('bank')),\n"
        f"    build_definitions({str(events)!r}, translator=named('events')))\n",
        encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "DATASTORM_"))}
    dagster = str(Path(sys.executable).parent / "dagster")

    done = subprocess.run([dagster, "definitions", "validate", "-f", str(module)],
                          cwd=tmp_path, env={**env, "DAGSTER_HOME": str(home)},
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr
    # and a broken location does fail the same command: the check can fail
    module.write_text(module.read_text(encoding="utf-8").replace("named('events')",
                                                                 "named('bank')"),
                      encoding="utf-8")
    broken = subprocess.run([dagster, "definitions", "validate", "-f", str(module)],
                            cwd=tmp_path, env={**env, "DAGSTER_HOME": str(home)},
                            capture_output=True, text=True, timeout=300)
    assert broken.returncode != 0
