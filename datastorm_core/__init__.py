"""datastorm's engine: Genfile.toml -> rows -> targets, free of Dagster.

Layers (imports point down): ``run`` wires ``genfile``, ``source`` and
``target``, which all stand on ``core``. ``source`` and ``target`` never
import each other.
"""

from __future__ import annotations

__version__ = "0.1.0"

from datastorm_core.errors import (
    DatastormError,
    GenfileError,
    Interrupted,
    Problem,
    RunError,
    SourceError,
    TargetError,
    UsageError,
    UserError,
)
from datastorm_core.genfile import Genfile, Partition, load_genfile, loads_genfile

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
]
__all__ += ["load_genfile", "loads_genfile"]
