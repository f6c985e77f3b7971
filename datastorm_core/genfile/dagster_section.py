"""``[dagster]``: the Dagster layer's settings, checked with the rest of the Genfile.

The engine does not import Dagster; it only reads these few settings so
that a typo (``refresh_corn``) or a malformed cron is an error with its
line when the Genfile is validated, not a schedule that never fires.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from datastorm_core.genfile.model import DagsterSettings

__all__ = ["dagster_settings"]

_KNOWN = ("refresh_cron", "stream_cron", "stream_events", "fan_out", "frames")
_COUNTS = {"stream_events": 1, "fan_out": 1}  # integer options and their least value
# The cron aliases Dagster's schedules accept besides five fields.
_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?]+$")


def dagster_settings(spec: Any, add: Callable[[str], None]) -> DagsterSettings:
    """The settings of a ``[dagster]`` table; each problem goes to ``add``."""
    if not isinstance(spec, dict):
        add("[dagster] must be a table")
        return DagsterSettings()
    values: dict[str, Any] = {}
    for key, value in spec.items():
        if key not in _KNOWN:
            add(f"unknown option {key!r}; expected one of {', '.join(_KNOWN)}")
        elif key == "frames":
            if not isinstance(value, bool):
                add(f"frames must be true or false, got {value!r}")
            else:
                values[key] = value
        elif key in _COUNTS:
            least = _COUNTS[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                add(f"{key} must be an integer of at least {least}, got {value!r}")
            else:
                values[key] = value
        elif not _is_cron(value):
            add(f"{key} must be a cron string of five fields like \"0 2 * * *\" (or "
                f"{', '.join(_ALIASES[:3])}, ...), got {value!r}")
        else:
            values[key] = value.strip()
    return DagsterSettings(**values)


def _is_cron(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    if text in _ALIASES:
        return True
    fields = text.split()
    return len(fields) == 5 and all(_FIELD.match(f) for f in fields)
