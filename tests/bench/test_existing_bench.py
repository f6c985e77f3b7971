"""The existing-tables benchmark runs end to end on a small size (its figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.postgres

BENCH = Path(__file__).resolve().parents[2] / "bench" / "existing_bench.py"
sys.path.insert(0, str(BENCH.parent))
from existing_bench import pg_tool  # noqa: E402  (bench/ is not a package)


@pytest.mark.timeout(240)
def test_the_existing_benchmark_compares_datastorm_and_pg_restore_on_the_same_rows(
        pg_server_url: str, tmp_path: Path) -> None:
    try:
        pg_tool("pg_restore")
        pg_tool("pg_dump")
    except SystemExit as missing:
        pytest.skip(str(missing))
    out = tmp_path / "existing.json"
    database = f"ds_bench_existing_{uuid.uuid4().hex[:10]}"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "2000", "--repeat", "1",
         "--url", pg_server_url, "--database", database, "--json", str(out)],
        capture_output=True, text=True, timeout=230)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(out.read_text())
    assert record["total_rows"] == 4 * 2000
    assert record["dump"]["rows"] == {"customer": 2000, "account": 4000, "card": 2000}
    assert record["schema"]["foreign_keys"] == 2 and record["schema"]["triggers"] == []
    results = record["results"]
    for method in ("datastorm", "datastorm-row-checks", "pg_restore", "pg_restore-j2-unchecked"):
        assert results[method]["rows"] == record["total_rows"], method
        assert results[method]["rows_per_second"] > 0 and results[method]["peak_rss_mb"] > 0
        assert results[method]["same_rows_as_dump"], method
    for method in ("datastorm", "datastorm-row-checks"):
        assert set(results[method]["tables_seconds"]) == {"customer", "account", "card"}
    assert {r["method"] for r in record["rounds"]} == set(results)
    assert "datastorm" in done.stdout and "rows/s" in done.stdout
    # The benchmark's database is dropped at the end (no --keep).
    with psycopg.connect(pg_server_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                            (database,)).fetchone()[0] == 0
