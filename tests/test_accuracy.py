"""Accuracy against mpmath over the whole finite range: value within 2 ULP, derivative within 4 ULP.

The grid (``actlib.accuracy.full_range_grid``) spans the smallest subnormal to the largest finite value
of each dtype, both signs, with a dense grid near 0 and every kink and switch point with its neighbouring
floats. Tolerances are in ULPs of the correctly rounded result: 0.5 would be correct rounding.
"""

import numpy as np
import pytest

import actlib
from actlib.accuracy import REFERENCE_CACHE_VARIABLE, full_range_grid, measure, measure_jacobian, ulp_error

VALUE_ULPS = 2.0
DERIVATIVE_ULPS = 4.0
JACOBIAN_ULPS = 4.0

#: the defaults of every function, then every parameter case its entry declares
CASES = [(name, params) for name, fn in actlib.ACTIVATIONS.items() for params in ({}, *fn.info.parameter_cases)]


def case_id(case):
    name, params = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_full_range_accuracy_in_ulps(case, dtype, record_property):
    name, params = case
    with np.errstate(over="ignore"):  # where the exact value overflows (a slope of 10): test_parameter_cases.py
        report = measure(actlib.ACTIVATIONS[name], dtype, params=params)
    record_property("report", report.row())  # the figures, for a table (pytest --junitxml)
    assert report.value_max_ulp <= VALUE_ULPS, report
    if report.derivative_max_ulp is not None:
        assert report.derivative_max_ulp <= DERIVATIVE_ULPS, report


def mixed_rows(dtype, count=200, seed=0):
    """Rows of 3 to 5 entries of both signs and magnitudes from 1e-8 to 1e3 (one row in ten up to the largest
    float), a quarter of them with a tied maximum."""
    rng = np.random.default_rng(seed)
    top = np.log10(float(np.finfo(dtype).max))
    rows = []
    for k in range(count):
        n = 3 + k % 3
        row = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-8, top if k % 10 == 0 else 3, n)
        if k % 4 == 0:
            row[rng.integers(n)] = row.max()
        rows.append(row.astype(dtype))
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_jacobian_and_one_hot_vjp_over_the_full_range_of_pairs(name, dtype, record_property):
    pairs = [[x, 0.0] for x in full_range_grid(dtype)]
    report = measure_jacobian(actlib.ACTIVATIONS[name], dtype, pairs)
    record_property("report", report.__dict__)
    assert report.jacobian_max_ulp <= JACOBIAN_ULPS and report.vjp_max_ulp <= JACOBIAN_ULPS, report


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_jacobian_and_one_hot_vjp_of_longer_rows(name, dtype, record_property):
    report = measure_jacobian(actlib.ACTIVATIONS[name], dtype, mixed_rows(np.dtype(dtype)))
    record_property("report", report.__dict__)
    assert report.jacobian_max_ulp <= JACOBIAN_ULPS and report.vjp_max_ulp <= JACOBIAN_ULPS, report


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_jacobian_where_the_dominant_probability_rounds_to_one(name, dtype):
    """``1 - y`` of the dominant entry is 0 in floating point from x = -37 (float64: the issue's -86.7388 and
    beyond); the Jacobian keeps it, and the one-hot vjp gives the same row."""
    rows = [[-86.7388, 0.0], [-40.0, 0.0], [0.0, -700.0, -745.0], [3.0, -60.0, 2.5, -1e4]]
    report = measure_jacobian(actlib.ACTIVATIONS[name], dtype, rows)
    assert report.jacobian_max_ulp <= JACOBIAN_ULPS and report.vjp_max_ulp <= JACOBIAN_ULPS, report
    jacobian = actlib.ACTIVATIONS[name].jacobian(np.array([-86.7388, 0.0], dtype))
    assert jacobian[1, 1] > 0 and jacobian[0, 0] > 0


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


def test_ulp_error_below_the_normal_range_counts_in_subnormal_steps():
    import mpmath

    tiny = float(np.finfo(np.float64).smallest_subnormal)
    with mpmath.workdps(60):
        exact = mpmath.mpf(tiny) * mpmath.mpf("7.25")
    assert ulp_error(7 * tiny, exact, np.float64) == 0.25
    assert ulp_error(0.0, exact, np.float64) == 7.25
    assert ulp_error(np.float32(0), mpmath.mpf("1e-300"), np.float32) < 1e-200


def test_a_subnormal_reference_stops_at_the_second_precision():
    """Two precisions that agree on a subnormal result end the ladder: the tolerance, 2**-20 of the smallest
    subnormal, must not underflow to 0 and send the reference on to thousands of digits."""
    import mpmath

    from actlib.accuracy import reference

    precisions = []

    def exp(a):
        precisions.append(mpmath.mp.dps)
        return mpmath.exp(a)

    value = reference(exp, -740.0, np.float64)
    assert 0 < float(value) < float(np.finfo(np.float64).tiny)  # a subnormal result
    assert len(precisions) == 2, precisions
    with mpmath.workdps(100):
        assert abs(value / mpmath.exp(mpmath.mpf(-740.0)) - 1) < mpmath.mpf("1e-40")


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


def test_stored_references_give_the_report_computed_afresh(tmp_path, monkeypatch):
    """The references kept on disk between runs (ACTLIB_REFERENCE_CACHE) change no figure of a report."""
    grid = full_range_grid(np.float64)[::50]
    monkeypatch.delenv(REFERENCE_CACHE_VARIABLE, raising=False)
    afresh = measure(actlib.softplus, np.float64, grid=grid, params={"beta": 2.0})
    monkeypatch.setenv(REFERENCE_CACHE_VARIABLE, str(tmp_path))
    stored = measure(actlib.softplus, np.float64, grid=grid, params={"beta": 2.0})
    assert len(list(tmp_path.iterdir())) == 2  # the value's references and the derivative's
    read_back = measure(actlib.softplus, np.float64, grid=grid, params={"beta": 2.0})
    assert afresh == stored == read_back
    other_grid = measure(actlib.softplus, np.float64, grid=grid[1:], params={"beta": 2.0})
    assert other_grid.points == afresh.points - 1 and len(list(tmp_path.iterdir())) == 4
