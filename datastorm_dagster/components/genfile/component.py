"""A Dagster Component for ``defs.yaml`` users: a Genfile becomes its asset graph.

It wraps ``build_definitions`` and adds nothing, like dagster-sling's
replication component, so YAML users and Python users get the same graph::

    type: datastorm_dagster.DatastormGenfileComponent
    attributes:
      genfile: Genfile.toml                     # relative to this defs.yaml
      target: "{{ env.DATASTORM_TARGET }}"      # optional; default: the Genfile's [target]
      targets:                                  # optional: named targets' URLs
        events: "{{ env.KAFKA_URL }}"
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from datastorm_dagster.factory import build_definitions
from datastorm_dagster.translator import DatastormTranslator, DatastormTranslatorSettings

__all__ = ["DatastormGenfileComponent"]


class DatastormGenfileComponent(dg.Component, dg.Resolvable, dg.Model):
    """Every table of a Genfile as a software-defined asset, with checks and automation."""

    genfile: str = "Genfile.toml"
    target: str | None = None
    # URLs of named targets ([targets.NAME]) replacing the Genfile's.
    targets: dict[str, str] | None = None
    key_prefix: tuple[str, ...] = ()
    group_name: str = "datastorm"
    # Set it when several Genfiles share a code location (see the translator settings).
    name: str = ""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        path = Path(self.genfile)
        if not path.is_absolute():
            path = context.path / path
        translator = DatastormTranslator(DatastormTranslatorSettings(
            key_prefix=tuple(self.key_prefix), group_name=self.group_name, name=self.name))
        targets = {name: url for name, url in (self.targets or {}).items() if url}
        return build_definitions(path, target=self.target or None, targets=targets,
                                 translator=translator)
