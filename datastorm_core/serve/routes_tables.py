"""``GET /tables``, a page of rows, one row."""

from __future__ import annotations

from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from datastorm_core.serve.errors import ApiError
from datastorm_core.serve.formats import FORMATS
from datastorm_core.serve.limits import MAX_ROW_INDEX
from datastorm_core.serve.pacing import ClosingStream, page_text
from datastorm_core.serve.state import ServeState, state_of
from datastorm_core.serve.tables import ServedTable, UnknownTable
from datastorm_core.target.encode.jsonl import json_objects

__all__ = ["router", "served_table"]

router = APIRouter(tags=["tables"])

#: A table's name in a path: the names a Genfile may give (checked against it, too).
TABLE_NAME = Path(description="a table of the Genfile", pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$")


def served_table(state: ServeState, name: str) -> ServedTable:
    """The table called ``name``, or 404 naming the tables there are."""
    try:
        return state.tables.table(name)
    except UnknownTable as exc:
        raise ApiError(404, str(exc)) from None


@router.get("/tables", summary="the tables: rows, columns and their types")
def list_tables(state: Annotated[ServeState, Depends(state_of)]) -> dict[str, object]:
    return {"tables": [t.describe() for t in state.tables.tables.values()]}


@router.get("/tables/{table}/rows", summary="a page of rows, by index",
            response_description="rows offset .. offset+limit-1, as `datastorm run` makes "
            "them; a large page is streamed as it is generated")
async def rows(
    state: Annotated[ServeState, Depends(state_of)],
    table: Annotated[str, TABLE_NAME],
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_INDEX,
                                 description="index of the first row")] = 0,
    limit: Annotated[int, Query(ge=0, description="rows in the page; at most the server's "
                                "--max-page-rows (default 100000), 429 beyond")] = 100,
    format: Annotated[Literal["json", "ndjson", "csv"],
                      Query(description="json (an array), ndjson or csv")] = "json",
) -> Response:
    served = served_table(state, table)
    most = state.settings.max_page_rows
    if limit > most:
        raise ApiError(429, f"limit {limit} is above the most rows a page holds ({most}); "
                       "ask for pages with offset and limit")
    start, stop = min(offset, served.records), min(offset + limit, served.records)
    headers = {"X-Total-Rows": str(served.records)}
    body = page_text(state.tables, table, start, stop, FORMATS[format], state.registry)
    return ClosingStream(body, lambda: None, FORMATS[format].media_type, headers)


@router.get("/tables/{table}/rows/{index}", summary="one row, by index")
async def row(
    state: Annotated[ServeState, Depends(state_of)],
    table: Annotated[str, TABLE_NAME],
    index: Annotated[int, Path(ge=0, le=MAX_ROW_INDEX, description="the row's index, from 0")],
) -> Response:
    served = served_table(state, table)
    if index >= served.records:
        raise ApiError(404, f"table {table!r} has {served.records} rows (0 to "
                       f"{served.records - 1}); there is no row {index}")
    chunk = await to_thread.run_sync(state.tables.chunk, table, index, index + 1)
    state.registry.served(1)
    return Response(json_objects(chunk, served.schema)[0] + "\n", media_type="application/json")
