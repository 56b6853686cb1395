r"""Squashing functions: sigmoid, tanh and their relatives, which map the real line into a bounded interval.

float16 and float32 inputs are computed in float64 and rounded once, so they are correctly rounded
except in rare double-rounding cases. The float64 formulas avoid ``1 - sigmoid`` and ``1 - tanh**2``,
which lose every significant bit in the tails.
"""

from __future__ import annotations

import numpy as np

from . import _stable
from ._core import FrameworkName, Properties, activation


def _sp():
    import sympy

    return sympy


def _x():
    return _sp().Symbol("x", real=True)


@activation(
    Properties(
        range="(0, 1)", monotonic=True, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=True, self_gated=False, paper=None, family="squashing",
        pytorch=FrameworkName("torch.nn.Sigmoid"), keras=FrameworkName("keras.activations.sigmoid"),
        jax=FrameworkName("jax.nn.sigmoid"), tensorflow=FrameworkName("tf.math.sigmoid"),
    ),
    compute_dtype=np.float64,
)
def sigmoid(x):
    r"""Logistic sigmoid.

    .. math:: \sigma(x) = \frac{1}{1 + e^{-x}}

    Parameters
    ----------
    x : array_like
        Input.
    out : ndarray, optional
        Where to write the result.

    Notes
    -----
    :math:`\sigma'(x) = \sigma(x)\,\sigma(-x) \le 1/4`. The textbook ``1/(1+np.exp(-x))`` overflows
    (with a warning) for :math:`x < -709.78`; here :math:`e^{-|x|}` is used, which never overflows, and
    the derivative is computed as :math:`e^{-|x|}/(1+e^{-|x|})^2` rather than
    :math:`\sigma(1-\sigma)`, which returns 0 instead of :math:`e^{-x}` for :math:`x > 37`.

    Examples
    --------
    >>> sigmoid(np.array([-800.0, 0.0, 2.0]))
    array([0.        , 0.5       , 0.88079708])
    >>> float(sigmoid.derivative(40.0))
    4.248354255291589e-18
    """
    return _stable.sigmoid(x)


@sigmoid.defnarrow
def _sigmoid_narrow(x):
    t = np.negative(x)
    with np.errstate(over="ignore"):  # exp(-x) = inf below -709: 1/inf = 0, which is sigma(x) rounded
        np.exp(t, out=t)
    t += 1.0
    return np.divide(1.0, t, out=t)


@sigmoid.defderivative
def _sigmoid_derivative(x):
    return _stable.sigmoid_derivative(x)


@sigmoid.defsymbolic
def _sigmoid_symbolic():
    sp = _sp()
    return 1 / (1 + sp.exp(-_x()))


@activation(
    Properties(
        range="(-inf, 0)", monotonic=True, smoothness="inf", zero_centred=False, bounded_below=False,
        bounded_above=True, self_gated=False, paper=None, family="squashing",
        pytorch=FrameworkName("torch.nn.LogSigmoid"), keras=FrameworkName("keras.activations.log_sigmoid"),
        jax=FrameworkName("jax.nn.log_sigmoid"), tensorflow=FrameworkName("tf.math.log_sigmoid"),
    ),
    compute_dtype=np.float64,
)
def logsigmoid(x):
    r"""Logarithm of the sigmoid.

    .. math:: \log\sigma(x) = -\log(1 + e^{-x}) = -\operatorname{softplus}(-x)

    Notes
    -----
    The derivative is :math:`\sigma(-x)`. Computed as :math:`\min(x, 0) - \log(1 + e^{-|x|})`
    (``log1p``), so :math:`\log\sigma(-1000) = -1000` instead of ``log(0) = -inf``.

    Examples
    --------
    >>> logsigmoid(np.array([-1000.0, 0.0, 40.0]))
    array([-1.00000000e+03, -6.93147181e-01, -4.24835426e-18])
    """
    return _stable.at_most(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


@logsigmoid.defderivative
def _logsigmoid_derivative(x):
    return _stable.sigmoid(-x)


@logsigmoid.defsymbolic
def _logsigmoid_symbolic():
    sp = _sp()
    return -sp.log(1 + sp.exp(-_x()))


@activation(
    Properties(
        range="(-1, 1)", monotonic=True, smoothness="inf", zero_centred=True, bounded_below=True,
        bounded_above=True, self_gated=False, switch_points=(_stable.TANH_DERIVATIVE_SWITCH,), paper=None,
        family="squashing",
        pytorch=FrameworkName("torch.nn.Tanh"), keras=FrameworkName("keras.activations.tanh"),
        jax=FrameworkName("jax.numpy.tanh"), tensorflow=FrameworkName("tf.math.tanh"),
    ),
    compute_dtype=np.float64,
)
def tanh(x):
    r"""Hyperbolic tangent.

    .. math:: \tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}} = 2\sigma(2x) - 1

    Notes
    -----
    The derivative :math:`1 - \tanh^2 x = \operatorname{sech}^2 x \le 1`. For :math:`|x| \ge 0.625` it is
    computed as :math:`4e/(1+e)^2` with :math:`e = e^{-2|x|}`, because :math:`1 - \tanh^2` is 0 once
    :math:`\tanh` rounds to 1 (:math:`|x| > 19` in float64). The write-ups' quotient of exponentials gives
    NaN (inf/inf) beyond :math:`|x| \approx 710`; ``np.tanh`` does not.

    Examples
    --------
    >>> tanh(np.array([-1000.0, 0.0, 0.5]))
    array([-1.        ,  0.        ,  0.46211716])
    >>> float(tanh.derivative(20.0))
    1.6993417021166355e-17
    """
    return np.tanh(x)


@tanh.defderivative
def _tanh_derivative(x):
    return _stable.tanh_derivative(x)


@tanh.defsymbolic
def _tanh_symbolic():
    sp = _sp()
    return sp.tanh(_x())


@activation(
    Properties(
        range="(-1, 1)", monotonic=True, smoothness="1", zero_centred=True, bounded_below=True,
        bounded_above=True, self_gated=False, paper=None, family="squashing",
        pytorch=FrameworkName("torch.nn.Softsign"), keras=FrameworkName("keras.activations.softsign"),
        jax=FrameworkName("jax.nn.soft_sign"), tensorflow=FrameworkName("tf.nn.softsign"),
    ),
    compute_dtype=np.float64,
)
def softsign(x):
    r"""Softsign, a rational squashing function (:math:`\pm 1` at :math:`\pm\infty`, where PyTorch gives NaN).

    .. math:: \operatorname{softsign}(x) = \frac{x}{1 + |x|}

    Notes
    -----
    The derivative is :math:`1/(1+|x|)^2`; it decays polynomially, not exponentially like tanh's. The
    second derivative jumps at 0, so the function is :math:`C^1`. :math:`1 + |x|` cannot overflow:
    near the largest float the 1 is absorbed and the quotient rounds to :math:`\pm 1`, as it should.

    Examples
    --------
    >>> softsign(np.array([-3.0, 0.0, 1.0]))
    array([-0.75,  0.  ,  0.5 ])
    """
    finite = np.clip(x, -_stable.FLOAT64_MAX, _stable.FLOAT64_MAX)  # inf/inf would be NaN; the limit is +-1
    return finite / (1.0 + np.abs(finite))


@softsign.defderivative
def _softsign_derivative(x):
    # 1/(1+|x|)**2 underflows to 0 only where the exact value is below the smallest subnormal
    r = 1.0 / (1.0 + np.abs(x))
    return r * r


@softsign.defsymbolic
def _softsign_symbolic():
    sp = _sp()
    x = _x()
    return x / (1 + sp.Abs(x))


@activation(
    Properties(
        range="[0, 1]", monotonic=True, smoothness="0", zero_centred=False, bounded_below=True,
        bounded_above=True, self_gated=False, kinks=(-3.0, 3.0), paper="howard2019", family="squashing",
        pytorch=FrameworkName("torch.nn.Hardsigmoid"), keras=FrameworkName("keras.activations.hard_sigmoid"),
        jax=FrameworkName("jax.nn.hard_sigmoid"), tensorflow=FrameworkName(None),
    ),
)
def hardsigmoid(x, *, out=None):
    r"""Hard sigmoid: a piecewise-linear sigmoid.

    .. math:: \operatorname{hardsigmoid}(x) = \min\left(\max\left(\frac{x}{6} + \frac12, 0\right), 1\right)
       = \frac{\operatorname{relu6}(x + 3)}{6}

    Notes
    -----
    The derivative is :math:`1/6` on :math:`(-3, 3)` and 0 elsewhere, including :math:`x = \pm 3`, as
    PyTorch. Keras 3 and JAX use this definition; Keras 2 used slope 0.2. Computed as
    ``relu6(x + 3) / 6``, PyTorch's formula; the two roundings stay within 1.2 ULP.

    Examples
    --------
    >>> hardsigmoid(np.array([-4.0, 0.0, 1.5, 4.0]))
    array([0.  , 0.5 , 0.75, 1.  ])
    """
    three, six = x.dtype.type(3), x.dtype.type(6)
    result = np.add(x, three, out=out)  # three passes in place: no temporaries
    np.clip(result, x.dtype.type(0), six, out=result)
    return np.divide(result, six, out=result)


@hardsigmoid.defderivative
def _hardsigmoid_derivative(x):
    return _stable.select((x > -3) & (x < 3), x.dtype.type(1) / x.dtype.type(6), x.dtype.type(0))


@hardsigmoid.defsymbolic
def _hardsigmoid_symbolic():
    sp = _sp()
    return sp.Min(sp.Max(_x() / 6 + sp.Rational(1, 2), 0), 1)


@activation(
    Properties(
        range="(-inf, inf)", monotonic=True, smoothness="inf", zero_centred=True, bounded_below=False,
        bounded_above=False, self_gated=False, switch_points=(1.0,), paper=None, family="shrinkage",
        pytorch=FrameworkName("torch.nn.Tanhshrink"), keras=FrameworkName("keras.activations.tanh_shrink"),
        jax=FrameworkName(None), tensorflow=FrameworkName(None),
    ),
    compute_dtype=np.float64,
)
def tanhshrink(x):
    r"""Tanh shrinkage: the input minus its tanh.

    .. math:: \operatorname{tanhshrink}(x) = x - \tanh x

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

