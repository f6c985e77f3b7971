"""The server's limits and its token: what a client may ask, and who may ask.

The limits keep one client from taking the server: a page holds at most
``max_page_rows`` rows (a client pages through more with ``offset``), a
stream goes at most ``max_rate`` rows a second, and at most ``max_streams``
streams are open at once. Past any of them the answer is ``429`` with the
limit in the message.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass

from datastorm_core.errors import UsageError

__all__ = ["DEFAULT_MAX_PAGE_ROWS", "DEFAULT_MAX_RATE", "DEFAULT_MAX_STREAMS", "MAX_ROW_INDEX",
           "TOKEN_ENV",
           "ServeSettings", "is_loopback", "token_matches"]

#: The environment variable holding the bearer token every request must carry.
TOKEN_ENV = "DATASTORM_API_TOKEN"
# A page of 100,000 rows of a wide table is a few tens of megabytes on the wire:
# enough for any client that pages, small enough that no single request runs for long.
DEFAULT_MAX_PAGE_ROWS = 100_000
# Rows a second of one stream: far above what a front end or a test consumer reads,
# far below what would let one stream take a core.
DEFAULT_MAX_RATE = 10_000.0
#: The largest row index a client may name: row indices are int64 in the generators,
#: and a stream counts up from its first row without ever reaching 2**63.
MAX_ROW_INDEX = 2**62
# Each open stream holds a connection and a small window of rows: a handful is plenty.
DEFAULT_MAX_STREAMS = 16


@dataclass(frozen=True)
class ServeSettings:
    """How ``datastorm serve`` runs: where it listens, its limits, its token."""

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_page_rows: int = DEFAULT_MAX_PAGE_ROWS
    max_rate: float = DEFAULT_MAX_RATE
    max_streams: int = DEFAULT_MAX_STREAMS

    @classmethod
    def from_environment(cls, **given: object) -> ServeSettings:
        """Settings with the token from ``DATASTORM_API_TOKEN`` (unset or empty: none)."""
        token = os.environ.get(TOKEN_ENV) or None
        return cls(token=token, **given)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse settings that would open the data to anyone: a UsageError (exit 2)."""
        UsageError.unless_at_least(1, ("--max-page-rows", self.max_page_rows),
                                   ("--max-streams", self.max_streams))
        if self.max_rate <= 0:
            raise UsageError(f"--max-rate must be above 0, got {self.max_rate:g}")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be between 0 and 65535, got {self.port}")
        if self.token is None and not is_loopback(self.host):
            raise UsageError(
                f"--host {self.host} listens beyond this machine, and {TOKEN_ENV} is not "
                f"set: set {TOKEN_ENV} to a secret token (every request must then carry "
                "'Authorization: Bearer <token>'), or listen on 127.0.0.1")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def token_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` as a bearer token
    (compared in constant time, so timing says nothing of the token)."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
