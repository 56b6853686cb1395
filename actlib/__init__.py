"""actlib: neural-network activation functions, each defined once.

Every function takes an array and returns a new one (or writes into ``out=``), and carries
``f.derivative``, ``f.symbolic`` and ``f.info`` (its whole registry entry: parameters, properties, where
the book presents it, its expected special values). ``ACTIVATIONS`` maps names to functions in the
order the book presents them.

>>> import numpy as np
>>> import actlib
>>> actlib.relu(np.array([-1.0, 2.0]))
array([0., 2.])
>>> list(actlib.ACTIVATIONS)[:4]
['relu', 'sigmoid', 'logsigmoid', 'tanh']
"""

import importlib
import pkgutil
from typing import Any

from ._core import (
    ACTIVATIONS,
    CHAPTERS,
    PIECEWISE_LINEAR,
    ActivationInfo,
    BookPlace,
    Capabilities,
    FrameworkName,
    InvalidCase,
    KinkDerivative,
    Properties,
    PytorchRecord,
    SpecialValues,
    activation,
    finite,
    nonnegative,
    one_of,
    positive,
    unregister,
)
from .exponential import SELU_ALPHA, SELU_SCALE
from .rectifiers import rrelu_slopes

#: The modules of the package that define no activation. Every other public module is a family module:
#: importing it registers its activations, so a new family module needs no edit here.
SUPPORT_MODULES = (
    "accuracy", "datasets", "evaluation", "ffn_study", "glue", "low_precision", "names", "nn", "plotting", "sequences",
    "transformer",
)

FAMILY_MODULES = tuple(
    info.name for info in pkgutil.iter_modules(__path__)
    if not info.name.startswith("_") and info.name not in SUPPORT_MODULES
)
for _module in FAMILY_MODULES:
    importlib.import_module(f"{__name__}.{_module}")
del _module

# every registered activation is a name of the package: actlib.relu is ACTIVATIONS["relu"]
globals().update(ACTIVATIONS)


def __getattr__(name: str) -> Any:
    """An activation registered after the package was imported (an example in the tests) is a name too."""
    if name in ACTIVATIONS:
        return ACTIVATIONS[name]
    raise AttributeError(f"module 'actlib' has no attribute {name!r}")


__all__ = [
    "ACTIVATIONS", "CHAPTERS", "FAMILY_MODULES", "PIECEWISE_LINEAR", "SELU_ALPHA", "SELU_SCALE", "SUPPORT_MODULES",
    "ActivationInfo", "BookPlace", "Capabilities", "FrameworkName", "InvalidCase", "KinkDerivative", "Properties",
    "PytorchRecord", "SpecialValues", "activation", "finite", "nonnegative", "one_of", "positive", "rrelu_slopes",
    "unregister", *sorted(ACTIVATIONS),
]
