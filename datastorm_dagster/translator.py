"""From Genfile tables to Dagster asset specs: a pure translation, no I/O.

Like dagster-dbt's and dagster-sling's translators, every part of a spec
comes from one ``get_*`` method, so a subclass can change one of them (a
key prefix, a group) and keep the rest. Note the term clash: a datastorm
*target* (where rows go) is unrelated to Dagster's run *targets*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from datastorm_core.core.schema import TableSchema
from datastorm_core.genfile.model import Genfile, Table, TargetConfig
from datastorm_core.tables import column_types
from datastorm_dagster.columns import column_schema

__all__ = ["METADATA_PREFIX", "DatastormTranslator", "DatastormTranslatorSettings",
           "column_schema", "table_target"]

METADATA_PREFIX = "datastorm"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def table_target(table: Table, genfile: Genfile) -> TargetConfig:
    """Where a table's rows go: its named target, else the default one. The factory
    hands the translator a Genfile whose targets carry the types their URLs have
    after overrides (``run.routed``), so a table sent elsewhere is labelled so."""
    return genfile.targets[table.target] if table.target is not None else genfile.target


@dataclass(frozen=True)
class DatastormTranslatorSettings:
    """Switches of the default translation.

    ``name`` lets several Genfiles share one code location: it goes into the
    names of the ops, checks, jobs, schedule and sensor, and into the
    resource key (``datastorm_<name>``). Give each Genfile its own
    ``key_prefix`` too, when table names repeat.
    """

    key_prefix: tuple[str, ...] = ()
    group_name: str = "datastorm"
    blocking_checks: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        if self.name and not _NAME.match(self.name):
            raise ValueError(f"name must be letters, digits and underscores (it names Dagster "
                             f"ops, jobs and a resource), got {self.name!r}")


class DatastormTranslator:
    """Translates one Genfile table into an ``AssetSpec``."""

    def __init__(self, settings: DatastormTranslatorSettings | None = None) -> None:
        self.settings = settings or DatastormTranslatorSettings()

    def definition_name(self, base: str) -> str:
        """An op, job, schedule or sensor name, unique per Genfile when ``name`` is set."""
        name = self.settings.name
        return base if not name else base.replace("datastorm", f"datastorm_{name}", 1)

    @property
    def resource_key(self) -> str:
        """The key of this Genfile's DatastormResource."""
        return self.definition_name("datastorm")

    @property
    def frames_key(self) -> str:
        """The key of the I/O manager that hands tables to downstream assets as DataFrames."""
        return self.definition_name("datastorm_frames")

    def get_asset_key(self, table: Table) -> dg.AssetKey:
        """The asset's key; its last part is always the table's name."""
        return dg.AssetKey([*self.settings.key_prefix, table.name])

    def get_deps(self, table: Table, genfile: Genfile) -> list[dg.AssetKey | dg.AssetDep]:
        deps: list[dg.AssetKey | dg.AssetDep] = []
        static = (genfile.dataset.partitions or 1) > 1
        for name in table.parents:
            parent = genfile.table(name)
            key = self.get_asset_key(parent)
            if table.daily is not None and parent.daily is None and static:
                # A day draws its references from every static partition of its parent.
                deps.append(dg.AssetDep(key, partition_mapping=dg.AllPartitionMapping()))
            else:
                deps.append(key)
        return deps

    def get_group_name(self, table: Table) -> str:
        return self.settings.group_name

    def get_description(self, table: Table) -> str:
        described = table.options.get("description")
        head = f"{described}\n\n" if described else ""
        if table.existing:
            keys = ", ".join(f.name for f in table.fields)
            return (f"{head}Table `{table.stored_name}`, left as it is in the database "
                    f"(existing = true): the tables that reference it draw from its rows "
                    f"({keys}). datastorm never writes it.")
        columns = ", ".join(f"{f.name} ({f.written_type})" for f in table.fields)
        return f"{head}Synthetic table `{table.name}`: {table.records:,} rows; {columns}."

    def get_metadata(self, table: Table, genfile: Genfile,
                     schema: TableSchema | None = None) -> Mapping[str, Any]:
        metadata: dict[str, Any] = {
            f"{METADATA_PREFIX}/records": table.records,
            f"{METADATA_PREFIX}/table_digest": genfile.table_digests.get(table.name, ""),
        }
        if genfile.path:
            metadata[f"{METADATA_PREFIX}/genfile"] = genfile.path
        if schema is not None:
            types = column_types(genfile, table.name, table_schema=schema)
            metadata["dagster/column_schema"] = column_schema(schema, table, types)
            metadata["dagster/table_name"] = table.stored_name
        return metadata

    def get_kinds(self, table: Table, genfile: Genfile) -> set[str]:
        return {"datastorm", table_target(table, genfile).type}

    def get_external_asset_spec(self, table: Table, genfile: Genfile) -> dg.AssetSpec:
        """An existing table: an asset Dagster shows but never materializes, upstream of
        the generated tables that reference it."""
        return dg.AssetSpec(
            key=self.get_asset_key(table),
            description=self.get_description(table),
            metadata={f"{METADATA_PREFIX}/existing": True,
                      "dagster/table_name": table.stored_name},
            group_name=self.get_group_name(table),
            kinds={"existing", table_target(table, genfile).type},
        )

    def get_asset_spec(self, table: Table, genfile: Genfile,
                       schema: TableSchema | None = None,
                       partitions_def: dg.PartitionsDefinition | None = None) -> dg.AssetSpec:
        return dg.AssetSpec(
            key=self.get_asset_key(table),
            deps=self.get_deps(table, genfile),
            description=self.get_description(table),
            metadata=self.get_metadata(table, genfile, schema),
            group_name=self.get_group_name(table),
            kinds=self.get_kinds(table, genfile),
            # No code_version: the code location keeps the Genfile it loaded, so a
            # table the sensor regenerated from the edited Genfile would be recorded
            # with the old version and show "Unsynced" after a reload. Freshness comes
            # from data versions instead (the asset reports one per materialization).
            partitions_def=partitions_def,
        )
