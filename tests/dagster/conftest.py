"""Fixtures of the Dagster tests: more fresh databases, and a clean environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest


@pytest.fixture(autouse=True)
def _no_datastorm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own DATASTORM_GENFILE / DATASTORM_TARGET must not leak into a test."""
    monkeypatch.delenv("DATASTORM_GENFILE", raising=False)
    monkeypatch.delenv("DATASTORM_TARGET", raising=False)
    for name in [n for n in os.environ if n.startswith("DATASTORM_TARGET_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def fresh_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """Creates as many fresh databases as the test asks for; drops them all after."""
    import psycopg

    names: list[str] = []

    def create() -> str:
        name = f"ds_dg_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        parts = urlsplit(pg_server_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))

    try:
        yield create
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Dagster's beta and supersession warnings are about Dagster, not datastorm: quiet."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings(
                "ignore::dagster_shared.utils.warnings.BetaWarning"))
            item.add_marker(pytest.mark.filterwarnings(
                "ignore::dagster_shared.utils.warnings.PreviewWarning"))
