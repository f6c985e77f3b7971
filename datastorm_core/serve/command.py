"""``datastorm serve``: the command line of the HTTP API (registered by ``cli.py``).

The settings are checked before the Genfile is read: a non-loopback
``--host`` without ``DATASTORM_API_TOKEN`` is refused at once (exit 2).
SIGINT and SIGTERM stop the server (open streams get
``SHUTDOWN_GRACE_SECONDS`` to end) and the command exits 0.
"""

from __future__ import annotations

import argparse
from contextlib import suppress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from rich.console import Console

from datastorm_core.errors import RunError, UsageError
from datastorm_core.genfile.model import Genfile
from datastorm_core.loading import load_genfile
from datastorm_core.run import RunOptions, target_url
from datastorm_core.serve.limits import (
    DEFAULT_MAX_PAGE_ROWS,
    DEFAULT_MAX_RATE,
    DEFAULT_MAX_STREAMS,
    TOKEN_ENV,
    ServeSettings,
)
from datastorm_core.target.urls import redact

if TYPE_CHECKING:
    from datastorm_core.serve.registry import StatusRegistry

__all__ = ["add_parser", "cmd_serve"]

EXIT_OK = 0
# Streams never end on their own: a stop gives them this long, then closes them.
SHUTDOWN_GRACE_SECONDS = 2


def add_parser(commands: Any) -> None:
    """Add the ``serve`` subcommand to the ``datastorm`` parser's subcommands."""
    go = commands.add_parser(
        "serve", help="serve the Genfile's rows over HTTP (pages, rows, streams, status)",
        description=f"An HTTP API of the Genfile's tables (OpenAPI page at /docs). With "
        f"{TOKEN_ENV} set, every request needs 'Authorization: Bearer <token>'.")
    go.add_argument("genfile")
    go.add_argument("--host", default="127.0.0.1",
                    help=f"address to listen on (default 127.0.0.1; another needs {TOKEN_ENV})")
    go.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    go.add_argument("--target", help="target URL whose column types /tables shows "
                    "(default: the Genfile's [target])")
    go.add_argument("--seed", type=int, help="override [dataset] seed")
    go.add_argument("--queue", metavar="URL",
                    help="exports go to this Redis list (redis://host:6379/0), taken by "
                    "`datastorm worker` processes (default: run in this process)")
    go.add_argument("--out-dir", default="exports",
                    help="directory of the export files (default ./exports)")
    go.add_argument("--export-workers", type=int, default=2,
                    help="threads running exports without --queue (default 2)")
    go.add_argument("--max-page-rows", type=int, default=DEFAULT_MAX_PAGE_ROWS,
                    help=f"most rows a page may ask for (default {DEFAULT_MAX_PAGE_ROWS})")
    go.add_argument("--max-rate", type=float, default=DEFAULT_MAX_RATE,
                    help=f"most rows a second a stream may ask for (default {DEFAULT_MAX_RATE:g})")
    go.add_argument("--max-streams", type=int, default=DEFAULT_MAX_STREAMS,
                    help=f"most streams open at once (default {DEFAULT_MAX_STREAMS})")
    go.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"),
                    default="info", help="uvicorn's log level (default info)")
    go.add_argument("--debug", action="store_true", help="show tracebacks of failures")


def cmd_serve(args: argparse.Namespace, out: Console) -> int:
    """Run ``datastorm serve`` until SIGINT or SIGTERM; the exit code."""
    import uvicorn

    from datastorm_core.serve.app import create_app

    _Server = _server_class()
    settings = ServeSettings.from_environment(
        host=args.host, port=args.port, max_page_rows=args.max_page_rows,
        max_rate=args.max_rate, max_streams=args.max_streams)
    settings.check()
    options = RunOptions(target=args.target, seed=args.seed)
    genfile = load_genfile(args.genfile, target_overridden=bool(args.target),
                           named_overridden=True)
    UsageError.unless_at_least(1, ("--export-workers", args.export_workers))
    shown_target = redact(target_url(genfile, options) or "") or None
    exports, unavailable = _export_queue(genfile, args)
    try:
        app = create_app(genfile, settings, options, target=shown_target, exports=exports,
                         exports_unavailable=unavailable)
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        err.print(f"datastorm serve: {len(app.state.serve.tables.tables)} tables of "
                  f"{args.genfile} on http://{host}:{settings.port} (API docs at /docs"
                  f"{', bearer token required' if settings.token else ''})", markup=False)
        if unavailable and genfile.exports:
            err.print(f"datastorm serve: note: exports are not served: {unavailable}",
                      markup=False)
        config = uvicorn.Config(app, host=settings.host, port=settings.port,
                                log_level=args.log_level, server_header=False,
                                timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS)
        server = _Server(config, app.state.serve.registry)
        # uvicorn raises the signal it caught again once it has stopped: the stop asked for.
        try:
            with suppress(KeyboardInterrupt):
                server.run()
        except SystemExit:  # uvicorn's own exit when it cannot start (it logged why)
            server.started = False
        if not server.started:
            raise RunError(f"could not listen on {host}:{settings.port} (the reason is above)")
    finally:
        if exports is not None:
            exports.close()
    return EXIT_OK


def _server_class() -> type:
    import uvicorn

    class StoppingServer(uvicorn.Server):
        """uvicorn's server that tells the open streams when it is asked to stop, so
        they end cleanly within the grace period instead of being cancelled."""

        def __init__(self, config: uvicorn.Config, registry: StatusRegistry) -> None:
            super().__init__(config)
            self.registry = registry

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            self.registry.stopping = True
            super().handle_exit(sig, frame)

    return StoppingServer


def _export_queue(genfile: Genfile, args: argparse.Namespace) -> tuple[Any, str | None]:
    """The export queue, or None and why there is none.

    A Genfile whose target is not PostgreSQL still serves its rows: its exports
    are then unavailable (503), unless ``--queue`` asked for them (exit 2).
    """
    from datastorm_core.exports import ExportError, open_queue

    if not genfile.exports:
        return None, "the Genfile declares no [exports.NAME]"
    try:
        return open_queue(genfile, args.target, args.queue, Path(args.out_dir),
                          workers=args.export_workers), None
    except ExportError as exc:
        if args.queue is not None:
            raise
        return None, str(exc)
