"""The live keys the client keeps answer searches as the database would, and notice
rows another session deleted."""

from __future__ import annotations

from typing import Any

import pytest
from stream_support import (
    CLINIC,
    database,
    execute,
    fingerprint,
    load,
    orphans,
    query,
    stream_events,
)

from datastorm_core.genfile import load_genfile
from datastorm_core.stream import StreamOptions, live_keys, stream
from datastorm_core.stream.session import StreamSession

pytestmark = pytest.mark.postgres


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read the stream sends to the database, as it sends it."""
    sent: list[str] = []
    original = StreamSession.query

    def counted(self: StreamSession, statement: str, params: Any = ()) -> list[Any]:
        sent.append(statement)
        return original(self, statement, params)

    monkeypatch.setattr(StreamSession, "query", counted)
    return sent


def test_the_live_keys_give_the_events_the_database_searches_give(
        pg_url: str, pg_server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The clinic mixes bigint keys (kept by the client) with a text key, a uuid key
    # and a link table's pair, transitions, a one-to-one reference and a cascade.
    mix = {"insert": 50, "update": 35, "delete": 15}
    genfile = load(pg_url)
    reads = _reads(monkeypatch)
    report, kept = stream_events(pg_url, 500, mix=mix)
    with_keys = len(reads)
    with database(pg_server_url, f"{pg_url.rsplit('/', 1)[1]}_sql") as other:
        load(other, genfile)
        monkeypatch.setattr(live_keys, "LIVE_KEYS_ROWS", 0)  # every search in the database
        reads.clear()
        _, searched = stream_events(other, 500, mix=mix)
        assert kept == searched
        assert fingerprint(pg_url, genfile) == fingerprint(other, genfile)
    assert set(orphans(pg_url, genfile).values()) == {0}
    assert report.kinds["insert"] > 180 and report.kinds["update"] > 120
    # Live parents, rows to update (no transition) and taken pairs of bigint keys no
    # longer ask the database, nor do deletes no cascade reaches: the same events
    # with far fewer reads.
    assert with_keys < 0.6 * len(reads), (with_keys, len(reads))


def _stream_deleting_notes(url: str) -> list[dict[str, Any]]:
    """300 events; after event 20, another session deletes every other note."""
    log: list[dict[str, Any]] = []

    def on_event(event: Any) -> None:
        log.append(event.as_json())
        if event.n == 20:
            execute(url, "DELETE FROM note WHERE id %% 2 = 0")

    genfile = load(url)
    report = stream(genfile, StreamOptions(target=url, rate=0, events=300,
                                           mix={"insert": 40, "update": 60, "delete": 0}),
                    on_event=on_event)
    assert report.events == 300
    return log


def test_a_row_deleted_by_another_session_is_noticed_and_the_event_applied_again(
        pg_url: str, pg_server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = _stream_deleting_notes(pg_url)
    updated = [tuple(c["key"]) for e in kept[21:] for c in e["changes"]
               if c["table"] == "note" and c["op"] == "update"]
    live = {(r[0],) for r in query(pg_url, "SELECT id FROM note")}
    # No update claims a row that was gone (the stream deletes no note itself here).
    assert len(updated) > 10 and set(updated) <= live
    # And the events are those of searches in the database, which saw the deletes.
    with database(pg_server_url, f"{pg_url.rsplit('/', 1)[1]}_sql") as other:
        monkeypatch.setattr(live_keys, "LIVE_KEYS_ROWS", 0)
        assert _stream_deleting_notes(other) == kept
        assert fingerprint(other, load_genfile(CLINIC)) == fingerprint(
            pg_url, load_genfile(CLINIC))
