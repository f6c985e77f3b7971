"""Shared fixtures: a real PostgreSQL server for the tests marked ``postgres``.

Where the server comes from, in order:

1. ``DATASTORM_TEST_DATABASE_URL`` (a ``postgresql://`` URL of a server where
   the test user may create databases): used as it is.
2. Otherwise a throwaway cluster: ``initdb`` and ``pg_ctl`` from PATH or
   ``/usr/lib/postgresql/*/bin``, data in a temporary directory, listening
   on 127.0.0.1 on a free port with trust authentication, stopped at the end
   of the session. As root it runs as the ``postgres`` user (initdb refuses
   root).
3. Neither: the tests are skipped with the reason, unless
   ``DATASTORM_REQUIRE_POSTGRES=1`` (CI), which makes them fail instead.

Each test that asks for ``pg_url`` gets a fresh empty database, dropped after;
``pg_databases`` makes more, for fixtures of any scope, empty or copies of one.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# The CLI and database helpers of the end-to-end tests (tests/e2e/e2e_support.py) serve
# every directory's tests.
_E2E = str(Path(__file__).resolve().parent / "e2e")
if _E2E not in sys.path:
    sys.path.insert(0, _E2E)
# Generators of a user's own (tests/fixtures/plugins), named by dotted paths in Genfiles.
_PLUGINS = str(Path(__file__).resolve().parent / "fixtures" / "plugins")
if _PLUGINS not in sys.path:
    sys.path.insert(0, _PLUGINS)

ENV_URL = "DATASTORM_TEST_DATABASE_URL"
ENV_REQUIRE = "DATASTORM_REQUIRE_POSTGRES"
# The throwaway cluster's server starts in well under this on a laptop.
START_TIMEOUT_SECONDS = 60


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/hardening/conftest.py: options of a sub-directory's conftest are
    # unknown when the whole suite runs (pytest only reads the top conftests first).
    parser.addoption("--hardening-long", action="store_true", default=False,
                     help="run tests/hardening's fuzz and fault sweeps at length "
                          "(see DATASTORM_FUZZ_ITERATIONS in tests/hardening/conftest.py)")


class NoPostgres(Exception):
    """No server given and none could be started; the message says why."""


def _pg_binaries() -> tuple[str, str]:
    """initdb and pg_ctl: from PATH, else the newest /usr/lib/postgresql/*/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl

    def version(bindir: str) -> float:
        try:
            return float(os.path.basename(os.path.dirname(bindir)))
        except ValueError:
            return 0.0

    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        candidates = os.path.join(bindir, "initdb"), os.path.join(bindir, "pg_ctl")
        if all(os.access(c, os.X_OK) for c in candidates):
            return candidates
    raise NoPostgres("no DATASTORM_TEST_DATABASE_URL, and no initdb/pg_ctl on PATH or "
                     "under /usr/lib/postgresql/*/bin to start a throwaway server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory, for one test session."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_binaries()
        self.as_user: list[str] = []
        self.root = tempfile.mkdtemp(prefix="datastorm-pg-")
        if os.geteuid() == 0:
            import pwd

            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise NoPostgres("running as root, and there is no 'postgres' user to run "
                                 "initdb as (initdb refuses root)") from None
            runuser = shutil.which("runuser")
            if runuser is None:
                shutil.rmtree(self.root, ignore_errors=True)
                raise NoPostgres("running as root, and there is no runuser to run initdb "
                                 "as the postgres user")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.as_user = [runuser, "-u", "postgres", "--"]
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> None:
        # cwd: the postgres user may not be allowed into the current directory.
        result = subprocess.run([*self.as_user, *args], capture_output=True, text=True,
                                timeout=START_TIMEOUT_SECONDS, check=False, cwd=self.root)
        if result.returncode != 0:
            log = os.path.join(self.root, "server.log")
            tail = ""
            if os.path.exists(log):
                with open(log, encoding="utf-8", errors="replace") as f:
                    tail = f.read()[-2000:]
            raise NoPostgres(f"{os.path.basename(args[0])} failed ({result.returncode}): "
                             f"{result.stderr.strip() or result.stdout.strip()} {tail}".strip())

    def start(self) -> str:
        self._run(self.initdb, "-D", self.data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run(self.pg_ctl, "-D", self.data, "-l", os.path.join(self.root, "server.log"),
                  "-o", options, "-w", "-t", str(START_TIMEOUT_SECONDS), "start")
        self.started = True
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            if self.started:
                subprocess.run([*self.as_user, self.pg_ctl, "-D", self.data, "stop",
                                "-m", "immediate"], capture_output=True, cwd=self.root,
                               timeout=START_TIMEOUT_SECONDS, check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database, where tests may create databases."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    cluster: ThrowawayCluster | None = None
    try:
        cluster = ThrowawayCluster()
        url = cluster.start()
    except (NoPostgres, OSError, subprocess.SubprocessError) as exc:
        if cluster is not None:
            cluster.stop()
        reason = f"no PostgreSQL server for the tests: {exc}"
        if os.environ.get(ENV_REQUIRE) == "1":
            pytest.fail(f"{reason} ({ENV_REQUIRE}=1)")
        pytest.skip(reason)
    try:
        yield url
    finally:
        cluster.stop()


class Databases:
    """Scratch databases on the test server, each dropped when its block ends."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url

    @contextmanager
    def scratch(self, template: str | None = None) -> Iterator[str]:
        """URL of a new database: empty, or a copy of the database at URL ``template``."""
        import psycopg

        name = f"ds_{uuid.uuid4().hex[:12]}"
        copy = "" if template is None else f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"'
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"{copy}')
        try:
            yield _with_database(self.server_url, name)
        finally:
            with psycopg.connect(self.server_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_databases(pg_server_url: str) -> Databases:
    """Scratch databases for fixtures of any scope (``pg_url`` is one of them)."""
    return Databases(pg_server_url)


@pytest.fixture
def pg_url(pg_databases: Databases) -> Iterator[str]:
    """URL of a fresh, empty database, dropped after the test."""
    with pg_databases.scratch() as url:
        yield url


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[object]:
    """An autocommit psycopg connection to the test's database, to set up and query it."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn
