"""Every chapter run as a reader runs it in JupyterLab: as a notebook, in a fresh kernel, and ready to run again.

A chapter is read with jupytext (the book's chapters are MyST Markdown notebooks) and executed with nbclient
in the ``python3`` kernel that ``make lab`` offers, with ``book/`` as the working directory, as the book build
does. Neither run may raise or write to stderr (the book build treats stderr as a warning, and so a failure).

When ``make book`` left a current execution cache, the fresh kernel must show the outputs the book build recorded
there (text, tables, glued values, figures), apart from memory addresses and from cells that measure time or show
what was measured; the strict build of ``tests/test_book.py`` then renders those outputs instead of executing the
chapter again, so each chapter executes twice in all: once for the book, once here.

A reader who plays with a chapter and presses Run All again starts from the state the first run left. The
notebook's own variables cannot make the second run differ: the fresh run proves that every cell sets a name
before it reads it, so the second run sets each again in the same order. What a second run inherits beyond them
is process-wide state: actlib's registry and its entries, matplotlib's rcParams, NumPy's error handling and print
options, ``sys.path``, the working directory, the environment (apart from what an import sets, as scikit-learn
sets KMP_DUPLICATE_LIB_OK) and the set of files under ``book/``. Each chapter must leave
all of it as a fresh kernel has it (``tests/test_notebooks.py::process_state`` lists what is compared). A real
second Run All in the same kernel still runs when no book build is there to compare with, or when
``ACTBOOK_RUN_ALL_TWICE=1`` asks for it; it doubles the chapters' cost, which is why it is not the default.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.test_book import execute_chapters, execution_inputs, toc_documents

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CHAPTER_TIMEOUT_SECONDS = 600
# What `make book` executed, and the fingerprint of its inputs beside it (scripts/execution_inputs.py).
BOOK_CACHE = ROOT / "_build" / ".jupyter_cache"
# Set to 1 to run every chapter a second time in the same kernel even when the book build's outputs are there.
RUN_ALL_TWICE_VARIABLE = "ACTBOOK_RUN_ALL_TWICE"

# A cell that measures time prints or glues different numbers on every run, and so does a later cell that
# uses what it measured; the outputs of such cells are not compared (their checks still run, and still must
# pass, on both runs). What measures: the clocks of the time module, anything from timeit and tracemalloc,
# and the bare names `from time import ...` brings in (not `monotonic`, which the book uses as a property).
_TIME_CLOCKS = {"time", "time_ns", "perf_counter", "perf_counter_ns", "process_time", "process_time_ns",
                "monotonic", "monotonic_ns", "thread_time", "thread_time_ns"}
_MEASURING_MODULES = {"timeit", "tracemalloc"}
_BARE_TIMERS = {"timeit", "perf_counter", "perf_counter_ns", "process_time", "process_time_ns", "default_timer",
                "get_traced_memory"}
_TIMING_MAGICS = {"timeit", "time"}
# Methods that change their object in place: a measured time appended to a list makes the list measured.
_CHANGING_METHODS = {"append", "extend", "insert", "update", "setdefault", "add"}
# Object reprs such as <function f at 0x7f3a...> change between runs.
_MEMORY_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


@dataclass
class BookRun:
    """A chapter as the book build executed it: its cells with their outputs, and the seconds the execution took."""

    cells: list[nbformat.NotebookNode]
    seconds: float | None


@functools.cache
def _book_cache_is_current() -> bool:
    return execution_inputs.is_current(BOOK_CACHE)


def book_run(notebook: nbformat.NotebookNode) -> BookRun | None:
    """The book build's execution of a chapter, from the cache ``make book`` left, or None.

    The cache (jupyter-cache, as MyST-NB fills it) matches a chapter by its code cells; the fingerprint of
    ``scripts/execution_inputs.py`` says whether actlib, the book's data and the packages are still those it
    was filled from. The build ran the chapter in a fresh kernel, with ``book/`` as the working directory.
    """
    if not _book_cache_is_current():
        return None
    from jupyter_cache import get_cache

    cache = get_cache(str(BOOK_CACHE))
    try:
        record = cache.match_cache_notebook(notebook)
    except KeyError:
        return None
    recorded = cache.get_cache_bundle(record.pk).nb
    cells = copy.deepcopy(notebook.cells)
    code_cells = [cell for cell in cells if cell.cell_type == "code"]
    recorded_code = [cell for cell in recorded.cells if cell.cell_type == "code"]
    if len(code_cells) != len(recorded_code):
        return None
    for cell, executed in zip(code_cells, recorded_code, strict=True):
        cell.outputs = executed.get("outputs", [])
    return BookRun(cells, record.data.get("execution_seconds"))


def chapter_sources() -> list[Path]:
    """The source file of every page in _toc.yml, so a new chapter is run as soon as it is listed: the pages
    ``make book`` executes before the build (``scripts/execute_chapters.py``)."""
    return execute_chapters.chapter_paths(ROOT / "_toc.yml")


def _measures_time(tree: ast.AST) -> bool:
    """Whether code calls a clock or a timer (importing one is not measuring)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in _BARE_TIMERS:
            return True
        module = getattr(node.value, "id", None) if isinstance(node, ast.Attribute) else None
        if module in _MEASURING_MODULES or (module == "time" and node.attr in _TIME_CLOCKS):
            return True
        if (  # %timeit and %%time, as IPython rewrites them: get_ipython().run_line_magic('timeit', ...)
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"run_line_magic", "run_cell_magic"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in _TIMING_MAGICS
        ):
            return True
    return False


def _root_name(node: ast.AST) -> str | None:
    """The variable an expression belongs to: ``timings`` for ``timings["fit"]``, ``model`` for ``model.w``."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _stored_in(target: ast.AST) -> list[ast.AST]:
    """The expressions an assignment target stores into, tuples unpacked: ``a, b[i] = ...`` -> ``a``, ``b[i]``."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return [stored for element in target.elts for stored in _stored_in(element)]
    if isinstance(target, ast.Starred):
        return _stored_in(target.value)
    return [target]


def _flows(statement: ast.stmt) -> tuple[list[ast.AST], list[ast.AST]] | None:
    """``(sources, targets)`` of a statement that stores a value: an assignment, a loop variable, a ``with ...
    as``, or a call that changes its object (``log.append(t)``)."""
    if isinstance(statement, ast.Assign):
        return [statement.value], statement.targets
    if isinstance(statement, ast.AugAssign):
        return [statement.value, statement.target], [statement.target]  # x += t reads x as well as t
    if isinstance(statement, ast.AnnAssign) and statement.value is not None:
        return [statement.value], [statement.target]
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        return [statement.iter], [statement.target]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        items = [item for item in statement.items if item.optional_vars is not None]
        return [item.context_expr for item in items], [item.optional_vars for item in items]
    call = statement.value if isinstance(statement, ast.Expr) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _CHANGING_METHODS:
        return [*call.args, *call.keywords], [call.func.value]
    return None


def _evaluated(statement: ast.stmt) -> list[ast.AST]:
    """What a statement evaluates itself; the statements nested in its body are taken one by one."""
    if isinstance(statement, (ast.If, ast.While)):
        return [statement.test]
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        return [statement.iter]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in statement.items]
    if isinstance(statement, ast.Match):
        return [statement.subject]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try)):
        return []
    return [statement]


def timing_dependent_cells(cells: list[nbformat.NotebookNode]) -> set[int]:
    """Indices of the code cells that measure time or read a variable holding a measured time.

    Measured times are followed statement by statement, in the order the code is written: a variable becomes
    measured when a value computed from a clock or from a measured variable is stored in it (``t = ...``,
    ``timings["fit"] = ...``, ``log.append(...)``), and clean again when a clean value is bound to its name.
    A variable computed beside a measurement (the results of a timed experiment) stays clean.
    """
    to_python = TransformerManager().transform_cell  # %timeit and other magics become plain calls
    dependent: set[int] = set()
    measured: set[str] = set()

    def reads_a_time(nodes: list[ast.AST]) -> bool:
        return any(
            _measures_time(node)
            or any(
                isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load) and name.id in measured
                for name in ast.walk(node)
            )
            for node in nodes
        )

    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(to_python(cell.source))
        statements = sorted(
            (node for node in ast.walk(tree) if isinstance(node, ast.stmt)), key=lambda n: (n.lineno, n.col_offset)
        )
        for statement in statements:
            if reads_a_time(_evaluated(statement)):
                dependent.add(index)
            flow = _flows(statement)
            if flow is None:
                continue
            sources, targets = flow
            stored = [node for target in targets for node in _stored_in(target)]
            if reads_a_time(sources):
                measured |= {_root_name(node) for node in stored} - {None}
            else:  # a clean value bound to a name replaces a measured one; stored into an item, it does not
                measured -= {node.id for node in stored if isinstance(node, ast.Name)}
    return dependent


def comparable_outputs(cell: nbformat.NotebookNode) -> list[dict]:
    """A cell's outputs as plain data, with memory addresses masked and execution counts dropped.

    Consecutive writes to one stream are joined: the kernel flushes stdout on a timer, so under load one
    ``print`` can arrive as two stream messages, and that split says nothing about what the cell computed.
    """
    outputs = []
    for output in cell.get("outputs", []):
        output = {key: value for key, value in output.items() if key != "execution_count"}
        previous = outputs[-1] if outputs else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = previous["text"] + output.get("text", "")
            continue
        outputs.append(output)
    return [_mask_addresses(output) for output in outputs]


def _mask_addresses(value):
    if isinstance(value, str):
        return _MEMORY_ADDRESS.sub("0x…", value)
    if isinstance(value, dict):
        return {key: _mask_addresses(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_addresses(item) for item in value]
    return value


def stderr_text(cells: list[nbformat.NotebookNode]) -> list[str]:
    """What the cells wrote to stderr, one entry per cell that wrote anything, prefixed by its index."""
    found = []
    for index, cell in enumerate(cells):
        text = "".join(
            output.get("text", "")
            for output in cell.get("outputs", [])
            if output.get("output_type") == "stream" and output.get("name") == "stderr"
        )
        if text:
            found.append(f"cell {index}: {text}")
    return found


# A number in the prose, {eval}`glue_text("name:format")`: JupyterLab asks the kernel for it once the cells have
# run (jupyterlab-myst), the book pastes what the chapter glued (_ext/evalglue.py).
_PROSE_EXPRESSION = re.compile(r"\{eval\}`([^`]*)`")
_PROSE_PROBE = """
import json as _json
_answers = {}
for _expression in %r:
    try:
        _answers[_expression] = str(eval(_expression))
    except Exception as _error:
        _answers[_expression] = f"{type(_error).__name__}: {_error}"
print(_json.dumps(_answers))
"""


def prose_in_the_kernel(client: NotebookClient, notebook: nbformat.NotebookNode) -> dict[str, str]:
    """What JupyterLab shows for each {eval} of the prose after Run All: the kernel's answer to each expression."""
    expressions = sorted({expression for cell in notebook.cells if cell.cell_type == "markdown"
                          for expression in _PROSE_EXPRESSION.findall(cell.source)})
    return json.loads(_probe(client, _PROSE_PROBE % (expressions,)))


def prose_in_the_book(cells: list[nbformat.NotebookNode], expressions: list[str]) -> dict[str, str]:
    """What the book shows for each {eval}: the glued text/plain the cells recorded, formatted by the book's role."""
    from actlib.glue import glued_text, split_key

    glued = {output["metadata"]["scrapbook"]["name"]: output["data"].get("application/papermill.record/text/plain")
             for cell in cells if cell.cell_type == "code" for output in cell.get("outputs", [])
             if output.get("output_type") == "display_data" and "scrapbook" in output.get("metadata", {})}
    shown = {}
    for expression in expressions:
        name, format_spec = split_key(ast.literal_eval(expression.strip()[len("glue_text("):-1]))
        recorded = glued.get(name)
        shown[expression] = f"not glued: {name}" if recorded is None else glued_text(recorded, format_spec)
    return shown


# Process-wide state a second Run All would inherit from the first (see the module docstring), as JSON. Only
# modules the chapter imported are read, so the probe itself imports nothing the chapter did not. Functions are
# named by module and qualified name (a patched-in lambda is `__main__.<lambda>`), other values by their repr.
_PROCESS_STATE_PROBE = r"""
import json as _json, os as _os, sys as _sys
def _actbook_process_state():
    def _named(value):
        if callable(value) and hasattr(value, "__qualname__"):
            return f"{getattr(value, '__module__', None)}.{value.__qualname__}"
        return repr(value)
    state = {"sys.path": list(_sys.path), "working directory": _os.getcwd(), "environment": dict(_os.environ)}
    if "actlib" in _sys.modules:
        _registry = _sys.modules["actlib"].ACTIVATIONS
        state["actlib registry"] = {name: {attribute: _named(value) for attribute, value in sorted(vars(entry).items())}
                                    for name, entry in _registry.items()}
    if "matplotlib.pyplot" in _sys.modules:
        # "interactive" is switched on by the inline backend at a kernel's first figure, whichever run draws it
        state["matplotlib rcParams"] = {key: repr(value) for key, value in _sys.modules["matplotlib"].rcParams.items()
                                        if key != "interactive"}
    if "numpy" in _sys.modules:
        _np = _sys.modules["numpy"]
        state["NumPy error handling"] = _np.geterr()
        state["NumPy print options"] = {key: repr(value) for key, value in _np.get_printoptions().items()}
    return state
print(_json.dumps(_actbook_process_state()))
del _actbook_process_state
"""
# The settings of a fresh kernel that has imported what the chapters import; the environment, sys.path and the
# working directory are read from the chapter's own kernel before its first cell instead.
_IMPORTED_PARTS = ("actlib registry", "matplotlib rcParams", "NumPy error handling", "NumPy print options")
_FRESH_KERNEL_IMPORTS = ("import numpy\nimport matplotlib.pyplot\nimport actlib\n"
                         "import sklearn\ntry:\n    import torch\nexcept ImportError:\n    pass\n")


def _probe(client: NotebookClient, source: str) -> str:
    """Run ``source`` in the client's kernel as an extra cell; what it printed on stdout."""
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)  # nbclient writes a cell's outputs into the notebook it runs
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1)
    finally:
        client.nb.cells.pop()
    errors = [output for output in cell.outputs if output.get("output_type") == "error"]
    assert errors == [], f"the probe raised: {errors}"
    return "".join(output.get("text", "") for output in cell.outputs if output.get("name") == "stdout")


def process_state(client: NotebookClient) -> dict:
    """The process-wide state of the client's kernel that a second Run All would start from."""
    return json.loads(_probe(client, _PROCESS_STATE_PROBE))


def _files_under(folder: Path) -> set[str]:
    """The files under ``folder``, hidden ones (checkpoints, an editor's temporary copy) left out. Names only: the
    JupyterLab tests, which run beside the chapters, save chapters unchanged, which touches their times."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)}


@functools.cache
def fresh_kernel_state() -> dict:
    """:func:`process_state` of a kernel that ran nothing but the chapters' imports: what a first Run All meets."""
    notebook = nbformat.v4.new_notebook()
    client = NotebookClient(notebook, kernel_name="python3", timeout=CHAPTER_TIMEOUT_SECONDS,
                            resources={"metadata": {"path": str(BOOK)}})
    with client.setup_kernel(cwd=str(BOOK)):
        _probe(client, _FRESH_KERNEL_IMPORTS)
        state = process_state(client)
    # the environment after the imports: a variable an import sets (scikit-learn sets KMP_DUPLICATE_LIB_OK) is the same
    # in a second run, so a chapter may leave it
    return {part: value for part, value in state.items() if part in _IMPORTED_PARTS or part == "environment"}


def expected_state(start: dict, imported: dict, left: dict) -> dict:
    """What a chapter should leave: the settings of a fresh kernel after the chapters' imports (``imported``), the
    environment its own kernel started with (``start``), and any variable an import set as ``left`` has it."""
    expected = {**start, **{part: value for part, value in imported.items() if part != "environment"}}
    set_by_imports = {key: value for key, value in imported["environment"].items()
                      if left["environment"].get(key) == value}
    expected["environment"] = {**start["environment"], **set_by_imports}
    return expected


def _flattened(state: dict) -> dict[str, str]:
    """``{"actlib registry: relu.derivative": ..., "sys.path": ...}``: one entry per setting, addresses masked."""
    flat = {}
    for part, value in state.items():
        if isinstance(value, dict):
            for key, item in value.items():
                for attribute, detail in (item.items() if isinstance(item, dict) else [(None, item)]):
                    name = f"{part}: {key}" if attribute is None else f"{part}: {key}.{attribute}"
                    flat[name] = _mask_addresses(repr(detail))
        else:
            flat[part] = _mask_addresses(repr(value))
    return flat


def state_left_changed(fresh: dict, left: dict) -> list[str]:
    """What a chapter left different from a fresh kernel, one line per setting (only parts both kernels hold)."""
    shared = set(fresh) & set(left)
    before = _flattened({part: fresh[part] for part in shared})
    after = _flattened({part: left[part] for part in shared})
    return [f"{name}: {before.get(name, '(absent)')[:200]} -> {after.get(name, '(absent)')[:200]}"
            for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]


def run_all_cells(client: NotebookClient, notebook: nbformat.NotebookNode, run: str) -> float:
    """Execute every cell in order in the client's running kernel, failing on a cell error; the seconds taken."""
    started = time.perf_counter()
    for index, cell in enumerate(notebook.cells):
        try:
            client.execute_cell(cell, index)
        except CellExecutionError as error:
            pytest.fail(f"cell {index} raised on the {run} run:\n{error}", pytrace=False)
    return time.perf_counter() - started


def test_chapter_sources_are_found() -> None:
    sources = chapter_sources()
    assert len(sources) == len(toc_documents(ROOT / "_toc.yml")), "a page in _toc.yml has no .md or .ipynb file"
    assert BOOK / "relu.md" in sources


def test_memory_addresses_are_masked() -> None:
    cell = nbformat.v4.new_code_cell("f")
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "<function f at 0x7f3a2c1d9e40>"})]
    assert comparable_outputs(cell)[0]["data"]["text/plain"] == "<function f at 0x…>"


def test_one_print_split_across_two_stream_messages_compares_equal() -> None:
    whole, split = nbformat.v4.new_code_cell("print(1)"), nbformat.v4.new_code_cell("print(1)")
    whole.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\nb\n")]
    split.outputs = [nbformat.v4.new_output("stream", name="stdout", text=part) for part in ("a\nb", "\n")]
    assert comparable_outputs(whole) == comparable_outputs(split)
    split.outputs[1]["name"] = "stderr"
    assert comparable_outputs(whole) != comparable_outputs(split)


def test_timing_dependence_follows_the_variables() -> None:
    sources = [
        "import time\nimport timeit\nx = [1.0, 2.0]\nseconds = {}\nlog = []",  # 1: imports timers, measures nothing
        "best = min(timeit.repeat(lambda: sum(x), number=5))",  # 2: measures
        "ratio = best / 2\nprint(ratio)",  # 3: reads a measured time
        "table = [ratio, 1]",  # 4: reads a value derived from one
        "best = 3.0\nprint(best)",  # 5: rebinds best to a constant
        "print(best, x)",  # 6: reads the clean best and the clean x
        "%timeit sum(x)",  # 7: a magic that measures
        "started = time.time()",  # 8: reads the clock
        "print(time.strftime('%Y'), x, props.monotonic)",  # 9: uses the time module without measuring
        "seconds['fit'] = time.process_time() - started\nlog.append(time.perf_counter())",  # 10: stores times
        "seconds['note'] = 0.0",  # 11: a clean item does not make the dict clean
        "print(seconds, log)",  # 12: reads the dict and the list holding times
        "started = time.process_time()\nresults = [sum(x)]\nseconds['run'] = time.process_time() - started",  # 13
        "print(results)",  # 14: results were computed beside a measurement, not from one
        "for part, value in seconds.items():\n    total = value",  # 15: loops over measured times
        "print(total, part)",  # 16: the loop carried them into total and part
        "total, x = 0.0, [3.0]\nprint(x)",  # 17: rebinds both to clean values, then reads one
    ]
    cells = [nbformat.v4.new_markdown_cell("text")] + [nbformat.v4.new_code_cell(source) for source in sources]
    assert timing_dependent_cells(cells) == {2, 3, 4, 7, 8, 10, 11, 12, 13, 15, 16}


def _cell_outputs_differ(before: list[nbformat.NotebookNode], after: list[nbformat.NotebookNode],
                         skipped: set[int]) -> list[int]:
    """Indices of the code cells whose comparable outputs differ between two runs of one chapter."""
    return [
        index
        for index, (one, other) in enumerate(zip(before, after, strict=True))
        if one.cell_type == "code" and index not in skipped and comparable_outputs(one) != comparable_outputs(other)
    ]


def _differences(source: Path, before: list, after: list, indices: list[int], names: tuple[str, str]) -> str:
    return "\n---\n".join(
        f"{after[index].source}\n{names[0]}: {comparable_outputs(before[index])}"
        f"\n{names[1]}: {comparable_outputs(after[index])}"
        for index in indices
    )


@pytest.mark.slow
@pytest.mark.parametrize("source", chapter_sources(), ids=lambda path: path.stem)
def test_chapter_runs_as_in_the_book_and_can_run_again(
    source: Path, record_property: Callable[[str, object], None]
) -> None:
    """A fresh kernel gives the outputs the book shows, and leaves the state a second Run All needs.

    The book build's execution, when ``make book`` left a current cache (see ``book_run``), is compared with the
    fresh kernel's run instead of being repeated by the strict build. Without it, or with
    ``ACTBOOK_RUN_ALL_TWICE=1``, the chapter also runs a second time in the same kernel, as a reader's second Run
    All does, and must show the first run's outputs again.
    """
    notebook = jupytext.read(source)
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        pytest.skip("the page has no code cell")  # a placeholder or a reference page: no kernel to start
    in_the_build = book_run(notebook)
    run_twice = in_the_build is None or os.environ.get(RUN_ALL_TWICE_VARIABLE) == "1"
    files_before = _files_under(BOOK)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CHAPTER_TIMEOUT_SECONDS,
        allow_errors=False,
        resources={"metadata": {"path": str(BOOK)}},
    )
    with client.setup_kernel(cwd=str(BOOK)):
        # what the kernel starts with (no chapter module is imported yet, so only its environment is read)
        fresh_state, imported = process_state(client), fresh_kernel_state()
        seconds = [run_all_cells(client, notebook, "first")]
        fresh_run = copy.deepcopy(notebook.cells)
        state_left = process_state(client)
        files_left = _files_under(BOOK)
        if run_twice:
            seconds.append(run_all_cells(client, notebook, "second"))
        in_the_kernel = prose_in_the_kernel(client, notebook)
    last_run = notebook.cells
    timing_dependent = timing_dependent_cells(last_run)
    # The cost of each chapter, for the table at the end of the run (tests/conftest.py) and the next person
    # who wonders where the test run's time went.
    record_property("chapter_seconds", (source.name, in_the_build.seconds if in_the_build else None, seconds))

    # Every number of the prose has a value in the kernel after Run All (none glued only later, none misspelt),
    # the same text as the book's (timing cells excepted: a second run measured again).
    in_the_book = prose_in_the_book(last_run, list(in_the_kernel))
    failed = {expression: answer for expression, answer in in_the_kernel.items() if answer != in_the_book[expression]}
    assert failed == {}, f"{source.name}: the prose shows in JupyterLab / in the book: " + "; ".join(
        f"{expression}: {answer!r} / {in_the_book[expression]!r}" for expression, answer in failed.items()
    )
    assert stderr_text(fresh_run) == [], f"{source.name} writes to stderr in a fresh kernel"
    if in_the_build is not None:
        assert stderr_text(in_the_build.cells) == [], f"{source.name} wrote to stderr in the book build"
        differing = _cell_outputs_differ(in_the_build.cells, fresh_run, timing_dependent)
        assert differing == [], (
            f"{source.name}: cells {differing} show other outputs in a fresh kernel than in the book build "
            f"({BOOK_CACHE.relative_to(ROOT)}):\n"
            + _differences(source, in_the_build.cells, fresh_run, differing, ("book build", "fresh kernel"))
        )
    changed = state_left_changed(expected_state(fresh_state, imported, state_left), state_left)
    assert changed == [], (f"{source.name} leaves process-wide state that a second Run All would start from "
                           "(use a context manager, e.g. np.errstate or plt.rc_context):\n" + "\n".join(changed))
    written = sorted(files_before ^ files_left)
    assert written == [], f"files under book/ appeared or vanished while {source.name} ran: {written}"
    if run_twice:
        assert stderr_text(last_run) == [], f"{source.name} writes to stderr when run a second time"
        differing = _cell_outputs_differ(fresh_run, last_run, timing_dependent)
        assert differing == [], (
            f"{source.name}: cells {differing} show different outputs when run a second time:\n"
            + _differences(source, fresh_run, last_run, differing, ("first run", "second run"))
        )


@pytest.mark.slow
def test_state_a_second_run_would_inherit_is_caught() -> None:
    """The check that replaces a second Run All names each kind of process-wide change a chapter can leave."""
    notebook = nbformat.v4.new_notebook()
    client = NotebookClient(notebook, kernel_name="python3", timeout=CHAPTER_TIMEOUT_SECONDS,
                            resources={"metadata": {"path": str(BOOK)}})
    with client.setup_kernel(cwd=str(BOOK)):
        start, imported = process_state(client), fresh_kernel_state()
        _probe(client, _FRESH_KERNEL_IMPORTS + "fig = matplotlib.pyplot.figure()\nmatplotlib.pyplot.close(fig)\n")
        left = process_state(client)
        fresh = expected_state(start, imported, left)
        assert state_left_changed(fresh, left) == [], "a chapter's imports and a figure change nothing"
        _probe(client, "numpy.seterr(over='ignore')\nmatplotlib.pyplot.rcParams['lines.linewidth'] = 3.0\n"
                       "actlib.relu.derivative = lambda x: x\nimport os\nos.environ['ACTBOOK_PROBE'] = '1'\n"
                       "import sys\nsys.path.append('elsewhere')")
        changed = state_left_changed(fresh, process_state(client))
    assert [line.split(":")[0] for line in changed] == [
        "NumPy error handling", "actlib registry", "environment", "matplotlib rcParams", "sys.path"], changed
    assert any("relu.derivative" in line and "__main__.<lambda>" in line for line in changed), changed
