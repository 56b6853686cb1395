r"""Softmax and log-softmax along an axis, with their vector-Jacobian products and Jacobians.

Both shift by the maximum, so no exponential overflows. Two further details keep every output within a
few ULPs: the shift ``x - max`` is carried with its rounding error (``exp`` would otherwise amplify it
by up to 700 in the smallest probabilities), and the normaliser is written ``1 + s`` where ``s`` sums
the terms other than the maximum's, so ``log(1 + s)`` becomes ``log1p(s)``. Without that, PyTorch's
``log_softmax`` of the largest entry is 0 instead of ``-s`` once ``s < 1e-16``.
"""

from __future__ import annotations

import numpy as np

from . import _stable
from ._core import (
    BookPlace,
    FrameworkName,
    InvalidCase,
    Properties,
    PytorchRecord,
    SpecialValues,
    activation,
    as_float_array,
)
from .evaluation import evaluate_with


def _axis_check(name, x, axis):
    """The range of ``axis`` for this input; its type was checked when the parameters were bound."""
    ndim = max(x.ndim, 1)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for an input with {ndim} dimension(s)")


def _validate_axis(name):
    def validate(params):
        if not isinstance(params["axis"], (int, np.integer)) or isinstance(params["axis"], bool):
            raise TypeError(f"{name}: axis must be an integer, got {params['axis']!r}")

    return validate


def _first_peaks(rows):
    """Flat indices into C-contiguous ``rows`` of each row's first maximal entry (NaN counts as the maximum, as in
    ``np.max``). Gathering and scattering through them touches the entries ``take_along_axis`` and
    ``put_along_axis`` would, at a fraction of their cost on the small batches of a training loop."""
    width = rows.shape[-1]
    flat = np.argmax(rows.reshape(-1, width), axis=-1)
    flat += np.arange(0, flat.size * width, width)
    return flat


def _at_peaks(rows, peaks):
    """The entries of ``rows`` at ``peaks`` (from :func:`_first_peaks`), one per row, as a trailing axis of length 1."""
    return rows.reshape(-1)[peaks].reshape(*rows.shape[:-1], 1)


def _shifted(rows, carry_error=True):
    """``(d, d_error, e, rest, peaks, invalid)`` along the last axis of C-contiguous ``rows``: ``x - max`` as value
    and rounding error, ``exp`` of it (with the error applied) and zero at one maximal entry per row, the sum
    ``rest`` of the other entries (so the normaliser is ``1 + rest``), the flat indices of those entries
    (:func:`_first_peaks`), and per row ``invalid``: +0, or NaN where the row's maximum is +-inf or NaN, which makes
    the whole row NaN as in PyTorch.

    ``carry_error=False`` (float16 and float32 inputs, which cannot see it) skips the rounding error of
    ``x - max``; ``d_error`` is then 0."""
    peaks = _first_peaks(rows)
    peak = _at_peaks(rows, peaks)
    finite = np.isfinite(peak)
    finite_peak = peak if finite.all() else _stable.select(finite, peak, 0.0)
    if carry_error:
        d, d_error = _stable.two_sum(rows, -finite_peak)
        # d = -inf (exp(d) = 0) has the error NaN: fmin makes it 1, which changes no e; one pass, not a select's seven
        np.fmin(d_error, 1.0, out=d_error)
        e = np.exp(d)
        e += e * d_error  # exp(d + d_error) to first order; e * (1 + d_error) is -0.0 where d_error < -1, exp(d) = 0
    else:
        d, d_error = rows - finite_peak, 0.0
        e = np.exp(d)
    e.reshape(-1)[peaks] = 0.0  # e is a new C-contiguous array: the flat view writes into it
    rest = np.sum(e, axis=-1, keepdims=True)
    return d, d_error, e, rest, peaks, 0.0 * peak


def _on_contiguous_slices(kernel):
    """``kernel(rows)`` with the slices of ``x`` along ``axis`` as the contiguous rows of ``rows``.

    NumPy's sums add in an order that depends on the memory layout; on contiguous rows every slice is summed
    the same way, so a result depends only on the values of its slice, not on the input's layout or on the
    blocks ``actlib.evaluation._in_slices`` cuts a large input into.
    """

    def on_rows(x, axis):
        x1 = np.atleast_1d(x)
        if x1.size == 0:
            return np.empty_like(x)
        rows = np.ascontiguousarray(np.moveaxis(x1, axis, -1))
        with np.errstate(invalid="ignore", over="ignore"):  # only reached by inf/nan inputs
            y = kernel(rows)
        if rows is x1:
            return y.reshape(x.shape)
        result = np.empty_like(x1)
        np.moveaxis(result, axis, -1)[...] = y
        return result.reshape(x.shape)

    return on_rows


@_on_contiguous_slices
def _softmax_kernel(rows):
    _, _, e, rest, peaks, invalid = _shifted(rows)
    e.reshape(-1)[peaks] = 1.0
    e /= (1.0 + rest) + invalid
    return e


@_on_contiguous_slices
def _softmax_narrow_rows(rows):
    """exp(x - max) times 1/sum: float64's few roundings are far below half an ULP of float32 (see ``defnarrow``);
    a product is cheaper than a quotient per entry."""
    e = rows - np.max(rows, axis=-1, keepdims=True)
    np.exp(e, out=e)
    e *= 1.0 / np.sum(e, axis=-1, keepdims=True)
    return e


#: a row whose normaliser sum(exp(x - max)) is below 1 + this is dominated by one entry, whose value -log(sum)
#: would lose its relative accuracy to the rounding of the sum: the narrow log_softmax computes it as log1p(rest)
_DOMINATED = 2.0**-20


@_on_contiguous_slices
def _log_softmax_narrow_rows(rows):
    """``x - max - log(sum(exp(x - max)))``, a difference of terms of one sign; in float64 its roundings are far
    below half an ULP of float32 (see ``defnarrow``). Where one entry dominates its row, ``log(sum)`` is tiny and
    the rounding of the sum matters: such rows take the float64 kernel's ``log1p`` of the other entries' sum."""
    d = rows - np.max(rows, axis=-1, keepdims=True)
    total = np.sum(np.exp(d), axis=-1, keepdims=True)
    dominated = total[..., 0] < 1.0 + _DOMINATED
    d -= np.log(total)
    if np.any(dominated):
        exact, _, _, rest, _, invalid = _shifted(rows[dominated], carry_error=False)
        exact -= np.log1p(rest) + invalid
        d[dominated] = exact
    return d


@_on_contiguous_slices
def _log_softmax_kernel(rows):
    d, d_error, _, rest, _, invalid = _shifted(rows)
    d -= np.log1p(rest) + invalid
    d += d_error
    return d


def log_softmax_and_softmax(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log_softmax(rows, axis=-1), softmax(rows, axis=-1))`` of a float64 array, from one shift by the maximum.

    The same operations as the two kernels, in the same order, on the same rows, so the same bits (tested); a
    training loss needs both, and the shift, exponentials and sums are then computed once instead of twice.
    Other dtypes, which take the narrow kernels, go through :func:`log_softmax` and :func:`softmax`.
    """
    if rows.dtype != np.float64 or rows.ndim == 0 or rows.size == 0:
        return log_softmax(rows, axis=-1), softmax(rows, axis=-1)
    rows = np.ascontiguousarray(rows)
    with np.errstate(invalid="ignore", over="ignore"):  # only reached by inf/nan inputs
        d, d_error, e, rest, peaks, invalid = _shifted(rows)
        d -= np.log1p(rest) + invalid
        d += d_error
        e.reshape(-1)[peaks] = 1.0
        e /= (1.0 + rest) + invalid
    return d, e


@activation(
    Properties(
        range="(0, 1)", monotonic=True, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=True, self_gated=False, paper=None, family="softmax", elementwise=False,
        pytorch=FrameworkName("torch.nn.Softmax", "dim=None"),
        keras=FrameworkName("keras.activations.softmax", "axis=-1"),
        jax=FrameworkName("jax.nn.softmax", "axis=-1"), tensorflow=FrameworkName("tf.nn.softmax", "axis=-1"),
    ),
    book=BookPlace("classic", 40),
    stable_form=r"shift by the maximum, $x - m$ carried with its rounding error, normaliser written $1 + s$",
    invalid=(
        InvalidCase({"axis": 1.5}, r"axis must be an integer", TypeError),
    ),
    expected=SpecialValues(rows=(
        ((np.inf, 0.0), (np.nan, np.nan)),
        ((-np.inf, -np.inf), (np.nan, np.nan)),
        ((-np.inf, 0.0), (0.0, 1.0)),
        ((np.nan, 0.0), (np.nan, np.nan)),
        ((0.0, 0.0), (0.5, 0.5)),
    )),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.softmax(t, dim=-1),
        rows=(
            ((np.inf, 0.0), (np.nan, np.nan)),
            ((-np.inf, -np.inf), (np.nan, np.nan)),
            ((-np.inf, 0.0), (0.0, 1.0)),
            ((np.nan, 0.0), (np.nan, np.nan)),
        ),
    ),
    validate=_validate_axis("softmax"),
    compute_dtype=np.float64,
)
def softmax(x, *, axis=-1):
    r"""Softmax along ``axis``: exponentials normalised to sum to 1.

    .. math:: \operatorname{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}} = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},
       \quad m = \max_j x_j

    Parameters
    ----------
    x : array_like
        Input; a batch is a 2-D array with one example per row (``axis=-1``).
    axis : int, default -1
        The axis that sums to 1. A 0-d input is treated as one entry (softmax 1).
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        Probabilities along ``axis``: non-negative, summing to 1 in each slice.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The vector-Jacobian product is ``softmax.vjp(x, g) = y * (g - sum(g * y))`` with ``y = softmax(x)``;
    ``softmax.jacobian(x)`` is :math:`\operatorname{diag}(y) - y y^\top` for a 1-D ``x``. A slice that
    contains ``+inf``, or only ``-inf``, gives NaN, as in PyTorch.

    Examples
    --------
    >>> softmax(np.array([1000.0, 1000.0, 0.0]))
    array([0.5, 0.5, 0. ])
    >>> softmax(np.array([[0.0, np.log(3.0)], [2.0, 2.0]]))
    array([[0.25, 0.75],
           [0.5 , 0.5 ]])
    """
    _axis_check("softmax", x, axis)
    return _softmax_kernel(x, axis)


@softmax.defnarrow
def _softmax_narrow(x, *, axis=-1):
    _axis_check("softmax", x, axis)
    return _softmax_narrow_rows(x, axis)


@activation(
    Properties(
        range="(-inf, 0)", monotonic=True, smoothness="inf", zero_centred=False, bounded_below=False,
        bounded_above=True, self_gated=False, paper=None, family="softmax", elementwise=False,
        pytorch=FrameworkName("torch.nn.LogSoftmax", "dim=None"),
        keras=FrameworkName("keras.activations.log_softmax", "axis=-1"),
        jax=FrameworkName("jax.nn.log_softmax", "axis=-1"), tensorflow=FrameworkName("tf.nn.log_softmax", "axis=-1"),
    ),
    book=BookPlace("classic", 50),
    stable_form=r"as softmax, then $(x - m) - \operatorname{log1p}(s)$",
    invalid=(
        InvalidCase({"axis": 3}, r"axis 3 is out of range"),
    ),
    expected=SpecialValues(rows=(
        ((np.inf, 0.0), (np.nan, np.nan)),
        ((-np.inf, -np.inf), (np.nan, np.nan)),
        ((-np.inf, 0.0), (-np.inf, 0.0)),
        ((np.nan, 0.0), (np.nan, np.nan)),
        ((0.0, 0.0), (-0.6931471805599453, -0.6931471805599453)),
    )),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.log_softmax(t, dim=-1),
        rows=(
            ((np.inf, 0.0), (np.nan, np.nan)),
            ((-np.inf, -np.inf), (np.nan, np.nan)),
            ((-np.inf, 0.0), (-np.inf, 0.0)),
            ((np.nan, 0.0), (np.nan, np.nan)),
        ),
    ),
    validate=_validate_axis("log_softmax"),
    compute_dtype=np.float64,
)
def log_softmax(x, *, axis=-1):
    r"""Logarithm of the softmax along ``axis``.

    .. math:: \operatorname{log\_softmax}(x)_i = x_i - m - \log\sum_j e^{x_j - m}

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    axis : int, default -1
        The axis along which the exponentials are normalised.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The logarithms of :func:`softmax`'s probabilities along ``axis`` (all :math:`\le 0`).
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    Use it (with the negative log-likelihood) instead of ``log(softmax(x))``, which is ``-inf`` once a
    probability underflows. ``log_softmax.vjp(x, g) = g - softmax(x) * sum(g)``;
    ``log_softmax.jacobian(x)`` is :math:`I - \mathbf{1} y^\top` for a 1-D ``x``.

    Examples
    --------
    >>> log_softmax(np.array([0.0, -1000.0]))
    array([    0., -1000.])
    >>> float(log_softmax(np.array([0.0, -40.0]))[0])
    -4.248354255291589e-18
    """
    _axis_check("log_softmax", x, axis)
    return _log_softmax_kernel(x, axis)


@log_softmax.defnarrow
def _log_softmax_narrow(x, *, axis=-1):
    _axis_check("log_softmax", x, axis)
    return _log_softmax_narrow_rows(x, axis)


def _prepare_vjp(name, x, grad, axis):
    fn = softmax if name == "softmax" else log_softmax
    array, _ = fn._bind(x, (), {"axis": axis})
    g = as_float_array(name, grad)
    if g.shape != array.shape:
        raise ValueError(f"{name}.vjp: grad has shape {g.shape}, but x has shape {array.shape}")
    _axis_check(name, array, axis)
    return array, g


#: The derivatives are computed in the platform's extended precision (the x87 80-bit format on x86-64 Linux,
#: with 11 more bits than float64; IEEE quad on aarch64 Linux) and rounded once: the Jacobian's entries
#: multiply two probabilities, each with the error of np.exp and of the normaliser, which in float64 would add
#: up to several ULPs. Where long double is float64 itself (MSVC, Apple silicon), the same formulas hold the
#: entries to a few ULPs.
_WIDE = np.longdouble


def _wide_probabilities(rows):
    """``(y, complement, first_peak)`` along the last axis of float64 ``rows``, in extended precision: the
    softmax ``y``, and at one maximal entry per row ``1 - y`` computed as the sum of the other probabilities,
    ``rest / (1 + rest)``.

    ``1 - y`` itself cancels: once ``rest`` is below the precision it is 0, where the exact value is ``rest``
    (``softmax.jacobian([-86.7388, 0.0])`` would have 0 on the diagonal instead of 2.1e-38). Every other
    entry has ``y <= 1/2``, so its ``1 - y`` loses nothing.
    """
    first_peak = np.argmax(rows, axis=-1, keepdims=True)  # NaN counts as the maximum, as in np.max
    peak = np.take_along_axis(rows, first_peak, axis=-1)
    d, d_error = _stable.two_sum(rows, -_stable.select(np.isfinite(peak), peak, 0.0))
    d_error = _stable.select(np.isfinite(d), d_error, 0.0)  # -inf entries have no rounding error to carry
    e = np.exp(d.astype(_WIDE))
    e += e * d_error.astype(_WIDE)  # x - max = d + d_error exactly
    np.put_along_axis(e, first_peak, 0, axis=-1)
    rest = np.sum(e, axis=-1, keepdims=True)
    np.put_along_axis(e, first_peak, 1, axis=-1)
    normaliser = (1 + rest) + 0 * peak  # NaN for a row whose maximum is +-inf or NaN, as the values
    return e / normaliser, rest / normaliser, first_peak


def _vjp_rows(name, x, g, axis):
    """The vector-Jacobian product of ``name`` on the slices along ``axis``, computed on contiguous rows."""
    rows = np.ascontiguousarray(np.moveaxis(np.atleast_1d(x).astype(np.float64), axis, -1))
    grad = np.ascontiguousarray(np.moveaxis(np.atleast_1d(g), axis, -1)).astype(_WIDE)
    with np.errstate(invalid="ignore", over="ignore"):  # only reached by inf/nan inputs
        y, complement, first_peak = _wide_probabilities(rows)
        g_peak = np.take_along_axis(grad, first_peak, axis=-1)
        if name == "softmax":
            # y_i (g_i - sum_j g_j y_j); at the peak the bracket is summed as sum_(j != p) (g_p - g_j) y_j,
            # which does not cancel when y_p is close to 1 (a one-hot grad then gives the complement)
            bracket = grad - np.sum(grad * y, axis=-1, keepdims=True)
            others = (g_peak - grad) * y
            np.put_along_axis(others, first_peak, 0, axis=-1)
            np.put_along_axis(bracket, first_peak, np.sum(others, axis=-1, keepdims=True), axis=-1)
            result = y * bracket
        else:
            # g_i - y_i sum_j g_j; at the peak g_p (1 - y_p) - y_p sum_(j != p) g_j
            result = grad - y * np.sum(grad, axis=-1, keepdims=True)
            others = grad.copy()
            np.put_along_axis(others, first_peak, 0, axis=-1)
            y_peak = np.take_along_axis(y, first_peak, axis=-1)
            peak = g_peak * complement - y_peak * np.sum(others, axis=-1, keepdims=True)
            np.put_along_axis(result, first_peak, peak, axis=-1)
    return np.moveaxis(result, -1, axis)


def _prepare_vjp(name, x, grad, axis):
    fn = softmax if name == "softmax" else log_softmax
    array, _ = fn._bind(x, (), {"axis": axis})
    g = as_float_array(name, grad)
    if g.shape != array.shape:
        raise ValueError(f"{name}.vjp: grad has shape {g.shape}, but x has shape {array.shape}")
    _axis_check(name, array, axis)
    return array, g


def _softmax_vjp(x, grad, axis=-1):
    """``grad`` pulled back through softmax: ``y * (grad - sum(grad * y, axis))``.

    At the largest entry of each slice the bracket is summed as ``sum_j (g_p - g_j) y_j`` over the other
    entries, so that a one-hot ``grad`` gives the matching row of the Jacobian, within 4 ULP of the exact
    one also where ``y`` rounds to 1.

    >>> softmax.vjp(np.array([0.0, 0.0]), np.array([1.0, 0.0]))
    array([ 0.25, -0.25])
    """
    array, g = _prepare_vjp("softmax", x, grad, axis)
    result = _vjp_rows("softmax", array, g, axis)
    return result.reshape(array.shape).astype(np.result_type(array.dtype, g.dtype))


def _log_softmax_vjp(x, grad, axis=-1):
    """``grad`` pulled back through log_softmax: ``grad - softmax(x) * sum(grad, axis)``.

    At the largest entry of each slice, ``g_p (1 - y_p) - y_p sum_(j != p) g_j`` with ``1 - y_p`` summed from
    the other probabilities.

    >>> log_softmax.vjp(np.array([0.0, 0.0]), np.array([1.0, 0.0]))
    array([ 0.5, -0.5])
    """
    array, g = _prepare_vjp("log_softmax", x, grad, axis)
    result = _vjp_rows("log_softmax", array, g, axis)
    return result.reshape(array.shape).astype(np.result_type(array.dtype, g.dtype))


def _jacobian_rows(name, x):
    """``(y, complement, peak)`` of the 1-D input of ``name.jacobian``, in extended precision."""
    fn = softmax if name == "softmax" else log_softmax
    array, _ = fn._bind(x, (), {})
    if array.ndim != 1:
        raise ValueError(f"{name}.jacobian: x must be 1-D, got shape {array.shape}")
    with np.errstate(invalid="ignore", over="ignore"):  # only reached by inf/nan inputs
        y, complement, first_peak = _wide_probabilities(array.astype(np.float64).reshape(1, -1))
    return array.dtype, y[0], complement[0, 0], first_peak[0, 0]


def _softmax_jacobian(x):
    """``diag(y) - outer(y, y)`` with ``y = softmax(x)``: entry (i, j) is dy_i/dx_j.

    The diagonal entry of the largest input, ``y_p (1 - y_p)``, takes ``1 - y_p`` as the sum of the other
    probabilities, so it keeps its bits where ``y_p`` rounds to 1. Every entry is within 4 ULP.

    >>> softmax.jacobian(np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    >>> float(softmax.jacobian(np.array([-86.7388, 0.0]))[1, 1])  # 0 when computed as y (1 - y)
    2.1370653e-38
    """
    dtype, y, complement, peak = _jacobian_rows("softmax", x)
    with np.errstate(invalid="ignore"):
        jacobian = -np.outer(y, y)
        diagonal = y * (1 - y)
        diagonal[peak] = y[peak] * complement
        np.fill_diagonal(jacobian, diagonal)
    return jacobian.astype(dtype)


def _log_softmax_jacobian(x):
    """``I - 1 y^T`` with ``y = softmax(x)``: entry (i, j) is d log_softmax_i / dx_j.

    On the diagonal of the largest input, ``1 - y_p`` is summed from the other probabilities.

    >>> log_softmax.jacobian(np.array([0.0, 0.0]))
    array([[ 0.5, -0.5],
           [-0.5,  0.5]])
    """
    dtype, y, complement, peak = _jacobian_rows("log_softmax", x)
    jacobian = np.tile(-y, (y.size, 1))
    diagonal = 1 - y
    diagonal[peak] = complement
    np.fill_diagonal(jacobian, diagonal)
    return jacobian.astype(dtype)


softmax.vjp = _softmax_vjp
softmax.jacobian = _softmax_jacobian
log_softmax.vjp = _log_softmax_vjp
log_softmax.jacobian = _log_softmax_jacobian


def _symbolic_pair(which):
    """A two-entry softmax ``(x, 0)`` as a function of x: entry 0 is the sigmoid, the reference the
    accuracy tests use for these vector functions."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    if which == "softmax":
        return sp.exp(x) / (sp.exp(x) + 1)
    return -sp.log(1 + sp.exp(-x))


@softmax.defsymbolic
def _softmax_symbolic():
    """Entry 0 of ``softmax([x, 0])``: the symbolic form the accuracy measurement compares against."""
    return _symbolic_pair("softmax")


@log_softmax.defsymbolic
def _log_softmax_symbolic():
    """Entry 0 of ``log_softmax([x, 0])``."""
    return _symbolic_pair("log_softmax")


# How these functions are evaluated fast (actlib.evaluation): the same bits as one plain call.
evaluate_with(softmax, slices_along="axis")
evaluate_with(log_softmax, slices_along="axis")
