"""``POST /exports/{name}``, ``GET /exports/{id}``, ``GET /exports/{id}/file``.

Only exports named in the Genfile run, with their parameters typed and bound
by the server (``exports.params``): the API accepts no SQL and no path. A
request is accepted at once (202, its id); the export queue's workers run it.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Body, Depends, Path
from fastapi.responses import FileResponse, JSONResponse

from datastorm_core.exports import ExportError, ExportStatus, QueueFull, UnknownExport
from datastorm_core.exports.files import EXTENSIONS
from datastorm_core.serve.errors import ApiError
from datastorm_core.serve.state import ServeState, state_of

__all__ = ["router"]

router = APIRouter(tags=["exports"])

EXPORT_NAME = Path(description="an export of the Genfile ([exports.NAME])",
                   pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
TASK_ID = Path(description="the id POST /exports/{name} answered",
               pattern=r"^[A-Za-z0-9_-]{1,64}$")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson",
               "parquet": "application/vnd.apache.parquet"}


def _queue(state: ServeState) -> Any:
    if state.exports is None:
        raise ApiError(503, f"exports are not served: {state.exports_unavailable}")
    return state.exports


@router.post("/exports/{name}", status_code=202,
             summary="queue an export; answered at once with its id")
async def submit(
    state: Annotated[ServeState, Depends(state_of)],
    name: Annotated[str, EXPORT_NAME],
    params: Annotated[dict[str, Any] | None, Body(
        description="the export's parameters, e.g. {\"state\": \"SP\"}")] = None,
) -> JSONResponse:
    queue = _queue(state)
    try:
        task_id = await to_thread.run_sync(queue.submit, name, params or {})
    except UnknownExport as exc:
        raise ApiError(404, str(exc)) from None
    except ExportError as exc:
        raise ApiError(400, str(exc)) from None
    except QueueFull as exc:
        raise ApiError(429, str(exc), {"Retry-After": "5"}) from None
    return JSONResponse({"id": task_id, "status_url": f"/exports/{task_id}",
                         "file_url": f"/exports/{task_id}/file"}, status_code=202)


async def _status(state: ServeState, task_id: str) -> ExportStatus:
    status = await to_thread.run_sync(_queue(state).status, task_id)
    if status is None:
        raise ApiError(404, f"no export task {task_id!r}")
    return status  # type: ignore[no-any-return]


@router.get("/exports/{task_id}", summary="an export's status: queued, running, done, failed")
async def export_status(state: Annotated[ServeState, Depends(state_of)],
                        task_id: Annotated[str, TASK_ID]) -> dict[str, Any]:
    return (await _status(state, task_id)).to_json()


@router.get("/exports/{task_id}/file", summary="a done export's file",
            response_description="the file, streamed; 409 until the export is done")
async def export_file(state: Annotated[ServeState, Depends(state_of)],
                      task_id: Annotated[str, TASK_ID]) -> FileResponse:
    status = await _status(state, task_id)
    if status.status == "failed":
        raise ApiError(409, f"export task {task_id} failed: {status.error}")
    if status.status != "done" or status.path is None:
        raise ApiError(409, f"export task {task_id} is {status.status}: its file is ready "
                       f"when GET /exports/{task_id} says done")
    if not os.path.isfile(status.path):
        raise ApiError(404, f"the file of export task {task_id} is no longer there")
    fmt = state.tables.genfile.exports[status.export].format
    return FileResponse(status.path, media_type=MEDIA_TYPES.get(fmt),
                        filename=f"{status.export}-{task_id}.{EXTENSIONS[fmt]}")
