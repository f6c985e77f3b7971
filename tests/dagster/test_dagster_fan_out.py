"""``[dagster] fan_out``: one table's materialization as slices, one step each."""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import dagster as dg
import pytest
from dagster_support import (
    check_results,
    copy_genfile,
    edit_genfile,
    failure_messages,
    fingerprint,
    materialize,
    metadata_value,
)

from datastorm_core.genfile import load_genfile
from datastorm_core.run import RunOptions, run
from datastorm_dagster import build_definitions

SLICES = 3


def fanned_genfile(directory: Path, slices: int = SLICES) -> Path:
    path = copy_genfile(directory, "tiny.toml")
    edit_genfile(path, "[dataset]\n", f"[dagster]\nfan_out = {slices}\n\n[dataset]\n")
    return path


@pytest.mark.postgres
def test_a_fanned_out_table_is_written_in_slices_that_add_up_to_one_run(
        tmp_path: Path, pg_url: str, fresh_database) -> None:
    genfile = fanned_genfile(tmp_path)
    defs = build_definitions(genfile, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(defs, instance)
    assert result.success, failure_messages(result)

    # A step per slice, besides the one that fans them out and the one that collects.
    steps = {e.step_key for e in result.all_events if e.is_step_success}
    for table in ("customer", "account"):
        sliced = {s for s in steps if s.startswith(f"datastorm_{table}.") and "__slice[" in s}
        assert len(sliced) == SLICES, steps
    assert all(check.passed for check in check_results(result).values())

    whole = fresh_database()
    run(load_genfile(genfile), RunOptions(target=whole))
    parsed = load_genfile(genfile)
    for table in ("customer", "account"):
        assert fingerprint(pg_url, table) == fingerprint(whole, table)
        metadata = instance.get_latest_materialization_event(
            dg.AssetKey(table)).asset_materialization.metadata
        slices = metadata_value(metadata["datastorm/slices"])
        records = parsed.table(table).records
        assert [s["slice"] for s in slices] == list(range(SLICES))
        assert sum(s["rows"] for s in slices) == records == metadata_value(
            metadata["dagster/row_count"])
        # The slices cover the row range once, in order, without gaps.
        bounds = [tuple(s["row_range"]) for s in slices]
        assert bounds[0][0] == 0 and bounds[-1][1] == records
        assert all(a[1] == b[0] for a, b in pairwise(bounds))


@pytest.mark.postgres
def test_a_fanned_out_child_refuses_a_parent_of_another_definition(
        tmp_path: Path, pg_url: str) -> None:
    genfile = fanned_genfile(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    first = materialize(build_definitions(genfile, target=pg_url), instance)
    assert first.success, failure_messages(first)
    edit_genfile(genfile, "records = 50", "records = 60")  # the parent's pool changes
    child = materialize(build_definitions(genfile, target=pg_url), instance,
                        selection=["account"])
    assert not child.success
    assert "materialize 'customer' first" in " ".join(failure_messages(child).values())


@pytest.mark.parametrize(("dagster", "dataset", "message"), [
    ("fan_out = 0", "", "fan_out must be an integer of at least 1, got 0"),
    ("fan_out = \"4\"", "", "fan_out must be an integer of at least 1, got '4'"),
    ("fan_out = 4", "partitions = 2\n", "use one of them"),
])
def test_validate_refuses_a_bad_fan_out(tmp_path: Path, dagster: str, dataset: str,
                                        message: str) -> None:
    path = copy_genfile(tmp_path, "tiny.toml")
    edit_genfile(path, "[dataset]\n", f"[dagster]\n{dagster}\n\n[dataset]\n{dataset}")
    done = subprocess.run([sys.executable, "-m", "datastorm_core.entry", "validate",
                           str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
