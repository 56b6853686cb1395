"""The names frameworks and model configurations give the registry's functions.

A model's configuration names its activation with a string, and the same function goes by several:
Hugging Face's ``gelu_new``, ``gelu_pytorch_tanh`` and ``gelu_accurate`` are one formula, while its
``gelu`` is another and its ``gelu_fast`` a third that differs from ``gelu_new`` in the tenth digit.
:data:`HUGGING_FACE_ACT2FN` maps every key of transformers' ``ACT2CLS`` to the actlib function and
parameters that compute the same thing, and says which are exact aliases and which are not.

Framework spellings (PyTorch, Keras, JAX, TensorFlow) are part of each entry's
:class:`actlib.Properties`; :func:`framework_table` collects them.

>>> spec = HUGGING_FACE_ACT2FN["quick_gelu"]
>>> spec.function, spec.params, spec.exact
('gelu', {'approximate': 'sigmoid'}, True)
>>> import numpy as np
>>> float(from_config_name("relu2")(np.float64(3.0)))
9.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._core import ACTIVATIONS

__all__ = ["HUGGING_FACE_ACT2FN", "MODEL_CONFIG_NAMES", "ConfigName", "framework_table", "from_config_name"]

#: Where the Hugging Face table was read: ``ACT2CLS`` in transformers' activations module, at a revision
#: that already has ``xielu`` (2025); transformers releases since 4.x add keys but have not changed these.
HUGGING_FACE_SOURCE = "transformers src/transformers/activations.py, ACT2CLS (read at swiss-ai/transformers@2ba8345)"


@dataclass(frozen=True)
class ConfigName:
    """What a configuration string means in actlib.

    ``function`` is the registry name (None: actlib has no such function), ``params`` its keyword
    parameters, ``exact`` whether the string's function is mathematically the same (False: ``note`` says
    how it differs), and ``source`` the code that defines the string's meaning.
    """

    function: str | None
    params: dict[str, Any] = field(default_factory=dict)
    exact: bool = True
    note: str = ""
    source: str = HUGGING_FACE_SOURCE


_TANH = {"approximate": "tanh"}

#: Every key of Hugging Face transformers' ``ACT2CLS`` (the ``hidden_act`` strings of model configurations).
HUGGING_FACE_ACT2FN: dict[str, ConfigName] = {
    "gelu": ConfigName("gelu", note="GELUActivation: torch.nn.functional.gelu, the exact erf form"),
    "gelu_10": ConfigName("gelu", exact=False,
                          note="ClippedGELUActivation(-10, 10): gelu clipped to [-10, 10], so it differs above 10"),
    "gelu_fast": ConfigName("gelu", _TANH, exact=False,
                            note="FastGELUActivation: 0.5x(1 + tanh(0.7978845608 x (1 + 0.044715 x^2))), whose "
                                 "constant is sqrt(2/pi) cut after ten digits (2.9e-12 relative below it)"),
    "gelu_new": ConfigName("gelu", _TANH, note="NewGELUActivation: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))"),
    "gelu_python": ConfigName("gelu", note="GELUActivation(use_gelu_python=True): x/2 (1 + erf(x/sqrt 2))"),
    "gelu_pytorch_tanh": ConfigName("gelu", _TANH, note="torch.nn.functional.gelu(approximate='tanh')"),
    "gelu_accurate": ConfigName("gelu", _TANH, note="AccurateGELUActivation: the tanh form, as gelu_new"),
    "laplace": ConfigName(None, exact=False, note="LaplaceActivation (MEGA): a normal CDF of (x - 0.707107) / "
                                                  "(0.282095 sqrt 2); not in actlib"),
    "leaky_relu": ConfigName("leaky_relu", note="torch.nn.LeakyReLU(): negative_slope 0.01"),
    "linear": ConfigName(None, exact=False, note="LinearActivation: the identity, not an activation in actlib"),
    "mish": ConfigName("mish"),
    "quick_gelu": ConfigName("gelu", {"approximate": "sigmoid"},
                             note="QuickGELUActivation: x * sigmoid(1.702 x), CLIP's GELU"),
    "relu": ConfigName("relu"),
    "relu2": ConfigName("squared_relu", note="ReLUSquaredActivation: torch.square(torch.relu(x)) (Primer)"),
    "relu6": ConfigName("relu6"),
    "sigmoid": ConfigName("sigmoid"),
    "silu": ConfigName("silu"),
    "swish": ConfigName("silu", note="torch.nn.SiLU: Swish with beta = 1"),
    "tanh": ConfigName("tanh"),
    "prelu": ConfigName("prelu", note="torch.nn.PReLU(): one learned slope, initially 0.25"),
    "xielu": ConfigName(None, exact=False, note="XIELUActivation (Apertus): learned piecewise quadratic/expm1; "
                                                "not in actlib"),
}

_T5_SOURCE = "transformers src/transformers/models/t5/configuration_t5.py and modeling_t5.py (T5DenseGatedActDense)"
_VLLM_SOURCE = "vLLM vllm/model_executor/layers/activation.py (SiluAndMul.forward_native)"

#: Configuration strings of gated feed-forward layers, which name a GLU variant rather than an elementwise gate.
#: Their gate is the *first* projection (``act(x W_0) * x W_1``), actlib's the *second* half: swap the halves.
GATED_CONFIG_NAMES: dict[str, ConfigName] = {
    "gated-gelu": ConfigName("geglu", _TANH, note="T5 v1.1 feed_forward_proj: dense_act_fn becomes gelu_new; "
                                                  "the gate is wi_0, the first projection", source=_T5_SOURCE),
    "gated-silu": ConfigName("swiglu", note="T5-style feed_forward_proj with ACT2FN['silu'] as the gate",
                             source=_T5_SOURCE),
    "silu_and_mul": ConfigName("swiglu", note="silu(x[..., :d]) * x[..., d:]: the gate in the first half",
                               source=_VLLM_SOURCE),
}

#: Everything above in one table: Hugging Face's elementwise strings, then the gated ones.
MODEL_CONFIG_NAMES: dict[str, ConfigName] = {**HUGGING_FACE_ACT2FN, **GATED_CONFIG_NAMES}


def from_config_name(name: str) -> Callable[..., Any]:
    """The actlib function (with its parameters bound) that a configuration string names.

    Raises ``KeyError`` for an unknown string and ``ValueError`` for one actlib has no function for.

    Parameters
    ----------
    name : str
        A key of :data:`MODEL_CONFIG_NAMES`, such as a Hugging Face ``hidden_act`` string.

    Returns
    -------
    functools.partial
        The registered activation with the parameters the name implies bound.

    Examples
    --------
    >>> from_config_name("gelu_pytorch_tanh").keywords
    {'approximate': 'tanh'}
    """
    try:
        spec = MODEL_CONFIG_NAMES[name]
    except KeyError:
        raise KeyError(f"from_config_name: unknown configuration name {name!r}; known: "
                       f"{', '.join(MODEL_CONFIG_NAMES)}") from None
    if spec.function is None:
        raise ValueError(f"from_config_name: {name!r} has no actlib function ({spec.note})")
    return functools.partial(ACTIVATIONS[spec.function], **spec.params)


def framework_table() -> list[dict[str, str]]:
    """One row per registered function: its name in PyTorch, Keras, JAX and TensorFlow (empty: not offered),
    with the framework's default parameters in parentheses, and the configuration strings that name it.

    Returns
    -------
    list of dict
        One dict per function, keys ``actlib``, ``pytorch``, ``keras``, ``jax``, ``tensorflow`` and
        ``config names``, in the order of :data:`actlib.ACTIVATIONS`.

    Examples
    --------
    >>> row = next(r for r in framework_table() if r["actlib"] == "squared_relu")
    >>> row["config names"], row["pytorch"]
    ('relu2', '')
    """
    rows = []
    for name, fn in ACTIVATIONS.items():
        props = fn.info.properties
        row = {"actlib": name}
        for framework in ("pytorch", "keras", "jax", "tensorflow"):
            spelled = getattr(props, framework)
            row[framework] = "" if spelled.name is None else (
                spelled.name + (f" ({spelled.defaults})" if spelled.defaults else ""))
        row["config names"] = ", ".join(key for key, spec in MODEL_CONFIG_NAMES.items() if spec.function == name)
        rows.append(row)
    return rows
