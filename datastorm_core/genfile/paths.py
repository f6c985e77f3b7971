"""Files a Genfile names (word dictionaries), found relative to the Genfile."""

from __future__ import annotations

import hashlib
import os

__all__ = ["file_digest", "resolve_path"]


def resolve_path(path: str, base_dir: str | None) -> str:
    """``path`` as written in the Genfile, relative to the Genfile's directory."""
    expanded = os.path.expanduser(path)
    if os.path.isabs(expanded):
        return os.path.normpath(expanded)
    return os.path.normpath(os.path.join(base_dir or os.getcwd(), expanded))


def file_digest(path: str, base_dir: str | None) -> str:
    """A digest of the file's bytes, or "missing" (the generator reports why)."""
    try:
        with open(resolve_path(path, base_dir), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return "missing"
