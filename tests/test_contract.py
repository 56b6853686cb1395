"""The calling contract every activation shares: dtypes, out=, bad input, shapes, no warnings."""

import numpy as np
import pytest

import actlib
from actlib.accuracy import full_range_grid, measure

from .conftest import ALL, FLOATS

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




def assert_infinite_only_where_the_exact_value_overflows(activation, xs, dtype, derivative=False):
    """At inputs where actlib returned an infinity, mpmath says the exact result overflows too: the infinity
    is then the correctly rounded value (0 ULP), and anything else is a spurious overflow."""
    if xs.size == 0:
        return
    report = measure(activation, dtype, grid=xs, derivative=derivative)
    worst = report.derivative_max_ulp if derivative else report.value_max_ulp
    assert worst == 0.0, f"{activation.__name__}: an infinity where the exact value is finite, near {xs[:5]}"


@pytest.mark.parametrize("dtype", FLOATS)
def test_no_warning_and_no_nan_for_any_finite_input(activation, dtype):
    """From the smallest subnormal to the largest finite value, both signs: no warning, no NaN, and an
    infinity only where the exact result exceeds the largest float (squared_relu's x**2, selu beyond max/scale)."""
    x = full_range_grid(dtype)
    with np.errstate(all="raise", under="ignore"):
        if activation.info.properties.elementwise:
            y = activation(x)
            d = activation.derivative(x)
            assert not np.any(np.isnan(d)), x[np.isnan(d)][:5]
            assert_infinite_only_where_the_exact_value_overflows(activation, x[np.isinf(d)], dtype, derivative=True)
        else:
            y = activation(np.stack([x, np.zeros_like(x)], axis=-1))
            if activation.__name__ in HALVING:  # also the diagonal [x, x], where x * gate(x) can overflow
                diagonal = activation(np.stack([x, x], axis=-1))[:, 0]
                assert not np.any(np.isnan(diagonal)), x[np.isnan(diagonal)][:5]
                assert_infinite_only_where_the_exact_value_overflows(activation, x[np.isinf(diagonal)], dtype)
    assert not np.any(np.isnan(y)), x[np.isnan(y).reshape(x.shape[0], -1).any(axis=-1)][:5]
    rows = np.isinf(y).reshape(x.shape[0], -1).any(axis=-1)
    if activation.info.properties.elementwise:
        assert_infinite_only_where_the_exact_value_overflows(activation, x[rows], dtype)
    else:
        assert not np.any(rows), x[rows][:5]


def test_a_narrow_kernel_serves_float16_and_float32_but_not_float64(monkeypatch):
    monkeypatch.setattr(actlib.sigmoid, "narrow_kernel", lambda x: np.full_like(x, 7.0))
    x = np.linspace(-1.0, 1.0, 5)
    for dtype in (np.float16, np.float32):
        y = actlib.sigmoid(x.astype(dtype))
        assert y.dtype == dtype and np.all(y == 7)
    assert not np.any(actlib.sigmoid(x) == 7)
    assert not np.any(actlib.sigmoid.derivative(x.astype(np.float32)) == 7)  # values only


def test_a_narrow_derivative_kernel_serves_float16_and_float32_derivatives_only(monkeypatch):
    monkeypatch.setattr(actlib.gelu, "narrow_derivative_kernel", lambda x, approximate: np.full_like(x, 7.0))
    x = np.linspace(-1.0, 1.0, 5)
    for dtype in (np.float16, np.float32):
        y = actlib.gelu.derivative(x.astype(dtype))
        assert y.dtype == dtype and np.all(y == 7)
    assert not np.any(actlib.gelu.derivative(x) == 7)
    assert not np.any(actlib.gelu(x.astype(np.float32)) == 7)


@pytest.mark.parametrize("name", ALL)
def test_keyword_calls_bind_as_the_signature_does(name):
    """The fast binding of keyword-only calls gives Signature.bind's parameters, in its order, for every case."""
    import inspect

    fn = actlib.ACTIVATIONS[name]
    signature = inspect.signature(fn.__wrapped__)
    for case in ({}, *fn.info.parameter_cases):
        expected = signature.bind(0.0, **case)
        expected.apply_defaults()
        expected = {key: value for key, value in expected.arguments.items() if key not in ("x", "out")}
        assert list(fn._bind(0.0, (), dict(case))[1].items()) == list(expected.items()), case
    with pytest.raises(TypeError, match=name):
        fn(1.0, no_such_parameter=1.0)
