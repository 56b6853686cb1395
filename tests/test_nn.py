"""The training kit in ``actlib.nn``: back-propagation agrees with central differences, and the pieces
around it (initialisation, loss, optimisers, training loop) do what their docstrings say."""

from __future__ import annotations

import numpy as np
import pytest

from actlib import ACTIVATIONS
from actlib.datasets import digits, spirals, two_moons
from actlib.nn import (
    MLP,
    SELU_SATURATION,
    SGD,
    Adam,
    clip_by_global_norm,
    cross_entropy,
    draw_dropout,
    global_norm,
    init_std,
    train,
)

ELEMENTWISE = [name for name, fn in ACTIVATIONS.items() if fn.info.properties.elementwise]
# A parameter for those whose defaults would hide something: leaky_relu's 0.01 slope barely differs from relu.
PARAMS = {"leaky_relu": {"negative_slope": 0.1}, "prelu": {"weight": 0.3}}
STEP = 1e-6


def _numerical_gradient(model: MLP, x: np.ndarray, y: np.ndarray, *, seed: int | None = None) -> list[np.ndarray]:
    """Central differences of the loss for every parameter; ``seed`` re-seeds the model's rng before each pass
    so that rrelu draws the same slopes every time."""

    def loss() -> float:
        if seed is not None:
            model.rng = np.random.default_rng(seed)
        return cross_entropy(model.forward(x), y)[0]

    grads = []
    for p in model.parameters:
        g = np.zeros_like(p)
        for index in np.ndindex(p.shape):
            saved = p[index]
            p[index] = saved + STEP
            plus = loss()
            p[index] = saved - STEP
            minus = loss()
            p[index] = saved
            g[index] = (plus - minus) / (2 * STEP)
        grads.append(g)
    return grads


def _gradient_check(model: MLP, *, seed: int | None = None, data_seed: int = 3) -> None:
    rng = np.random.default_rng(data_seed)
    for b in model.biases:
        b[:] = rng.normal(0.0, 0.1, size=b.shape)
    x = rng.normal(size=(7, model.sizes[0]))
    y = rng.integers(0, model.sizes[-1], size=7)
    if seed is not None:
        model.rng = np.random.default_rng(seed)
    _, analytic = model.loss_and_grads(x, y)
    # Away from kinks: a step of 1e-6 in a parameter moves a pre-activation by a few 1e-6, so keep 100 steps away.
    info = ACTIVATIONS[model.activation].info if model.activation else None
    kinks = [] if info is None else list(info.properties.kinks)
    if model.activation in {"softshrink", "hardshrink"}:
        kinks = [-0.5, 0.5]
    for z in model.pre_activations:
        for kink in kinks:
            assert np.min(np.abs(z - kink)) > 100 * STEP, f"a pre-activation sits on the kink at {kink}"
    numeric = _numerical_gradient(model, x, y, seed=seed)
    for name, a, n in zip(model.parameter_names, analytic, numeric, strict=True):
        # central differences have error O(step**2) plus rounding O(eps / step) ~ 1e-10
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-8, err_msg=f"gradient of {name}")


@pytest.mark.parametrize("activation", [*ELEMENTWISE, None], ids=str)
def test_backward_matches_central_differences(activation):
    model = MLP([3, 5, 4, 3], activation=activation, params=PARAMS.get(activation), rng=np.random.default_rng(3))
    _gradient_check(model)


@pytest.mark.parametrize("activation", ["relu", "tanh", "prelu"])
def test_backward_through_batch_norm_in_training_mode(activation):
    model = MLP([3, 5, 4, 3], activation=activation, batch_norm=True, rng=np.random.default_rng(5))
    for gamma, beta in zip(model.gammas, model.betas, strict=True):
        gamma[:] = np.linspace(0.5, 1.5, gamma.size)
        beta[:] = np.linspace(-0.2, 0.3, beta.size)
    model.training = True
    _gradient_check(model)
    assert {"gamma0", "beta1"} <= set(model.parameter_names)  # so the check covered them


def test_backward_through_rrelu_uses_the_slopes_it_drew():
    model = MLP([3, 5, 4, 3], activation="rrelu", rng=np.random.default_rng(4))
    model.training = True
    _gradient_check(model, seed=11)
    drawn = model.drawn[0]["slopes"]
    assert drawn.shape == model.pre_activations[0].shape and np.unique(drawn).size == drawn.size


@pytest.mark.parametrize("kind", ["standard", "alpha"])
def test_backward_through_dropout_uses_the_units_it_dropped(kind):
    model = MLP([3, 5, 4, 3], activation="selu", dropout=0.3, dropout_kind=kind, rng=np.random.default_rng(6))
    model.training = True
    _gradient_check(model, seed=12)
    scales = [draw.scale for draw in model.dropout_draws]
    assert len(scales) == 2 and all(np.any(s == 0) and np.any(s > 0) for s in scales), "some units dropped, some kept"


def test_alpha_dropout_constants_restore_mean_zero_and_variance_one():
    # Read a and b off a draw, then take the exact moments for x ~ N(0, 1) and d ~ Bernoulli(q):
    # kept units give a x + b, dropped ones a alpha' + b (Klambauer et al. 2017, eq. of "alpha dropout").
    for rate in (0.05, 0.1, 0.2, 0.5):
        draw = draw_dropout((1000,), rate, np.random.default_rng(0), kind="alpha")
        kept = draw.scale > 0
        a, b = draw.scale[kept][0], draw.shift[kept][0]
        dropped_value = draw.shift[~kept][0]
        assert dropped_value == pytest.approx(a * SELU_SATURATION + b, rel=1e-15)
        q = 1.0 - rate
        mean = q * b + (1 - q) * dropped_value
        second = q * (a**2 + b**2) + (1 - q) * dropped_value**2
        assert abs(mean) < 1e-15 and second == pytest.approx(1.0, rel=1e-14), (rate, mean, second)


def test_alpha_dropout_keeps_selu_fixed_point_and_standard_dropout_does_not():
    rng = np.random.default_rng(1)
    z = rng.standard_normal(1_000_000)
    h = ACTIVATIONS["selu"](z)  # mean 0, variance 1 up to sampling error ~1e-3
    alpha = draw_dropout(h.shape, 0.1, rng, kind="alpha")
    standard = draw_dropout(h.shape, 0.1, rng)
    after_alpha, after_standard = h * alpha.scale + alpha.shift, h * standard.scale + standard.shift
    assert abs(after_alpha.mean()) < 5e-3 and abs(after_alpha.var() - 1.0) < 5e-3
    # inverted dropout keeps the mean and multiplies the second moment by 1 / q
    assert abs(after_standard.mean()) < 5e-3 and after_standard.var() == pytest.approx(1 / 0.9, abs=1e-2)
    assert np.mean(alpha.scale == 0) == pytest.approx(0.1, abs=2e-3)


def test_selu_saturation_is_selus_limit():
    assert SELU_SATURATION == ACTIVATIONS["selu"](np.array(-np.inf))
    assert SELU_SATURATION == ACTIVATIONS["selu"](np.array(-800.0))


def test_dropout_is_off_in_evaluation():
    plain = MLP([4, 6, 3], "selu", rng=np.random.default_rng(2))
    dropping = MLP([4, 6, 3], "selu", dropout=0.5, dropout_kind="alpha", rng=np.random.default_rng(2))
    x = np.random.default_rng(3).normal(size=(5, 4))
    np.testing.assert_array_equal(plain.forward(x), dropping.forward(x, training=False))
    assert dropping.dropout_draws == []
    assert not np.array_equal(plain.forward(x), dropping.forward(x, training=True))


def test_uniform_initialisation_has_the_scheme_standard_deviation():
    model = MLP([400, 300, 10], init="lecun", init_distribution="uniform", rng=np.random.default_rng(0))
    w = model.weights[0]
    bound = np.sqrt(3.0 / 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(init_std(400, 300, "lecun"), rel=0.01)
    pytorch_default = MLP([400, 300, 10], init="lecun", init_scale=1 / np.sqrt(3), init_distribution="uniform")
    assert np.abs(pytorch_default.weights[0]).max() <= 1 / np.sqrt(400)  # nn.Linear's U(-1/sqrt(n), 1/sqrt(n))


def test_records_per_layer_quantities():
    model = MLP([4, 6, 5, 3], activation="relu", rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(8, 4))
    model.loss_and_grads(x, np.array([0, 1, 2, 0, 1, 2, 0, 1]))
    assert [z.shape for z in model.pre_activations] == [(8, 6), (8, 5)]
    np.testing.assert_array_equal(model.activations[1], np.maximum(model.pre_activations[1], 0))
    relu_gate = model.pre_activations[0] > 0
    np.testing.assert_array_equal(model.grad_pre_activations[0], model.grad_activations[0] * relu_gate)
    np.testing.assert_array_equal(model.grads["W1"], model.activations[0].T @ model.grad_pre_activations[1])


def test_prelu_slopes_are_learned_per_unit():
    data_rng = np.random.default_rng(0)
    x = data_rng.normal(size=(64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    model = MLP([2, 8, 2], activation="prelu", params={"weight": 0.25}, rng=np.random.default_rng(1))
    assert model.parameter_names == ["W0", "b0", "slope0", "W1", "b1"]
    train(model, x, y, optimizer=Adam(learning_rate=0.05), epochs=50)
    assert model.slopes[0].shape == (8,) and np.ptp(model.slopes[0]) > 0.01


def test_eval_call_inside_training_does_not_change_the_mode():
    data = spirals(120, seed=0)
    modes = []
    model = MLP([2, 8, 3], activation="relu", batch_norm=True, rng=np.random.default_rng(0))
    train(model, data.x_train, data.y_train, optimizer=SGD(0.1), epochs=3,
          on_epoch=lambda epoch, m: m.accuracy(data.x_test, data.y_test),
          on_step=lambda m: modes.append(m.training_pass))
    assert modes == [True, True, True] and model.training is False


def test_divergence_stops_training_without_warnings():
    data = two_moons(200, seed=0)
    model = MLP([2] + [64] * 6 + [2], activation="relu", init_scale=40.0, rng=np.random.default_rng(0))
    history = train(model, data.x_train, data.y_train, optimizer=SGD(learning_rate=1.0), epochs=50)
    assert len(history) < 50 and not np.isfinite(history[-1])


def test_a_diverging_prelu_network_stops_instead_of_raising():
    data = two_moons(200, seed=0)
    model = MLP([2] + [64] * 6 + [2], activation="prelu", init_scale=40.0, rng=np.random.default_rng(0))
    history = train(model, data.x_train, data.y_train, optimizer=SGD(learning_rate=1.0), epochs=50)
    assert len(history) < 50 and np.isnan(history[-1])


def test_gradient_clipping_bounds_every_step():
    data = two_moons(200, seed=0)
    norms = []
    model = MLP([2, 16, 16, 2], activation="relu", init_scale=5.0, rng=np.random.default_rng(0))
    train(model, data.x_train, data.y_train, optimizer=SGD(learning_rate=0.01), epochs=5, batch_size=50,
          clip_norm=1.0, on_step=lambda m: norms.append(global_norm(list(m.grads.values()))))
    assert max(norms) > 1.0  # clipping had something to do
    clipped = [np.array([3.0, 4.0]) * 10]
    assert clip_by_global_norm(clipped, 2.0) == pytest.approx(50.0) and global_norm(clipped) == pytest.approx(2.0)


def test_momentum_accelerates_on_a_constant_gradient():
    plain, heavy = [np.zeros(1)], [np.zeros(1)]
    for optimizer, p in ((SGD(0.1), plain), (SGD(0.1, momentum=0.9), heavy)):
        for _ in range(20):
            optimizer.step(p, [np.ones(1)])
    assert plain[0][0] == pytest.approx(-2.0) and heavy[0][0] < 4 * plain[0][0]
    with pytest.raises(ValueError, match="momentum"):
        SGD(0.1, momentum=1.0)


def test_batch_norm_running_statistics_follow_pytorch_conventions():
    model = MLP([3, 4, 2], activation="relu", batch_norm=True, rng=np.random.default_rng(0))
    x = np.random.default_rng(2).normal(2.0, 3.0, size=(50, 3))
    affine = x @ model.weights[0] + model.biases[0]
    model.forward(x, training=True)
    np.testing.assert_allclose(model.running_means[0], 0.1 * affine.mean(axis=0))
    np.testing.assert_allclose(model.running_vars[0], 0.9 + 0.1 * affine.var(axis=0, ddof=1))
    normalised = model.pre_activations[0]
    np.testing.assert_allclose(normalised.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(normalised.var(axis=0), 1.0, rtol=1e-3)  # eps = 1e-5 in the denominator


def test_datasets_are_seeded_standardised_and_stratified():
    a, b = digits(seed=4), digits(seed=4)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, digits(seed=5).x_train)
    np.testing.assert_allclose(a.x_train.mean(axis=0), 0.0, atol=1e-12)
    moons = two_moons(400, seed=1)
    assert moons.classes == 2 and moons.x_test.shape == (100, 2)
    with pytest.raises(ValueError, match="spirals: classes"):
        spirals(100, classes=1)
    with pytest.raises(ValueError, match="digits: test_fraction"):
        digits(test_fraction=1.5)


def test_a_relu_network_learns_the_spirals_and_a_linear_one_cannot():
    data = spirals(600, seed=0)
    relu_net = MLP([2, 64, 64, 3], activation="relu", rng=np.random.default_rng(0))
    train(relu_net, data.x_train, data.y_train, optimizer=Adam(0.01), epochs=200, batch_size=64)
    linear_net = MLP([2, 64, 64, 3], activation=None, rng=np.random.default_rng(0))
    train(linear_net, data.x_train, data.y_train, optimizer=Adam(0.01), epochs=50, batch_size=64)
    assert relu_net.accuracy(data.x_test, data.y_test) > 0.9
    assert linear_net.accuracy(data.x_test, data.y_test) < 0.6


def test_init_std_matches_the_formulas():
    assert init_std(50, 10, "he") == pytest.approx(np.sqrt(2 / 50))
    assert init_std(50, 10, "lecun") == pytest.approx(np.sqrt(1 / 50))
    assert init_std(50, 10, "xavier") == pytest.approx(np.sqrt(2 / 60))
    with pytest.raises(ValueError, match="scheme must be one of"):
        init_std(1, 1, "orthogonal")


def test_he_initialisation_keeps_the_second_moment_of_relu_layers():
    rng = np.random.default_rng(0)
    model = MLP([400] * 6 + [2], activation="relu", init="he", rng=rng)
    x = rng.normal(size=(500, 400))
    model.forward(x)
    first = np.mean(model.pre_activations[1] ** 2)
    last = np.mean(model.pre_activations[-1] ** 2)
    assert 0.7 < last / first < 1.4


def test_cross_entropy_is_finite_for_huge_logits():
    loss, grad = cross_entropy(np.array([[1e300, -1e300]]), np.array([1]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_same_seed_same_weights():
    a = MLP([2, 3, 2], rng=np.random.default_rng(7))
    b = MLP([2, 3, 2], rng=np.random.default_rng(7))
    for p, q in zip(a.parameters, b.parameters, strict=True):
        np.testing.assert_array_equal(p, q)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([2, 2], activation="nope")
    with pytest.raises(ValueError, match="not elementwise"):
        MLP([2, 2], activation="softmax")
    with pytest.raises(ValueError, match="sizes"):
        MLP([2])
    with pytest.raises(ValueError, match=r"MLP: dropout must be in \[0, 1\), got 1.0"):
        MLP([2, 2], dropout=1.0)
    with pytest.raises(ValueError, match="MLP: dropout_kind must be one of standard, alpha, got 'gaussian'"):
        MLP([2, 2], dropout=0.1, dropout_kind="gaussian")
    with pytest.raises(ValueError, match="MLP: init_distribution must be one of normal, uniform, got 'cauchy'"):
        MLP([2, 2], init_distribution="cauchy")
    with pytest.raises(ValueError, match=r"draw_dropout: rate must be in \[0, 1\), got -0.1"):
        draw_dropout((2,), -0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="draw_dropout: kind must be one of standard, alpha, got 'x'"):
        draw_dropout((2,), 0.1, np.random.default_rng(0), kind="x")


@pytest.mark.parametrize("optimizer", [SGD(learning_rate=0.5), Adam(learning_rate=0.05)], ids=["sgd", "adam"])
def test_relu_network_learns_xor_and_linear_network_cannot(optimizer):
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    relu_net = MLP([2, 16, 2], activation="relu", rng=np.random.default_rng(0))
    losses = train(relu_net, x, y, optimizer=optimizer, epochs=500)
    assert losses[-1] < losses[0]
    assert relu_net.accuracy(x, y) == 1.0
    linear_net = MLP([2, 16, 2], activation=None, rng=np.random.default_rng(0))
    train(linear_net, x, y, optimizer=Adam(learning_rate=0.05), epochs=500)
    assert linear_net.accuracy(x, y) <= 0.75  # no line separates XOR: at most 3 of 4 points


def test_minibatches_cover_every_row():
    x = np.arange(10.0).reshape(5, 2)
    y = np.array([0, 1, 0, 1, 0])
    model = MLP([2, 2], activation=None)
    history = train(model, x, y, optimizer=SGD(0.0), epochs=2, batch_size=2, rng=np.random.default_rng(1))
    full, _ = model.loss_and_grads(x, y)
    assert history == pytest.approx([full, full])
