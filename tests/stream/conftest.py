"""A throwaway PostgreSQL cluster with ``wal_level = logical``, for the CDC tests.

It reuses tests/conftest.py's ``ThrowawayCluster`` (initdb and pg_ctl from the
local binaries, run as the postgres user when the tests run as root) with
the settings logical decoding needs, and it can restart the server, which
the shared test server must never be asked to do.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from stream_support import root_conftest

_root = root_conftest()


class LogicalCluster(_root.ThrowawayCluster):  # type: ignore[misc,name-defined]
    """A throwaway cluster whose WAL can be decoded (test_decoding, pgoutput)."""

    def options(self) -> str:
        # fsync off keeps it fast; synchronous_commit stays on, so a COMMIT the
        # stream saw acknowledged survives a (fast) restart, as on a real server.
        return (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.root} -c fsync=off "
                "-c full_page_writes=off -c wal_level=logical -c max_replication_slots=8 "
                "-c max_wal_senders=8")

    def start(self) -> str:
        self._run(self.initdb, "-D", self.data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self._run(self.pg_ctl, "-D", self.data, "-l", os.path.join(self.root, "server.log"),
                  "-o", self.options(), "-w", "-t", str(_root.START_TIMEOUT_SECONDS), "start")
        self.started = True
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop_server(self) -> None:
        self._run(self.pg_ctl, "-D", self.data, "-w", "-m", "fast", "stop")

    def start_server(self) -> None:
        self._run(self.pg_ctl, "-D", self.data, "-l", os.path.join(self.root, "server.log"),
                  "-o", self.options(), "-w", "-t", str(_root.START_TIMEOUT_SECONDS), "start")

    def restart(self) -> None:
        """Stop the server (fast: every session is terminated) and start it again."""
        self._run(self.pg_ctl, "-D", self.data, "-l", os.path.join(self.root, "server.log"),
                  "-o", self.options(), "-w", "-t", str(_root.START_TIMEOUT_SECONDS),
                  "-m", "fast", "restart")


@pytest.fixture(scope="session")
def logical_cluster() -> Iterator[Any]:
    """A running cluster with wal_level = logical: ``.url`` and ``.restart()``."""
    cluster = None
    try:
        cluster = LogicalCluster()
        cluster.url = cluster.start()
    except (_root.NoPostgres, OSError, subprocess.SubprocessError) as exc:
        if cluster is not None:
            cluster.stop()
        reason = f"no throwaway PostgreSQL cluster with wal_level = logical: {exc}"
        if os.environ.get(_root.ENV_REQUIRE) == "1":
            pytest.fail(f"{reason} ({_root.ENV_REQUIRE}=1)")
        pytest.skip(reason)
    try:
        yield cluster
    finally:
        cluster.stop()
