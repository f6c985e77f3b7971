"""What every request passes first: no ``..`` in its path, the bearer token, a count.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: it
hands the response's ``send`` through untouched, so a stream's backpressure
reaches the generator (the base middleware would put a queue in between).
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from datastorm_core.serve.limits import token_matches
from datastorm_core.serve.registry import StatusRegistry

__all__ = ["Guard"]


class Guard:
    """Refuses a path with a ``..`` segment (400) and a request without the token (401)."""

    def __init__(self, app: ASGIApp, token: str | None, registry: StatusRegistry) -> None:
        self.app = app
        self.token = token
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.registry.request()
        raw = scope.get("raw_path") or scope.get("path", "").encode()
        path = unquote(raw.decode("latin-1"))
        # Decoded, and decoded again: %2e%2e and %252e%252e are `..` too.
        if any(".." in p.replace("\\", "/").split("/") for p in (path, unquote(path))):
            await _answer(send, 400, "a path may not hold '..': name a table of the Genfile")
            return
        if self.token is not None:
            headers = dict(scope.get("headers") or ())
            given = headers.get(b"authorization")
            if not token_matches(given.decode("latin-1") if given else None, self.token):
                await _answer(send, 401, "missing or wrong bearer token: send "
                              "'Authorization: Bearer <DATASTORM_API_TOKEN>'",
                              {b"www-authenticate": b'Bearer realm="datastorm"'})
                return
        await self.app(scope, receive, send)


async def _answer(send: Send, status: int, message: str,
                  headers: dict[bytes, bytes] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *(headers or {}).items()]})
    await send({"type": "http.response.body", "body": body})
