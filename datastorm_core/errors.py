"""The one hierarchy of datastorm errors.

::

    DatastormError                 root: everything datastorm raises on purpose
     ├── UserError                 the user can fix it; exit code 2, no traceback
     │    ├── GenfileError         the Genfile is wrong; lists every Problem found
     │    └── UsageError           a bad command-line argument or URL
     └── RunError                  something failed while running; exit code 1
          ├── SourceError          generating rows failed
          ├── TargetError          the target refused or lost the rows
          └── Interrupted          the run was stopped (Ctrl-C); exit code 130

Errors from psycopg, sqlite3 or the OS are mapped to these at the boundary,
chained with ``from`` so ``--debug`` still shows the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from datastorm_core.secrets import scrub

__all__ = [
    "DatastormError",
    "GenfileError",
    "Interrupted",
    "Problem",
    "RunError",
    "SourceError",
    "TargetError",
    "UsageError",
    "UserError",
]


class DatastormError(Exception):
    """Root of every error datastorm raises on purpose.

    Its message is scrubbed of passwords when it is made (``secrets.scrub``):
    whatever a driver echoed into it, it is safe to print, log or store.
    """

    exit_code = 1

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle's default calls ``type(self)(*self.args)``: a subclass whose
        # constructor takes other arguments than its message (GenfileError's
        # problems, BufferClosed's cause) came back wrong from a Celery result
        # backend or a Dagster step process ("73 errors in the Genfile", one a
        # character). Rebuild without the constructor: the args and attributes as
        # they were (already scrubbed when first made).
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[DatastormError], args: tuple[object, ...]) -> DatastormError:
    """An error of ``cls`` with ``args``, made without calling its constructor."""
    error = cls.__new__(cls)
    error.args = args
    return error


class UserError(DatastormError):
    """An error in what the user gave us: reported before anything is written."""

    exit_code = 2


class UsageError(UserError):
    """A bad command-line argument, URL or option."""

    @classmethod
    def unless_at_least(cls, minimum: int, *named: tuple[str, float | None]) -> None:
        """Raise one naming the first of ``named`` (option, value) below ``minimum``;
        a value of None was not given and passes."""
        for name, value in named:
            if value is not None and value < minimum:
                raise cls(f"{name} must be at least {minimum}, got {value}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a Genfile, located as precisely as we can."""

    message: str
    table: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.table and self.field:
            where = f"[{self.table}.{self.field}] "
        elif self.table:
            where = f"[{self.table}] "
        line = f"line {self.line}: " if self.line else ""
        return f"{line}{where}{self.message}"


class GenfileError(UserError):
    """The Genfile is malformed or inconsistent; carries every problem found."""

    def __init__(self, problems: Iterable[Problem], path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.path}: " if self.path else ""
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        lines = [f"{head}{count} {noun} in the Genfile"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class RunError(DatastormError):
    """A failure while running; the target is left as it was."""

    exit_code = 1


class SourceError(RunError):
    """Generating rows failed."""


class TargetError(RunError):
    """The target refused, lost or could not be reached."""


class Interrupted(RunError):
    """The run was interrupted (SIGINT/SIGTERM); nothing half-written is kept."""

    exit_code = 130

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)
