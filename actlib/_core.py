"""The shared mechanics of every activation: the registry, dtype rules, ``out=`` and error messages.

A family module defines an activation as a plain function of an already-validated floating array and
decorates it with :func:`activation`. The decorator returns the public function: it converts the input,
checks the parameters and ``out=``, calls the kernel, and casts the result back to the input's dtype.
``@f.defderivative`` and ``@f.defsymbolic`` attach the derivative and the SymPy expression to the same
function, so each activation lives in one place.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: name -> public function, in the order the book presents them.
ACTIVATIONS: dict[str, Callable[..., Any]] = {}

_FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))

#: The formats of ``ml_dtypes`` (the JAX team's NumPy dtypes) that every activation accepts. They are computed
#: in float64 and cast back once: ml_dtypes converts float64 to each of them directly, with one rounding to
#: nearest even (no detour through float32, which would round twice), so every value is the correctly rounded
#: result of the float64 one. ``actlib.low_precision`` measures that claim. ml_dtypes itself is not imported:
#: an array of these dtypes can only come from a caller who has it.
LOW_PRECISION = ("bfloat16", "float8_e4m3fn", "float8_e5m2")


@functools.cache  # every activation call asks; a dtype's name is computed anew each time it is read
def is_low_precision(dtype: np.dtype) -> bool:
    """Whether ``dtype`` is one of the ml_dtypes formats in ``LOW_PRECISION``."""
    return dtype.name in LOW_PRECISION and dtype.type.__module__.split(".")[0] == "ml_dtypes"


@dataclass(frozen=True)
class FrameworkName:
    """How a framework spells an activation and its default parameters (``None``: not offered)."""

    name: str | None
    defaults: str = ""


@dataclass(frozen=True)
class Properties:
    """What the book tabulates about an activation; every entry is checked numerically by the tests.

    ``range`` is the image of the real line as a string in interval notation (with the default
    parameters); ``smoothness`` is the largest k with f in C^k (``"inf"`` for analytic functions);
    ``kinks`` are the points where the derivative jumps; ``switch_points`` are points where the
    implementation changes formula (checked with their neighbouring floats by the accuracy tests).
    """

    range: str
    monotonic: bool
    smoothness: str
    zero_centred: bool
    bounded_below: bool
    bounded_above: bool
    self_gated: bool
    kinks: tuple[float, ...] = ()
    switch_points: tuple[float, ...] = ()
    paper: str | None = None
    family: str = ""
    pytorch: FrameworkName = FrameworkName(None)
    keras: FrameworkName = FrameworkName(None)
    jax: FrameworkName = FrameworkName(None)
    tensorflow: FrameworkName = FrameworkName(None)
    elementwise: bool = True


#: The stable form of the piecewise-linear functions, which need no rewriting.
PIECEWISE_LINEAR = "comparisons and at most one multiplication, so nothing can overflow or cancel"

#: The chapters that present the activations (``book/<chapter>.md``), in the order of the book.
CHAPTERS = ("relu", "classic", "variants", "transformer")


@dataclass(frozen=True)
class BookPlace:
    """Where the book presents an activation: a chapter of :data:`CHAPTERS` and a rank within it.

    :data:`ACTIVATIONS` is sorted by chapter, then rank. Ranks need not be consecutive (the registered ones
    go in tens), so a new function takes a free rank between two others without renumbering them.
    """

    chapter: str
    rank: int

    def __post_init__(self) -> None:
        if self.chapter not in CHAPTERS:
            raise ValueError(f"BookPlace: chapter must be one of {CHAPTERS}, got {self.chapter!r}")

    @property
    def key(self) -> tuple[int, int]:
        """(index of the chapter in :data:`CHAPTERS`, rank): the sort key of the registry."""
        return CHAPTERS.index(self.chapter), self.rank


@dataclass(frozen=True)
class InvalidCase:
    """Parameters an activation must refuse, and a fragment (a regular expression) of the error message."""

    params: Mapping[str, Any]
    message: str
    error: type[Exception] = ValueError


@dataclass(frozen=True)
class KinkDerivative:
    """The derivative actlib returns exactly at a kink ``x`` (its convention there), for ``params``."""

    x: float
    derivative: float
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpecialValues:
    """actlib's own results at special inputs, with the default parameters (the tests assert them).

    Elementwise functions give ``at_infinities`` (f at -inf, +inf, NaN), ``derivative_at_infinities``
    (f' at -inf and +inf, the limits, and at NaN), ``at_signed_zeros`` (f at -0.0 and +0.0; the sign of
    a zero result counts) and one :class:`KinkDerivative` per kink. A function of whole rows (softmax)
    gives ``rows``: pairs (input row, output row) along the last axis.
    """

    at_infinities: tuple[float, float, float] | None = None
    derivative_at_infinities: tuple[float, float, float] | None = None
    at_signed_zeros: tuple[float, float] | None = None
    kink_derivatives: tuple[KinkDerivative, ...] = ()
    rows: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = ()


@dataclass(frozen=True)
class PytorchRecord:
    """What the PyTorch counterpart returned, recorded with PyTorch 2.13.0 (CPU, float64): framework facts,
    kept apart from actlib's :class:`SpecialValues`.

    ``call(torch, t)`` evaluates the counterpart on a tensor with actlib's default parameters; the fields
    mirror :class:`SpecialValues` (derivatives from autograd, one element at a time; ``kink_derivatives``
    at the kinks of :class:`Properties`, in order). ``differences`` says why actlib returns something else
    wherever its expectations differ from the record. ``tests/test_pytorch_records.py`` re-runs every
    call when torch is importable.
    """

    call: Callable[[Any, Any], Any]
    at_infinities: tuple[float, float, float] | None = None
    derivative_at_infinities: tuple[float, float, float] | None = None
    at_signed_zeros: tuple[float, float] | None = None
    kink_derivatives: tuple[float, ...] = ()
    rows: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = ()
    differences: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a training loop (``actlib.nn.MLP``) must know about an activation beyond its value and
    derivative.

    ``learned`` names a parameter learned per unit (prelu's ``weight``): the network starts it at its
    default and takes its gradient from ``f.<learned>_derivative``. ``draw(shape, params, rng)`` returns the
    keyword parameters of a training pass that draws random values (rrelu's slopes), shared by the
    forward and the backward pass; ``drawn`` names the parameters it sets, which a caller may not give.
    """

    learned: str | None = None
    draw: Callable[[tuple[int, ...], dict[str, Any], Any], dict[str, Any]] | None = None
    drawn: tuple[str, ...] = ()


@dataclass
class ActivationInfo:
    """The registry entry behind ``f.info``: everything specific to one activation.

    ``name``, ``parameters`` (defaults), ``properties`` and ``compute_dtype`` define it; ``book``,
    ``stable_form``, ``expected``, ``invalid``, ``pytorch_recorded``, ``capabilities`` and
    ``parameter_cases`` are described at :func:`activation`; ``module`` is the family module that defines it.
    """

    name: str
    parameters: dict[str, Any]
    properties: Properties
    compute_dtype: np.dtype | None = None
    book: BookPlace = BookPlace("variants", 0)
    stable_form: str = ""
    expected: SpecialValues = SpecialValues()
    invalid: tuple[InvalidCase, ...] = ()
    pytorch_recorded: PytorchRecord | None = None
    capabilities: Capabilities = Capabilities()
    module: str = ""
    parameter_cases: tuple[dict[str, Any], ...] = ()


# --- parameter checks -------------------------------------------------------------------------


def _is_real_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def finite(name: str, param: str, value: Any) -> None:
    """Require a finite real number (not a bool, not NaN or inf).

    Parameters
    ----------
    name : str
        The activation, named in the error message.
    param : str
        The parameter, named in the error message.
    value : object
        The value given.

    Returns
    -------
    None
        Nothing: the check raises ``ValueError`` naming ``name`` and ``param`` if ``value`` fails it.
    """
    if not _is_real_number(value) or not math.isfinite(value):
        raise ValueError(f"{name}: {param} must be a finite real number, got {value!r}")


def positive(name: str, param: str, value: Any) -> None:
    """Require a finite real number greater than zero.

    Parameters
    ----------
    name : str
        The activation, named in the error message.
    param : str
        The parameter, named in the error message.
    value : object
        The value given.

    Returns
    -------
    None
        Nothing: the check raises ``ValueError`` naming ``name`` and ``param`` if ``value`` fails it.
    """
    if not _is_real_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: {param} must be a finite real number > 0, got {value!r}")


def nonnegative(name: str, param: str, value: Any) -> None:
    """Require a finite real number at least zero.

    Parameters
    ----------
    name : str
        The activation, named in the error message.
    param : str
        The parameter, named in the error message.
    value : object
        The value given.

    Returns
    -------
    None
        Nothing: the check raises ``ValueError`` naming ``name`` and ``param`` if ``value`` fails it.
    """
    if not _is_real_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: {param} must be a finite real number >= 0, got {value!r}")


def one_of(*choices: Any) -> Callable[[str, str, Any], None]:
    """Require one of a fixed set of strings.

    Parameters
    ----------
    *choices : str
        The values allowed.

    Returns
    -------
    callable
        A check ``check(name, param, value)`` for :func:`activation`'s ``checks``, which raises
        ``ValueError`` naming the function, the parameter and the allowed values.
    """

    def check(name: str, param: str, value: Any) -> None:
        if not isinstance(value, str) or value not in choices:
            allowed = " or ".join(repr(c) for c in choices)
            raise ValueError(f"{name}: {param} must be {allowed}, got {value!r}")

    return check


# --- arrays ------------------------------------------------------------------------------------


def as_float_array(name: str, x: Any) -> np.ndarray:
    """Convert ``x`` as every activation does: floats keep their dtype, integers and bools become float64.

    Complex, object, string and other dtypes raise ``TypeError`` naming the function. The result may be
    ``x`` itself, so callers never write into it.
    """
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name}: input cannot be converted to a real array ({error})") from None
    dtype = array.dtype
    if dtype in _FLOAT_DTYPES or is_low_precision(dtype):
        return array
    if dtype.kind in "biu":
        return array.astype(np.float64)
    if dtype.kind == "c":
        raise TypeError(f"{name}: complex input is not supported (got dtype {dtype}); pass real values")
    if dtype.kind == "f" or dtype.type.__module__.split(".")[0] == "ml_dtypes":
        raise TypeError(f"{name}: dtype {dtype} is not supported; use float16, float32 or float64 "
                        f"(or {', '.join(LOW_PRECISION)} from ml_dtypes)")
    raise TypeError(f"{name}: input must be real numbers, got an array of dtype {dtype} ({dtype.kind!r} kind)")


def check_out(name: str, out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Validate ``out=`` before anything is computed or written."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{name}: out has shape {out.shape}, but the result has shape {shape}")
    if out.dtype != dtype:
        raise ValueError(f"{name}: out has dtype {out.dtype}, but the result has dtype {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{name}: out is read-only")
    return out


# --- the decorator -----------------------------------------------------------------------------


def _kernel_parameters(kernel: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any], bool]:
    """(signature without ``out``, parameter defaults, whether the kernel accepts ``out=``)."""
    signature = inspect.signature(kernel)
    names = list(signature.parameters)
    if names[0] != "x":
        raise TypeError(f"{kernel.__name__}: the first parameter of a kernel must be x")
    takes_out = "out" in signature.parameters
    if takes_out:
        signature = signature.replace(parameters=[p for p in signature.parameters.values() if p.name != "out"])
    defaults = {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in list(signature.parameters.values())[1:]
    }
    return signature, defaults, takes_out


def _sort_registry() -> None:
    """Order :data:`ACTIVATIONS` by each entry's :class:`BookPlace` (registration order breaks no tie: ranks
    are unique within a chapter)."""
    entries = sorted(ACTIVATIONS.items(), key=lambda item: item[1].info.book.key)
    ACTIVATIONS.clear()
    ACTIVATIONS.update(entries)


def activation(
    properties: Properties,
    *,
    book: BookPlace,
    stable_form: str,
    expected: SpecialValues,
    invalid: tuple[InvalidCase, ...] = (),
    pytorch_recorded: PytorchRecord | None = None,
    capabilities: Capabilities = Capabilities(),
    checks: Mapping[str, Callable[[str, str, Any], None]] | None = None,
    validate: Callable[[dict[str, Any]], None] | None = None,
    compute_dtype: Any = None,
    register: bool = True,
    parameter_cases: tuple[dict[str, Any], ...] = (),
    result_shape: Callable[[tuple[int, ...], dict[str, Any]], tuple[int, ...]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn a kernel ``kernel(x, **params)`` into a public activation and register it: its whole entry.

    How a call is carried out fast (chunks, slices, narrow kernels for float16 and float32) is not part of
    the definition: see ``actlib.evaluation``, which also computes inputs of a ``LOW_PRECISION`` dtype
    in float64 and rounds the result once. A kernel with a keyword ``out`` may write its result there: it
    then gets an array of its result's shape and dtype that does not overlap the input, and returns it.

    Parameters
    ----------
    properties : Properties
        What the book tabulates about the function.
    book : BookPlace
        Where the book presents it, and so its place in :data:`ACTIVATIONS`.
    stable_form : str
        One sentence (MyST) on how it avoids overflow and cancellation, printed by the numerics chapter.
    expected : SpecialValues
        actlib's own values at infinities, NaN, signed zeros and kinks, which the tests assert.
    invalid : tuple of InvalidCase, optional
        Parameter values the function must refuse, with the message; every parameter whose default is a
        number or a string needs one.
    pytorch_recorded : PytorchRecord, optional
        What the PyTorch counterpart returned, kept apart from ``expected``; None where PyTorch has no
        such function.
    capabilities : Capabilities, optional
        What a training loop must know beyond value and derivative.
    checks : mapping, optional
        Parameter name to a check such as :func:`finite`, run on every call.
    validate : callable, optional
        Sees all bound parameters at once, for constraints between them.
    compute_dtype : numpy.dtype, optional
        The dtype the kernel receives (``np.float64`` for the transcendental functions): float16 and
        float32 inputs are computed in float64 and rounded once at the end, which keeps them within half
        an ULP of the exact value.
    register : bool, default True
        Add the function to :data:`ACTIVATIONS` (False for a private helper).
    parameter_cases : tuple of dict, optional
        Parameter values worth testing besides the defaults (typical and extreme), each a dict of keyword
        arguments; the accuracy, warning and chunking tests run over them (``f.info.parameter_cases``). Each
        must pass the parameter checks, which is verified when the function is defined.
    result_shape : callable, optional
        ``result_shape(shape, params)``: the shape of the result for an input of ``shape``, for a function
        whose result has another shape than its input (the GLU family halves an axis); ``out=`` is checked
        against it. None: the input's shape.

    Returns
    -------
    callable
        The decorator: applied to the kernel, it returns the public function, which carries
        ``f.info`` (an :class:`ActivationInfo`), ``f.defderivative``, ``f.defsymbolic``,
        ``f.defnarrow`` and ``f.defnarrow_derivative``.

    """
    checks = dict(checks or {})
    compute = None if compute_dtype is None else np.dtype(compute_dtype)

    def decorate(kernel: Callable[..., Any]) -> Callable[..., Any]:
        from . import evaluation

        name = kernel.__name__
        signature, defaults, takes_out = _kernel_parameters(kernel)
        public_signature = signature.replace(
            parameters=[
                *signature.parameters.values(),
                inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None),
            ]
        )

        # Parameters every call must name, and the keywords a call may use: a call that passes keywords only, all
        # known and none missing, binds as Signature.bind would (same names, same order) at a tenth of its cost,
        # which a training loop calling an activation thousands of times notices.
        required = frozenset(p.name for p in list(signature.parameters.values())[1:] if p.default is p.empty)
        keywords = frozenset(defaults)

        def bind(x: Any, args: tuple, kwargs: dict) -> tuple[np.ndarray, dict[str, Any]]:
            if not args and kwargs.keys() <= keywords and required <= kwargs.keys():
                params = {**defaults, **kwargs}
            else:
                try:
                    bound = signature.bind(x, *args, **kwargs)
                except TypeError as error:
                    raise TypeError(f"{name}: {error}") from None
                bound.apply_defaults()
                params = dict(bound.arguments)
                del params["x"]
            for param, check in checks.items():
                check(name, param, params[param])
            if validate is not None:
                validate(params)
            return as_float_array(name, x), params

        @functools.wraps(kernel)
        def public(x: Any, *args: Any, out: np.ndarray | None = None, **kwargs: Any) -> Any:
            array, params = bind(x, args, kwargs)
            if out is not None:
                shape = array.shape if result_shape is None else result_shape(array.shape, params)
                check_out(name, out, shape, array.dtype)
            return evaluation.evaluate(public, kernel, takes_out, array, params, out)

        public.__signature__ = public_signature  # type: ignore[attr-defined]
        public.info = ActivationInfo(  # type: ignore[attr-defined]
            name, defaults, properties, compute, book=book, stable_form=stable_form, expected=expected,
            invalid=tuple(invalid), pytorch_recorded=pytorch_recorded, capabilities=capabilities,
            module=kernel.__module__, parameter_cases=tuple(dict(case) for case in parameter_cases),
        )
        for case in parameter_cases:
            bind(0.0, (), case)  # a declared case with a bad value fails here, naming the function
        public._bind = bind  # type: ignore[attr-defined]

        def defderivative(derivative_kernel: Callable[..., Any]) -> Callable[..., Any]:
            derivative_takes_out = "out" in inspect.signature(derivative_kernel).parameters

            @functools.wraps(derivative_kernel)
            def derivative(x: Any, *args: Any, **kwargs: Any) -> Any:
                array, params = bind(x, args, kwargs)
                return evaluation.evaluate(public, derivative_kernel, derivative_takes_out, array, params, None,
                                           value=False)

            derivative.__signature__ = signature  # type: ignore[attr-defined]
            derivative.__name__ = f"{name}.derivative"
            derivative.__qualname__ = f"{name}.derivative"
            if not derivative.__doc__:
                derivative.__doc__ = f"Elementwise derivative of :func:`{name}`; see its Notes for the kinks."
            public.derivative = derivative  # type: ignore[attr-defined]
            return derivative

        def defsymbolic(symbolic: Callable[..., Any]) -> Callable[..., Any]:
            symbolic.__name__ = f"{name}.symbolic"
            public.symbolic = symbolic  # type: ignore[attr-defined]
            return symbolic

        def defnarrow(narrow_kernel: Callable[..., Any]) -> Callable[..., Any]:
            """A simpler kernel for the values of float16 and float32 inputs (computed in ``compute_dtype``).

            Rounded to float32, a float64 formula with a few roundings and no cancellation is as good as the
            compensated one the float64 output needs; fewer NumPy passes make it several times faster.
            The accuracy tests hold it to the same bounds in every dtype; :mod:`actlib.evaluation` picks it.
            """
            if compute is None:
                raise TypeError(f"{name}: a narrow kernel needs a compute_dtype wider than its inputs")
            public.narrow_kernel = narrow_kernel  # type: ignore[attr-defined]
            return narrow_kernel

        def defnarrow_derivative(narrow_kernel: Callable[..., Any]) -> Callable[..., Any]:
            """As ``defnarrow``, for the derivative of float16 and float32 inputs.

            Worth it where the float64 derivative is compensated throughout (GELU's): a training loop in
            float32 calls it at every step. It must keep its relative accuracy at the derivative's zeros.
            """
            if compute is None:
                raise TypeError(f"{name}: a narrow kernel needs a compute_dtype wider than its inputs")
            public.narrow_derivative_kernel = narrow_kernel  # type: ignore[attr-defined]
            return narrow_kernel

        public.narrow_kernel = None  # type: ignore[attr-defined]
        public.narrow_derivative_kernel = None  # type: ignore[attr-defined]
        public.evaluation = evaluation.DEFAULT  # type: ignore[attr-defined]
        public.defderivative = defderivative  # type: ignore[attr-defined]
        public.defnarrow = defnarrow  # type: ignore[attr-defined]
        public.defnarrow_derivative = defnarrow_derivative  # type: ignore[attr-defined]
        public.defsymbolic = defsymbolic  # type: ignore[attr-defined]
        if register:
            if name in ACTIVATIONS:
                raise RuntimeError(f"activation {name!r} registered twice")
            clash = [other for other, f in ACTIVATIONS.items() if f.info.book == book]
            if clash:
                raise RuntimeError(f"activation {name!r}: {book} is already taken by {clash[0]!r}")
            ACTIVATIONS[name] = public
            _sort_registry()
        return public

    return decorate


def unregister(name: str) -> None:
    """Remove an activation from :data:`ACTIVATIONS` (an example activation that a test registered).

    Parameters
    ----------
    name : str
        The registered name.

    Returns
    -------
    None
        Nothing; ``KeyError`` if ``name`` is not registered.
    """
    del ACTIVATIONS[name]
