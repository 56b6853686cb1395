"""The activation explorer's build-time data (``_ext/explorer.py``): it follows the registry, keeps exactly
the parameter combinations actlib accepts, stores actlib's values, and finds the kinks.

The browser side (the sliders, the drawing, the printed values) is tested in ``tests/browser/test_explorer.py``.
"""

from __future__ import annotations

import base64
import importlib.util
import itertools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import actlib

EXTENSION = Path(__file__).resolve().parents[1] / "_ext" / "explorer.py"


def load_extension():
    spec = importlib.util.spec_from_file_location("explorer_extension", EXTENSION)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


explorer = load_extension()


@pytest.fixture(scope="module")
def data() -> dict:
    return explorer.explorer_data()


def decoded(entry) -> dict:
    """The payload of a function's data script, as the browser receives it."""
    match = re.fullmatch(r"actlibExplorer\.receive\((\"\w+\"),(.*)\);\n", entry.script, flags=re.DOTALL)
    assert match, entry.script[:200]
    payload = json.loads(match.group(2))
    payload["values"] = np.frombuffer(base64.b64decode(payload["values"]), dtype="<f4")
    return payload


def combinations(entry) -> Iterator[tuple[int, dict[str, float]]]:
    """(index in the data's rows, slider values) in the order the browser computes the index."""
    grids = [slider["values"] for slider in entry.sliders]
    names = [slider["name"] for slider in entry.sliders]
    for index, values in enumerate(itertools.product(*grids)):
        yield index, dict(zip(names, values, strict=True))


def test_every_elementwise_activation_is_in_the_explorer(data: dict) -> None:
    elementwise = [name for name, f in actlib.ACTIVATIONS.items() if f.info.properties.elementwise]
    assert list(data) == elementwise
    assert "softmax" not in data


def test_sliders_are_the_numeric_parameters_and_start_at_the_defaults(data: dict) -> None:
    for name, entry in data.items():
        defaults = actlib.ACTIVATIONS[name].info.parameters
        numeric = [p for p, v in defaults.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        assert [slider["name"] for slider in entry.sliders] == numeric, name
        assert set(entry.fixed) == set(defaults) - set(numeric), name
        for slider in entry.sliders:
            assert slider["values"][slider["default"]] == pytest.approx(defaults[slider["name"]], rel=1e-12), name


def test_kept_combinations_are_exactly_those_actlib_accepts(data: dict) -> None:
    rejected_somewhere = set()
    for name, entry in data.items():
        f = actlib.ACTIVATIONS[name]
        for index, params in combinations(entry):
            try:
                f(0.5, **params)
                accepted = True
            except ValueError:
                accepted = False
            assert (entry.rows[index] >= 0) == accepted, (name, params)
            if not accepted:
                rejected_somewhere.add(name)
    # The grids reach past the valid ranges, so the explorer really filters (beta > 0, lambd >= 0, ...).
    assert {"softplus", "celu", "softshrink", "hardshrink", "rrelu", "hardtanh"} <= rejected_somewhere


def test_stored_values_are_actlib_values_rounded_to_float32(data: dict) -> None:
    for name, entry in data.items():
        f = actlib.ACTIVATIONS[name]
        payload = decoded(entry)
        x = np.asarray(payload["x"])
        values = payload["values"].reshape(len(entry.values), 2, len(x))
        for index, params in combinations(entry):
            row = payload["rows"][index]
            if row < 0:
                continue
            np.testing.assert_array_equal(values[row, 0], f(x, **params).astype(np.float32), err_msg=name)
            np.testing.assert_array_equal(values[row, 1], f.derivative(x, **params).astype(np.float32), err_msg=name)


def test_kinks_carry_actlibs_derivative_there(data: dict) -> None:
    relu = data["relu"]
    assert relu.kinks == [[[0.0, 0.0, float(actlib.relu.derivative(0.0))]]]
    # softshrink's kinks move with lambd: they are at +-lambd for every lambd > 0 of the grid.
    softshrink = data["softshrink"]
    for index, params in combinations(softshrink):
        row = softshrink.rows[index]
        if row >= 0 and params["lambd"] > 0:
            places = [kink[0] for kink in softshrink.kinks[row]]
            assert places == [-params["lambd"], params["lambd"]], params
            slopes = [kink[2] for kink in softshrink.kinks[row]]
            assert slopes == [float(actlib.softshrink.derivative(p, **params)) for p in places]
    for name, entry in data.items():
        assert entry.missing_registry_kinks == [], name


def test_the_x_grid_reaches_past_every_registry_kink(data: dict) -> None:
    for name, entry in data.items():
        for kink in actlib.ACTIVATIONS[name].info.properties.kinks:
            assert kink in entry.x
            assert entry.x[0] <= kink - explorer.KINK_MARGIN and kink + explorer.KINK_MARGIN <= entry.x[-1], name


def registry_entry(name: str, kinks: tuple[float, ...], parameters: dict, forward, slope):
    """A function with the public surface of a registry entry (``f(x, **params)``, ``f.derivative``,
    ``f.info``), which is all the explorer reads; built by hand, so the test does not depend on how actlib
    builds its own entries."""

    def check(params: dict) -> dict:
        if params.get("slope", 1.0) <= 0:
            raise ValueError(f"{name}: slope must be a finite real number > 0, got {params['slope']!r}")
        return {**parameters, **params}

    def function(x, **params):
        return forward(np.asarray(x, dtype=np.float64), **check(params))

    def derivative(x, **params):
        return slope(np.asarray(x, dtype=np.float64), **check(params))

    properties = actlib.Properties(range="(-inf, inf)", monotonic=True, smoothness="0", zero_centred=False,
                                   bounded_below=False, bounded_above=False, self_gated=False, kinks=kinks)
    function.derivative = derivative
    function.info = actlib.ActivationInfo(name, dict(parameters), properties)
    return function


@pytest.fixture
def registered_newcomer() -> Iterator[str]:
    """A new entry in the registry, removed afterwards: a leaky ReLU with a positive slope and a flag."""
    actlib.ACTIVATIONS["explorer_newcomer"] = registry_entry(
        "explorer_newcomer", (0.0,), {"slope": 2.0, "mode": "plain"},
        lambda x, slope, mode: np.where(x >= 0, x, slope * x),
        lambda x, slope, mode: np.where(x >= 0, 1.0, slope),
    )
    try:
        yield "explorer_newcomer"
    finally:
        del actlib.ACTIVATIONS["explorer_newcomer"]


def test_a_new_registry_entry_appears_with_its_range_from_its_checks(registered_newcomer: str) -> None:
    assert registered_newcomer in explorer.explorable_functions()
    entry = explorer.function_data(actlib.ACTIVATIONS[registered_newcomer])
    slider = entry.sliders[0]
    assert slider["name"] == "slope" and slider["values"][slider["default"]] == 2.0
    assert entry.fixed == {"mode": "'plain'"}
    kept = [value for value, row in zip(slider["values"], entry.rows, strict=True) if row >= 0]
    assert kept == [value for value in slider["values"] if value > 0] and len(kept) < len(slider["values"])
    assert entry.kinks[0] == [[0.0, 0.0, 1.0]]
    assert '"explorer_newcomer"' in explorer.manifest_script({registered_newcomer: entry})


def test_a_registry_kink_without_a_jump_is_reported() -> None:
    smooth = registry_entry("smooth_with_a_false_kink", (0.5,), {}, lambda x: 2.0 * x, lambda x: np.full_like(x, 2.0))
    entry = explorer.function_data(smooth)
    assert entry.missing_registry_kinks == [0.5]
    assert entry.kinks == [[]]


def test_candidate_values_step_by_a_power_of_two_around_the_default() -> None:
    assert explorer.candidate_values(1.0, 2) == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert explorer.candidate_values(0.0, 1) == [-0.125, 0.0, 0.125]
    assert explorer.candidate_values(1 / 3, 1) == [0.208333333333, 1 / 3, 0.458333333333]
