"""The calling contract every activation shares: dtypes, out=, bad input, shapes, no warnings."""

import numpy as np
import pytest

import actlib
from actlib.accuracy import full_range_grid

from .conftest import ALL, FLOATS


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_dtypes_are_kept(activation, dtype):
    x = np.linspace(-4, 4, 9).astype(dtype)
    assert activation(x).dtype == dtype
    if activation.info.properties.elementwise:
        assert activation.derivative(x).dtype == dtype


@pytest.mark.parametrize("values", [np.arange(-3, 4), np.array([True, False]), np.arange(5, dtype=np.uint8)])
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


INVALID_CASES = [(name, case) for name in ALL for case in actlib.ACTIVATIONS[name].info.invalid]


def invalid_id(item):
    name, case = item
    return name + "".join(f"-{k}={v!r}" for k, v in case.params.items())


@pytest.mark.parametrize("item", INVALID_CASES, ids=invalid_id)
def test_invalid_parameter_raises_naming_it(item):
    name, case = item
    with pytest.raises(case.error, match=rf"^{name}: .*{case.message}"):
        actlib.ACTIVATIONS[name](np.array([1.0, -1.0]), **case.params)


@pytest.mark.parametrize("name", ALL)
def test_every_numeric_or_string_parameter_has_an_invalid_case(name):
    """A parameter whose default is a number or a string can be given a bad one; each has a declared case
    (booleans, generators and arrays given as None are checked by type where they are used)."""
    info = actlib.ACTIVATIONS[name].info
    covered = {p for case in info.invalid for p in case.params}
    checkable = {
        p for p, default in info.parameters.items()
        if isinstance(default, (int, float, str)) and not isinstance(default, bool)
    }
    assert checkable <= covered, f"{name}: parameters without a bad-input case: {sorted(checkable - covered)}"


def test_unknown_keyword_is_a_type_error_naming_the_function():
    with pytest.raises(TypeError, match=r"^relu: .*negative_slope"):
        actlib.relu(np.array([1.0]), negative_slope=0.1)


@pytest.mark.parametrize(
    ("out", "fragment"),
    [
        (np.zeros(3), "out has shape"),
        (np.zeros((2, 2), dtype=np.float32), "out has dtype"),
        ([0.0, 0.0, 0.0, 0.0], "out must be a numpy.ndarray"),
    ],
)
def test_wrong_out_raises_before_writing(activation, out, fragment):
    x = np.array([[-1.0, 2.0], [0.5, -3.0]])
    before = np.array(out, copy=True)
    with pytest.raises((ValueError, TypeError), match=rf"^{activation.__name__}: {fragment}"):
        activation(x, out=out)
    np.testing.assert_array_equal(np.asarray(out), before)


def test_read_only_out_is_refused(activation):
    out = np.zeros(2)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        activation(np.array([1.0, -1.0]), out=out)


@pytest.mark.parametrize("dtype", FLOATS)
def test_out_receives_the_result_and_is_returned(activation, dtype):
    x = np.linspace(-3, 3, 7).astype(dtype)
    out = np.full_like(x, 99)
    result = activation(x, out=out)
    assert result is out
    np.testing.assert_array_equal(out, activation(x))


def test_out_may_be_the_input_the_in_place_form(activation):
    x = np.linspace(-3, 3, 7)
    expected = activation(x)
    result = activation(x, out=x)
    assert result is x
    np.testing.assert_array_equal(x, expected)


def test_input_is_never_modified(activation):
    x = np.linspace(-5, 5, 11)
    copy = x.copy()
    activation(x)
    if activation.info.properties.elementwise:
        activation.derivative(x)
    np.testing.assert_array_equal(x, copy)


def test_zero_dimensional_input_gives_a_scalar(activation):
    y = activation(np.float64(0.5))
    assert np.ndim(y) == 0
    assert isinstance(y, np.float64)


def test_empty_input_gives_empty_output(activation):
    for shape in [(0,), (3, 0)]:
        y = activation(np.zeros(shape, dtype=np.float32))
        assert y.shape == shape and y.dtype == np.float32


def test_non_contiguous_input(activation):
    base = np.linspace(-4, 4, 24).reshape(4, 6)
    view = base[::2, ::-2]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(activation(view), activation(np.ascontiguousarray(view)))




@pytest.mark.parametrize("dtype", FLOATS)
def test_no_warning_and_no_nan_for_any_finite_input(activation, dtype):
    """From the smallest subnormal to the largest finite value, both signs: no warning, finite output."""
    x = full_range_grid(dtype)
    with np.errstate(all="raise", under="ignore"):
        if activation.info.properties.elementwise:
            y = activation(x)
            d = activation.derivative(x)
            assert np.all(np.isfinite(d)), x[~np.isfinite(d)][:5]
        else:
            y = activation(np.stack([x, np.zeros_like(x)], axis=-1))
    finite = np.isfinite(y)
    slope_at_infinity = (activation.info.expected.derivative_at_infinities or (0.0, 0.0, 0.0))[1]
    if slope_at_infinity > 1:
        # (selu) beyond max/slope the exact value is not representable and inf is its correctly rounded value
        finite = finite | (np.abs(x) > np.finfo(dtype).max / slope_at_infinity)
    assert np.all(finite), x[~finite.reshape(x.shape[0], -1).all(axis=-1)][:5]


def test_a_narrow_kernel_serves_float16_and_float32_but_not_float64(monkeypatch):
    monkeypatch.setattr(actlib.sigmoid, "narrow_kernel", lambda x: np.full_like(x, 7.0))
    x = np.linspace(-1.0, 1.0, 5)
    for dtype in (np.float16, np.float32):
        y = actlib.sigmoid(x.astype(dtype))
        assert y.dtype == dtype and np.all(y == 7)
    assert not np.any(actlib.sigmoid(x) == 7)
    assert not np.any(actlib.sigmoid.derivative(x.astype(np.float32)) == 7)  # values only
