"""Named targets on the command line: --target-for, plan, and the Genfile's rules."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from e2e_support import assert_clean_failure, run_cli, write

pytestmark = pytest.mark.timeout(60)

SPLIT = """\
[target]
url = "sqlite:///{db}"
[targets.events]
type = "kafka"
url = "${{EVENTS_BROKER}}"

[account]
records = 20
id = {{ type = "sequence" }}

[deposit]
records = 100
target = "events"
key = "account_id"
id = {{ type = "sequence" }}
account_id = {{ type = "reference", ref = "account.id" }}
"""


def test_target_for_sends_a_named_target_elsewhere(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "masters.db"
    genfile = write(tmp_path, SPLIT.format(db=db))
    out = tmp_path / "events"
    # EVENTS_BROKER is unset: --target-for replaces that URL, so it is not needed.
    result = run_cli(capsys, "run", genfile, "--quiet", "--target-for", f"events=jsonl:///{out}")
    assert result.code == 0, result.err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM account").fetchone() == (20,)
        # the events went to the other target, not into the masters' database
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "deposit" not in names
    rows = [json.loads(line) for line in (out / "deposit.jsonl").read_text().splitlines()]
    assert len(rows) == 100 and all(1 <= r["account_id"] <= 20 for r in rows)


def test_plan_shows_each_tables_target(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, SPLIT.format(db=tmp_path / "m.db"))
    result = run_cli(capsys, "plan", genfile, "--target-for", "events=kafka://broker:9092")
    assert result.code == 0, result.err
    assert "deposit" in result.out and "events:" in result.out
    listed = run_cli(capsys, "plan", genfile, "--target-for", "events=kafka://broker:9092",
                     "--format", "json")
    assert listed.code == 0, listed.err
    targets = {e["table"]: e["target"] for e in json.loads(listed.out)}
    assert targets["deposit"] == "events: kafka://broker:9092"


def test_named_target_url_unset_is_a_genfile_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTS_BROKER", raising=False)
    genfile = write(tmp_path, SPLIT.format(db=tmp_path / "m.db"))
    result = run_cli(capsys, "run", genfile, "--quiet")
    assert_clean_failure(result, 2, "EVENTS_BROKER")
    assert not (tmp_path / "m.db").exists()


@pytest.mark.parametrize(("argument", "needle"), [
    ("events", "--target-for takes NAME=URL"),
    ("archive=sqlite:///x.db", "no target named 'archive'"),
    ("events=nosuch://x", "unknown target"),
])
def test_bad_target_for_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch,
                                         argument: str, needle: str) -> None:
    monkeypatch.setenv("EVENTS_BROKER", "127.0.0.1:1")
    genfile = write(tmp_path, SPLIT.format(db=tmp_path / "m.db"))
    result = run_cli(capsys, "run", genfile, "--quiet", "--target-for", argument)
    assert_clean_failure(result, 2, needle)
    assert not (tmp_path / "m.db").exists()


def test_references_between_targets_must_point_one_way(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SPLIT.format(db=tmp_path / "m.db") + """
[statement]
records = 5
id = { type = "sequence" }
deposit_id = { type = "reference", ref = "deposit.id" }
"""
    result = run_cli(capsys, "validate", write(tmp_path, text.replace("${EVENTS_BROKER}",
                                                                      "b:9092")))
    assert_clean_failure(result, 2, "reference each other", "the default target", "'events'")


def test_key_must_name_a_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SPLIT.format(db=tmp_path / "m.db").replace('key = "account_id"', 'key = "acount"')
    result = run_cli(capsys, "validate", write(tmp_path, text.replace("${EVENTS_BROKER}",
                                                                      "b:9092")))
    assert_clean_failure(result, 2, "[deposit]", "key 'acount' must name a field")
