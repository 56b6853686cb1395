r"""A small NumPy multilayer perceptron for the book's experiments.

The network is a stack of affine layers with one activation from :data:`actlib.ACTIVATIONS` between
them (``activation=None`` leaves the network linear), an optional batch normalisation before every
activation, and a softmax cross-entropy loss on the logits of the last layer. Back-propagation uses the
activation's own ``derivative`` (and prelu's ``weight_derivative``, rrelu's drawn slopes), so an
experiment trains with exactly the function and kink convention the book describes.

After :meth:`MLP.forward` and :meth:`MLP.backward` the model keeps, for every hidden layer, what the
chapters measure: ``pre_activations`` (the input of the activation), ``activations`` (its output),
``grad_pre_activations`` and ``grad_activations`` (the loss gradient with respect to each), and the
parameter gradients under :attr:`MLP.parameter_names`. Everything random comes from a
:class:`numpy.random.Generator`, so two runs with the same seed give the same numbers.

A diverging run is a result the book shows, not an accident: arithmetic on overflowing weights is
allowed to produce inf and NaN silently, and :func:`train` stops at the first non-finite loss.

>>> import numpy as np
>>> from actlib.nn import MLP, Adam, train
>>> x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> y = np.array([0, 1, 1, 0])  # XOR
>>> model = MLP([2, 8, 2], activation="relu", rng=np.random.default_rng(0))
>>> losses = train(model, x, y, optimizer=Adam(learning_rate=0.05), epochs=300)
>>> model.accuracy(x, y)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from ._core import ACTIVATIONS, Capabilities
from .exponential import SELU_ALPHA, SELU_SCALE
from .softmax import log_softmax_and_softmax

__all__ = [
    "DROPOUT_KINDS", "INITIALISATIONS", "INIT_DISTRIBUTIONS", "MLP", "SELU_SATURATION", "SGD", "Adam", "DropoutDraw",
    "SeedComparison", "clip_by_global_norm", "compare_seeds", "cross_entropy", "draw_dropout", "global_norm",
    "init_std", "train",
]

#: name -> the gain g in std = sqrt(g / fan), with the fan it divides by.
INITIALISATIONS = {
    "he": (2.0, "in"),  # He et al. (2015): keeps the second moment of ReLU layers constant
    "lecun": (1.0, "in"),  # LeCun (1998): unit variance of the pre-activation for unit-variance input
    "xavier": (1.0, "mean"),  # Glorot & Bengio (2010): 1 / mean fan = 2 / (fan_in + fan_out)
}

#: The distributions :class:`MLP` draws its weights from; both have the standard deviation of :func:`init_std`.
INIT_DISTRIBUTIONS = ("normal", "uniform")

#: How a dropout layer treats the units it drops: set to 0 and rescale the rest (Srivastava et al. 2014),
#: or set to SELU's negative saturation value and correct the mean and variance (Klambauer et al. 2017).
DROPOUT_KINDS = ("standard", "alpha")

# SELU's limit at minus infinity, -lambda * alpha, correctly rounded from the exact decimal constants.
SELU_SATURATION = -float(Fraction(SELU_ALPHA) * Fraction(SELU_SCALE))


def init_std(fan_in: int, fan_out: int, scheme: str = "he") -> float:
    r"""Standard deviation of a normal weight initialisation.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    scheme : {"he", "lecun", "xavier"}
        ``"he"``: :math:`\sqrt{2/\text{fan\_in}}`; ``"lecun"``: :math:`\sqrt{1/\text{fan\_in}}`;
        ``"xavier"``: :math:`\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.

    Returns
    -------
    float
        The standard deviation for this layer and scheme.

    Examples
    --------
    >>> init_std(50, 10, "he"), init_std(50, 10, "lecun"), round(init_std(50, 10, "xavier"), 4)
    (0.2, 0.1414213562373095, 0.1826)
    """
    try:
        gain, fan = INITIALISATIONS[scheme]
    except KeyError:
        allowed = ", ".join(sorted(INITIALISATIONS))
        raise ValueError(f"init_std: scheme must be one of {allowed}, got {scheme!r}") from None
    denominator = fan_in if fan == "in" else (fan_in + fan_out) / 2.0
    return math.sqrt(gain / denominator)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    r"""Mean softmax cross-entropy of integer ``labels`` and its gradient with respect to ``logits``.

    Computed through :func:`actlib.log_softmax`, so large logits do not overflow.

    Parameters
    ----------
    logits : ndarray
        Scores of shape ``(n, classes)``.
    labels : ndarray
        Integer classes of shape ``(n,)``.

    Returns
    -------
    loss : float
        The mean of :math:`-\log \operatorname{softmax}(\text{logits})_{\text{label}}` over the rows.
    grad : ndarray
        Its gradient with respect to ``logits``: ``(softmax(logits) - one_hot(labels)) / n``.

    Examples
    --------
    >>> loss, grad = cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    >>> loss, grad.tolist()
    (1000.0, [[1.0, -1.0]])
    """
    n = logits.shape[0]
    rows = np.arange(n)
    log_probabilities, grad = log_softmax_and_softmax(np.asarray(logits))  # one shift by the maximum for both
    # A diverging run's log-probabilities can be finite yet overflow when summed: that is a result.
    with np.errstate(over="ignore", invalid="ignore"):
        loss = -float(np.mean(log_probabilities[rows, labels]))
    grad[rows, labels] -= 1.0
    return loss, grad / n


def global_norm(arrays: Sequence[np.ndarray]) -> float:
    r"""Euclidean norm of all entries of ``arrays`` taken together.

    Parameters
    ----------
    arrays : sequence of ndarray
        The arrays (gradients, typically), of any shapes.

    Returns
    -------
    float
        :math:`\sqrt{\sum_i \sum_j a_{ij}^2}` over every array :math:`a_i`.

    Examples
    --------
    >>> global_norm([np.array([3.0]), np.array([[4.0]])])
    5.0
    """
    return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))


def clip_by_global_norm(grads: Sequence[np.ndarray], max_norm: float) -> float:
    """Scale ``grads`` in place so that their :func:`global_norm` is at most ``max_norm``.

    Gradients whose norm is not finite are left as they are: no rescaling rescues inf or NaN.

    Parameters
    ----------
    grads : sequence of ndarray
        The gradients, modified in place.
    max_norm : float
        The largest global norm allowed after clipping.

    Returns
    -------
    float
        The global norm before clipping (what ``torch.nn.utils.clip_grad_norm_`` returns).

    Examples
    --------
    >>> g = [np.array([3.0]), np.array([4.0])]
    >>> clip_by_global_norm(g, 1.0), [a.tolist() for a in g]
    (5.0, [[0.6], [0.8]])
    """
    if not max_norm > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be > 0, got {max_norm!r}")
    norm = global_norm(grads)
    if math.isfinite(norm) and norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return norm


class DropoutDraw(NamedTuple):
    """One training pass's dropout, as the affine map ``h * scale + shift`` applied elementwise."""

    scale: np.ndarray
    shift: np.ndarray


def draw_dropout(shape: tuple[int, ...], rate: float, rng: np.random.Generator, *,
                 kind: str = "standard") -> DropoutDraw:
    r"""Draw the dropout of one training pass for activations of ``shape``.

    Each unit is kept with probability :math:`q = 1 - \text{rate}` (an independent Bernoulli draw
    :math:`d \in \{0, 1\}` per element), and dropout maps an activation :math:`h` to

    .. math::

        \text{standard:}\quad \frac{d\,h}{q}, \qquad
        \text{alpha:}\quad a\bigl(d\,h + (1 - d)\,\alpha'\bigr) + b,

    with :math:`\alpha' = -\lambda\alpha \approx -1.7581`, SELU's limit at :math:`-\infty`, and

    .. math::

        a = \bigl(q + \alpha'^2 q (1 - q)\bigr)^{-1/2}, \qquad b = -a (1 - q)\,\alpha' .

    Standard (inverted) dropout (Srivastava et al. 2014; ``torch.nn.Dropout``) keeps the mean of
    :math:`h` but multiplies its second moment by :math:`1/q`. Alpha dropout (Klambauer et al. 2017,
    section "New Dropout Technique"; ``torch.nn.AlphaDropout``) sets a dropped unit to the value SELU
    takes for very negative inputs, the one a silent SELU unit has, and :math:`a`, :math:`b` restore
    mean 0 and variance 1 for an input of mean 0 and variance 1. Both are the identity in evaluation.

    Parameters
    ----------
    shape : tuple of int
        Shape of the activations (``(batch, units)``).
    rate : float
        Probability of dropping a unit, in :math:`[0, 1)`.
    rng : numpy.random.Generator
        Source of the Bernoulli draws.
    kind : {"standard", "alpha"}, default "standard"

    Returns
    -------
    DropoutDraw
        ``scale`` and ``shift`` of the shape given: the dropped activations are ``h * scale + shift``,
        and ``scale`` is also their derivative with respect to ``h``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> draw = draw_dropout((200_000,), 0.1, rng, kind="alpha")
    >>> x = rng.standard_normal(200_000)
    >>> y = x * draw.scale + draw.shift
    >>> round(float(y.mean()), 2), round(float(y.var()), 2)
    (0.0, 1.0)
    >>> standard = draw_dropout((4,), 0.5, rng)
    >>> standard.scale.tolist(), standard.shift.tolist()
    ([2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0])
    """
    if kind not in DROPOUT_KINDS:
        raise ValueError(f"draw_dropout: kind must be one of {', '.join(DROPOUT_KINDS)}, got {kind!r}")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"draw_dropout: rate must be in [0, 1), got {rate!r}")
    keep = 1.0 - rate
    kept = rng.random(shape) < keep
    if kind == "standard":
        return DropoutDraw(kept / keep, np.zeros(shape))
    a = 1.0 / math.sqrt(keep + SELU_SATURATION**2 * keep * rate)
    b = -a * rate * SELU_SATURATION
    return DropoutDraw(a * kept, np.where(kept, b, a * SELU_SATURATION + b))


class MLP:
    """Fully connected network: ``sizes[0]`` inputs, hidden layers, ``sizes[-1]`` logits.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first; at least two entries.
    activation : str or None, default "relu"
        Name in :data:`actlib.ACTIVATIONS` of the elementwise activation applied after every hidden
        layer; ``None`` makes the whole network linear.
    params : mapping, optional
        Keyword parameters of the activation (``{"negative_slope": 0.1}``). For ``"prelu"`` the
        ``weight`` entry is the initial slope (default 0.25) of one learned slope per hidden unit, as
        PReLU's channel-wise form; for ``"rrelu"`` give ``lower`` and ``upper``: the network draws the
        slopes in training and uses their mean in evaluation.
    init : {"he", "lecun", "xavier"}, default "he"
        Weight initialisation: normal, zero mean, standard deviation :func:`init_std`.
    init_scale : float, default 1.0
        Multiplies that standard deviation (a deliberately poor initialisation is ``init_scale=3``).
    init_distribution : {"normal", "uniform"}, default "normal"
        Draw the weights from a normal distribution or from the uniform one on
        ``[-sqrt(3) * std, sqrt(3) * std]``; both have the standard deviation ``std`` above. PyTorch's
        default for ``nn.Linear`` is ``init="lecun", init_scale=1/sqrt(3)`` with the uniform
        distribution: bounds ``±1/sqrt(fan_in)``.
    bias_init : float, default 0.0
        The constant every hidden bias starts at (the logits' bias starts at 0).
    batch_norm : bool, default False
        Normalise every hidden pre-activation over the batch (Ioffe & Szegedy, 2015) with a learned
        scale and shift, before the activation. Evaluation uses running averages (momentum 0.1 and
        the unbiased variance, as ``torch.nn.BatchNorm1d``).
    dropout : float, default 0.0
        Probability of dropping each hidden activation in a training pass (:func:`draw_dropout`);
        evaluation passes keep every unit. ``activations`` records the activation's output before
        dropout, ``inputs`` what the next layer receives after it.
    dropout_kind : {"standard", "alpha"}, default "standard"
        Standard (inverted) dropout or alpha dropout, the variant designed for SELU.
    rng : numpy.random.Generator, optional
        Source of the initial weights and of rrelu's slopes; ``np.random.default_rng(0)`` by default.

    Examples
    --------
    >>> net = MLP([3, 4, 2], activation="tanh", rng=np.random.default_rng(1))
    >>> [w.shape for w in net.weights], net.forward(np.zeros((5, 3))).shape
    ([(3, 4), (4, 2)], (5, 2))
    >>> MLP([3, 4, 4, 2], activation="prelu", batch_norm=True).parameter_names
    ['W0', 'b0', 'gamma0', 'beta0', 'slope0', 'W1', 'b1', 'gamma1', 'beta1', 'slope1', 'W2', 'b2']
    """

    batch_norm_eps = 1e-5
    batch_norm_momentum = 0.1

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | None = "relu",
        *,
        params: Mapping[str, Any] | None = None,
        init: str = "he",
        init_scale: float = 1.0,
        bias_init: float = 0.0,
        batch_norm: bool = False,
        dropout: float = 0.0,
        dropout_kind: str = "standard",
        init_distribution: str = "normal",
        rng: np.random.Generator | None = None,
    ) -> None:
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"MLP: sizes must be at least two positive widths, got {sizes!r}")
        if activation is not None and activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; registered: {', '.join(ACTIVATIONS)}")
        if activation is not None and not ACTIVATIONS[activation].info.properties.elementwise:
            raise ValueError(f"MLP: activation {activation!r} is not elementwise")
        if not (math.isfinite(init_scale) and init_scale > 0):
            raise ValueError(f"MLP: init_scale must be a finite number > 0, got {init_scale!r}")
        if init_distribution not in INIT_DISTRIBUTIONS:
            raise ValueError(f"MLP: init_distribution must be one of {', '.join(INIT_DISTRIBUTIONS)}, "
                             f"got {init_distribution!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout!r}")
        if dropout_kind not in DROPOUT_KINDS:
            raise ValueError(f"MLP: dropout_kind must be one of {', '.join(DROPOUT_KINDS)}, got {dropout_kind!r}")
        params = dict(params or {})
        capabilities = ACTIVATIONS[activation].info.capabilities if activation is not None else Capabilities()
        if set(capabilities.drawn) & set(params):
            drawn = ", ".join(capabilities.drawn)
            raise ValueError(f"MLP: {activation}'s {drawn} are set by the network; give the other parameters")
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.batch_norm = bool(batch_norm)
        self.dropout, self.dropout_kind = float(dropout), dropout_kind
        self.training = False
        self.capabilities = capabilities
        learned = capabilities.learned
        # a learned parameter starts at the value given, else at the activation's own default
        initial_slope = params.pop(learned, ACTIVATIONS[activation].info.parameters[learned]) if learned else None
        self.params = params
        self.weights = [
            self._draw_weights(init_scale * init_std(n_in, n_out, init), (n_in, n_out), init_distribution)
            for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)
        ]
        hidden = self.sizes[1:-1]
        self.biases = [np.full(n, float(bias_init)) for n in hidden] + [np.zeros(self.sizes[-1])]
        self.gammas = [np.ones(n) for n in hidden] if self.batch_norm else []
        self.betas = [np.zeros(n) for n in hidden] if self.batch_norm else []
        self.running_means = [np.zeros(n) for n in hidden] if self.batch_norm else []
        self.running_vars = [np.ones(n) for n in hidden] if self.batch_norm else []
        self.slopes = [np.full(n, float(initial_slope)) for n in hidden] if initial_slope is not None else []
        self._clear_records()

    def _draw_weights(self, std: float, shape: tuple[int, int], distribution: str) -> np.ndarray:
        if distribution == "uniform":
            bound = math.sqrt(3.0) * std  # the uniform distribution on [-c, c] has variance c**2 / 3
            return self.rng.uniform(-bound, bound, size=shape)
        return self.rng.normal(0.0, std, size=shape)

    # --- parameters ---------------------------------------------------------------------------

    def _named_parameters(self) -> list[tuple[str, np.ndarray]]:
        named = []
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            named += [(f"W{i}", w), (f"b{i}", b)]
            if i < len(self.weights) - 1:
                if self.batch_norm:
                    named += [(f"gamma{i}", self.gammas[i]), (f"beta{i}", self.betas[i])]
                if self.slopes:
                    named.append((f"slope{i}", self.slopes[i]))
        return named

    @property
    def parameters(self) -> list[np.ndarray]:
        """Every learned array, in the order of :attr:`parameter_names`; optimisers update them in place."""
        return [p for _, p in self._named_parameters()]

    @property
    def parameter_names(self) -> list[str]:
        """``W<i>``, ``b<i>`` per layer, then ``gamma<i>``, ``beta<i>`` (batch norm) and ``slope<i>`` (prelu)."""
        return [name for name, _ in self._named_parameters()]

    @property
    def depth(self) -> int:
        """Number of hidden layers (each followed by the activation)."""
        return len(self.sizes) - 2

    # --- forward and backward -----------------------------------------------------------------

    def _clear_records(self) -> None:
        self.inputs: list[np.ndarray] = []  # input of every affine layer
        self.pre_activations: list[np.ndarray] = []  # per hidden layer: the activation's input
        self.activations: list[np.ndarray] = []  # per hidden layer: the activation's output
        self.grad_pre_activations: list[np.ndarray] = []
        self.grad_activations: list[np.ndarray] = []
        self.grads: dict[str, np.ndarray] = {}
        self._normalised: list[np.ndarray] = []  # batch norm's x-hat per hidden layer
        self._inv_std: list[np.ndarray] = []
        self.drawn: list[dict[str, Any]] = []  # per hidden layer: a training pass's drawn parameters (rrelu)
        self.dropout_draws: list[DropoutDraw] = []  # per hidden layer, in a training pass with dropout
        self.training_pass = self.training

    def _activation_params(self, layer: int) -> dict[str, Any]:
        if self.capabilities.learned:
            return {**self.params, self.capabilities.learned: self.slopes[layer]}
        if self.capabilities.draw is not None and self.training_pass:
            return self.drawn[layer]
        return self.params

    def _normalise(self, layer: int, affine: np.ndarray) -> np.ndarray:
        if self.training_pass:
            mean = affine.mean(axis=0)
            var = affine.var(axis=0)
            n = affine.shape[0]
            m = self.batch_norm_momentum
            self.running_means[layer] = (1 - m) * self.running_means[layer] + m * mean
            unbiased = var * n / (n - 1) if n > 1 else var
            self.running_vars[layer] = (1 - m) * self.running_vars[layer] + m * unbiased
        else:
            mean, var = self.running_means[layer], self.running_vars[layer]
        inv_std = 1.0 / np.sqrt(var + self.batch_norm_eps)
        normalised = (affine - mean) * inv_std
        self._normalised.append(normalised)
        self._inv_std.append(inv_std)
        return self.gammas[layer] * normalised + self.betas[layer]

    def forward(self, x: np.ndarray, *, training: bool | None = None) -> np.ndarray:
        """Logits for a batch ``x`` of shape ``(n, sizes[0])``; records what :meth:`backward` needs.

        ``training`` (default: the model's ``training`` flag, which :func:`train` sets) selects
        batch statistics and drawn rrelu slopes (True) or running statistics and rrelu's mean slope
        (False) for this pass only.
        """
        self._clear_records()
        # The mode of this pass, kept for backward: an evaluation call in between (an on_epoch hook
        # measuring accuracy) must not switch a training run's mode.
        self.training_pass = self.training if training is None else bool(training)
        fn = ACTIVATIONS[self.activation] if self.activation is not None else None
        h = np.asarray(x, dtype=np.float64)
        last = len(self.weights) - 1
        with np.errstate(over="ignore", invalid="ignore"):
            for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
                self.inputs.append(h)
                z = h @ w + b
                if i == last:
                    return z
                if self.batch_norm:
                    z = self._normalise(i, z)
                if self.capabilities.draw is not None and self.training_pass:
                    self.drawn.append(self.capabilities.draw(z.shape, self.params, self.rng))
                h = z if fn is None else fn(z, **self._activation_params(i))
                self.pre_activations.append(z)
                self.activations.append(h)
                if self.dropout > 0 and self.training_pass:
                    draw = draw_dropout(h.shape, self.dropout, self.rng, kind=self.dropout_kind)
                    self.dropout_draws.append(draw)
                    h = h * draw.scale + draw.shift
        raise AssertionError("unreachable: the last layer returns")

    def backward(self, grad_logits: np.ndarray) -> list[np.ndarray]:
        """Gradients of the loss for every parameter (order of :attr:`parameters`), given dloss/dlogits.

        Also fills ``grads`` (name -> gradient), ``grad_pre_activations`` and ``grad_activations`` for
        every hidden layer.
        """
        fn = ACTIVATIONS[self.activation] if self.activation is not None else None
        grads: dict[str, np.ndarray] = {}
        grad_pre: list[np.ndarray] = [np.empty(0)] * self.depth
        grad_act: list[np.ndarray] = [np.empty(0)] * self.depth
        delta = np.asarray(grad_logits, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(len(self.weights) - 1, -1, -1):
                grads[f"W{i}"] = self.inputs[i].T @ delta
                grads[f"b{i}"] = delta.sum(axis=0)
                if i == 0:
                    break
                layer = i - 1
                grad_h = delta @ self.weights[i].T
                if self.dropout_draws:
                    grad_h = grad_h * self.dropout_draws[layer].scale
                z = self.pre_activations[layer]
                if fn is None:
                    grad_z = grad_h
                else:
                    activation_params = self._activation_params(layer)
                    grad_z = grad_h * fn.derivative(z, **activation_params)
                    if self.capabilities.learned:
                        learned_derivative = getattr(fn, f"{self.capabilities.learned}_derivative")
                        grads[f"slope{layer}"] = (grad_h * learned_derivative(z, **activation_params)).sum(axis=0)
                grad_act[layer], grad_pre[layer] = grad_h, grad_z
                delta = self._normalise_backward(layer, grad_z, grads) if self.batch_norm else grad_z
        self.grads = grads
        self.grad_pre_activations, self.grad_activations = grad_pre, grad_act
        return [grads[name] for name in self.parameter_names]

    def _normalise_backward(self, layer: int, grad_z: np.ndarray, grads: dict[str, np.ndarray]) -> np.ndarray:
        normalised, inv_std = self._normalised[layer], self._inv_std[layer]
        grads[f"gamma{layer}"] = (grad_z * normalised).sum(axis=0)
        grads[f"beta{layer}"] = grad_z.sum(axis=0)
        grad_normalised = grad_z * self.gammas[layer]
        if not self.training_pass:  # running statistics are constants
            return grad_normalised * inv_std
        # The batch mean and variance depend on every row: the standard batch-norm backward formula.
        n = grad_z.shape[0]
        return inv_std / n * (
            n * grad_normalised
            - grad_normalised.sum(axis=0)
            - normalised * (grad_normalised * normalised).sum(axis=0)
        )

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Mean cross-entropy on ``(x, labels)`` and its gradient for every parameter."""
        loss, grad_logits = cross_entropy(self.forward(x), np.asarray(labels))
        return loss, self.backward(grad_logits)

    def loss(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Mean cross-entropy in evaluation mode (running statistics, rrelu's mean slope)."""
        return cross_entropy(self.forward(x, training=False), np.asarray(labels))[0]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class with the largest logit for each row of ``x``, in evaluation mode."""
        return np.argmax(self.forward(x, training=False), axis=1)

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Fraction of rows of ``x`` classified as ``labels``, in evaluation mode."""
        return float(np.mean(self.predict(x) == np.asarray(labels)))


class SGD:
    """Stochastic gradient descent, with optional momentum as ``torch.optim.SGD``.

    ``v = momentum * v + g; p -= learning_rate * v`` (plain ``p -= learning_rate * g`` when
    ``momentum`` is 0).

    >>> p = [np.array([1.0])]
    >>> SGD(learning_rate=0.5).step(p, [np.array([2.0])]); p
    [array([0.])]
    >>> p, opt = [np.array([0.0])], SGD(learning_rate=1.0, momentum=0.5)
    >>> for _ in range(3): opt.step(p, [np.array([1.0])])
    >>> p  # steps of 1, 1.5, 1.75
    [array([-4.25])]
    """

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.0) -> None:
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.learning_rate, self.momentum = learning_rate, momentum
        self._velocity: list[np.ndarray] = []

    def step(self, parameters: list[np.ndarray], grads: list[np.ndarray]) -> None:
        if self.momentum == 0:
            for p, g in zip(parameters, grads, strict=True):
                p -= self.learning_rate * g
            return
        if not self._velocity:
            self._velocity = [np.zeros_like(p) for p in parameters]
        for p, g, v in zip(parameters, grads, self._velocity, strict=True):
            v *= self.momentum
            v += g
            p -= self.learning_rate * v


class Adam:
    """Adam (Kingma & Ba, 2015) with bias-corrected first and second moments.

    >>> p = [np.array([1.0])]
    >>> opt = Adam(learning_rate=0.1)
    >>> opt.step(p, [np.array([5.0])]); p  # the first step has length learning_rate
    [array([0.9])]
    """

    def __init__(self, learning_rate: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self._m, self._v, self._t = [], [], 0  # moments, created at the first step; step count

    def step(self, parameters: list[np.ndarray], grads: list[np.ndarray]) -> None:
        if not self._m:
            self._m = [np.zeros_like(p) for p in parameters]
            self._v = [np.zeros_like(p) for p in parameters]
        self._t += 1
        correction1 = 1.0 - self.beta1**self._t
        correction2 = 1.0 - self.beta2**self._t
        with np.errstate(over="ignore", invalid="ignore"):
            for p, g, m, v in zip(parameters, grads, self._m, self._v, strict=True):
                m[...] = self.beta1 * m + (1.0 - self.beta1) * g
                v[...] = self.beta2 * v + (1.0 - self.beta2) * g * g
                p -= self.learning_rate * (m / correction1) / (np.sqrt(v / correction2) + self.eps)


def train(
    model: MLP,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    optimizer: SGD | Adam,
    epochs: int,
    batch_size: int | None = None,
    clip_norm: float | None = None,
    rng: np.random.Generator | None = None,
    on_step: Callable[[MLP], None] | None = None,
    on_epoch: Callable[[int, MLP], None] | None = None,
) -> list[float]:
    """Train ``model`` in place and return the mean training loss of every epoch.

    Parameters
    ----------
    model : MLP
        Trained in training mode; left in evaluation mode.
    x, labels : ndarray
        Inputs ``(n, sizes[0])`` and integer class labels ``(n,)``.
    optimizer : SGD or Adam
    epochs : int
    batch_size : int, optional
        ``None``: every step sees the whole data set (full-batch gradient descent); otherwise the rows
        are shuffled each epoch with ``rng`` (``default_rng(0)`` if not given).
    clip_norm : float, optional
        Clip the gradients to this :func:`global_norm` before every step.
    on_step : callable, optional
        Called as ``on_step(model)`` after every backward pass, before the update: the model still
        holds that step's activations and gradients.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, model)`` after every epoch (``epoch`` counts from 1).
    rng : numpy.random.Generator, optional
        Shuffles the rows each epoch when ``batch_size`` is given; ``np.random.default_rng(0)`` if omitted.

    Returns
    -------
    list of float
        One mean loss per epoch. Training stops at the first epoch whose loss is not finite, so the
        list is shorter than ``epochs`` when the run diverged and then ends with inf or NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    rng = np.random.default_rng(0) if rng is None else rng
    n = x.shape[0]
    size = n if batch_size is None else int(batch_size)
    history = []
    model.training = True
    try:
        for epoch in range(1, int(epochs) + 1):
            order = np.arange(n) if batch_size is None else rng.permutation(n)
            total = 0.0
            for start in range(0, n, size):
                rows = order[start:start + size]
                loss, grads = model.loss_and_grads(x[rows], labels[rows])
                if on_step is not None:
                    on_step(model)
                if clip_norm is not None:
                    clip_by_global_norm(grads, clip_norm)
                optimizer.step(model.parameters, grads)
                total += loss * rows.size
                if any(not np.all(np.isfinite(slope)) for slope in model.slopes):
                    total = math.nan  # prelu's slopes overflowed: the next pass could not even start
                    break
            history.append(total / n)
            if on_epoch is not None:
                on_epoch(epoch, model)
            if not math.isfinite(history[-1]):
                break
    finally:
        model.training = False
    return history


class SeedComparison(NamedTuple):
    """Result of :func:`compare_seeds`: a difference of means, its standard error, and whether it stands out."""

    difference: float
    standard_error: float
    separable: bool


def compare_seeds(a: Sequence[float], b: Sequence[float], *, paired: bool = False) -> SeedComparison:
    r"""Whether the results of two configurations differ by more than their seed-to-seed spread.

    The difference is :math:`\bar a - \bar b`. Its standard error is
    :math:`\sqrt{s_a^2/n_a + s_b^2/n_b}` (sample standard deviations, Welch's form) or, with
    ``paired=True`` (the same seeds, so the same initial weights and batches, in both), the sample
    standard deviation of the differences :math:`a_i - b_i` over :math:`\sqrt n`. The difference counts as
    separable from the seed noise when :math:`|\bar a - \bar b| > 2\,\mathrm{SE}`, about a two-sided
    test at the 5% level for large samples and a more lenient one for five seeds: the book uses it to
    say which effects its experiments cannot resolve, not to claim significance.

    Parameters
    ----------
    a, b : sequence of float
        One result per seed (an accuracy, a number of steps), at least two each; with ``paired=True``
        the same length, seed ``i`` of ``a`` matched with seed ``i`` of ``b``. Infinite values (a run
        that never reached its target) make the comparison undecidable: ``ValueError``.
    paired : bool, default False

    Returns
    -------
    SeedComparison
        ``difference`` (mean of ``a`` minus mean of ``b``), ``standard_error`` and ``separable``.

    Examples
    --------
    >>> compare_seeds([0.95, 0.96, 0.97], [0.90, 0.91, 0.92])
    SeedComparison(difference=0.05, standard_error=0.008, separable=True)
    >>> compare_seeds([0.95, 0.96, 0.97], [0.96, 0.95, 0.97]).separable
    False
    """
    a_values, b_values = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a_values.ndim != 1 or b_values.ndim != 1 or a_values.size < 2 or b_values.size < 2:
        raise ValueError(f"compare_seeds: need at least two results per side, got {a_values.size} and "
                         f"{b_values.size}")
    if not (np.all(np.isfinite(a_values)) and np.all(np.isfinite(b_values))):
        raise ValueError("compare_seeds: every result must be finite (a run that never reached its target "
                         "has no value)")
    if paired:
        if a_values.size != b_values.size:
            raise ValueError(f"compare_seeds: paired results need equal lengths, got {a_values.size} and "
                             f"{b_values.size}")
        differences = a_values - b_values
        standard_error = float(np.std(differences, ddof=1) / math.sqrt(differences.size))
    else:
        variance = np.var(a_values, ddof=1) / a_values.size + np.var(b_values, ddof=1) / b_values.size
        standard_error = float(math.sqrt(variance))
    difference = float(a_values.mean() - b_values.mean())
    return SeedComparison(difference, standard_error, abs(difference) > 2.0 * standard_error)
