"""datastorm inside Dagster: every Genfile table a software-defined asset.

``datastorm_dagster.definitions.defs`` is what ``workspace.yaml`` loads;
``build_definitions`` and ``DatastormGenfileComponent`` serve users who
assemble their own definitions. Importing this package does not read any
Genfile: only ``datastorm_dagster.definitions`` does.
"""

from __future__ import annotations

from datastorm_dagster.components.genfile.component import DatastormGenfileComponent
from datastorm_dagster.factory import build_definitions
from datastorm_dagster.frames import DatastormFrameIOManager
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import DatastormTranslator, DatastormTranslatorSettings

__all__ = [
    "DatastormFrameIOManager",
    "DatastormGenfileComponent",
    "DatastormResource",
    "DatastormTranslator",
    "DatastormTranslatorSettings",
    "build_definitions",
]
