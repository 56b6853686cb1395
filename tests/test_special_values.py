"""±inf and NaN: what PyTorch returns, and where actlib deliberately returns the mathematical limit instead.

The table was recorded with PyTorch 2.13.0 (CPU, float64) by evaluating each torch.nn.functional
counterpart at [-inf, inf, nan] and its autograd derivative one element at a time; the script is
kept in the comment at the end of this file. Tests never import torch.
"""

import numpy as np
import pytest

import actlib

from .conftest import FLOATS

INF, NAN = np.inf, np.nan

PYTORCH_2_13_AT_NEG_INF_POS_INF_NAN = {
    'relu': ([0.0, INF, NAN], [0.0, 1.0, 1.0]),
    'sigmoid': ([0.0, 1.0, NAN], [0.0, 0.0, NAN]),
    'logsigmoid': ([-INF, 0.0, NAN], [1.0, 0.0, NAN]),
    'tanh': ([-1.0, 1.0, NAN], [0.0, 0.0, NAN]),
    'leaky_relu': ([-INF, INF, NAN], [0.01, 1.0, 0.01]),
    'prelu': ([-INF, INF, NAN], [0.25, 1.0, 0.25]),
    'rrelu': ([-INF, INF, NAN], [0.22916666666666666, 1.0, 0.22916666666666666]),
    'elu': ([-1.0, INF, NAN], [0.0, 1.0, 1.0]),
    'selu': ([-1.7580993408473766, INF, NAN], [0.0, 1.0507009873554805, 1.0507009873554805]),
    'celu': ([-1.0, INF, NAN], [0.0, 1.0, 1.0]),
    'gelu': ([NAN, INF, NAN], [NAN, NAN, NAN]),
    'silu': ([NAN, INF, NAN], [NAN, NAN, NAN]),
    'swish': ([NAN, INF, NAN], [NAN, NAN, NAN]),
    'mish': ([NAN, INF, NAN], [NAN, NAN, NAN]),
    'relu6': ([0.0, 6.0, NAN], [0.0, 0.0, 1.0]),
    'hardtanh': ([-1.0, 1.0, NAN], [0.0, 0.0, 1.0]),
    'hardsigmoid': ([0.0, 1.0, NAN], [0.0, 0.0, 0.0]),
    'hardswish': ([NAN, INF, NAN], [0.0, 1.0, 1.0]),
    'softplus': ([0.0, INF, NAN], [0.0, 1.0, NAN]),
    'softsign': ([NAN, NAN, NAN], [NAN, NAN, NAN]),
    'tanhshrink': ([-INF, INF, NAN], [1.0, 1.0, NAN]),
    'softshrink': ([-INF, INF, NAN], [1.0, 1.0, 1.0]),
    'hardshrink': ([-INF, INF, NAN], [1.0, 1.0, 1.0]),
    'threshold': ([0.0, INF, NAN], [0.0, 1.0, 1.0]),
}

#: Functions PyTorch 2.13 does not ship: the mathematical limits, which is also what Hugging Face's
#: ``torch.square(torch.relu(x))`` gives for squared_relu (squareplus's textbook form gives NaN at -inf).
NOT_IN_PYTORCH_AT_NEG_INF_POS_INF_NAN = {
    "squared_relu": ([0.0, INF, NAN], [0.0, INF, NAN]),
    "squareplus": ([0.0, INF, NAN], [0.0, 1.0, NAN]),
}

#: Where PyTorch computes inf/inf or inf*0 and returns NaN, actlib returns the limit: the value is
#: defined, and a NaN would poison a whole training run. (name, index into [-inf, inf, nan], value)
DELIBERATE_DIFFERENCES = {
    ("gelu", 0): 0.0, ("silu", 0): 0.0, ("swish", 0): 0.0, ("mish", 0): 0.0, ("hardswish", 0): 0.0,
    ("softsign", 0): -1.0, ("softsign", 1): 1.0,
    # PyTorch rounds scale * alpha twice; actlib's -scale*alpha is the correctly rounded value (mpmath)
    ("selu", 0): -1.7580993408473768,
}

#: The derivative's limits at -inf and +inf, which actlib returns for every elementwise function.
DERIVATIVE_LIMITS = {
    "relu": (0, 1), "sigmoid": (0, 0), "logsigmoid": (1, 0), "tanh": (0, 0), "leaky_relu": (0.01, 1),
    "prelu": (0.25, 1), "rrelu": (11 / 48, 1), "elu": (0, 1), "selu": (0, 1.0507009873554805), "celu": (0, 1),
    "gelu": (0, 1), "silu": (0, 1), "swish": (0, 1), "mish": (0, 1), "relu6": (0, 0), "hardtanh": (0, 0),
    "hardsigmoid": (0, 0), "hardswish": (0, 1), "softplus": (0, 1), "softsign": (0, 0), "tanhshrink": (1, 1),
    "softshrink": (1, 1), "hardshrink": (1, 1), "threshold": (0, 1), "squared_relu": (0, INF), "squareplus": (0, 1),
}

SPECIAL = np.array([-INF, INF, NAN])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", [*PYTORCH_2_13_AT_NEG_INF_POS_INF_NAN, *NOT_IN_PYTORCH_AT_NEG_INF_POS_INF_NAN])
def test_values_at_infinity_and_nan_match_pytorch_or_the_documented_limit(name, dtype):
    fn = actlib.ACTIVATIONS[name]
    table = {**PYTORCH_2_13_AT_NEG_INF_POS_INF_NAN, **NOT_IN_PYTORCH_AT_NEG_INF_POS_INF_NAN}
    expected = np.array(table[name][0])
    for (diff_name, index), value in DELIBERATE_DIFFERENCES.items():
        if diff_name == name:
            expected[index] = value
    with np.errstate(all="raise", under="ignore"):
        got = fn(SPECIAL.astype(dtype))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected.astype(dtype))


#: f(-0.0) and f(+0.0) in PyTorch 2.13.0 (float64 and float32 agree), recorded like the table above with
#: t = torch.tensor([-0.0, 0.0]). The sign of a zero result is part of the value.
PYTORCH_2_13_AT_SIGNED_ZEROS = {
    "relu": (-0.0, 0.0), "sigmoid": (0.5, 0.5), "logsigmoid": (-0.6931471805599453, -0.6931471805599453),
    "tanh": (-0.0, 0.0), "leaky_relu": (-0.0, 0.0), "prelu": (-0.0, 0.0), "rrelu": (-0.0, 0.0), "elu": (-0.0, 0.0),
    "selu": (-0.0, 0.0), "celu": (-0.0, 0.0), "gelu": (-0.0, 0.0), "silu": (-0.0, 0.0), "swish": (-0.0, 0.0),
    "mish": (-0.0, 0.0), "relu6": (-0.0, 0.0), "hardtanh": (-0.0, 0.0), "hardsigmoid": (0.5, 0.5),
    "hardswish": (-0.0, 0.0), "softplus": (0.6931471805599453, 0.6931471805599453), "softsign": (-0.0, 0.0),
    "tanhshrink": (0.0, 0.0), "softshrink": (-0.0, 0.0), "hardshrink": (0.0, 0.0), "threshold": (0.0, 0.0),
    # not in PyTorch: torch.square(torch.relu(t)) for squared_relu (the square of -0.0 is +0.0), 2/2 for squareplus
    "squared_relu": (0.0, 0.0), "squareplus": (1.0, 1.0),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(PYTORCH_2_13_AT_SIGNED_ZEROS))
def test_signed_zeros_give_what_pytorch_gives_in_every_dtype(name, dtype):
    """float16 and float32 may take another kernel than float64 (``defnarrow``); at +-0 all agree with PyTorch."""
    got = actlib.ACTIVATIONS[name](np.array([-0.0, 0.0], dtype))
    expected = np.array(PYTORCH_2_13_AT_SIGNED_ZEROS[name], dtype)
    np.testing.assert_array_equal(got, expected)
    assert np.signbit(got).tolist() == np.signbit(expected).tolist(), f"{name}: signs of the zeros"


@pytest.mark.parametrize("name", list(DERIVATIVE_LIMITS))
def test_derivative_at_infinity_is_the_limit_and_nan_stays_nan(name):
    fn = actlib.ACTIVATIONS[name]
    with np.errstate(all="raise", under="ignore"):
        got = fn.derivative(SPECIAL)
    np.testing.assert_allclose(got[:2], DERIVATIVE_LIMITS[name], rtol=1e-15)
    if name not in {"relu", "leaky_relu", "prelu", "rrelu", "relu6", "hardtanh", "hardsigmoid", "hardswish",
                    "softshrink", "hardshrink", "threshold", "elu", "selu", "celu"}:
        assert np.isnan(got[2])


def test_every_elementwise_function_is_in_the_tables():
    elementwise = {n for n, f in actlib.ACTIVATIONS.items() if f.info.properties.elementwise}
    tables = set(PYTORCH_2_13_AT_NEG_INF_POS_INF_NAN) | set(NOT_IN_PYTORCH_AT_NEG_INF_POS_INF_NAN)
    assert elementwise == tables == set(DERIVATIVE_LIMITS)
    assert elementwise == set(PYTORCH_2_13_AT_SIGNED_ZEROS)


@pytest.mark.parametrize(
    ("x", "softmax_expected", "log_softmax_expected"),
    [
        ([INF, 0.0], [NAN, NAN], [NAN, NAN]),
        ([-INF, -INF], [NAN, NAN], [NAN, NAN]),
        ([-INF, 0.0], [0.0, 1.0], [-INF, 0.0]),
        ([NAN, 0.0], [NAN, NAN], [NAN, NAN]),
    ],
)
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_special_values_match_pytorch(x, softmax_expected, log_softmax_expected, dtype):
    # recorded with torch.softmax / torch.log_softmax 2.13.0 along dim -1
    with np.errstate(all="raise", under="ignore"):
        np.testing.assert_array_equal(actlib.softmax(np.array(x, dtype)), np.array(softmax_expected, dtype))
        np.testing.assert_array_equal(actlib.log_softmax(np.array(x, dtype)), np.array(log_softmax_expected, dtype))


# The recording script (run with PyTorch 2.13.0 installed):
#   t = torch.tensor([-inf, inf, nan], dtype=torch.float64)
#   for name, f in counterparts.items():   # F.relu, torch.sigmoid, F.logsigmoid, ..., F.silu for swish
#       values = f(t).tolist()
#       grads = [torch.autograd.grad(f(t[i:i+1].clone().requires_grad_()).sum(), ...)[0].item() for i in range(3)]
