"""``GET /status``: up since, the open streams, rows served, requests, exports by state."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Depends

from datastorm_core.serve.state import ServeState, state_of

__all__ = ["router"]

router = APIRouter(tags=["status"])


@router.get("/status", summary="the server: up since, open streams, rows served, exports")
def status(state: Annotated[ServeState, Depends(state_of)]) -> dict[str, object]:
    described = state.registry.describe()
    described["genfile"] = os.path.basename(state.tables.genfile.path or "")
    described["target"] = state.target
    return described
