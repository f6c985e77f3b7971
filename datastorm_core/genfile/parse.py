"""Read a Genfile: TOML syntax, ``${VAR}`` expansion, and where things are.

Only the syntax is checked here; meaning is ``validate``'s job. Both
report ``Problem`` values so that one run of ``datastorm validate`` lists
every error at once.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datastorm_core.errors import GenfileError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["RawGenfile", "expand_env", "parse_text", "read_genfile"]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


@dataclass(frozen=True)
class RawGenfile:
    """A Genfile's TOML document, before validation."""

    document: dict[str, Any]
    text: str
    path: str | None
    header_lines: Mapping[str, int]

    def line_of(self, table: str | None, field: str | None = None) -> int | None:
        """Line of the ``[table.field]`` (or ``[table]``) header, if written so."""
        if table and field and f"{table}.{field}" in self.header_lines:
            return self.header_lines[f"{table}.{field}"]
        if table:
            return self.header_lines.get(table) or _first_field_line(self.header_lines, table)
        return None


def read_genfile(path: str | os.PathLike[str]) -> RawGenfile:
    """Read and parse a Genfile from disk, raising GenfileError on bad syntax."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GenfileError([Problem(f"no such file: {p}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GenfileError([Problem(f"cannot read {p}: {exc}")]) from exc
    return parse_text(text, path=str(p))


def parse_text(text: str, path: str | None = None) -> RawGenfile:
    """Parse Genfile text; TOML errors carry their line number."""
    try:
        document = tomllib.loads(text)
    except RecursionError:
        raise GenfileError([Problem("malformed TOML: values nested too deeply (inline tables "
                                    "or arrays inside each other)")], path) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = None
        match = _TOML_POSITION.search(message)
        if match:
            line = int(match.group(1))
            message = _TOML_POSITION.sub("", message).strip()
        raise GenfileError([Problem(f"malformed TOML: {message}", line=line)], path) from None
    return RawGenfile(document, text, path, _header_lines(text))


def _header_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(line)
        if match:
            key = ".".join(part.strip().strip('"') for part in match.group(1).split("."))
            lines.setdefault(key, number)
    return lines


def expand_env(
    value: Any,
    problems: list[Problem],
    environ: Mapping[str, str] | None = None,
    where: tuple[str | None, str | None] = (None, None),
) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of ``value``.

    An unset variable without a default is a Problem, so that a secret
    missing from the environment is caught before anything is written.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = env.get(name)
            # As in the shell, ${VAR:-default} also replaces an empty value.
            if (value and default is not None) or (value is not None and default is None):
                return value
            if default is not None:
                return default
            problems.append(
                Problem(f"environment variable {name} is not set", table=where[0], field=where[1])
            )
            return ""

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {k: expand_env(v, problems, env, where) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, problems, env, where) for v in value]
    return value


def _first_field_line(header_lines: Mapping[str, int], table: str) -> int | None:
    """The line of a table written only as ``[table.field]`` sections: its first one."""
    lines = [line for header, line in header_lines.items() if header.startswith(f"{table}.")]
    return min(lines) if lines else None
