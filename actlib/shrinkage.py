r"""Shrinkage functions: tanhshrink, softshrink and hardshrink, which pull inputs towards zero.

Each is the input minus something (its tanh, or its value clipped to ``[-lambd, lambd]``) or the input
with a band around zero set to zero; they come from sparse coding and denoising (soft and hard
thresholding), where a small input is treated as noise. softshrink and hardshrink are exact in every
dtype (a comparison, one subtraction); tanhshrink is computed in float64, where ``x - tanh(x)`` would
cancel near zero, from its Taylor series (summed as an interpolating polynomial).
"""

from __future__ import annotations

import numpy as np

from . import _stable
from ._core import (
    PIECEWISE_LINEAR,
    BookPlace,
    FrameworkName,
    InvalidCase,
    KinkDerivative,
    Properties,
    PytorchRecord,
    SpecialValues,
    activation,
    nonnegative,
)
from .rectifiers import _at_most, _exact, _nearest


def _sp():
    import sympy

    return sympy


def _x():
    return _sp().Symbol("x", real=True)


@activation(
    Properties(
        range="(-inf, inf)", monotonic=True, smoothness="inf", zero_centred=True, bounded_below=False,
        bounded_above=False, self_gated=False, switch_points=(1.0,), paper=None, family="shrinkage",
        pytorch=FrameworkName("torch.nn.Tanhshrink"), keras=FrameworkName("keras.activations.tanh_shrink"),
        jax=FrameworkName(None), tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 170),
    stable_form=(
        r"$x^3/3$ plus $x^5$ times a polynomial in $x^2$ (Chebyshev interpolant) for $\vert x\vert < 1$; "
        r"$(\vert x\vert - 1) + 2e/(1+e)$ with $e = e^{-2\vert x\vert}$ beyond"
    ),
    expected=SpecialValues(
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(1.0, 1.0, np.nan),
        at_signed_zeros=(0.0, 0.0),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.tanhshrink(t),
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(1.0, 1.0, np.nan),
        at_signed_zeros=(0.0, 0.0),
    ),
    compute_dtype=np.float64,
)
def tanhshrink(x):
    r"""Tanh shrinkage: the input minus its tanh.

    .. math:: \operatorname{tanhshrink}(x) = x - \tanh x

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values :math:`x - \tanh x`. Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is :math:`\tanh^2 x`. Near 0 the difference cancels: :math:`x - \tanh x \approx x^3/3`,
    and the naive difference is wrong in every bit for :math:`|x| < 10^{-8}`. For :math:`|x| < 1` it is
    :math:`x^3/3` (carried to 106 bits) plus :math:`x^5` times a polynomial of degree 16 in :math:`x^2` that
    interpolates the rest of the Taylor series at Chebyshev nodes; beyond,
    :math:`|x| - \tanh|x| = (|x| - 1) + 2e/(1 + e)` with :math:`e = e^{-2|x|}` adds two positive terms
    (``|x| - 1`` is exact), so nothing cancels.

    Examples
    --------
    >>> float(tanhshrink(1e-5))
    3.333333333200001e-16
    """
    return _tanhshrink(x)


_TANHSHRINK_SWITCH = 1.0


@tanhshrink.defnarrow
def _tanhshrink_narrow(x):
    # x - tanh(x) cancels about log2(3 / x**2) bits of float64's 53: at |x| >= 2**-10 that leaves 32, more
    # than float32 needs; below, x**3 (1/3 - 2 x**2 / 15) leaves out a relative 0.16 x**4 < 2**-42
    difference = x - np.tanh(x)
    square = x * x
    series = (1.0 / 3.0 - (2.0 / 15.0) * square) * square * x
    # x != 0 keeps x - tanh(x) = +0 at x = -0, as the float64 kernel and PyTorch
    return _stable.select((np.abs(x) < _TANHSHRINK_NARROW_SERIES) & (x != 0), series, difference)


#: below this |x| the narrow tanhshrink kernel uses its two-term series (see the comment in the kernel)
_TANHSHRINK_NARROW_SERIES = 2.0**-10


def _tanhshrink(x):
    small = np.abs(x) < _TANHSHRINK_SWITCH
    magnitude = np.abs(x)
    e = np.exp(-2.0 * _stable.at_most(magnitude, _stable.SATURATED))
    result = np.copysign((magnitude - 1.0) + 2.0 * e / (1.0 + e), x)
    if np.any(small):
        result[small] = _tanhshrink_series(x[small])
    return result


#: 1/3 as a double-double, the leading coefficient of x - tanh x
_THIRD_HI, _THIRD_LO = 0.3333333333333333, 1.850371707708594e-17


def _tanhshrink_series(x):
    """``x^3 (1/3 + u R(u))``, ``u = x^2``, with the cube and the leading 1/3 carried as double-doubles,
    so only the final addition rounds at full weight."""
    square, square_error = _stable.two_prod_bounded(x, x)  # |x| < 1: no split can overflow
    cube, cube_error = _stable.two_prod_bounded(x, square)
    cube_error = cube_error + x * square_error
    lead, lead_error = _stable.two_prod_bounded(cube, np.float64(_THIRD_HI))
    rest = cube * (_THIRD_LO + square * _tanh_series_tail(square)) + cube_error * _THIRD_HI
    return lead + (lead_error + rest)


# R(u) with x - tanh x = x^3 (1/3 + u R(u)), u = x^2 <= 1, as the polynomial of degree 16 that interpolates it at
# the 17 Chebyshev nodes of [0, 1], solved at 50 digits (tests/test_constants.py regenerates it and compares the
# bits). R is analytic but for the poles of tanh at u = -(pi/2)^2, so the interpolant converges about 12 times
# per degree: at degree 16 its error is below the rounding of its own float64 Horner sum (0.44 against 2**-53
# of the factor 1/3 + u R(u) on a grid of [0, 1]), where the Taylor series needed about 60 terms at |x| = 1.
_TANHSHRINK_TAIL = (
    -0.13333333333333333, 0.053968253968253874, -0.021869488536146106, 0.008863235529554257,
    -0.003592128029546407, 0.0014558343006650383, -0.0005900267376247906, 0.00023912511310237078,
    -9.689889358385351e-05, 3.922792358861506e-05, -1.5802757488685514e-05, 6.247981829673073e-06,
    -2.3415261248882376e-06, 7.788346265109757e-07, -2.076179324969836e-07, 3.795144867987693e-08,
    -3.4603866798429147e-09,
)


def _tanh_series_tail(u):
    """``R(u)`` with ``x - tanh x = x^3 (1/3 + u R(u))`` for ``0 <= u <= 1`` (Horner, in place)."""
    total = np.full_like(u, _TANHSHRINK_TAIL[-1])
    for c in _TANHSHRINK_TAIL[-2::-1]:
        total *= u
        total += c
    return total


@tanhshrink.defderivative
def _tanhshrink_derivative(x):
    t = np.tanh(x)
    return t * t


@tanhshrink.defsymbolic
def _tanhshrink_symbolic():
    sp = _sp()
    x = _x()
    return x - sp.tanh(x)


@activation(
    Properties(
        range="{0} U (-inf, -lambd) U (lambd, inf)", monotonic=True, smoothness="-1", zero_centred=True,
        bounded_below=False, bounded_above=False, self_gated=False, kinks=(-0.5, 0.5), paper=None,
        family="shrinkage", pytorch=FrameworkName("torch.nn.Hardshrink", "lambd=0.5"),
        keras=FrameworkName("keras.activations.hard_shrink", "threshold=0.5"), jax=FrameworkName(None),
        tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 190),
    stable_form=PIECEWISE_LINEAR,
    invalid=(
        InvalidCase({"lambd": -1.0}, r"lambd must be a finite real number >= 0"),
    ),
    expected=SpecialValues(
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(1.0, 1.0, 0.0),
        at_signed_zeros=(0.0, 0.0),
        kink_derivatives=(KinkDerivative(-0.5, 0.0), KinkDerivative(0.5, 0.0),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.hardshrink(t),
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(1.0, 1.0, 1.0),
        at_signed_zeros=(0.0, 0.0), kink_derivatives=(0.0, 0.0),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is 0.0, since its own comparison fails the other way."
        ),
    ),
    checks={"lambd": nonnegative},
    parameter_cases=({"lambd": 0.0}, {"lambd": 2.0}, {"lambd": 0.125}, {"lambd": 1e6}, {"lambd": 0.1}),
)
def hardshrink(x, *, lambd=0.5):
    r"""Hard shrinkage: zero out inputs of magnitude at most ``lambd``.

    .. math:: \operatorname{hardshrink}(x) = \begin{cases} x & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases}

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    lambd : float, default 0.5
        Half-width of the band set to zero, ``lambd >= 0`` (PyTorch's default).
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        ``x`` outside the band :math:`|x| \le \lambda`, zero inside.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 for :math:`|x| > \lambda` and 0 for :math:`|x| \le \lambda`, including
    :math:`x = \pm\lambda`, as PyTorch. The function jumps at :math:`\pm\lambda`.

    Examples
    --------
    >>> hardshrink(np.array([-1.0, -0.5, 0.2, 0.7]))
    array([-1. ,  0. ,  0. ,  0.7])
    """
    # written as "not |x| <= lambd" so that NaN propagates, as in PyTorch
    return np.where(np.abs(x) <= _at_most(x.dtype, lambd), x.dtype.type(0), x)


@hardshrink.defderivative
def _hardshrink_derivative(x, *, lambd=0.5):
    return (np.abs(x) > _at_most(x.dtype, lambd)).astype(x.dtype)


@hardshrink.defsymbolic
def _hardshrink_symbolic(lambd=0.5):
    sp = _sp()
    x = _x()
    lam = _exact(lambd)
    return sp.Piecewise((x, x > lam), (x, x < -lam), (0, True))


@activation(
    Properties(
        range="(-inf, inf)", monotonic=True, smoothness="0", zero_centred=True,
        bounded_below=False, bounded_above=False, self_gated=False, kinks=(-0.5, 0.5), paper=None,
        family="shrinkage", pytorch=FrameworkName("torch.nn.Softshrink", "lambd=0.5"),
        keras=FrameworkName("keras.activations.soft_shrink", "threshold=0.5"), jax=FrameworkName(None),
        tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 180),
    stable_form=PIECEWISE_LINEAR,
    invalid=(
        InvalidCase({"lambd": -0.5}, r"lambd must be a finite real number >= 0"),
    ),
    expected=SpecialValues(
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(1.0, 1.0, 0.0),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(-0.5, 0.0), KinkDerivative(0.5, 0.0),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.softshrink(t),
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(1.0, 1.0, 1.0),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.0, 0.0),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is 0.0, since its own comparison fails the other way."
        ),
    ),
    checks={"lambd": nonnegative},
    parameter_cases=({"lambd": 0.0}, {"lambd": 2.0}, {"lambd": 0.125}, {"lambd": 1e6}, {"lambd": 0.1}),
)
def softshrink(x, *, lambd=0.5, out=None):
    r"""Soft shrinkage (soft thresholding): move every input ``lambd`` towards zero, stopping at zero.

    .. math:: \operatorname{softshrink}(x) = \begin{cases} x - \lambda & x > \lambda \\
       x + \lambda & x < -\lambda \\ 0 & \text{otherwise} \end{cases}

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    lambd : float, default 0.5
        How far every input moves towards zero, ``lambd >= 0`` (PyTorch's default).
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        ``x`` moved ``lambd`` towards zero, and zero (with the sign of ``x``) within the band.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 for :math:`|x| > \lambda` and 0 for :math:`|x| \le \lambda`, including at the
    kinks :math:`\pm\lambda`, as PyTorch.

    Examples
    --------
    >>> softshrink(np.array([-1.0, 0.2, 0.75]))
    array([-0.5 ,  0.  ,  0.25])
    """
    if x.dtype != np.float64 and float(_nearest(x.dtype, lambd)) != lambd:
        # x - lambd rounded once from float64 (x - lambd rounded to the dtype would lose every bit near lambd)
        result = softshrink(x.astype(np.float64), lambd=lambd).astype(x.dtype)
        if out is None:
            return result
        np.copyto(out, result)
        return out
    lam = np.minimum(_nearest(x.dtype, lambd), np.finfo(x.dtype).max)  # inf - inf would be NaN
    # x minus x clipped to [-lambd, lambd]: x -+ lambd outside (one rounding, the same subtraction as
    # x - copysign(lambd, x)) and x - x = +0 inside, which takes the sign of x, as PyTorch's zeros do; three
    # branch-free passes instead of np.where's five
    clipped = np.clip(x, -lam, lam, out=out)
    np.subtract(x, clipped, out=clipped)
    return np.copysign(clipped, x, out=clipped)


@softshrink.defderivative
def _softshrink_derivative(x, *, lambd=0.5):
    return (np.abs(x) > _at_most(x.dtype, lambd)).astype(x.dtype)


@softshrink.defsymbolic
def _softshrink_symbolic(lambd=0.5):
    sp = _sp()
    x = _x()
    lam = _exact(lambd)
    return sp.Piecewise((x - lam, x > lam), (x + lam, x < -lam), (0, True))
