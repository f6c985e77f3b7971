"""Several Genfiles in one code location: a ``name`` each keeps their definitions apart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import dagster as dg
import pytest
from dagster_support import FIXTURES, check_results, failure_messages, materialize, row_count

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
