"""The change stream on a real PostgreSQL: counts, foreign keys, determinism, reconnects."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from stream_support import (
    HOSPITAL,
    LEDGER_TABLES,
    clinic,
    counts,
    execute,
    fingerprint,
    foreign_keys_valid,
    ledger,
    load,
    orphans,
    query,
    scalar,
    stream_events,
)

from datastorm_core.cli import main
from datastorm_core.errors import TargetError, UsageError
from datastorm_core.genfile import load_genfile
from datastorm_core.source import Source
from datastorm_core.stream import StreamOptions, stream
from datastorm_core.stream.session import APPLICATION_NAME
from datastorm_core.stream.state import LOCK_KEY

pytestmark = pytest.mark.postgres


def test_counts_move_by_inserts_minus_deletes_and_no_orphan_is_left(pg_url: str) -> None:
    genfile = load(pg_url)
    before = counts(pg_url, genfile)
    started = time.monotonic()
    report, log = stream_events(pg_url, 2000)
    seconds = time.monotonic() - started
    print(f"\n2000 events of the clinic Genfile: {2000 / seconds:,.0f} events/s")
    assert report.events == 2000 and report.next_event == 2000 and not report.interrupted
    after = counts(pg_url, genfile)
    for name, moved in report.tables.items():
        assert after[name] == before[name] + moved["insert"] - moved["delete"], name
    assert after["audit"] == before["audit"]  # stream = false
    assert set(orphans(pg_url, genfile).values()) == {0}
    total, valid = foreign_keys_valid(pg_url)
    assert total == valid >= 9
    # Every kind happened, cascades included, and the summary is the ledger's.
    assert min(report.kinds.values()) > 0
    assert any(len(e["changes"]) > 1 and e["table"] == "visit" for e in log)
    next_event, tables = ledger(pg_url)
    assert next_event == 2000
    for name, moved in report.tables.items():
        assert tables[name][1:] == (moved["insert"], moved["update"], moved["delete"]), name
    assert sum(len(e["changes"]) for e in log) == sum(
        sum(moved.values()) for moved in report.tables.values())


def test_inserts_continue_the_index_space_and_updates_change_only_mutable_fields(
        pg_url: str) -> None:
    genfile = load(pg_url)
    report, log = stream_events(pg_url, 800)
    source = Source(genfile)
    # Inserted patients are the generator's rows at the next indices, keys continuing.
    records = genfile.table("patient").records
    inserted = report.tables["patient"]["insert"]
    rows = query(pg_url, "SELECT id, name, email FROM patient WHERE id > %s ORDER BY id",
                 (records,))
    made = source.chunk("patient", records, records + inserted).columns
    expected = dict(zip(made["id"].to_pylist(), zip(made["name"].to_pylist(),
                                                    made["email"].to_pylist(), strict=True),
                        strict=True))
    assert rows and all(expected[i] == (name, email) for i, name, email in rows)
    assert max(i for i, _, _ in rows) <= records + inserted
    # Rows of the load keep every field an update may not change.
    generated = source.chunk("visit", 0, genfile.table("visit").records).columns
    by_id = {str(i): (p, d, s) for i, p, d, s in zip(
        generated["id"].to_pylist(), generated["patient_id"].to_pylist(),
        generated["doctor_id"].to_pylist(), generated["status"].to_pylist(), strict=True)}
    reachable = {"scheduled": {"scheduled", "confirmed", "cancelled", "done"},
                 "confirmed": {"confirmed", "done", "cancelled"},
                 "done": {"done"}, "cancelled": {"cancelled"}}
    moved_on = 0
    for visit_id, patient_id, doctor_id, status in query(
            pg_url, "SELECT id::text, patient_id, doctor_id, status FROM visit"):
        if visit_id in by_id:
            old_patient, old_doctor, old_status = by_id[visit_id]
            assert (patient_id, doctor_id) == (old_patient, old_doctor)
            assert status in reachable[old_status], (old_status, status)
            moved_on += status != old_status
    assert moved_on > 0
    # on_update: every updated patient's updated_at moved forward past [dataset] now.
    updated = {tuple(c["key"]) for e in log for c in e["changes"]
               if c["table"] == "patient" and c["op"] == "update"}
    stamps = dict(query(pg_url, "SELECT id, updated_at FROM patient"))
    assert updated and all(stamps[key[0]].year == 2026 for key in updated if key[0] in stamps)
    # Inserted rows of a link table hold distinct pairs of live parents.
    assert scalar(pg_url, "SELECT count(*) = count(DISTINCT (patient_id, doctor_id)) "
                          "FROM referral")
    assert scalar(pg_url, "SELECT count(*) = count(DISTINCT employee_id) FROM badge")


def test_the_same_seed_gives_the_same_events_and_end_state(pg_url: str, pg_server_url: str,
                                                          tmp_path: Path) -> None:
    from stream_support import database

    genfile = load(pg_url)
    _, once = stream_events(pg_url, 400)
    with database(pg_server_url, f"{pg_url.rsplit('/', 1)[1]}_b") as other:
        load(other, genfile)
        # In two goes: the ledger carries on where the first stopped.
        first, part = stream_events(other, 150)
        second, rest = stream_events(other, 250)
        assert (first.first_event, second.first_event, second.next_event) == (0, 150, 400)
        assert part + rest == once
        assert fingerprint(other, genfile) == fingerprint(pg_url, genfile)
        # Another seed: other events.
        load(other, load_genfile_with_seed(genfile, 99))
        _, different = stream_events(other, 200, load_genfile_with_seed(genfile, 99))
        assert different != once[:200]


def load_genfile_with_seed(genfile: Any, seed: int) -> Any:
    from datastorm_core.genfile.sizing import with_seed

    return with_seed(genfile, seed)


def test_a_reload_starts_the_ledger_over_and_a_foreign_seed_is_refused(pg_url: str) -> None:
    genfile = load(pg_url)
    _, first = stream_events(pg_url, 150)
    load(pg_url, genfile)  # `run` again: the same rows, new tables
    report, again = stream_events(pg_url, 150)
    assert report.first_event == 0 and again == first
    assert any("start" in note for note in report.notes)
    with pytest.raises(UsageError, match="streamed with seed 7"):
        stream_events(pg_url, 10, seed=8)
    # A table reloaded alone starts its inserts over; the events go on.
    from datastorm_core.run import RunOptions, run

    run(genfile, RunOptions(target=pg_url, tables=["badge"]))
    report, _ = stream_events(pg_url, 20)
    assert report.first_event == 150
    assert any("'badge' was reloaded" in note for note in report.notes)


def test_a_terminated_backend_is_reconnected_without_losing_or_repeating_an_event(
        pg_url: str, pg_server_url: str) -> None:
    from stream_support import database

    genfile = load(pg_url)
    lines: list[str] = []
    done: list[Any] = []
    stop = threading.Event()

    def work() -> None:
        done.append(stream(genfile, StreamOptions(target=pg_url, rate=0, events=700),
                           stop=stop, on_line=lines.append))

    worker = threading.Thread(target=work)
    worker.start()
    dbname = pg_url.rsplit("/", 1)[1]
    killed = 0
    deadline = time.monotonic() + 60
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        while worker.is_alive() and killed < 3 and time.monotonic() < deadline:
            progress = scalar(pg_url, "SELECT next_event FROM datastorm_stream_state") \
                if _has_ledger(pg_url) else 0
            if progress >= 150 * (killed + 1):
                killed += admin.execute(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                    "pg_stat_activity WHERE datname = %s AND application_name = %s) AS k",
                    (dbname, APPLICATION_NAME)).fetchone()[0]
            time.sleep(0.01)
    worker.join(60)
    assert not worker.is_alive()
    (report,) = done
    assert killed >= 1 and report.reconnects >= 1, lines
    assert report.events == 700 and report.next_event == 700
    assert any("reconnected" in line for line in lines)
    assert set(orphans(pg_url, genfile).values()) == {0}
    # Nothing lost, nothing doubled: the same end state as a stream never interrupted.
    with database(pg_server_url, f"{dbname}_ref") as reference:
        load(reference, genfile)
        expected, _ = stream_events(reference, 700)
        assert fingerprint(reference, genfile) == fingerprint(pg_url, genfile)
        assert expected.tables == report.tables


def test_a_group_cut_by_a_lost_connection_is_applied_again_whole(
        pg_url: str, pg_server_url: str) -> None:
    from stream_support import database

    genfile = load(pg_url)
    log: list[int] = []
    done: list[Any] = []
    options = StreamOptions(target=pg_url, rate=0, events=500, events_per_transaction=7)
    worker = threading.Thread(target=lambda: done.append(
        stream(genfile, options, on_event=lambda e: log.append(e.n))))
    worker.start()
    dbname = pg_url.rsplit("/", 1)[1]
    killed = 0
    deadline = time.monotonic() + 60
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        while worker.is_alive() and killed < 2 and time.monotonic() < deadline:
            if len(log) >= 150 * (killed + 1):
                killed += admin.execute(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                    "pg_stat_activity WHERE datname = %s AND application_name = %s) AS k",
                    (dbname, APPLICATION_NAME)).fetchone()[0]
            time.sleep(0.005)
    worker.join(60)
    assert not worker.is_alive()
    (report,) = done
    assert killed >= 1 and report.reconnects >= 1
    # Every event reported once, in order, and only once committed.
    assert log == list(range(500)) and report.next_event == 500
    assert ledger(pg_url)[0] == 500
    with database(pg_server_url, f"{dbname}_ref") as reference:
        load(reference, genfile)
        stream_events(reference, 500)
        assert fingerprint(reference, genfile) == fingerprint(pg_url, genfile)


def _has_ledger(url: str) -> bool:
    return bool(scalar(url, "SELECT to_regclass('datastorm_stream_state') IS NOT NULL"))


def test_the_publication_holds_the_streamed_tables_and_not_the_ledger(pg_url: str) -> None:
    genfile = load(pg_url)
    report, _ = stream_events(pg_url, 20, publication="datastorm_cdc",
                              tables=["patient", "visit", "note"])
    published = {r[0] for r in query(pg_url, "SELECT tablename FROM pg_publication_tables "
                                             "WHERE pubname = 'datastorm_cdc'")}
    assert published == {"patient", "visit", "note"}
    assert report.publication is not None and report.publication["created"]
    assert set(report.publication["tables"].values()) == {"default"}
    # Again with every table: the same publication now lists them all.
    execute(pg_url, "ALTER TABLE doctor REPLICA IDENTITY NOTHING")
    report, _ = stream_events(pg_url, 5, publication="datastorm_cdc")
    assert not report.publication["created"]
    published = {r[0] for r in query(pg_url, "SELECT tablename FROM pg_publication_tables "
                                             "WHERE pubname = 'datastorm_cdc'")}
    assert published == {t.name for t in genfile.tables} - {"audit"}
    assert not published & set(LEDGER_TABLES)
    assert scalar(pg_url, "SELECT relreplident FROM pg_class WHERE relname = 'doctor'") == "d"


def test_one_stream_per_database(pg_url: str) -> None:
    load(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(TargetError, match="another datastorm stream is running"):
            stream_events(pg_url, 5)


def test_the_hospital_example_streams_out_of_the_box(pg_url: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(HOSPITAL), "--target", pg_url, "--quiet"]) == 0
    summary = tmp_path / "summary.json"
    code = main(["stream", str(HOSPITAL), "--target", pg_url, "--rate", "0", "--events", "400",
                 "--publication", "datastorm_cdc", "--summary-json", str(summary)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["events"] == 400 and not data["interrupted"]
    assert set(data["tables"]) == set(load_genfile(HOSPITAL).table_names)
    assert all(set(v) == {"insert", "update", "delete"} for v in data["tables"].values())
    assert data["kinds"]["update"] > 0 and data["publication"]["name"] == "datastorm_cdc"
    # Appointments and admissions follow their patient's row: updated and deleted, never
    # inserted; the inserts go to the other tables.
    tables = data["tables"]
    assert tables["appointment"]["insert"] == tables["admission"]["insert"] == 0
    assert tables["appointment"]["update"] > 0 and tables["patient"]["insert"] > 0
    assert "400 events" in captured.out
    genfile = load_genfile(HOSPITAL)
    assert set(orphans(pg_url, genfile).values()) == {0}
    statuses = {r[0] for r in query(pg_url, "SELECT DISTINCT status FROM appointment")}
    assert statuses <= {"agendada", "confirmada", "realizada", "cancelada", "falta"}


@pytest.mark.parametrize(("argv", "message"), [
    (["--target", "sqlite:///x.db"], "the stream writes to PostgreSQL only"),
    (["--tables", "nope"], "no table named 'nope'"),
    (["--mix", "insert=70,merge=5"], "--mix: 'merge=5' is not kind=weight"),
    (["--rate", "-1"], "--rate must be a number >= 0"),
    (["--events", "-3"], "--events must be at least 0"),
    (["--duration", "0"], "--duration must be a number of seconds > 0"),
    (["--events-per-transaction", "0"], "--events-per-transaction must be a whole number >= 1"),
])
def test_user_errors_exit_2_before_anything_is_written(
        argv: list[str], message: str, pg_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    from stream_support import CLINIC

    target = [] if "--target" in argv else ["--target", pg_url]
    assert main(["stream", str(CLINIC), *target, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not _has_ledger(pg_url)


def test_tables_that_run_did_not_load_are_a_user_error(pg_url: str,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from stream_support import CLINIC

    assert main(["stream", str(CLINIC), "--target", pg_url, "--events", "1"]) == 2
    err = capsys.readouterr().err
    assert "not in" in err and "load them first" in err
    assert not _has_ledger(pg_url)


def test_an_unreachable_server_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    from stream_support import CLINIC

    code = main(["stream", str(CLINIC), "--target",
                 "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "--events", "1"])
    assert code == 1
    assert "cannot connect" in capsys.readouterr().err


def test_duration_bounds_a_paced_stream(pg_url: str) -> None:
    genfile = clinic()
    load(pg_url, genfile)
    started = time.monotonic()
    report = stream(genfile, StreamOptions(target=pg_url, rate=40, duration=1.0))
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 4 and 20 <= report.events <= 50, (elapsed, report.events)
    assert report.summary()["events"] == report.events


def test_no_event_possible_is_a_failure_with_its_cause(pg_url: str) -> None:
    genfile = load(pg_url)
    execute(pg_url, "DELETE FROM badge")
    with pytest.raises(TargetError, match="no event is possible"):
        stream(genfile, StreamOptions(target=pg_url, rate=0, events=3, tables=["badge"],
                                      mix={"insert": 0, "update": 0, "delete": 1}))
    assert not query(pg_url, "SELECT * FROM badge")
    assert _has_ledger(pg_url) and ledger(pg_url)[0] == 0


def test_source_of_a_new_row_sees_only_live_parents(pg_url: str) -> None:
    """Children inserted after their parents were deleted never point at them."""
    genfile = load(pg_url)
    report, log = stream_events(pg_url, 400, mix={"insert": 50, "update": 0, "delete": 50})
    assert report.kinds["delete"] > 150
    assert set(orphans(pg_url, genfile).values()) == {0}
    deleted = {(c["table"], tuple(c["key"])) for e in log for c in e["changes"]
               if c["op"] == "delete"}
    assert any(t == "visit" for t, _ in deleted) and any(t == "note" for t, _ in deleted)
