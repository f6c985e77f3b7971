"""A broker that goes away mid-run: exit 1 with the cause, no hang, masters kept whole."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from kafka_support import Broker

GENFILE = """
[dataset]
seed = 3
[target]
url = "{pg}"
[targets.events]
type = "kafka"
url = "{bootstrap}"
delivery_timeout_ms = 3000
connect_timeout_ms = 2000

[account]
records = 1000
id = {{ type = "sequence" }}

[transfer]
records = 5000000
target = "events"
key = "account_id"
id = {{ type = "sequence" }}
account_id = {{ type = "reference", ref = "account.id" }}
amount = {{ type = "decimal", min = 1, max = 100, scale = 2 }}
"""


def test_broker_gone_mid_run_exits_1_with_its_cause(pg_url: str, own_broker: Broker,
                                                     tmp_path: Path) -> None:
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(GENFILE.format(pg=pg_url, bootstrap=own_broker.bootstrap))
    proc = subprocess.Popen([sys.executable, "-m", "datastorm_core.cli", "run", str(genfile),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "COLUMNS": "200"})
    # Wait until events flow (the topic exists once the masters are committed).
    deadline = time.monotonic() + 60
    while "transfer" not in own_broker.topics():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the events never started"
        time.sleep(0.1)
    time.sleep(1.0)
    own_broker.stop()
    stopped = time.monotonic()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    waited = time.monotonic() - stopped

    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert f"Kafka at {own_broker.bootstrap}" in err
    assert "transfer" in err
    assert "acknowledged" in err  # how many were sent before it failed
    assert "already committed, and kept: account" in err
    assert waited < 30, f"took {waited:.1f} s to give up"
    # The masters were committed before the first event: whole, never half.
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM account").fetchone() == (1000,)
