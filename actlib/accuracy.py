"""Accuracy in ULPs against an arbitrary-precision reference (mpmath).

The reference for an activation is its own SymPy expression (``f.symbolic()``), and for the derivative the
SymPy derivative of it, both evaluated with mpmath. Precision is raised until two evaluations agree far
below one ULP of the target dtype, so cancellation inside the reference (``x - tanh(x)`` near 0) cannot
fool the measurement.

The error of a computed value ``y`` against the exact value ``v`` is ``|y - v| / ulp(v)``, where ``ulp(v)``
is the spacing of the target dtype at ``v`` rounded to that dtype (the smallest subnormal below the normal
range). A correctly rounded result has an error of at most 0.5.

>>> import numpy as np
>>> from actlib import sigmoid
>>> report = measure(sigmoid, np.float64, grid=np.array([-800.0, -20.0, 0.0, 3.0, 40.0]))
>>> bool(report.value_max_ulp <= 2 and report.derivative_max_ulp <= 4)
True
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
from mpmath.libmp import MPZ

#: Working precisions tried in turn, in decimal digits, after the starting one: the first taken is the first that
#: at least doubles the start (float64's largest start, 40 + 323 digits, goes on to 750).
_DPS_LADDER = (40, 80, 160, 320, 750, 1500, 3000)


@functools.cache
def _mp_callables(name: str, params_key: tuple) -> tuple[Callable, Callable]:
    value, derivative = _mp_expressions(name, params_key)
    import sympy as sp

    x = sp.Symbol("x", real=True)
    return mpmath_function(value, x), mpmath_function(derivative, x)


@functools.cache
def _mp_expressions(name: str, params_key: tuple) -> tuple[Any, Any]:
    import sympy as sp

    from ._core import ACTIVATIONS

    fn = ACTIVATIONS[name]
    expr = fn.symbolic(**_exact_parameters(dict(params_key)))
    return expr, sp.diff(expr, sp.Symbol("x", real=True))


def _exact_parameters(params: dict) -> dict:
    """Numeric parameters as exact SymPy rationals: the binary value the kernel receives, which mpmath then
    holds at every precision. (A SymPy Float would reach mpmath as its 15-digit decimal: ``alpha=0.1`` would
    be the real 1/10, and ``exp(x/alpha)`` at ``x = -40`` would differ from the kernel's by 190 ULP.)"""
    import sympy as sp

    return {k: sp.Rational(float(v)) if _is_number(v) else v for k, v in params.items()}


# mpmath evaluates exp(1e308) exactly, which takes a tenth of a second: it needs the argument to 308
# digits to place the result. Beyond |a| = 1e30 the value is far outside every float format, and a power
# of two within a factor sqrt(2) stands in: log(1 + exp(a)) then differs from a by at most ln(2)/2,
# a 1e-30 relative error, far below an ULP.
_HUGE = 1.0e30
#: log2(e): exp(a) = 2**(a log2 e)
_LOG2_E = 1.4426950408889634
#: log10(e): exp(-a) has about a log10(e) zeros after the decimal point, the digits a reference needs beyond 1
_LOG10_E = 0.4342944819032518


def _exp(a):
    if abs(a) < _HUGE:
        return mpmath.exp(a)
    return mpmath.ldexp(mpmath.mpf(1), int(a * mpmath.mpf(_LOG2_E)))


def _tanh(a):
    return mpmath.tanh(a) if abs(a) < _HUGE else mpmath.sign(a) * (1 - 2 * _exp(-2 * abs(a)))


def _erf(a):
    return mpmath.erf(a) if abs(a) < _HUGE else mpmath.sign(a) * (1 - _exp(-a * a))


def _erfc(a):
    # mpmath's erfc takes seconds for arguments between about 50 and 700 and fails beyond 1e150. From
    # |a| = 30 on, the asymptotic series exp(-a^2)/(a sqrt(pi)) sum (-1)^k (2k-1)!!/(2a^2)^k is used
    # instead: with 24 terms its truncation error is below 1e-40 relative there.
    if abs(a) < 30:
        return mpmath.erfc(a)
    z = abs(a)
    term, total = mpmath.mpf(1), mpmath.mpf(1)
    for k in range(1, 25):
        term *= -(2 * k - 1) / (2 * z * z)
        total += term
    tail = _exp(-z * z) / (z * mpmath.sqrt(mpmath.pi)) * total
    return tail if a > 0 else 2 - tail


_HUGE_ARGUMENT_SHORTCUTS = {"exp": _exp, "tanh": _tanh, "erf": _erf, "erfc": _erfc}


def mpmath_function(expression: Any, symbol: Any) -> Callable[[Any], Any]:
    """A SymPy expression of one symbol as an mpmath function, as the references of :func:`measure` are made.

    Parameters
    ----------
    expression : sympy.Expr
        The function, for instance ``fn.symbolic()`` or a derivative of it.
    symbol : sympy.Symbol
        Its variable.

    Returns
    -------
    callable
        A function of one ``mpf`` for :func:`reference`; beyond ``|a| = 1e30`` its ``exp``, ``tanh``, ``erf``
        and ``erfc`` take a shortcut whose relative error is far below an ULP.
    """
    import sympy as sp

    return sp.lambdify(symbol, expression, modules=[_HUGE_ARGUMENT_SHORTCUTS, "mpmath"])


@functools.cache
def _bounds(dtype: np.dtype) -> tuple[float, float, mpmath.mpf]:
    """The largest float below the maximum of ``dtype``, its smallest subnormal, and the exact value from
    which a result rounds to inf (the maximum plus half the top binade's spacing)."""
    info = np.finfo(dtype)
    # the top binade's spacing, without asking np.spacing for the step past the largest float
    below_max = float(np.nextafter(info.max, dtype.type(0)))
    top_spacing = float(np.spacing(dtype.type(below_max)))
    overflow = mpmath.fadd(float(info.max), top_spacing / 2, exact=True)
    return below_max, float(info.smallest_subnormal), overflow


def _spacing(value: float, dtype: np.dtype) -> float:
    """ULP of ``value`` once rounded to ``dtype``; overflowing values use the spacing at the largest float."""
    magnitude = min(abs(float(value)), _bounds(dtype)[0])
    if dtype == np.float64:
        return math.ulp(magnitude)  # the same as np.spacing for a float64, without a NumPy scalar
    return float(np.spacing(dtype.type(magnitude)))


def reference(f: Callable[[Any], Any], x: float, dtype: Any, scale: float = 1.0) -> mpmath.mpf:
    """Evaluate ``f`` at the exact binary value ``x`` until two precisions agree to 2**-20 ULP of ``dtype``.

    Parameters
    ----------
    f : callable
        An mpmath function of one ``mpf`` argument.
    x : float
        The input, taken as the exact binary number it is.
    dtype : dtype
        The dtype whose ULP sets the precision needed.
    scale : float, default 1.0
        Bounds how much a parameter stretches the argument of an exponential (``exp(beta x)``,
        ``exp(x / alpha)``): the starting precision allows for ``e**-(scale |x|)`` below 1.

    Returns
    -------
    mpmath.mpf
        The value, accurate to far below one ULP of ``dtype``.
    """
    dtype = np.dtype(dtype)
    tiny = _bounds(dtype)[1]
    previous = None
    # Two precisions can agree on a wrong answer when both round 1 + e**-|x| to 1 or tanh(x) to x, so
    # the ladder starts high enough to resolve those cancellations: e**-|x| has |x|/ln(10) digits below
    # 1, and a polynomial cancellation at small |x| loses about 3 * log10(1/|x|) digits. (Expressions
    # are written so that no erf(x) - 1 cancellation is left for the reference to resolve.)
    # Neither needs resolving below the dtype's smallest subnormal, which caps both terms.
    magnitude = abs(float(x))
    headroom = -np.log10(tiny)  # decimal digits between 1 and the smallest subnormal
    start = 40 + min(_LOG10_E * magnitude * scale, headroom)
    if 0 < magnitude < 1:
        start += min(-3 * np.log10(magnitude), headroom)
    for dps in (int(start), *(d for d in _DPS_LADDER if d >= 2 * start)):
        with mpmath.workdps(dps):
            current = mpmath.mpf(f(mpmath.mpf(float(x))))
            if previous is not None:
                magnitude = float(abs(current))
                scale = max(_spacing(magnitude, dtype), tiny) if mpmath.isfinite(current) else 1.0
                # in mpmath: below float64's 2**-1002, scale * 2**-20 as a float would underflow to 0, and
                # a subnormal result would then have to repeat to the last of thousands of digits
                if abs(current - previous) <= mpmath.ldexp(scale, -20):
                    return current
            previous = current
    return previous


#: Set to a folder to keep the references of :func:`measure` on disk between runs (the test suite does).
REFERENCE_CACHE_VARIABLE = "ACTLIB_REFERENCE_CACHE"
_STORED_BITS = 128


def _references(f: Callable[[Any], Any], expression: Any, xs: np.ndarray, dtype: np.dtype,
                scale: float) -> list[mpmath.mpf]:
    """:func:`reference` at every point of ``xs``, read from the folder ``$ACTLIB_REFERENCE_CACHE`` when an earlier
    run stored them there.

    A reference depends only on the expression, the exact inputs, the target dtype, the argument scale and the
    code that evaluates it: all of them, this module's source and the mpmath and SymPy versions included, make
    the file's name, so a stored value is never one another input would give. Each value is stored as the sign,
    mantissa and exponent of the ``mpf`` rounded to 128 bits, a relative change below 2**-70 ULP of float64, far
    inside the 2**-20 ULP to which :func:`reference` resolves it, and read back without further rounding.
    """
    folder = os.environ.get(REFERENCE_CACHE_VARIABLE)
    if not folder:
        return [reference(f, x, dtype, scale) for x in xs]
    import sympy as sp

    key = hashlib.sha256()
    for part in (_SOURCE_KEY, sp.srepr(expression), dtype.name, repr(float(scale))):
        key.update(part.encode() + b"\0")
    key.update(np.ascontiguousarray(xs).tobytes())
    path = Path(folder) / f"{key.hexdigest()}.json"
    if path.is_file():
        stored = json.loads(path.read_text())
        return [mpmath.mp.make_mpf((sign, MPZ(int(man)), exp, bc)) for sign, man, exp, bc in stored]
    values = [reference(f, x, dtype, scale) for x in xs]
    path.parent.mkdir(parents=True, exist_ok=True)
    written = path.with_name(f"{path.name}.{os.getpid()}")  # another process may write the same file: replace it whole
    with mpmath.workprec(_STORED_BITS):
        rounded = [(+value)._mpf_ for value in values]
    written.write_text(json.dumps([[sign, str(man), exp, bc] for sign, man, exp, bc in rounded]))
    os.replace(written, path)
    return values


def _source_key() -> str:
    import sympy

    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest() + mpmath.__version__ + sympy.__version__


_SOURCE_KEY = _source_key()


def ulp_error(computed: float, exact: mpmath.mpf, dtype: Any) -> float:
    """``|computed - exact|`` in ULPs of ``dtype`` at ``exact`` (0.5 means correctly rounded at worst).

    Parameters
    ----------
    computed : float
        The value actlib returned.
    exact : mpmath.mpf
        The reference value.
    dtype : dtype
        The dtype of ``computed``, whose ULP is the unit.

    Returns
    -------
    float
        The error in ULPs; 0 for an overflow to inf where the exact value overflows too, inf for a
        spurious inf or NaN.
    """
    dtype = np.dtype(dtype)
    computed = float(computed)
    if mpmath.isnan(exact):
        return 0.0 if np.isnan(computed) else np.inf
    _, tiny, overflow = _bounds(dtype)
    if abs(exact) >= overflow:  # the correctly rounded result is +-inf
        return 0.0 if math.isinf(computed) and np.sign(computed) == mpmath.sign(exact) else np.inf
    if not math.isfinite(computed):
        return np.inf
    ulp = max(_spacing(float(exact), dtype), tiny)
    # 60 digits: the difference keeps every bit that shows in a float of the error, whatever the dtype
    difference = mpmath.fsub(computed, exact, prec=_ERROR_BITS)
    return float(abs(mpmath.fdiv(difference, ulp, prec=_ERROR_BITS)))


_ERROR_BITS = mpmath.libmp.dps_to_prec(60)


def _next_floats(point: float, dtype: np.dtype, steps: int) -> list[float]:
    out = []
    up = down = dtype.type(point)
    for _ in range(steps):
        up = np.nextafter(up, dtype.type(np.inf))
        down = np.nextafter(down, dtype.type(-np.inf))
        out += [float(up), float(down)]
    return out


def full_range_grid(dtype: Any, special_points: Iterable[float] = (), per_decade: int = 2,
                    per_decade_near_one: int = 16) -> np.ndarray:
    """Inputs that exercise the whole finite range of ``dtype``.

    Log-spaced magnitudes of both signs from the smallest subnormal to the largest finite value (denser
    from 1e-6 to 1e3, where the activations bend), a uniform grid on [-12, 12], the overflow thresholds
    of ``exp`` in float32 and float64, and every point in ``special_points`` with its three neighbouring
    floats on each side.

    Parameters
    ----------
    dtype : dtype
        float16, float32 or float64.
    special_points : iterable of float, optional
        Kinks and switch points, added with their neighbouring floats.
    per_decade : int, default 2
        Log-spaced magnitudes per decade over the whole range.
    per_decade_near_one : int, default 16
        Log-spaced magnitudes per decade from 1e-6 to 1e3.

    Returns
    -------
    ndarray
        The sorted, distinct inputs in ``dtype``.
    """
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    low = np.log10(float(info.smallest_subnormal))
    high = np.log10(float(info.max))
    exponents = np.linspace(low, high, int((high - low) * per_decade))
    # irregular mantissas avoid testing only round numbers
    exponents = np.clip(exponents + 0.13 * np.sin(np.arange(exponents.size)), low, high - 1e-3)
    # where the functions bend (1e-6 to 1e3) the grid is denser
    bend = np.linspace(-6.0, 3.0, 9 * per_decade_near_one)
    bend = bend + 0.5 / per_decade_near_one * np.sin(np.arange(bend.size) * 1.7)
    magnitudes = 10.0 ** np.concatenate([exponents, bend])
    dense = np.linspace(-12.0, 12.0, 481)
    thresholds = [
        8.0, 16.0, 20.0, 30.0, 37.0, 40.0, 87.0, 88.0, 88.7, 89.0, 103.0, 104.0,
        709.0, 709.78, 710.0, 744.0, 745.0, 746.0, 1000.0,
    ]
    points = [0.0]
    for point in (float(info.smallest_subnormal), float(info.tiny), float(info.max), float(info.eps)):
        points += [point, -point]
    for point in (*thresholds, *special_points):
        if abs(point) <= float(info.max):
            points += [point, -point, *_next_floats(point, dtype, 3), *_next_floats(-point, dtype, 3)]
    grid = np.concatenate([magnitudes, -magnitudes, dense, np.asarray(points)])
    grid = grid[np.isfinite(grid) & (np.abs(grid) <= float(info.max))].astype(dtype)
    return np.unique(grid)


@dataclass
class AccuracyReport:
    """Worst errors of one activation in one dtype."""

    name: str
    dtype: str
    points: int
    value_max_ulp: float
    value_worst_x: float
    derivative_max_ulp: float | None
    derivative_worst_x: float | None

    def row(self) -> dict[str, Any]:
        """The report as a flat dict, for a table."""
        return dict(self.__dict__)


def _evaluate(fn: Callable[..., Any], xs: np.ndarray, params: dict) -> np.ndarray:
    """Elementwise functions at ``xs``; a vector function at the rows its ``accuracy_input(xs)`` gives (the GLU
    family: ``(x, x)``), else at the pairs ``(x, 0)`` (softmax), entry 0: what its ``symbolic()`` describes."""
    if fn.info.properties.elementwise:
        return np.asarray(fn(xs, **params))
    rows = getattr(fn, "accuracy_input", None)
    pairs = rows(xs) if rows is not None else np.stack([xs, np.zeros_like(xs)], axis=-1)
    return np.asarray(fn(pairs, **params))[:, 0]


def _worst(errors: list[float], xs: np.ndarray) -> tuple[float, float]:
    index = int(np.argmax(errors))
    return float(errors[index]), float(xs[index])


def case_kinks(fn: Callable[..., Any], params: dict | None = None) -> tuple[float, ...]:
    """The kinks of ``fn`` with ``params``: its declared kinks, and, for parameters other than the defaults,
    every point where its SymPy expression switches branch (a ``Piecewise`` condition or two arguments of a
    ``Min``/``Max`` equal), such as the bounds of ``hardtanh(x, min_val=-2.0, max_val=0.5)``.

    Parameters
    ----------
    fn : callable
        A registered elementwise activation.
    params : dict, optional
        Its parameters; the defaults if omitted.

    Returns
    -------
    tuple of float
        The points where the derivative jumps, for these parameters.

    Examples
    --------
    >>> import actlib
    >>> case_kinks(actlib.hardtanh, {"min_val": -2.0, "max_val": 0.5})
    (-2.0, 0.5)
    """
    props = fn.info.properties
    params = {k: v for k, v in (params or {}).items() if fn.info.parameters.get(k, _MISSING) != v}
    if not params:
        return tuple(props.kinks)
    import sympy as sp
    from sympy.core.relational import Relational

    x = sp.Symbol("x", real=True)
    expr = fn.symbolic(**_exact_parameters(params))
    points: set[float] = set()
    for relation in expr.atoms(Relational):
        points |= {float(v) for v in sp.solve(relation.lhs - relation.rhs, x)}
    for extremum in expr.atoms(sp.Min, sp.Max):
        arguments = extremum.args
        for i, a in enumerate(arguments):
            for b in arguments[i + 1:]:
                points |= {float(v) for v in sp.solve(a - b, x)}
    return tuple(sorted(points))


_MISSING = object()


def _argument_scale(params: dict) -> float:
    """How far the numeric parameters can stretch an argument: the largest of 1, ``|p|`` and ``1/|p|``."""
    values = [abs(float(v)) for v in params.values() if _is_number(v) and v != 0]
    return max([1.0, *values, *(1 / v for v in values)])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def measure(fn: Callable[..., Any], dtype: Any, grid: np.ndarray | None = None, params: dict | None = None,
            derivative: bool = True, skip_derivative_at: Iterable[float] = ()) -> AccuracyReport:
    """Measure the worst value and derivative error of ``fn`` over ``grid`` in ``dtype``.

    The reference is ``fn.symbolic(**params)``. The derivative is not compared at the exact kink points
    (``skip_derivative_at``, ``fn.info.properties.kinks`` and :func:`case_kinks`): there its value is a
    convention, pinned by its own test. The default grid holds the kinks and switch points with their
    neighbouring floats.

    Parameters
    ----------
    fn : callable
        A registered activation.
    dtype : dtype
        float16, float32 or float64.
    grid : ndarray, optional
        The inputs; :func:`full_range_grid` with the function's kinks and switch points if omitted.
    params : dict, optional
        Parameters of ``fn`` (one of its ``info.parameter_cases``, say); its defaults if omitted.
    derivative : bool, default True
        Measure the derivative too.
    skip_derivative_at : iterable of float, optional
        Further points where the derivative is not compared.

    Returns
    -------
    AccuracyReport
        The worst value and derivative errors in ULPs, and where they occur.
    """
    dtype = np.dtype(dtype)
    params = dict(params or {})
    props = fn.info.properties
    kinks = case_kinks(fn, params)
    if grid is None:
        grid = full_range_grid(dtype, (*props.kinks, *kinks, *props.switch_points))
    xs = np.asarray(grid, dtype=dtype)
    params_key = tuple(sorted(params.items()))
    mp_value, mp_derivative = _mp_callables(fn.__name__, params_key)
    value_expression, derivative_expression = _mp_expressions(fn.__name__, params_key)
    scale = _argument_scale(params)
    y = _evaluate(fn, xs, params)
    exact = _references(mp_value, value_expression, xs, dtype, scale)
    value_errors = [ulp_error(yi, exact_i, dtype) for yi, exact_i in zip(y, exact, strict=True)]
    value_max, value_x = _worst(value_errors, xs)
    derivative_max = derivative_x = None
    if derivative and props.elementwise:
        kinks = set(skip_derivative_at) | set(props.kinks) | {float(dtype.type(k)) for k in kinks}
        keep = np.array([float(v) not in kinks for v in xs], dtype=bool)
        dxs = xs[keep]
        dy = np.asarray(fn.derivative(dxs, **params))
        exact = _references(mp_derivative, derivative_expression, dxs, dtype, scale)
        errors = [ulp_error(di, exact_i, dtype) for di, exact_i in zip(dy, exact, strict=True)]
        derivative_max, derivative_x = _worst(errors, dxs)
    return AccuracyReport(fn.__name__, dtype.name, xs.size, value_max, value_x, derivative_max, derivative_x)


def worst_points(fn: Callable[..., Any], dtype: Any, grid: np.ndarray, which: str = "value",
                 params: dict | None = None, count: int = 5) -> list[tuple[float, float]]:
    """The ``count`` inputs with the largest errors, as (x, ulps) pairs, to find what to fix.

    Parameters
    ----------
    fn : callable
        A registered activation.
    dtype : dtype
        float16, float32 or float64.
    grid : ndarray
        The inputs.
    which : {'value', 'derivative'}, default 'value'
        Which error to rank.
    params : dict, optional
        Parameters of ``fn``.
    count : int, default 5
        How many points to return.

    Returns
    -------
    list of (float, float)
        ``(x, ulps)`` pairs, the largest error first.
    """
    dtype = np.dtype(dtype)
    params = dict(params or {})
    xs = np.asarray(grid, dtype=dtype)
    mp_value, mp_derivative = _mp_callables(fn.__name__, tuple(sorted(params.items())))
    scale = _argument_scale(params)
    target, computed = (mp_value, _evaluate(fn, xs, params)) if which == "value" else (
        mp_derivative, fn.derivative(xs, **params))
    errors = [(float(xi), ulp_error(ci, reference(target, xi, dtype, scale), dtype))
              for xi, ci in zip(xs, np.asarray(computed), strict=True)]
    return sorted(errors, key=lambda pair: -pair[1])[:count]


# --- softmax and log_softmax: Jacobians and vector-Jacobian products ---------------------------------------


def jacobian_reference(name: str, row: np.ndarray) -> list[list[mpmath.mpf]]:
    """The exact Jacobian of ``softmax`` or ``log_softmax`` at the float row ``row``, from mpmath.

    The probabilities are ``exp(x_j - max)`` over their sum; the entries ``y_i (delta_ij - y_j)`` and
    ``delta_ij - y_j`` are formed directly, at a precision that resolves ``1 - y_j`` down to the smallest
    subnormal (the spread of the row in decimal digits, up to 400 more than the 40 kept).

    Parameters
    ----------
    name : str
        ``"softmax"`` or ``"log_softmax"``.
    row : ndarray
        A 1-D row of floats, taken as the exact binary numbers they are.

    Returns
    -------
    list of list of mpmath.mpf
        The Jacobian, entry ``[i][j]`` the derivative of output ``i`` with respect to input ``j``.
    """
    values = [float(v) for v in row]
    finite = [v for v in values if np.isfinite(v)]
    spread = max(finite) - min(finite) if finite else 0.0
    with mpmath.workdps(40 + int(min(_LOG10_E * spread, 400))):
        peak = mpmath.mpf(max(values))
        e = [_exp(mpmath.mpf(v) - peak) for v in values]
        total = mpmath.fsum(e)
        y = [v / total for v in e]
        n = len(values)
        if name == "softmax":
            return [[y[i] * ((1 if i == j else 0) - y[j]) for j in range(n)] for i in range(n)]
        return [[(1 if i == j else 0) - y[j] for j in range(n)] for i in range(n)]


@dataclass
class JacobianReport:
    """Worst error of ``f.jacobian`` and of ``f.vjp`` with one-hot gradients over a set of rows."""

    name: str
    dtype: str
    rows: int
    jacobian_max_ulp: float
    jacobian_worst_row: tuple
    vjp_max_ulp: float
    vjp_worst_row: tuple


def measure_jacobian(fn: Callable[..., Any], dtype: Any, rows: Iterable[Iterable[float]]) -> JacobianReport:
    """Measure ``fn.jacobian(row)`` and ``fn.vjp(row, one_hot_k)`` (row k of the Jacobian) against mpmath.

    Parameters
    ----------
    fn : callable
        ``actlib.softmax`` or ``actlib.log_softmax``.
    dtype : dtype
        float32 or float64.
    rows : iterable of iterable of float
        The input rows, each measured on its own.

    Returns
    -------
    JacobianReport
        The worst Jacobian and vjp errors in ULPs, and the rows where they occur.

    Examples
    --------
    >>> import actlib
    >>> report = measure_jacobian(actlib.softmax, np.float64, [[-86.7388, 0.0], [1.0, -3.0, 2.5]])
    >>> bool(report.jacobian_max_ulp <= 4 and report.vjp_max_ulp <= 4)
    True
    """
    dtype = np.dtype(dtype)
    jacobian_worst = (0.0, ())
    vjp_worst = (0.0, ())
    count = 0
    for raw in rows:
        row = np.asarray(raw, dtype=dtype)
        count += 1
        exact = jacobian_reference(fn.__name__, row)
        computed = np.asarray(fn.jacobian(row))
        identity = np.eye(row.size, dtype=dtype)
        for i in range(row.size):
            pulled = np.asarray(fn.vjp(row, identity[i]))
            for j in range(row.size):
                error = ulp_error(computed[i, j], exact[i][j], dtype)
                if error > jacobian_worst[0]:
                    jacobian_worst = (error, tuple(float(v) for v in row))
                error = ulp_error(pulled[j], exact[i][j], dtype)
                if error > vjp_worst[0]:
                    vjp_worst = (error, tuple(float(v) for v in row))
    return JacobianReport(fn.__name__, dtype.name, count, *jacobian_worst, *vjp_worst)
