"""CSV and JSON Lines files: one file per table in a directory.

``csv:///out`` writes ``out/{table}.csv`` (with a header row), and
``jsonl:///out`` writes ``out/{table}.jsonl``. A partition K of N writes
``{table}.part-{K:05d}-of-{N:05d}.csv`` instead, so rerunning a partition
overwrites exactly its own file and the parts of a table add up to it.

Nothing is half-written: rows go to a temporary file beside the final one,
and ``finish(None)`` moves every file into place with ``os.replace``
(atomic per file); ``finish(error)`` deletes the temporary files and any
directory the run created. Append mode on a whole run adds to the existing
file: a copy of it is extended, then replaces it, so a failure keeps the
old file intact.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, ClassVar

from datastorm_core.core import interrupts
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import TargetError
from datastorm_core.target.base import BaseTarget, TargetSettings
from datastorm_core.target.encode import csv_text, jsonl
from datastorm_core.target.urls import file_url_path

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["CsvTarget", "FileTarget", "JsonlTarget", "file_name"]

# Prefix of temporary files, hidden (dot) so that globs like *.csv skip them.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".datastorm-tmp"
# A temporary file's name says whose run made it (host and process), so that the next
# run can remove the files of a run that was killed (SIGKILL, a power cut) and never
# those of a run still writing, here or on another machine sharing the directory.
_OWNER = re.compile(r"\.(?P<host>[^.]+)\.(?P<pid>\d+)\.[^.]+" + re.escape(TEMP_SUFFIX) + "$")


def file_name(table: str, extension: str, index: int, count: int) -> str:
    """``table.ext`` for a whole run, ``table.part-KKKKK-of-NNNNN.ext`` for a partition."""
    if count == 1:
        return f"{table}.{extension}"
    return f"{table}.part-{index:05d}-of-{count:05d}.{extension}"


@dataclass
class _Pending:
    """A table's temporary file, waiting for the run to succeed."""

    temp: str
    final: str
    handle: IO[Any] | None  # text, or binary for a Parquet file


class FileTarget(BaseTarget):
    """One text file per table, all moved into place at the end of the run."""

    kind: ClassVar[str] = "file"
    extension: ClassVar[str] = "txt"
    # A batch is encoded to one string then written: 50k rows is a few MB.
    default_batch_size = 50_000
    # Each partition has its own file, so replacing one leaves the others alone.
    partition_replace_ok = True
    encode_chunk: ClassVar[Callable[[Chunk, TableSchema], str]]

    def __init__(self, url: str, **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        self.directory = file_url_path(url, f"{self.kind}:///out")
        self._pending: dict[str, _Pending] = {}
        self._created_dirs: list[str] = []

    def describe(self) -> str:
        return self.url

    def header(self, schema: TableSchema) -> str:
        """Text that starts a new file (nothing by default)."""
        return ""

    def path_of(self, table: str) -> str:
        """The final path of ``table``'s file in this run's partition."""
        name = file_name(table, self.extension, self.partition.index, self.partition.count)
        return os.path.join(self.directory, name)

    # -- lifecycle -------------------------------------------------------------

    def open(self) -> None:
        missing: list[str] = []
        path = os.path.abspath(self.directory)
        while not os.path.exists(path):
            missing.append(path)
            path = os.path.dirname(path)
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as exc:
            raise TargetError(f"cannot create directory {self.directory!r}: {exc}") from exc
        self._created_dirs = missing  # deepest first, as rollback removes them
        if not os.access(self.directory, os.W_OK):
            raise TargetError(f"cannot write to directory {self.directory!r}")
        self._remove_dead_runs_files()

    def _remove_dead_runs_files(self) -> None:
        """Temporary files of runs of this host whose process is gone: a killed run's."""
        host = _host()
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.directory):
                match = _OWNER.search(entry.name)
                if match is None or match["host"] != host or _alive(int(match["pid"])):
                    continue
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        super().prepare(schemas)
        for schema in schemas:
            name = schema.name
            if not name or name in (".", "..") or "/" in name or os.sep in name:
                raise TargetError(f"table name {name!r} cannot be a file name in "
                                  f"{self.directory!r}")

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        final = self.path_of(schema.name)
        extend = self.append and self.partition.is_whole and os.path.exists(final)
        try:
            fd, temp = tempfile.mkstemp(
                prefix=f"{TEMP_PREFIX}{os.path.basename(final)}.{_host()}.{os.getpid()}.",
                suffix=TEMP_SUFFIX, dir=self.directory)
            os.close(fd)
            self._pending[schema.name] = _Pending(temp, final, None)
            # mkstemp makes the file private (0600); give it the mode a new file would get.
            os.chmod(temp, _new_file_mode())
            self._start_file(schema, self._pending[schema.name], extend)
        except OSError as exc:
            raise TargetError(f"cannot write {final!r}: {exc}") from exc

    def _start_file(self, schema: TableSchema, pending: _Pending, extend: bool) -> None:
        """Open ``pending.temp`` for the table's rows: a copy of the final file to extend
        (append mode), else a new file that starts with the header."""
        if extend:
            shutil.copyfile(pending.final, pending.temp)
            shutil.copymode(pending.final, pending.temp)
            self._check_existing(schema, pending.final)
        handle = open(pending.temp, "a" if extend else "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in end_table/finish
        pending.handle = handle
        if not extend or os.path.getsize(pending.temp) == 0:
            handle.write(self.header(schema))

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        pending = self._pending[schema.name]
        if pending.handle is None:
            raise TargetError(f"writing {pending.final!r}: the table was already ended")
        text = "".join(self.encode_chunk(chunk, schema) for chunk in chunks)
        try:
            pending.handle.write(text)
        except OSError as exc:
            raise TargetError(f"writing {pending.final!r}: {exc}") from exc

    def end_table(self, schema: TableSchema) -> None:
        pending = self._pending[schema.name]
        try:
            self._close_handle(pending, sync=True)
        except OSError as exc:
            raise TargetError(f"writing {pending.final!r}: {exc}") from exc

    def commit(self) -> None:
        try:
            for pending in self._pending.values():
                self._close_handle(pending, sync=True)
            with interrupts.deferred():  # the renames publish the run: no signal midway
                for pending in self._pending.values():
                    os.replace(pending.temp, pending.final)
                self.committed = True
        except OSError as exc:
            raise TargetError(f"moving files into {self.directory!r}: {exc}") from exc
        self._pending.clear()

    def rollback(self) -> None:
        for pending in self._pending.values():
            with contextlib.suppress(OSError):
                self._close_handle(pending, sync=False)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(pending.temp)
        self._pending.clear()
        for directory in self._created_dirs:
            try:
                os.rmdir(directory)  # only when empty: never removes what others wrote
            except OSError:
                break

    def close(self) -> None:
        for pending in self._pending.values():
            with contextlib.suppress(OSError):
                self._close_handle(pending, sync=False)

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def _close_handle(pending: _Pending, *, sync: bool) -> None:
        handle = pending.handle
        if handle is None:
            return
        pending.handle = None
        try:
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            handle.close()

    def _check_existing(self, schema: TableSchema, final: str) -> None:
        """Appending must not mix layouts: the existing header must be ours."""
        header = self.header(schema)
        if not header:
            return
        with open(final, encoding="utf-8", newline="") as existing:
            first = existing.readline()
        if first and first != header:
            raise TargetError(
                f"cannot append to {final!r}: its header {first.strip()!r} differs from the "
                f"table's columns {header.strip()!r}; use mode 'replace' or another directory")


def _new_file_mode() -> int:
    """0666 less the process umask: what ``open(path, "w")`` would have created."""
    umask = os.umask(0o022)  # the only portable way to read the umask is to set it
    os.umask(umask)
    return 0o666 & ~umask


class CsvTarget(FileTarget):
    """``{table}.csv`` with a header row; NULL is an empty field, '' is ``""``."""

    kind = "csv"
    extension = "csv"
    encode_chunk = staticmethod(csv_text.encode_chunk)

    def header(self, schema: TableSchema) -> str:
        return csv_text.csv_header(schema)


class JsonlTarget(FileTarget):
    """``{table}.jsonl``: one JSON object per row, keys in column order."""

    kind = "jsonl"
    extension = "jsonl"
    encode_chunk = staticmethod(jsonl.encode_chunk)


def _host() -> str:
    """This machine's name, as a temporary file's name can hold it."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
