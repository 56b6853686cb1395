"""bfloat16 and the float8 formats: every value of a format, exact rounding to it, and the double-rounding count.

Every activation accepts arrays of ``ml_dtypes.bfloat16``, ``float8_e4m3fn`` and ``float8_e5m2``, computes
them in float64 and casts the result back once (:data:`actlib._core.LOW_PRECISION`). Whether that cast is
one rounding or two is a property of ml_dtypes, not of actlib, so it is measured here: a cast through float32
first would round twice, and a float64 value just above a tie of the narrow format can then land on the tie and
be rounded to even, the wrong way. :func:`double_rounding_count` counts such cases against an exact rounding
(:func:`round_exactly`, which compares with the format's own midpoints and never calls ml_dtypes' cast).

The reference needs no big numbers: every value of these formats and every midpoint between two neighbours
has at most 9 significant bits, so float64 holds them exactly and the comparisons are exact.

>>> import ml_dtypes
>>> y = np.array([1 + 2**-8 + 2**-40])  # just above the tie between 1 and 1 + 2**-7 in bfloat16
>>> float(round_exactly(y, ml_dtypes.bfloat16)[0]), float(y.astype(np.float32).astype(ml_dtypes.bfloat16)[0])
(1.0078125, 1.0)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = ["double_rounding_count", "finite_values", "round_exactly"]


def _dtype(dtype: Any) -> np.dtype:
    from ._core import is_low_precision

    dtype = np.dtype(dtype)
    if not is_low_precision(dtype):
        raise TypeError(f"low_precision: dtype {dtype} is not one of bfloat16, float8_e4m3fn, float8_e5m2")
    return dtype


@functools.cache
def _table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct finite values as float64, their bit patterns), for a format of 8 or 16 bits."""
    import ml_dtypes

    dtype = np.dtype(getattr(ml_dtypes, name))
    unsigned = np.uint8 if dtype.itemsize == 1 else np.uint16
    bits = np.arange(2 ** (8 * dtype.itemsize), dtype=np.uint32).astype(unsigned)
    with np.errstate(invalid="ignore"):
        values = bits.view(dtype).astype(np.float64)
    finite = np.isfinite(values) & ~((values == 0) & np.signbit(values))  # one zero: +0
    values, bits = values[finite], bits[finite]
    order = np.argsort(values)
    return values[order], bits[order]


def finite_values(dtype: Any) -> np.ndarray:
    """Every finite value of the format, ascending (``-0.0`` left out), as an array of that dtype.

    Parameters
    ----------
    dtype : dtype
        bfloat16, float8_e4m3fn or float8_e5m2 from ml_dtypes.

    Returns
    -------
    ndarray
        The values, in ``dtype``.

    Examples
    --------
    >>> import ml_dtypes
    >>> finite_values(ml_dtypes.float8_e4m3fn).size, float(finite_values(ml_dtypes.float8_e4m3fn)[-1])
    (253, 448.0)
    """
    dtype = _dtype(dtype)
    return _table(dtype.name)[0].astype(dtype)


def round_exactly(values: Any, dtype: Any) -> np.ndarray:
    """Round float64 ``values`` to ``dtype`` to nearest, ties to even, by comparison with the format's midpoints.

    Beyond the largest finite value plus half a step the result is ``inf`` for bfloat16 and float8_e5m2, NaN for
    float8_e4m3fn (which has no infinity), as the formats' definitions and ml_dtypes' casts have it; NaN stays NaN.

    Parameters
    ----------
    values : array_like
        float64 values.
    dtype : dtype
        bfloat16, float8_e4m3fn or float8_e5m2 from ml_dtypes.

    Returns
    -------
    ndarray
        ``values`` correctly rounded to ``dtype``, the sign of zeros kept.
    """
    dtype = _dtype(dtype)
    table, bits = _table(dtype.name)
    y = np.asarray(values, dtype=np.float64)
    index = np.clip(np.searchsorted(table, y), 1, table.size - 1)
    below, above = table[index - 1], table[index]
    midpoint = 0.5 * (below + above)
    up = (y > midpoint) | ((y == midpoint) & (bits[index] % 2 == 0))
    result = np.where(up, above, below)
    top = table[-1]
    half_step = 0.5 * (top - table[-2])
    overflow = np.inf if dtype.name != "float8_e4m3fn" else np.nan
    # the largest value's last bit is odd in every one of these formats, so a tie at top + half_step goes up
    result = np.where(np.abs(y) >= top + half_step, np.copysign(overflow, y), result)
    result = np.where(np.isnan(y), np.nan, result)
    result = np.where(y == 0, y, result)  # keeps the sign of a zero
    result = np.where((result == 0) & (y != 0), np.copysign(0.0, y), result)
    return result.astype(dtype)


def _near_midpoints(name: str) -> np.ndarray:
    """Every midpoint between neighbouring values, and float64 values a few ULPs and a quarter/half float32 step
    away on both sides: the inputs on which a rounding through float32 goes wrong."""
    table, _ = _table(name)
    midpoints = 0.5 * (table[1:] + table[:-1])
    pieces = [midpoints]
    up = down = midpoints
    for _ in range(3):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
        pieces += [up, down]
    step32 = np.spacing(np.abs(midpoints).astype(np.float32)).astype(np.float64)
    for fraction in (0.25, 0.499):
        pieces += [midpoints + fraction * step32, midpoints - fraction * step32]
    values = np.concatenate(pieces)
    return values[np.abs(values) <= table[-1]]


def double_rounding_count(dtype: Any, *, via_float32: bool = False) -> tuple[int, int]:
    """``(wrong, tested)``: how many float64 values near the midpoints of ``dtype`` ml_dtypes' cast rounds other
    than :func:`round_exactly` does, directly from float64 or (``via_float32``) through float32 first.

    Parameters
    ----------
    dtype : dtype
        bfloat16, float8_e4m3fn or float8_e5m2 from ml_dtypes.
    via_float32 : bool, default False
        Cast to float32 first, as a framework that computes in float32 would: a second rounding.

    Returns
    -------
    tuple of int
        ``(wrong, tested)``.

    Examples
    --------
    >>> from ml_dtypes import float8_e5m2
    >>> double_rounding_count(float8_e5m2)[0], double_rounding_count(float8_e5m2, via_float32=True)[0] > 0
    (0, True)
    """
    dtype = _dtype(dtype)
    y = _near_midpoints(dtype.name)
    source = y.astype(np.float32) if via_float32 else y
    cast = source.astype(dtype).astype(np.float64)
    exact = round_exactly(y, dtype).astype(np.float64)
    return int(np.sum(cast != exact)), int(y.size)
