"""The rules benchmark runs end to end on a small size (its figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "rules_bench.py"


@pytest.mark.timeout(120)
def test_the_rules_benchmark_runs_both_genfiles_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    done = subprocess.run([sys.executable, str(BENCH), "--scale", "0.02", "--repeat", "2",
                           "--json", str(out)], capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text(encoding="utf-8"))
    methods = record["methods"]
    assert set(methods) == {"rules", "no-rules"}
    for figures in methods.values():
        assert figures["rows"] > 0 and figures["rows_per_second"] > 0
        assert figures["rows_per_cpu_second"] > 0 and figures["peak_rss_mb"] > 0
        assert len(figures["rounds_rows_per_second"]) == 2
    # The rules' Genfile: the installments follow the loans' months, so the counts differ.
    assert methods["rules"]["rows"] != methods["no-rules"]["rows"]
    assert record["ratio"] > 0 and len(record["round_ratios"]) == 2
    assert "rules / no-rules" in done.stdout and "rows/s" in done.stdout
