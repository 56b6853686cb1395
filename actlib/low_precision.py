"""Narrow floating-point formats: every value of a format, exact rounding to it, ULPs on its grid, whether
computing wide and rounding once rounds twice, and a simulated bfloat16 network.

Every activation accepts arrays of ``ml_dtypes.bfloat16``, ``float8_e4m3fn`` and ``float8_e5m2``, computes
them in float64 and casts the result back once (:data:`actlib._core.LOW_PRECISION`). Two roundings hide in
that rule, and both are measured here.

* The cast. If it went through float32 it would round twice: a float64 value just above a tie of the narrow
  format could land on the tie and be rounded to even, the wrong way. :func:`double_rounding_count` counts
  such cases against an exact rounding (:func:`round_exactly`, which compares with the format's own
  midpoints and never calls ml_dtypes' cast): ml_dtypes casts float64 directly, with none.
* The float64 result. It is the exact value rounded to float64, so casting it is a second rounding of the
  exact value, and double rounding can occur: where the exact value lies within float64's error of a
  midpoint of the narrow format, on the other side of it than the float64 result. :func:`audit_rounding`
  finds those inputs and decides them with mpmath. Over every value of the three formats and every
  elementwise activation it found such inputs only where the exact value sits beside a midpoint by
  construction: SiLU, GELU and hardswish near bfloat16's smallest values (``x/2`` plus a term float64
  cannot see), ``x - tanh(x)`` where the format's spacing is 2, and a few products with leaky ReLU's slope
  0.01; there the result is one ULP off (``book/precision.md`` gives the counts).

So every low-precision result is the correctly rounded float64 result, and the correctly rounded exact
result at all but those inputs. The references need no big numbers: every value of these formats (and of
float16, which the functions here accept too) and every midpoint between two neighbours has at most 12
significant bits, so float64 holds them exactly and the comparisons are exact.

>>> import ml_dtypes
>>> y = np.array([1 + 2**-8 + 2**-40])  # just above the tie between 1 and 1 + 2**-7 in bfloat16
>>> float(round_exactly(y, ml_dtypes.bfloat16)[0]), float(y.astype(np.float32).astype(ml_dtypes.bfloat16)[0])
(1.0078125, 1.0)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "BFLOAT16", "FLOAT32", "FLOAT64", "Arithmetic", "ReLUStep", "double_rounding_count", "finite_values",
    "relu_network_step", "round_exactly", "round_to_bfloat16", "ulp_distance",
]

#: The formats of this module: IEEE float16 beside the ml_dtypes formats every activation accepts.
_INDEXED = ("float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")


def _dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.name not in _INDEXED or (dtype.name != "float16" and dtype.type.__module__.split(".")[0] != "ml_dtypes"):
        raise TypeError(f"low_precision: dtype {dtype} is not one of {', '.join(_INDEXED)}")
    return dtype


@functools.cache
def _table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct finite values as float64, their bit patterns), for a format of 8 or 16 bits."""
    import ml_dtypes

    dtype = np.dtype(np.float16 if name == "float16" else getattr(ml_dtypes, name))
    unsigned = np.uint8 if dtype.itemsize == 1 else np.uint16
    bits = np.arange(2 ** (8 * dtype.itemsize), dtype=np.uint32).astype(unsigned)
    with np.errstate(invalid="ignore"):
        values = bits.view(dtype).astype(np.float64)
    finite = np.isfinite(values) & ~((values == 0) & np.signbit(values))  # one zero: +0
    values, bits = values[finite], bits[finite]
    order = np.argsort(values)
    return values[order], bits[order]


def finite_values(dtype: Any) -> np.ndarray:
    """Every finite value of the format, ascending (``-0.0`` left out), as an array of that dtype.

    Parameters
    ----------
    dtype : dtype
        float16, or bfloat16, float8_e4m3fn or float8_e5m2 from ml_dtypes.

    Returns
    -------
    ndarray
        The values, in ``dtype``.

    Examples
    --------
    >>> import ml_dtypes
    >>> finite_values(ml_dtypes.float8_e4m3fn).size, float(finite_values(ml_dtypes.float8_e4m3fn)[-1])
    (253, 448.0)
    """
    dtype = _dtype(dtype)
    return _table(dtype.name)[0].astype(dtype)


def round_exactly(values: Any, dtype: Any) -> np.ndarray:
    """Round float64 ``values`` to ``dtype`` to nearest, ties to even, by comparison with the format's midpoints.

    Beyond the largest finite value plus half a step the result is ``inf`` for bfloat16 and float8_e5m2, NaN for
    float8_e4m3fn (which has no infinity), as the formats' definitions and ml_dtypes' casts have it; NaN stays NaN.

    Parameters
    ----------
    values : array_like
        float64 values.
    dtype : dtype
        float16, or bfloat16, float8_e4m3fn or float8_e5m2 from ml_dtypes.

    Returns
    -------
    ndarray
        ``values`` correctly rounded to ``dtype``, the sign of zeros kept.
    """
    dtype = _dtype(dtype)
    table, bits = _table(dtype.name)
    y = np.asarray(values, dtype=np.float64)
    index = np.clip(np.searchsorted(table, y), 1, table.size - 1)
    below, above = table[index - 1], table[index]
    midpoint = 0.5 * (below + above)
    up = (y > midpoint) | ((y == midpoint) & (bits[index] % 2 == 0))
    result = np.where(up, above, below)
    top = table[-1]
    half_step = 0.5 * (top - table[-2])
    overflow = np.inf if dtype.name != "float8_e4m3fn" else np.nan
    # the largest value's last bit is odd in every one of these formats, so a tie at top + half_step goes up
    result = np.where(np.abs(y) >= top + half_step, np.copysign(overflow, y), result)
    result = np.where(np.isnan(y), np.nan, result)
    result = np.where(y == 0, y, result)  # keeps the sign of a zero
    result = np.where((result == 0) & (y != 0), np.copysign(0.0, y), result)
    return result.astype(dtype)


def _near_midpoints(name: str) -> np.ndarray:
    """Every midpoint between neighbouring values, and float64 values a few ULPs and a quarter/half float32 step
    away on both sides: the inputs on which a rounding through float32 goes wrong."""
    table, _ = _table(name)
    midpoints = 0.5 * (table[1:] + table[:-1])
    pieces = [midpoints]
    up = down = midpoints
    for _ in range(3):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
        pieces += [up, down]
    step32 = np.spacing(np.abs(midpoints).astype(np.float32)).astype(np.float64)
    for fraction in (0.25, 0.499):
        pieces += [midpoints + fraction * step32, midpoints - fraction * step32]
    values = np.concatenate(pieces)
    return values[np.abs(values) <= table[-1]]


def double_rounding_count(dtype: Any, *, via_float32: bool = False) -> tuple[int, int]:
    """``(wrong, tested)``: how many float64 values near the midpoints of ``dtype`` ml_dtypes' cast rounds other
    than :func:`round_exactly` does, directly from float64 or (``via_float32``) through float32 first.

    Parameters
    ----------
    dtype : dtype
        float16, or bfloat16, float8_e4m3fn or float8_e5m2 from ml_dtypes.
    via_float32 : bool, default False
        Cast to float32 first, as a framework that computes in float32 would: a second rounding.

    Returns
    -------
    tuple of int
        ``(wrong, tested)``.

    Examples
    --------
    >>> from ml_dtypes import float8_e5m2
    >>> double_rounding_count(float8_e5m2)[0], double_rounding_count(float8_e5m2, via_float32=True)[0] > 0
    (0, True)
    """
    dtype = _dtype(dtype)
    y = _near_midpoints(dtype.name)
    source = y.astype(np.float32) if via_float32 else y
    cast = source.astype(dtype).astype(np.float64)
    exact = round_exactly(y, dtype).astype(np.float64)
    return int(np.sum(cast != exact)), int(y.size)


def ulp_distance(computed: Any, reference: Any) -> np.ndarray:
    """How many representable values of the arrays' format lie between ``computed`` and ``reference``.

    For two finite values of a narrow format this is the error in ULPs of that format, counted on the format's
    own grid: 0 for the same value, 1 for neighbours, and the zeros ``-0.0`` and ``+0.0`` count as one value.
    A NaN or an infinity on either side gives ``inf`` unless both sides are the same special value.

    Parameters
    ----------
    computed, reference : ndarray
        Arrays of one dtype: float16, bfloat16, float8_e4m3fn or float8_e5m2.

    Returns
    -------
    ndarray of float64
        The distance, elementwise.

    Examples
    --------
    >>> import ml_dtypes
    >>> a = np.array([1.0, 1.0, 0.0, np.inf], dtype=ml_dtypes.bfloat16)
    >>> b = np.array([1.0, 1.0078125, -0.0, 3.0], dtype=ml_dtypes.bfloat16)
    >>> ulp_distance(a, b).tolist()
    [0.0, 1.0, 0.0, inf]
    """
    computed, reference = np.asarray(computed), np.asarray(reference)
    if computed.dtype != reference.dtype or computed.dtype.name not in _INDEXED:
        raise TypeError(f"ulp_distance: need two arrays of one of {', '.join(_INDEXED)}, got {computed.dtype} "
                        f"and {reference.dtype}")
    table = _table(computed.dtype.name)[0]
    a, b = computed.astype(np.float64), reference.astype(np.float64)
    finite = np.isfinite(a) & np.isfinite(b)
    distance = np.abs(np.searchsorted(table, np.where(finite, a, 0.0)).astype(np.float64)
                      - np.searchsorted(table, np.where(finite, b, 0.0)))
    same_special = ~finite & ((a == b) | (np.isnan(a) & np.isnan(b)))
    return np.where(finite, distance, np.where(same_special, 0.0, np.inf))


def round_to_bfloat16(values: np.ndarray) -> np.ndarray:
    """float32 ``values`` rounded to the nearest bfloat16 value (ties to even), kept as float32.

    A bfloat16 is the upper half of a float32, so rounding is integer arithmetic on the bits: add
    ``0x7FFF`` plus the lowest kept bit (which makes a tie go to the even neighbour), then clear the lower
    16 bits. A carry out of the mantissa raises the exponent, and past the largest bfloat16 it gives ``inf``,
    as a correct rounding does. NaN stays NaN. The result equals ``values.astype(ml_dtypes.bfloat16)``
    bit for bit and keeps float32 arrays for the arithmetic that follows; on 8192 values it took
    10 µs against 13 µs for the cast there and back through ml_dtypes (NumPy 2.4, ml_dtypes 0.7).

    Parameters
    ----------
    values : ndarray of float32

    Returns
    -------
    ndarray of float32
        A new array whose every value is a bfloat16 value.

    Examples
    --------
    >>> round_to_bfloat16(np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-7 + 2**-20], np.float32)).tolist()
    [1.0, 1.015625, 1.0078125]
    """
    values = np.asarray(values)
    if values.dtype != np.float32:
        raise TypeError(f"round_to_bfloat16: values must be float32, got {values.dtype}")
    bits = values.view(np.uint32)
    rounded = (bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))) & np.uint32(0xFFFF0000)
    return np.where(np.isnan(values), values, rounded.view(np.float32))


@dataclass(frozen=True)
class Arithmetic:
    """How a simulated network computes: the dtype its matrix products accumulate in and its values are held in,
    and the rounding applied to the result of every operation.

    ``FLOAT64`` and ``FLOAT32`` are the native NumPy arithmetics (every operation rounds to its own dtype);
    ``BFLOAT16`` holds bfloat16 values in float32 arrays, accumulates matrix products in float32 as the
    matrix units of TPUs and GPUs do, and rounds every result to bfloat16 with :func:`round_to_bfloat16`.
    """

    name: str
    dtype: type
    round: Callable[[np.ndarray], np.ndarray]


def _as_is(values: np.ndarray) -> np.ndarray:
    return values


FLOAT64 = Arithmetic("float64", np.float64, _as_is)
FLOAT32 = Arithmetic("float32", np.float32, _as_is)
BFLOAT16 = Arithmetic("bfloat16", np.float32, round_to_bfloat16)


class ReLUStep(NamedTuple):
    """What :func:`relu_network_step` returns: the loss, one gradient per parameter, and every hidden
    layer's pre-activations."""

    loss: float
    grads: list[np.ndarray]
    pre_activations: list[np.ndarray]


def relu_network_step(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
                      labels: np.ndarray, *, arithmetic: Arithmetic, relu_derivative_at_zero: float = 0.0
                      ) -> ReLUStep:
    r"""Loss and gradients of a ReLU multilayer perceptron computed in a simulated ``arithmetic``.

    The forward pass is :math:`z_i = h_i W_i + b_i`, :math:`h_{i+1} = \max(0, z_i)` and softmax
    cross-entropy on the last :math:`z`. Each operation's result is rounded by ``arithmetic``: the matrix
    product (accumulated in ``arithmetic.dtype``), then the bias addition as a separate elementwise operation,
    as an unfused ``x @ W + b`` is; ReLU and the multiplication by its derivative 0, ½ or 1 are exact. The loss
    and its gradient with respect to the logits are computed in float64 from the rounded logits (mixed-precision
    recipes keep the loss in a wide format) and that gradient is rounded. Back-propagation uses
    ``relu_derivative_at_zero`` wherever a pre-activation is exactly 0.

    Parameters
    ----------
    weights, biases : sequence of ndarray
        One ``(n_in, n_out)`` matrix and one ``(n_out,)`` vector per layer, values of ``arithmetic``'s format.
    x : ndarray
        Inputs, ``(n, n_in)``; rounded by ``arithmetic`` first.
    labels : ndarray
        Integer classes, ``(n,)``.
    arithmetic : Arithmetic
        ``FLOAT64``, ``FLOAT32`` or ``BFLOAT16``.
    relu_derivative_at_zero : float, default 0.0
        The value used for ReLU′(0) (PyTorch, JAX and TensorFlow use 0).

    Returns
    -------
    ReLUStep
        ``loss``, ``grads`` (``W0, b0, W1, b1, ...``, as :attr:`actlib.nn.MLP.parameter_names`) and
        ``pre_activations`` (one array per hidden layer).

    Examples
    --------
    >>> w = [np.array([[1.0, -1.0]]), np.array([[1.0], [1.0]])]
    >>> b = [np.zeros(2), np.zeros(1)]
    >>> step = relu_network_step(w, b, np.array([[0.0]]), np.array([0]), arithmetic=FLOAT64,
    ...                          relu_derivative_at_zero=1.0)
    >>> step.pre_activations[0].tolist(), [g.tolist() for g in step.grads[:2]]
    ([[0.0, 0.0]], [[[0.0, 0.0]], [0.0, 0.0]])
    """
    from .nn import cross_entropy

    dtype, rounded = arithmetic.dtype, arithmetic.round
    h = rounded(np.asarray(x, dtype=dtype))
    inputs, pre_activations = [], []
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        inputs.append(h)
        z = rounded(rounded(h @ w) + b)
        if i == last:
            break
        pre_activations.append(z)
        h = np.maximum(z, dtype(0))
    loss, grad_logits = cross_entropy(z.astype(np.float64), np.asarray(labels))
    delta = rounded(grad_logits.astype(dtype))
    grads: list[np.ndarray] = []
    for i in range(last, -1, -1):
        grads[:0] = [rounded(inputs[i].T @ delta), rounded(delta.sum(axis=0))]
        if i == 0:
            break
        z = pre_activations[i - 1]
        slope = np.where(z > 0, dtype(1), np.where(z == 0, dtype(relu_derivative_at_zero), dtype(0)))
        delta = rounded(rounded(delta @ weights[i].T) * slope)
    return ReLUStep(loss, grads, pre_activations)


class RoundingAudit(NamedTuple):
    """What :func:`audit_rounding` found for one function and format."""

    tested: int
    near_midpoint: int
    wrong: int
    wrong_at: tuple[float, ...] = ()


def audit_rounding(function: Callable[..., Any], dtype: Any, *, derivative: bool = False,
                   margin: float = 4.0) -> RoundingAudit:
    """Whether rounding a function's float64 result once to ``dtype`` gives the correctly rounded exact value, at
    every finite value of ``dtype``.

    The float64 result is itself rounded (actlib's elementwise functions are within 2 ULP of float64, their
    derivatives within 4), so the cast to ``dtype`` is a second rounding of the exact value: it can go the other
    way only where a midpoint between two neighbours of ``dtype`` lies between the exact value and the float64
    result, that is where the float64 result is within ``margin`` float64 ULPs of a midpoint. Those inputs
    alone are evaluated with mpmath (the function's SymPy expression), and the exact value is rounded by
    comparing it with the midpoint.

    Parameters
    ----------
    function : callable
        An elementwise activation of :data:`actlib.ACTIVATIONS`, with its default parameters.
    dtype : dtype
        float16, bfloat16, float8_e4m3fn or float8_e5m2.
    derivative : bool, default False
        Audit ``function.derivative`` instead of the value.
    margin : float, default 4.0
        The float64 error bound in ULPs that decides which results are near a midpoint.

    Returns
    -------
    RoundingAudit
        ``tested`` (finite inputs), ``near_midpoint`` (results within ``margin`` ULPs of a midpoint) and
        ``wrong`` (of those, how many the once-rounded result gets wrong) and ``wrong_at`` (those inputs).

    Examples
    --------
    >>> import ml_dtypes
    >>> from actlib import sigmoid
    >>> audit_rounding(sigmoid, ml_dtypes.float8_e4m3fn)
    RoundingAudit(tested=253, near_midpoint=0, wrong=0, wrong_at=())
    """
    import mpmath

    from .accuracy import _mp_callables, reference

    dtype = _dtype(dtype)
    table, _ = _table(dtype.name)
    evaluate = function.derivative if derivative else function
    with np.errstate(all="ignore"):
        wide = np.asarray(evaluate(table), dtype=np.float64)
    index = np.clip(np.searchsorted(table, wide), 1, table.size - 1)
    below, above = table[index - 1], table[index]
    midpoint = 0.5 * (below + above)
    near = np.isfinite(wide) & (np.abs(wide - midpoint) <= margin * np.spacing(np.abs(midpoint)))
    near_inputs = np.flatnonzero(near)
    # the parameters as the binary numbers the kernel receives, as actlib.accuracy measures them
    exact_value, exact_derivative = _mp_callables(function.__name__, tuple(sorted(function.info.parameters.items())))
    exact_function = exact_derivative if derivative else exact_value
    cast = round_exactly(wide[near_inputs], dtype).astype(np.float64)
    wrong_at = []
    for i, got in zip(near_inputs, cast, strict=True):
        exact = reference(exact_function, float(table[i]), np.float64)
        m = mpmath.mpf(float(midpoint[i]))
        if exact == m:
            correct = float(round_exactly(np.array([midpoint[i]]), dtype).astype(np.float64)[0])
        else:
            correct = above[i] if exact > m else below[i]
        if got != correct:
            wrong_at.append(float(table[i]))
    return RoundingAudit(int(table.size), int(near_inputs.size), len(wrong_at), tuple(wrong_at))
