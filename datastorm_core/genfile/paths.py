"""Files a Genfile names (word dictionaries), found relative to the Genfile."""

from __future__ import annotations

import hashlib
import os
import stat

__all__ = ["MAX_DICTIONARY_BYTES", "file_digest", "file_problem", "resolve_path"]

#: The largest dictionary file read (it is held in memory, sorted, as numpy arrays).
MAX_DICTIONARY_BYTES = 256 * 1024 * 1024


def resolve_path(path: str, base_dir: str | None) -> str:
    """``path`` as written in the Genfile, relative to the Genfile's directory."""
    expanded = os.path.expanduser(path)
    if os.path.isabs(expanded):
        return os.path.normpath(expanded)
    return os.path.normpath(os.path.join(base_dir or os.getcwd(), expanded))


def file_problem(resolved: str) -> str | None:
    """Why the file at ``resolved`` cannot be a dictionary (None: it can), asked of its
    metadata only: a FIFO would hang a read, /dev/zero would never end."""
    try:
        info = os.stat(resolved)
    except FileNotFoundError:
        return f"no such file ({resolved})"
    except OSError as exc:
        return f"cannot read {resolved}: {exc.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return f"{resolved} is not a regular file (a device, a pipe or a directory)"
    if info.st_size > MAX_DICTIONARY_BYTES:
        return (f"{resolved} is {info.st_size:,} bytes; a dictionary may hold at most "
                f"{MAX_DICTIONARY_BYTES:,} (it is read into memory whole)")
    return None


def file_digest(path: str, base_dir: str | None) -> str:
    """A digest of the file's bytes, or "missing" (the generator reports why)."""
    resolved = resolve_path(path, base_dir)
    if file_problem(resolved) is not None:
        return "missing"
    try:
        with open(resolved, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return "missing"
