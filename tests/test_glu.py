"""The GLU family: which half is gated, vjp and jacobian against central differences and mpmath, axes, errors."""

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.special import expit

import actlib
from actlib.accuracy import _references, full_range_grid, mpmath_function, ulp_error

#: every function of the GLU family, with its defaults and each parameter case its entry declares
CASES = [
    (name, params) for name, fn in actlib.ACTIVATIONS.items() if fn.info.properties.family == "glu"
    for params in ({}, *fn.info.parameter_cases)
]


def case_id(case):
    return case[0] + "".join(f"-{v}" for v in case[1].values())


def test_the_family_is_the_four_gated_units():
    assert sorted({name for name, _ in CASES}) == ["geglu", "glu", "reglu", "swiglu"]


def _gate(name, params):
    """The registered elementwise function that gates the second half (glu's sigmoid, reglu's ReLU, ...)."""
    if name == "glu":
        return actlib.sigmoid
    if name == "reglu":
        return actlib.relu
    if name == "swiglu":
        return actlib.silu
    return lambda b: actlib.gelu(b, **params)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_first_half_passes_and_the_second_half_is_gated(case):
    name, params = case
    a, b = np.array([[2.0, -3.0, 0.5]]), np.array([[1.5, -0.25, 4.0]])
    y = actlib.ACTIVATIONS[name](np.concatenate([a, b], axis=-1), **params)
    np.testing.assert_allclose(y, a * _gate(name, params)(b), rtol=1e-15)
    if name == "glu":  # and against an independent sigmoid
        np.testing.assert_allclose(y, a * expit(b), rtol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_axis_selects_the_split_axis(case):
    name, params = case
    fn = actlib.ACTIVATIONS[name]
    x = np.random.default_rng(0).normal(size=(4, 6, 2))
    for axis in (0, 1, -3):
        moved = np.moveaxis(fn(np.moveaxis(x, axis, -1), **params), -1, axis)
        np.testing.assert_array_equal(fn(x, axis=axis, **params), moved)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_vjp_matches_central_differences_of_the_weighted_sum(case):
    name, params = case
    fn = actlib.ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 8))
    x[:, 4:] += np.sign(x[:, 4:]) * 0.1  # keep reglu's gate away from its kink at 0
    g = rng.normal(size=(3, 4))
    step = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[index] = step
        numeric[index] = (np.sum(g * fn(x + e, **params)) - np.sum(g * fn(x - e, **params))) / (2 * step)
    np.testing.assert_allclose(fn.vjp(x, g, **params), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_jacobian_transposed_times_grad_is_the_vjp(case):
    name, params = case
    fn = actlib.ACTIVATIONS[name]
    rng = np.random.default_rng(2)
    x, g = rng.normal(size=10), rng.normal(size=5)
    jacobian = fn.jacobian(x, **params)
    assert jacobian.shape == (5, 10)
    np.testing.assert_allclose(jacobian.T @ g, fn.vjp(x, g, **params), rtol=1e-14)


def test_vjp_along_an_axis_and_its_errors_name_the_function():
    x = np.random.default_rng(3).normal(size=(4, 3))
    g = np.ones((2, 3))
    by_column = np.column_stack([actlib.swiglu.vjp(x[:, j], g[:, j]) for j in range(3)])
    np.testing.assert_array_equal(actlib.swiglu.vjp(x, g, axis=0), by_column)
    with pytest.raises(ValueError, match=r"^glu.vjp: grad has shape \(3,\), but glu\(x\) has shape \(2,\)"):
        actlib.glu.vjp(np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match=r"^reglu.jacobian: x must be 1-D"):
        actlib.reglu.jacobian(np.zeros((2, 2)))


@pytest.mark.parametrize("name", ["glu", "reglu", "geglu", "swiglu"])
def test_an_odd_length_is_refused_naming_the_function_and_the_axis(name):
    with pytest.raises(ValueError, match=rf"^{name}: the input's length along axis 0 is 3, which is odd"):
        actlib.ACTIVATIONS[name](np.zeros((3, 4)), axis=0)


def test_low_precision_and_integer_inputs():
    import ml_dtypes

    x = np.array([1.0, 2.0, 0.5, -1.0])
    y = actlib.glu(x.astype(ml_dtypes.bfloat16))
    assert y.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(y, actlib.glu(x).astype(ml_dtypes.bfloat16))
    assert actlib.reglu(np.array([3, -2, 2, 1])).dtype == np.float64


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_symbolic_pair_agrees_with_the_function(case):
    name, params = case
    fn = actlib.ACTIVATIONS[name]
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    pair = sp.lambdify((a, b), fn.symbolic_pair(**params), modules="mpmath")
    rng = np.random.default_rng(4)
    x = rng.normal(scale=3.0, size=(20, 2))
    with mpmath.workdps(40):
        expected = np.array([float(pair(mpmath.mpf(float(p)), mpmath.mpf(float(q)))) for p, q in x])
    np.testing.assert_allclose(fn(x, **params)[:, 0], expected, rtol=1e-14, atol=1e-300)


def _partial_references(name, params):
    """(SymPy expression, mpmath callable) of x for the two partial derivatives at the pair (x, x)."""
    fn = actlib.ACTIVATIONS[name]
    x = sp.Symbol("x", real=True)
    gate = fn.symbolic(**params) / x  # the diagonal is x * gate(x)
    return [(expression, mpmath_function(expression, x)) for expression in (gate, x * sp.diff(gate, x))]


def _worst_vjp_ulps(name, params, dtype, grid, columns=(0, 1)):
    """The worst errors in ULPs of the partial derivatives in ``a`` (column 0) and ``b`` (column 1) at the
    pairs (x, x), x on ``grid``."""
    fn = actlib.ACTIVATIONS[name]
    grid = grid[grid != 0] if name == "reglu" else grid  # reglu's partial in b jumps at 0: a convention
    pairs = np.stack([grid, grid], axis=-1).astype(dtype)
    partials = fn.vjp(pairs, np.ones((grid.size, 1), dtype), **params)
    references = _partial_references(name, params)
    worst = []
    for column in columns:
        expression, function = references[column]
        # the references are kept between runs as the full-range sweeps keep theirs (ACTLIB_REFERENCE_CACHE)
        exact = _references(function, expression, np.asarray(grid, np.float64), np.dtype(dtype), 1.0)
        errors = [ulp_error(value, exact_x, dtype) for exact_x, value in zip(exact, partials[:, column], strict=True)]
        worst.append(max(errors))
    return worst


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_vjp_partials_within_4_ulps_on_a_small_grid(case):
    # mpmath's erfc is slow at many digits between 5 and 30: a coarse grid there, the tails by single points
    grid = np.concatenate([np.linspace(-12, 12, 49), [-745.5, -720.0, -38.2, -30.5, -19.5, 1e-300, 1e10]])
    for dtype in (np.float32, np.float64):
        cast = grid.astype(dtype).astype(np.float64)
        assert max(_worst_vjp_ulps(*case, dtype, cast)) <= 4.0, (case, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_partial_in_a_is_the_gate_itself_over_the_full_range(case, dtype):
    """d/da [a g(b)] = g(b): the vjp's first half is the registered gate function, bit for bit, so the gate's
    own full-range accuracy test (gelu's for every ``approximate``, sigmoid's, relu's, silu's) covers it."""
    name, params = case
    grid = full_range_grid(dtype)
    partials = actlib.ACTIVATIONS[name].vjp(np.stack([grid, grid], axis=-1), np.ones((grid.size, 1), dtype), **params)
    gate = np.asarray(_gate(name, params)(grid))
    assert np.ascontiguousarray(partials[:, 0]).tobytes() == gate.tobytes()


#: Points per mpmath reference kept beyond |x| = 5 in the slow sweep. The references there need 40 to 360
#: digits (and erfc between 5 and 40 takes up to half a second per point); below 5, where the partials turn
#: and the Taylor patches sit, every point of the grid is kept.
THINNING = 4


def thinned_full_range_grid(dtype):
    """The full-range grid with every point of |x| < 5 and every THINNING-th beyond, plus the tail thresholds
    of the kernels (where exp(b) turns subnormal and where GELU's asymptotic series starts)."""
    grid = full_range_grid(dtype).astype(np.float64)
    keep = (np.abs(grid) < 5) | (np.arange(grid.size) % THINNING == 0)
    tails = np.array([-745.5, -720.0, -700.5, -699.5, -38.2, -30.5, -19.5, -16.0, 16.0, 1e5, -1e5])
    return np.union1d(grid[keep], tails.astype(dtype).astype(np.float64))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_vjp_partial_in_b_within_4_ulps_over_the_full_range(case, dtype):
    """d/db [a g(b)] = a g'(b), the part of the vjp that is the GLU family's own code, against mpmath."""
    (worst,) = _worst_vjp_ulps(*case, dtype, thinned_full_range_grid(dtype), columns=(1,))
    assert worst <= 4.0
