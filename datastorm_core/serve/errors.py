"""Every error as JSON, ``{"error": "..."}``, with a clear message and never a traceback.

Routes raise ``ApiError`` with the status and the message. FastAPI's own
errors (a bad query parameter, an unknown path) are rewritten into the same
shape; anything else is a bug, answered 500 with its kind only (the details
go to the server's log, scrubbed of passwords).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from datastorm_core.errors import DatastormError, UserError
from datastorm_core.secrets import scrub

__all__ = ["ApiError", "error_response", "install_error_handlers"]

_LOG = logging.getLogger("datastorm.serve")


class ApiError(Exception):
    """An answer other than success: its HTTP status and what the client should know."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.message = scrub(message)
        self.headers = headers


def error_response(status: int, message: str, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    return JSONResponse({"error": scrub(message)}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for problem in exc.errors():
        loc = [str(p) for p in problem.get("loc", ())]
        where = "the JSON body" if loc[:1] == ["body"] else "request"
        name = ".".join(loc[1:]) or where
        if loc[:1] == ["body"] and loc[1:]:
            name = f"the JSON body's {name}"
        message = str(problem.get("msg", "invalid"))
        if message == "Input should be a valid dictionary":
            message = "should be a JSON object"
        parts.append(f"{name}: {message}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as ``{"error": "..."}``."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such path: {request.url.path} (see /docs)"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path} (see /docs)"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(DatastormError)
    async def datastorm_error(request: Request, exc: DatastormError) -> JSONResponse:
        return error_response(400 if isinstance(exc, UserError) else 500, str(exc))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        _LOG.error("internal error on %s %s: %s", request.method, request.url.path,
                   scrub(f"{type(exc).__name__}: {exc}"))
        return error_response(500, f"internal error ({type(exc).__name__}); see the "
                              "server's log")
