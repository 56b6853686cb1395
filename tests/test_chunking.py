"""Chunked evaluation (``actlib.evaluation.CHUNK``) is invisible: the same bits as one call on the whole array.

Also: the branch-free kernels of the cheap rectifiers give the bits of their textbook ``np.where`` form.
"""

import numpy as np
import pytest

import actlib
from actlib import evaluation

from .conftest import ELEMENTWISE, FLOATS

SMALL_CHUNK = 1000  # many chunks on a small input, and a last chunk of another size


def _input(dtype, n=7 * SMALL_CHUNK + 321):
    rng = np.random.default_rng(3)
    info = np.finfo(dtype)
    x = rng.standard_normal(n) * 4
    x[::7] *= 1e3
    x[1::11] = rng.uniform(-7, 7, x[1::11].size).round(1)  # on and near the kinks of every function
    x = x.astype(dtype)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, info.max, -info.max, info.tiny, -info.tiny,
               info.smallest_subnormal, -info.smallest_subnormal, 3.0, -3.0, 6.0, 1.0, -1.0, 0.5, -0.5, 20.0]
    x[17:17 + len(special)] = np.array(special, dtype=dtype)
    x[SMALL_CHUNK - 5:SMALL_CHUNK + 5] = np.array(special[:10], dtype=dtype)  # across a chunk boundary
    return x


def _bits(a):
    a = np.asarray(a)
    return a.dtype, a.shape, a.tobytes()


@pytest.fixture
def unchunked(monkeypatch):
    """Call ``fn(*args, **kwargs)`` with chunking switched off."""

    def call(fn, *args, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(evaluation, "CHUNK", 10**12)
            m.setattr(evaluation, "OUT_CHUNK", 10**12)
            return fn(*args, **kwargs)

    return call


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(evaluation, "CHUNK", SMALL_CHUNK)
    monkeypatch.setattr(evaluation, "OUT_CHUNK", 2 * SMALL_CHUNK)  # kernels that write into out=


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_chunked_values_and_derivatives_are_bitwise_equal(name, dtype, unchunked, small_chunks):
    fn = actlib.ACTIVATIONS[name]
    x = _input(dtype)
    with np.errstate(all="raise", under="ignore", invalid="ignore"):
        expected = unchunked(fn, x)
        assert _bits(fn(x)) == _bits(expected)
        assert _bits(fn.derivative(x)) == _bits(unchunked(fn.derivative, x))
        # 2-D C order, Fortran order, a non-contiguous view
        grid = x[:7 * SMALL_CHUNK].reshape(70, -1)
        for view in (grid, np.asfortranarray(grid), grid[::2, ::-3], x[::-2]):
            assert _bits(fn(view)) == _bits(unchunked(fn, view))
            assert _bits(fn.derivative(view)) == _bits(unchunked(fn.derivative, view))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_chunked_out_and_in_place(name, dtype, unchunked, small_chunks):
    fn = actlib.ACTIVATIONS[name]
    x = _input(dtype)
    with np.errstate(all="ignore"):
        expected = unchunked(fn, x)
        out = np.full_like(x, 7)
        assert fn(x, out=out) is out
        assert _bits(out) == _bits(expected)
        y = x.copy()
        assert fn(y, out=y) is y
        assert _bits(y) == _bits(expected)
        # out overlapping the input shifted by one element: not chunked, still correct
        buffer = np.concatenate([x, x[:1]])
        shifted_out = buffer[1:]
        fn(buffer[:-1], out=shifted_out)
        assert _bits(shifted_out) == _bits(expected)
        # non-contiguous out
        strided = np.zeros(2 * x.size, dtype=dtype)[::2]
        fn(x, out=strided)
        assert _bits(strided) == _bits(expected)


#: every declared parameter case of every elementwise function, and a slope given as a NumPy scalar
PARAMETER_CASES = [(name, params) for name in ELEMENTWISE for params in actlib.ACTIVATIONS[name].info.parameter_cases]
PARAMETER_CASES += [("prelu", {"weight": np.float32(0.1)})]


@pytest.mark.parametrize(("name", "params"), PARAMETER_CASES,
                         ids=[name + "".join(f"-{v}" for v in params.values()) for name, params in PARAMETER_CASES])
@pytest.mark.parametrize("dtype", FLOATS)
def test_chunked_with_every_parameter_case(name, params, dtype, unchunked, small_chunks):
    fn = actlib.ACTIVATIONS[name]
    x = _input(dtype)
    with np.errstate(over="ignore"):  # where the exact result overflows (a slope of 10), as in one call
        assert _bits(fn(x, **params)) == _bits(unchunked(fn, x, **params))
        assert _bits(fn.derivative(x, **params)) == _bits(unchunked(fn.derivative, x, **params))
        out = np.full_like(x, 7)
        assert _bits(fn(x, **params, out=out)) == _bits(unchunked(fn, x, **params))


def test_array_parameters_and_random_draws_are_not_chunked(small_chunks):
    x = _input(np.float64)
    weight = np.full_like(x, 0.25)
    np.testing.assert_array_equal(actlib.prelu(x, weight=weight), actlib.prelu(x))
    y = actlib.rrelu(x, training=True, rng=np.random.default_rng(5))
    slopes = actlib.rrelu_slopes(x.shape, rng=np.random.default_rng(5))
    assert _bits(y) == _bits(actlib.rrelu(x, training=True, slopes=slopes))
    # training without a generator draws per call: same distribution, nothing to compare bit for bit
    z = actlib.rrelu(x, training=True)
    negative = (x < 0) & np.isfinite(x) & (x < -1e-300)
    ratio = z[negative] / x[negative]
    assert np.all((ratio >= 1 / 8 - 1e-12) & (ratio <= 1 / 3 + 1e-12))


def test_peak_memory_of_a_large_call_is_the_output_plus_a_chunk():
    import tracemalloc

    x = np.random.default_rng(0).standard_normal(40 * evaluation.CHUNK).astype(np.float32)
    for name in ELEMENTWISE:
        fn = actlib.ACTIVATIONS[name]
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            y = fn(x)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        assert peak <= 2 * y.nbytes, (name, peak / y.nbytes)


SLICED = ("softmax", "log_softmax")


@pytest.mark.parametrize(
    ("shape", "axis"),
    [((700, 13), -1), ((13, 700), 0), ((40, 9, 30), 1), ((3, 4000), -1), ((4000, 3), 0), ((5, 11, 200), -1)],
)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", SLICED)
def test_softmax_in_blocks_of_slices_is_bitwise_equal(name, shape, axis, dtype, unchunked, small_chunks):
    fn = actlib.ACTIVATIONS[name]
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 40).astype(dtype)
    x.flat[::97] = -np.inf  # a few -inf entries, and one slice that holds +inf
    x.flat[5] = np.inf
    expected = unchunked(fn, x, axis=axis)
    assert _bits(fn(x, axis=axis)) == _bits(expected)
    assert _bits(fn(np.asfortranarray(x), axis=axis)) == _bits(expected)  # nor does the layout matter
    strided = np.zeros((*x.shape[:-1], 2 * x.shape[-1]), dtype)[..., ::2]
    strided[...] = x
    assert _bits(fn(strided, axis=axis)) == _bits(expected)
    out = np.full_like(x, np.nan)
    assert fn(x, axis=axis, out=out) is out and _bits(out) == _bits(expected)
    in_place = x.copy()
    fn(in_place, axis=axis, out=in_place)
    assert _bits(in_place) == _bits(expected)


@pytest.mark.parametrize("name", SLICED)
def test_peak_memory_of_a_large_softmax_is_the_output_plus_a_block(name):
    import tracemalloc

    x = np.random.default_rng(0).standard_normal((40 * evaluation.CHUNK // 100, 100)).astype(np.float32)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        y = actlib.ACTIVATIONS[name](x)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak <= 2 * y.nbytes, peak / y.nbytes


GATED = ("glu", "reglu", "geglu", "swiglu")


@pytest.mark.parametrize(("shape", "axis"), [((700, 14), -1), ((14, 700), 0), ((40, 10, 30), 1), ((3, 4000), -1)])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", GATED)
def test_glu_family_in_blocks_of_slices_is_bitwise_equal(name, shape, axis, dtype, unchunked, small_chunks):
    """The GLU family is evaluated on blocks of whole slices too, into an output half as long along the axis."""
    fn = actlib.ACTIVATIONS[name]
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(shape) * 8).astype(dtype)
    x.flat[::97] = -np.inf
    x.flat[5::89] = np.inf
    x.flat[7::101] = np.nan
    expected = unchunked(fn, x, axis=axis)
    assert _bits(fn(x, axis=axis)) == _bits(expected)
    assert _bits(fn(np.asfortranarray(x), axis=axis)) == _bits(expected)
    out = np.full_like(expected, np.nan)
    assert fn(x, axis=axis, out=out) is out and _bits(out) == _bits(expected)


def _leaky_where(x, slope):
    """``np.where(x >= 0, x, x * slope)``, except that a slope of 0 gives -0.0 at -inf (the limit), not NaN."""
    slope = x.dtype.type(slope)
    product = x * slope if slope != 0 else np.where(np.isnan(x), x, x.dtype.type(-0.0))
    return np.where(x >= 0, x, product)


REFERENCE = {  # the np.where forms the branch-free kernels replace
    "leaky_relu": lambda x, negative_slope=0.01: _leaky_where(x, negative_slope),
    "prelu": lambda x, weight=0.25: _leaky_where(x, weight),
    "threshold": lambda x, threshold=0.0, value=0.0: np.where(x <= threshold, x.dtype.type(value), x),
    "hardsigmoid": lambda x: np.clip(x + x.dtype.type(3), x.dtype.type(0), x.dtype.type(6)) / x.dtype.type(6),
    "hardswish": lambda x: np.where(
        x >= 3, x, np.clip(x, x.dtype.type(-3), x.dtype.type(3)) * (np.clip(x, x.dtype.type(-3), x.dtype.type(3))
                                                                     + x.dtype.type(3)) / x.dtype.type(6)),
    "rrelu": lambda x, lower=1 / 8, upper=1 / 3: _leaky_where(x, (lower + upper) / 2),
    "relu": lambda x: np.where(x < 0, x.dtype.type(0), x),  # relu(-0.0) = -0.0, as PyTorch 2.13
    "softshrink": lambda x, lambd=0.5: np.where(
        np.abs(x) <= x.dtype.type(lambd), np.copysign(x.dtype.type(0), x), x - np.copysign(x.dtype.type(lambd), x)),
}


@pytest.mark.parametrize(
    ("name", "params"),
    [("relu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
     ("leaky_relu", {"negative_slope": 1.0}), ("leaky_relu", {"negative_slope": 0.0}),
     ("leaky_relu", {"negative_slope": 2.0}), ("prelu", {}),
     ("prelu", {"weight": 1e-30}), ("threshold", {}), ("threshold", {"threshold": 1.5, "value": 1.5}),
     ("threshold", {"threshold": 0.0, "value": -0.0}), ("threshold", {"threshold": 1.0, "value": -5.0}),
     ("hardsigmoid", {}), ("hardswish", {}), ("rrelu", {}), ("rrelu", {"lower": 2.0, "upper": 3.0}),
     ("softshrink", {}), ("softshrink", {"lambd": 0.0}), ("softshrink", {"lambd": 3.0})],
)
@pytest.mark.parametrize("dtype", FLOATS)
def test_branch_free_kernels_give_the_bits_of_the_where_form(name, params, dtype):
    x = _input(dtype)
    with np.errstate(all="ignore"):
        negative_nan = np.array([np.inf], dtype) - np.array([np.inf], dtype)  # x86's default NaN
        x = np.concatenate([x, np.nextafter(x, dtype(np.inf)), np.nextafter(x, dtype(-np.inf)), negative_nan,
                            -negative_nan])
        expected = REFERENCE[name](x, **params)
        assert _bits(actlib.ACTIVATIONS[name](x, **params)) == _bits(expected)


@pytest.mark.parametrize("dtype", FLOATS)
def test_select_gives_the_bits_of_np_where(dtype):
    from actlib._stable import select

    rng = np.random.default_rng(11)
    a = _input(dtype, 2 * SMALL_CHUNK)[:500].reshape(20, 25)
    b = rng.permutation(a[1])
    rows = rng.random((20, 1)) < 0.5
    cases = [(a > 0, a, b), (rows, a, b), (rows, a, dtype(2)), (a >= 0, 1.0, a), (np.isnan(a), 0.0, a),
             (np.bool_(True), dtype(1), dtype(-0.0)), (np.array(False), a, -0.0)]
    for condition, if_true, if_false in cases:
        expected, got = np.where(condition, if_true, if_false), select(condition, if_true, if_false)
        assert _bits(got) == _bits(expected)
