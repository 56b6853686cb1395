"""Numerically careful building blocks shared by the family modules (float64 in, float64 out).

Each helper is safe for every finite input: no overflow, no invalid operation, no NaN where the
mathematical value is finite. Error-free transformations (Dekker's two-product) recover the rounding
error of a product, so a function that amplifies the error of its argument (``exp`` of a large
argument) can be corrected to first order.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

_UNSIGNED = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def select(condition, if_true, if_false) -> np.ndarray:
    """``np.where(condition, if_true, if_false)`` for floats, computed on their bit patterns.

    The same bits as ``np.where`` (NaN payloads and signed zeros included), without its branch per
    element: on a mask of random signs that branch is mispredicted about half the time, and measured
    on chunks of float64 values it made ``np.where`` take about 4 ns per element against about 1 ns here.
    Operands broadcast as in ``np.where``; the result has their common float dtype.
    """
    true_values, false_values = np.asarray(if_true), np.asarray(if_false)
    dtype = np.result_type(if_true, if_false)
    unsigned = _UNSIGNED[dtype.itemsize]
    true_bits = true_values.astype(dtype, copy=False).view(unsigned)
    false_bits = false_values.astype(dtype, copy=False).view(unsigned)
    mask = np.asarray(condition).astype(unsigned)
    np.negative(mask, out=mask)  # all ones where the condition holds, else all zeros
    bits = np.empty(np.broadcast_shapes(mask.shape, true_bits.shape, false_bits.shape), unsigned)
    np.bitwise_xor(true_bits, false_bits, out=bits)  # f ^ ((t ^ f) & mask): t under the mask, f elsewhere
    np.bitwise_and(bits, mask, out=bits)
    np.bitwise_xor(bits, false_bits, out=bits)
    return bits.view(dtype)


def at_most(x: np.ndarray, limit: float) -> np.ndarray:
    """``np.minimum(x, limit)`` as a two-sided ``np.clip``, which NumPy runs about twice as fast as the
    one-sided forms (those fall back to ``np.minimum``); the same bits, NaN included."""
    return np.clip(x, -np.inf, limit)


def at_least(x: np.ndarray, limit: float) -> np.ndarray:
    """``np.maximum(x, limit)`` for a limit that is not 0 (there the sign of a zero result could differ)."""
    return np.clip(x, limit, np.inf)


_SPLITTER = 134217729.0  # 2**27 + 1, Dekker's constant for splitting a double into two 26-bit halves
_SPLIT_LIMIT = 2.0**996  # beyond this the split would overflow; the inputs here never get near it


def _veltkamp(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``split`` without its overflow guard, for ``|a| <= 2**996``."""
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp split: ``a == hi + lo`` with both halves fitting in 26 bits."""
    scaled = np.abs(a) > _SPLIT_LIMIT
    if not np.any(scaled):  # the usual case: nothing to scale, and the select below would return a
        return _veltkamp(a)
    a_safe = select(scaled, a * 2.0**-54, a)
    hi, lo = _veltkamp(a_safe)
    return select(scaled, hi * 2.0**54, hi), select(scaled, lo * 2.0**54, lo)


def _dekker_product(a: np.ndarray, b: np.ndarray, splitter) -> tuple[np.ndarray, np.ndarray]:
    p = a * b
    a_hi, a_lo = splitter(a)
    b_hi, b_lo = splitter(b)
    e = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return p, e


def two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker's product: ``p + e == a * b`` exactly (barring underflow), ``p = fl(a * b)``."""
    return _dekker_product(a, b, split)


def two_prod_bounded(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``two_prod`` for ``|a|, |b| <= 2**996``: the split needs no overflow guard, which saves two passes."""
    return _dekker_product(a, b, _veltkamp)


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's sum: ``s + e == a + b`` exactly, ``s = fl(a + b)``."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


#: the largest float64: inputs are clipped to it where +-inf would meet a zero gate (inf * 0 = NaN)
FLOAT64_MAX = float(np.finfo(np.float64).max)

#: exp(t) is 0 in float64 below -745.13 (half the smallest subnormal); clipping an argument at -EXP_ZERO
#: changes no exponential and keeps a quotient or product that leads to it from overflowing
EXP_ZERO = 800.0

#: beyond this magnitude every exp(-|x|) in these formulas is 0 and every gate is saturated, so
#: arguments are clipped here before a square, a cube or a product with a parameter could overflow
SATURATED = 1.0e5


def scaled_argument(x: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """``factor * x`` as a value and its rounding error, with ``|factor * x|`` clipped to SATURATED.

    A zero factor gives zeros, also for ``x = +-inf`` (where ``0 * x`` would be NaN).
    """
    if factor == 0:
        return np.zeros_like(x), np.zeros_like(x)
    limit = SATURATED / abs(factor)
    return two_prod(np.clip(x, -limit, limit), np.float64(factor))


def scaled_exp(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``a * exp(s)`` for ``s <= 0`` without losing bits when ``exp(s)`` alone would be subnormal.

    ``exp(s/2)`` is applied twice, so the intermediate stays normal while the product is formed.
    """
    half = np.exp(0.5 * s)
    return (a * half) * half


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function by sign: ``1/(1+e)`` or ``e/(1+e)`` with ``e = exp(-|x|) <= 1``."""
    e = np.exp(-np.abs(x))
    return select(x >= 0, 1.0, e) / (1.0 + e)


def sigmoid_derivative(x: np.ndarray) -> np.ndarray:
    """``sigma(x) * sigma(-x) = e / (1 + e)**2`` with ``e = exp(-|x|)``: no ``1 - sigma`` cancellation."""
    e = np.exp(-np.abs(x))
    one_plus = 1.0 + e
    return e / (one_plus * one_plus)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))``."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


#: where tanh_derivative switches from 1 - tanh**2 to 4e/(1 + e)**2: below, tanh**2 < 0.31 and the difference
#: loses at most two bits; above, e = exp(-2|x|) < 0.29 and the quotient has no cancellation at all
TANH_DERIVATIVE_SWITCH = 0.625


def tanh_derivative(x: np.ndarray) -> np.ndarray:
    """``sech(x)**2``: ``1 - tanh**2`` near 0, ``4e / (1 + e)**2`` with ``e = exp(-2|x|)`` elsewhere."""
    small = np.abs(x) < TANH_DERIVATIVE_SWITCH
    t = np.tanh(select(small, x, 0.0))
    e = np.exp(-2.0 * at_most(np.abs(x), SATURATED))
    one_plus = 1.0 + e
    return select(small, 1.0 - t * t, 4.0 * e / (one_plus * one_plus))


# --- root patches --------------------------------------------------------------------------------
# A smooth non-monotonic activation has a derivative that crosses zero at an irrational point r. Any
# formula of the form A(x) - B(x) with A ~ B there loses all relative accuracy near r, however
# accurate A and B are. Near r the derivative is evaluated as a Taylor polynomial in t = x - r, where
# t is exact up to one rounding because r is held as a double-double. The root and coefficients are
# stored by the module that owns the function (generated with mpmath by tests/test_constants.py).


def patch_near_root(x: np.ndarray, result: np.ndarray, root: tuple[float, ...], radius: float) -> np.ndarray:
    """Replace ``result`` by the Taylor polynomial about the root where ``|x - root| < radius``.

    ``root`` is ``(root_hi, root_lo, c0, c1, ...)``: the root as a double-double and the coefficients.
    """
    hi, lo, *coefficients = root
    near = np.abs(x - hi) < radius
    if not np.any(near):
        return result
    t = (x[near] - hi) - lo
    value = np.zeros_like(t)
    for c in coefficients[:0:-1]:
        value = (value + c) * t
    result = np.array(result, copy=True)
    result[near] = value + coefficients[0]
    return result


# --- the normal distribution's upper tail ----------------------------------------------------------
# For u >= 0, Q(u) = 1 - Phi(u) = phi(u) R(u), where R is Mills' ratio and phi(u) = exp(-u**2/2)/sqrt(2 pi).
# GELU and its derivative are exp(-u**2/2) times one of four slowly varying factors of R (``_KINDS``).
# The factor is evaluated as a double-double and u**2 is split exactly (Dekker), so that the exponential
# is exp(s) (1 + e) with s exact: the only error left of any size is the rounding of np.exp itself, and
# exp(-u**2/2), with its argument up to 745, is not allowed to turn one rounding of u**2 into hundreds of ULPs.
#
# On [0, 16] the factor is a Taylor polynomial about the nearest c = i/8; u - c is exact (Sterbenz).
# The coefficients follow from the differential equation R' = u R - 1: with R(c + t) = sum r_k t**k,
#     r_1 = c r_0 - 1,    (k + 1) r_(k+1) = c r_k + r_(k-1),
# and r_0 = R(c) from mpmath's erfc, at 90 digits: the recurrence loses about c**2/2 / ln(10) of them (the
# other solution of the equation grows like exp(u**2/2)). They are stored (``_taylor_tables``).
# Degree 13 with |t| <= 1/16 leaves a truncation error below 2**-62 relative (checked by tests/test_erfc.py).
# Beyond 16, the asymptotic series u R(u) ~ sum_n (-1)**n (2n - 1)!! / u**(2n), enveloping, so its error
# is below the first omitted term: after 13 terms, 25!!/16**26 < 2**-61 relative.

#: the factor F(u) of each kind: the quantity it gives when multiplied by exp(-u**2/2)
_KINDS = {
    "mills": "R(u)",  # exp(-u**2/2) R(u) = sqrt(2 pi) Q(u)
    "tail": "R(u) / sqrt(2 pi)",  # = exp(u**2/2) Q(u): exp(-u**2/2) F = Q(u) = Phi(-u)
    "gelu": "u R(u) / sqrt(2 pi)",  # exp(-u**2/2) F = u Q(u) = -gelu(-u)
    "gelu_derivative": "(R(u) - u) / sqrt(2 pi)",  # exp(-u**2/2) F = Phi(-u) - u phi(u) = gelu'(-u)
}
_STEP = 0.125
_TAYLOR_END = 16.0
_DEGREE = 13
_ASYMPTOTIC_TERMS = 13
#: 1/sqrt(2 pi) as a double-double (hi correctly rounded, lo the rest), the normal density's factor
_INV_ROOT_2PI_HI, _INV_ROOT_2PI_LO = 0.3989422804014327, -2.49232720227773e-17
#: (-1)**n (2n - 1)!! for n = 1, 2, ...: u R(u) ~ 1 + sum_n of them times u**(-2n) (integers, exact in float64)
_ASYMPTOTIC = [float((-1) ** n * math.prod(range(1, 2 * n, 2))) for n in range(1, _ASYMPTOTIC_TERMS)]
#: exp(s) for s < SUBNORMAL_EXP is within a factor 2**-13 of the subnormal range (exp(-708.4) is the smallest
#: normal float64), where a product with it would lose bits: the formulas switch to exp(s/2) applied twice
#: (``scaled_exp``), or, here, 64 ln 2 (split Cody-Waite style, the high half with 30 fractional bits so that
#: s + it is exact) is added to s and 2**-64 applied at the end
SUBNORMAL_EXP = -700.0
_SHIFT_HI = float(np.ldexp(np.rint(np.ldexp(64 * np.log(2.0), 30)), -30))
_SHIFT_LO = 1.0538207733054133e-10  # 64 ln 2 - _SHIFT_HI, rounded


@functools.cache
def _taylor_tables() -> dict[str, np.ndarray]:
    """Per kind, rows ``c0_hi, c0_lo, c1_hi, c1_lo, c2, ..., c13`` by columns ``c = 0, 1/8, ..., 16``.

    Also ``"root"``: the zero ``u0 = 0.7518...`` of ``R(u) - u`` as a double-double, then the
    ``gelu_derivative`` coefficients about it (``c0 = 0``), which replace the column of ``c = 3/4``.
    Computed with mpmath at 90 digits by ``tests/test_constants.py``, which regenerates them and compares
    the bits; stored in ``_mills_taylor.npz`` beside this module.
    """
    with np.load(Path(__file__).with_name("_mills_taylor.npz")) as stored:
        return {kind: stored[kind] for kind in stored.files}


def gelu_derivative_zero() -> float:
    """``u0 = 0.7518...``, where ``R(u) = u`` and so ``gelu'(-u0) = 0``: the table's double-double high part.

    >>> round(gelu_derivative_zero(), 6)
    0.751792
    """
    return float(_taylor_tables()["root"][0])


def _horner_dd(coefficient: Callable[[int], np.ndarray], t: np.ndarray,
               t_lo: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``c0 + c1 (t + t_lo) + c2 t**2 + ... + c13 t**13`` as a double-double, ``coefficient(k)`` being
    row ``k`` of ``c0_hi, c0_lo, c1_hi, c1_lo, c2, ...``: the terms of degree 2 and up, small, in float64."""
    acc = t * coefficient(_DEGREE + 2)
    for k in range(_DEGREE + 1, 4, -1):
        acc += coefficient(k)
        acc *= t
    acc += coefficient(4)
    acc *= t
    acc *= t  # the terms of degree 2 and up
    c1 = coefficient(2)
    p, p_error = two_prod_bounded(t, c1)
    acc += coefficient(1)
    acc += t * coefficient(3)
    if t_lo is not None:
        acc += c1 * t_lo
    acc += p_error
    hi, lo = two_sum(coefficient(0), p)
    lo += acc
    return hi, lo


def _taylor_factor(u: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The factor of ``kind`` for ``0 <= u <= 16`` as a double-double, from the Taylor table."""
    tables = _taylor_tables()
    table = tables[kind]
    centre = np.rint(np.fmin(u, _TAYLOR_END) * (1 / _STEP))  # NaN -> the last column
    index = centre.astype(np.intp)
    centre *= _STEP
    t = at_most(u, _TAYLOR_END) - centre  # exact (Sterbenz); NaN stays NaN
    hi, lo = _horner_dd(lambda k: table[k].take(index), t)
    if kind == "gelu_derivative":  # about the root instead of 3/4, so that the result keeps its relative accuracy
        near = index == round(0.75 / _STEP)
        if np.any(near):
            root = tables["root"]
            t_near = u[near] - root[0]  # exact (Sterbenz)
            hi[near], lo[near] = _horner_dd(lambda k: root[k + 2], t_near, np.float64(-root[1]))
    return hi, lo


def _asymptotic_factor(u: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The factor of ``kind`` for ``u >= 16`` as a double-double, from the asymptotic series of ``u R(u)``."""
    w = 1.0 / (u * u)
    acc = np.full_like(u, _ASYMPTOTIC[-1])
    for a in _ASYMPTOTIC[-2::-1]:
        acc = acc * w + a
    q = acc * w  # u R(u) = 1 + q, |q| < 1/256
    if kind == "mills":
        numerator_hi, numerator_lo = 1.0, q  # u R(u)
    else:
        numerator_hi, numerator_lo = _INV_ROOT_2PI_HI, _INV_ROOT_2PI_HI * q + _INV_ROOT_2PI_LO  # u R(u)/sqrt(2 pi)
    if kind == "gelu":
        return np.full_like(u, numerator_hi), numerator_lo
    # the numerator divided by u, as a double-double
    hi = numerator_hi / u
    p, p_error = two_prod_bounded(hi, u)
    lo = (((numerator_hi - p) - p_error) + numerator_lo) / u
    if kind != "gelu_derivative":
        return hi, lo
    m, m_error = two_prod_bounded(u, np.float64(-_INV_ROOT_2PI_HI))  # - u / sqrt(2 pi)
    s, s_error = two_sum(m, hi)
    return s, s_error + (m_error - u * _INV_ROOT_2PI_LO + lo)


def scaled_tail(u: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    r"""A factor of Mills' ratio ``R(u) = Q(u) / phi(u)``, as a double-double ``(hi, lo)``, for ``u >= 0``.

    ``kind`` is ``"mills"`` (:math:`R(u)`), ``"tail"`` (:math:`R(u)/\sqrt{2\pi} = e^{u^2/2} Q(u)`, which
    is :math:`\operatorname{erfcx}(u/\sqrt2)/2`), ``"gelu"`` (:math:`u R(u)/\sqrt{2\pi}`) or
    ``"gelu_derivative"`` (:math:`(R(u) - u)/\sqrt{2\pi}`). ``hi + lo`` is within about ``2**-60``
    relative of the exact value, also near the zero ``u0 = 0.7518...`` of ``gelu_derivative``, which
    is expanded about ``u0`` itself. ``u`` must satisfy ``u**2 < 1e300``; NaN propagates.

    >>> hi, lo = scaled_tail(np.array([0.0, 1.0, 40.0]), "mills")
    >>> hi + lo  # sqrt(pi/2), R(1), about 1/40
    array([1.25331414, 0.65567954, 0.0249844 ])
    """
    u = np.asarray(u, dtype=np.float64)
    shape = u.shape
    u = u.reshape(-1)
    hi, lo = _taylor_factor(u, kind)
    far = u > _TAYLOR_END
    if np.any(far):
        hi[far], lo[far] = _asymptotic_factor(u[far], kind)
    return hi.reshape(shape), lo.reshape(shape)


def gaussian_times(u: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``exp(-u**2/2) * (hi + lo)`` as a double-double, for ``|u| <= SATURATED``.

    :math:`u^2 = s + e` exactly (two_prod), and :math:`e^{-(s+e)/2} = e^{-s/2}(1 - e/2)` to first order.
    Where :math:`e^{-s/2}` would be subnormal, :math:`64\ln 2` is added to its argument and
    :math:`2^{-64}` applied to the result, so that no bit is lost before the final rounding. The error is
    that of ``np.exp`` (half an ULP) plus about ``2**-60`` relative.

    >>> hi, lo = gaussian_times(np.array([1.0, 38.0]), np.array([1.0, 1.0]), np.zeros(2))
    >>> hi + lo  # exp(-1/2), exp(-722): subnormal
    array([6.06530660e-001, 2.75032531e-314])
    """
    u_hi, u_lo = _veltkamp(u)
    s = -0.5 * (u * u)  # exact halving; minus the rounding error of the square below
    half_error = ((u_hi * u_hi + 2.0 * s) + 2.0 * (u_hi * u_lo)) + u_lo * u_lo  # u**2 - fl(u**2)
    half_error *= -0.5
    tiny = s < SUBNORMAL_EXP
    if np.any(tiny):
        s = select(tiny, s + _SHIFT_HI, s)  # exact: both are multiples of ulp(s)
        half_error += select(tiny, _SHIFT_LO, 0.0)
    e = np.exp(s)  # exp(-u**2/2) = e (1 + half_error) [* 2**-64 where tiny]
    p, p_error = two_prod_bounded(e, hi)
    e *= lo
    half_error *= p + e
    p_error += e
    p_error += half_error
    if np.any(tiny):
        p = select(tiny, (p + p_error) * 2.0**-64, p)  # one rounding, into the subnormal range at worst
        p_error = select(tiny, 0.0, p_error)
    return p, p_error


def normal_cdf(x: np.ndarray) -> np.ndarray:
    r"""The standard normal CDF :math:`\Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2)`, within an ULP.

    For ``x <= 0`` it is :math:`e^{-x^2/2}\,R(|x|)/\sqrt{2\pi}` (``gaussian_times`` of the ``"tail"``
    factor), for ``x > 0`` one minus that, from the double-double. NaN propagates; ``+-inf`` give 1 and 0.

    >>> normal_cdf(np.array([-30.0, -1.0, 0.0, 1.0, np.inf]))
    array([4.90671393e-198, 1.58655254e-001, 5.00000000e-001, 8.41344746e-001,
           1.00000000e+000])
    """
    x = np.asarray(x, dtype=np.float64)
    u = at_most(np.abs(x), SATURATED)
    hi, lo = gaussian_times(u, *scaled_tail(u, "tail"))
    sign = select(x > 0, -1.0, 1.0)  # Phi(x) = Q(u) for x <= 0, 1 - Q(u) for x > 0
    s, s_error = two_sum(select(x > 0, 1.0, 0.0), sign * hi)
    return s + (s_error + sign * lo)
