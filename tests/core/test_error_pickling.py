"""Every datastorm exception pickles and unpickles to itself.

A step run by a Celery worker (or any Dagster step process) sends its error
back through pickle: an error rebuilt wrong there reports something else
than what failed ("73 errors in the Genfile" for one missing file).
"""

from __future__ import annotations

import inspect
import pickle

import pytest

from datastorm_core import errors
from datastorm_core.core.buffer import BufferClosed
from datastorm_core.errors import DatastormError, GenfileError, Problem
from datastorm_core.genfile.expressions.tree import ExpressionError

# One instance per class, made the way the code makes them; a class added to
# errors.py without an entry here fails test_every_class_of_errors_is_covered.
EXAMPLES: dict[type[BaseException], BaseException] = {
    errors.DatastormError: errors.DatastormError("something failed"),
    errors.UserError: errors.UserError("fix this"),
    errors.UsageError: errors.UsageError("--rows must be at least 1, got 0"),
    errors.GenfileError: GenfileError(
        [Problem("no such file 'words.txt'", table="customer", field="word", line=7),
         Problem("unknown type 'nme'", table="customer")], path="/x/Genfile.toml"),
    errors.RunError: errors.RunError("the run failed"),
    errors.SourceError: errors.SourceError("generating rows failed"),
    errors.TargetError: errors.TargetError("connection refused to postgresql://u:***@h/db"),
    errors.Interrupted: errors.Interrupted("interrupted by SIGTERM"),
    BufferClosed: BufferClosed(errors.TargetError("disk full")),
    ExpressionError: ExpressionError("unknown name 'pricee'", at=12),
}


def _state(error: BaseException) -> tuple[object, ...]:
    return type(error), error.args, str(error), {
        k: _state(v) if isinstance(v, BaseException) else v for k, v in vars(error).items()}


def test_every_class_of_errors_is_covered() -> None:
    classes = {cls for _, cls in inspect.getmembers(errors, inspect.isclass)
               if issubclass(cls, BaseException) and cls.__module__ == errors.__name__}
    assert classes <= set(EXAMPLES), classes - set(EXAMPLES)


@pytest.mark.parametrize("error", list(EXAMPLES.values()), ids=lambda e: type(e).__name__)
def test_an_error_unpickles_to_itself(error: BaseException) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(error, protocol))
        assert _state(again) == _state(error)


def test_a_genfile_error_keeps_its_problems() -> None:
    again = pickle.loads(pickle.dumps(EXAMPLES[errors.GenfileError]))
    assert isinstance(again, GenfileError)
    assert again.problems == EXAMPLES[errors.GenfileError].problems
    assert again.path == "/x/Genfile.toml"
    assert str(again).startswith("/x/Genfile.toml: 2 errors in the Genfile")


def test_a_subclass_defined_elsewhere_unpickles_to_itself() -> None:
    """Applications subclass the errors: they inherit the fix."""
    again = pickle.loads(pickle.dumps(_Custom("a", 3)))
    assert isinstance(again, _Custom) and again.args == ("a: 3",) and again.count == 3


class _Custom(DatastormError):
    def __init__(self, name: str, count: int) -> None:
        self.count = count
        super().__init__(f"{name}: {count}")
