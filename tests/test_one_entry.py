"""The registry's promise: a new activation needs its module and its bibliography entry, nothing else.

``tests/example_activation.py`` defines ISRLU the way a contributor would, in one module that no
other file names. Registered, it appears in the registry's book order, the API page, the numerics and
variants chapters' tables and figures, and the contract, special-value, kink and accuracy tests. The
chapters' own code cells are run here (not a copy of them), and the test suite is run in a subprocess
with the example module imported first (``ACTLIB_EXAMPLE_MODULES``, read by conftest.py).
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import actlib

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "tests.example_activation"
NAME = "isrlu"


@pytest.fixture
def example():
    """The example module, registered for the test and unregistered afterwards."""
    import importlib

    module = importlib.import_module(EXAMPLE)
    if NAME not in actlib.ACTIVATIONS:  # imported before, then unregistered: register it again
        module = importlib.reload(module)
    yield module
    actlib.unregister(NAME)


def chapter_cells(chapter):
    """The code of each ``{code-cell}`` of a MyST chapter, in order (its YAML options dropped)."""
    text = (ROOT / "book" / f"{chapter}.md").read_text()
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", text, flags=re.M | re.S)
    # options come as a YAML block between --- lines or as ":key: value" lines (then a blank line)
    cells = [re.sub(r"\A---\n.*?\n---\n", "", cell, flags=re.S) for cell in cells]
    return [re.sub(r"\A(?::[\w-]+:[^\n]*\n)+\n?", "", cell) for cell in cells]


def run_cells_until(chapter, marker):
    """Run the chapter's cells up to and including the first containing ``marker``; return the namespace
    and the value of that cell's last expression (a table the chapter displays)."""
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    namespace = {"__name__": f"chapter_{chapter}"}
    displayed = []
    original = IPython.display.display
    IPython.display.display = lambda *objects, **_: displayed.extend(objects)  # what the cells display
    try:
        for code in chapter_cells(chapter):
            tree = ast.parse(code)
            last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            if last is not None:
                tree.body.pop()
            exec(compile(tree, f"{chapter}.md", "exec"), namespace)
            value = eval(compile(ast.Expression(last.value), f"{chapter}.md", "eval"), namespace) if last else None
            if marker in code:
                return namespace, value, displayed
    finally:
        IPython.display.display = original
    raise AssertionError(f"no cell of {chapter}.md contains {marker!r}")


def test_the_example_takes_its_place_in_the_book_order(example):
    names = list(actlib.ACTIVATIONS)
    assert names.index(NAME) == names.index("swish") + 1  # rank 95 of the variants chapter: after swish (90)
    assert actlib.isrlu is actlib.ACTIVATIONS[NAME]  # a name of the package, like the others


def test_the_example_is_on_the_api_page(example):
    sys.path.insert(0, str(ROOT))
    try:
        from _ext.actbook import registry_sections
    finally:
        sys.path.remove(str(ROOT))
    sections = dict(registry_sections())
    assert list(sections) == list(actlib.ACTIVATIONS)
    assert ".. autofunction:: isrlu" in sections[NAME]
    assert ".. autofunction:: actlib::isrlu.derivative" in sections[NAME]


def test_the_example_paper_key_is_its_only_bibliography_addition(example):
    """The book's check (intro.md) accepts every paper key once the example's entry is in references.bib."""
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), flags=re.M))
    assert "carlile2017" not in keys
    keys |= set(re.findall(r"^@\w+\{([^,]+),", example.BIBTEX, flags=re.M))
    papers = {f.info.properties.paper for f in actlib.ACTIVATIONS.values()} - {None}
    assert "carlile2017" in papers and papers <= keys


def test_the_example_has_a_row_in_the_numerics_table(example):
    _, table, _ = run_cells_until("numerics", "info.stable_form")
    rows = table.data.splitlines()
    assert any(row.startswith("| `isrlu` | rectifier | $x/") for row in rows)
    assert len(rows) == 2 + len(actlib.ACTIVATIONS)


def test_the_example_is_in_the_variants_table_and_figure(example):
    namespace, _, displayed = run_cells_until("variants", "one panel per variant")
    assert NAME in namespace["VARIANTS"]
    table = displayed[0].data
    assert "| `isrlu` |" in table and "carlile2017" in table
    titles = [ax.get_title() for ax in namespace["axes"].flat if ax.get_visible()]
    assert any(title.startswith("isrlu") for title in titles)


def _pytest(*args):
    env = {**os.environ, "ACTLIB_EXAMPLE_MODULES": EXAMPLE}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_the_contract_special_value_kink_and_accuracy_tests_pick_up_the_example():
    files = ["tests/test_contract.py", "tests/test_special_values.py", "tests/test_kinks.py",
             "tests/test_accuracy.py", "tests/test_chunking.py"]
    collected = _pytest("--collect-only", "-m", "not browser", *files)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = [line for line in collected.stdout.splitlines() if NAME in line]
    for file in files:
        assert any(line.startswith(file) for line in ids), f"{file} has no test of {NAME}"
    assert any("test_full_range_accuracy_in_ulps" in line for line in ids)
    assert any("test_invalid_parameter_raises_naming_it" in line for line in ids)
    ran = _pytest("-m", "not browser", "-k", NAME, *files)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert re.search(r"\d+ passed", ran.stdout), ran.stdout[-500:]


@pytest.mark.slow
def test_the_example_has_a_row_in_the_properties_table(example):
    """The properties chapter measures every property of the example and finds its declared ones true."""
    namespace, _, displayed = run_cells_until("properties", "header = [")
    table = displayed[-1].data
    row = next(line for line in table.splitlines() if line.startswith("| `isrlu` |"))
    assert "(!)" not in row, row  # no declared property contradicted by the chapter's measurement
    assert NAME in namespace["ELEMENTWISE"]


def test_every_family_module_registers_activations_and_no_support_module_does():
    modules = {f.info.module for f in actlib.ACTIVATIONS.values()}
    assert {f"actlib.{name}" for name in actlib.FAMILY_MODULES} == modules
    assert not set(actlib.FAMILY_MODULES) & set(actlib.SUPPORT_MODULES)


def test_book_places_are_unique_and_follow_the_chapters():
    places = [f.info.book for f in actlib.ACTIVATIONS.values()]
    assert len(set(places)) == len(places)
    assert [p.key for p in places] == sorted(p.key for p in places)
    with pytest.raises(ValueError, match="chapter must be one of"):
        actlib.BookPlace("appendix", 10)
