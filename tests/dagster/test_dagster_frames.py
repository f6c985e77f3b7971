"""Tables handed to downstream assets as DataFrames (``DatastormFrameIOManager``):
real materializations, a user's asset taking the tables as arguments, and the rows
it gets compared with the rows the target holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from dagster_support import edit_genfile, failure_messages, materialize, query

from datastorm_core import load_genfile
from datastorm_dagster import build_definitions

GENFILE = Path(__file__).resolve().parents[1] / "fixtures" / "frames.toml"

received: dict[str, pd.DataFrame] = {}


@dg.asset
def accounts_per_customer(customer: pd.DataFrame, account: pd.DataFrame) -> int:
    """A user's asset downstream of two datastorm tables: it gets both as DataFrames."""
    received.update(customer=customer, account=account)
    assert set(account["customer_id"]) <= set(customer["id"])
    return int(account.groupby("customer_id").size().max())


@dg.asset
def customer_rows(customer: pd.DataFrame) -> int:
    received.update(customer=customer)
    return len(customer)


def _copy(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "Genfile.toml"
    path.write_text(GENFILE.read_text(encoding="utf-8").replace("[dataset]\n",
                                                                f"[dataset]\n{extra}", 1),
                    encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    """A DataFrame's value as the Python value a driver gives (None for every NULL)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(map(_plain, row)) for row in frame.astype(object).itertuples(index=False)]


@pytest.mark.postgres
def test_a_downstream_asset_gets_the_rows_postgres_holds(
        tmp_path: Path, fresh_database: Callable[[], str]) -> None:
    url = fresh_database()
    defs = build_definitions(_copy(tmp_path), target=url, frames=True)
    received.clear()
    result = dg.materialize([*(defs.assets or []), accounts_per_customer],
                            instance=dg.DagsterInstance.ephemeral(), resources=defs.resources,
                            raise_on_error=False)
    assert result.success, failure_messages(result)

    for table in ("customer", "account"):
        frame = received[table]
        stored = query(url, f'SELECT * FROM "{table}" ORDER BY id')
        # psycopg's uuid.UUID as text: the DataFrame holds UUIDs as their canonical text.
        stored = [tuple(str(v) if type(v).__name__ == "UUID" else v for v in row)
                  for row in stored]
        assert _rows(frame) == stored
        assert len(frame) == load_genfile(str(GENFILE)).table(table).records
    customers = received["customer"]
    assert str(customers["id"].dtype) == "Int64" and str(customers["vip"].dtype) == "boolean"
    assert isinstance(customers["balance"].dropna().iloc[0], Decimal)
    assert isinstance(customers["born"].dropna().iloc[0], date)
    assert customers["balance"].isna().any() and customers["born"].isna().any()
    assert result.output_for_node("accounts_per_customer") <= 3  # per_parent = [0, 3]


def test_partitions_add_up_and_the_genfile_option_turns_frames_on(tmp_path: Path) -> None:
    path = _copy(tmp_path, "partitions = 2\n")
    edit_genfile(path, "[dataset]\n", "[dagster]\nframes = true\n\n[dataset]\n")
    db = tmp_path / "run.db"
    defs = build_definitions(path, target=f"sqlite:///{db}")
    assert "datastorm_frames" in (defs.resources or {})
    instance = dg.DagsterInstance.ephemeral()
    for key in ("0", "1"):
        done = materialize(defs, instance, selection=["customer"], partition_key=key)
        assert done.success, failure_messages(done)

    received.clear()
    downstream = dg.materialize([*(defs.assets or []), customer_rows], instance=instance,
                                resources=defs.resources, selection=["customer_rows"],
                                raise_on_error=False)
    assert downstream.success, failure_messages(downstream)
    frame = received["customer"]
    with sqlite3.connect(db) as conn:
        stored = conn.execute('SELECT id, token, since FROM "customer" ORDER BY id').fetchall()
    assert list(frame.index) == list(range(len(stored)))
    assert [(int(i), t, datetime.fromisoformat(s)) for i, t, s in stored] == \
        _rows(frame[["id", "token", "since"]])


def test_rows_of_another_seed_are_refused(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    target = f"sqlite:///{tmp_path / 'run.db'}"
    instance = dg.DagsterInstance.ephemeral()
    done = materialize(build_definitions(path, target=target, frames=True), instance,
                       selection=["customer"])
    assert done.success, failure_messages(done)

    edit_genfile(path, "seed = 1606", "seed = 1607")
    defs = build_definitions(path, target=target, frames=True)
    result = dg.materialize([*(defs.assets or []), customer_rows], instance=instance,
                            resources=defs.resources, selection=["customer_rows"],
                            raise_on_error=False)
    assert not result.success
    message = "\n".join(failure_messages(result).values())
    assert "materialize 'customer' again" in message and "datastorm/seed" in message


def test_frames_are_off_unless_asked(tmp_path: Path) -> None:
    defs = build_definitions(_copy(tmp_path), target=f"sqlite:///{tmp_path / 'x.db'}")
    assert set(defs.resources or {}) == {"datastorm"}
