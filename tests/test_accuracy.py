"""Accuracy against mpmath over the whole finite range: value within 2 ULP, derivative within 4 ULP.

The grid (``actlib.accuracy.full_range_grid``) spans the smallest subnormal to the largest finite value
of each dtype, both signs, with a dense grid near 0 and every kink and switch point with its neighbouring
floats. Tolerances are in ULPs of the correctly rounded result: 0.5 would be correct rounding.
"""

import numpy as np
import pytest

import actlib
from actlib.accuracy import full_range_grid, measure, ulp_error

VALUE_ULPS = 2.0
DERIVATIVE_ULPS = 4.0

CASES = [(name, {}) for name in actlib.ACTIVATIONS] + [
    (name, {"approximate": form}) for name in ("gelu", "geglu") for form in ("tanh", "sigmoid")
]


def case_id(case):
    name, params = case
    return name + "".join(f"-{v}" for v in params.values())


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_full_range_accuracy_in_ulps(case, dtype):
    name, params = case
    report = measure(actlib.ACTIVATIONS[name], dtype, params=params)
    assert report.value_max_ulp <= VALUE_ULPS, report
    if report.derivative_max_ulp is not None:
        assert report.derivative_max_ulp <= DERIVATIVE_ULPS, report


def test_ulp_error_of_a_correctly_rounded_value_is_at_most_half():
    import mpmath

    with mpmath.workdps(50):
        exact = mpmath.mpf(1) / 3
    assert ulp_error(1 / 3, exact, np.float64) <= 0.5
    assert 0.5 < ulp_error(np.nextafter(1 / 3, 1), exact, np.float64) <= 1.5


def test_ulp_error_counts_overflow_to_inf_as_exact_and_spurious_inf_as_infinite():
    import mpmath

    assert ulp_error(np.inf, mpmath.mpf("1e400"), np.float64) == 0
    assert ulp_error(np.inf, mpmath.mpf("1e300"), np.float64) == np.inf


def test_grid_reaches_both_ends_of_the_range():
    grid = full_range_grid(np.float64, special_points=[6.0])
    assert np.finfo(np.float64).smallest_subnormal in grid and np.finfo(np.float64).max in grid
    assert np.nextafter(6.0, 7.0) in grid and -np.finfo(np.float64).max in grid


def test_measurement_catches_a_naive_formula():
    """The measurement is only worth having if it fails the textbook tail: 1 - sigmoid loses it all."""
    fn = actlib.sigmoid
    grid = np.array([30.0, 40.0])
    original = fn.derivative
    try:
        fn.derivative = lambda x: actlib.sigmoid(x) * (1 - actlib.sigmoid(x))
        assert measure(fn, np.float64, grid=grid).derivative_max_ulp > 1e6
    finally:
        fn.derivative = original
