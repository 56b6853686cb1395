r"""Squashing functions: sigmoid, tanh and their relatives, which map the real line into a bounded interval.

float16 and float32 inputs are computed in float64 and rounded once, so they are correctly rounded
except in rare double-rounding cases. The float64 formulas avoid ``1 - sigmoid`` and ``1 - tanh**2``,
which lose every significant bit in the tails.
"""

from __future__ import annotations

import numpy as np

from . import _stable
from ._core import BookPlace, FrameworkName, KinkDerivative, Properties, PytorchRecord, SpecialValues, activation


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
    book=BookPlace("classic", 10),
    stable_form=(
        r"$e = e^{-\vert x\vert} \le 1$, then $1/(1+e)$ or $e/(1+e)$ by the sign of $x$; derivative "
        r"$e/(1+e)^2$, not $\sigma(1-\sigma)$"
    ),
    expected=SpecialValues(
        at_infinities=(0.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, np.nan),
        at_signed_zeros=(0.5, 0.5),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.sigmoid(t),
        at_infinities=(0.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, np.nan),
        at_signed_zeros=(0.5, 0.5),
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

    Returns
    -------
    ndarray
        The values in :math:`[0, 1]` (0 and 1 only where they are the correctly rounded value).
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

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
    book=BookPlace("classic", 20),
    stable_form=r"$\min(x, 0) - \operatorname{log1p}(e^{-\vert x\vert})$; derivative $\sigma(-x)$",
    expected=SpecialValues(
        at_infinities=(-np.inf, 0.0, np.nan),
        derivative_at_infinities=(1.0, 0.0, np.nan),
        at_signed_zeros=(-0.6931471805599453, -0.6931471805599453),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.logsigmoid(t),
        at_infinities=(-np.inf, 0.0, np.nan),
        derivative_at_infinities=(1.0, 0.0, np.nan),
        at_signed_zeros=(-0.6931471805599453, -0.6931471805599453),
    ),
    compute_dtype=np.float64,
)
def logsigmoid(x):
    r"""Logarithm of the sigmoid.

    .. math:: \log\sigma(x) = -\log(1 + e^{-x}) = -\operatorname{softplus}(-x)

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values :math:`\log\sigma(x) \le 0`. Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

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
    book=BookPlace("classic", 30),
    stable_form=(
        r"`np.tanh`; derivative $1-\tanh^2$ for $\vert x\vert < 0.625$, $4e/(1+e)^2$ with $e = e^{-2\vert "
        r"x\vert}$ beyond"
    ),
    expected=SpecialValues(
        at_infinities=(-1.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.tanh(t),
        at_infinities=(-1.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    compute_dtype=np.float64,
)
def tanh(x):
    r"""Hyperbolic tangent.

    .. math:: \tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}} = 2\sigma(2x) - 1

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values in :math:`[-1, 1]`. Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

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
    book=BookPlace("variants", 160),
    stable_form=(
        r"$x/(1+\vert x\vert)$ with $\pm\infty$ clipped to the largest float, so the limit is $\pm 1$, "
        r"not NaN"
    ),
    expected=SpecialValues(
        at_infinities=(-1.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.softsign(t),
        at_infinities=(np.nan, np.nan, np.nan),
        derivative_at_infinities=(np.nan, np.nan, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        differences=(
            "At -inf and +inf PyTorch computes inf/inf and returns NaN, for the value and the derivative; "
            "actlib returns the limits, -1 and 1, and 0 for the derivative."
        ),
    ),
    compute_dtype=np.float64,
)
def softsign(x):
    r"""Softsign, a rational squashing function (:math:`\pm 1` at :math:`\pm\infty`, where PyTorch gives NaN).

    .. math:: \operatorname{softsign}(x) = \frac{x}{1 + |x|}

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values :math:`x/(1 + |x|)` in :math:`[-1, 1]`.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

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
    book=BookPlace("variants", 130),
    stable_form=r"`relu6(x + 3) / 6`, two roundings (at most 1.2 ULP)",
    expected=SpecialValues(
        at_infinities=(0.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, 0.0),
        at_signed_zeros=(0.5, 0.5),
        kink_derivatives=(KinkDerivative(-3.0, 0.0), KinkDerivative(3.0, 0.0),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.hardsigmoid(t),
        at_infinities=(0.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, 0.0),
        at_signed_zeros=(0.5, 0.5), kink_derivatives=(0.0, 0.0),
    ),
)
def hardsigmoid(x, *, out=None):
    r"""Hard sigmoid: a piecewise-linear sigmoid.

    .. math:: \operatorname{hardsigmoid}(x) = \min\left(\max\left(\frac{x}{6} + \frac12, 0\right), 1\right)
       = \frac{\operatorname{relu6}(x + 3)}{6}

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values :math:`\operatorname{relu6}(x + 3)/6` in :math:`[0, 1]`.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

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
