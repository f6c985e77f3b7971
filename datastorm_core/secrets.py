"""Passwords never leave datastorm: every message goes through ``scrub``.

A password can reach a message by many roads: a URL datastorm quotes, a
driver's error that echoes the connection string it could not parse, a
libpq key/value string, a traceback. Rather than redact at each call site,
``DatastormError`` scrubs its own message, and the command line scrubs
everything it prints (errors, warnings, ``--debug`` tracebacks); the
Dagster layer scrubs what it logs and the failures it raises.

What is removed, wherever it appears in a text:

- the password of a URL's user info, ``scheme://user:PASSWORD@host``, for
  any scheme in any case; the user info ends at the last ``@`` before the
  host, so a password holding ``/``, ``?``, ``#``, ``@`` or bad
  percent-encoding is removed whole;
- ``password=...`` and ``sslpassword=...`` (and ``PGPASSWORD=...``), as URL
  query parameters or libpq key/value pairs, quoted or not;
- any password datastorm was given (``remember``), wherever it appears on
  its own: a driver that cannot parse a URL may quote the bad token alone
  (``invalid percent-encoded token: "s3cret%zz"``).
"""

from __future__ import annotations

import re
import threading

__all__ = ["MASK", "redact_url", "remember", "scrub"]

#: What a removed password is replaced with, where a value must remain.
MASK = "***"

# A URL in free text: a scheme, "://", then everything up to white space or a quote.
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s'\"<>`]*)")
# password=... in a query string or a libpq key/value string (quoted values too).
_KEYED = re.compile(r"(?i)\b((?:ssl)?password|pgpassword)(\s*=\s*)"
                    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&'\"]*)")


# Passwords seen in URLs and connection strings, scrubbed wherever they appear.
_KNOWN: set[str] = set()
_LOCK = threading.Lock()
# Shorter ones would also blank out ordinary words.
_SHORTEST_REMEMBERED = 4


def remember(text: str | None) -> None:
    """Note the passwords ``text`` (a URL, a key/value string, an argument) holds."""
    if not text:
        return
    found = [m.group(3).strip("'\"") for m in _KEYED.finditer(text)]
    for match in _URL.finditer(text):
        rest = match.group(2)
        at = rest.rfind("@")
        if at > 0 and not rest.startswith("/") and ":" in rest[:at]:
            found.append(rest[:at].split(":", 1)[1])
    with _LOCK:
        _KNOWN.update(p for p in found if len(p) >= _SHORTEST_REMEMBERED)


def redact_url(url: str) -> str:
    """``url`` without its password: user info keeps its user, a query loses
    ``password``; everything else is kept character for character."""
    return scrub(url)


def scrub(text: str) -> str:
    """``text`` with every password it holds removed (see the module docstring)."""
    if not text:
        return text
    text = _URL.sub(_without_password, text)
    text = _KEYED.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    with _LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)  # a longer one may hold a shorter
    for secret in known:
        text = text.replace(secret, MASK)
    return text


def _without_password(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    if rest.startswith("/"):  # sqlite:///path, csv:///dir: no user info at all
        return scheme + rest
    at = rest.rfind("@")
    if at < 0:
        return scheme + rest
    userinfo, host = rest[:at], rest[at + 1:]
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{user}@{host}" if user else f"{scheme}{host}"
