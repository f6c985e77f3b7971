"""Export files written whole or not at all: a temporary name in the same directory,
renamed into place only when complete (``os.replace`` is atomic on one filesystem)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["EXTENSIONS", "atomic_file", "part_path"]

EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}


def part_path(path: Path, unique: bool = True) -> Path:
    """The temporary name of ``path`` while it is written: hidden, ``.part``; with
    ``unique``, never one another writer of the same path uses."""
    tag = f".{uuid.uuid4().hex[:8]}" if unique else ""
    return path.with_name(f".{path.name}{tag}.part")


@contextlib.contextmanager
def atomic_file(path: Path, part: Path | None = None) -> Iterator[BinaryIO]:
    """A file open for writing at ``part`` (default: a unique temporary name), renamed
    to ``path`` when the block ends normally and removed when it raises."""
    part = part or part_path(path)
    try:
        with open(part, "wb", buffering=1 << 20) as handle:
            yield handle
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
