"""The transformer layers of ``actlib.transformer``: every backward pass agrees with central differences of a
weighted sum of its output (loss = sum(w * layer(x)) for a fixed random w), the mask keeps attention causal, the
2/3 rule equalises the weights, and a short seeded run learns."""

from __future__ import annotations

import numpy as np
import pytest

import actlib
from actlib.nn import Adam
from actlib.sequences import modular_sums, sorting
from actlib.transformer import (
    TRAINING_KERNELS,
    CausalSelfAttention,
    Embedding,
    FeedForward,
    LayerNorm,
    Transformer,
    TransformerBlock,
    feed_forward_width,
    token_cross_entropy,
    train_tokens,
)

STEP = 1e-6
#: central differences: truncation O(step**2) and rounding O(eps / step), about 1e-10 against gradients of order 1
RTOL, ATOL = 1e-6, 1e-9
#: the activations of part 3's experiment in the fast tests, every other one a slow test
EXPERIMENT = {"relu", "gelu", "silu", "squared_relu", "glu", "reglu", "geglu", "swiglu"}
FEED_FORWARD_ACTIVATIONS = [
    name if name in EXPERIMENT else pytest.param(name, marks=pytest.mark.slow)
    for name, fn in actlib.ACTIVATIONS.items()
    if (fn.info.properties.elementwise and name not in ("prelu", "rrelu")) or fn.info.properties.family == "glu"
]


def _numeric(loss, array):
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + STEP
        plus = loss()
        array[index] = saved - STEP
        minus = loss()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * STEP)
    return grad


def check_layer(layer, x, seed=0):
    """Parameters' and input's gradients of sum(w * layer.forward(x)) against central differences."""
    w = np.random.default_rng(seed).normal(size=layer.forward(x).shape)

    def loss():
        return float(np.sum(w * layer.forward(x)))

    # the rounding error of a difference of two losses grows with the terms summed: an exact zero gradient (the
    # keys' bias, to which softmax is blind) comes out as about eps * sum|w y| / step
    atol = ATOL * max(1.0, float(np.sum(np.abs(w * layer.forward(x)))))
    grad_x = layer.backward(w)
    for name, array in layer.parameters.items():
        np.testing.assert_allclose(layer.grads[name], _numeric(loss, array), rtol=RTOL, atol=atol, err_msg=name)
    np.testing.assert_allclose(grad_x, _numeric(loss, x), rtol=RTOL, atol=atol, err_msg="input")


def test_layer_norm_backward():
    rng = np.random.default_rng(1)
    norm = LayerNorm(5)
    norm.parameters["gamma"][:] = rng.normal(1.0, 0.3, 5)
    norm.parameters["beta"][:] = rng.normal(0.0, 0.3, 5)
    check_layer(norm, rng.normal(size=(2, 3, 5)))


def test_layer_norm_normalises_each_row():
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(4, 7))
    y = LayerNorm(7).forward(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-4)  # eps = 1e-5 in the denominator


@pytest.mark.parametrize("heads", [1, 2])
def test_causal_self_attention_backward(heads):
    rng = np.random.default_rng(3)
    attention = CausalSelfAttention(6, heads, rng, std=0.5)  # large weights: attention far from uniform
    attention.parameters["b_qkv"][:] = rng.normal(0.0, 0.2, 18)
    check_layer(attention, rng.normal(size=(2, 4, 6)))


def test_attention_is_causal_and_its_weights_sum_to_one():
    rng = np.random.default_rng(4)
    attention = CausalSelfAttention(8, 2, rng, std=0.5)
    x = rng.normal(size=(1, 5, 8))
    before = attention.forward(x).copy()
    x[0, 3:] += 10.0  # change the future of position 2
    after = attention.forward(x)
    np.testing.assert_array_equal(before[0, :3], after[0, :3])
    assert not np.allclose(before[0, 3:], after[0, 3:])
    np.testing.assert_allclose(attention.attention.sum(axis=-1), 1.0, rtol=1e-14)
    assert np.all(attention.attention[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


@pytest.mark.parametrize("activation", FEED_FORWARD_ACTIVATIONS)
def test_feed_forward_backward(activation):
    rng = np.random.default_rng(5)
    layer = FeedForward(4, 6, activation, rng, std=0.8)
    layer.parameters["b_1"][:] = rng.normal(0.0, 0.3, layer.parameters["b_1"].size)
    x = rng.normal(size=(2, 3, 4))
    layer.forward(x)
    # a step of 1e-6 moves a pre-activation by about 1e-6: keep every one 100 steps away from a kink
    kinks = list(actlib.ACTIVATIONS[activation].info.properties.kinks)
    if activation in ("reglu", "relu"):
        kinks = [0.0]
    for kink in kinks:
        assert np.min(np.abs(layer.pre_activations - kink)) > 100 * STEP, f"a pre-activation sits on {kink}"
    check_layer(layer, x)


def test_embedding_backward_collects_repeated_tokens():
    rng = np.random.default_rng(6)
    embedding = Embedding(5, 3, 4, rng, std=1.0)
    tokens = np.array([[1, 1, 4], [0, 1, 2]])
    w = rng.normal(size=(2, 3, 3))

    def loss():
        return float(np.sum(w * embedding.forward(tokens)))

    embedding.forward(tokens)
    embedding.backward(w)
    for name, array in embedding.parameters.items():
        np.testing.assert_allclose(embedding.grads[name], _numeric(loss, array), rtol=RTOL, atol=ATOL, err_msg=name)
    assert np.all(embedding.grads["tokens"][3] == 0)  # token 3 never appears


@pytest.mark.parametrize("activation", ["gelu", "swiglu"])
def test_transformer_block_backward(activation):
    rng = np.random.default_rng(7)
    block = TransformerBlock(6, 2, 5, activation, rng, output_std=0.5)
    for layer in (block.attention, block.feed_forward):
        for name, array in layer.parameters.items():
            if name.startswith("W"):
                array *= 20.0  # from std 0.02 to 0.4: the sublayers matter next to the residual path
    check_layer(block, rng.normal(size=(2, 4, 6)))


@pytest.mark.parametrize(("activation", "layers"), [("squared_relu", 2), ("swiglu", 1)])
def test_whole_model_loss_gradient(activation, layers):
    rng = np.random.default_rng(8)
    model = Transformer(vocab=5, dim=8, heads=2, layers=layers, max_length=4, activation=activation, hidden=6,
                        rng=rng)
    for array in model.parameters.values():
        array += rng.normal(0.0, 0.3, array.shape)  # away from the near-zero initialisation
    tokens = rng.integers(0, 5, size=(3, 4))
    targets = rng.integers(0, 5, size=(3, 4))
    mask = rng.random((3, 4)) > 0.3
    _, grads = model.loss_and_grads(tokens, targets, mask)
    assert list(model.grads) == list(model.parameters) and len(grads) == len(model.parameters)
    for (name, array), analytic in zip(model.parameters.items(), grads, strict=True):
        numeric = _numeric(lambda: model.loss(tokens, targets, mask), array)
        np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL, err_msg=name)


def test_token_cross_entropy_matches_the_mean_negative_log_likelihood():
    rng = np.random.default_rng(9)
    logits, targets = rng.normal(size=(2, 3, 4)), rng.integers(0, 4, size=(2, 3))
    mask = np.array([[True, False, True], [True, True, False]])
    loss, _ = token_cross_entropy(logits, targets, mask)
    log_p = actlib.log_softmax(logits, axis=-1)
    expected = -np.mean([log_p[i, t, targets[i, t]] for i, t in zip(*np.nonzero(mask), strict=True)])
    assert loss == pytest.approx(expected, rel=1e-14)
    with pytest.raises(ValueError, match="mask selects no position"):
        token_cross_entropy(logits, targets, np.zeros((2, 3), bool))


@pytest.mark.parametrize("gated", ["swiglu", "geglu", "reglu", "glu"])
def test_the_two_thirds_rule_keeps_the_weight_count(gated):
    dim = 48
    plain = Transformer(vocab=7, dim=dim, heads=4, layers=1, max_length=8, activation="relu")
    glu = Transformer(vocab=7, dim=dim, heads=4, layers=1, max_length=8, activation=gated)
    assert (plain.hidden, glu.hidden) == (4 * dim, 8 * dim // 3) == (feed_forward_width(dim, "relu"),
                                                                    feed_forward_width(dim, gated))
    weights = [m.parameter_count("feed_forward.W") for m in (plain, glu)]
    assert weights[0] == weights[1] == 8 * dim * dim
    # the biases differ: 4d + d against 2 (8d/3) + d
    assert glu.parameter_count("feed_forward.b") - plain.parameter_count("feed_forward.b") == 4 * dim // 3


def test_feed_forward_records_the_gate_half_of_a_glu_variant():
    rng = np.random.default_rng(10)
    layer = FeedForward(4, 3, "reglu", rng, std=1.0)
    layer.forward(rng.normal(size=(5, 4)))
    np.testing.assert_array_equal(layer.pre_activations, layer.projected[:, 3:])
    np.testing.assert_array_equal(layer.hidden == 0, (layer.pre_activations <= 0) | (layer.projected[:, :3] == 0))


def test_bad_arguments_are_refused_naming_the_layer():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="CausalSelfAttention: dim 6 is not a multiple of heads 4"):
        CausalSelfAttention(6, 4, rng)
    with pytest.raises(ValueError, match="FeedForward: activation 'softmax' is neither elementwise"):
        FeedForward(4, 4, "softmax", rng)
    with pytest.raises(ValueError, match="FeedForward: unknown activation"):
        FeedForward(4, 4, "gelu_new", rng)
    embedding = Embedding(5, 2, 3, rng)
    with pytest.raises(ValueError, match=r"Embedding: tokens must lie in \[0, 5\)"):
        embedding.forward(np.array([[0, 5]]))
    with pytest.raises(ValueError, match="exceeds max_length 3"):
        embedding.forward(np.zeros((1, 4), int))


def test_modular_sums_are_seeded_and_correct():
    a, b = modular_sums(50, length=6, modulus=5, seed=3), modular_sums(50, length=6, modulus=5, seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, np.cumsum(a.x_test, axis=1) % 5)
    assert a.x_test.shape == (12, 6) and a.vocab == 5
    with pytest.raises(ValueError, match="modular_sums: modulus must be at least 2"):
        modular_sums(10, modulus=1)


def test_a_short_seeded_run_learns_beyond_chance():
    data = modular_sums(512, length=4, modulus=3, seed=0)
    model = Transformer(vocab=3, dim=16, heads=2, layers=1, max_length=4, activation="relu",
                        rng=np.random.default_rng(0))
    before = model.accuracy(data.x_test, data.y_test)
    losses = train_tokens(model, data.x_train, data.y_train, optimizer=Adam(0.01), steps=100, batch_size=64)
    again = Transformer(vocab=3, dim=16, heads=2, layers=1, max_length=4, activation="relu",
                        rng=np.random.default_rng(0))
    assert train_tokens(again, data.x_train, data.y_train, optimizer=Adam(0.01), steps=3, batch_size=64) \
        == losses[:3]  # seeded: the same numbers
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:10])
    after = model.accuracy(data.x_test, data.y_test)
    assert after > max(before, 1 / 3) + 0.1, (before, after)


def test_a_float32_model_stays_in_float32_and_agrees_with_float64():
    data = modular_sums(64, length=5, modulus=4, seed=1)
    models = {dtype: Transformer(vocab=4, dim=8, heads=2, layers=1, max_length=5, activation="gelu",
                                 rng=np.random.default_rng(2), dtype=dtype) for dtype in (np.float32, np.float64)}
    results = {dtype: model.loss_and_grads(data.x_train, data.y_train) for dtype, model in models.items()}
    assert all(g.dtype == np.float32 for g in results[np.float32][1])
    assert all(p.dtype == np.float32 for p in models[np.float32].parameters.values())
    assert results[np.float32][0] == pytest.approx(results[np.float64][0], rel=1e-5)
    for g32, g64 in zip(results[np.float32][1], results[np.float64][1], strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-2, atol=1e-5)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        Transformer(vocab=4, dim=8, heads=2, layers=1, max_length=5, dtype=np.float16)


@pytest.mark.parametrize("activation", sorted(TRAINING_KERNELS))
def test_numpy_training_kernels_agree_with_the_registry(activation):
    """The plain formulas the part 3 experiment trains with compute actlib's function: values and slopes
    within a few float32 ULPs (relative 1e-5) over the pre-activations a training run meets, and the same
    layer output and input gradient as the registry's kernels."""
    rng = np.random.default_rng(3)
    fn = actlib.ACTIVATIONS[activation]
    gate = {"reglu": "relu", "geglu": "gelu", "swiglu": "silu"}.get(activation, activation)
    z = np.linspace(-12, 12, 2001).astype(np.float32)
    value, slope = TRAINING_KERNELS[activation](z)
    assert value.dtype == slope.dtype == np.float32
    reference = actlib.ACTIVATIONS[gate]
    np.testing.assert_allclose(value, reference(z), rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(slope, reference.derivative(z), rtol=1e-5, atol=1e-6)
    layers = [FeedForward(4, 6, activation, np.random.default_rng(1), std=0.8, kernels=k) for k in ("actlib", "numpy")]
    x = rng.normal(size=(2, 3, 4))
    w = rng.normal(size=(2, 3, 4))
    outputs = [layer.forward(x) for layer in layers]
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layers[1].backward(w), layers[0].backward(w), rtol=1e-12, atol=1e-14)
    for name in layers[0].grads:
        np.testing.assert_allclose(layers[1].grads[name], layers[0].grads[name], rtol=1e-12, atol=1e-14)
    assert fn.info.properties.family == "glu" or np.array_equal(layers[1].pre_activations, layers[1].projected)


@pytest.mark.parametrize("activation", ["relu", "swiglu"])
def test_numpy_kernel_feed_forward_backward(activation):
    rng = np.random.default_rng(5)
    layer = FeedForward(4, 6, activation, rng, std=0.8, kernels="numpy")
    layer.parameters["b_1"][:] = rng.normal(0.0, 0.3, layer.parameters["b_1"].size)
    x = rng.normal(size=(2, 3, 4))
    layer.forward(x)
    assert np.min(np.abs(layer.pre_activations)) > 100 * STEP
    check_layer(layer, x)


def test_numpy_kernels_are_refused_where_there_is_none():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="FeedForward: no NumPy training kernel for 'elu'"):
        FeedForward(4, 4, "elu", rng, kernels="numpy")
    with pytest.raises(ValueError, match="FeedForward: no NumPy training kernel for 'gelu'"):
        FeedForward(4, 4, "gelu", rng, params={"approximate": "tanh"}, kernels="numpy")
    with pytest.raises(ValueError, match="FeedForward: kernels must be 'actlib' or 'numpy'"):
        FeedForward(4, 4, "relu", rng, kernels="fast")


def test_sorting_targets_are_the_sorted_digits():
    data = sorting(40, length=5, values=7, seed=2)
    again = sorting(40, length=5, values=7, seed=2)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    assert data.vocab == 8 and data.x_train.shape == (40, 10) and data.x_test.shape == (10, 10)
    for x, y, mask in zip(data.x_test, data.y_test, data.mask_test, strict=True):
        np.testing.assert_array_equal(x[5], 7)  # the separator
        np.testing.assert_array_equal(y[mask], np.sort(x[:5]))
        np.testing.assert_array_equal(y[~mask], x[1:6])
    with pytest.raises(ValueError, match="sorting: values must be at least 2"):
        sorting(10, values=1)
