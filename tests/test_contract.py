"""The calling contract every activation shares: dtypes, out=, bad input, shapes, no warnings."""

import numpy as np
import pytest

import actlib
from actlib.accuracy import full_range_grid

from .conftest import FLOATS

#: The GLU family halves an axis: its inputs below have an even length there, its ``out`` the halved shape.
HALVING = {name for name, fn in actlib.ACTIVATIONS.items() if fn.info.properties.family == "glu"}


def result_like(activation, x, dtype=None):
    """An array of the shape the result has (half of x's last axis for the GLU family)."""
    return np.zeros(np.shape(activation(x)), dtype=dtype if dtype is not None else np.asarray(x).dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_dtypes_are_kept(activation, dtype):
    x = np.linspace(-4, 4, 10).astype(dtype)
    assert activation(x).dtype == dtype
    if activation.info.properties.elementwise:
        assert activation.derivative(x).dtype == dtype


@pytest.mark.parametrize("values", [np.arange(-3, 5), np.array([True, False]), np.arange(6, dtype=np.uint8)])
def test_integer_and_bool_input_computes_in_float64(activation, values):
    y = activation(values)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, activation(values.astype(np.float64)))


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (np.array([1 + 2j]), "complex input is not supported"),
        (np.array([object()], dtype=object), "dtype object"),
        (np.array(["1.0"]), "input must be real numbers"),
        (np.array([1.0], dtype=np.longdouble), "use float16, float32 or float64"),
    ],
)
def test_unsupported_input_raises_type_error_naming_the_function(activation, bad, fragment):
    if bad.dtype == np.longdouble and np.dtype(np.longdouble) == np.dtype(np.float64):
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(TypeError, match=rf"^{activation.__name__}: .*{fragment}"):
        activation(bad)


INVALID_PARAMETERS = [
    ("leaky_relu", {"negative_slope": float("nan")}, "negative_slope must be a finite real number"),
    ("leaky_relu", {"negative_slope": "0.1"}, "negative_slope must be a finite real number"),
    ("prelu", {"weight": np.inf}, "weight must be finite"),
    ("rrelu", {"lower": 0.5, "upper": 0.1}, "0 <= lower <= upper"),
    ("rrelu", {"lower": -0.1}, "0 <= lower <= upper"),
    ("elu", {"alpha": np.nan}, "alpha must be a finite real number"),
    ("celu", {"alpha": 0.0}, r"alpha must be a finite real number > 0"),
    ("gelu", {"approximate": "erf"}, "approximate must be 'none' or 'tanh' or 'sigmoid'"),
    ("geglu", {"approximate": "quick"}, "approximate must be 'none' or 'tanh' or 'sigmoid'"),
    ("squareplus", {"b": 0.0}, r"b must be a finite real number > 0"),
    ("glu", {"axis": 2}, "axis 2 is out of range"),
    ("reglu", {"axis": 1.0}, "axis must be an integer"),
    ("geglu", {"axis": -2}, "axis -2 is out of range"),
    ("swiglu", {"axis": "last"}, "axis must be an integer"),
    ("swish", {"beta": np.inf}, "beta must be a finite real number"),
    ("hardtanh", {"min_val": 1.0, "max_val": -1.0}, "min_val must be less than max_val"),
    ("softplus", {"beta": 0.0}, r"beta must be a finite real number > 0"),
    ("softplus", {"threshold": np.nan}, "threshold must be a finite real number"),
    ("softshrink", {"lambd": -0.5}, r"lambd must be a finite real number >= 0"),
    ("hardshrink", {"lambd": -1.0}, r"lambd must be a finite real number >= 0"),
    ("threshold", {"threshold": np.nan, "value": 0.0}, "threshold must be a finite real number"),
    ("softmax", {"axis": 1.5}, "axis must be an integer"),
    ("log_softmax", {"axis": 3}, "axis 3 is out of range"),
]


@pytest.mark.parametrize(("name", "params", "fragment"), INVALID_PARAMETERS)
def test_invalid_parameter_raises_naming_it(name, params, fragment):
    fn = actlib.ACTIVATIONS[name]
    error = TypeError if "axis must be an integer" in fragment else ValueError
    with pytest.raises(error, match=rf"^{name}: .*{fragment}"):
        fn(np.array([1.0, -1.0]), **params)


def test_every_parameter_has_an_invalid_case():
    covered = {(name, p) for name, params, _ in INVALID_PARAMETERS for p in params}
    numeric = {
        (name, p)
        for name, fn in actlib.ACTIVATIONS.items()
        for p, default in fn.info.parameters.items()
        if p not in {"training", "rng", "slopes", "value"}
    }
    assert numeric <= covered, f"parameters without a bad-input test: {sorted(numeric - covered)}"


def test_unknown_keyword_is_a_type_error_naming_the_function():
    with pytest.raises(TypeError, match=r"^relu: .*negative_slope"):
        actlib.relu(np.array([1.0]), negative_slope=0.1)


@pytest.mark.parametrize(
    ("out", "fragment"),
    [
        (np.zeros(3), "out has shape"),
        ("result shape in float32", "out has dtype"),
        ([0.0, 0.0, 0.0, 0.0], "out must be a numpy.ndarray"),
    ],
)
def test_wrong_out_raises_before_writing(activation, out, fragment):
    x = np.array([[-1.0, 2.0], [0.5, -3.0]])
    if isinstance(out, str):
        out = result_like(activation, x, np.float32)
    before = np.array(out, copy=True)
    with pytest.raises((ValueError, TypeError), match=rf"^{activation.__name__}: {fragment}"):
        activation(x, out=out)
    np.testing.assert_array_equal(np.asarray(out), before)


def test_read_only_out_is_refused(activation):
    x = np.array([1.0, -1.0])
    out = result_like(activation, x)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        activation(x, out=out)


@pytest.mark.parametrize("dtype", FLOATS)
def test_out_receives_the_result_and_is_returned(activation, dtype):
    x = np.linspace(-3, 3, 8).astype(dtype)
    out = result_like(activation, x) + 99
    result = activation(x, out=out)
    assert result is out
    np.testing.assert_array_equal(out, activation(x))


def test_out_may_be_the_input_the_in_place_form(activation):
    if activation.__name__ in HALVING:
        pytest.skip("the result has half the input's length: it cannot be written in place")
    x = np.linspace(-3, 3, 7)
    expected = activation(x)
    result = activation(x, out=x)
    assert result is x
    np.testing.assert_array_equal(x, expected)


def test_input_is_never_modified(activation):
    x = np.linspace(-5, 5, 12)
    copy = x.copy()
    activation(x)
    if activation.info.properties.elementwise:
        activation.derivative(x)
    np.testing.assert_array_equal(x, copy)


def test_zero_dimensional_input_gives_a_scalar(activation):
    if activation.__name__ in HALVING:
        with pytest.raises(ValueError, match=rf"^{activation.__name__}: .*length along axis -1 is 1, which is odd"):
            activation(np.float64(0.5))
        return
    y = activation(np.float64(0.5))
    assert np.ndim(y) == 0
    assert isinstance(y, np.float64)


def test_empty_input_gives_empty_output(activation):
    for shape in [(0,), (3, 0)]:
        y = activation(np.zeros(shape, dtype=np.float32))
        assert y.shape == shape and y.dtype == np.float32


def test_non_contiguous_input(activation):
    base = np.linspace(-4, 4, 32).reshape(4, 8)
    view = base[::2, ::-2]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(activation(view), activation(np.ascontiguousarray(view)))


# Where the exact value exceeds the largest float, inf is its correctly rounded value: selu beyond max/scale,
# squared_relu beyond sqrt(max) (its derivative 2x beyond max/2). name -> (value limit, derivative limit).
_OVERFLOWING = {
    "selu": (lambda big: big / 1.0507009873554805, lambda big: np.inf),
    "squared_relu": (np.sqrt, lambda big: big / 2),
}


@pytest.mark.parametrize("dtype", FLOATS)
def test_no_warning_and_no_nan_for_any_finite_input(activation, dtype):
    """From the smallest subnormal to the largest finite value, both signs: no warning, finite output."""
    x = full_range_grid(dtype)
    big = float(np.finfo(dtype).max)
    value_limit, derivative_limit = (f(big) for f in _OVERFLOWING.get(activation.__name__, (lambda b: b,) * 2))
    with np.errstate(all="raise", under="ignore"):
        if activation.info.properties.elementwise:
            y = activation(x)
            d = activation.derivative(x)
            finite_d = np.isfinite(d) | (np.abs(x) > derivative_limit)
            assert np.all(finite_d), x[~finite_d][:5]
        else:
            y = activation(np.stack([x, np.zeros_like(x)], axis=-1))
            if activation.__name__ in HALVING:  # x * gate(x) exceeds the largest float only where x**2 does
                diagonal = activation(np.stack([x, x], axis=-1))[:, 0]
                finite_diagonal = np.isfinite(diagonal) | (np.abs(x) > np.sqrt(big))
                assert np.all(finite_diagonal), x[~finite_diagonal][:5]
    finite = np.isfinite(y) | (np.abs(x) > value_limit).reshape(x.shape[0], *([1] * (y.ndim - 1)))
    assert np.all(finite), x[~finite.reshape(x.shape[0], -1).all(axis=-1)][:5]


def test_a_narrow_kernel_serves_float16_and_float32_but_not_float64(monkeypatch):
    monkeypatch.setattr(actlib.sigmoid, "narrow_kernel", lambda x: np.full_like(x, 7.0))
    x = np.linspace(-1.0, 1.0, 5)
    for dtype in (np.float16, np.float32):
        y = actlib.sigmoid(x.astype(dtype))
        assert y.dtype == dtype and np.all(y == 7)
    assert not np.any(actlib.sigmoid(x) == 7)
    assert not np.any(actlib.sigmoid.derivative(x.astype(np.float32)) == 7)  # values only
