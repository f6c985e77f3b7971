"""``defs`` for ``workspace.yaml``: the Genfile and target named by the environment.

``defs`` is built from the Genfile named by ``DATASTORM_GENFILE`` (default
``./Genfile.toml``) and writes to ``DATASTORM_TARGET`` when that is set,
else to the Genfile's ``[target]``.
"""

from __future__ import annotations

import os

import dagster as dg

from datastorm_dagster.factory import build_definitions

__all__ = ["DEFAULT_GENFILE", "build_definitions", "defs"]

DEFAULT_GENFILE = "Genfile.toml"


def definitions_from_environment() -> dg.Definitions:
    """The definitions ``DATASTORM_GENFILE`` and ``DATASTORM_TARGET`` describe."""
    genfile = os.environ.get("DATASTORM_GENFILE", DEFAULT_GENFILE)
    target = dg.EnvVar("DATASTORM_TARGET") if os.environ.get("DATASTORM_TARGET") else None
    return build_definitions(genfile, target=target)


defs = definitions_from_environment()
