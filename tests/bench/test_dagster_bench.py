"""The Dagster benchmark runs end to end on a tiny Genfile (its figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.postgres

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dagster_bench.py"

TINY = """\
[dataset]
seed = 11

[customer]
records = 30

[customer.id]
type = "sequence"

[customer.name]
type = "name"

[customer.email]
type = "email"
from = "name"
unique = true

[orders]
records = 75

[orders.id]
type = "sequence"

[orders.customer_id]
type = "reference"
ref = "customer.id"

[orders.amount]
type = "int"
min = 1
max = 500
"""
COUNTS = {"customer": 30, "orders": 75}


@pytest.mark.timeout(120)
def test_the_dagster_benchmark_times_materialize_all_against_datastorm_run(
        pg_server_url: str, tmp_path: Path) -> None:
    genfile = tmp_path / "tiny.toml"
    genfile.write_text(TINY, encoding="utf-8")
    out = tmp_path / "dagster.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--genfile", str(genfile), "--repeat", "1",
         "--url", pg_server_url, "--json", str(out), "--with-multiprocess"],
        capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(out.read_text())
    assert record["tables"] == COUNTS and record["total_rows"] == sum(COUNTS.values())
    results = record["results"]
    assert set(results) == {"datastorm-run", "dagster-materialize-all",
                            "dagster-materialize-all-multiprocess"}
    for method, r in results.items():
        assert r["rows"] == sum(COUNTS.values()), method
        assert {t: s["rows"] for t, s in r["state"].items()} == COUNTS, method
        assert r["rows_as_genfile"] and r["same_tables_as_datastorm_run"], method
        assert r["seconds"] > 0 and r["rows_per_second"] > 0 and r["peak_rss_mb"] > 0, method
        assert r["state"] == record["reference"], method
    for method in ("dagster-materialize-all", "dagster-materialize-all-multiprocess"):
        dagster = results[method]
        # Every table's checks ran and passed in the asset's step; the steps took part of
        # the time.
        assert dagster["checks_passed"] > 0 and dagster["checks_failed"] == 0, method
        assert 0 < dagster["steps_seconds"] < dagster["seconds"], method
    assert "datastorm-run" in done.stdout and "dagster-materialize-all" in done.stdout
    bound = [line for line in done.stdout.splitlines() if line.startswith("bound:")]
    assert len(bound) == 1 and ("within bound" in bound[0] or "OUTSIDE bound" in bound[0])
    assert record["bound"]["within"] == ("within bound" in bound[0])
    # The benchmark's databases are dropped at the end (no --keep).
    databases = [r["database"] for r in record["rounds"]]
    assert len(databases) == 3 and all(d.startswith("ds_bench_dagster_") for d in databases)
    with psycopg.connect(pg_server_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = ANY(%s)",
                            (databases,)).fetchone()[0] == 0
