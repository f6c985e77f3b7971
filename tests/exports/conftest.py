"""A database loaded once for the export tests, and a Genfile whose exports read it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from export_support import GENFILE, INJECTION

pytestmark = pytest.mark.postgres

@pytest.fixture(scope="module")
def shop(pg_databases: object, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[tuple[str, str]]:
    """(Genfile path, database URL): the tables loaded once for the module."""
    import psycopg

    folder = tmp_path_factory.mktemp("exports")
    genfile = folder / "Genfile.toml"
    genfile.write_text(GENFILE, encoding="utf-8")
    with pg_databases.scratch() as url:  # type: ignore[attr-defined]
        from datastorm_core.cli import main

        assert main(["run", str(genfile), "--target", url, "--quiet"]) == 0
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE customer SET name = %s WHERE id = 7", (INJECTION,))
        yield str(genfile), url


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own in the real Redis, its keys deleted after."""
    import redis

    prefix = f"datastorm-test:{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()

