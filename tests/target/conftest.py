"""The ``backend`` fixture: every store the target contract suite runs against."""

from __future__ import annotations

import pytest
from target_support import (
    Backend,
    CsvBackend,
    JsonlBackend,
    ParquetBackend,
    PostgresBackend,
    SqliteBackend,
)

BACKENDS = [
    pytest.param("postgres-after_load", marks=pytest.mark.postgres),
    pytest.param("postgres-after_load-single", marks=pytest.mark.postgres),
    pytest.param("postgres-immediate", marks=pytest.mark.postgres),
    "sqlite",
    "csv",
    "jsonl",
    "parquet",
]


def make_backend(request: pytest.FixtureRequest, name: str, tmp_path) -> Backend:
    if name.startswith("postgres-"):
        _, constraints, *single = name.split("-")
        return PostgresBackend(request.getfixturevalue("pg_url"), constraints,
                               1 if single else None)
    if name == "sqlite":
        return SqliteBackend(str(tmp_path / "sub" / "test.db"))
    if name == "csv":
        return CsvBackend(str(tmp_path / "csv-out"))
    if name == "parquet":
        return ParquetBackend(str(tmp_path / "parquet-out"))
    return JsonlBackend(str(tmp_path / "jsonl-out"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path) -> Backend:
    """A store to write to and read back from, one per target kind."""
    return make_backend(request, request.param, tmp_path)


@pytest.fixture(params=[
    pytest.param("postgres-after_load", marks=pytest.mark.postgres),
    pytest.param("postgres-after_load-single", marks=pytest.mark.postgres),
    pytest.param("postgres-immediate", marks=pytest.mark.postgres),
    "sqlite",
])
def db_backend(request: pytest.FixtureRequest, tmp_path) -> Backend:
    """Only the databases: the stores with keys, upserts and transactions."""
    return make_backend(request, request.param, tmp_path)
