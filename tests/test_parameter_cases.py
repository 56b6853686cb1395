"""Every declared parameter case (``f.info.parameter_cases``), not only the defaults: no warning and no NaN
over the whole finite range in every dtype, with +-inf and NaN.

An overflow warning is allowed only where the exact result overflows (``leaky_relu(-1e308,
negative_slope=10)``), which mpmath confirms point by point. The accuracy of the same cases in ULPs is
measured by the slow sweep in test_accuracy.py; their chunked evaluation by test_chunking.py.
"""

import functools

import numpy as np
import pytest

import actlib
from actlib.accuracy import full_range_grid, reference, ulp_error

from .conftest import ELEMENTWISE, FLOATS

#: parameters that are not numbers to sweep: the random draw of rrelu in training and its inputs
NOT_SWEPT = {"training", "rng", "slopes"}

CASES = [(name, params) for name in ELEMENTWISE
         for params in ({}, *actlib.ACTIVATIONS[name].info.parameter_cases)]


def case_id(case):
    name, params = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


@functools.cache
def _inputs(dtype):
    with np.errstate(over="ignore"):
        return np.concatenate([full_range_grid(dtype), [np.inf, -np.inf, np.nan]]).astype(dtype)


def _mp_function(fn, params, which):
    from actlib.accuracy import _mp_callables

    value, derivative = _mp_callables(fn.__name__, tuple(sorted(params.items())))
    return value if which == "value" else derivative


@pytest.mark.parametrize("which", ["value", "derivative"])
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_no_warning_and_no_nan_for_every_parameter_case(case, dtype, which):
    name, params = case
    fn = actlib.ACTIVATIONS[name]
    f = fn if which == "value" else fn.derivative
    x = _inputs(np.dtype(dtype))
    with np.errstate(over="ignore"):
        y = f(x, **params)
    assert y.dtype == x.dtype
    assert not np.any(np.isnan(y) & ~np.isnan(x)), x[np.isnan(y) & ~np.isnan(x)]
    overflowed = np.isinf(y) & np.isfinite(x)
    with np.errstate(all="raise", under="ignore"):
        f(x[~overflowed], **params)
    # where the result overflowed (and may have warned), the exact value is beyond the dtype's range
    if np.any(overflowed):
        exact = _mp_function(fn, params, which)
        for point, got in zip(x[overflowed], y[overflowed], strict=True):
            assert ulp_error(got, reference(exact, float(point), dtype), dtype) == 0, point


def test_every_numeric_parameter_is_varied_by_a_declared_case():
    for name, fn in actlib.ACTIVATIONS.items():
        swept = set(fn.info.parameters) - NOT_SWEPT - {"axis"}
        varied = {k for case in fn.info.parameter_cases for k, v in case.items() if v != fn.info.parameters[k]}
        assert swept <= varied, (name, swept - varied)


def test_a_bad_declared_case_fails_where_the_function_is_defined():
    from actlib import BookPlace, Properties, SpecialValues, activation, positive

    properties = Properties(range="R", monotonic=True, smoothness="inf", zero_centred=True, bounded_below=False,
                            bounded_above=False, self_gated=False)
    with pytest.raises(ValueError, match=r"^scaled: factor must be a finite real number > 0, got -1.0"):

        @activation(properties, book=BookPlace("variants", 0), stable_form="", expected=SpecialValues(),
                    checks={"factor": positive}, register=False, parameter_cases=({"factor": -1.0},))
        def scaled(x, *, factor=1.0):
            return factor * x


def test_named_examples_of_the_issue():
    """celu divided before it clipped (overflow warning); swish(beta=0.3) gave NaN at -max on large arrays."""
    with np.errstate(all="raise", under="ignore"):
        assert actlib.celu(-1.7976931348623157e308, alpha=0.5) == -0.5
        large = np.full(100_000, -1.7976931348623157e308)
        assert np.all(actlib.swish(large, beta=0.3) == 0)
        assert np.all(actlib.swish(large[:10], beta=0.3) == 0)
        assert np.all(actlib.leaky_relu(np.array([-np.inf, -1.0]), negative_slope=0.0) == 0)
