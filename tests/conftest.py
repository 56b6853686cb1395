"""Shared fixtures: the registry as test parameters."""

import importlib
import os

import numpy as np
import pytest

import actlib

# Modules to import before the registry is read (comma-separated): tests/test_one_entry.py runs the suite
# with tests.example_activation registered, to show that a new entry is picked up with no other edit.
EXAMPLE_MODULES = [m for m in os.environ.get("ACTLIB_EXAMPLE_MODULES", "").split(",") if m]
for _module in EXAMPLE_MODULES:
    importlib.import_module(_module)

# The example module registers an activation when imported: --doctest-modules would import it while
# collecting, and the registry-driven parametrisations below would then name a function that
# tests/test_one_entry.py unregisters before they run.
collect_ignore = ["example_activation.py"]

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
