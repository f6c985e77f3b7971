"""``datastorm serve``: the Genfile's rows over HTTP (FastAPI on uvicorn).

Modules, one job each:

- ``limits.py``: the server's limits and its bearer token (``ServeSettings``);
- ``tables.py``: the tables as served, rows by index made by the generators;
- ``formats.py``: rows as JSON, NDJSON, CSV or server-sent events;
- ``pacing.py``: a table's next rows at a rate, generated a small chunk at a time;
- ``registry.py``: what ``/status`` reports (uptime, streams, counts);
- ``errors.py``: every error as ``{"error": "..."}``, never a traceback;
- ``routes_tables.py``, ``routes_stream.py``, ``routes_status.py``: the routes;
- ``app.py``: the application factory; ``command.py``: the command line.
"""

from __future__ import annotations

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> object:
    # Imported when used: ``datastorm --help`` does not load FastAPI.
    if name == "create_app":
        from datastorm_core.serve.app import create_app
        return create_app
    if name == "ServeSettings":
        from datastorm_core.serve.limits import ServeSettings
        return ServeSettings
    raise AttributeError(name)
