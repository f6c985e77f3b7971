"""Rows as the API writes them: JSON, NDJSON, CSV or server-sent events.

The values are the file targets' (``target/encode``): a row's JSON object is
the line the ``jsonl:`` target writes, a CSV row the line of ``csv:`` (NULL an
empty field, ``""`` an empty string). A format writes a page chunk by chunk:
its head, the chunks' rows (``first`` says whether rows came before), its tail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.target.encode.csv_text import csv_header
from datastorm_core.target.encode.csv_text import encode_chunk as csv_chunk
from datastorm_core.target.encode.json_bytes import json_lines
from datastorm_core.target.encode.jsonl import json_objects

__all__ = ["FORMATS", "PAGE_FORMATS", "STREAM_FORMATS", "RowFormat"]


class _Rows(Protocol):
    def __call__(self, chunk: Chunk, schema: TableSchema, first: bool) -> str | bytes: ...


@dataclass(frozen=True)
class RowFormat:
    """How one format writes rows: media type, head, rows of a chunk, tail."""

    name: str
    media_type: str
    rows: _Rows
    head: str = ""
    tail: str = ""
    with_header: bool = False  # CSV: the column names first

    def start(self, schema: TableSchema) -> str:
        return self.head + (csv_header(schema) if self.with_header else "")


def _json_array_rows(chunk: Chunk, schema: TableSchema, first: bool) -> str:
    objects = json_objects(chunk, schema)
    if not objects:
        return ""
    return ("" if first else ",\n") + ",\n".join(objects)


def _sse_rows(chunk: Chunk, schema: TableSchema, first: bool) -> str:
    # The event id is the row index: a client that reconnects with Last-Event-ID
    # (as EventSource does) resumes at the next row.
    return "".join(f"id: {chunk.start + i}\ndata: {obj}\n\n"
                   for i, obj in enumerate(json_objects(chunk, schema)))


FORMATS: dict[str, RowFormat] = {
    "json": RowFormat("json", "application/json", _json_array_rows, head="[\n", tail="\n]\n"),
    # Bytes built in one numpy buffer (the Kafka messages' encoder): the same text as
    # the jsonl: target's, several times faster than a Python string per row.
    "ndjson": RowFormat("ndjson", "application/x-ndjson",
                        lambda chunk, schema, first: json_lines(chunk, schema)),
    "csv": RowFormat("csv", "text/csv; charset=utf-8",
                     lambda chunk, schema, first: csv_chunk(chunk, schema), with_header=True),
    "sse": RowFormat("sse", "text/event-stream", _sse_rows),
}
#: The formats of a page of rows, and of a stream.
PAGE_FORMATS = ("json", "ndjson", "csv")
STREAM_FORMATS = ("ndjson", "sse")
