"""Shared fixtures: the registry as test parameters; where the run's time went, printed at its end."""

import importlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

import actlib
from actlib.accuracy import REFERENCE_CACHE_VARIABLE

# Modules to import before the registry is read (comma-separated): tests/test_one_entry.py runs the suite
# with tests.example_activation registered, to show that a new entry is picked up with no other edit.
EXAMPLE_MODULES = [m for m in os.environ.get("ACTLIB_EXAMPLE_MODULES", "").split(",") if m]
for _module in EXAMPLE_MODULES:
    importlib.import_module(_module)

# The example module registers an activation when imported: --doctest-modules would import it while
# collecting, and the registry-driven parametrisations below would then name a function that
# tests/test_one_entry.py unregisters before they run.
collect_ignore = ["example_activation.py"]

# The full-range sweeps keep their mpmath references here between runs (actlib.accuracy._references says why
# a stored reference is always the one the same inputs give); `make clean` removes them.
REFERENCES = Path(__file__).resolve().parent.parent / "_build" / ".mpmath-references"
os.environ.setdefault(REFERENCE_CACHE_VARIABLE, str(REFERENCES))

ALL = list(actlib.ACTIVATIONS)
ELEMENTWISE = [name for name, fn in actlib.ACTIVATIONS.items() if fn.info.properties.elementwise]
VECTOR = [name for name in ALL if name not in ELEMENTWISE]
FLOATS = [np.float16, np.float32, np.float64]


def pytest_configure(config):
    # derivative and value checks below are deterministic; hypothesis gets a fixed, CI-friendly profile
    from hypothesis import settings

    settings.register_profile("actlib", max_examples=200, deadline=None, derandomize=True)
    settings.load_profile("actlib")


@pytest.fixture(params=ALL)
def activation(request):
    return actlib.ACTIVATIONS[request.param]


@pytest.fixture(params=ELEMENTWISE)
def elementwise(request):
    return actlib.ACTIVATIONS[request.param]


def pytest_collection_modifyitems(session, config, items):
    """The chapters first, longest first (by ``make book``'s last times), then the rest in their usual order.

    Two workers share the run (``-n 2 --dist worksteal``): a chapter of half a minute met at the end would leave one
    core idle while the other finishes it, so the long tests are handed out while there is other work to fill in.
    """
    from scripts.execute_chapters import SECONDS

    seconds = json.loads(SECONDS.read_text(encoding="utf-8")) if SECONDS.is_file() else {}

    def chapter_seconds(item) -> float | None:
        if getattr(item, "originalname", None) != "test_chapter_runs_as_in_the_book_and_can_run_again":
            return None
        source = item.callspec.params["source"]
        return seconds.get(source.name, 0.0)

    timed = [(chapter_seconds(item), index, item) for index, item in enumerate(items)]
    chapters = sorted(((-sec, index, item) for sec, index, item in timed if sec is not None), key=lambda t: t[:2])
    items[:] = [item for _, _, item in chapters] + [item for sec, _, item in timed if sec is None]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Each chapter's execution time: in the book build (its cache) and in tests/test_notebooks.py."""
    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == "chapter_seconds" and getattr(report, "when", "call") == "call":
                    rows.append(value)
    if not rows:
        return
    terminalreporter.write_sep("=", "chapter execution, seconds (wall clock)")
    terminalreporter.write_line(f"{'chapter':<20}{'book build':>12}{'fresh kernel':>14}{'second Run All':>16}")
    for chapter, in_the_build, runs in sorted(rows, key=lambda row: -sum(row[2])):
        cells = [f"{in_the_build:.1f}" if in_the_build is not None else "-", f"{runs[0]:.1f}",
                 f"{runs[1]:.1f}" if len(runs) > 1 else "-"]
        terminalreporter.write_line(f"{chapter:<20}{cells[0]:>12}{cells[1]:>14}{cells[2]:>16}")
    total = sum(sum(runs) for _, _, runs in rows)
    terminalreporter.write_line(f"{'in this run':<20}{'':>12}{total:>14.1f}")
