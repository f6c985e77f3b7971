"""Rows on the wire, generated lazily: a page chunk by chunk, a stream at a rate.

Both are async generators that make one small chunk in a worker thread
(the event loop keeps serving others meanwhile), yield its text and only
then make the next. Starlette hands each piece to uvicorn's ``send``, which
waits while the socket's buffer is full: a client that reads slowly slows
the generator down, and the server never holds more than one chunk and the
transport's buffer. Memory stays flat however long the stream runs.

A stream is paced by the clock: row *k* of it is due ``k / rate`` seconds
after it started; what is due is sent in one piece. ``rate`` is a ceiling:
after a client fell behind, the stream does not burst to catch up by more
than ``MAX_CATCH_UP_SECONDS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from anyio import to_thread
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from datastorm_core.serve.formats import RowFormat
from datastorm_core.serve.registry import OpenStream, StatusRegistry
from datastorm_core.serve.tables import PAST_THE_COUNT, ServedTables

__all__ = [
    "PAGE_CHUNK_ROWS",
    "STREAM_CHUNK_ROWS",
    "ClosingStream",
    "paced_text",
    "page_text",
]

# Rows a page makes at a time: the source's own chunk size, where numpy's per-call cost
# has vanished and a chunk of a wide table is still a few megabytes.
PAGE_CHUNK_ROWS = 8192
# Rows a stream makes at a time at most: its window. Small, so a paced stream holds
# little, and a client that stops reading stops the generator within one window.
STREAM_CHUNK_ROWS = 1024
# A stream that fell behind (a slow client) sends at most this much backlog at once.
MAX_CATCH_UP_SECONDS = 1.0
# The shortest sleep between two sends: below it, the loop would spin for single rows.
MIN_TICK_SECONDS = 0.005
# The longest: a slow stream still sees within this long that the server is stopping.
MAX_TICK_SECONDS = 0.25


async def page_text(tables: ServedTables, name: str, start: int, stop: int, fmt: RowFormat,
                    registry: StatusRegistry, chunk_rows: int = PAGE_CHUNK_ROWS
                    ) -> AsyncIterator[str | bytes]:
    """Rows ``[start, stop)`` of a table in ``fmt``, one chunk at a time."""
    schema = tables.table(name).schema
    yield fmt.start(schema)
    for first in range(start, stop, chunk_rows):
        last = min(stop, first + chunk_rows)

        def encode(first: int = first, last: int = last) -> str | bytes:
            return fmt.rows(tables.chunk(name, first, last), schema, first == start)

        yield await to_thread.run_sync(encode)
        registry.served(last - first)
    yield fmt.tail


async def paced_text(tables: ServedTables, stream: OpenStream, fmt: RowFormat,
                     registry: StatusRegistry) -> AsyncIterator[str | bytes]:
    """The table's rows from ``stream.first_row`` on, at ``stream.rate`` rows a second;
    endless, or up to the table's last row when its generators end there; ended
    cleanly when the server stops."""
    name, rate = stream.table, stream.rate
    served = tables.table(name)
    end = None if await to_thread.run_sync(tables.endless, name) else served.records
    loop = asyncio.get_running_loop()
    started = loop.time()
    index, sent = stream.first_row, 0
    yield fmt.start(served.schema)
    while (end is None or index < end) and not registry.stopping:
        elapsed = loop.time() - started
        due = int(elapsed * rate) - sent
        if due <= 0:
            wait = (sent + 1) / rate - elapsed
            await asyncio.sleep(min(MAX_TICK_SECONDS, max(MIN_TICK_SECONDS, wait)))
            continue
        if due > rate * MAX_CATCH_UP_SECONDS:  # behind: drop the backlog, keep the rate
            started = loop.time() - (sent + rate * MAX_CATCH_UP_SECONDS) / rate
            due = max(1, int(rate * MAX_CATCH_UP_SECONDS))
        rows = min(due, STREAM_CHUNK_ROWS, end - index if end is not None else due)

        def encode(first: int = index, rows: int = rows) -> str | bytes:
            return fmt.rows(tables.chunk(name, first, first + rows), served.schema,
                            first == stream.first_row)

        try:
            text = await to_thread.run_sync(encode)
        except PAST_THE_COUNT:
            if index < served.records:
                raise
            break  # a row past the count the generators cannot make after all: the end
        yield text
        index += rows
        sent += rows
        stream.sent(rows)
        registry.served(rows)
    yield fmt.tail


class ClosingStream(StreamingResponse):
    """A streaming response that always runs ``on_close`` when it ends: done, or the
    client gone (its body generator is closed at once, not when collected)."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None],
                 media_type: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._content = content
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (ClientDisconnect, OSError):
            pass  # the client went away: the stream ends here
        finally:
            aclose = getattr(self._content, "aclose", None)
            if aclose is not None:
                await aclose()
            self._on_close()
