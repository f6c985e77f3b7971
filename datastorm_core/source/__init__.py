"""The source layer: interprets the Genfile and produces rows; never knows where they go."""

from __future__ import annotations

from datastorm_core.source.orchestrator import DEFAULT_CHUNK_ROWS, Source, TableChunks

__all__ = ["DEFAULT_CHUNK_ROWS", "Source", "TableChunks"]
