"""A distribution's mean and stddev are in the column's own units, for every numeric type."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from datastorm_core.genfile import loads_genfile
from datastorm_core.run import preview

ROWS = 60_000


def values(kind: str, params: str) -> np.ndarray:
    extra = "scale = 2\n" if kind == "decimal" else ""
    genfile = loads_genfile(f"[t]\nrecords = {ROWS}\n[t.x]\ntype = \"{kind}\"\n{extra}{params}")
    chunk = preview(genfile, "t", ROWS)
    raw = np.asarray(chunk.columns["x"].values, dtype=np.float64)
    return raw / 100 if kind == "decimal" else raw  # a decimal travels as cents


@pytest.mark.parametrize("kind", ["int", "float", "decimal"])
def test_normal_has_the_genfiles_mean_and_stddev(kind: str) -> None:
    drawn = values(kind, 'min = 0\nmax = 100000\ndistribution = "normal"\n'
                         "mean = 25000\nstddev = 4000\n")
    assert drawn.mean() == pytest.approx(25_000, rel=0.01)
    assert drawn.std() == pytest.approx(4_000, rel=0.03)


@pytest.mark.parametrize("kind", ["int", "float", "decimal"])
def test_exponential_has_the_genfiles_mean_distance_from_min(kind: str) -> None:
    drawn = values(kind, 'min = 1000\nmax = 1000000\ndistribution = "exponential"\n'
                         "mean = 6000\n")
    assert drawn.mean() - 1000 == pytest.approx(6_000, rel=0.02)
    assert drawn.std() == pytest.approx(6_000, rel=0.04)  # an exponential's stddev is its mean


@pytest.mark.parametrize("kind", ["int", "float", "decimal"])
def test_uniform_spreads_evenly_over_min_max(kind: str) -> None:
    drawn = values(kind, "min = -500\nmax = 1500\n")
    assert drawn.mean() == pytest.approx(500, abs=15)
    assert drawn.std() == pytest.approx(2000 / math.sqrt(12), rel=0.02)
    assert drawn.min() >= -500 and drawn.max() <= 1500


def test_a_small_decimal_normal_keeps_its_places() -> None:
    drawn = values("decimal", 'min = 0\nmax = 10\ndistribution = "normal"\nmean = 2.5\n'
                              "stddev = 0.5\n")
    assert drawn.mean() == pytest.approx(2.5, abs=0.02)
    assert drawn.std() == pytest.approx(0.5, rel=0.03)
    assert Decimal(str(drawn[0])).as_tuple().exponent >= -2


@pytest.mark.parametrize("distribution", ["uniform", "normal", "zipf", "exponential"])
def test_a_float_range_as_wide_as_floats_go_stays_finite_and_inside(distribution: str) -> None:
    """max - min overflows there (3.4e308 is beyond the largest float): before, every
    value came out inf or NaN."""
    drawn = values("float", f'min = -1.7e308\nmax = 1.7e308\ndistribution = "{distribution}"\n')
    assert np.isfinite(drawn).all()
    assert drawn.min() >= -1.7e308 and drawn.max() <= 1.7e308
    assert len(np.unique(drawn)) > ROWS // 2  # spread over the range, not piled on a bound
