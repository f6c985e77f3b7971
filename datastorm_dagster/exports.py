"""One asset per ``[exports.NAME]``: the export's file, downstream of the tables it reads.

Its key is ``[*key_prefix, "exports", NAME]`` (apart from the tables' keys, whose
last part is a table's name). Materializing it runs the export's query on the
tables' target and writes ``NAME.csv`` (``.jsonl``, ``.parquet``) in the export
directory, replaced whole when complete: the resource's ``export_dir``, else
``DATASTORM_EXPORT_DIR``, else ``exports/`` beside the Genfile. Parameters come
from the run's config (``params``, text read by their declared types), else
their defaults in the Genfile.
"""

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from datastorm_core.errors import DatastormError
from datastorm_core.exports.files import EXTENSIONS
from datastorm_core.exports.params import bind_params, find_export
from datastorm_core.exports.runner import export_url, run_export
from datastorm_core.genfile.model import Export, Genfile
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import METADATA_PREFIX, DatastormTranslator

__all__ = ["EXPORT_DIR_ENV", "ExportConfig", "build_export_assets", "export_dir",
           "export_key"]

EXPORT_DIR_ENV = "DATASTORM_EXPORT_DIR"


class ExportConfig(dg.Config):
    """Run config of an export asset: its parameters, as on the command line."""

    params: dict[str, str] = Field(default_factory=dict,
                                   description="parameter values, e.g. {\"state\": \"SP\"}; "
                                   "missing ones take their Genfile default")


def export_key(translator: DatastormTranslator, name: str) -> dg.AssetKey:
    return dg.AssetKey([*translator.settings.key_prefix, "exports", name])


def export_dir(datastorm: DatastormResource) -> Path:
    """Where export assets write their files (see the module's docstring)."""
    chosen = datastorm.export_dir or os.environ.get(EXPORT_DIR_ENV)
    return Path(chosen) if chosen else Path(datastorm.genfile).resolve().parent / "exports"


def build_export_assets(genfile: Genfile, translator: DatastormTranslator
                        ) -> list[dg.AssetsDefinition]:
    return [_export_asset(export, genfile, translator) for export in genfile.exports.values()]


def _export_asset(export: Export, genfile: Genfile, translator: DatastormTranslator
                  ) -> dg.AssetsDefinition:
    resource_key = translator.resource_key
    name = export.name
    params = ", ".join(f"{p.name} ({p.type})" for p in export.params) or "none"

    @dg.asset(
        key=export_key(translator, name),
        deps=[translator.get_asset_key(genfile.table(t)) for t in export.deps],
        group_name=translator.settings.group_name,
        description=f"Export {name!r} ({export.format}); parameters: {params}.\n\n"
                    f"```sql\n{export.sql.strip()}\n```",
        kinds={export.format, "postgres"},
        required_resource_keys={resource_key},
        op_tags={"datastorm/export": name},
    )
    def materialize_export(context: dg.AssetExecutionContext,
                           config: ExportConfig) -> dg.MaterializeResult:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        try:
            current = datastorm.load()
            spec = find_export(current, name)
            values = bind_params(spec, config.params)
            folder = export_dir(datastorm)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{name}.{EXTENSIONS[spec.format]}"
            result = run_export(spec, values, export_url(current, datastorm.target), path)
        except DatastormError as exc:
            raise dg.Failure(description=str(exc)) from None
        return dg.MaterializeResult(metadata={
            "dagster/row_count": result.rows,
            f"{METADATA_PREFIX}/rows": result.rows,
            f"{METADATA_PREFIX}/bytes": result.bytes,
            f"{METADATA_PREFIX}/seconds": round(result.seconds, 3),
            f"{METADATA_PREFIX}/path": dg.MetadataValue.path(str(result.path.resolve())),
            f"{METADATA_PREFIX}/format": spec.format,
            f"{METADATA_PREFIX}/params": dg.MetadataValue.json(
                {k: str(v) for k, v in values.items()}),
        })

    return materialize_export
