"""One figure style for the book: an activation and its derivative on one labelled axes.

Every figure in the book comes from :func:`plot_activation` or :func:`plot_functions`, so a reader sees
the same axes, colours and legend everywhere. Both work with any Matplotlib backend, including ``Agg``
in tests and at build time; neither calls ``show``.

The derivative of a piecewise function jumps at its kinks. Joining the samples on either side would
draw a vertical segment that is not part of the graph, so the derivative's line is broken at each kink
and the value the implementation returns there (the framework convention) is marked with a dot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["plot_activation", "plot_functions", "plot_network"]

#: The default abscissa: symmetric about 0, with 0 itself among the samples.
DEFAULT_X = np.linspace(-5.0, 5.0, 1001)

_FUNCTION_STYLE = {"color": "C0", "linewidth": 2.0}
_DERIVATIVE_STYLE = {"color": "C1", "linewidth": 1.6, "linestyle": "--"}
_KINK_STYLE = {"color": "C1", "marker": "o", "markersize": 5, "linestyle": "none", "zorder": 3}


def _resolve(fn: Callable[..., Any] | str) -> Callable[..., Any]:
    """Accept a registered activation or its registry name."""
    if isinstance(fn, str):
        from actlib import ACTIVATIONS

        try:
            return ACTIVATIONS[fn]
        except KeyError:
            known = ", ".join(ACTIVATIONS)
            raise ValueError(f"plot: unknown activation {fn!r}; registered: {known}") from None
    if not callable(fn) or not hasattr(fn, "info"):
        raise TypeError(f"plot: expected an actlib activation or its name, got {fn!r}")
    return fn


def _describe(fn: Callable[..., Any], params: Mapping[str, Any], *, derivative: bool = False) -> str:
    """``name(x, p=v, ...)`` with the parameters drawn with, defaults included, unset ones left out;
    ``name′(x, ...)`` for the derivative, so a derivative panel never reads as the function itself."""
    values = {**fn.info.parameters, **params}
    shown = "".join(
        f", {key}={value:g}" if isinstance(value, float) else f", {key}={value!r}"
        for key, value in values.items()
        if value is not None and key != "axis"
    )
    prime = "′" if derivative else ""
    return f"{fn.info.name}{prime}(x{shown})"


def _grid(x: Any) -> np.ndarray:
    grid = DEFAULT_X if x is None else np.asarray(x, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)):
        raise ValueError("plot: x must be a 1-D array of at least two finite values")
    if np.any(np.diff(grid) <= 0):
        raise ValueError("plot: x must be strictly increasing")
    return grid


def _symbolic_breakpoints(expression: Any) -> set[float]:
    """Points where a piecewise SymPy expression changes formula (candidates for kinks)."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    arguments: list[Any] = []
    for atom in expression.atoms(sp.Max, sp.Min):
        arguments += [a - b for a in atom.args for b in atom.args if a != b]
    for atom in expression.atoms(sp.Abs, sp.sign, sp.Heaviside):
        arguments.append(atom.args[0])
    for piecewise in expression.atoms(sp.Piecewise):
        for _, condition in piecewise.args:
            arguments += [rel.lhs - rel.rhs for rel in condition.atoms(sp.core.relational.Relational)]
    points: set[float] = set()
    for argument in arguments:
        if not argument.free_symbols <= {x}:
            continue
        try:
            roots = sp.solve(argument, x)
        except NotImplementedError:
            continue  # SymPy cannot solve it; the registry's kinks still apply
        points.update(float(root) for root in roots if root.is_real)
    return points


def _breakpoints(fn: Callable[..., Any], params: Mapping[str, Any]) -> set[float]:
    """Candidate points where ``fn`` or its derivative may jump."""
    candidates = set(fn.info.properties.kinks) if not params else set()
    try:
        candidates |= _symbolic_breakpoints(fn.symbolic(**params))
    except (AttributeError, TypeError, ValueError, NotImplementedError):
        pass  # no usable expression: keep the kinks listed in the registry
    return candidates


def _jumps(g: Callable[..., Any], candidates: Iterable[float], lo: float, hi: float) -> list[float]:
    """The candidates in (lo, hi) where ``g`` really jumps, judged from its values just left and right."""
    jumps = []
    for point in sorted(candidates):
        if not lo < point < hi:
            continue
        step = 1e-6 * max(1.0, abs(point))
        left, right = (float(g(np.float64(point + side * step))) for side in (-1, 1))
        if abs(left - right) > 1e-3 * (1.0 + max(abs(left), abs(right))):
            jumps.append(point)
    return jumps


def _kinks(fn: Callable[..., Any], params: Mapping[str, Any], lo: float, hi: float) -> list[float]:
    """The points in (lo, hi) where ``fn.derivative`` jumps, for the parameters given."""
    return _jumps(lambda x: fn.derivative(x, **params), _breakpoints(fn, params), lo, hi)


def _discontinuities(fn: Callable[..., Any], params: Mapping[str, Any], lo: float, hi: float) -> list[float]:
    """The points in (lo, hi) where ``fn`` itself jumps (hardshrink, threshold)."""
    return _jumps(lambda x: fn(x, **params), _breakpoints(fn, params), lo, hi)


def _break_at(x: np.ndarray, y: np.ndarray, points: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """Drop samples that fall exactly on ``points`` and put a NaN there so the line is not joined."""
    points = np.asarray(list(points), dtype=np.float64)
    if points.size == 0:
        return x, y
    keep = ~np.isin(x, points)
    x, y = x[keep], y[keep]
    where = np.searchsorted(x, points)
    return np.insert(x, where, points), np.insert(y, where, np.nan)


def _new_axes() -> Any:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    return ax


def plot_activation(
    fn: Callable[..., Any] | str,
    *,
    params: Mapping[str, Any] | None = None,
    x: Any = None,
    ax: Any = None,
    caption: str | None = None,
    show_derivative: bool = True,
) -> Any:
    """Draw an activation and its derivative on one labelled axes.

    Parameters
    ----------
    fn : callable or str
        An elementwise activation from ``actlib`` (for example ``actlib.relu``) or its name in
        ``actlib.ACTIVATIONS``.
    params : dict, optional
        Keyword parameters passed to ``fn`` and ``fn.derivative``; the title lists them together with
        the defaults of the parameters not given.
    x : array_like, optional
        Strictly increasing sample points. The default is 1001 points from -5 to 5, which include 0.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. By default a new figure of 6.4 by 4 inches is created through pyplot, so it
        shows in a notebook.
    caption : str, optional
        Text written under the axes, for figures saved outside the book (in a chapter, prefer the
        ``mystnb`` figure caption).
    show_derivative : bool, default True
        Also draw ``fn.derivative`` (dashed), broken at each kink, with the value the implementation
        returns at the kink marked by a dot.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``fn`` is not elementwise (``softmax`` and ``log_softmax`` act on whole vectors).

    Notes
    -----
    The kinks are the registry's ``info.properties.kinks`` when no parameters are given, together with
    the points where the SymPy expression ``fn.symbolic(**params)`` changes formula; a point counts only
    if the numerical derivative really jumps there.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import actlib
    >>> from actlib.plotting import plot_activation
    >>> ax = plot_activation(actlib.ACTIVATIONS["relu"])
    >>> [line.get_label() for line in ax.get_lines()]
    ['f(x)', 'f′(x)', 'f′ at a kink']
    >>> ax.get_title()
    'relu(x)'
    >>> ax.get_lines()[2].get_xydata().tolist()  # PyTorch's convention: relu'(0) = 0
    [[0.0, 0.0]]
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    fn = _resolve(fn)
    params = dict(params or {})
    if not fn.info.properties.elementwise:
        raise TypeError(
            f"plot_activation: {fn.info.name} is not elementwise; plot one output of it with plot_functions "
            "or by hand"
        )
    grid = _grid(x)
    ax = _new_axes() if ax is None else ax

    y = np.asarray(fn(grid, **params), dtype=np.float64)
    jumps = _discontinuities(fn, params, grid[0], grid[-1])
    ax.plot(*_break_at(grid, y, jumps), label="f(x)", **_FUNCTION_STYLE)
    if show_derivative:
        kinks = _kinks(fn, params, grid[0], grid[-1])
        dy_dx = np.asarray(fn.derivative(grid, **params), dtype=np.float64)
        ax.plot(*_break_at(grid, dy_dx, kinks), label="f′(x)", **_DERIVATIVE_STYLE)
        if kinks:
            at_kinks = np.asarray(fn.derivative(np.asarray(kinks), **params), dtype=np.float64)
            ax.plot(kinks, at_kinks, label="f′ at a kink", **_KINK_STYLE)

    ax.set_title(_describe(fn, params))
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)" + (", f′(x)" if show_derivative else ""))
    ax.grid(True, alpha=0.35)
    ax.legend(loc="best")
    if caption:
        ax.text(0.5, -0.16, caption, transform=ax.transAxes, ha="center", va="top", wrap=True)
    return ax


def plot_functions(
    fns: Iterable[Callable[..., Any] | str],
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    x: Any = None,
    ax: Any = None,
    derivative: bool = False,
    title: str | None = None,
) -> Any:
    """Compare several elementwise activations (or their derivatives) on one axes.

    Parameters
    ----------
    fns : iterable of callable or str
        Activations from ``actlib`` or their registry names, drawn in the order given.
    params : dict, optional
        Maps an activation's name to the keyword parameters to draw it with.
    x : array_like, optional
        Strictly increasing sample points; by default 1001 points from -5 to 5.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure through pyplot.
    derivative : bool, default False
        Draw each ``fn.derivative`` instead of ``fn``, broken at its kinks.
    title : str, optional
        The axes title; by default "Activations" or "Derivatives".

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; each line is labelled ``name(x, parameters)``, or ``name′(x, parameters)``
        when ``derivative`` is true.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from actlib.plotting import plot_functions
    >>> ax = plot_functions(["relu", "sigmoid"])
    >>> [line.get_label() for line in ax.get_lines()]
    ['relu(x)', 'sigmoid(x)']
    >>> ax = plot_functions(["relu", "swish"], params={"swish": {"beta": 2.0}}, derivative=True)
    >>> [line.get_label() for line in ax.get_lines()], ax.get_ylabel()
    (['relu′(x)', 'swish′(x, beta=2)'], 'f′(x)')
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    params = dict(params or {})
    grid = _grid(x)
    ax = _new_axes() if ax is None else ax
    for item in fns:
        fn = _resolve(item)
        if not fn.info.properties.elementwise:
            raise TypeError(f"plot_functions: {fn.info.name} is not elementwise")
        fn_params = dict(params.get(fn.info.name, {}))
        if derivative:
            values = np.asarray(fn.derivative(grid, **fn_params), dtype=np.float64)
            xs, ys = _break_at(grid, values, _kinks(fn, fn_params, grid[0], grid[-1]))
        else:
            values = np.asarray(fn(grid, **fn_params), dtype=np.float64)
            xs, ys = _break_at(grid, values, _discontinuities(fn, fn_params, grid[0], grid[-1]))
        ax.plot(xs, ys, linewidth=1.8, label=_describe(fn, fn_params, derivative=derivative))
    ax.set_title(title or ("Derivatives" if derivative else "Activations"))
    ax.set_xlabel("x")
    ax.set_ylabel("f′(x)" if derivative else "f(x)")
    ax.grid(True, alpha=0.35)
    ax.legend(loc="best")
    return ax


def plot_network(
    sizes: Iterable[int],
    *,
    activation: str | None = "relu",
    ax: Any = None,
    max_drawn: int = 8,
) -> Any:
    """Draw a fully connected network as layers of units joined by their weights.

    Parameters
    ----------
    sizes : iterable of int
        The width of every layer, input first and output last, as given to ``actlib.nn.MLP``.
    activation : str or None, default "relu"
        The activation applied to every hidden unit, written under each hidden layer; ``None`` draws
        the hidden units unfilled and writes "no activation".
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure through pyplot.
    max_drawn : int, default 8
        A layer wider than this is drawn with ``max_drawn - 1`` units and a vertical ellipsis in place
        of the rest; its label gives the true width.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, with the axis lines turned off. Each layer is one scatter collection, and
        each label below a layer names it and its width.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from actlib.plotting import plot_network
    >>> ax = plot_network([2, 16, 2])
    >>> [collection.get_offsets().shape[0] for collection in ax.collections]
    [2, 7, 2]
    >>> [text.get_text() for text in ax.texts if "units" in text.get_text()]
    ['input\\n2 units', 'hidden 1\\n16 units\\nrelu', 'output\\n2 units']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    sizes = [int(size) for size in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"plot_network: sizes must be at least two positive widths, got {sizes!r}")
    if max_drawn < 3:
        raise ValueError(f"plot_network: max_drawn must be at least 3, got {max_drawn!r}")
    ax = _new_axes() if ax is None else ax
    heights = []
    for size in sizes:
        slots = min(size, max_drawn)
        y = np.linspace((slots - 1) / 2, -(slots - 1) / 2, slots)
        # a wide layer keeps its middle slot for the ellipsis
        heights.append((np.delete(y, slots // 2), y[slots // 2]) if size > max_drawn else (y, None))
    top = max(y.max() for y, _ in heights)
    bottom = min(y.min() for y, _ in heights)
    for layer in range(len(sizes) - 1):
        for y_from in heights[layer][0]:
            for y_to in heights[layer + 1][0]:
                ax.plot([layer, layer + 1], [y_from, y_to], color="0.78", linewidth=0.6, zorder=1)
        ax.text(layer + 0.5, top + 0.8, f"$h \\mapsto hW_{{{layer + 1}}} + b_{{{layer + 1}}}$", ha="center",
                va="bottom", fontsize=9)
    for layer, (y, ellipsis_at) in enumerate(heights):
        hidden = 0 < layer < len(sizes) - 1
        filled = hidden and activation is not None
        ax.scatter(np.full(y.size, layer), y, s=150, facecolor="C1" if filled else "white", edgecolor="black",
                   linewidth=1.0, zorder=3)
        if ellipsis_at is not None:
            ax.text(layer, ellipsis_at, "⋮", ha="center", va="center", fontsize=14, zorder=3)
        name = "input" if layer == 0 else "output" if layer == len(sizes) - 1 else f"hidden {layer}"
        note = f"\n{activation or 'no activation'}" if hidden else ""
        ax.text(layer, bottom - 0.8, f"{name}\n{sizes[layer]} units{note}", ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(bottom - 3.2, top + 1.8)
    ax.set_axis_off()
    return ax
