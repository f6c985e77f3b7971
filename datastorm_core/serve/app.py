"""The application factory: a FastAPI app serving one Genfile's tables."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from datastorm_core import __version__
from datastorm_core.genfile.model import Genfile
from datastorm_core.run import RunOptions
from datastorm_core.serve import routes_exports, routes_status, routes_stream, routes_tables
from datastorm_core.serve.errors import install_error_handlers
from datastorm_core.serve.guard import Guard
from datastorm_core.serve.limits import ServeSettings
from datastorm_core.serve.registry import StatusRegistry
from datastorm_core.serve.state import ServeState
from datastorm_core.serve.tables import ServedTables

__all__ = ["create_app"]

DESCRIPTION = """\
The rows of a Genfile's tables, made by datastorm's generators: row *i* here
is row *i* of `datastorm run`. Pages of rows by index, single rows, paced
streams of a table's next rows, and the server's status.

Every route needs `Authorization: Bearer <token>` when the server was started
with `DATASTORM_API_TOKEN` set. Errors are JSON: `{"error": "..."}`.
"""


def create_app(genfile: Genfile, settings: ServeSettings | None = None,
               options: RunOptions | None = None, target: str | None = None,
               exports: Any = None, exports_unavailable: str | None = None) -> FastAPI:
    """The API of ``genfile``'s tables; ``options`` as the command line gave them (the
    target whose column types ``/tables`` shows, the seed), ``target`` redacted;
    ``exports`` the export queue (None: ``exports_unavailable`` says why)."""
    settings = settings or ServeSettings()
    tables = ServedTables(genfile, options)
    counts = exports.counts if exports is not None else None
    registry = StatusRegistry(settings.max_streams, counts)
    app = FastAPI(title="datastorm", version=__version__, description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None)
    app.state.serve = ServeState(tables, settings, registry, target, exports)
    if exports_unavailable:
        app.state.serve.exports_unavailable = exports_unavailable
    install_error_handlers(app)
    for module in (routes_tables, routes_stream, routes_status, routes_exports):
        app.include_router(module.router)
    app.add_middleware(Guard, token=settings.token, registry=registry)
    return app
