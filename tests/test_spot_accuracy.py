"""A quick accuracy check of every entry in the fast suite: the bounds of test_accuracy.py at a few dozen inputs.

The full-range sweep (marked slow) measures about 2000 inputs per function and dtype; this samples the
regions where kernels switch formula (tiny, near 1, the tails, every kink and switch point with its
neighbouring floats), so that a wrong constant or operator in a kernel fails ``make test-fast`` too.
"""

import numpy as np
import pytest

import actlib
from actlib.accuracy import measure

from .conftest import ALL

VALUE_ULPS = 2.0
DERIVATIVE_ULPS = 4.0
MAGNITUDES = (1e-30, 1e-9, 2.0**-11, 3e-4, 0.03, 0.3, 0.7, 1.3, 2.9, 6.5, 14.0, 37.0, 90.0, 700.0, 3e4, 1e30)


def spot_grid(fn, dtype):
    info = np.finfo(dtype)
    points = [*MAGNITUDES, info.tiny, float(info.max) / 7]
    for special in (*fn.info.properties.kinks, *fn.info.properties.switch_points):
        s = dtype(special)
        points += [float(s), float(np.nextafter(s, dtype(np.inf))), float(np.nextafter(s, dtype(-np.inf)))]
    grid = np.array([p for p in points if abs(p) <= info.max], dtype=dtype)
    return np.unique(np.concatenate([grid, -grid, np.zeros(1, dtype)]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL)
def test_value_and_derivative_within_bounds_at_spot_inputs(name, dtype):
    fn = actlib.ACTIVATIONS[name]
    report = measure(fn, dtype, grid=spot_grid(fn, dtype))
    assert report.value_max_ulp <= VALUE_ULPS, report
    if report.derivative_max_ulp is not None:
        assert report.derivative_max_ulp <= DERIVATIVE_ULPS, report
