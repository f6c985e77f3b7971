"""The benchmark runs end to end on a small size (its figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench.py"


@pytest.mark.timeout(240)
def test_the_benchmark_measures_every_method_and_writes_json(pg_server_url: str,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "300", "--naive-rows", "30",
         "--database-url", pg_server_url, "--json", str(out)],
        capture_output=True, text=True, timeout=230)
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    results = record["results"]
    for method in ("datastorm-postgres", "datastorm-postgres-1-session", "datastorm-generate",
                   "copy-binary-ceiling", "copy-binary-parallel-ceiling", "faker-executemany"):
        assert results[method]["rows"] == 3 * results[method]["customers"], method
        assert results[method]["rows_per_second"] > 0 and results[method]["peak_rss_mb"] > 0
    assert "skipped" in results["snowfakery-csv"] or results["snowfakery-csv"]["rows"] > 0
    assert "datastorm-postgres" in done.stdout and "rows/s" in done.stdout


KAFKA_BENCH = BENCH.parent / "kafka_bench.py"


@pytest.mark.timeout(120)
def test_the_kafka_benchmark_measures_every_method_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "kafka.json"
    done = subprocess.run(
        [sys.executable, str(KAFKA_BENCH), "--events", "2000", "--naive-events", "200",
         "--json", str(out)], capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())["results"]
    for method in ("datastorm-kafka", "producer-floor", "faker-json-produce"):
        # every event acknowledged by the broker the benchmark started
        assert results[method]["events"] == results[method]["planned"], method
        assert results[method]["events_per_second"] > 0 and results[method]["peak_rss_mb"] > 0
    assert "datastorm-kafka" in done.stdout and "events/s" in done.stdout
