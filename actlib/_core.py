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
from dataclasses import dataclass
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


def is_low_precision(dtype: np.dtype) -> bool:
    """Whether ``dtype`` is one of the ml_dtypes formats in :data:`LOW_PRECISION`."""
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


@dataclass
class ActivationInfo:
    """The registry entry behind ``f.info``: name, parameters with defaults, properties."""

    name: str
    parameters: dict[str, Any]
    properties: Properties
    compute_dtype: np.dtype | None = None


# --- parameter checks -------------------------------------------------------------------------


def _is_real_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def finite(name: str, param: str, value: Any) -> None:
    """Require a finite real number."""
    if not _is_real_number(value) or not math.isfinite(value):
        raise ValueError(f"{name}: {param} must be a finite real number, got {value!r}")


def positive(name: str, param: str, value: Any) -> None:
    """Require a finite real number greater than zero."""
    if not _is_real_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: {param} must be a finite real number > 0, got {value!r}")


def nonnegative(name: str, param: str, value: Any) -> None:
    """Require a finite real number at least zero."""
    if not _is_real_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: {param} must be a finite real number >= 0, got {value!r}")


def one_of(*choices: Any) -> Callable[[str, str, Any], None]:
    """Require one of a fixed set of values."""

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


def finish(result: Any, dtype: np.dtype, out: np.ndarray | None, was_0d: bool) -> Any:
    """Cast the kernel's result to ``dtype`` and store it in ``out`` (or return it)."""
    if was_0d:
        result = np.reshape(result, ())
    if out is not None:
        if result is not out:
            with np.errstate(over="ignore"):
                np.copyto(out, result, casting="unsafe")
        return out
    result = np.asarray(result)
    if result.dtype != dtype:
        with np.errstate(over="ignore"):  # a float64 result beyond float32's range rounds to inf
            result = result.astype(dtype)
    return result[()] if was_0d else result


def _working(array: np.ndarray, compute: np.dtype | None) -> np.ndarray:
    """The kernel's input: in the compute dtype, and at least 1-D so kernels can index with masks."""
    work = array if compute is None or array.dtype == compute else array.astype(compute)
    return work.reshape(1) if work.ndim == 0 else work


# --- chunked evaluation ----------------------------------------------------------------------------

#: Elements per chunk of the chunked evaluation. A kernel of k NumPy passes over an n-element array
#: streams about k*n values through memory; on chunks it streams n in and n out, and its temporaries
#: (up to about a dozen float64 arrays of 256 KiB) are reused from cache. Measured on the transcendental
#: kernels at 1e6 and 1e7 elements, 2**15 was 5 to 20% faster than 2**14 and 10 to 35% faster than 2**13
#: (each NumPy call costs about a microsecond whatever its size), and it keeps the temporaries of a float32
#: call computed in float64 below the output's size at 1e6 elements (peak memory = output + one chunk's
#: work); a kernel with more temporaries asks for a smaller share (``chunk_scale``).
CHUNK = 2**15

#: Elements per chunk for a kernel that writes into ``out`` itself (few or no temporaries): larger, so that
#: the Python overhead per chunk stays small against the few cheap passes of such a kernel.
OUT_CHUNK = 2**18

_SCALAR_TYPES = (bool, int, float, str, type(None), np.generic)


def _blocks(array: np.ndarray, result: np.ndarray, chunk: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Matching (input, output) pieces of about ``chunk`` elements, or None if ``array`` is too small.

    Contiguous arrays are cut in their memory order; others along the first axis (in whole rows).
    """
    if array.size <= chunk:
        return None
    if array.flags.c_contiguous and result.flags.c_contiguous:
        source, target = array.reshape(-1), result.reshape(-1)
    elif array.flags.f_contiguous and result.flags.f_contiguous:
        source, target = array.T.reshape(-1), result.T.reshape(-1)
    else:
        source, target = array, result
    rows = max(1, chunk // (source.size // source.shape[0]))
    if rows >= source.shape[0]:
        return None
    return [(source[start:start + rows], target[start:start + rows]) for start in range(0, source.shape[0], rows)]


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.strides == b.strides
            and a.shape == b.shape)


def _chunked(kernel: Callable[..., Any], takes_out: bool, array: np.ndarray, params: dict[str, Any],
             compute: np.dtype | None, out: np.ndarray | None, chunk: int) -> np.ndarray | None:
    """Evaluate an elementwise ``kernel`` chunk by chunk into ``out`` (or a new array); None: not chunked.

    Every output element depends only on the input element at the same place, so the result is the same
    bit for bit as one call on the whole array. Each chunk is read in full (and, with a compute dtype,
    converted) before its output is written, so ``out`` may be the input itself; an ``out`` that overlaps
    the input in any other way is not chunked.
    """
    overlap = out is not None and np.may_share_memory(out, array)
    if overlap and not _same_view(out, array):
        return None
    result = out if out is not None else np.empty_like(array)
    blocks = _blocks(array, result, OUT_CHUNK if takes_out else chunk)
    if blocks is None:
        return None
    for source, target in blocks:
        work = source if compute is None or source.dtype == compute else source.astype(compute)
        if takes_out and not overlap and work.dtype == target.dtype:
            value = kernel(work, out=target, **params)
        else:
            value = kernel(work, **params)
        if value is not target:
            if value.dtype == target.dtype:
                np.copyto(target, value)
            else:
                with np.errstate(over="ignore"):  # a float64 result beyond float32's range rounds to inf
                    np.copyto(target, value, casting="unsafe")
    return result


def _in_slices(kernel: Callable[..., Any], array: np.ndarray, params: dict[str, Any], along: str,
               compute: np.dtype | None, out: np.ndarray | None) -> np.ndarray | None:
    """Evaluate a ``kernel`` that works on whole slices along the axis ``params[along]`` (softmax), on blocks of
    such slices cut along the longest other axis, into ``out`` or a new array; None: not worth cutting.

    Each slice's result depends on that slice alone, so the values are the same bit for bit as one call;
    the float64 copy of a float32 input and the kernel's temporaries are one block's size, not the input's.
    """
    if array.size <= CHUNK or array.ndim < 2:
        return None
    overlap = out is not None and np.may_share_memory(out, array)
    if overlap and not _same_view(out, array):
        return None
    if not -array.ndim <= params[along] < array.ndim:
        return None  # the kernel's own check raises the error
    axis = params[along] % array.ndim
    cut = max((d for d in range(array.ndim) if d != axis), key=lambda d: array.shape[d])
    step = max(1, CHUNK // (array.size // array.shape[cut]))
    if step >= array.shape[cut]:
        return None
    result = out if out is not None else np.empty_like(array)
    for start in range(0, array.shape[cut], step):
        index = (slice(None),) * cut + (slice(start, start + step),)
        source = array[index]
        value = kernel(source if compute is None or source.dtype == compute else source.astype(compute), **params)
        with np.errstate(over="ignore"):  # a float64 result beyond float32's range rounds to inf
            np.copyto(result[index], value, casting="unsafe")
    return result


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


def activation(
    properties: Properties,
    *,
    checks: Mapping[str, Callable[[str, str, Any], None]] | None = None,
    validate: Callable[[dict[str, Any]], None] | None = None,
    compute_dtype: Any = None,
    chunked: bool | Callable[[dict[str, Any]], bool] = True,
    single_pass: bool = False,
    chunk_scale: float = 1.0,
    slices_along: str | None = None,
    register: bool = True,
    result_shape: Callable[[tuple[int, ...], dict[str, Any]], tuple[int, ...]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn a kernel ``kernel(x, **params)`` into a public activation and register it.

    ``checks`` maps a parameter name to a check such as :func:`finite`; ``validate`` sees all bound
    parameters at once, for constraints between them. ``compute_dtype`` (``np.float64`` for the
    transcendental functions) is the dtype the kernel receives: float16 and float32 inputs are computed in
    float64 and rounded once at the end, which keeps them within half an ULP of the exact value.

    An elementwise function whose parameters are all scalars is evaluated in chunks of :data:`CHUNK`
    elements on large inputs (the same values bit for bit, its temporaries stay in cache and the peak
    memory is the output plus one chunk's work), unless ``chunked`` is False or, given a predicate of the
    bound parameters, returns False for them (a random draw, for instance). Derivatives alike, except that
    ``single_pass=True`` (a kernel of one NumPy pass, which chunks could only slow down) leaves the
    values of the function unchunked. ``chunk_scale`` shrinks the chunks of a kernel that keeps more
    temporaries alive than most (GELU's double-double tail), to keep its peak memory in bounds.
    ``f.defnarrow(kernel)`` registers a simpler kernel for the values of float16 and float32 inputs.

    A function that is not elementwise but works on independent slices along an axis (softmax) names that
    parameter in ``slices_along``, and large inputs are evaluated on blocks of whole slices
    (:func:`_in_slices`). A kernel with a keyword ``out`` may write its result there: it then gets an array
    of its input's shape and dtype that does not overlap the input, and returns it. A function whose result
    has another shape than its input (the GLU family halves an axis) gives ``result_shape(shape, params)``,
    which ``out=`` is checked against.

    Inputs of a :data:`LOW_PRECISION` dtype are computed as float64 and the result cast back once.
    """
    checks = dict(checks or {})
    compute = None if compute_dtype is None else np.dtype(compute_dtype)
    elementwise = properties.elementwise

    def chunkable(params: dict[str, Any]) -> bool:
        if not elementwise or chunked is False:
            return False
        if not all(isinstance(value, _SCALAR_TYPES) for value in params.values()):
            return False
        return chunked is True or bool(chunked(params))

    def evaluate(kernel: Callable[..., Any], takes_out: bool, array: np.ndarray, params: dict[str, Any],
                 out: np.ndarray | None, value: bool = True) -> Any:
        chunk = max(1, int(CHUNK * chunk_scale))  # read at call time: the tests shrink CHUNK
        if array.size > chunk and not (value and single_pass) and chunkable(params):
            result = _chunked(kernel, takes_out, array, params, compute, out, chunk)
            if result is not None:
                return result
        if slices_along is not None:
            result = _in_slices(kernel, array, params, slices_along, compute, out)
            if result is not None:
                return result
        if (takes_out and out is not None and array.ndim > 0 and (compute is None or array.dtype == compute)
                and chunkable(params) and not np.may_share_memory(out, array)):
            return kernel(array, out=out, **params)
        return finish(kernel(_working(array, compute), **params), array.dtype, out, array.ndim == 0)

    def decorate(kernel: Callable[..., Any]) -> Callable[..., Any]:
        name = kernel.__name__
        signature, defaults, takes_out = _kernel_parameters(kernel)
        public_signature = signature.replace(
            parameters=[
                *signature.parameters.values(),
                inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None),
            ]
        )

        def bind(x: Any, args: tuple, kwargs: dict) -> tuple[np.ndarray, dict[str, Any]]:
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
            if is_low_precision(array.dtype):
                wide = evaluate(kernel, takes_out, array.astype(np.float64), params, None)
                return finish(wide, array.dtype, out, array.ndim == 0)
            narrow = public.narrow_kernel
            if narrow is not None and array.dtype.itemsize < compute.itemsize:
                return evaluate(narrow, False, array, params, out)
            return evaluate(kernel, takes_out, array, params, out)

        public.__signature__ = public_signature  # type: ignore[attr-defined]
        public.info = ActivationInfo(name, defaults, properties, compute)  # type: ignore[attr-defined]
        public._bind = bind  # type: ignore[attr-defined]
        public._compute = compute  # type: ignore[attr-defined]

        def defderivative(derivative_kernel: Callable[..., Any]) -> Callable[..., Any]:
            derivative_takes_out = "out" in inspect.signature(derivative_kernel).parameters

            @functools.wraps(derivative_kernel)
            def derivative(x: Any, *args: Any, **kwargs: Any) -> Any:
                array, params = bind(x, args, kwargs)
                if is_low_precision(array.dtype):
                    wide = evaluate(derivative_kernel, derivative_takes_out, array.astype(np.float64), params, None,
                                    value=False)
                    return finish(wide, array.dtype, None, array.ndim == 0)
                return evaluate(derivative_kernel, derivative_takes_out, array, params, None, value=False)

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
            The accuracy tests hold it to the same bounds in every dtype.
            """
            if compute is None:
                raise TypeError(f"{name}: a narrow kernel needs a compute_dtype wider than its inputs")
            public.narrow_kernel = narrow_kernel  # type: ignore[attr-defined]
            return narrow_kernel

        public.narrow_kernel = None  # type: ignore[attr-defined]
        public.defderivative = defderivative  # type: ignore[attr-defined]
        public.defnarrow = defnarrow  # type: ignore[attr-defined]
        public.defsymbolic = defsymbolic  # type: ignore[attr-defined]
        if register:
            if name in ACTIVATIONS:
                raise RuntimeError(f"activation {name!r} registered twice")
            ACTIVATIONS[name] = public
        return public

    return decorate
