r"""An example family module, as a contributor would write it: ISRLU (Carlile et al. 2017), complete in one file.

Nothing in actlib, the book or the other tests names it. ``tests/test_one_entry.py`` imports this module
(which registers it) and shows that it then appears in the registry order, the API page, the chapters'
tables and figures, and the contract, special-value, kink and accuracy tests. The bibliography entry that
a contributor adds to ``book/references.bib`` is :data:`BIBTEX`.
"""

from __future__ import annotations

import numpy as np

from actlib import BookPlace, FrameworkName, InvalidCase, Properties, SpecialValues, activation, positive

#: The entry a contributor adds to book/references.bib with the module.
BIBTEX = """@misc{carlile2017,
  author = {Carlile, Brad and Delamarter, Guy and Kinney, Paul and Marti, Akiko and Whitney, Brian},
  title = {Improving Deep Learning by Inverse Square Root Linear Units ({ISRLUs})},
  year = {2017},
  eprint = {1710.09967},
  archivePrefix = {arXiv},
}"""


@activation(
    Properties(
        range="(-1, inf)", monotonic=True, smoothness="2", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, switch_points=(0.0,), paper="carlile2017", family="rectifier",
        pytorch=FrameworkName(None), keras=FrameworkName(None), jax=FrameworkName(None),
        tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 95),
    stable_form=r"$x/\sqrt{1 + \alpha x^2}$ for $x < 0$ in extended precision, whose range holds $x^2$ "
    r"for every float64 $x$: no overflow, one rounding at the end",
    expected=SpecialValues(
        at_infinities=(-1.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(-0.0, 0.0),
    ),
    invalid=(InvalidCase({"alpha": 0.0}, r"alpha must be a finite real number > 0"),),
    checks={"alpha": positive},
    compute_dtype=np.float64,
    parameter_cases=({"alpha": 0.1}, {"alpha": 10.0}),
)
def isrlu(x, *, alpha=1.0):
    r"""Inverse square root linear unit: :math:`x` for :math:`x \ge 0`, :math:`x/\sqrt{1 + \alpha x^2}` below.

    Parameters
    ----------
    x : array_like
        Input.
    alpha : float, default 1.0
        Saturation: the function tends to :math:`-1/\sqrt{\alpha}` as :math:`x \to -\infty`; ``alpha > 0``.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        The values, in the dtype of ``x``.

    Examples
    --------
    >>> float(isrlu(-1.0, alpha=3.0))
    -0.5
    """
    # np.longdouble (x87 extended on x86-64) holds x**2 for |x| up to 1e308 and rounds 64 bits: the float64
    # result is rounded once more, so it is within half an ULP and a hair of the exact value
    wide = x.astype(np.longdouble)
    with np.errstate(under="ignore", invalid="ignore"):
        negative = wide / np.sqrt(1 + alpha * wide * wide)
        negative = np.where(np.isneginf(wide), -1 / np.sqrt(np.longdouble(alpha)), negative)
    return np.where(x >= 0, x, negative.astype(x.dtype))


@isrlu.defderivative
def _isrlu_derivative(x, *, alpha=1.0):
    # (1 + alpha x^2)^(-3/2) for x < 0, 1 above: continuous at 0, where both sides give 1
    wide = x.astype(np.longdouble)
    with np.errstate(under="ignore", invalid="ignore"):
        root = np.sqrt(1 + alpha * wide * wide)
        below = 1 / (root * root * root)
    return np.where(x >= 0, 1.0, np.where(np.isnan(x), np.nan, below)).astype(x.dtype)


@isrlu.defsymbolic
def _isrlu_symbolic(alpha=1.0):
    import sympy

    x = sympy.Symbol("x", real=True)
    return sympy.Piecewise((x, x >= 0), (x / sympy.sqrt(1 + sympy.nsimplify(alpha) * x**2), True))
