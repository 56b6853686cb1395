r"""Self-gated activations: the input times a gate computed from the input, :math:`x \cdot g(x)`.

GELU gates with the normal CDF, SiLU/Swish with the sigmoid, Mish with ``tanh(softplus(x))``,
hard-swish with the hard sigmoid. All are smooth (hard-swish piecewise) and non-monotonic: a small dip
below zero for negative inputs, where the derivative crosses zero.

float16 and float32 inputs are computed in float64 and rounded once. In float64 three things need
care: the left tail, where the gate underflows long before ``x * gate`` does (the product is formed
from ``exp(s/2)`` twice); arguments such as ``beta * x`` or ``x**2`` whose rounding error the
exponential amplifies (recovered with Dekker's product); and the zero of the derivative, where a
difference of two nearly equal terms is replaced by a Taylor polynomial about the root.
"""

from __future__ import annotations

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
    one_of,
)
from .evaluation import evaluate_with

#: the cubic coefficient of GELU's tanh form (Hendrycks & Gimpel 2016), as printed: a decimal, not a double
_KAPPA = "0.044715"
#: sqrt(2/pi) and 0.044715 as double-doubles (hi correctly rounded, lo the rest): the tanh form's argument is
#: carried to about 106 bits, because the exponential of the gate amplifies its rounding error
_SQRT_2_OVER_PI_HI, _SQRT_2_OVER_PI_LO = 0.7978845608028654, -4.98465440455546e-17
_KAPPA_HI, _KAPPA_LO = 0.044715, 2.1960211427085595e-18
#: the sigmoid form's slope, as printed: a decimal whose float64 rounding is carried as a low half
_QUICK = "1.702"
_QUICK_HI, _QUICK_LO = 1.702, 4.263256414560601e-17


#: Why the gated functions differ from PyTorch at the infinities (their entries' ``differences``).
_LIMIT_NOT_NAN = (
    "At -inf (and +inf for the derivative) PyTorch's formula multiplies inf by 0 and returns NaN for the value "
    "and derivative; actlib returns the limit, since a NaN would poison a whole training run."
)

def _saturating(kernel):
    """Run ``kernel`` on ``x`` clipped to [-SATURATED, SATURATED] and return ``x`` itself above.

    Beyond 1e5 every gate here is exactly 1 (right) or its product exactly 0 (left) in float64, so the
    clip changes no finite result, and +-inf never meets a 0 gate (``inf * 0`` would be NaN).
    """

    def run(x):
        limit = _stable.SATURATED
        y = kernel(np.clip(x, -limit, limit))
        beyond = x > limit  # rare: patched in place, two passes where a select would take seven
        if np.any(beyond):
            y[beyond] = x[beyond]
        return y

    return run


#: Beyond every float32 and float16 value: +-inf clipped to it meets a gate of 0 or 1 without inf * 0 or
#: inf / inf, and the result rounds back to +-inf (or to a zero) in the input's dtype.
_FAR = 1e300


def _x_sigmoid_narrow(x, beta):
    """``x sigmoid(beta x) = x / (1 + exp(-beta x))`` for float16 and float32 inputs (see ``defnarrow``)."""
    x = np.clip(x, -_FAR, _FAR)
    with np.errstate(over="ignore"):  # exp(-beta x) = inf: x / inf is the zero the exact value rounds to
        t = np.multiply(x, -beta)
        np.exp(t, out=t)
    t += 1.0
    return np.divide(x, t, out=t)


def _clipped(kernel):
    """Derivatives: saturated beyond 1e5, so the clipped input gives the limit, 0 or 1."""

    def run(x):
        return kernel(np.clip(x, -_stable.SATURATED, _stable.SATURATED))

    return run


def _sp():
    import sympy

    return sympy


def _x():
    return _sp().Symbol("x", real=True)


# The zeros of the derivatives of silu, mish and gelu(approximate="tanh") as double-doubles, then the Taylor
# coefficients c0, c1, ..., c24 of the derivative about them (c0 = 0 up to rounding): near a zero the
# derivative's formula is a difference of nearly equal terms, and the polynomial in x - root keeps its
# relative accuracy (``_stable.patch_near_root``). Generated with mpmath by tests/test_constants.py.
_SILU_DERIVATIVE_ROOT = (
    -1.2784645427610737, -1.0946994183093437e-16, 0.0, 0.2178117057198001, 0.1466487969969469,
    0.018874814223782312, -0.015222655223188032, -0.006606589138356696, 0.000126627410081122,
    0.0007985218818397998, 0.00018570724361186496, -4.090534237428612e-05, -2.9733542213263917e-05,
    -2.942631888842464e-06, 2.346029682463866e-06, 8.599695028268575e-07, -3.051244750055421e-08,
    -9.266646309267441e-08, -1.8877622907727957e-08, 4.619379769031606e-09, 2.9177603026903803e-09,
    2.3648315053103244e-10, -2.251366201881081e-10, -7.50344609385287e-11, 3.998547874723996e-12,
    8.04274075537398e-12, 1.4842855116792256e-12,
)
_MISH_DERIVATIVE_ROOT = (
    -1.1924312145154952, -4.8484829848031044e-17, 0.0, 0.2669479140495345, 0.20473126408010586,
    0.04190782104360987, -0.020271822716684245, -0.01582112656173338, -0.0033606849270232685,
    0.0010924055409445854, 0.0009898181021289196, 0.00025412936386191073, -4.1961496031696126e-05,
    -5.582891567360688e-05, -1.72992708103044e-05, 9.427361327376651e-07, 2.9088199364912223e-06,
    1.071676702702074e-06, 2.6879417855557728e-08, -1.4117255919499382e-07, -6.174424363104907e-08,
    -5.460186173028381e-09, 6.3895954615089855e-09, 3.3604012383661332e-09, 4.817646300218697e-10,
    -2.6751871594311224e-10, -1.7442209713382678e-10,
)
_GELU_TANH_DERIVATIVE_ROOT = (
    -0.7524614220710163, 3.635560509207687e-17, 0.0, 0.4304000910248585, 0.38751844613578895,
    -0.01578285352184803, -0.11394448308095899, -0.01661932834305256, 0.019682309459833118,
    0.005261059254921912, -0.0024227318458750974, -0.0009274420230205449, 0.00026392764052681053,
    0.00012425227802639782, -3.4956171694436116e-05, -1.5950896871645105e-05, 5.918611710894005e-06,
    2.4335516344299543e-06, -9.898647747433667e-07, -4.3102482988029016e-07, 1.4157556987729473e-07,
    7.520740909289922e-08, -1.6978217459781023e-08, -1.196180847972441e-08, 1.7637802707907564e-09,
    1.744987137846621e-09, -1.708811216951738e-10,
)


# --- sigmoid-gated: silu and swish -----------------------------------------------------------------


def _x_sigmoid(x, z, z_error):
    """``x * sigmoid(z + z_error)`` for ``z`` the rounded ``beta * x``; no overflow, no lost tail."""
    # x / (1 + E) with E = e^-z: the sum 1 + E is carried with its rounding error, and the error of z
    # enters as E(1 - z_error), so besides exp only the division and one correction round
    e_minus_z = _stable.at_least(z, _stable.SUBNORMAL_EXP)
    np.negative(e_minus_z, out=e_minus_z)
    np.exp(e_minus_z, out=e_minus_z)
    one_plus, one_plus_error = _stable.two_sum(1.0, e_minus_z)
    if z_error is not None:
        one_plus_error -= e_minus_z * z_error
    y = np.divide(x, one_plus, out=e_minus_z)  # the quotient
    one_plus_error /= one_plus
    one_plus_error *= y
    y -= one_plus_error
    tail = z < _stable.SUBNORMAL_EXP
    if np.any(tail):
        # x exp(z) first: x * (1 + z_error) would overflow at x = -max (beta < 1), where the product is 0
        y[tail] = _stable.scaled_exp(x[tail], z[tail])
        if z_error is not None:
            y[tail] *= 1.0 + z_error[tail]
    # the gate is positive, so the result has the sign of x; at x = -0 the correction's -0 - -0 gave +0
    return np.copysign(y, x, out=y)


def _silu_derivative_of(z):
    """``d/dz [z sigmoid(z)] = sigmoid(z) (1 + z sigmoid(-z))`` written without cancellation except at the root."""
    e = np.exp(-np.abs(z))
    one_plus = 1.0 + e
    positive = (1.0 + e + z * e) / (one_plus * one_plus)
    negative = e * ((1.0 + z) + e) / (one_plus * one_plus)
    d = _stable.select(z >= 0, positive, negative)
    tail = z < _stable.SUBNORMAL_EXP
    if np.any(tail):
        d[tail] = _stable.scaled_exp(1.0 + z[tail], z[tail])
    return _stable.patch_near_root(z, d, _SILU_DERIVATIVE_ROOT, radius=0.1)


def _silu_second_derivative_of(z):
    s = _stable.sigmoid(z)
    s_neg = _stable.sigmoid(-z)
    return s * s_neg * (2.0 + z * (s_neg - s))


@activation(
    Properties(
        range="[-0.27846, inf)", monotonic=False, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=True, paper="elfwing2018", family="gated",
        pytorch=FrameworkName("torch.nn.SiLU"), keras=FrameworkName("keras.activations.silu"),
        jax=FrameworkName("jax.nn.silu"), tensorflow=FrameworkName("tf.nn.silu"),
    ),
    book=BookPlace("variants", 80),
    stable_form=(
        r"$x/(1+e^{-x})$ with $1+e^{-x}$ carried exactly; $(x e^{x/2})\,e^{x/2}$ for $x < -700$; Taylor "
        r"polynomial at the zero of the derivative"
    ),
    expected=SpecialValues(
        at_infinities=(-0.0, np.inf, np.nan),
        derivative_at_infinities=(-0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.silu(t),
        at_infinities=(np.nan, np.inf, np.nan),
        derivative_at_infinities=(np.nan, np.nan, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        differences=_LIMIT_NOT_NAN,
    ),
    compute_dtype=np.float64,
)
def silu(x):
    r"""Sigmoid-weighted linear unit (SiLU), Swish with :math:`\beta = 1`.

    .. math:: \operatorname{silu}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values :math:`x\sigma(x)`. Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative :math:`\sigma(x)\,(1 + x\,\sigma(-x))` vanishes at :math:`x \approx -1.2785`, the
    minimum :math:`\approx -0.2785`. Near that root it is evaluated as a Taylor polynomial about the root
    (held to 106 bits), elsewhere as :math:`e(1 + x + e)/(1+e)^2` with :math:`e = e^{-|x|}`.
    For :math:`x < -700` the product is formed as :math:`(x\,e^{x/2})\,e^{x/2}` so it keeps its bits after
    :math:`e^x` alone has become subnormal. PyTorch returns NaN at :math:`x = -\infty` (``-inf/inf``);
    here the limit 0 is returned.

    References
    ----------
    Elfwing, Uchibe & Doya, "Sigmoid-weighted linear units for neural network function approximation
    in reinforcement learning", Neural Networks 107, 2018.

    Examples
    --------
    >>> silu(np.array([-1.0, 0.0, 1.0]))
    array([-0.26894142,  0.        ,  0.73105858])
    >>> float(silu(-720.0))
    -1.46320617774547e-310
    """
    return _saturating(lambda v: _x_sigmoid(v, v, None))(x)


@silu.defderivative
def _silu_derivative(x):
    return _clipped(_silu_derivative_of)(x)


@silu.defsymbolic
def _silu_symbolic():
    sp = _sp()
    x = _x()
    return x / (1 + sp.exp(-x))


@activation(
    Properties(
        range="[-0.27846/beta, inf)", monotonic=False, smoothness="inf", zero_centred=False,
        bounded_below=True, bounded_above=False, self_gated=True, paper="ramachandran2017", family="gated",
        pytorch=FrameworkName(None), keras=FrameworkName("keras.activations.swish"),
        jax=FrameworkName("jax.nn.swish"), tensorflow=FrameworkName("tf.nn.silu", "beta=1.0"),
    ),
    book=BookPlace("variants", 90),
    stable_form=r"as SiLU, with the rounding error of $\beta x$ (Dekker's product) applied to first order",
    invalid=(
        InvalidCase({"beta": np.inf}, r"beta must be a finite real number"),
    ),
    expected=SpecialValues(
        at_infinities=(-0.0, np.inf, np.nan),
        derivative_at_infinities=(-0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    checks={"beta": finite},
    compute_dtype=np.float64,
    parameter_cases=({"beta": 0.0}, {"beta": 0.3}, {"beta": -1.0}, {"beta": 10.0}, {"beta": 1e-3}, {"beta": 100.0}),
)
def swish(x, *, beta=1.0):
    r"""Swish: :math:`x\,\sigma(\beta x)`.

    .. math:: \operatorname{swish}(x; \beta) = \frac{x}{1 + e^{-\beta x}}

    Parameters
    ----------
    x : array_like
        Input.
    beta : float, default 1.0
        :math:`\beta = 1` is :func:`silu`; :math:`\beta = 0` gives :math:`x/2`; :math:`\beta \to \infty`
        approaches ReLU. PyTorch has no separate swish (``nn.SiLU`` is :math:`\beta = 1`).
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        The values :math:`x\sigma(\beta x)`. Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is :math:`\operatorname{silu}'(\beta x)`. No input overflows or gives NaN, for any
    :math:`\beta`: the gate is computed from :math:`\beta x` clipped where it saturates, so
    ``swish(-inf, beta=0.3)`` is 0 and ``swish(inf, beta=0)`` is inf. For :math:`\beta \ne 1` the rounding
    error of :math:`\beta x` is recovered (Dekker's product) and applied to first order.

    References
    ----------
    Ramachandran, Zoph & Le, "Searching for activation functions", arXiv:1710.05941, 2017.

    Examples
    --------
    >>> swish(np.array([-1.0, 1.0]), beta=0.0)
    array([-0.5,  0.5])
    """
    if beta == 1:
        return _saturating(lambda v: _x_sigmoid(v, v, None))(x)
    x = np.clip(x, -_stable.FLOAT64_MAX, _stable.FLOAT64_MAX)  # inf * 0 gate would be NaN
    z, z_error = _stable.scaled_argument(x, beta)
    y = _x_sigmoid(x, z, z_error)
    return _stable.select(np.isinf(x) & (y != 0), x, y)


@silu.defnarrow
def _silu_narrow(x):
    return _x_sigmoid_narrow(x, 1.0)


@swish.defnarrow
def _swish_narrow(x, *, beta=1.0):
    return _x_sigmoid_narrow(x, beta)


@swish.defderivative
def _swish_derivative(x, *, beta=1.0):
    if beta == 1:
        return _clipped(_silu_derivative_of)(x)
    z, z_error = _stable.scaled_argument(x, beta)
    return _silu_derivative_of(z) + _silu_second_derivative_of(z) * z_error


@swish.defsymbolic
def _swish_symbolic(beta=1.0):
    sp = _sp()
    x = _x()
    return x / (1 + sp.exp(-beta * x))


# --- gelu ------------------------------------------------------------------------------------------


def _gelu_exact(x):
    # With u = |x| and Q(u) = 1 - Phi(u): gelu(-u) = -u Q(u) and gelu(u) = u - u Q(u), where
    # u Q(u) = exp(-u^2/2) u R(u)/sqrt(2 pi) comes from _stable as a double-double (R is Mills' ratio).
    # For x > 0 the subtraction is exact (two_sum) and rounded once with the low parts; its result is
    # at least u/2, so the error of u Q(u) (half an ULP of np.exp) is not amplified.
    u = np.abs(x)
    tail_hi, tail_lo = _stable.gaussian_times(u, *_stable.scaled_tail(u, "gelu"))
    head, head_error = _stable.two_sum(_stable.select(x > 0, x, 0.0), -tail_hi)
    return np.copysign(np.abs(head + (head_error - tail_lo)), x)  # keeps the sign of -0.0


def _gelu_exact_derivative(x):
    # gelu'(-u) = Phi(-u) - u phi(u) = exp(-u^2/2) (R(u) - u)/sqrt(2 pi) and gelu'(u) = 1 - gelu'(-u).
    # R(u) - u has no cancellation in the tail (R(u) ~ 1/u). It vanishes at u0 = 0.7518..., where
    # _stable expands it about u0 itself (held as a double-double), so it keeps its relative accuracy.
    u = np.abs(x)
    d_hi, d_lo = _stable.gaussian_times(u, *_stable.scaled_tail(u, "gelu_derivative"))
    sign = _stable.select(x > 0, -1.0, 1.0)
    s, s_error = _stable.two_sum(_stable.select(x > 0, 1.0, 0.0), sign * d_hi)
    return s + (s_error + sign * d_lo)


def _tanh_argument(x):
    """``2u = 2 sqrt(2/pi) (x + 0.044715 x^3)`` as a double-double (hi, lo); saturated beyond |x| = 1e4."""
    x = np.clip(x, -_TANH_FORM_SATURATED, _TANH_FORM_SATURATED)
    square, square_error = _stable.two_prod(x, x)
    cube, cube_error = _stable.two_prod(x, square)
    cube_error = cube_error + x * square_error
    kappa_cube, kc_error = _stable.two_prod(cube, np.float64(_KAPPA_HI))
    kc_error = kc_error + cube * _KAPPA_LO + cube_error * _KAPPA_HI
    inner, inner_error = _stable.two_sum(x, kappa_cube)
    inner_error = inner_error + kc_error
    u, u_error = _stable.two_prod(inner, np.float64(_SQRT_2_OVER_PI_HI))
    u_error = u_error + inner * _SQRT_2_OVER_PI_LO + inner_error * _SQRT_2_OVER_PI_HI
    return 2.0 * u, 2.0 * u_error


#: beyond |x| = 1e4 the tanh form's gate argument 2u exceeds 7e10: the gate is 0 or 1 to every bit, and the
#: cube x**3 (with its Dekker split) stays far from overflow
_TANH_FORM_SATURATED = 1.0e4


def _gelu_tanh(x):
    # 0.5 x (1 + tanh u) = x sigma(2u): no 1 + tanh cancellation in the left tail
    z, z_error = _tanh_argument(x)
    return _x_sigmoid(x, z, z_error)


def _gelu_tanh_derivative(x):
    # d/dx [x sigma(z)] = sigma(z) (1 + x z' sigma(-z)), z = 2u, z' = 2 sqrt(2/pi) (1 + 3 kappa x^2)
    z, z_error = _tanh_argument(x)
    clipped = np.clip(x, -_TANH_FORM_SATURATED, _TANH_FORM_SATURATED)
    dz = 2.0 * _SQRT_2_OVER_PI_HI * (1.0 + 3.0 * _KAPPA_HI * clipped * clipped)
    gate = _stable.sigmoid(z)
    gate_neg = _stable.sigmoid(-z)
    gate = gate * (1.0 + gate_neg * z_error)
    d = gate * (1.0 + x * dz * gate_neg)
    tail = z < _stable.SUBNORMAL_EXP
    if np.any(tail):
        d[tail] = _stable.scaled_exp((1.0 + x[tail] * dz[tail]) * (1.0 + z_error[tail]), z[tail])
    return _stable.patch_near_root(x, d, _GELU_TANH_DERIVATIVE_ROOT, radius=0.3)


def _quick_argument(x):
    """``1.702 x`` as a double-double (hi, lo), with 1.702 itself held to 106 bits; saturated beyond 1e5."""
    limit = _stable.SATURATED / _QUICK_HI
    clipped = np.clip(x, -limit, limit)
    z, z_error = _stable.two_prod(clipped, np.float64(_QUICK_HI))
    return z, z_error + clipped * _QUICK_LO


def _gelu_sigmoid(x):
    z, z_error = _quick_argument(x)
    return _x_sigmoid(x, z, z_error)


def _silu_derivative_carried(z, z_error):
    """``silu'(z + z_error)`` with the denominator ``(1 + e)**2`` carried with its rounding error.

    As ``_silu_derivative_of``, whose few roundings reach 4 ULPs once the error of an argument such as
    ``1.702 x`` is added; the sum ``1 + e`` is split exactly here (Knuth), which leaves about 2.2.
    """
    e = np.exp(-np.abs(z))
    one_plus, one_plus_error = _stable.two_sum(np.ones_like(e), e)
    numerator = _stable.select(z >= 0, (one_plus + z * e) + one_plus_error, e * ((1.0 + z) + e))
    quotient = numerator / (one_plus * one_plus)
    d = quotient - quotient * (2.0 * one_plus_error / one_plus)
    tail = z < _stable.SUBNORMAL_EXP
    if np.any(tail):
        d[tail] = _stable.scaled_exp(1.0 + z[tail], z[tail])
    d = _stable.patch_near_root(z, d, _SILU_DERIVATIVE_ROOT, radius=0.1)
    return d + _silu_second_derivative_of(z) * z_error


def _gelu_sigmoid_derivative(x):
    # d/dx [x sigma(k x)] = silu'(k x): the derivative of silu at z = k x, corrected to first order for z's error.
    # A NaN input is returned as it is: the sign a NaN takes through the arithmetic depends on whether NumPy's
    # vector loop or its remainder loop met it, so chunked and unchunked calls could differ in that bit.
    d = _silu_derivative_carried(*_quick_argument(x))
    return _stable.select(np.isnan(x), x, d)


_GELU_FORMS = {"none": _gelu_exact, "tanh": _gelu_tanh, "sigmoid": _gelu_sigmoid}
_GELU_DERIVATIVES = {"none": _gelu_exact_derivative, "tanh": _gelu_tanh_derivative,
                     "sigmoid": _gelu_sigmoid_derivative}


@activation(
    Properties(
        range="[-0.16997, inf)", monotonic=False, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=True, paper="hendrycks2016", family="gated",
        pytorch=FrameworkName("torch.nn.GELU", "approximate='none'"),
        keras=FrameworkName("keras.activations.gelu", "approximate=False"),
        jax=FrameworkName("jax.nn.gelu", "approximate=True"),
        tensorflow=FrameworkName("tf.nn.gelu", "approximate=False"),
    ),
    book=BookPlace("variants", 70),
    stable_form=(
        r"$\max(x, 0) - e^{-u^2/2}\,u R(u)/\sqrt{2\pi}$ with $u = \vert x\vert$ and Mills' ratio $R$ in "
        r"double-double (Taylor polynomials of $R' = uR - 1$, asymptotic series beyond 16), $u^2$ split "
        r"exactly; tanh form as $x\,\sigma(2u)$; sigmoid form as $x\,\sigma(1.702x)$ with $1.702x$ and 1.702 "
        r"itself in double-double"
    ),
    invalid=(
        InvalidCase({"approximate": "erf"}, r"approximate must be 'none' or 'tanh' or 'sigmoid'"),
    ),
    expected=SpecialValues(
        at_infinities=(-0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.gelu(t),
        at_infinities=(np.nan, np.inf, np.nan),
        derivative_at_infinities=(np.nan, np.nan, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        differences=_LIMIT_NOT_NAN,
    ),
    checks={"approximate": one_of("none", "tanh", "sigmoid")},
    compute_dtype=np.float64,
    parameter_cases=({"approximate": "tanh"}, {"approximate": "sigmoid"}),
)
def gelu(x, *, approximate="none"):
    r"""Gaussian error linear unit.

    .. math:: \operatorname{gelu}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + \operatorname{erf}\frac{x}{\sqrt2}\right)

    with ``approximate='tanh'``

    .. math:: \frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)

    and with ``approximate='sigmoid'``

    .. math:: x\,\sigma(1.702\,x) = \frac{x}{1 + e^{-1.702\,x}}

    Parameters
    ----------
    x : array_like
        Input.
    approximate : {'none', 'tanh', 'sigmoid'}, default 'none'
        PyTorch's and Keras 3's ``keras.activations.gelu`` default is the exact form; ``jax.nn.gelu``
        and ``keras.ops.gelu`` default to the tanh approximation. ``'sigmoid'`` is the form OpenAI's CLIP
        calls ``QuickGELU`` (Hugging Face's ``quick_gelu``), which Hendrycks & Gimpel give as the cheaper
        approximation; PyTorch has no ``approximate`` value for it.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        The values :math:`x\Phi(x)` (or the tanh approximation).
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is :math:`\Phi(x) + x\,\varphi(x)` (exact form). With :math:`u = |x|` and Mills'
    ratio :math:`R(u) = (1 - \Phi(u))/\varphi(u)`, the exact form is computed as
    :math:`\max(x, 0) - e^{-u^2/2}\,u R(u)/\sqrt{2\pi}` and its derivative as
    :math:`[x > 0] \mp e^{-u^2/2}\,(R(u) - u)/\sqrt{2\pi}`: the factors of :math:`R` in double-double
    from Taylor polynomials (about multiples of 1/8, and about the derivative's zero
    :math:`x \approx -0.7518`) or the asymptotic series, and :math:`u^2` split exactly, because one
    rounding of the exponent costs hundreds of ULPs in the tail. Both stay within 1.5 ULPs. The tanh
    form is computed as :math:`x\,\sigma(2u)`, which avoids the cancellation in :math:`1 + \tanh u`, with
    :math:`2u` carried as a double-double. The sigmoid form is computed as :func:`swish` is, with
    :math:`\beta` the decimal 1.702 held as a double-double: its float64 rounding alone costs 106 ULPs
    at :math:`x = -400` (``swish(-400.0, beta=1.702)``), where :math:`e^{1.702 x}` amplifies it. Its
    derivative is :math:`\operatorname{silu}'(1.702\,x)`. PyTorch 2.13 loses the left tail of the exact
    and tanh forms.

    References
    ----------
    Hendrycks & Gimpel, "Gaussian error linear units (GELUs)", arXiv:1606.08415, 2016.

    Examples
    --------
    >>> gelu(np.array([-1.0, 0.0, 1.0]))
    array([-0.15865525,  0.        ,  0.84134475])
    >>> gelu(np.array([-1.0, 0.0, 1.0]), approximate="tanh")
    array([-0.15880801,  0.        ,  0.84119199])
    >>> gelu(np.array([-1.0, 0.0, 1.0]), approximate="sigmoid")
    array([-0.15420423,  0.        ,  0.84579577])
    """
    return _saturating(_GELU_FORMS[approximate])(x)


@gelu.defnarrow
def _gelu_narrow(x, *, approximate="none"):
    if approximate == "tanh":
        return _gelu_tanh_narrow(x)
    if approximate == "sigmoid":
        return _x_sigmoid_narrow(x, _QUICK_HI)
    # gelu(x) = max(x, 0) - u Q(u), u = |x|, Q(u) = Phi(-u) = exp(-u**2/2) t P(t) with t = 3/(3 + u) and P the
    # polynomial _GELU_NARROW_TAIL (relative error below 7e-10, far below half an ULP of float32). The result is
    # at least x/2 for x > 0, so the subtraction does not amplify that error; its sign is that of x (-0 at -inf).
    x = np.clip(x, -_FAR, _FAR)
    u = np.abs(x)
    w = _stable.at_most(u, _GELU_NARROW_END)  # exp(-w**2/2) is 0 from here on
    tail = _scaled_normal_tail_narrow(w)
    np.multiply(w, w, out=w)
    w *= -0.5
    np.exp(w, out=w)
    tail *= w
    tail *= u
    result = _stable.at_least(x, 0.0)
    result -= tail
    return np.copysign(result, x, out=result)


def _scaled_normal_tail_narrow(w):
    """``exp(w**2/2) Q(w) = t P(t)``, ``t = 3/(3 + w)``, for ``0 <= w <= 40``: to 7e-10 relative, a new array."""
    t = w + 3.0
    np.divide(3.0, t, out=t)
    tail = np.full_like(t, _GELU_NARROW_TAIL[-1])
    for coefficient in _GELU_NARROW_TAIL[-2::-1]:
        tail *= t
        tail += coefficient
    tail *= t
    return tail


def _gelu_tanh_narrow(x):
    """``x sigma(z)``, ``z = 2 sqrt(2/pi) (x + 0.044715 x**3)``, in plain float64 for float16 and float32 inputs.

    Three roundings leave z within about 4e-16 relative; where the result is a normal float32 number,
    |z| < 110, so exp(-z) carries that as less than 1e-13 relative, far below half an ULP of float32.
    """
    z = _tanh_argument_narrow(x)
    with np.errstate(over="ignore"):  # exp(-z) = inf: x / inf is the zero the exact value rounds to
        np.exp(np.negative(z, out=z), out=z)
    z += 1.0
    return np.divide(np.clip(x, -_FAR, _FAR), z, out=z)  # +-inf: a finite numerator that rounds back to +-inf


def _tanh_argument_narrow(x):
    """``2 sqrt(2/pi) (x + 0.044715 x**3)`` in float64 (a new array), saturated beyond |x| = 1e4."""
    x = np.clip(x, -_TANH_FORM_SATURATED, _TANH_FORM_SATURATED)
    z = np.multiply(x, x)
    z *= _KAPPA_HI
    z *= x
    z += x
    z *= 2.0 * _SQRT_2_OVER_PI_HI
    return z


#: P(t) with exp(u**2/2) Q(u) = t P(t), t = 3/(3 + u), for 0 <= u <= 40 (Q the normal tail), lowest degree first:
#: a least-squares fit weighted by 1/P to 400 001 equally spaced points of [0, 40], the reference being
#: ``_stable.scaled_tail(u, "tail")`` (2**-60). Its relative error is below 7e-10 (checked by tests/test_erfc.py).
_GELU_NARROW_TAIL = (
    0.13298074258530004, 0.13298173267735522, 0.11818196060256567, 0.08896764843942735, 0.046549783941522316,
    0.02548699634450345, -0.08004852270751095, 0.15028294816716348, -0.3452811294573198, 0.4346267251410832,
    -0.29341501246148716, 0.10422032099528988, -0.015534194589471067,
)
_GELU_NARROW_END = 40.0


@gelu.defderivative
def _gelu_derivative(x, *, approximate="none"):
    return _clipped(_GELU_DERIVATIVES[approximate])(x)


@gelu.defnarrow_derivative
def _gelu_derivative_narrow(x, *, approximate="none"):
    if approximate == "sigmoid":
        return _gelu_derivative(x, approximate=approximate)
    if approximate == "tanh":
        return _gelu_tanh_derivative_narrow(x)
    # gelu'(-u) = exp(-u**2/2) (t P(t) - u/sqrt(2 pi)) with the value kernel's tail polynomial, u = |x|, and
    # gelu'(u) = 1 - gelu'(-u). The difference loses the polynomial's 7e-10 relative accuracy near its zero
    # u0 = 0.7518...: within 0.1 of -u0 the float64 kernel, expanded about the zero, takes over (beyond it
    # the error stays below 4e-9 relative, 0.07 ULP of float32).
    u = np.abs(x)
    w = _stable.at_most(u, _GELU_NARROW_END)  # NaN stays NaN; +-inf gives exp(-800) = 0, not inf * 0
    d = _scaled_normal_tail_narrow(w)
    d -= w * _stable._INV_ROOT_2PI_HI
    np.multiply(w, w, out=w)
    w *= -0.5
    np.exp(w, out=w)
    d *= w
    np.subtract(1.0, d, out=d, where=x > 0)
    d += 0.0  # a zero is +0 (far left), as the float64 kernel's
    near = np.abs(x + _stable.gelu_derivative_zero()) < 0.1
    if np.any(near):
        d[near] = _gelu_exact_derivative(x[near])
    return d


def _gelu_tanh_derivative_narrow(x):
    """``sigma(z) (1 + x z' sigma(-z))`` in plain float64, with the float64 kernel's Taylor patch about its zero."""
    clipped = np.clip(x, -_TANH_FORM_SATURATED, _TANH_FORM_SATURATED)
    z = _tanh_argument_narrow(clipped)
    with np.errstate(over="ignore"):  # exp(+-z) = inf gives a gate of exactly 0
        gate_neg = np.exp(z)
        gate = np.exp(np.negative(z, out=z), out=z)
    gate += 1.0
    np.divide(1.0, gate, out=gate)  # sigma(z)
    gate_neg += 1.0
    np.divide(1.0, gate_neg, out=gate_neg)  # sigma(-z)
    slope = np.multiply(clipped, clipped)
    slope *= 3.0 * _KAPPA_HI
    slope += 1.0
    slope *= 2.0 * _SQRT_2_OVER_PI_HI  # z'
    slope *= clipped
    slope *= gate_neg
    slope += 1.0
    slope *= gate
    slope += 0.0  # a zero is +0 (far left)
    nan = np.isnan(x)  # returned as it is: the sign a NaN takes through the arithmetic differs between NumPy's
    if np.any(nan):    # vector and remainder loops, so chunked and unchunked calls could differ in that bit
        slope[nan] = x[nan]
    return _stable.patch_near_root(clipped, slope, _GELU_TANH_DERIVATIVE_ROOT, radius=0.3)


@gelu.defsymbolic
def _gelu_symbolic(approximate="none"):
    sp = _sp()
    x = _x()
    # Written with erfc(-x/sqrt2) (unevaluated: SymPy would turn it into 2 - erfc(x/sqrt2)) and the tanh
    # form as x * sigmoid(2u): the same functions as x/2 (1 + erf(x/sqrt2)) and x/2 (1 + tanh u) without
    # their cancellation in the left tail, so an mpmath evaluation needs no extra digits there.
    if approximate == "none":
        return x / 2 * sp.erfc(-x / sp.sqrt(2), evaluate=False)
    if approximate == "sigmoid":
        return x / (1 + sp.exp(-sp.Rational(_QUICK) * x))
    u = sp.sqrt(2 / sp.pi) * (x + sp.Rational(_KAPPA) * x**3)
    return x / (1 + sp.exp(-2 * u))


# --- mish ------------------------------------------------------------------------------------------


def _mish_parts(x):
    """``tanh(softplus(x))`` and ``sech(softplus(x))**2 * sigmoid(x)`` from ``e = exp(-|x|)``.

    With ``w = 1 + e^x``, ``tanh(log w) = (w^2 - 1)/(w^2 + 1)``; the formulas below are that ratio
    rearranged so that only ``e <= 1`` appears.
    """
    e = np.exp(-np.abs(x))
    two_e = 2.0 * e
    # x <= 0: n = e(e + 2), tanh = n/(n + 2)
    n = e * (e + 2.0)
    gate_neg = n / (n + 2.0)
    # x > 0: tanh = (1 + 2e)/(1 + 2e + 2e^2)
    denominator_pos = 1.0 + two_e + two_e * e
    gate_pos = (1.0 + two_e) / denominator_pos
    gate = _stable.select(x > 0, gate_pos, gate_neg)
    # sech^2(softplus) * sigma(x)
    slope_neg = 4.0 * (n + 1.0) / ((n + 2.0) * (n + 2.0)) * (e / (1.0 + e))
    slope_pos = 4.0 * e * e * (1.0 + e) / (denominator_pos * denominator_pos)
    slope = _stable.select(x > 0, slope_pos, slope_neg)
    return gate, slope


@activation(
    Properties(
        range="[-0.30884, inf)", monotonic=False, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=True, paper="misra2019", family="gated",
        pytorch=FrameworkName("torch.nn.Mish"), keras=FrameworkName("keras.activations.mish"),
        jax=FrameworkName(None), tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 100),
    stable_form=(
        r"the gate $\tanh(\operatorname{softplus}(x))$ as a rational function of $e^{-\vert x\vert}$; "
        r"Taylor polynomial at the zero of the derivative"
    ),
    expected=SpecialValues(
        at_infinities=(-0.0, np.inf, np.nan),
        derivative_at_infinities=(-0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.mish(t),
        at_infinities=(np.nan, np.inf, np.nan),
        derivative_at_infinities=(np.nan, np.nan, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        differences=_LIMIT_NOT_NAN,
    ),
    compute_dtype=np.float64,
)
def mish(x):
    r"""Mish: the input gated by ``tanh(softplus(x))``.

    .. math:: \operatorname{mish}(x) = x \tanh\left(\log(1 + e^x)\right)

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values :math:`x\tanh(\operatorname{softplus}(x))`.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative :math:`\tanh(\operatorname{sp}(x)) + x\,\operatorname{sech}^2(\operatorname{sp}(x))\,\sigma(x)`
    vanishes at :math:`x \approx -1.1924` (Taylor polynomial there). The gate is computed as a rational
    function of :math:`e^{-|x|}`, which never overflows.

    References
    ----------
    Misra, "Mish: a self regularized non-monotonic activation function", BMVC 2020 (arXiv:1908.08681).

    Examples
    --------
    >>> mish(np.array([-1.0, 0.0, 1.0]))
    array([-0.30340146,  0.        ,  0.86509839])
    """
    return _saturating(_mish)(x)


def _mish(x):
    # x > 0: the gate (1 + 2e)/(1 + 2e + 2e^2) with e = exp(-x) <= 1, as in _mish_parts (no cancellation).
    # x <= 0: x g / (g + 2) with g = e(e + 2), e = exp(x) (the same e), and x g carried as double-doubles, so that
    # besides exp only the division and the final correction round. The clip to +-SATURATED (_saturating)
    # bounds every factor, so Dekker's product needs no overflow guard.
    e = np.exp(-np.abs(x))
    two_e = 2.0 * e
    y = (1.0 + two_e) / (1.0 + two_e + two_e * e)
    y *= x
    negative = x <= 0
    if np.any(negative):
        xn = x[negative]
        e = e[negative]
        t, t_error = _stable.two_sum(e, 2.0)
        g, g_error = _stable.two_prod_bounded(e, t)
        g_error = g_error + e * t_error
        xg, xg_error = _stable.two_prod_bounded(xn, g)
        xg_error = xg_error + xn * g_error
        h, h_error = _stable.two_sum(g, 2.0)
        h_error = h_error + g_error
        quotient = xg / h
        with np.errstate(invalid="ignore", divide="ignore"):  # xg = 0 only where x = 0 or e underflowed
            relative = _stable.select(xg != 0, xg_error / xg, 0.0) - h_error / h
        y[negative] = quotient + quotient * relative
    tail = x < _stable.SUBNORMAL_EXP
    if np.any(tail):
        y[tail] = _stable.scaled_exp(x[tail], x[tail])
    return y


@mish.defnarrow
def _mish_narrow(x):
    # tanh(softplus(x)) = n / (n + 2) with n = e (e + 2), e = exp(x): no cancellation anywhere. Above 20 it
    # is 1 - 2e**-2x rounded to 1 in float64, so exp is capped there and the gate stays finite.
    e = np.exp(_stable.at_most(x, _MISH_GATE_IS_ONE))
    n = e + 2.0
    n *= e
    gate = np.divide(n, n + 2.0, out=e)
    return np.multiply(np.clip(x, -_FAR, _FAR), gate, out=gate)


#: above 20, tanh(softplus(x)) = 1 - 2 exp(-2x) + ... rounds to 1 in float64 (2 exp(-40) < 2**-53)
_MISH_GATE_IS_ONE = 20.0


@mish.defderivative
def _mish_derivative(x):
    return _clipped(_mish_derivative_clipped)(x)


def _mish_derivative_clipped(x):
    gate, slope = _mish_parts(x)
    d = gate + x * slope
    # x <= 0: mish' = e (4(1 + x) + e(6 + 4x) + 4e^2 + e^3) / (e^2 + 2e + 2)^2, where 1 + x and 6 + 4x are
    # exact near the root, so only the rounding of e and of a few products remain
    negative = x <= 0
    if np.any(negative):
        xn = x[negative]
        e = np.exp(xn)
        bracket = 4.0 * (1.0 + xn) + e * ((6.0 + 4.0 * xn) + e * (4.0 + e))
        denominator = e * (e + 2.0) + 2.0
        d[negative] = e * bracket / (denominator * denominator)
    tail = x < _stable.SUBNORMAL_EXP
    if np.any(tail):
        d[tail] = _stable.scaled_exp(1.0 + x[tail], x[tail])
    return _stable.patch_near_root(x, d, _MISH_DERIVATIVE_ROOT, radius=0.3)


@mish.defsymbolic
def _mish_symbolic():
    sp = _sp()
    x = _x()
    return x * sp.tanh(sp.log(1 + sp.exp(x)))


# --- hardswish -------------------------------------------------------------------------------------


@activation(
    Properties(
        range="[-0.375, inf)", monotonic=False, smoothness="0", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=True, kinks=(-3.0, 3.0), paper="howard2019", family="gated",
        pytorch=FrameworkName("torch.nn.Hardswish"), keras=FrameworkName("keras.activations.hard_swish"),
        jax=FrameworkName("jax.nn.hard_swish"), tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 140),
    stable_form=r"$x$ clipped to $[-3, 3]$ before $x(x+3)/6$, so the product cannot overflow",
    expected=SpecialValues(
        at_infinities=(-0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(-3.0, 0.0), KinkDerivative(3.0, 1.0),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.hardswish(t),
        at_infinities=(np.nan, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, 1.0),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.0, 1.0),
        differences=(
            "At -inf PyTorch's formula multiplies inf by 0 and returns NaN for the value; actlib returns the "
            "limit, since a NaN would poison a whole training run. At NaN PyTorch's backward returns 1.0, "
            "the branch its comparison falls to; actlib's derivative is NaN, as its input."
        ),
    ),
)
def hardswish(x, *, out=None):
    r"""Hard swish: :math:`x` times the hard sigmoid.

    .. math:: \operatorname{hardswish}(x) = x\,\frac{\operatorname{relu6}(x + 3)}{6}
       = \begin{cases} 0 & x \le -3 \\ x(x+3)/6 & -3 < x < 3 \\ x & x \ge 3 \end{cases}

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values :math:`x\,\operatorname{relu6}(x + 3)/6`.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 0 for :math:`x < -3`, :math:`(2x + 3)/6` on :math:`(-3, 3)` and 1 for :math:`x > 3`.
    At the kinks this returns what PyTorch 2.13's autograd returns: ``hardswish.derivative(-3) = 0`` and
    ``hardswish.derivative(3) = 1``. The input is clipped to :math:`[-3, 3]` before the product, so
    :math:`x(x+3)` cannot overflow; beyond 3 the output is :math:`x` itself.

    References
    ----------
    Howard et al., "Searching for MobileNetV3", ICCV 2019.

    Examples
    --------
    >>> hardswish(np.array([-4.0, -1.5, 1.0, 4.0]))
    array([-0.        , -0.375     ,  0.66666667,  4.        ])
    """
    three, six = x.dtype.type(3), x.dtype.type(6)
    result = np.clip(x, -three, three, out=out)
    scratch = result + three
    result *= scratch
    result /= six  # the formula is 3 for x >= 3; it is below the step k (x for x >= 3) nowhere else:
    # k = min(x, (x - 3) * 2**e) is x for x > 3, 0 at 3 and below the formula for x < 3 (strictly), so
    # max(formula, k) selects without np.where's per-element branch; 2**e * ulp(3) > 4 in every dtype
    np.subtract(x, three, out=scratch)
    with np.errstate(over="ignore"):
        np.multiply(scratch, x.dtype.type(_HARDSWISH_STEP[x.dtype.itemsize]), out=scratch)
    np.minimum(scratch, x, out=scratch)
    return np.maximum(result, scratch, out=result)


_HARDSWISH_STEP = {2: 2.0**12, 4: 2.0**30, 8: 2.0**60}


@hardswish.defderivative
def _hardswish_derivative(x):
    inner = (x + x.dtype.type(1.5)) / x.dtype.type(3)
    return _stable.select(x <= -3, x.dtype.type(0), _stable.select(x >= 3, x.dtype.type(1), inner))


@hardswish.defsymbolic
def _hardswish_symbolic():
    sp = _sp()
    x = _x()
    return x * sp.Min(sp.Max(x + 3, 0), 6) / 6


# How these functions are evaluated fast (actlib.evaluation): the same bits as one plain call.
evaluate_with(gelu, chunk_scale=0.5)
