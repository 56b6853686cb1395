r"""Gated linear units: the input split in two halves along an axis, one half times a gate of the other.

.. math:: \operatorname{glu}(x) = a \odot g(b), \qquad x = [a, b]

``glu`` gates with the sigmoid (Dauphin et al., 2017), ``reglu`` with ReLU, ``geglu`` with GELU and
``swiglu`` with SiLU (Shazeer, 2020). In a transformer's feed-forward layer the two halves are two
linear projections of the same input, :math:`xW` and :math:`xV`, computed as one projection of twice
the width and split here.

**Which half is gated.** All four follow ``torch.nn.GLU`` and ``keras.activations.glu``: the *first*
half :math:`a` passes through linearly and the *second* half :math:`b` goes through the gate. PyTorch
defines the order only for ``glu`` (``a = input.narrow(dim, 0, n)``, ``b = input.narrow(dim, n, n)``,
``a * sigmoid(b)`` in ``aten/src/ATen/native/GatedLinearUnit.cpp``); the variants keep it so the
family differs only in its gate. Fused kernels elsewhere put the gate first (vLLM's ``SiluAndMul``
computes ``silu(x[..., :d]) * x[..., d:]``): swap the halves of such weights before using them here.

These functions are not elementwise: the output has half the input's length along ``axis``. Instead of
``derivative`` each has ``vjp(x, grad, axis=-1)``, the gradient of ``sum(grad * f(x))`` with respect
to the whole input (both halves, in the input's layout), and ``jacobian(x)`` for a 1-D input of length
:math:`2n`, an :math:`n \times 2n` matrix.

Every product is formed so that a tiny gate does not lose the bits of a large linear half: where the
gate underflows, :math:`a\,e^{b}` is formed as :math:`(a\,e^{b/2})\,e^{b/2}`, and GELU's tail as
:math:`a` times the double-double factor of :mod:`actlib._stable` before the Gaussian is applied.
"""

from __future__ import annotations

import numpy as np

from . import _stable
from ._core import (
    BookPlace,
    FrameworkName,
    InvalidCase,
    Properties,
    PytorchRecord,
    SpecialValues,
    activation,
    as_float_array,
    one_of,
)
from .evaluation import evaluate_with
from .gated import _KAPPA_HI as _KAPPA
from .gated import _SQRT_2_OVER_PI_HI as _SQRT_2_OVER_PI
from .gated import (
    _gelu_exact,
    _gelu_narrow,
    _gelu_sigmoid,
    _gelu_tanh,
    _quick_argument,
    _saturating,
    _silu_derivative_carried,
    _tanh_argument,
    _x_sigmoid,
    gelu,
)

#: |a| above this is scaled by 2**-64 while the product is formed, so that a * b cannot overflow when
#: a * gate(b) does not
_BIG = 2.0**960
_SCALE = 2.0**64
_FINITE_MAX = float(np.finfo(np.float64).max)


# --- splitting and checking ------------------------------------------------------------------------


def _validate_axis(name):
    def validate(params):
        axis = params["axis"]
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"{name}: axis must be an integer, got {axis!r}")

    return validate


def _halved_shape(name: str, shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """The output shape: ``shape`` with the length along ``axis`` halved; errors name the function."""
    ndim = len(shape)
    if ndim == 0:
        raise ValueError(f"{name}: input must have at least one axis to split into halves, got a 0-d array")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for an input with {ndim} dimension(s)")
    length = shape[axis]
    if length % 2:
        raise ValueError(f"{name}: the input's length along axis {axis} is {length}, which is odd; "
                         "it must split into two halves of equal length")
    result = list(shape)
    result[axis] = length // 2
    return tuple(result)


def _result_shape(name):
    return lambda shape, params: _halved_shape(name, shape, params["axis"])


def _halves(name, x, axis):
    _halved_shape(name, x.shape, axis)
    a, b = np.split(x, 2, axis=axis)
    return a, b


# --- the products a * g(b) and a * g'(b) on float64 -----------------------------------------------


def _guarded(core, right_limit):
    """``core(a, b)`` for ``|a| <= 2**960`` and ``|b| <= SATURATED``, extended to every input.

    A large ``a`` is scaled by 2**-64 and the result back (exact unless that result is below 2**-958);
    beyond ``b = SATURATED`` the gate is saturated and ``right_limit(a, b)`` is the value; an infinite
    ``a`` gives ``a`` times the gate (NaN where the gate is 0: inf * 0 has no value).
    """

    def run(a, b, gate):
        big = np.abs(a) > _BIG
        scaled = _stable.select(big, a * (1 / _SCALE), np.clip(a, -_FINITE_MAX, _FINITE_MAX))
        limit = _stable.SATURATED
        with np.errstate(over="ignore", invalid="ignore"):
            y = core(scaled, np.clip(b, -limit, limit))
            y = _stable.select(big, y * _SCALE, y)
            y = _stable.select(b > limit, right_limit(a, b), y)
            infinite = np.isinf(a)
            if np.any(infinite):
                y = _stable.select(infinite, a * gate(b), y)
        return y

    return run


def _a_sigmoid(a, b):
    """``a sigma(b)``: the sigmoid product of silu's kernel, with ``a`` as the multiplier."""
    return _x_sigmoid(a, b, None)


def _a_sigmoid_derivative(a, b):
    """``a sigma'(b) = a e / (1 + e)**2``, ``e = exp(-|b|)``; ``(a e^(-|b|/2)) e^(-|b|/2)`` where e is subnormal."""
    y = a * _stable.sigmoid_derivative(b)
    tail = np.abs(b) > -_stable.SUBNORMAL_EXP
    if np.any(tail):
        y[tail] = _stable.scaled_exp(a[tail], -np.abs(b[tail]))
    return y


def _product_with_error(a, b):
    """``a * b`` as a value and the relative size of its rounding error (0 where the product is 0)."""
    m, m_error = _stable.two_prod(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = _stable.select(m != 0, m_error / m, 0.0)
    return m, relative


def _a_times_x_sigmoid(a, b, z, z_error):
    """``a b sigma(z + z_error)``: the product ``a b`` carried with its rounding error."""
    m, relative = _product_with_error(a, b)
    y = _x_sigmoid(m, z, z_error)
    return y + y * relative


def _a_silu_derivative(a, z, z_error):
    """``a silu'(z + z_error)``, with the left tail ``a (1 + z) e^z`` formed without a subnormal factor."""
    y = a * _silu_derivative_carried(z, 0.0 if z_error is None else z_error)
    tail = z < _stable.SUBNORMAL_EXP
    if np.any(tail):
        correction = 1.0 if z_error is None else 1.0 + z_error[tail]
        y[tail] = _stable.scaled_exp(a[tail] * (1.0 + z[tail]) * correction, z[tail])
    return y


def _a_gelu(a, b):
    """``a gelu(b)`` with one rounding at the end, from GELU's double-double pieces.

    With ``u = |b|``: ``a gelu(b) = a max(b, 0) - a u Q(u)``, and ``a u Q(u)`` is ``exp(-u^2/2)`` times ``a``
    times the factor ``u R(u)/sqrt(2 pi)``, the product taken before the Gaussian so that it keeps its bits
    where ``gelu(b)`` alone would be subnormal.
    """
    u = np.abs(b)
    factor_hi, factor_lo = _stable.scaled_tail(u, "gelu")
    p, p_error = _stable.two_prod(a, factor_hi)
    tail_hi, tail_lo = _stable.gaussian_times(u, p, p_error + a * factor_lo)
    m, m_error = _stable.two_prod(a, _stable.select(b > 0, b, 0.0))
    s, s_error = _stable.two_sum(m, -tail_hi)
    return s + ((s_error + m_error) - tail_lo)


def _a_gelu_derivative(a, b):
    """``a gelu'(b)``: ``a T(u)`` for ``b <= 0`` and ``a - a T(u)`` for ``b > 0``, where
    ``T(u) = gelu'(-u) = exp(-u^2/2) (R(u) - u)/sqrt(2 pi)`` with ``a`` applied before the Gaussian."""
    u = np.abs(b)
    factor_hi, factor_lo = _stable.scaled_tail(u, "gelu_derivative")
    p, p_error = _stable.two_prod(a, factor_hi)
    t_hi, t_lo = _stable.gaussian_times(u, p, p_error + a * factor_lo)
    positive = b > 0
    sign = _stable.select(positive, -1.0, 1.0)
    s, s_error = _stable.two_sum(_stable.select(positive, a, 0.0), sign * t_hi)
    return s + (s_error + sign * t_lo)


def _a_gelu_tanh_derivative(a, b):
    """``a d/db [b sigma(z)]``, ``z = 2 sqrt(2/pi) (b + 0.044715 b^3)``, as gelu's tanh derivative with a
    multiplier: ``a sigma(z) (1 + b z' sigma(-z))``, and ``a (1 + b z') e^z`` formed in halves in the tail."""
    z, z_error = _tanh_argument(b)
    clipped = np.clip(b, -1.0e4, 1.0e4)
    dz = 2.0 * _SQRT_2_OVER_PI * (1.0 + 3.0 * _KAPPA * clipped * clipped)
    gate = _stable.sigmoid(z)
    gate_neg = _stable.sigmoid(-z)
    gate = gate * (1.0 + gate_neg * z_error)
    y = a * (gate * (1.0 + b * dz * gate_neg))
    tail = z < _stable.SUBNORMAL_EXP
    if np.any(tail):
        y[tail] = _stable.scaled_exp(a[tail] * (1.0 + b[tail] * dz[tail]) * (1.0 + z_error[tail]), z[tail])
    return _patch_root(y, a, b, "tanh")


def _patch_root(y, a, b, approximate):
    """Near the zero of the gate's derivative, ``a`` times gelu's own Taylor-patched derivative."""
    from .gated import _gelu_derivative

    near = np.abs(b + 0.7525) < 0.3
    if np.any(near):
        y[near] = a[near] * _gelu_derivative(b[near], approximate=approximate)
    return y


def _a_gelu_sigmoid(a, b):
    z, z_error = _quick_argument(b)
    return _a_times_x_sigmoid(a, b, z, z_error)


def _a_gelu_sigmoid_derivative(a, b):
    z, z_error = _quick_argument(b)
    return _a_silu_derivative(a, z, z_error)


def _a_gelu_tanh(a, b):
    z, z_error = _tanh_argument(b)
    return _a_times_x_sigmoid(a, b, z, z_error)


def _a_silu(a, b):
    return _a_times_x_sigmoid(a, b, b, None)


def _a_relu(a, b):
    return a * np.clip(b, 0.0, np.inf)


def _a_relu_derivative(a, b):
    return a * (b > 0)


def _times_b(a, b):
    return a * b


def _just_a(a, b):
    return a * np.ones_like(b)


def _zero(a, b):
    return np.zeros(np.broadcast_shapes(a.shape, b.shape))


def _gelu_gate(approximate):
    forms = {"none": _gelu_exact, "tanh": _gelu_tanh, "sigmoid": _gelu_sigmoid}
    return _saturating(forms[approximate])


def _sigmoid_gate(b):
    return _stable.sigmoid(b)


def _relu_gate(b):
    return np.clip(b, 0.0, np.inf)


def _silu_gate(b):
    return _saturating(lambda v: _x_sigmoid(v, v, None))(b)


#: name -> (value core, derivative-in-b core, gate, value beyond SATURATED, b-derivative beyond it), with an
#: ``approximate`` key for geglu
_PARTS = {
    "glu": (_a_sigmoid, _a_sigmoid_derivative, _sigmoid_gate, lambda a, b: a * 1.0, _zero),
    "reglu": (_a_relu, _a_relu_derivative, _relu_gate, _times_b, _just_a),
    "swiglu": (_a_silu, lambda a, b: _a_silu_derivative(a, b, None), _silu_gate, _times_b, _just_a),
    ("geglu", "none"): (_a_gelu, _a_gelu_derivative, _gelu_gate("none"), _times_b, _just_a),
    ("geglu", "tanh"): (_a_gelu_tanh, _a_gelu_tanh_derivative, _gelu_gate("tanh"), _times_b, _just_a),
    ("geglu", "sigmoid"): (_a_gelu_sigmoid, _a_gelu_sigmoid_derivative, _gelu_gate("sigmoid"), _times_b, _just_a),
}


def _parts(name, params):
    return _PARTS[(name, params["approximate"])] if name == "geglu" else _PARTS[name]


def _value(name, a, b, params):
    if name == "reglu":  # one product of doubles, correctly rounded as it is: nothing to guard
        with np.errstate(over="ignore", invalid="ignore"):  # an exact product beyond the largest float is inf
            return _a_relu(a, b)
    core, _, gate, right, _ = _parts(name, params)
    return _guarded(core, right)(a, b, gate)


def _partials(name, a, b, params):
    """``(df/da, df/db)`` elementwise over the halves: the gate, and ``a`` times the gate's derivative."""
    _, core, gate, _, right = _parts(name, params)
    with np.errstate(invalid="ignore"):  # a NaN half stays NaN
        return gate(b), _guarded(core, right)(a, b, lambda v: np.full_like(v, np.nan))


# --- the public functions, vjp and jacobian --------------------------------------------------------


def _kernel_for(name):
    def kernel(x, params):
        a, b = _halves(name, x, params["axis"])
        return _value(name, a, b, params)

    return kernel


def _prepare(name, fn, x, params):
    array, bound = fn._bind(x, (), params)
    return array, bound


def _vjp_for(name, fn):
    def vjp(x, grad, axis=-1, **params):
        array, bound = _prepare(name, fn, x, {"axis": axis, **params})
        halved = _halved_shape(name, array.shape, axis)
        g = as_float_array(name, grad)
        if g.shape != halved:
            raise ValueError(f"{name}.vjp: grad has shape {g.shape}, but {name}(x) has shape {halved}")
        a, b = np.split(array.astype(np.float64), 2, axis=axis)
        da, db = _partials(name, a, b, bound)
        if name == "geglu" and array.dtype in (np.float16, np.float32):
            # gelu's float32 kernel, so that d/da is the registered gelu(b) of this dtype bit for bit
            da = gelu(np.split(array, 2, axis=axis)[1], approximate=bound["approximate"]).astype(np.float64)
        g64 = g.astype(np.float64)
        result = np.concatenate([g64 * da, g64 * db], axis=axis)
        return result.astype(np.result_type(array.dtype, g.dtype))  # as softmax.vjp; ml_dtypes promotes

    vjp.__name__ = vjp.__qualname__ = f"{name}.vjp"
    vjp.__doc__ = (f"Gradient of ``sum(grad * {name}(x, axis=axis))`` with respect to ``x``: ``grad * gate(b)`` "
                   "in the first half's place, ``grad * a * gate'(b)`` in the second's (shape of ``x``).")
    return vjp


def _jacobian_for(name, fn):
    def jacobian(x, **params):
        array, bound = _prepare(name, fn, x, {"axis": -1, **params})
        if array.ndim != 1:
            raise ValueError(f"{name}.jacobian: x must be 1-D, got shape {array.shape}")
        n = _halved_shape(name, array.shape, -1)[0]
        a, b = np.split(array.astype(np.float64), 2)
        da, db = _partials(name, a, b, bound)
        result = np.zeros((n, 2 * n))
        result[np.arange(n), np.arange(n)] = da
        result[np.arange(n), n + np.arange(n)] = db
        return result.astype(array.dtype)

    jacobian.__name__ = jacobian.__qualname__ = f"{name}.jacobian"
    jacobian.__doc__ = (f"The ``n x 2n`` Jacobian of {name} for a 1-D ``x`` of length ``2n``: entry (i, j) is "
                        "d out_i / d x_j, nonzero only at j = i (the gate) and j = n + i (``a`` times its slope).")
    return jacobian


def _on_diagonal(xs):
    """The accuracy measurement's inputs: ``[x, x]`` per row, so that ``f`` is ``x * gate(x)``."""
    return np.stack([xs, xs], axis=-1)


def _finish_registration(fn, name):
    fn.vjp = _vjp_for(name, fn)
    fn.jacobian = _jacobian_for(name, fn)
    fn.accuracy_input = _on_diagonal
    return fn


def _sp():
    import sympy

    return sympy


def _pair_symbols():
    sp = _sp()
    return sp.Symbol("a", real=True), sp.Symbol("b", real=True)


def _gate_expression(name, b, approximate="none"):
    sp = _sp()
    if name == "glu":
        return 1 / (1 + sp.exp(-b))
    if name == "reglu":
        return sp.Piecewise((b, b > 0), (0, True))
    if name == "swiglu":
        return b / (1 + sp.exp(-b))
    from .gated import gelu

    gate = gelu.symbolic(approximate=approximate)
    x = sp.Symbol("x", real=True)
    # gelu's erfc(-x/sqrt2) is kept unevaluated; a substitution would rebuild it as 2 - erfc(x/sqrt2)
    return gate if b == x else gate.xreplace({x: b})


def _symbolic_pair(name):
    def pair(approximate="none"):
        a, b = _pair_symbols()
        return a * _gate_expression(name, b, approximate)

    pair.__name__ = f"{name}.symbolic_pair"
    pair.__doc__ = f"{name} of the halves ``a`` and ``b`` as a SymPy expression in the symbols ``a`` and ``b``."
    return pair


def _symbolic_diagonal(name):
    def diagonal(**params):
        x = _sp().Symbol("x", real=True)
        return x * _gate_expression(name, x, **params)

    return diagonal


_GLU_PROPERTIES = dict(
    monotonic=False, zero_centred=False, bounded_below=False, bounded_above=False, self_gated=False,
    family="glu", elementwise=False, tensorflow=FrameworkName(None),
)


@activation(
    Properties(
        range="(-inf, inf)", smoothness="inf", paper="dauphin2017",
        pytorch=FrameworkName("torch.nn.GLU", "dim=-1"), keras=FrameworkName("keras.activations.glu", "axis=-1"),
        jax=FrameworkName("jax.nn.glu", "axis=-1"), **_GLU_PROPERTIES,
    ),
    book=BookPlace("transformer", 30),
    stable_form=(
        r"$a\,\sigma(b)$ with silu's sigmoid product, $a$ the multiplier; $(a e^{b/2})\,e^{b/2}$ where $e^b$ "
        r"is subnormal; $\vert a\vert > 2^{960}$ scaled by $2^{-64}$ while the product is formed"
    ),
    invalid=(
        InvalidCase({"axis": 2}, r"axis 2 is out of range"),
    ),
    expected=SpecialValues(rows=(
        ((1.0, 0.0), (0.5,)),
        ((np.inf, 0.0), (np.inf,)),
        ((1.0, -np.inf), (0.0,)),
        ((1.0, np.inf), (1.0,)),
        ((np.inf, -np.inf), (np.nan,)),
        ((np.nan, 0.0), (np.nan,)),
        ((-0.0, 0.0), (-0.0,)),
    )),
    pytorch_recorded=PytorchRecord(
        lambda torch, t: torch.nn.functional.glu(t, dim=-1),
        rows=(
            ((1.0, 0.0), (0.5,)),
            ((np.inf, 0.0), (np.inf,)),
            ((1.0, -np.inf), (0.0,)),
            ((1.0, np.inf), (1.0,)),
            ((np.inf, -np.inf), (np.nan,)),
            ((np.nan, 0.0), (np.nan,)),
            ((-0.0, 0.0), (-0.0,)),
        ),
    ),
    validate=_validate_axis("glu"),
    compute_dtype=np.float64,
    result_shape=_result_shape("glu"),
)
def glu(x, *, axis=-1):
    r"""Gated linear unit: the first half times the sigmoid of the second.

    .. math:: \operatorname{glu}([a, b]) = a \odot \sigma(b)

    Parameters
    ----------
    x : array_like
        Input of even length along ``axis``; its first half is :math:`a` (passed linearly), its second
        half :math:`b` (gated), as ``torch.nn.GLU``.
    axis : int, default -1
        The axis to split (PyTorch's ``dim``).
    out : ndarray, optional
        Where to write the result (the shape of ``x`` with ``axis`` halved).

    Returns
    -------
    ndarray
        Half the length of ``x`` along ``axis``, in the dtype of ``x`` (float16 and float32 computed in
        float64 and rounded once).

    Notes
    -----
    The partial derivatives are :math:`\sigma(b)` for :math:`a` and :math:`a\,\sigma(b)\,\sigma(-b)` for
    :math:`b` (``glu.vjp``, ``glu.jacobian``). The function is smooth: no kink.

    References
    ----------
    Dauphin, Fan, Auli & Grangier, "Language modeling with gated convolutional networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> glu(np.array([1.0, 2.0, 0.0, 1000.0]))
    array([0.5, 2. ])
    >>> glu.vjp(np.array([1.0, 2.0, 0.0, 1000.0]), np.array([1.0, 1.0]))
    array([0.5 , 1.  , 0.25, 0.  ])
    """
    return _kernel_for("glu")(x, {"axis": axis})


@activation(
    Properties(
        range="(-inf, inf)", smoothness="0", paper="shazeer2020", pytorch=FrameworkName(None),
        keras=FrameworkName(None), jax=FrameworkName(None), **_GLU_PROPERTIES,
    ),
    book=BookPlace("transformer", 40),
    stable_form=r"one comparison and one product, rounded once",
    invalid=(
        InvalidCase({"axis": 1.0}, r"axis must be an integer", TypeError),
    ),
    expected=SpecialValues(rows=(
        ((3.0, 2.0), (6.0,)),
        ((1.0, -1.0), (0.0,)),
        ((-1.0, -1.0), (-0.0,)),
        ((2.0, np.inf), (np.inf,)),
        ((np.inf, 0.0), (np.nan,)),
        ((np.nan, 1.0), (np.nan,)),
    )),
    validate=_validate_axis("reglu"),
    compute_dtype=np.float64,
    result_shape=_result_shape("reglu"),
)
def reglu(x, *, axis=-1):
    r"""ReGLU: the first half times the ReLU of the second.

    .. math:: \operatorname{reglu}([a, b]) = a \odot \max(0, b)

    Parameters
    ----------
    x : array_like
        Input of even length along ``axis``: first half :math:`a` (linear), second half :math:`b` (gated).
    axis : int, default -1
        The axis to split.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        Half the length of ``x`` along ``axis``, in the dtype of ``x`` (float16 and float32 computed in
        float64 and rounded once).

    Notes
    -----
    Each output is one product of two inputs, rounded once, so it is correctly rounded in every dtype.
    The partial derivatives are :math:`\max(0, b)` and :math:`a\,[b > 0]`: at :math:`b = 0` the gate's
    derivative is taken as 0, ReLU's convention (``relu.derivative(0) = 0``).

    References
    ----------
    Shazeer, "GLU variants improve transformer", arXiv:2002.05202, 2020.

    Examples
    --------
    >>> reglu(np.array([[3.0, -2.0, 2.0, -1.0]]))
    array([[ 6., -0.]])
    >>> reglu.jacobian(np.array([3.0, 2.0]))
    array([[2., 3.]])
    """
    return _kernel_for("reglu")(x, {"axis": axis})


@activation(
    Properties(
        range="(-inf, inf)", smoothness="inf", paper="shazeer2020", pytorch=FrameworkName(None),
        keras=FrameworkName(None), jax=FrameworkName(None), **_GLU_PROPERTIES,
    ),
    book=BookPlace("transformer", 50),
    stable_form=(
        r"GELU's double-double pieces with $a$ applied before the Gaussian factor, one rounding at the end; "
        r"the tanh and sigmoid forms as $ab\,\sigma(z)$ with $ab$ carried with its rounding error"
    ),
    invalid=(
        InvalidCase({"axis": -2}, r"axis -2 is out of range"),
        InvalidCase({"approximate": "quick"}, r"approximate must be 'none' or 'tanh' or 'sigmoid'"),
    ),
    expected=SpecialValues(rows=(
        ((2.0, 1.0), (1.6826894921370859,)),
        ((1.0, -np.inf), (0.0,)),
        ((1.0, np.inf), (np.inf,)),
        ((np.nan, 1.0), (np.nan,)),
    )),
    validate=_validate_axis("geglu"),
    checks={"approximate": one_of("none", "tanh", "sigmoid")},
    compute_dtype=np.float64,
    result_shape=_result_shape("geglu"),
    parameter_cases=({"approximate": "tanh"}, {"approximate": "sigmoid"}),
)
def geglu(x, *, axis=-1, approximate="none"):
    r"""GEGLU: the first half times the GELU of the second.

    .. math:: \operatorname{geglu}([a, b]) = a \odot \operatorname{gelu}(b)

    Parameters
    ----------
    x : array_like
        Input of even length along ``axis``: first half :math:`a` (linear), second half :math:`b` (gated).
    axis : int, default -1
        The axis to split.
    approximate : {'none', 'tanh', 'sigmoid'}, default 'none'
        Which GELU gates, as :func:`actlib.gelu`: the exact one (Shazeer's definition) by default.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        Half the length of ``x`` along ``axis``, in the dtype of ``x`` (float16 and float32 computed in
        float64 and rounded once).

    Notes
    -----
    The partial derivatives are :math:`\operatorname{gelu}(b)` and :math:`a\,\operatorname{gelu}'(b)`.
    The exact form is assembled from GELU's double-double pieces with :math:`a` applied before the final
    rounding, so it is not the product of two rounded numbers. The function is smooth: no kink.

    References
    ----------
    Shazeer, "GLU variants improve transformer", arXiv:2002.05202, 2020.

    Examples
    --------
    >>> geglu(np.array([2.0, 1.0]))
    array([1.68268949])
    >>> geglu(np.array([2.0, 1.0]), approximate="tanh")
    array([1.68238398])
    """
    return _kernel_for("geglu")(x, {"axis": axis, "approximate": approximate})


@activation(
    Properties(
        range="(-inf, inf)", smoothness="inf", paper="shazeer2020", pytorch=FrameworkName(None),
        keras=FrameworkName(None), jax=FrameworkName(None), **_GLU_PROPERTIES,
    ),
    book=BookPlace("transformer", 60),
    stable_form=(
        r"$ab\,\sigma(b)$ with the product $ab$ carried with its rounding error into silu's kernel; "
        r"$(ab\,e^{b/2})\,e^{b/2}$ in the left tail"
    ),
    invalid=(
        InvalidCase({"axis": "last"}, r"axis must be an integer", TypeError),
    ),
    expected=SpecialValues(rows=(
        ((2.0, 1.0), (1.4621171572600098,)),
        ((1.0, -np.inf), (0.0,)),
        ((1.0, np.inf), (np.inf,)),
        ((np.nan, 1.0), (np.nan,)),
    )),
    validate=_validate_axis("swiglu"),
    compute_dtype=np.float64,
    result_shape=_result_shape("swiglu"),
)
def swiglu(x, *, axis=-1):
    r"""SwiGLU: the first half times the SiLU (Swish with :math:`\beta = 1`) of the second.

    .. math:: \operatorname{swiglu}([a, b]) = a \odot \operatorname{silu}(b) = a \odot \frac{b}{1 + e^{-b}}

    Parameters
    ----------
    x : array_like
        Input of even length along ``axis``: first half :math:`a` (linear), second half :math:`b` (gated).
    axis : int, default -1
        The axis to split.
    out : ndarray, optional
        Where to write the result.

    Returns
    -------
    ndarray
        Half the length of ``x`` along ``axis``, in the dtype of ``x`` (float16 and float32 computed in
        float64 and rounded once).

    Notes
    -----
    The partial derivatives are :math:`\operatorname{silu}(b)` and :math:`a\,\operatorname{silu}'(b)`. The
    product :math:`a b` is carried with its rounding error into silu's kernel, and in the left tail
    :math:`a b e^{b}` is formed in halves, so that a subnormal gate does not lose :math:`a`'s bits.
    Shazeer's Swish has a :math:`\beta`; LLaMA and PaLM use :math:`\beta = 1`, as here.

    References
    ----------
    Shazeer, "GLU variants improve transformer", arXiv:2002.05202, 2020.

    Examples
    --------
    >>> swiglu(np.array([2.0, 1.0]))
    array([1.46211716])
    """
    return _kernel_for("swiglu")(x, {"axis": axis})


#: beyond every float32 and float16 value: b = -inf clipped to it gives silu's limit 0, not -inf * 0
_FAR = 1e300


def _narrow_kernel_for(name, product):
    """A kernel for float16 and float32 inputs (see ``defnarrow``): ``product(a, b)`` in float64.

    A float32 ``a * b`` is exact in float64, and the few roundings of these formulas are far below half an
    ULP of float32, so the result rounded once is as good as the compensated float64 kernel's.
    """

    def kernel(x, *, axis=-1):
        a, b = _halves(name, x, axis)
        with np.errstate(over="ignore", invalid="ignore"):  # exp(-b) = inf is handled; inf * 0 gives NaN
            return product(a, b)

    return kernel


def _sigmoid_narrow(b):
    """``1 / (1 + exp(-b))``, and ``exp(b)`` below -700, where ``exp(-b)`` overflows but the gate is not 0
    (an infinite ``a`` times it is infinite, as in the float64 kernel)."""
    gate = np.exp(-b)
    gate += 1.0
    np.divide(1.0, gate, out=gate)
    tail = b < _stable.SUBNORMAL_EXP
    if np.any(tail):
        gate[tail] = np.exp(b[tail])
    return gate


def _glu_narrow(a, b):
    gate = _sigmoid_narrow(b)
    return np.multiply(a, gate, out=gate)


def _swiglu_narrow(a, b):
    """``a silu(b)``, ``silu(b) = b / (1 + exp(-b))``; below -700 ``(b exp(b/2)) exp(b/2)``, as the float64 kernel."""
    b = np.clip(b, -_FAR, np.inf)
    gate = np.exp(-b)
    gate += 1.0
    np.divide(b, gate, out=gate)
    tail = b < _stable.SUBNORMAL_EXP
    if np.any(tail):
        gate[tail] = _stable.scaled_exp(b[tail], b[tail])
    np.multiply(a, gate, out=gate)
    return np.add(gate, 0.0, out=gate)  # a zero is +0, as the float64 kernel's wherever a * b is not 0


def _geglu_narrow(x, *, axis=-1, approximate="none"):
    """``a gelu(b)`` with gelu's own float32 kernel (its tail polynomial) for the exact form; the approximate
    forms, whose gates are cheap already, take the float64 kernel."""
    if approximate != "none":
        return geglu.__wrapped__(x, axis=axis, approximate=approximate)
    a, b = _halves("geglu", x, axis)
    y = _gelu_narrow(b)
    infinite = b == np.inf  # gelu(inf) = inf, not the large finite value of the clipped kernel: 0 * inf is NaN
    if np.any(infinite):
        y[infinite] = np.inf
    with np.errstate(over="ignore", invalid="ignore"):
        np.multiply(a, y, out=y)
    return np.add(y, 0.0, out=y)  # a zero is +0, as the float64 kernel's


for _name, _fn in (("glu", glu), ("reglu", reglu), ("geglu", geglu), ("swiglu", swiglu)):
    # blocks of whole slices along the split axis (actlib.evaluation): temporaries of one block's size
    evaluate_with(_fn, slices_along="axis")
    _finish_registration(_fn, _name)
    _fn.defsymbolic(_symbolic_diagonal(_name))
    _fn.symbolic_pair = _symbolic_pair(_name)
    _fn.symbolic.__doc__ = (f"``{_name}([x, x])`` as a SymPy expression in ``x``: the line the accuracy tests "
                            f"measure along; ``{_name}.symbolic_pair()`` is the function of both halves.")
del _name, _fn
glu.defnarrow(_narrow_kernel_for("glu", _glu_narrow))
swiglu.defnarrow(_narrow_kernel_for("swiglu", _swiglu_narrow))
geglu.defnarrow(_geglu_narrow)
