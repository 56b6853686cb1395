r"""A small decoder-only transformer in NumPy, forward and backward, for the book's part 3 experiments.

The layers are the ones a GPT-style language model stacks: token and position embeddings, pre-norm blocks of
layer normalisation, causal multi-head self-attention and a feed-forward layer, each wrapped in a residual
connection, a final layer norm and a linear read-out to the vocabulary, trained with a cross-entropy over
tokens. The feed-forward layer takes any registered elementwise activation or a GLU variant; for a gated
layer :func:`feed_forward_width` applies the 2/3 rule, so that both kinds have the same number of weights.

Each layer is a small class with ``forward`` (which keeps what ``backward`` needs), ``backward`` (which
takes the gradient of the loss with respect to the output, fills ``grads`` and returns the gradient with
respect to the input) and ``parameters`` (name -> array, updated in place by an optimiser from
:mod:`actlib.nn`). The feed-forward layers keep their ``pre_activations`` and ``hidden`` values, which the
sparsity chapter counts.

>>> import numpy as np
>>> from actlib.nn import Adam
>>> from actlib.sequences import modular_sums
>>> data = modular_sums(256, length=6, modulus=5, seed=0)
>>> model = Transformer(vocab=5, dim=16, heads=2, layers=1, max_length=6, activation="relu",
...                     rng=np.random.default_rng(0))
>>> losses = train_tokens(model, data.x_train, data.y_train, optimizer=Adam(0.01), steps=30, batch_size=32)
>>> bool(losses[-1] < losses[0])
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import special

from ._core import ACTIVATIONS

__all__ = [
    "TRAINING_KERNELS", "CausalSelfAttention", "Embedding", "FeedForward", "LayerNorm", "Transformer",
    "TransformerBlock", "feed_forward_width", "token_cross_entropy", "train_tokens",
]


def _normal(rng: np.random.Generator, shape: tuple[int, ...], std: float, dtype: Any = np.float64) -> np.ndarray:
    return rng.normal(0.0, std, size=shape).astype(dtype, copy=False)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """``x - max - log(sum(exp(x - max)))`` along the last axis. Plain NumPy, not actlib's compensated
    log_softmax: its last bits do not matter in training, and a training run calls it thousands of times."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _weight_grad(x: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """``sum over batch and time of x^T grad``: one matrix product on the flattened rows, several times faster
    than ``tensordot`` at the book's sizes."""
    return x.reshape(-1, x.shape[-1]).T @ grad.reshape(-1, grad.shape[-1])


def _row_sum(grad: np.ndarray) -> np.ndarray:
    return grad.reshape(-1, grad.shape[-1]).sum(axis=0)


def _softmax(x: np.ndarray) -> np.ndarray:
    """``exp(x - max) / sum``: plain NumPy for the same reason; entries of -inf (the causal mask) give 0."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Layer:
    """What every layer shares: named parameters and, after ``backward``, their gradients."""

    def __init__(self) -> None:
        self.parameters: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}


class Embedding(Layer):
    """Token embedding plus a learned position embedding: ``E[tokens] + P[:T]``.

    ``forward`` takes integer tokens of shape ``(B, T)`` with ``T <= max_length`` and returns ``(B, T, dim)``.
    """

    def __init__(self, vocab: int, dim: int, max_length: int, rng: np.random.Generator, std: float = 0.02,
                 dtype: Any = np.float64):
        super().__init__()
        self.parameters = {"tokens": _normal(rng, (vocab, dim), std, dtype),
                           "positions": _normal(rng, (max_length, dim), std, dtype)}

    def forward(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens)
        vocab, max_length = self.parameters["tokens"].shape[0], self.parameters["positions"].shape[0]
        if tokens.ndim != 2 or tokens.dtype.kind not in "iu":
            raise ValueError(f"Embedding: tokens must be a 2-D integer array (batch, time), got {tokens.dtype} "
                             f"of shape {tokens.shape}")
        if tokens.shape[1] > max_length:
            raise ValueError(f"Embedding: sequence length {tokens.shape[1]} exceeds max_length {max_length}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab):
            raise ValueError(f"Embedding: tokens must lie in [0, {vocab}), got [{tokens.min()}, {tokens.max()}]")
        self.tokens = tokens
        return self.parameters["tokens"][tokens] + self.parameters["positions"][: tokens.shape[1]]

    def backward(self, grad: np.ndarray) -> None:
        vocab = self.parameters["tokens"].shape[0]
        # one-hot rows times the gradient: a token used twice collects both gradients, and one matrix
        # product is much faster than np.add.at for the book's small vocabularies
        one_hot = np.eye(vocab, dtype=grad.dtype)[self.tokens.reshape(-1)]
        token_grad = _weight_grad(one_hot, grad)
        position_grad = np.zeros_like(self.parameters["positions"])
        position_grad[: grad.shape[1]] = grad.sum(axis=0)
        self.grads = {"tokens": token_grad, "positions": position_grad}


class LayerNorm(Layer):
    """Layer normalisation over the last axis (Ba, Kiros & Hinton, 2016), with a learned scale and shift.

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with the biased variance, as ``torch.nn.LayerNorm``.
    """

    def __init__(self, dim: int, eps: float = 1e-5, dtype: Any = np.float64):
        super().__init__()
        self.eps = eps
        self.parameters = {"gamma": np.ones(dim, dtype), "beta": np.zeros(dim, dtype)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        self.inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps)
        self.normalised = centred * self.inv_std
        return self.parameters["gamma"] * self.normalised + self.parameters["beta"]

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = {"gamma": _row_sum(grad * self.normalised), "beta": _row_sum(grad)}
        g = grad * self.parameters["gamma"]
        # the mean and variance depend on every entry of the row: the standard layer-norm backward
        return self.inv_std * (g - g.mean(axis=-1, keepdims=True)
                               - self.normalised * (g * self.normalised).mean(axis=-1, keepdims=True))


class CausalSelfAttention(Layer):
    """Multi-head self-attention in which position t attends to positions 0..t only.

    ``q, k, v = x W_qkv + b_qkv`` split into ``heads`` heads of ``dim / heads``; each head computes
    ``softmax(q k^T / sqrt(d_head) + mask) v`` with ``mask = -inf`` above the diagonal; the heads are
    concatenated and projected by ``W_o, b_o``. ``heads=1`` is single-head attention. ``attention`` keeps
    the attention weights of the last forward pass, shape ``(B, heads, T, T)``.
    """

    def __init__(self, dim: int, heads: int, rng: np.random.Generator, std: float = 0.02,
                 output_std: float | None = None, dtype: Any = np.float64):
        super().__init__()
        if dim % heads:
            raise ValueError(f"CausalSelfAttention: dim {dim} is not a multiple of heads {heads}")
        self.heads = heads
        self.parameters = {
            "W_qkv": _normal(rng, (dim, 3 * dim), std, dtype), "b_qkv": np.zeros(3 * dim, dtype),
            "W_o": _normal(rng, (dim, dim), std if output_std is None else output_std, dtype),
            "b_o": np.zeros(dim, dtype),
        }

    def _split_heads(self, x: np.ndarray) -> np.ndarray:
        b, t, d = x.shape
        return x.reshape(b, t, self.heads, d // self.heads).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge_heads(x: np.ndarray) -> np.ndarray:
        b, h, t, d = x.shape
        return x.transpose(0, 2, 1, 3).reshape(b, t, h * d)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        qkv = x @ self.parameters["W_qkv"] + self.parameters["b_qkv"]
        q, k, v = (self._split_heads(part) for part in np.split(qkv, 3, axis=-1))
        scale = x.dtype.type(1.0 / math.sqrt(q.shape[-1]))
        t = x.shape[1]
        scores = (q @ k.transpose(0, 1, 3, 2)) * scale
        scores = np.where(np.tri(t, dtype=bool), scores, -np.inf)
        self.attention = _softmax(scores)
        self.q, self.k, self.v, self.scale = q, k, v, scale
        self.merged = self._merge_heads(self.attention @ v)
        return self.merged @ self.parameters["W_o"] + self.parameters["b_o"]

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = {"W_o": _weight_grad(self.merged, grad), "b_o": _row_sum(grad)}
        grad_heads = self._split_heads(grad @ self.parameters["W_o"].T)
        p = self.attention
        grad_v = p.transpose(0, 1, 3, 2) @ grad_heads
        grad_p = grad_heads @ self.v.transpose(0, 1, 3, 2)
        grad_scores = p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True))  # softmax's vjp; masked p are 0
        grad_q = (grad_scores @ self.k) * self.scale
        grad_k = (grad_scores.transpose(0, 1, 3, 2) @ self.q) * self.scale
        grad_qkv = np.concatenate([self._merge_heads(g) for g in (grad_q, grad_k, grad_v)], axis=-1)
        self.grads["W_qkv"] = _weight_grad(self.x, grad_qkv)
        self.grads["b_qkv"] = _row_sum(grad_qkv)
        return grad_qkv @ self.parameters["W_qkv"].T


def feed_forward_width(dim: int, activation: str, expansion: int = 4) -> int:
    """The hidden width of a feed-forward layer with ``expansion * dim`` units, or, for a GLU variant, the 2/3
    of it that keeps the number of weights equal (Shazeer, 2020): an ungated layer has ``2 * dim * h`` weights,
    a gated one ``3 * dim * h_gated`` (two input projections of width ``h_gated``), so ``h_gated = 2h/3``,
    rounded to the nearest integer.

    Parameters
    ----------
    dim : int
        The model width.
    activation : str
        A registered activation's name; the GLU family gets the 2/3 width.
    expansion : int, default 4
        The ungated layer's width as a multiple of ``dim``.

    Returns
    -------
    int
        The hidden width (for a GLU variant, the width of each half).

    Examples
    --------
    >>> feed_forward_width(48, "relu"), feed_forward_width(48, "swiglu")
    (192, 128)
    """
    hidden = expansion * dim
    if activation not in ACTIVATIONS:
        raise ValueError(f"feed_forward_width: unknown activation {activation!r}")
    return round(2 * hidden / 3) if _is_gated(activation) else hidden


def _is_gated(activation: str) -> bool:
    return ACTIVATIONS[activation].info.properties.family == "glu"


_SQRT_HALF = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _relu_pair(z):
    return np.maximum(z, 0), (z > 0).astype(z.dtype)  # ReLU'(0) = 0, as actlib and PyTorch


def _squared_relu_pair(z):
    r = np.maximum(z, 0)
    return r * r, 2 * r


def _gelu_pair(z):
    cdf = 0.5 * special.erfc(-z * z.dtype.type(_SQRT_HALF))
    return z * cdf, cdf + z * (z.dtype.type(_INV_SQRT_2PI) * np.exp(-0.5 * z * z))


def _silu_pair(z):
    s = special.expit(z)
    return z * s, s * (1 + z * (1 - s))


#: Plain NumPy/SciPy training kernels, ``z -> (g(z), g'(z))``: the textbook formulas, within a few float32
#: ULPs of actlib's correctly rounded functions over the values a training run meets, and several times
#: faster, since they skip the compensated arithmetic that makes actlib exact in the tails. A gated unit
#: ``a * g(b)`` uses its gate's pair.
TRAINING_KERNELS: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "relu": _relu_pair, "squared_relu": _squared_relu_pair, "gelu": _gelu_pair, "silu": _silu_pair,
    "reglu": _relu_pair, "geglu": _gelu_pair, "swiglu": _silu_pair,
}


class FeedForward(Layer):
    """``act(x W_1 + b_1) W_2 + b_2``, or for a GLU variant ``glu_variant([x W_1 + b_1]) W_2 + b_2`` where
    ``W_1`` has ``2 * hidden`` columns: the first ``hidden`` are the linear half, the last ``hidden`` the gate.

    After ``forward``, ``pre_activations`` is the activation's input (for a GLU variant the gate half, whose
    zeros are what a sparse kernel could skip) and ``hidden`` the activation's output.

    ``kernels="actlib"`` (the default) computes the activation with actlib's registered function and its
    derivative or ``vjp``; ``kernels="numpy"`` with the plain formulas of :data:`TRAINING_KERNELS`, for the
    activations listed there and without ``params``: the same function to within a few float32 ULPs, for
    experiments whose time budget the exact kernels would exceed.
    """

    def __init__(self, dim: int, hidden: int, activation: str, rng: np.random.Generator,
                 params: Mapping[str, Any] | None = None, std: float = 0.02, output_std: float | None = None,
                 dtype: Any = np.float64, kernels: str = "actlib"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"FeedForward: unknown activation {activation!r}; registered: {', '.join(ACTIVATIONS)}")
        fn = ACTIVATIONS[activation]
        self.gated = _is_gated(activation)
        if not self.gated and not fn.info.properties.elementwise:
            raise ValueError(f"FeedForward: activation {activation!r} is neither elementwise nor a GLU variant")
        if activation in ("prelu", "rrelu"):
            raise ValueError(f"FeedForward: {activation!r} has learned or random slopes; use actlib.nn.MLP")
        self.activation, self.fn, self.params = activation, fn, dict(params or {})
        if kernels not in ("actlib", "numpy"):
            raise ValueError(f"FeedForward: kernels must be 'actlib' or 'numpy', got {kernels!r}")
        if kernels == "numpy" and (activation not in TRAINING_KERNELS or self.params):
            raise ValueError(f"FeedForward: no NumPy training kernel for {activation!r} with parameters "
                             f"{self.params}; available without parameters: {', '.join(TRAINING_KERNELS)}")
        self.kernel = TRAINING_KERNELS[activation] if kernels == "numpy" else None
        width = 2 * hidden if self.gated else hidden
        self.parameters = {
            "W_1": _normal(rng, (dim, width), std, dtype), "b_1": np.zeros(width, dtype),
            "W_2": _normal(rng, (hidden, dim), std if output_std is None else output_std, dtype),
            "b_2": np.zeros(dim, dtype),
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        self.projected = x @ self.parameters["W_1"] + self.parameters["b_1"]
        if self.kernel is None:
            self.hidden = self.fn(self.projected, **self.params)
            width = self.hidden.shape[-1]
            self.pre_activations = self.projected[..., width:] if self.gated else self.projected
        elif self.gated:
            width = self.projected.shape[-1] // 2
            self.pre_activations = self.projected[..., width:]
            self.gate, self.gate_slope = self.kernel(self.pre_activations)
            self.hidden = self.projected[..., :width] * self.gate
        else:
            self.pre_activations = self.projected
            self.hidden, self.slope = self.kernel(self.projected)
        return self.hidden @ self.parameters["W_2"] + self.parameters["b_2"]

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = {"W_2": _weight_grad(self.hidden, grad), "b_2": _row_sum(grad)}
        grad_hidden = grad @ self.parameters["W_2"].T
        if self.kernel is not None and self.gated:
            linear = self.projected[..., : self.gate.shape[-1]]
            grad_projected = np.concatenate([grad_hidden * self.gate, grad_hidden * linear * self.gate_slope], axis=-1)
        elif self.kernel is not None:
            grad_projected = grad_hidden * self.slope
        elif self.gated:
            grad_projected = self.fn.vjp(self.projected, grad_hidden, **self.params)
        else:
            grad_projected = grad_hidden * self.fn.derivative(self.projected, **self.params)
        self.grads["W_1"] = _weight_grad(self.x, grad_projected)
        self.grads["b_1"] = _row_sum(grad_projected)
        return grad_projected @ self.parameters["W_1"].T


class TransformerBlock(Layer):
    """Pre-norm residual block: ``x + attention(norm_1(x))``, then ``h + feed_forward(norm_2(h))``."""

    def __init__(self, dim: int, heads: int, hidden: int, activation: str, rng: np.random.Generator,
                 params: Mapping[str, Any] | None = None, output_std: float = 0.02, dtype: Any = np.float64,
                 kernels: str = "actlib"):
        super().__init__()
        self.norm_1, self.norm_2 = LayerNorm(dim, dtype=dtype), LayerNorm(dim, dtype=dtype)
        self.attention = CausalSelfAttention(dim, heads, rng, output_std=output_std, dtype=dtype)
        self.feed_forward = FeedForward(dim, hidden, activation, rng, params, output_std=output_std, dtype=dtype,
                                        kernels=kernels)
        self.parts = {"norm_1": self.norm_1, "attention": self.attention, "norm_2": self.norm_2,
                      "feed_forward": self.feed_forward}
        self.parameters = {f"{part}.{name}": array for part, layer in self.parts.items()
                           for name, array in layer.parameters.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        h = x + self.attention.forward(self.norm_1.forward(x))
        return h + self.feed_forward.forward(self.norm_2.forward(h))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        grad_h = grad + self.norm_2.backward(self.feed_forward.backward(grad))
        grad_x = grad_h + self.norm_1.backward(self.attention.backward(grad_h))
        self.grads = {f"{part}.{name}": g for part, layer in self.parts.items() for name, g in layer.grads.items()}
        return grad_x


def token_cross_entropy(logits: np.ndarray, targets: np.ndarray,
                        mask: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of the next-token ``targets`` ``(B, T)`` under ``logits`` ``(B, T, V)``, over the
    positions where ``mask`` is true (all by default), and its gradient with respect to the logits.

    Parameters
    ----------
    logits : ndarray
        Scores of shape ``(B, T, V)``.
    targets : ndarray
        Integer tokens of shape ``(B, T)``.
    mask : ndarray, optional
        Booleans of shape ``(B, T)``: the positions that count.

    Returns
    -------
    tuple of (float, ndarray)
        The mean loss, and its gradient with respect to ``logits`` (shape ``(B, T, V)``).

    Examples
    --------
    >>> loss, grad = token_cross_entropy(np.zeros((1, 2, 4)), np.array([[0, 3]]))
    >>> bool(np.isclose(loss, np.log(4))), grad.shape
    (True, (1, 2, 4))
    """
    targets = np.asarray(targets)
    weights = np.ones(targets.shape) if mask is None else np.asarray(mask, dtype=np.float64)
    count = weights.sum()
    if count == 0:
        raise ValueError("token_cross_entropy: the mask selects no position")
    picked = np.take_along_axis(_log_softmax(logits), targets[..., None], axis=-1)[..., 0]
    loss = -float((picked * weights).sum() / count)
    grad = _softmax(logits)
    np.put_along_axis(grad, targets[..., None], np.take_along_axis(grad, targets[..., None], axis=-1) - 1.0, axis=-1)
    return loss, grad * (weights / count).astype(grad.dtype)[..., None]


class Transformer(Layer):
    """Decoder-only transformer: embeddings, ``layers`` pre-norm blocks, a final layer norm and a read-out.

    Parameters
    ----------
    vocab, dim, heads, layers, max_length : int
        Vocabulary size, model width, attention heads per block, blocks, longest sequence.
    activation : str
        The feed-forward activation: a registered elementwise function or a GLU variant.
    hidden : int, optional
        The feed-forward width; by default :func:`feed_forward_width` (``4 dim``, or ``8 dim / 3`` gated).
    params : mapping, optional
        Keyword parameters of the activation (``{"approximate": "tanh"}``).
    rng : numpy.random.Generator, optional
        Source of the initial weights (normal, std 0.02; the projections into the residual stream
        0.02 / sqrt(2 layers), as GPT-2). ``np.random.default_rng(0)`` by default.
    dtype : float32 or float64, default float64
        Of every parameter and activation. float32 runs the activations' shorter float32 kernels
        (``narrow_kernel``, and ``narrow_derivative_kernel`` for GELU), several times faster for GELU and SiLU; the
        gradient checks use float64.
    kernels : {"actlib", "numpy"}, default "actlib"
        How the feed-forward activation is computed: actlib's registered function, or the plain formulas of
        :data:`TRAINING_KERNELS` (see :class:`FeedForward`), which the part 3 experiment uses for speed.
    """

    def __init__(self, vocab: int, dim: int, heads: int, layers: int, max_length: int, activation: str = "gelu",
                 *, hidden: int | None = None, params: Mapping[str, Any] | None = None,
                 rng: np.random.Generator | None = None, dtype: Any = np.float64, kernels: str = "actlib"):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"Transformer: dtype must be float32 or float64, got {dtype}")
        self.activation = activation
        self.hidden = feed_forward_width(dim, activation) if hidden is None else int(hidden)
        output_std = 0.02 / math.sqrt(2 * layers)
        self.embedding = Embedding(vocab, dim, max_length, rng, dtype=dtype)
        self.blocks = [TransformerBlock(dim, heads, self.hidden, activation, rng, params, output_std, dtype, kernels)
                       for _ in range(layers)]
        self.final_norm = LayerNorm(dim, dtype=dtype)
        self.readout = {"W": _normal(rng, (dim, vocab), 0.02, dtype), "b": np.zeros(vocab, dtype)}
        self.parts: dict[str, Any] = {"embedding": self.embedding,
                                      **{f"block{i}": block for i, block in enumerate(self.blocks)},
                                      "final_norm": self.final_norm}
        self.parameters = {f"{part}.{name}": array for part, layer in self.parts.items()
                           for name, array in layer.parameters.items()}
        self.parameters |= {"readout.W": self.readout["W"], "readout.b": self.readout["b"]}

    @property
    def feed_forwards(self) -> list[FeedForward]:
        """The feed-forward layer of every block, in order (their ``pre_activations`` and ``hidden``)."""
        return [block.feed_forward for block in self.blocks]

    def parameter_count(self, part: str = "") -> int:
        """Number of learned numbers in the parameters whose name contains ``part`` (all by default)."""
        return int(sum(array.size for name, array in self.parameters.items() if part in name))

    def forward(self, tokens: np.ndarray) -> np.ndarray:
        """Logits ``(B, T, vocab)`` for integer tokens ``(B, T)``; position t sees tokens 0..t only."""
        x = self.embedding.forward(tokens)
        for block in self.blocks:
            x = block.forward(x)
        self.final = self.final_norm.forward(x)
        return self.final @ self.readout["W"] + self.readout["b"]

    def backward(self, grad_logits: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of every parameter (name -> array, the order of ``parameters``) given dloss/dlogits."""
        grads = {"readout.W": _weight_grad(self.final, grad_logits),
                 "readout.b": _row_sum(grad_logits)}
        grad = self.final_norm.backward(grad_logits @ self.readout["W"].T)
        for block in reversed(self.blocks):
            grad = block.backward(grad)
        self.embedding.backward(grad)
        for part, layer in self.parts.items():
            grads |= {f"{part}.{name}": g for name, g in layer.grads.items()}
        self.grads = {name: grads[name] for name in self.parameters}
        return self.grads

    def loss_and_grads(self, tokens: np.ndarray, targets: np.ndarray,
                       mask: np.ndarray | None = None) -> tuple[float, list[np.ndarray]]:
        """Mean token cross-entropy and the gradient of every parameter, in the order of ``parameters``."""
        loss, grad_logits = token_cross_entropy(self.forward(tokens), targets, mask)
        return loss, list(self.backward(grad_logits).values())

    def loss(self, tokens: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> float:
        """Mean token cross-entropy, without the backward pass."""
        return token_cross_entropy(self.forward(tokens), targets, mask)[0]

    def accuracy(self, tokens: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> float:
        """Fraction of (masked) positions whose most likely next token is the target."""
        hits = np.argmax(self.forward(tokens), axis=-1) == np.asarray(targets)
        weights = np.ones(hits.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return float(hits[weights].mean())


def train_tokens(model: Transformer, tokens: np.ndarray, targets: np.ndarray, *, optimizer: Any, steps: int,
                 batch_size: int, mask: np.ndarray | None = None, clip_norm: float | None = 1.0,
                 rng: np.random.Generator | None = None,
                 on_step: Callable[[int, Transformer], None] | None = None) -> list[float]:
    """Train ``model`` in place for ``steps`` minibatch steps and return each step's training loss.

    Minibatches of ``batch_size`` sequences are drawn without replacement within each pass over the data
    (``rng``, ``default_rng(0)`` by default); gradients are clipped to ``clip_norm`` (None: not clipped).
    ``on_step(step, model)`` runs after each backward pass, before the update (the model still holds that
    step's activations). Training stops at the first non-finite loss, so the list may be shorter.

    Parameters
    ----------
    model : Transformer
        The model, updated in place.
    tokens, targets : ndarray
        Input tokens and next-position targets, integer arrays of shape ``(n, T)``.
    optimizer : object
        An optimizer of :mod:`actlib.nn` (``Adam``, say): ``optimizer.step(parameters, grads)``.
    steps : int
        Minibatch steps.
    batch_size : int
        Sequences per step.
    mask : ndarray, optional
        Booleans of shape ``(n, T)``: the positions whose loss counts (all by default).
    clip_norm : float or None, default 1.0
        The global gradient norm is clipped to this; None: not clipped.
    rng : numpy.random.Generator, optional
        Draws the minibatches (``default_rng(0)`` by default).
    on_step : callable, optional
        ``on_step(step, model)`` after each backward pass, before the update.

    Returns
    -------
    list of float
        The training loss of each step taken.
    """
    from .nn import clip_by_global_norm

    rng = np.random.default_rng(0) if rng is None else rng
    tokens, targets = np.asarray(tokens), np.asarray(targets)
    n = tokens.shape[0]
    order = rng.permutation(n)
    position = 0
    history = []
    for step in range(1, int(steps) + 1):
        if position + batch_size > n:
            order, position = rng.permutation(n), 0
        rows = order[position:position + batch_size]
        position += batch_size
        batch_mask = None if mask is None else np.asarray(mask)[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads = model.loss_and_grads(tokens[rows], targets[rows], batch_mask)
        history.append(loss)
        if not math.isfinite(loss):
            break
        if on_step is not None:
            on_step(step, model)
        if clip_norm is not None:
            clip_by_global_norm(grads, clip_norm)
        optimizer.step(list(model.parameters.values()), grads)
    return history
