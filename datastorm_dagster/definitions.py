"""``defs`` for ``workspace.yaml``: the Genfile and target named by the environment.

``defs`` is built from the Genfile named by ``DATASTORM_GENFILE`` (default
``./Genfile.toml``) and writes to ``DATASTORM_TARGET`` when that is set,
else to the Genfile's ``[target]``; a named target ``[targets.NAME]`` goes
to ``DATASTORM_TARGET_<NAME>`` when that is set.
"""

from __future__ import annotations

import os

import dagster as dg

from datastorm_dagster.factory import build_definitions

__all__ = ["DEFAULT_GENFILE", "NAMED_TARGET_PREFIX", "build_definitions", "defs"]

DEFAULT_GENFILE = "Genfile.toml"


# A named target [targets.NAME] takes its URL from DATASTORM_TARGET_<NAME> (upper case).
NAMED_TARGET_PREFIX = "DATASTORM_TARGET_"


def definitions_from_environment() -> dg.Definitions:
    """The definitions ``DATASTORM_GENFILE``, ``DATASTORM_TARGET`` and
    ``DATASTORM_TARGET_<NAME>`` (a named target's URL) describe."""
    genfile = os.environ.get("DATASTORM_GENFILE", DEFAULT_GENFILE)
    target = dg.EnvVar("DATASTORM_TARGET") if os.environ.get("DATASTORM_TARGET") else None
    return build_definitions(genfile, target=target, targets=named_targets(genfile))


def named_targets(genfile: str) -> dict[str, str]:
    """URLs of the Genfile's named targets given in the environment."""
    from datastorm_core.genfile import load_genfile

    try:
        names = list(load_genfile(genfile, target_overridden=True,
                                  named_overridden=True).targets)
    except Exception:  # the factory reports the Genfile's problems itself
        return {}
    found = {}
    for name in names:
        value = os.environ.get(NAMED_TARGET_PREFIX + name.upper())
        if value:
            found[name] = value
    return found


defs = definitions_from_environment()
