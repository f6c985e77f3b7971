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
from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.target.postgres.sql import column_type

__all__ = ["METADATA_PREFIX", "DatastormTranslator", "DatastormTranslatorSettings"]

METADATA_PREFIX = "datastorm"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


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

    def get_asset_key(self, table: Table) -> dg.AssetKey:
        """The asset's key; its last part is always the table's name."""
        return dg.AssetKey([*self.settings.key_prefix, table.name])

    def get_deps(self, table: Table, genfile: Genfile) -> list[dg.AssetKey]:
        return [self.get_asset_key(genfile.table(parent)) for parent in table.parents]

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
        columns = ", ".join(f"{f.name} ({f.type})" for f in table.fields)
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
            metadata["dagster/column_schema"] = column_schema(schema)
            metadata["dagster/table_name"] = table.stored_name
        return metadata

    def get_kinds(self, table: Table, genfile: Genfile) -> set[str]:
        return {"datastorm", genfile.target.type}

    def get_external_asset_spec(self, table: Table, genfile: Genfile) -> dg.AssetSpec:
        """An existing table: an asset Dagster shows but never materializes, upstream of
        the generated tables that reference it."""
        return dg.AssetSpec(
            key=self.get_asset_key(table),
            description=self.get_description(table),
            metadata={f"{METADATA_PREFIX}/existing": True,
                      "dagster/table_name": table.stored_name},
            group_name=self.get_group_name(table),
            kinds={"existing", genfile.target.type},
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
            code_version=genfile.table_digests.get(table.name, "")[:16] or None,
            partitions_def=partitions_def,
        )


def column_schema(schema: TableSchema) -> dg.TableSchema:
    """A datastorm table schema as Dagster's column schema metadata."""
    columns = []
    for col in schema.columns:
        kind = column_type(col)  # the type PostgreSQL shows for it
        other = []
        if col.name in schema.primary_key:
            other.append("primary key")
        for fk in schema.foreign_keys:
            if fk.column == col.name:
                other.append(f"references {fk.parent_table}.{fk.parent_column}")
        constraints = dg.TableColumnConstraints(
            nullable=col.nullable,
            unique=col.name in schema.primary_key or col.name in schema.unique,
            other=other,
        )
        columns.append(dg.TableColumn(col.name, kind, constraints=constraints))
    return dg.TableSchema(columns=columns)
