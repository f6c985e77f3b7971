"""Problems gathered while a Genfile is validated, each located by its header's line."""

from __future__ import annotations

from datastorm_core.errors import Problem
from datastorm_core.genfile.parse import RawGenfile

__all__ = ["Collector"]


class Collector:
    """Gathers problems, locating each by the header it sits under."""

    def __init__(self, raw: RawGenfile) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def add(self, message: str, table: str | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(message, table, field, self.raw.line_of(table, field)))
