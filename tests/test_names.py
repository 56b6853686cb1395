"""The configuration-name table: every string names a registered function with valid parameters, and the formulas
the source defines (transcribed below from transformers' activations.py) agree with actlib where the table says
the alias is exact and differ where it says not."""

import numpy as np
import pytest
from scipy.special import erf, expit

import actlib
from actlib.names import GATED_CONFIG_NAMES, HUGGING_FACE_ACT2FN, MODEL_CONFIG_NAMES, framework_table, from_config_name

SQRT_2_OVER_PI = np.sqrt(2 / np.pi)


def _tanh_form(x):
    return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3)))


def _exact_gelu(x):
    return x * 0.5 * (1.0 + erf(x / np.sqrt(2.0)))


#: the forward of each ACT2CLS class, as the source writes it
TRANSCRIBED = {
    "gelu": _exact_gelu,
    "gelu_10": lambda x: np.clip(_exact_gelu(x), -10, 10),
    "gelu_fast": lambda x: 0.5 * x * (1.0 + np.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    "gelu_new": _tanh_form,
    "gelu_python": _exact_gelu,
    "gelu_pytorch_tanh": _tanh_form,
    "gelu_accurate": _tanh_form,
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "quick_gelu": lambda x: x * expit(1.702 * x),
    "relu": lambda x: np.maximum(x, 0),
    "relu2": lambda x: np.square(np.maximum(x, 0)),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": expit,
    "silu": lambda x: x * expit(x),
    "swish": lambda x: x * expit(x),
    "tanh": np.tanh,
    "prelu": lambda x: np.where(x >= 0, x, 0.25 * x),
}
X = np.linspace(-12.0, 12.0, 2401)


@pytest.mark.parametrize("name", list(MODEL_CONFIG_NAMES))
def test_every_name_points_at_a_registered_function_with_valid_parameters(name):
    spec = MODEL_CONFIG_NAMES[name]
    if spec.function is None:
        assert not spec.exact and spec.note, "a name without a function says why"
        with pytest.raises(ValueError, match=rf"^from_config_name: '{name}' has no actlib function"):
            from_config_name(name)
        return
    fn = actlib.ACTIVATIONS[spec.function]
    fn._bind(np.zeros(2), (), spec.params)  # raises on a parameter the function does not take or accept
    assert spec.source and (spec.exact or spec.note)


def test_every_hugging_face_function_is_transcribed_or_absent_from_actlib():
    with_function = {name for name, spec in HUGGING_FACE_ACT2FN.items() if spec.function is not None}
    assert with_function == set(TRANSCRIBED)


@pytest.mark.parametrize("name", list(TRANSCRIBED))
def test_exact_aliases_agree_with_the_source_and_the_others_differ(name):
    ours = from_config_name(name)(X)
    theirs = TRANSCRIBED[name](X)
    # a few roundings of the textbook form: about 1e-16 relative to max(1, |x|) (its left tail loses the rest)
    moderate = np.abs(X) <= 6
    difference = (np.abs(ours - theirs) / np.maximum(1.0, np.abs(X)))[moderate]
    if HUGGING_FACE_ACT2FN[name].exact:
        assert difference.max() < 1e-15, name
        return
    assert np.max(np.abs(ours - theirs)) > 1e-13, f"{name} is marked inexact but agrees"


def test_gelu_fast_differs_from_gelu_new_only_in_the_eleventh_digit():
    fast, new = TRANSCRIBED["gelu_fast"](X), TRANSCRIBED["gelu_new"](X)
    assert 1e-13 < np.max(np.abs(fast - new)) < 1e-11


@pytest.mark.parametrize("name", list(GATED_CONFIG_NAMES))
def test_gated_names_are_the_glu_variant_with_the_halves_swapped(name):
    rng = np.random.default_rng(0)
    gate_half, linear_half = rng.normal(size=(2, 5, 4))
    gate = {"gated-gelu": _tanh_form, "gated-silu": TRANSCRIBED["silu"], "silu_and_mul": TRANSCRIBED["silu"]}[name]
    theirs = gate(gate_half) * linear_half  # act(x W_0) * x W_1: the gate comes first
    ours = from_config_name(name)(np.concatenate([linear_half, gate_half], axis=-1))
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_framework_table_has_a_row_per_function_with_its_spellings():
    rows = {row["actlib"]: row for row in framework_table()}
    assert set(rows) == set(actlib.ACTIVATIONS)
    assert rows["squareplus"]["jax"] == "jax.nn.squareplus (b=4)"
    assert rows["glu"]["pytorch"] == "torch.nn.GLU (dim=-1)"
    assert "quick_gelu" in rows["gelu"]["config names"] and "relu2" in rows["squared_relu"]["config names"]


def test_unknown_name_is_a_key_error_listing_the_known_ones():
    with pytest.raises(KeyError, match="unknown configuration name 'gelu_slow'"):
        from_config_name("gelu_slow")
