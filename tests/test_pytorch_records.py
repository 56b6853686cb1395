"""Every entry's ``pytorch_recorded`` against the real PyTorch: the recorded values are facts, re-checked.

The records were made with PyTorch 2.13.0 (CPU, float64): values at -inf, +inf and NaN, derivatives
from autograd one element at a time, values at -0.0 and +0.0, derivatives at the kinks, and softmax's
special rows. Without torch these tests skip; CI installs it.
"""

import math

import numpy as np
import pytest

import actlib

from .conftest import ALL

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the recorded PyTorch values are not re-checked")

RECORDED = [name for name in ALL if actlib.ACTIVATIONS[name].info.pytorch_recorded is not None]


def same(got, want):
    return all(
        (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
        for a, b in zip(got, want, strict=True)
    )


def gradient(call, x):
    t = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(call(torch, t).sum(), t)
    return g.item()


def test_the_installed_torch_is_the_recorded_version():
    assert torch.__version__.split("+")[0] == "2.13.0", f"records were made with 2.13.0, torch is {torch.__version__}"


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_pytorch_values_are_what_pytorch_returns(name):
    info = actlib.ACTIVATIONS[name].info
    record = info.pytorch_recorded
    call = record.call
    if record.at_infinities is not None:
        got = call(torch, torch.tensor([-math.inf, math.inf, math.nan], dtype=torch.float64)).tolist()
        assert same(got, record.at_infinities), (name, got)
    if record.derivative_at_infinities is not None:
        got = [gradient(call, x) for x in (-math.inf, math.inf, math.nan)]
        assert same(got, record.derivative_at_infinities), (name, got)
    if record.at_signed_zeros is not None:
        got = call(torch, torch.tensor([-0.0, 0.0], dtype=torch.float64)).tolist()
        assert same(got, record.at_signed_zeros), (name, got)
    got = [gradient(call, k) for k in info.properties.kinks]
    assert same(got, record.kink_derivatives), (name, got)
    for row, want in record.rows:
        got = call(torch, torch.tensor(row, dtype=torch.float64)).tolist()
        assert same(got, want), (name, row, got)


@pytest.mark.parametrize("name", RECORDED)
def test_the_counterpart_computes_the_same_function(name):
    """The recorded call is the counterpart of this entry: on ordinary inputs it agrees with actlib."""
    fn = actlib.ACTIVATIONS[name]
    x = np.linspace(-5.0, 5.0, 41)
    if not fn.info.properties.elementwise:
        x = x.reshape(-1, 1) * np.array([1.0, 0.5, -0.25, 2.0])  # an even length, for the GLU family
    got = fn.info.pytorch_recorded.call(torch, torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(fn(x), got, rtol=1e-12, atol=1e-15)
