"""Fuzz and fault-injection sweeps: short by default, long on request.

How much runs:

- default: 24 valid Genfiles and 192 broken ones; signals at 3 moments of a
  run, 1 after its commit, 1 SIGKILL (about 40 s for the whole directory on
  two cores);
- ``--hardening-long`` (declared in tests/conftest.py, so that it is known
  however pytest is started): 400 and 3,200 Genfiles (about 3 minutes), and
  the faults on a grid of 46 moments, SIGINT and SIGTERM at each, 32 after
  the commit, 46 SIGKILLs (7 to 10 minutes);
- ``DATASTORM_FUZZ_ITERATIONS=N``: N valid Genfiles and 8 N broken ones,
  whatever the flag says (the fault sweep follows the flag only).

A failure names its case: a Genfile's seed (``test_...[valid_seed=17]``),
which rebuilds it exactly, or a fault's moment (``[SIGINT@keys+0.20]``).
`pytest -rP` shows what each fault left (the old rows or the whole run).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The source tests' reading of a pattern (tests/conftest.py gives the CLI helpers).
_SOURCE = str(Path(__file__).resolve().parents[1] / "source")
if _SOURCE not in sys.path:
    sys.path.insert(0, _SOURCE)

ENV_ITERATIONS = "DATASTORM_FUZZ_ITERATIONS"
SHORT_VALID, LONG_VALID = 24, 400
MUTANTS_PER_VALID = 8
# When a fault is injected: "start+S" is S seconds after the process was started
# (before 0.1 s the interpreter itself is still starting, and a signal there is
# Python's business, not datastorm's); "copy+S" is S seconds after the first COPY
# of the run was seen in pg_stat_activity; "keys+S" after its first ALTER TABLE (a key
# built on a loaded table: the swap and the commit follow within a few tenths).
SHORT_SIGNAL_CASES = (("SIGINT", "start+0.3"), ("SIGTERM", "copy+0.0"), ("SIGINT", "keys+0.2"))
SHORT_KILL_POINTS = ("copy+0.3",)
LONG_POINTS = tuple([f"start+{0.1 + 0.15 * i:.2f}" for i in range(16)]
                    + [f"copy+{0.1 * i:.1f}" for i in range(10)]
                    + [f"keys+{0.05 * i:.2f}" for i in range(20)])
LONG_SIGNAL_CASES = tuple((name, point) for point in LONG_POINTS
                          for name in ("SIGINT", "SIGTERM"))
# Seconds after the run printed that it wrote its rows (the summary, then the exit).
SHORT_AFTER_COMMIT = (("SIGTERM", 0.0),)
LONG_AFTER_COMMIT = tuple((name, 0.01 * i) for i in range(16) for name in ("SIGINT", "SIGTERM"))


def long_run(config: pytest.Config) -> bool:
    return bool(config.getoption("--hardening-long", default=False))


def fuzz_counts(config: pytest.Config) -> tuple[int, int]:
    """(valid Genfiles, broken Genfiles) of this session."""
    given = os.environ.get(ENV_ITERATIONS, "").strip()
    if given:
        try:
            valid = int(given)
        except ValueError:
            raise pytest.UsageError(
                f"{ENV_ITERATIONS} must be a whole number, got {given!r}") from None
        if valid < 1:
            raise pytest.UsageError(f"{ENV_ITERATIONS} must be at least 1, got {valid}")
    else:
        valid = LONG_VALID if long_run(config) else SHORT_VALID
    return valid, valid * MUTANTS_PER_VALID


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    valid, mutants = fuzz_counts(config)
    if "valid_seed" in metafunc.fixturenames:
        metafunc.parametrize("valid_seed", range(valid), ids=lambda s: f"valid_seed={s}")
    if "mutant_seed" in metafunc.fixturenames:
        metafunc.parametrize("mutant_seed", range(mutants), ids=lambda s: f"mutant_seed={s}")
    if "signal_case" in metafunc.fixturenames:
        cases = LONG_SIGNAL_CASES if long_run(config) else SHORT_SIGNAL_CASES
        metafunc.parametrize("signal_case", cases, ids=[f"{n}@{p}" for n, p in cases])
    if "after_commit_case" in metafunc.fixturenames:
        cases = LONG_AFTER_COMMIT if long_run(config) else SHORT_AFTER_COMMIT
        metafunc.parametrize("after_commit_case", cases,
                             ids=[f"{n}@wrote+{d:.2f}" for n, d in cases])
    if "kill_point" in metafunc.fixturenames:
        points = LONG_POINTS if long_run(config) else SHORT_KILL_POINTS
        metafunc.parametrize("kill_point", points)
