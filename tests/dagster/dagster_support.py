"""Helpers of the Dagster tests: Genfile copies to edit, runs, and SQL on the target."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def copy_genfile(directory: Path, fixture: str, *, partitions: int | None = None,
                 name: str = "Genfile.toml") -> Path:
    """A copy of ``fixtures/<fixture>`` the test may edit; optionally partitioned."""
    text = (FIXTURES / fixture).read_text(encoding="utf-8")
    if partitions is not None:
        text = edit_text(text, "[dataset]\n", f"[dataset]\npartitions = {partitions}\n")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def edit_text(text: str, old: str, new: str) -> str:
    """``text`` with its single occurrence of ``old`` replaced (fails loudly otherwise)."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the Genfile"
    return text.replace(old, new)


def edit_genfile(path: Path, old: str, new: str) -> None:
    path.write_text(edit_text(path.read_text(encoding="utf-8"), old, new), encoding="utf-8")


def edit_table(path: Path, table: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` inside the section ``[table]`` only."""
    text = path.read_text(encoding="utf-8")
    header = f"[{table}]\n"
    start = text.index(header)
    following = re.search(r"^\[(?!" + re.escape(table) + r"[.\]])", text[start + 1:], re.M)
    end = start + 1 + following.start() if following else len(text)
    section = edit_text(text[start:end], old, new)
    path.write_text(text[:start] + section + text[end:], encoding="utf-8")


def everything(defs: dg.Definitions) -> list[Any]:
    """Every asset and asset check of ``defs``, for ``dg.materialize``."""
    return [*(defs.assets or []), *(defs.asset_checks or [])]


def materialize(defs: dg.Definitions, instance: dg.DagsterInstance, *,
                selection: dg.AssetSelection | Sequence[str] | None = None,
                partition_key: str | None = None) -> dg.ExecuteInProcessResult:
    """Run ``defs`` (its assets, checks and resources) in process; never raises."""
    return dg.materialize(everything(defs), instance=instance, resources=defs.resources,
                          selection=selection, partition_key=partition_key,
                          raise_on_error=False)


def failure_messages(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Step key -> the error text of every failed step."""
    messages = {}
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        parts = [data.error.to_string() if data.error else ""]
        if data.user_failure_data is not None:
            parts.append(data.user_failure_data.description or "")
        messages[event.step_key or ""] = "\n".join(parts)
    return messages


def materialized_keys(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def check_results(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], Any]:
    """(table, check name) -> the check's evaluation."""
    return {(e.asset_key.path[-1], e.check_name): e
            for e in result.get_asset_check_evaluations()}


def metadata_value(entry: Any) -> Any:
    """The plain value of a metadata entry (IntMetadataValue(3) -> 3)."""
    return getattr(entry, "value", entry)


def query(url: str, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement, tuple(params)).fetchall()  # type: ignore[arg-type]


def scalar(url: str, statement: str, params: Sequence[Any] = ()) -> Any:
    return query(url, statement, params)[0][0]


def row_count(url: str, table: str) -> int:
    return int(scalar(url, sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(table)).as_string()))


def fingerprint(url: str, table: str) -> tuple[int, int, str | None]:
    """(rows, distinct ids, md5 of every row ordered by id): equal iff the tables are."""
    statement = sql.SQL("SELECT count(*), count(DISTINCT t.id), "
                        "md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} AS t").format(
        sql.Identifier(table)).as_string()
    rows, ids, digest = query(url, statement)[0]
    return int(rows), int(ids), digest


def table_exists(url: str, table: str) -> bool:
    return scalar(url, "SELECT to_regclass(%s) IS NOT NULL", (table,))


# The runs, one per partition, from a fresh process loading the code location the way
# a worker does (a reconstructable job): with a distributed executor, the run's process
# submits the steps and the workers run them. One run after another: execute_job
# from several threads of one process hung.
LAUNCH_RUNS = """
import json, sys
import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

repository = ReconstructableRepository.for_module(
    "datastorm_dagster.definitions", "defs", working_directory=sys.argv[1])
job = repository.get_reconstructable_job("datastorm_refresh")
instance = dg.DagsterInstance.get()

def one(key):  # "-": the whole table (an unpartitioned Genfile)
    tags = {} if key == "-" else {"dagster/partition": key}
    with dg.execute_job(job, instance, tags=tags) as result:
        return result.success

print(json.dumps([one(key) for key in sys.argv[2:]]))
"""


def run_partitions(env: dict[str, str], project: Path, keys: Sequence[str],
                   timeout: float) -> list[bool]:
    """Launch the refresh job of ``project``'s code location once per partition key,
    from a fresh process with ``env``; whether each run succeeded."""
    try:
        launched = subprocess.run([sys.executable, "-c", LAUNCH_RUNS, str(project), *keys],
                                  cwd=project, env=env, capture_output=True, text=True,
                                  timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:  # killed by run(); what it said so far
        raise AssertionError(f"the runs took over {timeout} s:\n{str(exc.stderr)[-4000:]}"
                             ) from None
    assert launched.returncode == 0, launched.stderr[-4000:]
    return json.loads(launched.stdout.strip().splitlines()[-1])
