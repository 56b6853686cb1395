"""The normal tail behind the exact GELU (``actlib._stable``) against mpmath, in float64 ULPs.

``scaled_tail`` gives four factors of Mills' ratio R(u) = Q(u)/phi(u) as double-doubles; rounded to
float64 they should be correctly rounded but for a few hundredths of an ULP. ``normal_cdf`` also carries
the rounding of ``np.exp``, so up to about 1.5 ULPs. The bounds below are the measured maxima (0.518 and
1.22 on these points) with a little margin: a wrong coefficient or a lost low part fails them.
"""

import functools

import mpmath
import numpy as np
import pytest

import actlib
from actlib import _stable
from actlib.accuracy import ulp_error

from .test_constants import mills_taylor_tables

SCALED_TAIL_ULPS = 0.55
NORMAL_CDF_ULPS = 1.3

ROOT = 0.7517915246935645  # where R(u) = u, the zero of the "gelu_derivative" factor


def _points(seed):
    rng = np.random.default_rng(seed)
    edges = np.arange(1, 257) / 16  # centres of and boundaries between Taylor pieces; 16, where the series starts
    return np.concatenate([
        rng.uniform(0, 16, 600), rng.uniform(16, 40, 150), 10.0 ** rng.uniform(-310, 0, 100),
        np.nextafter(edges, 0), edges, np.nextafter(edges, 20), [0.0, 5e-324, 1e3, 1e5],
        ROOT + np.array([-0.06, -1e-3, -1e-9, -2e-16, 0.0, 2e-16, 1e-9, 1e-3, 0.06]),
    ])


@functools.cache
def _reference():
    """The points and, at each, u and R(u) to 60 digits (R(u) - u near its root cancels at most 16)."""
    u = _points(1)
    with mpmath.workdps(60):
        exact = []
        for v in u:
            v = mpmath.mpf(float(v))
            exact.append((v, mpmath.erfc(v / mpmath.sqrt(2)) / 2 * mpmath.exp(v * v / 2) * mpmath.sqrt(2 * mpmath.pi)))
    return u, exact


EXACT = {
    "mills": lambda u, r: r,
    "tail": lambda u, r: r / mpmath.sqrt(2 * mpmath.pi),
    "gelu": lambda u, r: u * r / mpmath.sqrt(2 * mpmath.pi),
    "gelu_derivative": lambda u, r: (r - u) / mpmath.sqrt(2 * mpmath.pi),
}


def _scaled_tail_errors(kind):
    u, exact = _reference()
    hi, lo = _stable.scaled_tail(u, kind)
    with mpmath.workdps(60):
        return u, [ulp_error(c, EXACT[kind](*e), np.float64) for c, e in zip(hi + lo, exact, strict=True)]


@pytest.mark.parametrize("kind", list(EXACT))
def test_scaled_tail_is_correctly_rounded_but_for_hundredths_of_an_ulp(kind):
    u, errors = _scaled_tail_errors(kind)
    worst = int(np.argmax(errors))
    assert errors[worst] <= SCALED_TAIL_ULPS, (kind, u[worst], errors[worst])


def _normal_cdf_errors():
    rng = np.random.default_rng(2)
    x = np.concatenate([
        rng.uniform(-38.5, 9, 1500), -rng.uniform(37, 38.6, 100), 10.0 ** rng.uniform(-310, 0.5, 100),
        -(10.0 ** rng.uniform(-310, 0.5, 100)), -_points(3)[:400], [-40.0, 40.0],
    ])
    computed = _stable.normal_cdf(x)
    with mpmath.workdps(40):
        exact = [mpmath.ncdf(mpmath.mpf(float(v))) for v in x]
        return x, [ulp_error(c, e, np.float64) for c, e in zip(computed, exact, strict=True)]


def test_normal_cdf_within_its_bound_over_the_whole_range():
    x, errors = _normal_cdf_errors()
    worst = int(np.argmax(errors))
    assert errors[worst] <= NORMAL_CDF_ULPS, (x[worst], errors[worst])


def test_normal_cdf_special_values():
    with np.errstate(all="raise", under="ignore"):
        got = _stable.normal_cdf(np.array([-np.inf, np.inf, np.nan, 0.0, -0.0, -1e300, 1e300]))
    np.testing.assert_array_equal(got, [0.0, 1.0, np.nan, 0.5, 0.5, 0.0, 1.0])


def test_the_taylor_coefficients_do_not_depend_on_the_working_precision():
    """The recurrence for the coefficients is unstable (the other solution grows like exp(u**2/2)); the
    stored tables, generated at 90 digits, must be the float64 tables generated at 150."""
    tables, higher = _stable._taylor_tables(), mills_taylor_tables(150)
    for kind, table in tables.items():
        np.testing.assert_array_equal(table, higher[kind], err_msg=kind)



def test_gelu_float32_tail_polynomial_is_within_its_stated_relative_error():
    """The narrow GELU kernel's ``exp(u**2/2) Q(u) = t P(t)``, ``t = 3/(3 + u)``, against the double-double tail."""
    from actlib.gated import _GELU_NARROW_END, _GELU_NARROW_TAIL

    u = np.concatenate([np.linspace(0, _GELU_NARROW_END, 100_001), _points(4)])
    u = u[u <= _GELU_NARROW_END]
    hi, lo = _stable.scaled_tail(u, "tail")
    t = 3 / (3 + u)
    tail = np.polynomial.polynomial.polyval(t, _GELU_NARROW_TAIL) * t
    assert np.max(np.abs(tail - (hi + lo)) / (hi + lo)) < 7e-10


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float32_derivative_keeps_its_relative_accuracy_about_its_zero(approximate):
    """The narrow derivative kernels (``defnarrow_derivative``) subtract nearly equal terms near the zero of
    gelu'; within a window they hand over to the float64 expansions about the zero. Every float32 within 1000
    steps of the zero and both edges of each window (0.1 for the exact form's, 0.3 for the tanh form's Taylor
    patch) must still round correctly but for a few hundredths of an ULP."""
    from actlib.accuracy import measure
    from actlib.gated import _GELU_TANH_DERIVATIVE_ROOT

    zero = -_stable.gelu_derivative_zero() if approximate == "none" else _GELU_TANH_DERIVATIVE_ROOT[0]
    window = 0.1 if approximate == "none" else 0.3
    centre = np.float32(zero)
    steps = np.arange(-1000, 1001, dtype=np.float64) * float(np.spacing(centre))
    edges = [np.linspace(edge - 2e-4, edge + 2e-4, 400) for edge in (zero - window, zero + window)]
    grid = np.concatenate([centre + steps, *edges]).astype(np.float32)
    assert actlib.gelu.narrow_derivative_kernel is not None
    report = measure(actlib.gelu, "float32", grid=grid, params={"approximate": approximate})
    assert report.derivative_max_ulp < 0.52, report
    assert report.value_max_ulp < 0.52, report


def test_the_narrow_gelu_derivative_locates_the_zero_of_the_table():
    assert _stable.gelu_derivative_zero() == _stable._taylor_tables()["root"][0] == ROOT
