r"""Algebraic rectifiers: squared ReLU and squareplus, built from squares and square roots alone.

Both belong to the rectifier family (zero or nearly zero on the left, growing without bound on the
right), and both came with the transformer era: squared ReLU from the search for better feed-forward
layers (So et al., 2021, "Primer"), squareplus as a softplus without an exponential (Barron, 2021).
They live in a module of their own, named for what they are made of, because no ``exp`` or ``log``
appears in either: their numerical care is about squares that overflow and a square root that cancels,
not about exponentials.
"""

from __future__ import annotations

import numpy as np

from . import _stable
from ._core import (
    BookPlace,
    FrameworkName,
    InvalidCase,
    Properties,
    SpecialValues,
    activation,
    positive,
)


def _sp():
    import sympy

    return sympy


def _x():
    return _sp().Symbol("x", real=True)


# --- squared ReLU ----------------------------------------------------------------------------------


@activation(
    Properties(
        range="[0, inf)", monotonic=True, smoothness="1", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=True, paper="so2021", family="rectifier",
        pytorch=FrameworkName(None), keras=FrameworkName(None), jax=FrameworkName(None),
        tensorflow=FrameworkName(None),
    ),
    book=BookPlace("transformer", 10),
    stable_form=(
        r"one comparison and one product, rounded once; $x^2$ overflows to $\infty$ exactly where the exact "
        r"value exceeds the largest float"
    ),
    expected=SpecialValues(
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, np.inf, np.nan),
        at_signed_zeros=(0.0, 0.0),
    ),
)
def squared_relu(x, *, out=None):
    r"""Squared ReLU: the rectifier's output squared.

    .. math:: \operatorname{squared\_relu}(x) = \max(0, x)^2
       = \begin{cases} x^2 & x > 0 \\ 0 & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input. float16/32/64 keep their dtype; integers and bools compute in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into.

    Returns
    -------
    ndarray
        :math:`x^2` rounded once in the input's dtype (an IEEE product is correctly rounded), so every
        value is the correctly rounded one. It overflows to ``inf`` exactly where :math:`x^2` exceeds the
        largest float (:math:`x > 2^{64}` in float32, :math:`x > 1.34 \cdot 10^{154}` in float64), and
        only there: that ``inf`` is the correctly rounded result, returned without a warning.
        ``-0.0`` gives ``+0.0``, as PyTorch's ``torch.square(torch.relu(x))``.

    Notes
    -----
    As :math:`x \max(0, x)` it is the input gated by its own rectifier, a gate that rises from 0 without
    bound where the sigmoid-like gates of :func:`silu` and :func:`gelu` stop at 1 (the book's properties
    chapter measures it as self-gated). The derivative :math:`2\max(0, x)` is continuous: the function
    is :math:`C^1` and has no kink, so there is no convention to choose at 0 (the derivative is 0 from
    both sides). It overflows to ``inf``
    beyond half the largest float, where :math:`2x` does. The second derivative jumps from 0 to 2 at 0.

    Hugging Face transformers calls it ``relu2`` (``ReLUSquaredActivation``), and so do the model
    configurations that use it (NVIDIA's Nemotron-H as ``mlp_hidden_act``, BitNet b1.58 as ``hidden_act``);
    this registry spells it out, since ``relu2`` reads like ``relu6``, a ReLU capped at 2. Other names
    are listed in ``actlib.names.MODEL_CONFIG_NAMES``.

    References
    ----------
    So, Mańke, Liu, Dai, Shazeer & Le, "Primer: searching for efficient transformers for language
    modeling", NeurIPS 2021 (arXiv:2109.08668).

    Examples
    --------
    >>> import numpy as np
    >>> squared_relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 9.])
    >>> squared_relu.derivative(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 6.])
    >>> squared_relu(np.float32(2.0**64))
    np.float32(inf)
    """
    positive_part = np.clip(x, x.dtype.type(0), x.dtype.type(np.inf), out=out)
    with np.errstate(over="ignore"):  # x**2 beyond the largest float: inf is the correctly rounded value
        return np.multiply(positive_part, positive_part, out=positive_part)


@squared_relu.defderivative
def _squared_relu_derivative(x):
    positive_part = np.clip(x, x.dtype.type(0), x.dtype.type(np.inf))
    positive_part += x.dtype.type(0)  # -0.0 becomes +0.0: the derivative has no sign to keep
    with np.errstate(over="ignore"):  # 2x beyond the largest float rounds to inf, the correct result
        return np.multiply(positive_part, x.dtype.type(2), out=positive_part)


@squared_relu.defsymbolic
def _squared_relu_symbolic():
    sp = _sp()
    x = _x()
    return sp.Piecewise((x**2, x > 0), (0, True))


# --- squareplus ------------------------------------------------------------------------------------


def _large(b):
    """Beyond this |x|, ``sqrt(x**2 + b) = |x| + b/(2|x|)`` to within 2**-64 relative (the next term is
    ``b**2/(8|x|**3)``), so no square is formed that could overflow; below it ``x**2`` stays below 2**1000."""
    return min(max(2.0**26, np.sqrt(b) * 2.0**16), 2.0**500)


def _hypotenuse(x, b):
    """``sqrt(x**2 + b)`` as a double-double ``(h, h_lo)`` for every ``x``, without forming an overflowing square.

    For moderate ``x`` the square and the sum are exact (Dekker, Knuth) and one Newton step from the rounded
    root recovers its error; for large ``x`` the expansion ``|x| + b/(2|x|)`` is used.
    """
    magnitude = np.abs(x)
    threshold = _large(b)
    large = magnitude > threshold
    moderate = _stable.select(large, 0.0, x)
    # |moderate| <= threshold <= 2**500 and h below 2**501: Dekker's products need no overflow guard
    square, square_error = _stable.two_prod_bounded(moderate, moderate)
    total, total_error = _stable.two_sum(square, b)
    total_error += square_error
    h = np.sqrt(total)
    hh, hh_error = _stable.two_prod_bounded(h, h)
    h_lo = (((total - hh) - hh_error) + total_error) / (2.0 * h)
    far = (0.5 * b) / np.clip(magnitude, threshold, np.inf)  # only kept where |x| > threshold; b/inf = 0
    return _stable.select(large, magnitude, h), _stable.select(large, far, h_lo)


def _half_sum(u, v, v_lo):
    """``u/2 + (v + v_lo)/2`` as a double-double, halves first so that nothing overflows."""
    s, s_error = _stable.two_sum(0.5 * u, 0.5 * v)
    return s, s_error + 0.5 * v_lo


@activation(
    Properties(
        range="(0, inf)", monotonic=True, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, paper="barron2021", family="rectifier",
        pytorch=FrameworkName(None), keras=FrameworkName("keras.activations.squareplus", "b=4"),
        jax=FrameworkName("jax.nn.squareplus", "b=4"),
        tensorflow=FrameworkName("tf.keras.activations.squareplus", "b=4"),
    ),
    book=BookPlace("transformer", 20),
    stable_form=(
        r"$\sqrt{x^2+b}$ as a double-double (exact square and sum, one Newton step), $\vert x\vert + "
        r"b/(2\vert x\vert)$ where $x^2$ could overflow; for $x < 0$ the conjugate form "
        r"$b/\bigl(2(\sqrt{x^2+b} - x)\bigr)$, a sum of positive terms"
    ),
    invalid=(
        InvalidCase({"b": 0.0}, r"b must be a finite real number > 0"),
    ),
    expected=SpecialValues(
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(1.0, 1.0),
    ),
    checks={"b": positive},
    compute_dtype=np.float64,
    parameter_cases=({"b": 1e-6}, {"b": 1.0}, {"b": 1e6}),
)
def squareplus(x, *, b=4.0):
    r"""Squareplus: a smooth rectifier made of a square root, a softplus without exponentials.

    .. math:: \operatorname{squareplus}(x; b) = \frac{x + \sqrt{x^2 + b}}{2}

    Parameters
    ----------
    x : array_like
        Input. float16 and float32 are computed in float64 and rounded once.
    b : float, default 4.0
        Width of the curved region, :math:`b > 0` (``jax.nn.squareplus`` and
        ``keras.activations.squareplus`` default to 4, which makes :math:`f(0) = 1`, Barron's choice for
        resembling softplus). As :math:`b \to 0` the function tends to ReLU.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        The values, in the dtype of ``x``; positive for every finite ``x`` (the left tail is :math:`b/(4|x|)`,
        which underflows to 0 only where it is below the smallest subnormal).

    Notes
    -----
    The derivative is :math:`\tfrac12\,(1 + x/\sqrt{x^2 + b})`, positive everywhere: no kink, no
    convention to choose. Written as above, both cancel for large negative :math:`x`, where
    :math:`\sqrt{x^2+b} \approx -x`: at :math:`x = -10^8` in float64 the textbook value is 0 instead of
    :math:`10^{-8}`. For :math:`x < 0` they are computed in their conjugate forms

    .. math:: \frac{b}{2\left(\sqrt{x^2+b} - x\right)}, \qquad
              \frac{b}{2\sqrt{x^2+b}\,\left(\sqrt{x^2+b} - x\right)},

    which add two positive numbers, and :math:`\sqrt{x^2+b}` comes from ``np.hypot``, which does not
    overflow where :math:`x^2` would (:math:`|x| > 1.34 \cdot 10^{154}` in float64). The tails follow
    :math:`b/(4|x|)` and :math:`x` itself; at :math:`\pm\infty` the limits 0 and :math:`\infty` are returned.

    References
    ----------
    Barron, "Squareplus: a softplus-like algebraic rectifier", arXiv:2112.11687, 2021.

    Examples
    --------
    >>> squareplus(np.array([-1e8, 0.0, 1.5]))
    array([1.e-08, 1.e+00, 2.e+00])
    >>> squareplus(np.array([0.0]), b=1.0)
    array([0.5])
    """
    h, h_lo = _hypotenuse(x, b)
    with np.errstate(invalid="ignore"):  # the error terms of inf + inf are NaN: the limits replace them below
        right, right_lo = _half_sum(x, h, h_lo)
        right = right + right_lo
        denominator, denominator_lo = _half_sum(np.abs(x), h, h_lo)
        left = (0.25 * b) / denominator
        left = left - left * (denominator_lo / denominator)
    y = _stable.select(x >= 0, right, left)
    infinite = np.isinf(x)  # rare: patched in place with the limits, inf and 0
    if np.any(infinite):
        y[infinite] = np.maximum(x[infinite], 0.0)
    return y


#: beyond every float32 and float16 value; its square is finite in float64 and b/(2 * it) rounds to 0 in float32
_NARROW_LIMIT = 1e60


@squareplus.defnarrow
def _squareplus_narrow(x, *, b=4.0):
    # f(x) = f(-|x|) + max(x, 0), since f(x) - f(-x) = x, and f(-|x|) = (b/2) / (sqrt(x**2 + b) + |x|): every
    # sum is of positive terms. In float64 the square of a float32 is exact and the five other roundings are far
    # below half an ULP of float32. A b near the largest float (x**2 + b would overflow) takes the float64 kernel.
    if b > 1e300:
        return squareplus.__wrapped__(x, b=b)
    x = np.clip(x, -_NARROW_LIMIT, _NARROW_LIMIT)  # +-inf: the limits inf and 0, once rounded to float32
    left = np.multiply(x, x)
    left += b
    np.sqrt(left, out=left)
    left += np.abs(x)
    np.divide(0.5 * b, left, out=left)
    left += _stable.at_least(x, 0.0)
    return left


@squareplus.defderivative
def _squareplus_derivative(x, *, b=4.0):
    finite_max = np.finfo(np.float64).max
    x = np.clip(x, -finite_max, finite_max)  # the limits 0 and 1 at -inf and inf, without inf / inf
    h, h_lo = _hypotenuse(x, b)
    ratio = x / h
    ratio = ratio - ratio * (h_lo / h)
    right = 0.5 + 0.5 * ratio
    # two divisions instead of one by h (h - x), which overflows for |x| > 1e154 while the result does not
    denominator, denominator_lo = _half_sum(np.abs(x), h, h_lo)
    left = ((0.25 * b) / h) / denominator
    left = left - left * (h_lo / h + denominator_lo / denominator)
    return _stable.select(x >= 0, right, left)


@squareplus.defsymbolic
def _squareplus_symbolic(b=4.0):
    sp = _sp()
    x = _x()
    return (x + sp.sqrt(x**2 + sp.nsimplify(b))) / 2
