"""How an activation is evaluated fast: chunks, slices and narrow kernels. A definition does not need it.

A family module defines what a function computes with :func:`actlib._core.activation`; this module
decides how a call is carried out, with the same bits whatever it decides:

* an elementwise function of scalar parameters is evaluated on large inputs in chunks of :data:`CHUNK`
  elements (its temporaries stay in cache, and the peak memory is the output plus one chunk's work);
* a function that works on independent slices along an axis (softmax, the GLU family) is evaluated on
  blocks of whole slices;
* a float16 or float32 input may go to a simpler *narrow* kernel registered with ``f.defnarrow`` (values)
  or ``f.defnarrow_derivative``;
* a kernel with a keyword ``out`` writes into the caller's array directly;
* an input of a low-precision dtype of ``ml_dtypes`` (bfloat16, float8) is computed as float64, as if the
  caller had converted it, and the float64 result is rounded once to the input's dtype.

Each function's options are a :class:`Policy`, set after its definition with :func:`evaluate_with`
(the default policy chunks every elementwise function). ``tests/test_chunking.py`` proves that chunked
and unchunked calls give the same bits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import is_low_precision


@dataclass(frozen=True)
class Policy:
    """How one activation is evaluated.

    ``chunked`` (or a predicate of the bound parameters, False for a random draw) allows chunks;
    ``single_pass=True`` marks a kernel of one NumPy pass, whose values chunks could only slow down (its
    derivative is still chunked); ``chunk_scale`` shrinks the chunks of a kernel that keeps more
    temporaries alive than most (GELU's double-double tail); ``slices_along`` names the axis parameter of
    a function that works on independent slices (softmax, the GLU family).
    """

    chunked: bool | Callable[[dict[str, Any]], bool] = True
    single_pass: bool = False
    chunk_scale: float = 1.0
    slices_along: str | None = None


DEFAULT = Policy()


def evaluate_with(function: Callable[..., Any], **options: Any) -> Callable[..., Any]:
    """Set the evaluation :class:`Policy` of an activation.

    Parameters
    ----------
    function : callable
        An activation made by :func:`actlib.activation`.
    **options
        The fields of :class:`Policy`.

    Returns
    -------
    callable
        ``function`` itself.
    """
    function.evaluation = Policy(**options)  # type: ignore[attr-defined]
    return function


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
    """Evaluate a ``kernel`` that works on whole slices along the axis ``params[along]`` (softmax, the GLU
    family), on blocks of such slices cut along the longest other axis, into ``out`` or a new array; None: not
    worth cutting.

    Each slice's result depends on that slice alone, so the values are the same bit for bit as one call;
    the float64 copy of a float32 input and the kernel's temporaries are one block's size, not the input's.
    A slice's result may be shorter than the slice (GLU halves it): the result's length along the axis is
    that of the first block's.
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
    result = out
    for start in range(0, array.shape[cut], step):
        index = (slice(None),) * cut + (slice(start, start + step),)
        source = array[index]
        value = kernel(source if compute is None or source.dtype == compute else source.astype(compute), **params)
        if result is None:
            shape = list(array.shape)
            shape[axis] = value.shape[axis]
            result = np.empty(shape, array.dtype, order="F" if array.flags.f_contiguous and array.ndim > 1 else "C")
        with np.errstate(over="ignore"):  # a float64 result beyond float32's range rounds to inf
            np.copyto(result[index], value, casting="unsafe")
    return result


def finish(result: Any, dtype: np.dtype, out: np.ndarray | None, was_0d: bool) -> Any:
    """Cast the kernel's result to ``dtype`` and store it in ``out`` (or return it).

    Parameters
    ----------
    result : ndarray
        What the kernel returned (at least 1-D).
    dtype : dtype
        The input's dtype.
    out : ndarray or None
        Where to write the result.
    was_0d : bool
        Whether the input was 0-d (the result is then a NumPy scalar).

    Returns
    -------
    ndarray or scalar
        ``out``, or the result in ``dtype``.
    """
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



def _chunkable(policy: Policy, elementwise: bool, params: dict[str, Any]) -> bool:
    if not elementwise or policy.chunked is False:
        return False
    if not all(isinstance(value, _SCALAR_TYPES) for value in params.values()):
        return False
    return policy.chunked is True or bool(policy.chunked(params))


def evaluate(function: Callable[..., Any], kernel: Callable[..., Any], takes_out: bool, array: np.ndarray,
             params: dict[str, Any], out: np.ndarray | None, value: bool = True) -> Any:
    """``kernel(array, **params)`` for ``function``, evaluated as its policy says.

    Parameters
    ----------
    function : callable
        The activation whose policy, compute dtype and narrow kernel apply.
    kernel : callable
        Its value or derivative kernel.
    takes_out : bool
        Whether ``kernel`` accepts ``out=``.
    array : ndarray
        The validated input.
    params : dict
        The bound parameters.
    out : ndarray or None
        Where to write the result.
    value : bool, default True
        Whether ``kernel`` computes the value or the derivative (each has its own narrow kernel; ``single_pass``
        applies to values only).

    Returns
    -------
    ndarray or scalar
        The result in the input's dtype (``out`` if given; a NumPy scalar for 0-d input).
    """
    if is_low_precision(array.dtype):
        wide = evaluate(function, kernel, takes_out, array.astype(np.float64), params, None, value)
        return finish(wide, array.dtype, out, array.ndim == 0)
    policy = getattr(function, "evaluation", DEFAULT)
    compute = function.info.compute_dtype
    elementwise = function.info.properties.elementwise
    narrow = function.narrow_kernel if value else function.narrow_derivative_kernel
    if narrow is not None and array.dtype.itemsize < compute.itemsize:
        kernel, takes_out = narrow, False
    chunk = max(1, int(CHUNK * policy.chunk_scale))  # read at call time: the tests shrink CHUNK
    if (array.size > chunk and not (value and policy.single_pass)
            and _chunkable(policy, elementwise, params)):
        result = _chunked(kernel, takes_out, array, params, compute, out, chunk)
        if result is not None:
            return result
    if policy.slices_along is not None:
        result = _in_slices(kernel, array, params, policy.slices_along, compute, out)
        if result is not None:
            return result
    if (takes_out and out is not None and array.ndim > 0 and (compute is None or array.dtype == compute)
            and _chunkable(policy, elementwise, params) and not np.may_share_memory(out, array)):
        return kernel(array, out=out, **params)
    return finish(kernel(_working(array, compute), **params), array.dtype, out, array.ndim == 0)
