"""Run one export: connect read-only under a ``statement_timeout``, write its file whole.

Shared by ``datastorm export``, the queues' workers and the Dagster assets.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from datastorm_core.exports import query, writers
from datastorm_core.exports.errors import ExportError, ExportFailed
from datastorm_core.exports.files import atomic_file
from datastorm_core.genfile.model import Export, Genfile
from datastorm_core.options import RunOptions
from datastorm_core.routing import target_url
from datastorm_core.secrets import remember, scrub
from datastorm_core.target.urls import redact, scheme_of

__all__ = ["DEFAULT_STATEMENT_TIMEOUT", "ExportResult", "export_url", "run_export"]

DEFAULT_STATEMENT_TIMEOUT = 600.0  # seconds; [exports.NAME] statement_timeout overrides
APPLICATION_NAME = "datastorm-export"  # in pg_stat_activity


@dataclass(frozen=True)
class ExportResult:
    rows: int
    bytes: int
    seconds: float
    path: Path


def export_url(genfile: Genfile, target: str | None) -> str:
    """The PostgreSQL URL exports read: ``target``, else the Genfile's [target]."""
    if target is not None and not target.strip():
        raise ExportError("--target is empty: give a PostgreSQL URL, or leave --target out")
    url = target_url(genfile, RunOptions(target=target))
    remember(url)
    if scheme_of(url) not in ("postgresql", "postgres"):
        raise ExportError(f"exports run their SQL on PostgreSQL; the target is {redact(url)} "
                          "(give --target postgresql://user@host:5432/db)")
    return url


def run_export(
    export: Export,
    values: Mapping[str, Any],
    url: str,
    path: Path,
    part: Path | None = None,
    statement_timeout: float | None = None,
) -> ExportResult:
    """Write ``export``'s result for the parameter ``values`` (already typed, see
    ``params.bind_params``) to ``path``; ExportFailed (nothing written) when it fails."""
    started = time.monotonic()
    timeout = statement_timeout or export.statement_timeout or DEFAULT_STATEMENT_TIMEOUT
    try:
        with psycopg.connect(url, connect_timeout=10, application_name=APPLICATION_NAME,
                             autocommit=True) as conn:
            # The session is read-only: whatever its SQL says, an export cannot write.
            conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
            conn.execute("SET default_transaction_read_only = on")
            with atomic_file(path, part) as out:
                if export.format == "csv":
                    rows = writers.write_csv(conn, query.with_literals(export, values), out)
                else:
                    write = writers.write_jsonl if export.format == "jsonl" \
                        else writers.write_parquet
                    with conn.transaction():  # a server-side cursor lives in one
                        rows = write(conn, query.bound(export), values, out)
    except psycopg.errors.QueryCanceled as exc:
        raise ExportFailed(f"export {export.name!r}: cancelled after its statement_timeout of "
                           f"{timeout:g} s (nothing was written)") from exc
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportFailed(scrub(f"export {export.name!r} failed: {message} "
                                 "(nothing was written)")) from exc
    except OSError as exc:
        raise ExportFailed(f"export {export.name!r}: cannot write {path}: "
                           f"{exc.strerror or exc}") from exc
    return ExportResult(rows=rows, bytes=path.stat().st_size,
                        seconds=time.monotonic() - started, path=path)
