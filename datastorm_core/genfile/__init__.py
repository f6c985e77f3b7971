"""The Genfile language: parse, validate, plan."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

from datastorm_core.core.partition import Partition
from datastorm_core.genfile.graph import write_order
from datastorm_core.genfile.model import Dataset, Field, Genfile, Table, TargetConfig
from datastorm_core.genfile.parse import parse_text, read_genfile
from datastorm_core.genfile.plan import TablePlan, plan_tables
from datastorm_core.genfile.validate import validate

__all__ = [
    "Dataset",
    "Field",
    "Genfile",
    "Partition",
    "Table",
    "TablePlan",
    "TargetConfig",
    "load_genfile",
    "loads_genfile",
    "plan_tables",
    "write_order",
]


def load_genfile(
    path: str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
    target_overridden: bool = False,
    named_overridden: Collection[str] | bool = (),
) -> Genfile:
    """Read and validate a Genfile; raise GenfileError listing every problem.

    ``target_overridden`` (the default target) and ``named_overridden`` (named
    targets, or True for all) skip the checks of URLs the caller replaces.
    """
    return validate(read_genfile(path), environ, target_overridden, named_overridden)


def loads_genfile(
    text: str,
    environ: Mapping[str, str] | None = None,
    target_overridden: bool = False,
    named_overridden: Collection[str] | bool = (),
) -> Genfile:
    """Validate Genfile text (tests, previews, embedded Genfiles)."""
    return validate(parse_text(text), environ, target_overridden, named_overridden)
