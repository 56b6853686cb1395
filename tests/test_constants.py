"""The constants the kernels store, regenerated with mpmath and SymPy and compared bit for bit.

The numerical kernels import neither mpmath nor SymPy: every constant they need (double-double splits of
irrational numbers, Taylor coefficients about the roots of the derivatives, Mills' ratio tables) is stored
as a literal or in ``actlib/_mills_taylor.npz``. This file holds the code that produced them; if a kernel's
formula or a constant changes, ``python -m tests.test_constants`` prints the new literals and rewrites the
table file.
"""

import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

from actlib import _stable, exponential, gated, shrinkage


def dd(value) -> tuple[float, float]:
    """A real number as a double-double ``(hi, lo)``: ``hi`` correctly rounded, ``lo`` the rest rounded."""
    with mpmath.workdps(60):
        exact = mpmath.mpf(value)
        hi = float(exact)
        return hi, float(exact - hi)


def _bits(values) -> bytes:
    return np.asarray(values, dtype=np.float64).tobytes()


# --- what each stored constant is ---------------------------------------------------------------------


def double_doubles() -> dict[str, tuple[float, float]]:
    """Every double-double constant, by module and name of its ``_HI`` half."""
    with mpmath.workdps(60):
        return {
            "_stable._INV_ROOT_2PI": dd(1 / mpmath.sqrt(2 * mpmath.pi)),
            "exponential._SCALE": dd(exponential.SELU_SCALE),
            "exponential._SCALE_ALPHA": dd(mpmath.mpf(exponential.SELU_SCALE) * mpmath.mpf(exponential.SELU_ALPHA)),
            "shrinkage._THIRD": dd(mpmath.mpf(1) / 3),
            "gated._SQRT_2_OVER_PI": dd(mpmath.sqrt(2 / mpmath.pi)),
            "gated._KAPPA": dd(gated._KAPPA),
            "gated._QUICK": dd(gated._QUICK),
        }


def shift_low() -> float:
    """``64 ln 2 - _SHIFT_HI``: the low half of the Cody-Waite split of 64 ln 2."""
    with mpmath.workdps(60):
        return float(64 * mpmath.log(2) - _stable._SHIFT_HI)


def tanh_series(count: int = 60) -> tuple[float, ...]:
    """Coefficients of x**3, x**5, ... in x - tanh x: -2**(2n) (2**(2n) - 1) B_(2n) / (2n)!, n = 2, 3, ..."""
    with mpmath.workdps(40):
        return tuple(
            float(-(2 ** (2 * n)) * (2 ** (2 * n) - 1) * mpmath.bernoulli(2 * n) / mpmath.factorial(2 * n))
            for n in range(2, 2 + count)
        )


def tanh_tail_interpolant(degree: int = 16) -> tuple[float, ...]:
    """Monomial coefficients of the polynomial in u = x**2 that interpolates R(u) = ((x - tanh x)/x**3 - 1/3)/u
    at the ``degree + 1`` Chebyshev nodes of [0, 1] (R(0) = -2/15), solved at 50 digits, lowest degree first."""
    with mpmath.workdps(50):
        def tail(u):
            x = mpmath.sqrt(u)
            return ((x - mpmath.tanh(x)) / x**3 - mpmath.mpf(1) / 3) / u

        nodes = [(1 + mpmath.cos(mpmath.pi * (2 * k + 1) / (2 * (degree + 1)))) / 2 for k in range(degree + 1)]
        vandermonde = mpmath.matrix([[node**j for j in range(degree + 1)] for node in nodes])
        coefficients = mpmath.lu_solve(vandermonde, mpmath.matrix([tail(node) for node in nodes]))
        return tuple(float(coefficients[j]) for j in range(degree + 1))


def _mp_derivative(name: str, **params):
    import sympy as sp

    import actlib

    x = sp.Symbol("x", real=True)
    return sp.lambdify(x, sp.diff(actlib.ACTIVATIONS[name].symbolic(**params), x), modules="mpmath")


def root_taylor(name: str, guess: float, order: int = 24, **params) -> tuple[float, ...]:
    """``(root_hi, root_lo, c0, c1, ..., c_order)``: the zero of the derivative of ``name`` near ``guess``
    as a double-double and the Taylor coefficients of the derivative about it."""
    function = _mp_derivative(name, **params)
    with mpmath.workdps(60):
        root = mpmath.findroot(function, mpmath.mpf(guess))
        coefficients = mpmath.taylor(function, root, order)
        hi = float(root)
        return (hi, float(root - hi), *(float(c) for c in coefficients))


ROOTS = {  # stored name -> (activation, guess, parameters)
    "gated._SILU_DERIVATIVE_ROOT": ("silu", -1.278, {}),
    "gated._MISH_DERIVATIVE_ROOT": ("mish", -1.1924, {}),
    "gated._GELU_TANH_DERIVATIVE_ROOT": ("gelu", -0.7525, {"approximate": "tanh"}),
}


def _mills_ratio(c):
    """Mills' ratio ``Q(c) / phi(c)`` at the working precision."""
    return mpmath.erfc(c / mpmath.sqrt(2)) / 2 * mpmath.exp(c * c / 2) * mpmath.sqrt(2 * mpmath.pi)


def _kind_coefficients(c, r0) -> dict[str, list]:
    """Taylor coefficients about ``c`` of each factor of ``_stable._KINDS``, from ``R(c) = r0`` and the
    differential equation ``R' = u R - 1``: ``r_1 = c r_0 - 1``, ``(k + 1) r_(k+1) = c r_k + r_(k-1)``."""
    degree = _stable._DEGREE
    r = [r0, c * r0 - 1]
    for k in range(1, degree):
        r.append((c * r[k] + r[k - 1]) / (k + 1))
    root_2pi = mpmath.sqrt(2 * mpmath.pi)
    return {
        "mills": r,
        "tail": [v / root_2pi for v in r],
        "gelu": [(c * r[k] + (r[k - 1] if k else 0)) / root_2pi for k in range(degree + 1)],
        "gelu_derivative": [(r[0] - c) / root_2pi, (r[1] - 1) / root_2pi, *(v / root_2pi for v in r[2:])],
    }


def _stored(coefficients: list) -> list[float]:
    """``c0_hi, c0_lo, c1_hi, c1_lo, c2, c3, ...``: the first two coefficients as double-doubles."""
    c0, c1 = coefficients[0], coefficients[1]
    return [float(c0), float(c0 - float(c0)), float(c1), float(c1 - float(c1)), *(float(v) for v in coefficients[2:])]


def mills_taylor_tables(dps: int = 90) -> dict[str, np.ndarray]:
    """The tables of ``_stable._taylor_tables``: per kind, rows ``c0_hi, c0_lo, c1_hi, c1_lo, c2, ..., c13`` by
    columns ``c = 0, 1/8, ..., 16``; ``"root"``, the zero ``u0 = 0.7518...`` of ``R(u) - u`` as a
    double-double, then the ``gelu_derivative`` coefficients about it.

    The recurrence loses about ``c**2/2 / ln(10)`` digits (the other solution of the equation grows like
    ``exp(u**2/2)``), hence 90 digits for ``c`` up to 16.
    """
    rows: dict[str, list] = {kind: [] for kind in _stable._KINDS}
    with mpmath.workdps(dps):
        for i in range(int(_stable._TAYLOR_END / _stable._STEP) + 1):
            c = mpmath.mpf(i) * _stable._STEP
            for kind, coefficients in _kind_coefficients(c, _mills_ratio(c)).items():
                rows[kind].append(_stored(coefficients))
        root = mpmath.findroot(lambda v: _mills_ratio(v) - v, mpmath.mpf("0.75"))
        about_root = _stored(_kind_coefficients(root, root)["gelu_derivative"])
        root_hi = float(root)
        root_lo = float(root - root_hi)
    tables = {kind: np.array(table).T.copy() for kind, table in rows.items()}
    tables["root"] = np.array([root_hi, root_lo, *about_root])
    return tables


def _stored_value(dotted: str):
    module, name = dotted.split(".")
    return getattr({"_stable": _stable, "exponential": exponential, "gated": gated, "shrinkage": shrinkage}[module],
                   name)


# --- the tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(double_doubles()))
def test_double_doubles_are_the_constants_to_106_bits(name):
    hi, lo = double_doubles()[name]
    assert _bits([_stored_value(name + "_HI"), _stored_value(name + "_LO")]) == _bits([hi, lo])


def test_cody_waite_split_of_64_ln_2():
    assert _stable._SHIFT_HI * 2.0**30 == np.rint(_stable._SHIFT_HI * 2.0**30)  # 30 fractional bits
    assert _bits(_stable._SHIFT_LO) == _bits(shift_low())


def test_asymptotic_series_of_mills_ratio_holds_the_double_factorials():
    with mpmath.workdps(40):
        expected = [float((-1) ** n * mpmath.fac2(2 * n - 1)) for n in range(1, _stable._ASYMPTOTIC_TERMS)]
    assert _bits(_stable._ASYMPTOTIC) == _bits(expected)


def test_tanh_series_coefficients():
    assert _bits(shrinkage._TANHSHRINK_TAIL) == _bits(tanh_tail_interpolant(len(shrinkage._TANHSHRINK_TAIL) - 1))
    # the interpolant's first coefficients are the Taylor series' (it economizes only the higher ones)
    assert np.allclose(shrinkage._TANHSHRINK_TAIL[:4], tanh_series(5)[1:], rtol=1e-9, atol=0)


@pytest.mark.parametrize("name", list(ROOTS))
def test_taylor_polynomials_about_the_roots_of_the_derivatives(name):
    activation, guess, params = ROOTS[name]
    assert _bits(_stored_value(name)) == _bits(root_taylor(activation, guess, **params))


def test_mills_ratio_tables():
    stored = _stable._taylor_tables()
    generated = mills_taylor_tables()
    assert sorted(stored) == sorted(generated)
    for kind, table in generated.items():
        assert _bits(stored[kind]) == _bits(table), kind


def test_kernels_import_neither_sympy_nor_mpmath():
    """A fresh interpreter evaluates every function and derivative (and every vjp and Jacobian) in every
    dtype, with parameters, without importing SymPy or mpmath: no root search or table build at run time."""
    script = """
import sys
import numpy as np
import actlib
x = np.concatenate([np.linspace(-40, 40, 801), [-1e300, -800.0, -1.2785, -1.1924, -0.7518, -0.7525, 1e300]])
for fn in actlib.ACTIVATIONS.values():
    for params in ({}, *fn.info.parameter_cases):
        for dtype in (np.float16, np.float32, np.float64):
            with np.errstate(all="ignore"):
                fn(x.astype(dtype), **params)
                if fn.info.properties.elementwise:
                    fn.derivative(x.astype(dtype), **params)
for fn in actlib.ACTIVATIONS.values():
    if hasattr(fn, "vjp"):  # softmax, log_softmax and the GLU family
        for params in ({}, *fn.info.parameter_cases):
            rows = x[:10].reshape(5, 2) if fn.info.properties.family == "glu" else x[:5]
            grad = np.ones(fn(rows, **params).shape)
            fn.vjp(rows, grad, **params)
            fn.jacobian(rows.reshape(-1), **params)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sympy", "mpmath"))
print(" ".join(loaded[:5]))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "", f"imported at run time: {result.stdout}"


def _write_tables():
    path = Path(_stable.__file__).with_name("_mills_taylor.npz")
    np.savez(path, **mills_taylor_tables())
    print(f"wrote {path}")


if __name__ == "__main__":
    for name, (hi, lo) in double_doubles().items():
        print(f"{name}_HI, {name}_LO = {hi!r}, {lo!r}")
    print("_SHIFT_LO =", repr(shift_low()))
    print("_TANHSHRINK_TAIL =", repr(tanh_tail_interpolant()))
    for name, (activation, guess, params) in ROOTS.items():
        print(f"{name} = {root_taylor(activation, guess, **params)!r}")
    _write_tables()
