"""The export benchmark runs end to end on a small size (its figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

BENCH = Path(__file__).resolve().parents[2] / "bench" / "export_bench.py"


def test_the_export_benchmark_compares_datastorm_and_psql_on_the_same_query(
        pg_server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    done = subprocess.run([sys.executable, str(BENCH), "--rows", "3000", "--repeat", "1",
                           "--url", pg_server_url, "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CSV files equal byte for byte: True" in done.stderr
    record = json.loads(out.read_text())
    assert record["rows"] == 3000
    for method in ("datastorm-csv", "psql-copy"):
        figures = record["methods"][method]
        assert figures["rows_per_second"] > 0 and figures["peak_rss_mb"] > 0
        assert figures["bytes"] == record["methods"]["psql-copy"]["bytes"]
    assert record["ratio"] > 0 and "datastorm / psql" in done.stdout
