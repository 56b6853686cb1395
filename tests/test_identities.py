"""Identities between activations, as hypothesis property tests over the finite float64 range."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import actlib

EPS = np.finfo(np.float64).eps
moderate = st.floats(-700, 700, allow_nan=False)
anything = st.floats(allow_nan=False, allow_infinity=False)
rows = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=st.floats(-1e300, 1e300))


def close(a, b, ulps):
    """|a - b| within ``ulps`` spacings of the larger magnitude (relative), or both tiny."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.spacing(np.maximum(np.abs(a), np.abs(b))), np.finfo(float).smallest_subnormal)
    return np.all(np.abs(a - b) <= ulps * scale)


@given(st.floats(-350, 350))
def test_tanh_is_a_rescaled_sigmoid(x):
    # 2 sigma(2x) - 1 cancels near 0, so the identity is checked in absolute terms there
    assert abs(actlib.tanh(x) - (2 * actlib.sigmoid(2 * x) - 1)) <= 4 * EPS


@given(moderate)
def test_silu_is_x_times_sigmoid(x):
    assert close(actlib.silu(x), x * actlib.sigmoid(x), 4)


@given(st.floats(-700, 700))
def test_softplus_derivative_is_sigmoid(x):
    assert close(actlib.softplus.derivative(x), actlib.sigmoid(x), 0)


@given(anything)
def test_leaky_relu_with_zero_slope_is_relu(x):
    assert actlib.leaky_relu(x, negative_slope=0.0) == actlib.relu(x)


@given(st.floats(-1e6, 1e6))
def test_hardswish_is_x_times_hardsigmoid(x):
    assert close(actlib.hardswish(x), x * actlib.hardsigmoid(x), 2)


@given(st.floats(-1e300, 1e300))
def test_selu_is_scale_times_elu_with_alpha(x):
    scale, alpha = float(actlib.SELU_SCALE), float(actlib.SELU_ALPHA)
    assert close(actlib.selu(x), scale * actlib.elu(x, alpha=alpha), 3)


@given(anything)
def test_logsigmoid_is_minus_softplus_of_minus_x(x):
    assert actlib.logsigmoid(x) == -actlib.softplus(-x)


@given(anything)
def test_swish_with_beta_one_is_silu(x):
    assert actlib.swish(x) == actlib.silu(x)


@given(rows)
def test_softmax_rows_sum_to_one(x):
    sums = actlib.softmax(x).sum(axis=-1)
    assert np.all(np.abs(sums - 1) <= x.shape[-1] * EPS)


@given(rows, st.floats(-1e3, 1e3))
def test_softmax_ignores_a_shift(x, shift):
    x = np.clip(x, -1e10, 1e10)
    np.testing.assert_allclose(actlib.softmax(x + shift), actlib.softmax(x), atol=1e-6)


@given(arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e4, 1e4)))
def test_log_softmax_is_log_of_softmax_without_overflow(x):
    y = actlib.log_softmax(x)
    p = actlib.softmax(x)
    assert np.all(np.isfinite(y))
    visible = p > 1e-300  # where the probability itself has not underflowed, the two agree
    np.testing.assert_allclose(y[visible], np.log(p[visible]), rtol=1e-13, atol=1e-15)


@given(anything)
def test_reglu_of_a_pair_of_equal_halves_is_squared_relu(x):
    assert actlib.reglu(np.array([x, x]))[0] == actlib.squared_relu(x)


@given(moderate)
def test_glu_of_equal_halves_is_silu_and_swiglu_with_a_unit_linear_half_too(x):
    assert close(actlib.glu(np.array([x, x]))[0], actlib.silu(x), 2)
    assert close(actlib.swiglu(np.array([1.0, x]))[0], actlib.silu(x), 2)


@given(st.floats(-1e6, 1e6))
def test_geglu_with_a_unit_linear_half_is_gelu(x):
    for form in ("none", "tanh", "sigmoid"):
        assert close(actlib.geglu(np.array([1.0, x]), approximate=form)[0], actlib.gelu(x, approximate=form), 2)


@given(st.floats(-1e300, 1e300))
def test_squareplus_of_x_minus_squareplus_of_minus_x_is_x(x):
    # (x + h)/2 - (-x + h)/2 = x exactly; each rounded value is within an ULP of squareplus(|x|), the larger
    larger = actlib.squareplus(abs(x))
    assert abs((actlib.squareplus(x) - actlib.squareplus(-x)) - x) <= 2 * np.spacing(larger)


@given(st.floats(-1e150, 1e150))
def test_squareplus_of_x_times_squareplus_of_minus_x_is_b_over_4(x):
    for b in (4.0, 0.5):
        assert close(actlib.squareplus(x, b=b) * actlib.squareplus(-x, b=b), b / 4, 3)


@given(st.floats(-1, 1))
def test_gelu_sigmoid_form_is_swish_with_beta_1702(x):
    # swish rounds 1.702 to a double, gelu carries its low half: they agree where e^(1.702 x) does not amplify
    # that difference (at x = -16 it is already 5 ULPs)
    assert close(actlib.gelu(x, approximate="sigmoid"), actlib.swish(x, beta=1.702), 2)
