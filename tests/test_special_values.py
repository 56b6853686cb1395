"""±inf, NaN, signed zeros and kinks: each entry's own expectations (``f.info.expected``), in every dtype.

What PyTorch returns is a separate record in each entry (``f.info.pytorch_recorded``), checked against
torch itself in test_pytorch_records.py; here it is only compared with actlib's expectations, so that
every difference is one the entry explains.
"""

import math

import numpy as np
import pytest

import actlib

from .conftest import ALL, ELEMENTWISE, FLOATS, VECTOR

SPECIAL = np.array([-np.inf, np.inf, np.nan])


def expected(name):
    return actlib.ACTIVATIONS[name].info.expected


def assert_same(got, want, what):
    """Equal values, NaN where NaN is expected, and the same sign of every zero."""
    got, want = np.asarray(got), np.asarray(want, dtype=got.dtype)
    np.testing.assert_array_equal(got, want, err_msg=what)
    numbers = ~np.isnan(want)
    assert np.signbit(got[numbers]).tolist() == np.signbit(want[numbers]).tolist(), f"{what}: signs of zeros"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_elementwise_entry_declares_its_special_values(name):
    e = expected(name)
    assert e.at_infinities is not None and e.derivative_at_infinities is not None and e.at_signed_zeros is not None
    assert not e.rows


@pytest.mark.parametrize("name", VECTOR)
def test_every_vector_entry_declares_special_rows(name):
    assert expected(name).rows and expected(name).at_infinities is None


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_at_infinity_and_nan_are_the_declared_ones(name, dtype):
    with np.errstate(all="raise", under="ignore"):
        got = actlib.ACTIVATIONS[name](SPECIAL.astype(dtype))
    assert got.dtype == dtype
    assert_same(got, expected(name).at_infinities, f"{name} at -inf, inf, nan")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_signed_zeros_give_the_declared_values_in_every_dtype(name, dtype):
    """float16 and float32 may take another kernel than float64 (``defnarrow``); at +-0 all agree."""
    got = actlib.ACTIVATIONS[name](np.array([-0.0, 0.0], dtype))
    assert_same(got, expected(name).at_signed_zeros, f"{name} at -0.0, +0.0")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_at_infinity_is_the_limit_and_at_nan_the_declared_value(name, dtype):
    with np.errstate(all="raise", under="ignore"):
        got = actlib.ACTIVATIONS[name].derivative(SPECIAL.astype(dtype))
    assert_same(got, expected(name).derivative_at_infinities, f"{name}' at -inf, inf, nan")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", VECTOR)
def test_special_rows_give_the_declared_rows(name, dtype):
    for row, want in expected(name).rows:
        with np.errstate(all="raise", under="ignore"):
            got = actlib.ACTIVATIONS[name](np.array(row, dtype))
        assert_same(got, np.array(want, dtype), f"{name}{row}")


def _differs(actlib_values, recorded_values):
    return any(
        not ((math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b)))
        for a, b in zip(actlib_values, recorded_values, strict=True)
    )


def _differences_from_pytorch(name):
    info = actlib.ACTIVATIONS[name].info
    record, own = info.pytorch_recorded, info.expected
    found = []
    for field in ("at_infinities", "derivative_at_infinities", "at_signed_zeros"):
        if getattr(record, field) is not None and _differs(getattr(own, field), getattr(record, field)):
            found.append(field)
    defaults = [k.derivative for k in own.kink_derivatives if not k.params]
    if record.kink_derivatives and _differs(defaults, record.kink_derivatives):
        found.append("kink_derivatives")
    for (row, want), (recorded_row, recorded) in zip(own.rows, record.rows, strict=False):
        assert row == recorded_row, f"{name}: the recorded rows are the first expected rows, in order"
        if _differs(want, recorded):
            found.append(f"rows {row}")
    return found


@pytest.mark.parametrize("name", [n for n in ALL if actlib.ACTIVATIONS[n].info.pytorch_recorded is not None])
def test_every_difference_from_pytorch_is_explained_and_no_explanation_is_stale(name):
    record = actlib.ACTIVATIONS[name].info.pytorch_recorded
    found = _differences_from_pytorch(name)
    if found:
        assert record.differences, f"{name} differs from PyTorch in {found} without saying why"
    else:
        assert not record.differences, f"{name} agrees with PyTorch everywhere, but its record explains a difference"


@pytest.mark.parametrize("name", ALL)
def test_a_pytorch_record_exists_exactly_for_the_functions_pytorch_has(name):
    info = actlib.ACTIVATIONS[name].info
    assert (info.pytorch_recorded is None) == (info.properties.pytorch.name is None), name


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if actlib.ACTIVATIONS[n].info.pytorch_recorded is not None])
def test_a_record_has_one_kink_derivative_per_kink(name):
    info = actlib.ACTIVATIONS[name].info
    assert len(info.pytorch_recorded.kink_derivatives) == len(info.properties.kinks)
