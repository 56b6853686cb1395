r"""Rectifiers: ReLU and the piecewise-linear functions built from it.

Every function here is exact: each output is an input, a product of an input and a parameter, or a
constant, so it is correctly rounded in every dtype and computed in the input's own dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import (
    PIECEWISE_LINEAR,
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
)
from .evaluation import evaluate_with


def _sp():
    import sympy

    return sympy


def _x():
    return _sp().Symbol("x", real=True)


def _exact(value):
    """A parameter as the exact rational the kernels receive: ``0.1`` is the binary ``0.1000000000000000055...``,
    and the function switches branch on the same side of it as the kernel (``nsimplify`` would give 1/10)."""
    return _sp().Rational(value)


@activation(
    Properties(
        range="[0, inf)", monotonic=True, smoothness="0", zero_centred=False, bounded_below=True,
        bounded_above=False, self_gated=False, kinks=(0.0,), paper="nair2010", family="rectifier",
        pytorch=FrameworkName("torch.nn.ReLU"), keras=FrameworkName("keras.activations.relu"),
        jax=FrameworkName("jax.nn.relu"), tensorflow=FrameworkName("tf.nn.relu"),
    ),
    book=BookPlace("relu", 10),
    stable_form=PIECEWISE_LINEAR,
    expected=SpecialValues(
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, 0.0),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 0.0),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.relu(t),
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, 1.0),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.0,),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is 0.0, since its own comparison fails the other way."
        ),
    ),
)
def relu(x, *, out=None):
    r"""Rectified linear unit.

    .. math:: \operatorname{relu}(x) = \max(0, x)

    Parameters
    ----------
    x : array_like
        Input. float16/32/64 keep their dtype; integers and bools compute in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` is PyTorch's ``inplace=True``).

    Returns
    -------
    ndarray
        ``max(0, x)`` elementwise; NaN stays NaN, and ``-0.0`` stays ``-0.0`` (as PyTorch 2.13).

    Notes
    -----
    The derivative is 1 for :math:`x > 0` and 0 for :math:`x < 0`. At the kink :math:`x = 0` any value
    in :math:`[0, 1]` is a subgradient; ``relu.derivative(0) = 0``, as PyTorch, JAX and TensorFlow
    return. Bertoin et al. (2021) show the choice can matter in low precision.

    References
    ----------
    Nair & Hinton, "Rectified linear units improve restricted Boltzmann machines", ICML 2010.

    Examples
    --------
    >>> import numpy as np
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    >>> relu.derivative(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    # one pass of np.clip: np.maximum(x, 0) is about three times slower for float32 (NumPy 2.4, AVX2)
    return np.clip(x, x.dtype.type(0), x.dtype.type(np.inf), out=out)


@relu.defderivative
def _relu_derivative(x):
    return (x > 0).astype(x.dtype)


@relu.defsymbolic
def _relu_symbolic():
    sp = _sp()
    return sp.Max(0, _x())


@activation(
    Properties(
        range="(-inf, inf)", monotonic=True, smoothness="0", zero_centred=False, bounded_below=False,
        bounded_above=False, self_gated=False, kinks=(0.0,), paper="maas2013", family="rectifier",
        pytorch=FrameworkName("torch.nn.LeakyReLU", "negative_slope=0.01"),
        keras=FrameworkName("keras.layers.LeakyReLU", "negative_slope=0.3"),
        jax=FrameworkName("jax.nn.leaky_relu", "negative_slope=0.01"),
        tensorflow=FrameworkName("tf.nn.leaky_relu", "alpha=0.2"),
    ),
    book=BookPlace("variants", 10),
    stable_form=PIECEWISE_LINEAR,
    invalid=(
        InvalidCase({"negative_slope": np.nan}, r"negative_slope must be a finite real number"),
        InvalidCase({"negative_slope": "0.1"}, r"negative_slope must be a finite real number"),
    ),
    expected=SpecialValues(
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(0.01, 1.0, 0.01),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 0.01), KinkDerivative(0.0, 0.2, {"negative_slope": 0.2}),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.leaky_relu(t),
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(0.01, 1.0, 0.01),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.01,),
    ),
    checks={"negative_slope": finite},
    parameter_cases=({"negative_slope": 0.0}, {"negative_slope": 1.0}, {"negative_slope": 10.0},
                     {"negative_slope": -0.5}, {"negative_slope": 0.2}, {"negative_slope": 1e-30}),
)
def leaky_relu(x, *, negative_slope=0.01, out=None):
    r"""Leaky ReLU.

    .. math:: \operatorname{leaky\_relu}(x) = \begin{cases} x & x \ge 0 \\ a x & x < 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input.
    negative_slope : float, default 0.01
        Slope :math:`a` for negative inputs (PyTorch and JAX: 0.01; TensorFlow ``tf.nn.leaky_relu``:
        0.2; the Keras 3 layer: 0.3).
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray

    Notes
    -----
    The derivative is 1 for :math:`x > 0` and :math:`a` for :math:`x \le 0`: at the kink it is
    ``negative_slope``, as in PyTorch. The form :math:`\max(a x, x)` found in write-ups equals this
    only for :math:`a \le 1`; for :math:`a > 1` it picks :math:`a x` on the positive side. With a slope
    :math:`|a| > 1` the product of a negative input near the largest float overflows; it rounds to
    :math:`\pm\infty` with NumPy's overflow warning, which is raised only there, where the exact result is
    beyond the largest float. A slope of 0 gives :math:`-0` for every negative input, :math:`-\infty` included
    (not :math:`0 \cdot \infty`, which is NaN).

    References
    ----------
    Maas, Hannun & Ng, "Rectifier nonlinearities improve neural network acoustic models", ICML 2013.

    Examples
    --------
    >>> leaky_relu(np.array([-2.0, 0.0, 3.0]))
    array([-0.02,  0.  ,  3.  ])
    >>> leaky_relu.derivative(0.0, negative_slope=0.2)
    np.float64(0.2)
    """
    return _leaky(x, x.dtype.type(negative_slope), out)


def _leaky(x, slope, out):
    """``x`` where ``x >= 0``, else ``slope * x``, for a scalar slope (in the dtype of ``x``).

    A slope of 0 gives -0.0 for every negative input, -inf included (where ``0 * x`` would be NaN). Only the
    negative inputs are multiplied, so an overflow warning (slope > 1) means that the exact result overflows.
    """
    if 0 < slope <= 1:
        # |slope * x| <= |x| after rounding too, so the larger of x and slope * x is the right one (also for
        # +-0, +-inf and NaN); two branch-free passes instead of np.where's unpredictable per-element branch
        result = np.multiply(x, slope, out=out)
        return np.maximum(result, x, out=result)
    if slope == 0:
        result = np.where(x < 0, x.dtype.type(-0.0), x)  # NaN stays NaN
    else:
        result = np.where(x >= 0, x, np.clip(x, x.dtype.type(-np.inf), x.dtype.type(0)) * slope)
    if out is None:
        return result
    np.copyto(out, result)
    return out


@leaky_relu.defderivative
def _leaky_relu_derivative(x, *, negative_slope=0.01):
    return np.where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope))


@leaky_relu.defsymbolic
def _leaky_relu_symbolic(negative_slope=0.01):
    sp = _sp()
    x = _x()
    return sp.Piecewise((x, x >= 0), (negative_slope * x, True))


def _weight_array(name: str, weight: Any, dtype: np.dtype) -> np.ndarray:
    array = np.asarray(weight)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: weight must be real numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: weight must be finite real numbers, got {weight!r}")
    return array.astype(dtype, copy=False)


def _validate_prelu(params: dict[str, Any]) -> None:
    weight = np.asarray(params["weight"])
    if weight.dtype.kind not in "biuf" or not np.all(np.isfinite(weight)):
        raise ValueError(f"prelu: weight must be finite real numbers, got {params['weight']!r}")


@activation(
    Properties(
        range="(-inf, inf)", monotonic=True, smoothness="0", zero_centred=False, bounded_below=False,
        bounded_above=False, self_gated=False, kinks=(0.0,), paper="he2015", family="rectifier",
        pytorch=FrameworkName("torch.nn.PReLU", "num_parameters=1, init=0.25"),
        keras=FrameworkName("keras.layers.PReLU", "alpha_initializer='Zeros'"),
        jax=FrameworkName(None), tensorflow=FrameworkName("tf.keras.layers.PReLU", "alpha_initializer='zeros'"),
    ),
    book=BookPlace("variants", 20),
    stable_form=PIECEWISE_LINEAR,
    invalid=(
        InvalidCase({"weight": np.inf}, r"weight must be finite"),
    ),
    expected=SpecialValues(
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(0.25, 1.0, 0.25),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 0.25), KinkDerivative(0.0, 0.7, {"weight": 0.7}),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.prelu(t, torch.tensor([0.25], dtype=t.dtype)),
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(0.25, 1.0, 0.25),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.25,),
    ),
    capabilities=Capabilities(learned="weight"),
    validate=_validate_prelu,
    parameter_cases=({"weight": 0.0}, {"weight": 1.0}, {"weight": 10.0}, {"weight": -0.5}, {"weight": 0.1}),
)
def prelu(x, *, weight=0.25, out=None):
    r"""Parametric ReLU: a leaky ReLU whose negative slope is learned.

    .. math:: \operatorname{prelu}(x; w) = \begin{cases} x & x \ge 0 \\ w x & x < 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input.
    weight : float or array_like, default 0.25
        The learnable slope :math:`w` (PyTorch's initial value 0.25). An array broadcasts against ``x``
        (per-channel slopes: shape ``(C, 1, 1)`` for ``x`` of shape ``(N, C, H, W)``).
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray

    Notes
    -----
    :math:`\partial y/\partial x` is 1 for :math:`x > 0` and :math:`w` for :math:`x \le 0` (so
    ``weight`` at 0, as PyTorch). :math:`\partial y/\partial w` (``prelu.weight_derivative``) is
    :math:`x` for :math:`x < 0` and 0 otherwise; sum it over the broadcast axes to get the gradient
    of a shared slope. With a weight :math:`|w| > 1` the product of a
    negative input near the largest float overflows; it rounds to :math:`\pm\infty` with NumPy's overflow
    warning, which is raised only there, where the exact result is beyond the largest float. A weight of 0
    gives :math:`-0` for every negative input, :math:`-\infty` included (not :math:`0 \cdot \infty`, which is
    NaN).

    References
    ----------
    He, Zhang, Ren & Sun, "Delving deep into rectifiers", ICCV 2015.

    Examples
    --------
    >>> prelu(np.array([-2.0, 4.0]))
    array([-0.5,  4. ])
    >>> prelu.weight_derivative(np.array([-2.0, 4.0]))
    array([-2.,  0.])
    """
    w = _weight_array("prelu", weight, x.dtype)
    if w.ndim == 0:
        return _leaky(x, w[()], out)
    result = np.where(x >= 0, x, x * w)
    if out is None or result.shape != out.shape:
        return result
    np.copyto(out, result)
    return out


@prelu.defderivative
def _prelu_derivative(x, *, weight=0.25):
    w = _weight_array("prelu", weight, x.dtype)
    return np.where(x > 0, x.dtype.type(1), w)


@prelu.defsymbolic
def _prelu_symbolic(weight=0.25):
    sp = _sp()
    x = _x()
    return sp.Piecewise((x, x >= 0), (weight * x, True))


def _prelu_weight_derivative(x, *, weight=0.25):
    """Elementwise :math:`\\partial\\, \\operatorname{prelu}(x; w) / \\partial w`: ``x`` where ``x < 0``, else 0."""
    array, params = prelu._bind(x, (), {"weight": weight})
    w = _weight_array("prelu", params["weight"], array.dtype)
    return np.broadcast_to(np.where(array < 0, array, array.dtype.type(0)), np.broadcast(array, w).shape).copy()


prelu.weight_derivative = _prelu_weight_derivative


def _validate_rrelu(params: dict[str, Any]) -> None:
    lower, upper = params["lower"], params["upper"]
    finite("rrelu", "lower", lower)
    finite("rrelu", "upper", upper)
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: lower and upper must satisfy 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if params["rng"] is not None and not isinstance(params["rng"], np.random.Generator):
        raise TypeError(f"rrelu: rng must be a numpy.random.Generator, got {type(params['rng']).__name__}")


def _rrelu_training_draw(shape, params, rng):
    """A training pass's parameters: one slope per element, drawn once and shared by forward and backward."""
    bounds = {key: params.get(key, rrelu.info.parameters[key]) for key in ("lower", "upper")}
    return {**params, "training": True, "slopes": rrelu_slopes(shape, **bounds, rng=rng)}


def _rrelu_slopes(x, lower, upper, training, rng, slopes):
    if slopes is not None:
        slopes = np.asarray(slopes, dtype=x.dtype)
        if slopes.shape != x.shape:
            raise ValueError(f"rrelu: slopes has shape {slopes.shape}, but x has shape {x.shape}")
        return slopes
    if not training:
        return x.dtype.type((lower + upper) / 2)
    return rrelu_slopes(x.shape, lower=lower, upper=upper, rng=rng, dtype=x.dtype)


@activation(
    Properties(
        range="(-inf, inf)", monotonic=True, smoothness="0", zero_centred=False, bounded_below=False,
        bounded_above=False, self_gated=False, kinks=(0.0,), paper="xu2015", family="rectifier",
        pytorch=FrameworkName("torch.nn.RReLU", "lower=1/8, upper=1/3"),
        keras=FrameworkName(None), jax=FrameworkName(None), tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 30),
    stable_form=PIECEWISE_LINEAR,
    invalid=(
        InvalidCase({"lower": 0.5, "upper": 0.1}, r"0 <= lower <= upper"),
        InvalidCase({"lower": -0.1}, r"0 <= lower <= upper"),
    ),
    expected=SpecialValues(
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(0.22916666666666666, 1.0, 0.22916666666666666),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 0.22916666666666666),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.rrelu(t, training=False),
        at_infinities=(-np.inf, np.inf, np.nan),
        derivative_at_infinities=(0.22916666666666666, 1.0, 0.22916666666666666),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.22916666666666666,),
    ),
    capabilities=Capabilities(draw=_rrelu_training_draw, drawn=("training", "rng", "slopes")),
    validate=_validate_rrelu,
    parameter_cases=({"lower": 0.0, "upper": 0.0}, {"lower": 0.1, "upper": 0.3}, {"lower": 0.0, "upper": 1.0},
                     {"lower": 1.0, "upper": 1.0}, {"lower": 2.0, "upper": 10.0}),
)
def rrelu(x, *, lower=1 / 8, upper=1 / 3, training=False, rng=None, slopes=None, out=None):
    r"""Randomized leaky ReLU.

    .. math:: \operatorname{rrelu}(x) = \begin{cases} x & x \ge 0 \\ a x & x < 0 \end{cases},\qquad
       a \sim U(\text{lower}, \text{upper}) \text{ in training}, \quad a = \frac{\text{lower} + \text{upper}}{2}
       \text{ in evaluation}

    Parameters
    ----------
    x : array_like
        Input.
    lower, upper : float, default 1/8 and 1/3
        Bounds of the uniform slope distribution, ``0 <= lower <= upper`` (PyTorch's defaults).
    training : bool, default False
        Draw one slope per element (True) or use the mean slope (False), as PyTorch.
    rng : numpy.random.Generator, optional
        Source of the slopes in training; a fresh unseeded generator if omitted.
    slopes : array_like, optional
        Slopes to use instead of drawing them (shape of ``x``), e.g. from :func:`rrelu_slopes`, so that
        the forward pass and ``rrelu.derivative`` use the same ones.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        ``x`` where ``x >= 0``, else ``x`` times the slope (drawn in training, the mean slope otherwise).
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 for :math:`x > 0` and the slope for :math:`x \le 0` (at 0 the slope, as
    PyTorch's ``rrelu_with_noise``). A ``training=True`` call of ``rrelu.derivative`` with a generator
    in the same state as the forward call draws the same slopes; passing ``slopes=`` makes that explicit. With a
    mean slope above 1 the product of a negative input near the largest float overflows; it rounds to
    :math:`\pm\infty` with NumPy's overflow warning, which is raised only there, where the exact result is
    beyond the largest float. A slope of 0 gives :math:`-0` for every negative input, :math:`-\infty` included
    (not :math:`0 \cdot \infty`, which is NaN).

    Evaluation differs from the paper: Xu et al. (2015) divide negative inputs by the mean of the
    reciprocal slopes, :math:`y = x / \frac{l' + u'}{2}` with :math:`1/a \sim U(l', u')` (their
    :math:`a \in [3, 8]`), i.e. slope :math:`2/(l'+u') = 2/11`, whereas PyTorch multiplies by the mean
    slope :math:`(l + u)/2 = 11/48` for :math:`l = 1/8, u = 1/3`.

    References
    ----------
    Xu, Wang, Chen & Li, "Empirical evaluation of rectified activations in convolutional network", 2015.

    Examples
    --------
    >>> rrelu(np.array([-48.0, 2.0]))
    array([-11.,   2.])
    >>> s = rrelu_slopes((3,), rng=np.random.default_rng(0))
    >>> y = rrelu(np.array([-1.0, -1.0, 1.0]), training=True, slopes=s)
    >>> bool(np.all(rrelu.derivative(np.array([-1.0, -1.0, 1.0]), training=True, slopes=s)[:2] == -y[:2]))
    True
    """
    a = _rrelu_slopes(x, lower, upper, training, rng, slopes)
    if np.ndim(a) == 0:
        return _leaky(x, a, out)
    return np.where(x >= 0, x, x * a)


@rrelu.defderivative
def _rrelu_derivative(x, *, lower=1 / 8, upper=1 / 3, training=False, rng=None, slopes=None):
    a = _rrelu_slopes(x, lower, upper, training, rng, slopes)
    return np.where(x > 0, x.dtype.type(1), a) * np.ones_like(x)


@rrelu.defsymbolic
def _rrelu_symbolic(lower=1 / 8, upper=1 / 3):
    """The evaluation-mode expression (mean slope)."""
    sp = _sp()
    x = _x()
    slope = (sp.nsimplify(lower) + sp.nsimplify(upper)) / 2
    return sp.Piecewise((x, x >= 0), (slope * x, True))


def rrelu_slopes(shape, *, lower=1 / 8, upper=1 / 3, rng=None, dtype=np.float64):
    """Draw the per-element slopes rrelu uses in training, to pass as ``slopes=`` to forward and derivative.

    Parameters
    ----------
    shape : tuple of int
        Shape of the input the slopes are for.
    lower, upper : float, default 1/8 and 1/3
        Bounds of the uniform distribution, ``0 <= lower <= upper``.
    rng : numpy.random.Generator, optional
        Source of the draw; a fresh unseeded generator if omitted.
    dtype : numpy.dtype, default numpy.float64
        dtype of the slopes (that of the input).

    Returns
    -------
    ndarray
        Slopes of the given shape, uniform in ``[lower, upper]``.

    Examples
    --------
    >>> s = rrelu_slopes((1000,), rng=np.random.default_rng(0))
    >>> bool(s.min() >= 1/8 and s.max() <= 1/3)
    True
    """
    _validate_rrelu({"lower": lower, "upper": upper, "rng": rng})
    generator = rng if rng is not None else np.random.default_rng()
    return generator.uniform(lower, upper, size=shape).astype(dtype)


def _validate_hardtanh(params: dict[str, Any]) -> None:
    finite("hardtanh", "min_val", params["min_val"])
    finite("hardtanh", "max_val", params["max_val"])
    if not params["min_val"] < params["max_val"]:
        raise ValueError(
            f"hardtanh: min_val must be less than max_val, got min_val={params['min_val']}, "
            f"max_val={params['max_val']}"
        )


def _nearest(dtype, value):
    """``value`` rounded to ``dtype``; beyond its range +-inf, which is then the correctly rounded bound."""
    with np.errstate(over="ignore"):
        return dtype.type(value)


def _at_most(dtype, limit):
    """The largest value of ``dtype`` at most ``limit``, so that ``x <= limit`` and ``x > limit`` are decided
    exactly for every ``x`` of that dtype: ``limit = 0.1`` rounds up in float32, and ``1e6`` rounds to inf in
    float16, where ``x <= inf`` would hold for ``x = inf`` too."""
    below = _nearest(dtype, limit)
    return np.nextafter(below, dtype.type(-np.inf)) if float(below) > limit else below


def _at_least(dtype, limit):
    """The smallest value of ``dtype`` at least ``limit`` (see :func:`_at_most`)."""
    return -_at_most(dtype, -limit)


def _clamp(x, low, high, out=None):
    return np.clip(x, _nearest(x.dtype, low), _nearest(x.dtype, high), out=out)


def _clamp_derivative(x, low, high):
    # PyTorch's hardtanh_backward: zero at and beyond both edges
    return ((x > _at_most(x.dtype, low)) & (x < _at_least(x.dtype, high))).astype(x.dtype)


@activation(
    Properties(
        range="[0, 6]", monotonic=True, smoothness="0", zero_centred=False, bounded_below=True,
        bounded_above=True, self_gated=False, kinks=(0.0, 6.0), paper="krizhevsky2010", family="rectifier",
        pytorch=FrameworkName("torch.nn.ReLU6"), keras=FrameworkName("keras.activations.relu6"),
        jax=FrameworkName("jax.nn.relu6"), tensorflow=FrameworkName("tf.nn.relu6"),
    ),
    book=BookPlace("variants", 110),
    stable_form=PIECEWISE_LINEAR,
    expected=SpecialValues(
        at_infinities=(0.0, 6.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, 0.0),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 0.0), KinkDerivative(6.0, 0.0),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.relu6(t),
        at_infinities=(0.0, 6.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, 1.0),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.0, 0.0),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is 0.0, since its own comparison fails the other way."
        ),
    ),
)
def relu6(x, *, out=None):
    r"""ReLU capped at 6.

    .. math:: \operatorname{relu6}(x) = \min(\max(0, x), 6)

    Parameters
    ----------
    x : array_like
        Input. float16, float32 and float64 keep their dtype; integers and bools are computed in float64.
    out : ndarray, optional
        Array of the result's shape and dtype to write into (``out=x`` works in place).

    Returns
    -------
    ndarray
        The values clipped to :math:`[0, 6]`. Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 on :math:`(0, 6)` and 0 elsewhere, including both kinks:
    ``relu6.derivative(0) = relu6.derivative(6) = 0``, as PyTorch (which computes relu6 as
    ``hardtanh(x, 0, 6)``). The cap keeps activations representable in low-precision arithmetic
    (introduced by Krizhevsky 2010; popularised by MobileNet, Howard et al. 2017).

    Examples
    --------
    >>> relu6(np.array([-1.0, 3.0, 9.0]))
    array([0., 3., 6.])
    >>> relu6.derivative(np.array([0.0, 3.0, 6.0]))
    array([0., 1., 0.])
    """
    return _clamp(x, 0, 6, out)


@relu6.defderivative
def _relu6_derivative(x):
    return _clamp_derivative(x, 0, 6)


@relu6.defsymbolic
def _relu6_symbolic():
    sp = _sp()
    return sp.Min(sp.Max(0, _x()), 6)


@activation(
    Properties(
        range="[-1, 1]", monotonic=True, smoothness="0", zero_centred=True, bounded_below=True,
        bounded_above=True, self_gated=False, kinks=(-1.0, 1.0), paper=None, family="rectifier",
        pytorch=FrameworkName("torch.nn.Hardtanh", "min_val=-1.0, max_val=1.0"),
        keras=FrameworkName("keras.activations.hard_tanh"), jax=FrameworkName("jax.nn.hard_tanh"),
        tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 120),
    stable_form=PIECEWISE_LINEAR,
    invalid=(
        InvalidCase({"min_val": 1.0, "max_val": -1.0}, r"min_val must be less than max_val"),
    ),
    expected=SpecialValues(
        at_infinities=(-1.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, 0.0),
        at_signed_zeros=(-0.0, 0.0),
        kink_derivatives=(KinkDerivative(-1.0, 0.0), KinkDerivative(1.0, 0.0),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.hardtanh(t),
        at_infinities=(-1.0, 1.0, np.nan),
        derivative_at_infinities=(0.0, 0.0, 1.0),
        at_signed_zeros=(-0.0, 0.0), kink_derivatives=(0.0, 0.0),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is 0.0, since its own comparison fails the other way."
        ),
    ),
    validate=_validate_hardtanh,
    parameter_cases=({"min_val": -2.0, "max_val": 0.5}, {"min_val": 0.0, "max_val": 6.0},
                     {"min_val": -0.125, "max_val": -0.0625}, {"min_val": -1e30, "max_val": 1e30},
                     {"min_val": -0.1, "max_val": 0.3}),
)
def hardtanh(x, *, min_val=-1.0, max_val=1.0, out=None):
    r"""Hard tanh: the identity clipped to ``[min_val, max_val]``.

    .. math:: \operatorname{hardtanh}(x) = \min(\max(x, \text{min\_val}), \text{max\_val})

    Parameters
    ----------
    x : array_like
        Input.
    min_val, max_val : float, default -1.0 and 1.0
        The clipping bounds, ``min_val < max_val``.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        The values clipped to ``[min_val, max_val]``.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 strictly inside the bounds and 0 elsewhere: ``hardtanh.derivative(+-1) = 0``,
    as PyTorch.

    Examples
    --------
    >>> hardtanh(np.array([-3.0, 0.5, 3.0]))
    array([-1. ,  0.5,  1. ])
    >>> hardtanh.derivative(np.array([-1.0, 0.5, 1.0]))
    array([0., 1., 0.])
    """
    return _clamp(x, min_val, max_val, out)


@hardtanh.defderivative
def _hardtanh_derivative(x, *, min_val=-1.0, max_val=1.0):
    return _clamp_derivative(x, min_val, max_val)


@hardtanh.defsymbolic
def _hardtanh_symbolic(min_val=-1.0, max_val=1.0):
    sp = _sp()
    return sp.Min(sp.Max(_exact(min_val), _x()), _exact(max_val))


@activation(
    Properties(
        range="[0, inf)", monotonic=True, smoothness="0", zero_centred=False,
        bounded_below=True, bounded_above=False, self_gated=False, kinks=(0.0,), paper=None,
        family="rectifier", pytorch=FrameworkName("torch.nn.Threshold", "threshold, value (required)"),
        keras=FrameworkName(None), jax=FrameworkName(None), tensorflow=FrameworkName(None),
    ),
    book=BookPlace("variants", 200),
    stable_form=PIECEWISE_LINEAR,
    invalid=(
        InvalidCase({"threshold": np.nan, "value": 0.0}, r"threshold must be a finite real number"),
        InvalidCase({"value": -np.inf}, r"value must be a finite real number"),
    ),
    expected=SpecialValues(
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, 0.0),
        at_signed_zeros=(0.0, 0.0),
        kink_derivatives=(KinkDerivative(0.0, 0.0), KinkDerivative(1.0, 0.0, {"threshold": 1.0, "value": -5.0}),),
    ),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.threshold(t, 0.0, 0.0),
        at_infinities=(0.0, np.inf, np.nan),
        derivative_at_infinities=(0.0, 1.0, 1.0),
        at_signed_zeros=(0.0, 0.0), kink_derivatives=(0.0,),
        differences=(
            "At NaN PyTorch's backward returns 1.0, the branch its comparison falls to; actlib's derivative "
            "is 0.0, since its own comparison fails the other way."
        ),
    ),
    checks={"threshold": finite, "value": finite},
    parameter_cases=({"threshold": 1.0, "value": -5.0}, {"threshold": 0.5, "value": 0.5},
                     {"threshold": -2.0, "value": -2.0}, {"threshold": 0.0, "value": -0.0},
                     {"threshold": 1e6, "value": 0.0}, {"threshold": -1e30, "value": 7.0},
                     {"threshold": 0.1, "value": -0.3}),
)
def threshold(x, threshold=0.0, value=0.0, *, out=None):
    r"""Keep inputs above a threshold, replace the rest by a constant.

    .. math:: y = \begin{cases} x & x > \text{threshold} \\ \text{value} & x \le \text{threshold} \end{cases}

    Parameters
    ----------
    x : array_like
        Input.
    threshold, value : float
        PyTorch requires both; here they default to 0 and 0, which makes ``threshold`` equal
        :func:`relu`, and the registry's properties are those of these defaults. With
        ``value != threshold`` the function jumps at the threshold and is no longer continuous.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        ``x`` above ``threshold``, ``value`` elsewhere.
        Of the dtype of ``x`` (``out`` if given; a NumPy scalar for 0-d input).

    Notes
    -----
    The derivative is 1 for :math:`x > \text{threshold}` and 0 for :math:`x \le \text{threshold}`, as
    PyTorch. Unless ``value == threshold`` the function jumps there (it is discontinuous).

    Examples
    --------
    >>> threshold(np.array([0.5, 1.0, 2.0]), 1.0, -5.0)
    array([-5., -5.,  2.])
    >>> threshold.derivative(np.array([0.5, 1.0, 2.0]), 1.0, -5.0)
    array([0., 0., 1.])
    """
    t, v = _nearest(x.dtype, threshold), _nearest(x.dtype, value)
    if t == v and threshold == value and not np.signbit(v):
        # max(x, t) without np.where's per-element branch: np.clip returns x where x == t, which is t
        # itself unless t is 0, where adding +0 turns x = -0.0 into value = +0.0 (and changes nothing else)
        result = np.clip(x, t, x.dtype.type(np.inf), out=out)
        return np.add(result, x.dtype.type(0), out=result) if t == 0 else result
    result = np.where(x <= _at_most(x.dtype, threshold), v, x)  # NaN is kept, as in PyTorch
    if out is None:
        return result
    np.copyto(out, result)
    return out


@threshold.defderivative
def _threshold_derivative(x, threshold=0.0, value=0.0):
    return (x > _at_most(x.dtype, threshold)).astype(x.dtype)


@threshold.defsymbolic
def _threshold_symbolic(threshold=0.0, value=0.0):
    sp = _sp()
    x = _x()
    return sp.Piecewise((x, x > _exact(threshold)), (_exact(value), True))


# How these functions are evaluated fast (actlib.evaluation): the same bits as one plain call.
evaluate_with(relu, single_pass=True)
# a random draw per element: one draw for the whole array
evaluate_with(rrelu, chunked=lambda params: not params["training"])
evaluate_with(relu6, single_pass=True)
evaluate_with(hardtanh, single_pass=True)
