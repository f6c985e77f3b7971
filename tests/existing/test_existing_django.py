"""A schema made by an ORM's migrations (Django's own apps): imported, filled, used by the ORM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2e_support import run_cli
from existing_support import rows, schema_dump

pytestmark = pytest.mark.postgres

APP = Path(__file__).resolve().parent / "django_project" / "app.py"
# Tables the migrations fill and the application relies on: kept, and referenced.
KEPT = ["django_content_type", "auth_permission", "django_migrations"]


def django(url: str, action: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(APP), url, action], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_djangos_own_apps_are_filled_and_the_orm_reads_and_writes_them(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    django(pg_url, "migrate")
    with psycopg.connect(pg_url) as conn:
        kept_before = {t: rows(conn, f"SELECT * FROM {t} ORDER BY 1") for t in KEPT}
    before = schema_dump(pg_url)
    genfile = str(tmp_path / "django.toml")
    imported = run_cli(capsys, "import", pg_url, "-o", genfile, "--rows", "300",
                       "--exclude", ",".join(KEPT))
    assert imported.code == 0, imported.both
    text = Path(genfile).read_text(encoding="utf-8")
    assert "[django_content_type]\nexisting = true" in text
    assert "[auth_permission]\nexisting = true" in text
    result = run_cli(capsys, "run", genfile, "--target", pg_url)
    assert result.code == 0, result.both
    assert schema_dump(pg_url) == before
    with psycopg.connect(pg_url) as conn:
        assert {t: rows(conn, f"SELECT * FROM {t} ORDER BY 1") for t in KEPT} == kept_before
        # Every permission a group holds is one the migrations created.
        assert rows(conn, "SELECT count(*) FROM auth_group_permissions gp LEFT JOIN "
                          "auth_permission p ON p.id = gp.permission_id "
                          "WHERE p.id IS NULL") == [(0,)]
    summary = django(pg_url, "read")
    assert summary["users"] == 300 and summary["usernames_distinct"]
    assert summary["groups"] == 300 and summary["group_permissions"] > 0
    assert summary["log_entries"] == 300 and summary["log_users_known"]
    assert summary["sessions"] == 300 and summary["emails_valid"]
    assert summary["permissions"] == len(kept_before["auth_permission"])
    # The ORM's inserts got keys past the loaded ones.
    assert summary["new_user_id"] == summary["max_user_id_before"] + 1
    assert summary["new_group_id"] == 301
