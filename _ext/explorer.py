"""The activation explorer: curves computed by actlib at build time, drawn in the reader's browser.

A reader of the built HTML has no kernel, and a second implementation of each function in JavaScript
would break the book's rule that every function is defined once. So this extension evaluates every
elementwise activation of ``actlib.ACTIVATIONS`` (and its derivative) over a grid of inputs for every
point of a grid of parameter values, and writes the results into the site; the script
``explorer_static/explorer/explorer.js`` only draws them and prints them.

Everything is derived from the public registry, so a new entry appears without an edit here:

* the sliders are the parameters whose default (``f.info.parameters``) is a real number; the others
  (strings, booleans, ``None``) stay at their defaults, which the page lists;
* a parameter's candidate values are its default plus and minus whole steps (:func:`candidate_values`),
  and a combination of values is kept only if actlib accepts it: ``f(0.0, **params)`` and
  ``f.derivative(0.0, **params)`` run without raising. The valid range is therefore whatever the
  registry's parameter checks say (``finite``, ``positive``, ``nonnegative``, and constraints between
  parameters such as ``lower <= upper``), and a value actlib rejects cannot be selected;
* kinks are the grid points where the derivative one float to the left and one float to the right
  differ; at the default parameters they must include ``f.info.properties.kinks`` (which are also put
  on the grid), or the build warns.

Files written into ``_build/html/_static/explorer/``: ``manifest.js`` (functions, parameters, grids)
and ``data/<name>.js`` (one per function, loaded when a reader picks it). The values are float32,
base64-encoded, little-endian: per valid combination, f on the x grid and then f'. Scripts rather than
JSON files, so that the explorer also works from ``file://``, where a browser refuses ``fetch``.

Directives: ``activation-explorer`` (options ``function``, ``compare``, ``compact``) places an explorer;
``activation-explorer-grids`` writes the table of what the explorer holds, with each file's size.
"""

from __future__ import annotations

import base64
import functools
import gzip
import itertools
import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "explorer_static"
OUTPUT_SUBDIR = "explorer"
SCRIPT = f"{OUTPUT_SUBDIR}/explorer.js"
STYLESHEET = f"{OUTPUT_SUBDIR}/explorer.css"

# The x grid: a step of 1/16 puts every parameter value of the grids below (multiples of 1/8 around
# dyadic defaults) on the grid, so kinks that move with a parameter (softshrink's +-lambd, hardtanh's
# bounds, threshold's threshold) land on grid points.
X_STEP = 1 / 16
X_HALF_WIDTH = 5.0
# Room on either side of the outermost kink at the default parameters (ReLU6's 6 widens its window).
KINK_MARGIN = 2.0
# Steps either side of the default, by the number of sliders: the data grow as the product of the
# grids, so a function with two sliders gets 9 x 9 combinations, one with one slider 17 values.
STEPS_EACH_SIDE = {1: 8, 2: 4}
STEPS_EACH_SIDE_MANY = 2
# Derivatives one float apart that differ by more than this (relative to their size) mark a kink.
KINK_JUMP = 1e-6
FLOAT32_BYTES = 4
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_slider_default(value: Any) -> bool:
    """A parameter gets a slider when its default is a finite real number (bools are not numbers here)."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
    )


def candidate_values(default: float, steps_each_side: int) -> list[float]:
    """The default, and ``steps_each_side`` steps below and above it.

    The step is a quarter of the default's magnitude (at least 1/2) rounded to a power of two:
    1/4 around 1, 1/8 around 1/2 or 0. The default stays exact; the other values are rounded to 12
    significant digits, so that around a default such as 1/3 they read 0.458333333333, not
    0.45833333333333337.
    """
    default = float(default)
    scale = max(abs(default), 0.5)
    step = 2.0 ** round(math.log2(scale)) / 4
    steps = range(-steps_each_side, steps_each_side + 1)
    return [default if k == 0 else float(f"{default + k * step:.12g}") for k in steps]


def accepts(function: Any, params: dict[str, Any]) -> bool:
    """Whether actlib accepts these parameters: its own checks decide the valid range."""
    try:
        function(0.0, **params)
        function.derivative(0.0, **params)
    except (ValueError, TypeError):
        return False
    return True


def explorable(function: Any) -> bool:
    return bool(function.info.properties.elementwise) and callable(getattr(function, "derivative", None))


@dataclass
class FunctionData:
    """What the explorer holds about one activation."""

    name: str
    sliders: list[dict[str, Any]]
    fixed: dict[str, str]
    x: np.ndarray
    rows: list[int]
    values: np.ndarray  # float32, shape (valid combinations, 2, len(x))
    kinks: list[list[list[float]]]
    y_range: dict[str, list[float]]
    registry_kinks: tuple[float, ...]
    missing_registry_kinks: list[float]

    @property
    def script(self) -> str:
        payload = {
            "x": self.x.tolist(),
            "rows": self.rows,
            "kinks": self.kinks,
            "yRange": self.y_range,
            "values": base64.b64encode(self.values.astype("<f4").tobytes()).decode("ascii"),
        }
        return f"actlibExplorer.receive({json.dumps(self.name)},{json.dumps(payload, separators=(',', ':'))});\n"

    @property
    def manifest_entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": f"data/{self.name}.js",
            "sliders": self.sliders,
            "fixed": self.fixed,
            "combinations": len(self.rows),
            "valid": len(self.values),
        }


def x_grid(registry_kinks: tuple[float, ...]) -> np.ndarray:
    outermost = max((abs(float(kink)) for kink in registry_kinks), default=0.0)
    half_width = max(X_HALF_WIDTH, math.ceil(outermost + KINK_MARGIN))
    count = round(2 * half_width / X_STEP) + 1
    uniform = -half_width + np.arange(count) * X_STEP
    return np.union1d(uniform, np.asarray(registry_kinks, dtype=np.float64))


def detect_kinks(function: Any, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The grid points where the derivative jumps: its values one float to either side differ."""
    right = function.derivative(np.nextafter(x, np.inf), **params)
    left = function.derivative(np.nextafter(x, -np.inf), **params)
    size = np.maximum(1.0, np.maximum(np.abs(left), np.abs(right)))
    with np.errstate(invalid="ignore"):
        return x[np.abs(right - left) > KINK_JUMP * size]


def _padded_range(values: np.ndarray) -> list[float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [-1.0, 1.0]
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    pad = 0.05 * (high - low)
    return [low - pad, high + pad]


def function_data(function: Any) -> FunctionData:
    info = function.info
    name = info.name
    defaults = dict(info.parameters)
    slider_names = [param for param, value in defaults.items() if is_slider_default(value)]
    fixed = {param: value for param, value in defaults.items() if param not in slider_names}
    steps = STEPS_EACH_SIDE.get(len(slider_names), STEPS_EACH_SIDE_MANY)
    grids = [candidate_values(defaults[param], steps) for param in slider_names]
    registry_kinks = tuple(float(kink) for kink in info.properties.kinks)
    x = x_grid(registry_kinks)

    rows: list[int] = []
    blocks: list[np.ndarray] = []
    kinks: list[list[list[float]]] = []
    missing: list[float] = []
    default_combination = tuple(defaults[param] for param in slider_names)
    # A NumPy warning at parameters actlib accepts is a defect of actlib: it fails the build here.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for combination in itertools.product(*grids):
            params = {**fixed, **dict(zip(slider_names, combination, strict=True))}
            if not accepts(function, params):
                rows.append(-1)
                continue
            values = np.asarray(function(x, **params), dtype=np.float64)
            slopes = np.asarray(function.derivative(x, **params), dtype=np.float64)
            at = detect_kinks(function, x, params)
            kink_values = np.asarray(function(at, **params), dtype=np.float64)
            kink_slopes = np.asarray(function.derivative(at, **params), dtype=np.float64)
            kinks.append([[float(a), float(v), float(s)] for a, v, s in zip(at, kink_values, kink_slopes, strict=True)])
            rows.append(len(blocks))
            blocks.append(np.stack([values, slopes]))
            if combination == default_combination:
                missing = [kink for kink in registry_kinks if not np.any(at == kink)]
    if not blocks:
        raise ValueError(f"activation explorer: actlib accepts none of the parameter grid of {name}")
    stacked = np.stack(blocks)
    sliders = []
    for param, grid in zip(slider_names, grids, strict=True):
        sliders.append({"name": param, "values": grid, "default": steps})
    return FunctionData(
        name=name,
        sliders=sliders,
        fixed={param: repr(value) for param, value in fixed.items()},
        x=x,
        rows=rows,
        values=stacked.astype(np.float32),
        kinks=kinks,
        y_range={"f": _padded_range(stacked[:, 0]), "d": _padded_range(stacked[:, 1])},
        registry_kinks=registry_kinks,
        missing_registry_kinks=missing,
    )


def explorable_functions() -> dict[str, Any]:
    import actlib

    return {name: function for name, function in actlib.ACTIVATIONS.items() if explorable(function)}


@functools.cache
def explorer_data() -> dict[str, FunctionData]:
    """Every explorable activation's data, computed once per build process."""
    data = {}
    for name, function in explorable_functions().items():
        if not _SAFE_NAME.match(name):
            raise ValueError(f"activation explorer: {name!r} cannot name a file")
        data[name] = function_data(function)
    return data


def manifest_script(data: dict[str, FunctionData]) -> str:
    manifest = {"functions": [entry.manifest_entry for entry in data.values()]}
    return f"actlibExplorer.receiveManifest({json.dumps(manifest, separators=(',', ':'))});\n"


def file_sizes(text: str) -> tuple[int, int]:
    raw = text.encode("utf-8")
    return len(raw), len(gzip.compress(raw, compresslevel=6, mtime=0))


# --- directives and the node they leave in the page -------------------------------------------------


class explorer_node(nodes.General, nodes.Element):
    """Where an explorer goes; the browser script fills it."""


def visit_explorer_html(translator: Any, node: explorer_node) -> None:
    attributes = {
        "class": "actlib-explorer" + (" actlib-explorer-compact" if node["compact"] else ""),
        "data-function": node["function"],
        "data-compare": node["compare"],
        "data-compact": "true" if node["compact"] else "false",
    }
    rendered = " ".join(f'{key}="{translator.attval(value)}"' for key, value in attributes.items())
    # The box is a CSS size container, so that the explorer can reserve its height before its script
    # has drawn it (explorer.css): the text below it does not jump when the curves arrive.
    translator.body.append(
        f"<div class=\"actlib-explorer-box\"><div {rendered}><p class=\"actlib-explorer-fallback\">The activation "
        "explorer draws curves that actlib computed when the book was built; it needs JavaScript.</p></div></div>"
    )
    raise nodes.SkipNode


def skip_node(translator: Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


def _note_registry_sources(env: Any) -> None:
    """Re-read the page when actlib changes, so its table and defaults follow the registry."""
    import actlib

    for source in sorted(Path(actlib.__file__).parent.glob("*.py")):
        env.note_dependency(str(source))


class ActivationExplorer(SphinxDirective):
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "function": directives.unchanged,
        "compare": directives.unchanged,
        "compact": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        _note_registry_sources(self.env)
        names = list(explorable_functions())
        function = self.options.get("function", names[0] if names else "")
        compare = self.options.get("compare", "")
        for option, value in (("function", function), ("compare", compare)):
            if value and value not in names:
                raise self.error(f"activation-explorer: {option} {value!r} is not an elementwise activation of actlib")
        node = explorer_node()
        node["function"] = function
        node["compare"] = compare
        node["compact"] = "compact" in self.options
        return [node]


def _number(value: float) -> str:
    return f"{value:.6g}".replace("-", "\N{MINUS SIGN}")


def _grid_text(slider: dict[str, Any]) -> str:
    values = slider["values"]
    default = values[slider["default"]]
    span = f"{_number(values[0])} to {_number(values[-1])}"
    return f"{slider['name']}: {span}, {len(values)} values, default {_number(default)}"


class ActivationExplorerGrids(SphinxDirective):
    """The table of what the explorer holds: per function its grids, fixed parameters and file size."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        _note_registry_sources(self.env)
        data = explorer_data()
        header = ("Function", "Slider grid (before actlib's checks)", "Combinations actlib accepts",
                  "Fixed parameters", "x grid", "File (bytes, gzip)")
        rows = []
        total_raw = total_gzip = 0
        for name, entry in data.items():
            raw, packed = file_sizes(entry.script)
            total_raw, total_gzip = total_raw + raw, total_gzip + packed
            x = entry.x
            rows.append((
                name,
                "; ".join(_grid_text(slider) for slider in entry.sliders) or "none",
                f"{len(entry.values)} of {len(entry.rows)}",
                ", ".join(f"{param}={value}" for param, value in entry.fixed.items()) or "none",
                f"{_number(x[0])} to {_number(x[-1])}, {len(x)} points",
                f"{raw:,} ({packed:,})",
            ))
        manifest_raw, manifest_gzip = file_sizes(manifest_script(data))
        rows.append(("all functions", "", "", "", "", f"{total_raw:,} ({total_gzip:,})"))
        rows.append(("manifest.js", "", "", "", "", f"{manifest_raw:,} ({manifest_gzip:,})"))
        return [_table(header, rows)]


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> nodes.table:
    table = nodes.table(classes=["actlib-explorer-grids"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += _row(header)
    body = nodes.tbody()
    group += body
    for row in rows:
        body += _row(row)
    return table


def _row(cells: tuple[str, ...]) -> nodes.row:
    row = nodes.row()
    for text in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", text)
        row += entry
    return row


# --- build events ------------------------------------------------------------------------------------


def _add_static_path(app: Sphinx, config: Any) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC_DIR)]


def _add_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """The explorer's script and style only on the pages that hold an explorer."""
    if doctree is not None and any(True for _ in doctree.findall(explorer_node)):
        app.add_css_file(STYLESHEET)
        app.add_js_file(SCRIPT, defer="defer")


def _write_data(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    data = explorer_data()
    for name, entry in data.items():
        if entry.missing_registry_kinks:
            LOGGER.warning(
                f"activation explorer: {name}'s registry kinks {entry.missing_registry_kinks} show no jump of "
                "the derivative at the default parameters", type="actbook", subtype="explorer",
            )
    target = Path(app.outdir) / "_static" / OUTPUT_SUBDIR
    (target / "data").mkdir(parents=True, exist_ok=True)
    (target / "manifest.js").write_text(manifest_script(data), encoding="utf-8")
    for name, entry in data.items():
        (target / "data" / f"{name}.js").write_text(entry.script, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    skip = (skip_node, None)
    app.add_node(explorer_node, html=(visit_explorer_html, None), latex=skip, text=skip, man=skip, texinfo=skip)
    app.add_directive("activation-explorer", ActivationExplorer)
    app.add_directive("activation-explorer-grids", ActivationExplorerGrids)
    app.connect("config-inited", _add_static_path)
    app.connect("html-page-context", _add_assets)
    app.connect("build-finished", _write_data)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
