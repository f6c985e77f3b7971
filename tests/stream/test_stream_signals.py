"""SIGINT and SIGTERM mid-stream: the event in flight finishes, the database stays whole."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from stream_support import (
    CLINIC,
    counts,
    foreign_keys_valid,
    ledger,
    lines,
    load,
    orphans,
    spawn,
    wait_for,
)

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_stream_exits_130_with_every_event_whole(signum: int, pg_url: str,
                                                              tmp_path: Path) -> None:
    genfile = load(pg_url)
    before = counts(pg_url, genfile)
    events_log, summary = tmp_path / "events.jsonl", tmp_path / "summary.json"
    process = spawn("stream", str(CLINIC), "--target", pg_url, "--rate", "0",
                    "--event-log", str(events_log), "--summary-json", str(summary))
    try:
        wait_for(lambda: len(lines(events_log)) >= 150, "150 events", process=process)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "stopping after the event in flight" in err and "interrupted after" in err
    assert "Traceback" not in err
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["interrupted"] and data["error"] is None
    events = lines(events_log)
    # Every committed event is in the log and the ledger, and none is half done.
    assert data["events"] == len(events) >= 150
    next_event, tables = ledger(pg_url)
    assert next_event == data["next_event"] == data["events"]
    after = counts(pg_url, genfile)
    for name, moved in data["tables"].items():
        assert after[name] == before[name] + moved["insert"] - moved["delete"], name
        assert tables[name][1:] == (moved["insert"], moved["update"], moved["delete"])
    assert set(orphans(pg_url, genfile).values()) == {0}
    total, valid = foreign_keys_valid(pg_url)
    assert total == valid > 0
