r"""An example family module, as a contributor would write it: squareplus (Barron 2021), complete in one file.

Nothing in actlib, the book or the other tests names it. ``tests/test_one_entry.py`` imports this module
(which registers it) and shows that it then appears in the registry order, the API page, the chapters'
tables and figures, and the contract, special-value, kink and accuracy tests. The bibliography entry that
a contributor adds to ``book/references.bib`` is :data:`BIBTEX`.
"""

from __future__ import annotations

import numpy as np

from actlib import BookPlace, FrameworkName, InvalidCase, Properties, SpecialValues, activation, positive

#: The entry a contributor adds to book/references.bib with the module.
BIBTEX = """@misc{barron2021,
  author = {Barron, Jonathan T.},
  title = {Squareplus: A Softplus-Like Algebraic Rectifier},
  year = {2021},
  eprint = {2112.11687},
  archivePrefix = {arXiv},
}"""


@activation(
    Properties(
        range="(0, inf)", monotonic=True, smoothness="inf", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, paper="barron2021", family="rectifier",
        pytorch=FrameworkName(None), keras=FrameworkName(None), jax=FrameworkName(None),
        tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 95),
    stable_form=r"$h = \operatorname{hypot}(x, \sqrt{b})$, then $x/2 + h/2$ for $x \ge 0$ and "
    r"$(b/4)/(h/2 - x/2)$ for $x < 0$: no cancellation, no overflow",
    expected=SpecialValues(
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, np.nan),
        at_signed_zeros=(1.0, 1.0),
    ),
    invalid=(InvalidCase({"b": 0.0}, r"b must be a finite real number > 0"),),
    checks={"b": positive},
    compute_dtype=np.float64,
)
def squareplus(x, *, b=4.0):
    r"""Squareplus, an algebraic softplus: :math:`(x + \sqrt{x^2 + b})/2`.

    Parameters
    ----------
    x : array_like
        Input.
    b : float, default 4.0
        Curvature near 0, ``b > 0``.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        The positive values :math:`(x + \sqrt{x^2 + b})/2`.

    Examples
    --------
    >>> float(squareplus(0.0))
    1.0
    """
    # x + sqrt(x^2 + b) cancels for x << 0, where it equals b / (sqrt(x^2 + b) - x); both halves are sums
    # of positive terms, halved before adding so that nothing overflows, and x^2 + b is formed in extended
    # precision (np.longdouble) because its rounding error would otherwise reach 2 ULP near f = 1
    wide = x.astype(np.longdouble)
    h = np.hypot(wide, np.sqrt(np.longdouble(b)))
    with np.errstate(under="ignore", divide="ignore", invalid="ignore"):
        negative = (b / 4) / (0.5 * h - 0.5 * wide)
        positive_side = 0.5 * wide + 0.5 * h
    return np.where(x >= 0, positive_side, negative).astype(x.dtype)


@squareplus.defderivative
def _squareplus_derivative(x, *, b=4.0):
    # 1 - (b/2) / (h (h + x)) for x >= 0 and (b/2) / (h (h - x)) below: sums of positive terms only
    wide = x.astype(np.longdouble)
    h = np.hypot(wide, np.sqrt(np.longdouble(b)))
    with np.errstate(under="ignore", divide="ignore", invalid="ignore"):
        below = (b / 4) / h / (0.5 * h - 0.5 * wide)
        above = 1.0 - (b / 4) / h / (0.5 * h + 0.5 * wide)
    return np.where(x >= 0, above, below).astype(x.dtype)


@squareplus.defsymbolic
def _squareplus_symbolic(b=4.0):
    import sympy

    x = sympy.Symbol("x", real=True)
    return (x + sympy.sqrt(x**2 + sympy.nsimplify(b))) / 2
