"""Target URLs: the path inside a file URL, and a URL safe to print.

File-like URLs follow SQLAlchemy's sqlite convention: after ``scheme://``
comes an empty host, then the path, so three slashes start a relative
path and four an absolute one (``sqlite:///data/x.db`` is ``data/x.db``,
``sqlite:////tmp/x.db`` is ``/tmp/x.db``).
"""

from __future__ import annotations

from datastorm_core.errors import UsageError
from datastorm_core.secrets import scrub

__all__ = ["file_url_path", "redact", "scheme_of"]

def scheme_of(url: str) -> str:
    """The lower-cased scheme of ``url`` ("" when it has none)."""
    head, colon, _ = url.partition(":")
    return head.lower() if colon and head.replace("+", "").isalnum() else ""


def redact(url: str) -> str:
    """``url`` without its password, for messages (``secrets.scrub`` does the work).

    Only the secret parts change; the rest is kept character for character
    (``urlunsplit`` would turn ``sqlite:////abs`` into ``sqlite://abs``).
    """
    return scrub(url)


def file_url_path(url: str, example: str) -> str:
    """The filesystem path of ``scheme:///relative`` or ``scheme:////absolute``.

    ``example`` is shown in the error, e.g. ``sqlite:///datastorm.db``.
    """
    scheme = scheme_of(url)
    rest = url[len(scheme) + 1:]
    if not rest.startswith("///"):
        raise UsageError(
            f"bad {scheme} URL {redact(url)!r}: expected {scheme}:///relative/path or "
            f"{scheme}:////absolute/path (three slashes, then the path), e.g. {example}"
        )
    path = rest[3:]
    if not path:
        raise UsageError(f"bad {scheme} URL {url!r}: no path after {scheme}:///, e.g. {example}")
    return path
