"""bfloat16 and float8 inputs: kept as the output dtype, computed in float64 and rounded once.

The expected value is the float64 result rounded by ``actlib.low_precision.round_exactly``, which compares
with the format's midpoints and never calls ml_dtypes' cast, so the test also checks that cast.
"""

import ml_dtypes
import numpy as np
import pytest

import actlib
from actlib.low_precision import double_rounding_count, finite_values, round_exactly

from .conftest import VECTOR

FORMATS = [ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2]


def inputs(dtype):
    """Every finite float8 value; for bfloat16 every 211th finite value (about 310) and both ends."""
    values = finite_values(dtype)
    if np.dtype(dtype).itemsize == 2:
        values = np.concatenate([values[::211], values[-1:]])
    return values


def rows(fn, x):
    """What each function is evaluated on: x itself, or the rows the accuracy measurement uses (the GLU family's
    ``accuracy_input``, pairs (x, x)), else pairs (x, 0) (softmax)."""
    if fn.info.properties.elementwise:
        return x
    accuracy_input = getattr(fn, "accuracy_input", None)
    if accuracy_input is not None:
        return accuracy_input(x)
    return np.stack([x, np.zeros_like(x)], axis=-1)


def assert_same(got, expected, what):
    got64, expected64 = got.astype(np.float64), expected.astype(np.float64)
    same = (got64 == expected64) | (np.isnan(got64) & np.isnan(expected64))
    assert np.all(same), f"{what}: {got64[~same][:5]} instead of {expected64[~same][:5]}"


# bfloat16's sample is the heavy part of this sweep (about 300 values through every function): a slow test
SWEEP = [ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2, pytest.param(ml_dtypes.bfloat16, marks=pytest.mark.slow)]


@pytest.mark.parametrize("dtype", SWEEP, ids=lambda d: np.dtype(d).name)
def test_every_function_rounds_the_float64_result_once(activation, dtype):
    x = inputs(dtype)
    data = rows(activation, x)
    with np.errstate(all="raise", under="ignore", over="ignore", invalid="ignore"):
        got = activation(data)
        wide = activation(data.astype(np.float64))
    assert got.dtype == np.dtype(dtype)
    assert_same(got, round_exactly(wide, dtype), activation.__name__)
    if activation.info.properties.elementwise:
        with np.errstate(all="ignore"):
            derivative = activation.derivative(x)
            wide_derivative = activation.derivative(x.astype(np.float64))
        assert derivative.dtype == np.dtype(dtype)
        assert_same(derivative, round_exactly(wide_derivative, dtype), f"{activation.__name__}.derivative")


@pytest.mark.parametrize("dtype", FORMATS, ids=lambda d: np.dtype(d).name)
def test_out_and_zero_dimensional_inputs_keep_the_format(dtype):
    x = finite_values(dtype)[::7]
    out = np.zeros_like(x)
    assert actlib.gelu(x, out=out) is out
    assert_same(out, round_exactly(actlib.gelu(x.astype(np.float64)), dtype), "gelu out=")
    scalar = actlib.sigmoid(x[3])
    assert np.ndim(scalar) == 0 and scalar.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", FORMATS, ids=lambda d: np.dtype(d).name)
def test_ml_dtypes_casts_from_float64_with_one_rounding(dtype):
    wrong, tested = double_rounding_count(dtype)
    assert tested > 2000 and wrong == 0
    detour, _ = double_rounding_count(dtype, via_float32=True)
    assert detour > tested // 10, "the inputs near the midpoints are the ones a double rounding gets wrong"


def test_e4m3fn_overflows_to_nan_and_e5m2_to_inf_as_their_formats_define():
    big = np.array([500.0, 70000.0, -70000.0])
    np.testing.assert_array_equal(round_exactly(big, ml_dtypes.float8_e4m3fn).astype(np.float64)[:1], [np.nan])
    np.testing.assert_array_equal(round_exactly(big[1:], ml_dtypes.float8_e5m2).astype(np.float64), [np.inf, -np.inf])
    assert np.isnan(actlib.squared_relu(np.array([30.0], ml_dtypes.float8_e4m3fn)).astype(np.float64)[0])


def test_an_unsupported_dtype_still_names_the_supported_ones():
    for dtype in (ml_dtypes.float8_e4m3fnuz, ml_dtypes.int4):
        with pytest.raises(TypeError, match=rf"^relu: dtype {np.dtype(dtype).name} is not supported.*bfloat16"):
            actlib.relu(np.zeros(2, dtype=dtype))


@pytest.mark.parametrize("dtype", FORMATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", VECTOR)
def test_every_vjp_rounds_the_float64_gradient_once(name, dtype):
    """The vector functions (softmax, log_softmax, the GLU family) take a low-precision input and gradient,
    compute in float64 and round the gradient once, as the values and derivatives are."""
    activation = actlib.ACTIVATIONS[name]
    data = rows(activation, finite_values(dtype)[::9][:24])
    grad = np.ones(np.shape(activation(data)), dtype=dtype)
    with np.errstate(all="ignore"):
        got = activation.vjp(data, grad)
        wide = activation.vjp(data.astype(np.float64), grad.astype(np.float64))
    assert got.dtype == np.dtype(dtype)
    assert_same(got, round_exactly(wide, dtype), f"{name}.vjp")
