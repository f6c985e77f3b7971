"""``GET /tables/{table}/stream``: the table's next rows at a rate, until the client goes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from datastorm_core.serve.errors import ApiError
from datastorm_core.serve.formats import FORMATS
from datastorm_core.serve.limits import MAX_ROW_INDEX
from datastorm_core.serve.pacing import ClosingStream, paced_text
from datastorm_core.serve.registry import StreamLimitReached
from datastorm_core.serve.routes_tables import TABLE_NAME, served_table
from datastorm_core.serve.state import ServeState, state_of

__all__ = ["router"]

router = APIRouter(tags=["stream"])

DEFAULT_RATE = 10.0


@router.get(
    "/tables/{table}/stream", summary="a continuous stream of rows at a rate",
    description="Rows from index `from` on, paced at `rate` rows a second, until the client "
    "closes the connection. Row i is row i of `datastorm run`; past the table's row count "
    "the rows go on as `datastorm stream` makes new rows (row records+k), except for a "
    "table whose unique fields cannot grow, whose stream ends at its last row. With "
    "`format=sse` each event's id is the row index, and a reconnecting client's "
    "`Last-Event-ID` resumes after it.")
async def stream(
    state: Annotated[ServeState, Depends(state_of)],
    table: Annotated[str, TABLE_NAME],
    rate: Annotated[float, Query(gt=0, description="rows a second; at most the server's "
                                 "--max-rate (default 10000), 429 beyond")] = DEFAULT_RATE,
    start: Annotated[int | None, Query(alias="from", ge=0, le=MAX_ROW_INDEX,
                                       description="index of the first row (default 0)")]
    = None,
    format: Annotated[Literal["ndjson", "sse"],
                      Query(description="ndjson (a JSON object a line) or sse")] = "ndjson",
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    served = served_table(state, table)
    if rate > state.settings.max_rate:
        raise ApiError(429, f"rate {rate:g} is above the most rows a second a stream may "
                       f"send ({state.settings.max_rate:g})")
    if start is None:
        start = _after(last_event_id) if format == "sse" else 0
    try:
        opened = state.registry.open_stream(served.name, format, rate, start)
    except StreamLimitReached as exc:
        raise ApiError(429, str(exc), {"Retry-After": "1"}) from None
    fmt = FORMATS[format]
    body = paced_text(state.tables, opened, fmt, state.registry)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return ClosingStream(body, lambda: state.registry.close_stream(opened), fmt.media_type,
                         headers)


def _after(last_event_id: str | None) -> int:
    """The row after the last one an SSE client saw (its ``Last-Event-ID``)."""
    if last_event_id is None:
        return 0
    try:
        seen = int(last_event_id)
    except ValueError:
        raise ApiError(400, f"Last-Event-ID must be a row index, got {last_event_id!r}") \
            from None
    if not 0 <= seen < MAX_ROW_INDEX:
        raise ApiError(400, f"Last-Event-ID must be a row index, got {last_event_id!r}")
    return seen + 1
