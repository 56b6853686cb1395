"""softmax and log_softmax: axes, batches, vjp against the Jacobian, Jacobian against differences."""

import numpy as np
import pytest

from actlib import log_softmax, softmax


@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_axis_selects_the_normalised_axis(fn):
    x = np.random.default_rng(0).normal(size=(3, 4, 5))
    for axis in range(-3, 3):
        moved = np.moveaxis(fn(np.moveaxis(x, axis, -1)), -1, axis)
        np.testing.assert_allclose(fn(x, axis=axis), moved, rtol=1e-15)


def test_batch_rows_are_independent():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 1001.0, 1002.0]])
    y = softmax(x)
    np.testing.assert_allclose(y[0], y[1], rtol=1e-14)


@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_jacobian_matches_central_differences(fn):
    x = np.array([0.3, -1.2, 2.0, 0.0])
    h = 1e-6
    numeric = np.column_stack([(fn(x + h * e) - fn(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    np.testing.assert_allclose(fn.jacobian(x), numeric, atol=1e-9)


@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_vjp_is_the_transposed_jacobian_times_grad(fn):
    rng = np.random.default_rng(1)
    x, g = rng.normal(size=5), rng.normal(size=5)
    np.testing.assert_allclose(fn.vjp(x, g), fn.jacobian(x).T @ g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_vjp_along_an_axis(fn):
    rng = np.random.default_rng(2)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    by_column = np.column_stack([fn.vjp(x[:, j], g[:, j]) for j in range(3)])
    np.testing.assert_allclose(fn.vjp(x, g, axis=0), by_column, rtol=1e-13)


def test_vjp_and_jacobian_errors_name_the_function():
    with pytest.raises(ValueError, match=r"^softmax.vjp: grad has shape"):
        softmax.vjp(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"^log_softmax.jacobian: x must be 1-D"):
        log_softmax.jacobian(np.zeros((2, 2)))


def test_log_softmax_of_the_largest_entry_keeps_tiny_mass():
    # log(1 + 1e-20) is -1e-20, not 0: the normaliser goes through log1p
    assert log_softmax(np.array([0.0, -46.0]))[0] == pytest.approx(-np.exp(-46.0), rel=1e-15)


def test_naive_softmax_overflows_where_this_does_not():
    x = np.array([1000.0, 0.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(x) / np.exp(x).sum()
    assert np.isnan(naive[0])
    np.testing.assert_array_equal(softmax(x), [1.0, np.exp(-1000.0)])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_one_hot_vjp_is_the_jacobian_row(fn, dtype):
    """Both are rounded once from extended precision, so they agree as numbers (only the sign of a zero, where
    the exact entry is below the smallest subnormal, may differ); near saturation too."""
    rng = np.random.default_rng(4)
    rows = [rng.normal(size=n) * 10.0 ** rng.uniform(-3, 3) for n in (2, 3, 4, 5, 8) for _ in range(10)]
    rows += [np.array([-86.7388, 0.0]), np.array([0.0, -40.0, -39.0]), np.array([6e4, -6e4, 7.0, 6e4])]
    for row in rows:
        row = row.astype(dtype)
        one_hot = np.eye(row.size, dtype=dtype)
        pulled = np.array([fn.vjp(row, one_hot[k]) for k in range(row.size)])
        np.testing.assert_array_equal(pulled, fn.jacobian(row), err_msg=str(row))


def test_softmax_of_an_underflowing_entry_is_plus_zero():
    # exp(x - max) = 0 times 1 + (rounding error of x - max) was -0.0 when that error is below -1
    y = softmax(np.array([1.63033991e196, -4.72865153e219, 1.78938954e256, -1.39698620e81]))
    assert not np.any(np.signbit(y))


def test_one_shift_for_both_gives_the_bits_of_the_two_functions():
    """``log_softmax_and_softmax`` (the training loss's shortcut) returns what the two public functions return."""
    from actlib.softmax import log_softmax_and_softmax

    rng = np.random.default_rng(7)
    rows = rng.normal(0.0, 1.0, (300, 10)) * 10.0 ** rng.uniform(-8, 3, (300, 1))
    rows[0] = [1e308, -1e308, 0.0, 5.0, 5.0, -np.inf, 1.0, 2.0, 3.0, 4.0]
    rows[1, 3], rows[2, :] = np.nan, -np.inf
    rows[3, 4] = np.inf
    rows[4] = rows[4].max()  # every entry a tied maximum
    with np.errstate(invalid="ignore", over="ignore"):
        log_probabilities, probabilities = log_softmax_and_softmax(rows)
    np.testing.assert_array_equal(log_probabilities.view(np.uint64), log_softmax(rows, axis=-1).view(np.uint64))
    np.testing.assert_array_equal(probabilities.view(np.uint64), softmax(rows, axis=-1).view(np.uint64))
    for dtype in (np.float32, np.float16):  # the narrow kernels: handed to the public functions
        narrow = rows[5:].astype(dtype)
        pair = log_softmax_and_softmax(narrow)
        np.testing.assert_array_equal(pair[0], log_softmax(narrow))
        np.testing.assert_array_equal(pair[1], softmax(narrow))
