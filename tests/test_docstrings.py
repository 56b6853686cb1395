"""Every public function of actlib documents each of its parameters and what it returns (numpydoc).

The public functions are the callables of ``actlib.__all__`` (every activation among them) and the
public functions of the support modules; the sections are read from the docstring as numpydoc lays
them out: ``Parameters`` with one ``name : type`` line per parameter (``a, b : float`` documents two),
and ``Returns``.
"""

import importlib
import inspect
import re

import pytest

import actlib


def _section(doc, title):
    """The lines of a numpydoc section (empty if absent)."""
    match = re.search(rf"^{title}\n-{{{len(title)}}}\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", doc, flags=re.M | re.S)
    return match.group(1).splitlines() if match else []


def documented_parameters(doc):
    names = set()
    for line in _section(doc, "Parameters"):
        if line and not line[0].isspace():
            head = line.split(" : ")[0]
            names.update(name.strip().lstrip("*") for name in head.split(","))
    return names


def public_functions():
    found = {}
    for name in actlib.__all__:
        value = getattr(actlib, name)
        if inspect.isfunction(value):
            found[f"actlib.{name}"] = value
    for module_name in actlib.SUPPORT_MODULES:
        module = importlib.import_module(f"actlib.{module_name}")
        for name, value in vars(module).items():
            if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return found


FUNCTIONS = public_functions()


@pytest.mark.parametrize("qualified", sorted(FUNCTIONS))
def test_docstring_documents_every_parameter_and_the_result(qualified):
    function = FUNCTIONS[qualified]
    doc = inspect.cleandoc(function.__doc__ or "")
    parameters = set(inspect.signature(function).parameters)  # *args and **kwargs too, without their stars
    missing = parameters - documented_parameters(doc)
    assert not missing, f"{qualified}: parameters not in its Parameters section: {sorted(missing)}"
    stray = documented_parameters(doc) - parameters
    assert not stray, f"{qualified}: documents parameters it does not take: {sorted(stray)}"
    assert _section(doc, "Returns") or _section(doc, "Yields"), f"{qualified}: no Returns section"


def test_the_check_reads_a_numpydoc_docstring():
    doc = "Summary.\n\nParameters\n----------\nx : array_like\n    Input.\nlower, upper : float\n    Bounds.\n\n" \
          "Returns\n-------\nndarray\n    Result.\n"
    assert documented_parameters(doc) == {"x", "lower", "upper"}
    assert _section(doc, "Returns")[0] == "ndarray"
    assert documented_parameters("Parameters\n----------\n*choices : str\n    Allowed.\n") == {"choices"}
    assert documented_parameters("Summary.") == set()
