"""datastorm's engine: Genfile.toml -> rows -> targets, free of Dagster.

Layers (imports point down): ``run`` wires ``genfile``, ``source`` and
``target``, which all stand on ``core``. ``source`` and ``target`` never
import each other.

The names below are imported when first used (PEP 562): importing the
package itself costs nothing, so the ``datastorm`` command (``entry.py``)
is ready to take Ctrl-C before anything heavy loads.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    **{name: "datastorm_core.errors" for name in (
        "DatastormError", "GenfileError", "Interrupted", "Problem", "RunError", "SourceError",
        "TargetError", "UsageError", "UserError")},
    **{name: "datastorm_core.genfile" for name in ("Genfile", "Partition")},
    # Sized whole: tables tied by a parent's field counted too (datastorm_core.loading).
    **{name: "datastorm_core.loading" for name in ("load_genfile", "loads_genfile")},
    # A table's rows as a DataFrame or an Arrow table, as a run writes them.
    **{name: "datastorm_core.frames" for name in ("to_arrow", "to_pandas")},
}

__all__ = [
    "DatastormError",
    "Genfile",
    "GenfileError",
    "Interrupted",
    "Partition",
    "Problem",
    "RunError",
    "SourceError",
    "TargetError",
    "UsageError",
    "UserError",
    "__version__",
    "load_genfile",
    "loads_genfile",
    "to_arrow",
    "to_pandas",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'datastorm_core' has no attribute {name!r}")
