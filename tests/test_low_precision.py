"""bfloat16 and float8 inputs: kept as the output dtype, computed in float64 and rounded once.

The expected value is the float64 result rounded by ``actlib.low_precision.round_exactly``, which compares
with the format's midpoints and never calls ml_dtypes' cast, so the test also checks that cast.
"""

import itertools

import ml_dtypes
import mpmath
import numpy as np
import pytest

import actlib
from actlib.low_precision import (
    BFLOAT16,
    FLOAT64,
    audit_rounding,
    double_rounding_count,
    finite_values,
    relu_network_step,
    round_exactly,
    round_to_bfloat16,
    ulp_distance,
)
from actlib.nn import MLP

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


def test_ulp_distance_counts_values_of_the_format_between_two_results():
    values = finite_values(ml_dtypes.float8_e5m2)
    a, b = values[10:20], values[13:23]
    np.testing.assert_array_equal(ulp_distance(a, b), np.full(10, 3.0))
    zeros = np.array([0.0, -0.0], dtype=np.float16)
    np.testing.assert_array_equal(ulp_distance(zeros, zeros[::-1]), [0.0, 0.0])
    special = np.array([np.nan, np.inf, np.inf, 1.0], dtype=ml_dtypes.bfloat16)
    other = np.array([np.nan, np.inf, -np.inf, np.nan], dtype=ml_dtypes.bfloat16)
    np.testing.assert_array_equal(ulp_distance(special, other), [0.0, 0.0, np.inf, np.inf])


def test_ulp_distance_names_the_formats_it_accepts():
    with pytest.raises(TypeError, match=r"^ulp_distance: need two arrays of one of float16, bfloat16"):
        ulp_distance(np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match=r"^ulp_distance: .*float16 and bfloat16"):
        ulp_distance(np.zeros(2, np.float16), np.zeros(2, ml_dtypes.bfloat16))


def test_round_to_bfloat16_equals_the_ml_dtypes_cast_bit_for_bit():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, size=200_000, dtype=np.uint64).astype(np.uint32)
    ties = np.arange(2**16, dtype=np.uint32) << np.uint32(16) | np.uint32(0x8000)  # every tie, both parities
    values = np.concatenate([bits, ties]).view(np.float32)
    values = values[~np.isnan(values)]
    with np.errstate(over="ignore"):
        expected = values.astype(ml_dtypes.bfloat16).astype(np.float32)
    np.testing.assert_array_equal(round_to_bfloat16(values).view(np.uint32), expected.view(np.uint32))
    assert np.isnan(round_to_bfloat16(np.array([np.nan], np.float32))[0])
    with pytest.raises(TypeError, match=r"^round_to_bfloat16: values must be float32, got float64"):
        round_to_bfloat16(np.zeros(2))


def _small_network(arithmetic, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [5, 7, 6, 3]
    weights = [arithmetic.round(rng.normal(0, 0.7, (a, b)).astype(arithmetic.dtype))
               for a, b in itertools.pairwise(sizes)]
    biases = [arithmetic.round(rng.normal(0, 0.1, b).astype(arithmetic.dtype)) for b in sizes[1:]]
    x = rng.normal(size=(11, 5))
    labels = rng.integers(0, 3, size=11)
    return weights, biases, x, labels


def test_relu_network_step_in_float64_is_the_training_kits_backward_pass():
    weights, biases, x, labels = _small_network(FLOAT64)
    model = MLP([5, 7, 6, 3], "relu")
    model.weights = [w.copy() for w in weights]
    model.biases = [b.copy() for b in biases]
    loss, grads = model.loss_and_grads(x, labels)
    step = relu_network_step(weights, biases, x, labels, arithmetic=FLOAT64)
    assert step.loss == pytest.approx(loss, rel=1e-15)
    for ours, theirs in zip(step.grads, grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    for ours, theirs in zip(step.pre_activations, model.pre_activations, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_relu_network_step_uses_the_given_derivative_at_an_exact_zero():
    weights = [np.array([[1.0, -1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])]
    biases = [np.array([0.0, 0.0]), np.array([0.0, 0.0])]
    x, labels = np.array([[0.0]]), np.array([0])  # both hidden pre-activations are exactly 0
    bias_grads = {d: relu_network_step(weights, biases, x, labels, arithmetic=FLOAT64,
                                       relu_derivative_at_zero=d).grads[1] for d in (0.0, 0.5, 1.0)}
    np.testing.assert_array_equal(bias_grads[0.0], [0.0, 0.0])
    np.testing.assert_array_equal(bias_grads[1.0], [-0.5, 0.5])  # softmax([0, 0]) - one_hot(0)
    np.testing.assert_array_equal(bias_grads[0.5], 0.5 * bias_grads[1.0])


def test_relu_network_step_in_bfloat16_holds_bfloat16_values_only():
    weights, biases, x, labels = _small_network(BFLOAT16)
    step = relu_network_step(weights, biases, x, labels, arithmetic=BFLOAT16, relu_derivative_at_zero=0.5)
    for array in [*step.grads, *step.pre_activations]:
        assert array.dtype == np.float32
        np.testing.assert_array_equal(array, array.astype(ml_dtypes.bfloat16).astype(np.float32))


def test_audit_rounding_finds_a_real_double_rounding_of_tanhshrink_in_e4m3fn():
    """18 - tanh(18) = 17 + 2e-16...: just above the midpoint 17 between 16 and 18, so the exact value rounds
    to 18; float64 returns 17.0, and the cast rounds that tie to the even 16."""
    audit = audit_rounding(actlib.tanhshrink, ml_dtypes.float8_e4m3fn)
    assert 18.0 in audit.wrong_at and audit.wrong == len(audit.wrong_at) > 0
    with mpmath.workdps(60):
        exact = mpmath.mpf(18) - mpmath.tanh(18)
    assert 0 < exact - 17 < 1e-15
    assert float(actlib.tanhshrink(np.array([18.0], ml_dtypes.float8_e4m3fn))[0]) == 16.0
    assert audit_rounding(actlib.sigmoid, ml_dtypes.float8_e4m3fn).wrong == 0


def test_float16_is_indexed_too_and_other_dtypes_are_named_in_the_error():
    values = finite_values(np.float16)
    assert values.dtype == np.float16 and values.size == 63487 and float(values[-1]) == 65504.0
    np.testing.assert_array_equal(round_exactly(np.array([1 + 2**-11 + 2**-30]), np.float16), [1 + 2**-10])
    with pytest.raises(TypeError, match=r"^low_precision: dtype float32 is not one of float16, bfloat16"):
        finite_values(np.float32)
