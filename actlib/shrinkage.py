r"""Shrinkage functions: tanhshrink, softshrink and hardshrink, which pull inputs towards zero.

Each is the input minus something (its tanh, or its value clipped to ``[-lambd, lambd]``) or the input
with a band around zero set to zero; they come from sparse coding and denoising (soft and hard
thresholding), where a small input is treated as noise. softshrink and hardshrink are exact in every
dtype (a comparison, one subtraction); tanhshrink is computed in float64, where ``x - tanh(x)`` would
cancel near zero, from its Taylor series.
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
        r"odd Taylor series for $\vert x\vert < 1$; $(\vert x\vert - 1) + 2e/(1+e)$ with $e = e^{-2\vert "
        r"x\vert}$ beyond"
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
    and the naive difference is wrong in every bit for :math:`|x| < 10^{-8}`. For :math:`|x| < 1` the odd
    Taylor series is summed; beyond, :math:`|x| - \tanh|x| = (|x| - 1) + 2e/(1 + e)` with
    :math:`e = e^{-2|x|}` adds two positive terms (``|x| - 1`` is exact), so nothing cancels.

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
    square, square_error = _stable.two_prod(x, x)
    cube, cube_error = _stable.two_prod(x, square)
    cube_error = cube_error + x * square_error
    lead, lead_error = _stable.two_prod(cube, np.float64(_THIRD_HI))
    rest = cube * (_THIRD_LO + square * _tanh_series_tail(square)) + cube_error * _THIRD_HI
    return lead + (lead_error + rest)


# x - tanh x = x^3/3 - 2x^5/15 + ...: the coefficients of x^3, x^5, ..., -2^(2n) (2^(2n) - 1) B_(2n) / (2n)!
# for n = 2, 3, ... (B the Bernoulli numbers). The series in x^2 converges for |x| < pi/2 with ratio
# (2x/pi)^2, so 60 terms reach 1e-17 relative at |x| = 1.
_TANHSHRINK_SERIES = (
    0.3333333333333333, -0.13333333333333333, 0.05396825396825397, -0.021869488536155203, 0.008863235529902197,
    -0.003592128036572481, 0.0014558343870513183, -0.000590027440945586, 0.00023912911424355248,
    -9.691537956929451e-05, 3.927832388331683e-05, -1.5918905069328964e-05, 6.451689215655431e-06,
    -2.6147711512907546e-06, 1.0597268320104654e-06, -4.294911078273806e-07, 1.7406618963571648e-07,
    -7.054636946400968e-08, 2.859136662305254e-08, -1.1587644432798853e-08, 4.6962953982309016e-09,
    -1.903336833931276e-09, 7.713933635359062e-10, -3.126339545892087e-10, 1.26705769303054e-10,
    -5.135191408039368e-11, 2.0812146867700473e-11, -8.434845419094337e-12, 3.4185140868111557e-12,
    -1.385471574294847e-12, 5.61510479241468e-13, -2.2757162553728747e-13, 9.223130585139532e-14,
    -3.737994031096739e-14, 1.5149519187148606e-14, -6.139868862616814e-15, 2.488395122276279e-15,
    -1.0085085566354096e-15, 4.087331226869014e-16, -1.6565329513786285e-16, 6.713675175048712e-17,
    -2.7209500613044588e-17, 1.102759523372237e-17, -4.4693160072374125e-18, 1.8113455516997665e-18,
    -7.3411070113401475e-19, 2.975238606536194e-19, -1.2058187889305074e-19, 4.8869994781043706e-20,
    -1.980626286324087e-20, 8.027175987339371e-21, -3.2532918893703063e-21, 1.3185095398600672e-21,
    -5.343717888893445e-22, 2.165727286213673e-22, -8.777362083427096e-23, 3.557330862200837e-23,
    -1.4417318942624272e-23, 5.843119280863155e-24, -2.3681270468016817e-24,
)


def _tanh_series_tail(u):
    """``R(u)`` with ``x - tanh x = x^3 (1/3 + u R(u))``: the series after its first term (Horner)."""
    total = np.zeros_like(u)
    for c in _TANHSHRINK_SERIES[:0:-1]:
        total = total * u + c
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
