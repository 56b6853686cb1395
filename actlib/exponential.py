r"""Exponential-family rectifiers (ELU, SELU, CELU) and softplus, the smooth ReLU.

float16 and float32 inputs are computed in float64 and rounded once. Negative branches use ``expm1``,
which keeps full relative accuracy near 0 where ``exp(x) - 1`` cancels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _stable
from ._core import (
    BookPlace,
    FrameworkName,
    InvalidCase,
    KinkDerivative,
    Properties,
    PytorchRecord,
    SpecialValues,
    activation,
    finite,
    positive,
)


def _sp():
    import sympy

    return sympy


def _x():
    return _sp().Symbol("x", real=True)


@activation(
    Properties(
        range="(-alpha, inf)", monotonic=True, smoothness="1", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, switch_points=(0.0,), paper="clevert2016", family="exponential",
        pytorch=FrameworkName("torch.nn.ELU", "alpha=1.0"), keras=FrameworkName("keras.activations.elu", "alpha=1.0"),
        jax=FrameworkName("jax.nn.elu", "alpha=1.0"), tensorflow=FrameworkName("tf.nn.elu"),
    ),
    book=BookPlace("variants", 40),
    stable_form=r"`expm1` of $\min(x, 0)$: no $e^x - 1$ cancellation, no overflow in the discarded branch",
    invalid=(
        InvalidCase({"alpha": np.nan}, r"alpha must be a finite real number"),
    ),
    expected=SpecialValues(
        at_infinities=(-1.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 1.0), KinkDerivative(0.0, 0.5, {"alpha": 0.5}),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.elu(t),
        at_infinities=(-1.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, 1.0),
        at_signed_zeros=(-0.0, 0.0),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is NaN, as its input."
        ),
    ),
    checks={"alpha": finite},
    compute_dtype=np.float64,
    parameter_cases=({"alpha": 0.1}, {"alpha": 10.0}, {"alpha": 0.0}, {"alpha": -1.0}, {"alpha": 1e-3}),
)
def elu(x, *, alpha=1.0):
    r"""Exponential linear unit.

    .. math:: \operatorname{elu}(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input.
    alpha : float, default 1.0
        Saturation value for :math:`x \to -\infty` is :math:`-\alpha`.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        ``x`` for :math:`x > 0`, :math:`\alpha(e^x - 1)` otherwise.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 for :math:`x > 0` and :math:`\alpha e^x` for :math:`x \le 0`, so
    ``elu.derivative(0) = alpha`` as PyTorch. With :math:`\alpha = 1` the function is :math:`C^1`;
    otherwise its derivative jumps at 0. Negative outputs pull the mean activation towards zero
    (Clevert et al. 2016).

    References
    ----------
    Clevert, Unterthiner & Hochreiter, "Fast and accurate deep network learning by exponential linear
    units (ELUs)", ICLR 2016.

    Examples
    --------
    >>> elu(np.array([-1e-20, -1.0, 2.0]))
    array([-1.00000000e-20, -6.32120559e-01,  2.00000000e+00])
    >>> float(elu.derivative(0.0, alpha=0.5))
    0.5
    """
    # only the non-positive inputs reach expm1, so nothing overflows
    return _stable.select(x > 0, x, alpha * np.expm1(_stable.at_most(x, 0.0)))


@elu.defderivative
def _elu_derivative(x, *, alpha=1.0):
    d = alpha * np.exp(_stable.at_most(x, 0.0))
    tail = x < _stable.SUBNORMAL_EXP
    if np.any(tail):  # exp(x) alone would be subnormal and lose the bits alpha > 1 would need
        d[tail] = _stable.scaled_exp(alpha, x[tail])
    return _stable.select(x > 0, 1.0, d)


@elu.defsymbolic
def _elu_symbolic(alpha=1.0):
    sp = _sp()
    x = _x()
    return sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True))


#: SELU's constants as PyTorch and the paper print them (Klambauer et al. 2017, eq. 14); the
#: variants chapter derives them again from the fixed-point conditions.
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"
#: the scale and the product scale * alpha as double-doubles (hi correctly rounded, lo the rest), so that a
#: product with them rounds once
_SCALE_HI, _SCALE_LO = 1.0507009873554805, 3.9874847667154144e-17
_SCALE_ALPHA_HI, _SCALE_ALPHA_LO = 1.7580993408473768, 1.41535193800845e-17


def _times_dd(value, hi, lo):
    """``value * (hi + lo)`` with one rounding of the leading product instead of two."""
    return value * hi + value * lo


@activation(
    Properties(
        range="(-scale*alpha, inf)", monotonic=True, smoothness="0", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, kinks=(0.0,), paper="klambauer2017", family="exponential",
        pytorch=FrameworkName("torch.nn.SELU"), keras=FrameworkName("keras.activations.selu"),
        jax=FrameworkName("jax.nn.selu"), tensorflow=FrameworkName("tf.nn.selu"),
    ),
    book=BookPlace("variants", 50),
    stable_form=r"as ELU, with the products by $\lambda$ and $\lambda\alpha$ in double-double",
    expected=SpecialValues(
        at_infinities=(-1.7580993408473768, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0507009873554805, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 1.7580993408473768),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.selu(t),
        at_infinities=(-1.7580993408473766, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0507009873554805, 1.0507009873554805),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(1.7580993408473766,),
        differences=(
            "PyTorch rounds scale * alpha twice (1.7580993408473766, the value at -inf and the derivative at "
            "0); actlib's 1.7580993408473768 is the correctly rounded product (mpmath). At NaN PyTorch's "
            "backward returns 1.0507009873554805, the branch its comparison falls to; actlib's derivative is "
            "NaN, as its input."
        ),
    ),
    compute_dtype=np.float64,
)
def selu(x):
    r"""Scaled exponential linear unit.

    .. math:: \operatorname{selu}(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}
       = \lambda \operatorname{elu}(x; \alpha)

    with :math:`\alpha \approx 1.6732632423543772848` and :math:`\lambda \approx 1.0507009873554804934`
    (``SELU_ALPHA``, ``SELU_SCALE``).

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The scaled ELU values, :math:`\lambda x` or :math:`\lambda\alpha(e^x - 1)`.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is :math:`\lambda` for :math:`x > 0` and :math:`\lambda\alpha e^x` for
    :math:`x \le 0`, so ``selu.derivative(0)`` is :math:`\lambda\alpha` as PyTorch. With LeCun-normal
    weights these constants make mean 0 and variance 1 a stable fixed point of the layer map.
    The products with :math:`\lambda\alpha` use it as a double-double, so only one rounding remains.

    References
    ----------
    Klambauer, Unterthiner, Mayr & Hochreiter, "Self-normalizing neural networks", NeurIPS 2017.

    Examples
    --------
    >>> selu(np.array([-1.0, 0.0, 1.0]))
    array([-1.11133074,  0.        ,  1.05070099])
    >>> float(selu.derivative(0.0))  # scale * alpha correctly rounded; PyTorch gives ...766
    1.7580993408473768
    """
    negative = _times_dd(np.expm1(_stable.at_most(x, 0.0)), _SCALE_ALPHA_HI, _SCALE_ALPHA_LO)
    with np.errstate(over="ignore"):  # scale * x > max float is inf, its correctly rounded value
        positive = _times_dd(x, _SCALE_HI, _SCALE_LO)
    return _stable.select(x > 0, positive, negative)


@selu.defnarrow
def _selu_narrow(x):
    negative = np.expm1(_stable.at_most(x, 0.0))
    negative *= _SCALE_ALPHA_HI
    return _stable.select(x > 0, x * _SCALE_HI, negative)


@selu.defderivative
def _selu_derivative(x):
    negative = _times_dd(np.exp(_stable.at_most(x, 0.0)), _SCALE_ALPHA_HI, _SCALE_ALPHA_LO)
    return _stable.select(x > 0, _SCALE_HI, negative)


@selu.defsymbolic
def _selu_symbolic():
    sp = _sp()
    x = _x()
    alpha, scale = sp.Float(SELU_ALPHA, 40), sp.Float(SELU_SCALE, 40)
    return scale * sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True))


@activation(
    Properties(
        range="(-alpha, inf)", monotonic=True, smoothness="1", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, kinks=(), paper="barron2017", family="exponential",
        pytorch=FrameworkName("torch.nn.CELU", "alpha=1.0"), keras=FrameworkName("keras.activations.celu", "alpha=1.0"),
        jax=FrameworkName("jax.nn.celu", "alpha=1.0"), tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 60),
    stable_form=r"`expm1` of $\min(x/\alpha, 0)$",
    invalid=(
        InvalidCase({"alpha": 0.0}, r"alpha must be a finite real number > 0"),
    ),
    expected=SpecialValues(
        at_infinities=(-1.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 1.0), KinkDerivative(0.0, 1.0, {"alpha": 3.0}),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.celu(t),
        at_infinities=(-1.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, 1.0),
        at_signed_zeros=(-0.0, 0.0),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is NaN, as its input."
        ),
    ),
    checks={"alpha": positive},
    compute_dtype=np.float64,
    parameter_cases=({"alpha": 0.1}, {"alpha": 0.5}, {"alpha": 10.0}, {"alpha": 1e-3}, {"alpha": 1e3}),
)
def celu(x, *, alpha=1.0):
    r"""Continuously differentiable ELU.

    .. math:: \operatorname{celu}(x) = \max(0, x) + \min\left(0, \alpha\left(e^{x/\alpha} - 1\right)\right)

    Parameters
    ----------
    x : array_like
        Input.
    alpha : float, default 1.0
        Must be positive; the saturation value is :math:`-\alpha`.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        ``x`` for :math:`x > 0`, :math:`\alpha(e^{x/\alpha} - 1)` otherwise.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 for :math:`x > 0` and :math:`e^{x/\alpha}` for :math:`x \le 0`: it is 1 from both
    sides at 0 for every :math:`\alpha`, so celu is :math:`C^1` (ELU is only for :math:`\alpha = 1`) and
    ``celu.derivative(0) = 1`` as PyTorch. The input is clipped where :math:`e^{x/\alpha}` is 0 before it is
    divided (no overflow for a small :math:`\alpha`), and the rounding error of :math:`x/\alpha`, which the
    exponential would amplify up to 745 times, is carried (unless :math:`\alpha` is a power of two, where
    the quotient is exact). Barron, "Continuously differentiable exponential linear
    units", arXiv:1704.07483, 2017.

    Examples
    --------
    >>> celu(np.array([-2.0, 3.0]), alpha=2.0)
    array([-1.26424112,  3.        ])
    >>> float(celu.derivative(0.0, alpha=2.0))
    1.0
    """
    clipped, z, z_error = _celu_argument(x, alpha)
    negative = np.expm1(z)
    if z_error is not None:
        negative += (negative + 1.0) * z_error  # expm1(z + z_error) to first order
    negative *= alpha
    # where |x/alpha| < 2**-30, alpha expm1(x/alpha) = x (1 + x/(2 alpha) + ...): x + x z/2 keeps the bits of a
    # tiny x that x/alpha alone would lose in the subnormal range (alpha > 1)
    if alpha != 1:
        tiny = np.abs(z) < _CELU_TINY
        if np.any(tiny):
            small = clipped[tiny]
            negative[tiny] = np.copysign(small + 0.5 * (small * z[tiny]), small)  # celu(-0.0) = -0.0
    return _stable.select(x > 0, x, negative)


@celu.defnarrow
def _celu_narrow(x, *, alpha=1.0):
    # alpha expm1(min(x, 0)/alpha) is 0 for x >= 0 and at least x for x < 0 (expm1(t) >= t), so the larger of it
    # and x is celu, without a select. In float64 the quotient's rounding, amplified by at most |x/alpha| <= 745
    # in expm1, stays far below half an ULP of float32; an alpha so far from 1 that x/alpha could leave float64's
    # normal range takes the float64 kernel.
    if not 2.0**-100 <= alpha <= 2.0**100:
        return celu.__wrapped__(x, alpha=alpha)
    negative = _stable.at_most(x, 0.0)
    if alpha != 1:
        negative /= alpha
    np.expm1(negative, out=negative)
    if alpha != 1:
        negative *= alpha
    return np.maximum(negative, x, out=negative)


#: below this |x/alpha| the series x (1 + z/2) of celu is exact to float64 (its next term is z**2/6 < 2**-61)
_CELU_TINY = 2.0**-30


def _celu_argument(x, alpha):
    """``x`` clipped to ``[-alpha EXP_ZERO, 0]``, ``z = x/alpha`` and its rounding error (the negative branch).

    ``exp(z)`` is 0 below ``-EXP_ZERO``, so the clip changes no result and keeps ``x/alpha`` from overflowing
    (alpha < 1). The derivative ``exp(z)`` amplifies the rounding of ``z`` by ``|z|``, up to 745 times, so
    the error (from Dekker's product, exact by Sterbenz) is applied to first order.
    """
    x = np.clip(x, -_stable.EXP_ZERO * alpha, 0.0)
    if math.frexp(alpha)[0] == 0.5:  # a power of two: the quotient is exact (alpha = 1, the default)
        return x, x / alpha, None
    z = x / alpha
    # |z| <= EXP_ZERO; for alpha beyond 2**996 the general product splits it without overflow
    two_prod = _stable.two_prod_bounded if alpha <= 2.0**996 else _stable.two_prod
    p, p_error = two_prod(z, np.float64(alpha))
    return x, z, ((x - p) - p_error) / alpha


@celu.defderivative
def _celu_derivative(x, *, alpha=1.0):
    _, z, z_error = _celu_argument(x, alpha)
    e = np.exp(z)
    if z_error is not None:
        e += e * z_error
    return _stable.select(x > 0, 1.0, e)


@celu.defsymbolic
def _celu_symbolic(alpha=1.0):
    sp = _sp()
    x = _x()
    return sp.Piecewise((x, x > 0), (alpha * (sp.exp(x / alpha) - 1), True))


def _validate_softplus(params: dict[str, Any]) -> None:
    positive("softplus", "beta", params["beta"])
    if params["threshold"] is not None:
        finite("softplus", "threshold", params["threshold"])


def _scaled_input(x, beta):
    """``beta * x`` as a value and its rounding error (zero when ``beta == 1``)."""
    if beta == 1:
        return x, None
    return _stable.scaled_argument(x, beta)


@activation(
    Properties(
        range="(0, inf)", monotonic=True, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, paper="glorot2011", family="exponential",
        pytorch=FrameworkName("torch.nn.Softplus", "beta=1.0, threshold=20.0"),
        keras=FrameworkName("keras.activations.softplus"), jax=FrameworkName("jax.nn.softplus"),
        tensorflow=FrameworkName("tf.math.softplus"),
    ),
    book=BookPlace("variants", 150),
    stable_form=r"$\max(x, 0) + \operatorname{log1p}(e^{-\vert x\vert})$; no threshold unless asked",
    invalid=(
        InvalidCase({"beta": 0.0}, r"beta must be a finite real number > 0"),
        InvalidCase({"threshold": np.nan}, r"threshold must be a finite real number"),
    ),
    expected=SpecialValues(
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(0.6931471805599453, 0.6931471805599453),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.softplus(t),
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(0.6931471805599453, 0.6931471805599453),
    ),
    validate=_validate_softplus,
    compute_dtype=np.float64,
    parameter_cases=({"beta": 0.5}, {"beta": 2.0}, {"beta": 10.0}, {"beta": 1e-3}, {"beta": 100.0}, {"threshold": 20.0},
                     {"beta": 2.0, "threshold": 5.0}),
)
def softplus(x, *, beta=1.0, threshold=None):
    r"""Softplus, a smooth ReLU.

    .. math:: \operatorname{softplus}(x) = \frac{1}{\beta}\log\left(1 + e^{\beta x}\right)

    Parameters
    ----------
    x : array_like
        Input.
    beta : float, default 1.0
        Sharpness, :math:`\beta > 0`; :math:`\beta \to \infty` approaches ReLU.
    threshold : float or None, default None
        ``None`` computes the exact value everywhere. A number reproduces PyTorch: where
        :math:`\beta x > \text{threshold}` return :math:`x`. PyTorch's default ``threshold=20`` is off by
        :math:`e^{-20} \approx 2\times10^{-9}` relative at :math:`x = 20`, about :math:`5.8\times10^5` ULP in
        float64, which is why it is not the default here.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        The positive values :math:`\log(1 + e^{\beta x})/\beta`.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is :math:`\sigma(\beta x)` (1 where PyTorch's threshold applies). Computed as
    :math:`\max(z, 0) + \log(1 + e^{-|z|})` with :math:`z = \beta x`, which never overflows; for
    :math:`\beta \ne 1` the rounding error of :math:`\beta x` is recovered with Dekker's product and
    applied to first order, because softplus amplifies it by :math:`|z|` in the left tail.

    References
    ----------
    Glorot, Bordes & Bengio, "Deep sparse rectifier neural networks", AISTATS 2011 (softplus as a
    smooth rectifier).

    Examples
    --------
    >>> softplus(np.array([-800.0, 0.0, 20.0]))
    array([ 0.        ,  0.69314718, 20.        ])
    >>> float(softplus(21.0) - 21.0), float(softplus(21.0, threshold=20.0) - 21.0)
    (7.582556804663909e-10, 0.0)
    """
    z, z_error = _scaled_input(x, beta)
    y = _stable.softplus(z)
    if z_error is not None:
        # where beta * x was clipped, softplus is x itself to the last bit
        y = _stable.select(z >= _stable.SATURATED, x, (y + _stable.sigmoid(z) * z_error) / beta)
        tail = z < _stable.SUBNORMAL_EXP
        if np.any(tail):
            # softplus(z) = exp(z) there, (nearly) subnormal: divided by a beta < 1 it would show the bits it
            # lost, so exp(z/2) is applied twice around the division (and the error of z to first order)
            half = np.exp(0.5 * z[tail])
            y[tail] = (half * (1.0 + z_error[tail]) / beta) * half
    if threshold is not None:
        y = _stable.select(z > threshold, x, y)
    return y


@softplus.defderivative
def _softplus_derivative(x, *, beta=1.0, threshold=None):
    z, z_error = _scaled_input(x, beta)
    d = _stable.sigmoid(z)
    if z_error is not None:
        d = d + _stable.sigmoid_derivative(z) * z_error
    if threshold is not None:
        d = _stable.select(z > threshold, 1.0, d)
    return d


@softplus.defsymbolic
def _softplus_symbolic(beta=1.0, threshold=None):
    sp = _sp()
    x = _x()
    exact = sp.log(1 + sp.exp(beta * x)) / beta
    if threshold is None:
        return exact
    return sp.Piecewise((x, beta * x > threshold), (exact, True))
