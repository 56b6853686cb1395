"""The derivative at every kink is the convention its entry declares (``f.info.expected.kink_derivatives``).

The conventions are those of PyTorch 2.13's autograd, except where an entry's PyTorch record explains a
difference (selu's correctly rounded scale * alpha); test_pytorch_records.py re-checks PyTorch's values.
"""

import numpy as np
import pytest

import actlib

from .conftest import ELEMENTWISE

KINK_CASES = [
    (name, kink)
    for name in ELEMENTWISE
    for kink in actlib.ACTIVATIONS[name].info.expected.kink_derivatives
]


def case_id(case):
    name, kink = case
    return f"{name}-{kink.x:g}" + "".join(f"-{k}={v}" for k, v in kink.params.items())


@pytest.mark.parametrize("case", KINK_CASES, ids=case_id)
def test_derivative_at_the_kink_is_the_declared_convention(case):
    name, kink = case
    got = actlib.ACTIVATIONS[name].derivative(np.float64(kink.x), **kink.params)
    assert got == kink.derivative, f"{name}'({kink.x}) with {dict(kink.params)}: {got}"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_kink_has_a_declared_derivative(name):
    info = actlib.ACTIVATIONS[name].info
    declared = {k.x for k in info.expected.kink_derivatives if not k.params}
    assert set(info.properties.kinks) <= declared, f"{name}: kinks without a declared derivative"


def test_prelu_weight_derivative_is_x_below_zero_and_zero_at_zero():
    np.testing.assert_array_equal(actlib.prelu.weight_derivative(np.array([-2.0, 0.0, 3.0])), [-2.0, 0.0, 0.0])


def test_rrelu_training_derivative_reuses_the_forward_slopes():
    x = np.array([-1.0, -2.0, 0.0, 3.0])
    y = actlib.rrelu(x, training=True, rng=np.random.default_rng(7))
    dy = actlib.rrelu.derivative(x, training=True, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(dy[:2], y[:2] / x[:2])
    assert dy[3] == 1.0
    assert 1 / 8 <= dy[2] <= 1 / 3  # at 0 the drawn slope, as rrelu_with_noise


def test_hardshrink_value_is_zero_at_lambd():
    np.testing.assert_array_equal(actlib.hardshrink(np.array([-0.5, 0.5])), [0.0, 0.0])


def test_rrelu_slopes_draws_between_rrelu_s_own_default_bounds():
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(actlib.rrelu_slopes).parameters.items()}
    assert (defaults["lower"], defaults["upper"]) == (actlib.rrelu.info.parameters["lower"],
                                                      actlib.rrelu.info.parameters["upper"])
