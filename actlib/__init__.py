"""actlib: neural-network activation functions, each defined once.

Every function takes an array and returns a new one (or writes into ``out=``), and carries
``f.derivative``, ``f.symbolic`` and ``f.info`` (parameters and properties). ``ACTIVATIONS`` maps names
to functions in the order the book presents them.

>>> import numpy as np
>>> import actlib
>>> actlib.relu(np.array([-1.0, 2.0]))
array([0., 2.])
>>> list(actlib.ACTIVATIONS)[:4]
['relu', 'sigmoid', 'logsigmoid', 'tanh']
"""

from ._core import ACTIVATIONS, ActivationInfo, FrameworkName, Properties
from .algebraic import squared_relu, squareplus
from .exponential import SELU_ALPHA, SELU_SCALE, celu, elu, selu, softplus
from .gated import gelu, hardswish, mish, silu, swish
from .glu import geglu, glu, reglu, swiglu
from .rectifiers import (
    hardshrink,
    hardtanh,
    leaky_relu,
    prelu,
    relu,
    relu6,
    rrelu,
    rrelu_slopes,
    softshrink,
    threshold,
)
from .softmax import log_softmax, softmax
from .squashing import hardsigmoid, logsigmoid, sigmoid, softsign, tanh, tanhshrink

#: The order of the book: ReLU, the classic squashing functions, then the variants.
BOOK_ORDER = (
    "relu", "sigmoid", "logsigmoid", "tanh", "softmax", "log_softmax",
    "leaky_relu", "prelu", "rrelu", "elu", "selu", "celu", "gelu", "silu", "swish", "mish",
    "relu6", "hardtanh", "hardsigmoid", "hardswish", "softplus", "softsign",
    "tanhshrink", "softshrink", "hardshrink", "threshold",
    # part 3: the transformer era
    "squared_relu", "squareplus", "glu", "reglu", "geglu", "swiglu",
)
_registered = dict(ACTIVATIONS)
if set(_registered) != set(BOOK_ORDER):
    raise RuntimeError(f"BOOK_ORDER and the registry differ: {set(_registered) ^ set(BOOK_ORDER)}")
ACTIVATIONS.clear()
ACTIVATIONS.update((name, _registered[name]) for name in BOOK_ORDER)
del _registered

__all__ = [
    "ACTIVATIONS", "BOOK_ORDER", "SELU_ALPHA", "SELU_SCALE", "ActivationInfo", "FrameworkName", "Properties",
    "celu", "elu", "geglu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu",
    "log_softmax", "logsigmoid", "mish", "prelu", "reglu", "relu", "relu6", "rrelu", "rrelu_slopes", "selu", "sigmoid",
    "silu", "softmax", "softplus", "softshrink", "softsign", "squared_relu", "squareplus", "swiglu", "swish", "tanh",
    "tanhshrink", "threshold",
]
