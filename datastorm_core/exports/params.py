"""The values of an export's parameters, checked against their declared types before
anything is queued or run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from datastorm_core.exports.errors import ExportError, UnknownExport
from datastorm_core.genfile.export_params import coerce
from datastorm_core.genfile.model import Export, Genfile

__all__ = ["bind_params", "find_export", "parse_param_args"]


def find_export(genfile: Genfile, name: str) -> Export:
    """The export ``name``; UnknownExport listing those the Genfile has."""
    try:
        return genfile.exports[name]
    except KeyError:
        known = ", ".join(sorted(genfile.exports)) or "none: add an [exports.NAME] section"
        raise UnknownExport(f"no export named {name!r} in the Genfile; exports: {known}") \
            from None


def bind_params(export: Export, given: Mapping[str, object]) -> dict[str, Any]:
    """Every parameter of ``export`` as a value of its type: ``given`` (text or JSON
    values), else its default. ExportError naming each unknown, missing or bad one."""
    problems: list[str] = []
    declared = {p.name for p in export.params}
    for name in given:
        if name not in declared:
            expected = ", ".join(sorted(declared)) or "none"
            problems.append(f"unknown parameter {name!r} (the export takes: {expected})")
    values: dict[str, Any] = {}
    for p in export.params:
        if p.name in given:
            try:
                values[p.name] = coerce(p.type, given[p.name])
            except ValueError as exc:
                problems.append(f"parameter {p.name!r} ({p.type}) {exc}")
        elif p.default is not None:
            values[p.name] = p.default
        else:
            problems.append(f"parameter {p.name!r} ({p.type}) is required")
    if problems:
        raise ExportError(f"export {export.name!r}: " + "; ".join(problems))
    return values


def parse_param_args(items: Sequence[str]) -> dict[str, str]:
    """``--param k=v`` arguments (repeated) as {k: v}, the text kept as it is."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ExportError(f"--param takes NAME=VALUE, e.g. state=SP, got {item!r}")
        params[name.strip()] = value
    return params
