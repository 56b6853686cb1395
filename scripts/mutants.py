"""Mutation testing of the activation modules with cosmic-ray: do the fast tests notice a wrong kernel?

``make mutants`` runs this script. It copies the repository (tracked and new files) to a temporary
directory, lists every mutant cosmic-ray can make of the family modules (``actlib.FAMILY_MODULES``) with
the operators below, draws a seeded sample, and for each mutant runs the fast tests (``make test-fast``'s,
selected by the names of the activations the module defines) until one fails. It prints each outcome,
the kill score, and the diff of every survivor.

Operators: comparisons flipped (``<`` to ``<=``, ``>``, ``==``, ...), arithmetic swapped among ``+ - * /``,
numbers nudged by one (cosmic-ray's NumberReplacer), a unary minus removed, and ``maximum``/``minimum``
(also ``fmax``/``fmin`` and actlib's ``at_most``/``at_least``) swapped, an operator this script adds to
cosmic-ray. Lines of an entry's declaration (``@activation(...)``: properties, expected values) and of
``evaluate_with`` are not mutated: they are data, checked by the tests directly; nor are the signatures
of derivative kernels, whose defaults are never used.

Each mutant first meets the cheap tests that fail fast (special values, kinks, the module's doctests,
spot accuracy, contract, identities, softmax, chunking and symbolic, stopping at the first failure); a
mutant that survives them meets the rest of the fast suite. A selection by name is a subset of
``make test-fast``: a mutant it kills, the whole fast suite kills too.
"""

from __future__ import annotations

import argparse
import ast
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import parso

ROOT = Path(__file__).resolve().parent.parent
# the cheap tests that catch most mutants, quickest first; the module's doctests go after the first two
FAST_TESTS = ["tests/test_special_values.py", "tests/test_kinks.py", "tests/test_spot_accuracy.py",
              "tests/test_contract.py", "tests/test_identities.py", "tests/test_softmax.py", "tests/test_chunking.py",
              "tests/test_symbolic.py"]
ARITHMETIC = ("Add", "Sub", "Mul", "Div")
COMPARISONS = ("Eq", "NotEq", "Lt", "LtE", "Gt", "GtE")
SWAPS = {"maximum": "minimum", "minimum": "maximum", "fmax": "fmin", "fmin": "fmax",
         "at_most": "at_least", "at_least": "at_most"}


def _swap_operator():
    """A cosmic-ray operator that swaps ``maximum`` and ``minimum`` (and their relatives) in a call."""
    from cosmic_ray.operators.operator import Example, Operator

    class SwapMaximumMinimum(Operator):
        """Replace ``maximum`` by ``minimum``, ``fmax`` by ``fmin``, ``at_most`` by ``at_least``, and back."""

        def mutation_positions(self, node):
            if node.type == "name" and node.value in SWAPS:
                yield node.start_pos, node.end_pos

        def mutate(self, node, index):
            return parso.python.tree.Name(SWAPS[node.value], node.start_pos, node.prefix)

        @classmethod
        def examples(cls):
            return (Example("y = np.maximum(x, 0)", "y = np.minimum(x, 0)"),)

    return SwapMaximumMinimum


def _register_operators() -> list[str]:
    """Add the swap operator to cosmic-ray's providers; return the operator names this script uses."""
    from cosmic_ray import plugins

    plugins.OPERATOR_PROVIDERS["actlib"] = {"SwapMaximumMinimum": _swap_operator()}
    wanted = {f"core/ReplaceBinaryOperator_{a}_{b}" for a in ARITHMETIC for b in ARITHMETIC if a != b}
    wanted |= {f"core/ReplaceComparisonOperator_{a}_{b}" for a in COMPARISONS for b in COMPARISONS if a != b}
    wanted |= {"core/NumberReplacer", "core/ReplaceUnaryOperator_Delete_USub", "actlib/SwapMaximumMinimum"}
    return sorted(wanted & set(plugins.operator_names()))


def _declaration_lines(path: Path) -> set[int]:
    """Lines not to mutate: ``@activation(...)`` decorators and ``evaluate_with(...)`` calls (an entry's data),
    and the signatures of derivative kernels."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        calls = []
        if isinstance(node, ast.FunctionDef):
            calls = [d for d in node.decorator_list if isinstance(d, ast.Call)]
            if any(isinstance(d, ast.Attribute) and d.attr == "defderivative" for d in node.decorator_list):
                # a derivative kernel's defaults are never used (the public derivative binds the function's
                # own signature and passes every parameter): mutants there are equivalent by construction
                lines.update(range(node.lineno, node.body[0].lineno))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "evaluate_with":
                calls = [node.value]
        for call in calls:
            lines.update(range(call.lineno, call.end_lineno + 1))
    return lines


def _copy_repository(target: Path) -> None:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _all_mutants(copy: Path, modules: list[str], operators: list[str]):
    from cosmic_ray.commands.init import init
    from cosmic_ray.work_db import WorkDB, use_db

    paths = [copy / "actlib" / f"{module}.py" for module in modules]
    with use_db(str(copy / "mutants.sqlite"), WorkDB.Mode.create) as db:
        init(paths, db, {})
        items = list(db.work_items)
    keep = []
    declarations = {str(path): _declaration_lines(path) for path in paths}
    for item in items:
        (mutation,) = item.mutations
        if mutation.operator_name in operators and mutation.start_pos[0] not in declarations[str(mutation.module_path)]:
            keep.append(mutation)
    keep.sort(key=lambda m: (str(m.module_path), m.operator_name, m.occurrence))
    return keep


def _compiles(mutation) -> bool:
    """Whether the mutant is valid Python: cosmic-ray also turns the bare ``*`` of a keyword-only signature
    into ``+``, a syntax error that any test run would report as a kill."""
    from cosmic_ray import plugins
    from cosmic_ray.mutating import mutate_code

    operator = plugins.get_operator(mutation.operator_name)(**(mutation.operator_args or {}))
    source = Path(mutation.module_path).read_text()
    mutated = mutate_code(source, operator, mutation.occurrence)
    if mutated is None:
        return False
    try:
        compile(mutated, str(mutation.module_path), "exec")
    except SyntaxError:
        return False
    return True


def _names_in(module: str) -> list[str]:
    import actlib

    return [name for name, f in actlib.ACTIVATIONS.items() if f.info.module == f"actlib.{module}"]


def _test_command(copy: Path, module: str, stage: int) -> str:
    selection = " or ".join(_names_in(module))
    common = f"{sys.executable} -m pytest -x -q -p no:cacheprovider -m 'not slow and not browser' -k '{selection}'"
    if stage == 1:
        return f"{common} -p no:xdist {' '.join(FAST_TESTS[:2])} actlib/{module}.py {' '.join(FAST_TESTS[2:])}"
    ignored = " ".join(f"--ignore={test}" for test in FAST_TESTS)
    return f"{common} -n 2 tests {ignored}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=30, help="number of mutants to run (default 30)")
    parser.add_argument("--seed", type=int, default=2013, help="seed of the sample (default 2013)")
    parser.add_argument("--timeout", type=float, default=240.0,
                        help="seconds per test run after which the mutant counts as killed (a hang is a failure)")
    args = parser.parse_args()

    import os

    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_item import TestOutcome

    import actlib

    operators = _register_operators()
    copy = Path(tempfile.mkdtemp(prefix="actlib-mutants-"))
    try:
        _copy_repository(copy)
        os.chdir(copy)  # pytest and the mutated files: the copy, never the working tree
        os.environ["PYTHONPATH"] = str(copy)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        mutants = _all_mutants(copy, list(actlib.FAMILY_MODULES), operators)
        order = random.Random(args.seed).sample(mutants, len(mutants))
        sample, invalid = [], 0
        for mutation in order:
            if len(sample) == args.sample:
                break
            if _compiles(mutation):
                sample.append(mutation)
            else:
                invalid += 1
        print(f"{len(mutants)} mutants of {', '.join(actlib.FAMILY_MODULES)}; running a sample of {len(sample)} "
              f"(seed {args.seed}; {invalid} drawn mutants that are not valid Python skipped)", flush=True)
        killed, survivors = 0, []
        for number, mutation in enumerate(sample, 1):
            module = Path(mutation.module_path).stem
            start = time.perf_counter()
            outcome, stage = None, 0
            for stage in (1, 2):
                result = mutate_and_test([mutation], _test_command(copy, module, stage), args.timeout)
                outcome = result.test_outcome
                if outcome != TestOutcome.SURVIVED:
                    break
            where = f"{module}.py:{mutation.start_pos[0]} {mutation.operator_name.split('/')[1]}"
            if outcome == TestOutcome.KILLED:
                killed += 1
                verdict = f"killed (stage {stage})"
            elif outcome == TestOutcome.SURVIVED:
                survivors.append((where, result.diff))
                verdict = "SURVIVED"
            else:
                verdict = f"{outcome} (not counted)"
            print(f"[{number:3}/{len(sample)}] {verdict:18} {where} ({time.perf_counter() - start:.0f} s)", flush=True)
        counted = killed + len(survivors)
        print(f"\nkill score of the fast tests: {killed}/{counted} = {100 * killed / max(counted, 1):.1f}%")
        for where, diff in survivors:
            print(f"\nsurvivor {where}:\n{diff}")
        return 0
    finally:
        os.chdir(ROOT)
        shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
