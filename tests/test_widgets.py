"""The parameter explorer of the variants chapter, in both places it runs.

In JupyterLab the cell shows a menu and sliders (ipywidgets) that redraw f and f′; in the book build, which
runs the chapter with no widget frontend, the same cell draws a static figure and creates no widget, so the
HTML needs no widget scripts from a CDN. The cell tells the two apart by ``JPY_SESSION_NAME``, which a Jupyter
server sets in the environment of the kernels it starts (``tests/test_lab.py`` checks that it does).

Both tests run the chapter's own cells (its set-up cell and the explorer cell, read from ``book/variants.md``)
in a real ``python3`` kernel, as the book build and JupyterLab do.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "variants.md"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Run after the explorer cell in the live kernel: move the controls as a reader would, report what was drawn.
PROBE = """
import json
import ipywidgets
choice, panel = explorer.children
report = {"functions": list(choice.options), "start": choice.value}

drawn = panel.children[0]
slider = {w.description: w for w in drawn.children if isinstance(w, ipywidgets.FloatSlider)}
report["sliders"] = sorted(slider)
before = drawn.result.get_lines()[0].get_ydata().tolist()
slider["alpha"].value = 2.0
after = drawn.result.get_lines()[0].get_ydata().tolist()
report["redrawn_title"] = drawn.result.get_title()
report["f_changed"] = before != after
report["f_at_minus_5"] = after[0]

choice.value = "hardtanh"
drawn = panel.children[0]
slider = {w.description: w for w in drawn.children if isinstance(w, ipywidgets.FloatSlider)}
report["hardtanh_sliders"] = sorted(slider)
slider["min_val"].value = 2.0
report["refusal"] = drawn.result.get_title()
print(json.dumps(report))
"""


def explorer_cells() -> list[nbformat.NotebookNode]:
    """The chapter's set-up cell (its imports) and the explorer cell, as a notebook of their own would hold them."""
    code = [cell for cell in jupytext.read(CHAPTER).cells if cell.cell_type == "code"]
    explorer = [cell for cell in code if "def parameter_explorer" in cell.source]
    assert len(explorer) == 1, "variants.md should have one cell defining parameter_explorer"
    return [code[0], explorer[0]]


# The two cells take a few seconds; a run this much longer is reported with where its time went.
SLOW_RUN_SECONDS = 60


def run(cells: list[nbformat.NotebookNode], env: dict[str, str]) -> tuple[nbformat.NotebookNode, NotebookClient]:
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=jupytext.read(CHAPTER).metadata)
    started = time.monotonic()
    timeline: list[str] = []

    def mark(event: str) -> None:
        timeline.append(f"{time.monotonic() - started:7.1f} s  {event}")

    client = NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(CHAPTER.parent)}},
        on_notebook_start=lambda notebook: mark("kernel ready"),
        on_cell_start=lambda cell, cell_index: mark(f"cell {cell_index} sent"),
        on_cell_complete=lambda cell, cell_index: mark(f"cell {cell_index} replied"),
        on_notebook_complete=lambda notebook: mark("kernel shut down"),
    )
    client.execute(cwd=str(CHAPTER.parent), env=env)
    if time.monotonic() - started > SLOW_RUN_SECONDS:
        warnings.warn("the explorer cells took long to run in a kernel:\n" + "\n".join(timeline), stacklevel=2)
    return notebook, client


def mime_types(cell: nbformat.NotebookNode) -> set[str]:
    return {mime for output in cell.outputs for mime in output.get("data", {})}


@pytest.mark.slow
def test_book_build_gets_a_static_figure_and_no_widget() -> None:
    env = {key: value for key, value in os.environ.items() if key != "JPY_SESSION_NAME"}
    notebook, client = run(explorer_cells(), env)
    explorer_cell = notebook.cells[-1]
    assert "image/png" in mime_types(explorer_cell), "the static page shows no figure"
    assert WIDGET_VIEW not in mime_types(explorer_cell), "a widget in the static page needs scripts from a CDN"
    # Widget state in the notebook metadata makes MyST-NB add require.js and the widget manager from a CDN.
    assert client.widget_state == {} and "widgets" not in notebook.metadata


@pytest.mark.slow
def test_jupyterlab_gets_sliders_that_redraw() -> None:
    env = {**os.environ, "JPY_SESSION_NAME": str(CHAPTER)}
    notebook, client = run([*explorer_cells(), nbformat.v4.new_code_cell(PROBE)], env)
    explorer_cell, probe_cell = notebook.cells[-2:]

    assert WIDGET_VIEW in mime_types(explorer_cell), "JupyterLab gets no widget"
    assert "image/png" not in mime_types(explorer_cell), "the static figure is drawn besides the widget"
    # The kernel opened the widgets' models on the frontend (nbclient records their state as JupyterLab would).
    models = {state.get("_model_name") for state in client.widget_state.values()}
    assert {"DropdownModel", "FloatSliderModel", "OutputModel"} <= models, models
    # Each panel's output area (one per function chosen: elu, then hardtanh) shows one figure after its
    # redraws: the new figure replaces the old one instead of piling up below it.
    output_areas = [state for state in client.widget_state.values() if state.get("_model_name") == "OutputModel"]
    shown = [[sorted(output.get("data", {})) for output in area.get("outputs", [])] for area in output_areas]
    assert shown == [[["image/png", "text/plain"]]] * 2, shown

    report = json.loads("".join(output.get("text", "") for output in probe_cell.outputs))
    assert report["start"] == "elu" and {"leaky_relu", "swish", "softshrink", "threshold"} <= set(report["functions"])
    assert "gelu" not in report["functions"], "gelu's only parameter is a string"
    assert report["sliders"] == ["alpha"]
    assert report["f_changed"] and report["redrawn_title"] == "elu(x, alpha=2)", report
    assert report["f_at_minus_5"] == pytest.approx(2.0 * (2.718281828459045**-5 - 1)), "f is not ELU with alpha 2"
    assert report["hardtanh_sliders"] == ["max_val", "min_val"]
    assert "min_val must be less than max_val" in report["refusal"], report["refusal"]
