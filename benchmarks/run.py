"""Speed and memory of every activation in ``actlib.ACTIVATIONS``, against three references.

Run ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); ``--quick`` runs n = 1e5 only, ``--only
relu,gelu`` restricts the functions, ``--clock wall`` times on the wall clock instead of the calling thread's
CPU clock. For each function, size and dtype one row reports

* ns per element of ``f(x)`` (best of several repeats, interleaved with the references');
* the peak memory allocated during one call (``tracemalloc``; NumPy reports its buffers to it), in MB
  and as a multiple of the output's size;
* the time as a multiple of ``np.copyto(out, x)`` into a pre-allocated ``out`` (the memory-bandwidth
  floor), of the textbook NumPy one-liner, and of ``torch.nn.functional`` with one thread (if PyTorch is
  importable; it is never required);
* whether the function's speed target is met.

The script only prints: it never asserts a time, and exits 0 unless an actlib function raised.
See benchmarks/README.md for what the columns mean.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy
import scipy.special

import actlib

SEED = 20240607
SCALE = 3.0  # x ~ N(0, 3^2): both signs and the interesting range of every activation
SOFTMAX_ROW = 100  # the functions that are not elementwise (softmax, the GLU family) run on shape (n // 100, 100)

#: n -> (maximum repeats, seconds after which a candidate stops repeating, having run at least twice)
REPEATS = {10**5: (25, 0.5), 10**6: (10, 1.5), 10**7: (5, 3.0)}

# --- the textbook NumPy formula of each function, with actlib's default parameters ----------------

_SQRT2 = np.sqrt(2.0)
_RRELU_SLOPE = (1 / 8 + 1 / 3) / 2  # rrelu in evaluation mode: the mean slope
_SELU_ALPHA, _SELU_SCALE = float(actlib.SELU_ALPHA), float(actlib.SELU_SCALE)  # stored as decimal strings


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _gated(gate: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """The GLU family's one-liner: the first half of the last axis times ``gate`` of the second."""

    def product(x: np.ndarray) -> np.ndarray:
        a, b = np.split(x, 2, axis=-1)
        return a * gate(b)

    return product


TEXTBOOK: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "logsigmoid": lambda x: -np.log1p(np.exp(-x)),
    "tanh": lambda x: np.tanh(x),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "prelu": lambda x: np.where(x > 0, x, 0.25 * x),
    "rrelu": lambda x: np.where(x > 0, x, _RRELU_SLOPE * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x)),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + scipy.special.erf(x / _SQRT2)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "swish": lambda x: x / (1 + np.exp(-1.0 * x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hardtanh": lambda x: np.clip(x, -1, 1),
    "hardsigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "tanhshrink": lambda x: x - np.tanh(x),
    "softshrink": lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0),
    "hardshrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "threshold": lambda x: np.where(x > 0, x, 0.0),
    "squared_relu": lambda x: np.square(np.maximum(x, 0)),
    "squareplus": lambda x: 0.5 * (x + np.sqrt(x * x + 4.0)),
    "glu": _gated(lambda b: 1 / (1 + np.exp(-b))),
    "reglu": _gated(lambda b: np.maximum(b, 0)),
    "geglu": _gated(lambda b: 0.5 * b * (1 + scipy.special.erf(b / _SQRT2))),
    "swiglu": _gated(lambda b: b / (1 + np.exp(-b))),
}

# --- the torch.nn.functional counterpart, with PyTorch's defaults -------------------------------


def torch_compositions(torch: Any) -> dict[str, Callable[[Any], Any]]:
    """The functions PyTorch has no single call for, as the composition of its ops a user would write.

    The GLU variants gate the second half of the last axis, as ``F.glu`` and actlib do (PyTorch composes them
    as ``a * F.gelu(b)`` and so on after ``chunk``); swish is timed against ``F.silu``, its case beta = 1.
    """
    functional = torch.nn.functional

    def gated(gate: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def product(t: Any) -> Any:
            a, b = t.chunk(2, dim=-1)
            return a * gate(b)

        return product

    return {
        "swish": functional.silu,
        "squared_relu": lambda t: torch.square(torch.relu(t)),
        "squareplus": lambda t: 0.5 * (t + torch.sqrt(t * t + 4.0)),
        "reglu": gated(functional.relu),
        "geglu": gated(functional.gelu),
        "swiglu": gated(functional.silu),
    }


def torch_functions(torch: Any) -> dict[str, Callable[[Any], Any]]:
    """name -> function of a tensor: each entry's PyTorch counterpart (``f.info.pytorch_recorded.call``, with
    PyTorch's defaults), or else its composition of PyTorch ops (``torch_compositions``)."""
    found = {
        name: functools.partial(f.info.pytorch_recorded.call, torch)
        for name, f in actlib.ACTIVATIONS.items() if f.info.pytorch_recorded is not None
    }
    for name, composition in torch_compositions(torch).items():
        if name in actlib.ACTIVATIONS and name not in found:
            found[name] = composition
    return found


# --- targets ---------------------------------------------------------------------------------------

COPY_TARGET_FUNCTIONS = frozenset(
    {"relu", "leaky_relu", "prelu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "threshold"}
)
TARGET_FACTOR = 1.5


def target_of(name: str) -> tuple[str, int, str]:
    """(column judged, n it is judged at, description) for ``name``."""
    if name in COPY_TARGET_FUNCTIONS:
        return "copy", 10**6, "<=1.5x copyto at 1e6"
    return "torch", 10**7, "<=1.5x torch(1 thread) at 1e7"


# --- measurement -----------------------------------------------------------------------------------


#: the clocks ``--clock`` chooses from: the calling thread's CPU time (user and system, page faults included;
#: time the thread spends waiting for a core is not), or wall time
CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}


def best_times(candidates: dict[str, Callable[[], Any]], n: int,
               clock: Callable[[], float] = time.thread_time) -> dict[str, float]:
    """Best time of each candidate on ``clock``, interleaving them so that drift affects all alike."""
    max_repeats, budget = REPEATS.get(n, (5, 1.0))
    best = dict.fromkeys(candidates, float("inf"))
    spent = dict.fromkeys(candidates, 0.0)
    done: set[str] = set()
    for repeat in range(max_repeats):
        for key, call in candidates.items():
            if key in done:
                continue
            start = clock()
            result = call()
            elapsed = clock() - start
            del result
            best[key] = min(best[key], elapsed)
            spent[key] += elapsed
            if repeat >= 1 and spent[key] > budget:
                done.add(key)
    return best


def peak_memory(call: Callable[[], Any]) -> tuple[int, int]:
    """(peak bytes allocated during ``call()``, including its result; the result's size in bytes)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    size = result.nbytes
    del result
    return peak, size


def make_input(n: int, dtype: np.dtype) -> np.ndarray:
    x = np.random.default_rng(SEED).standard_normal(n)
    x *= SCALE
    return x.astype(dtype) if x.dtype != dtype else x


def shaped(name: str, x: np.ndarray) -> np.ndarray:
    if ACTIVATIONS[name].info.properties.elementwise:
        return x
    return x.reshape(x.size // SOFTMAX_ROW, SOFTMAX_ROW)


ACTIVATIONS = actlib.ACTIVATIONS

# --- output ----------------------------------------------------------------------------------------

COLUMNS = (
    ("function", 12), ("dtype", 7), ("n", 5), ("ns/elem", 9), ("peak MB", 9), ("peak/out", 9),
    ("x copyto", 9), ("x textbook", 11), ("x torch", 8), ("target", 8),
)


def row(values: list[str]) -> str:
    cells = []
    for (title, width), value in zip(COLUMNS, values, strict=True):
        cells.append(value.ljust(width) if title in ("function", "dtype", "target") else value.rjust(width))
    return " ".join(cells).rstrip()


def fmt_n(n: int) -> str:
    exponent = round(np.log10(n))
    return f"1e{exponent}" if 10**exponent == n else str(n)


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def header(torch_note: str, sizes: list[int], clock: str) -> None:
    cpu_model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("actlib benchmark")
    print(f"  python {platform.python_version()} ({platform.python_implementation()}), numpy {np.__version__}, "
          f"scipy {scipy.__version__}, actlib from {os.path.dirname(actlib.__file__)}")
    print(f"  platform {platform.platform()}; CPU {cpu_model}; cpu_count {os.cpu_count()} (usable {usable})")
    print(f"  {torch_note}")
    print(f"  input: seeded N(0, {SCALE:g}^2), drawn once per (n, dtype); softmax, log_softmax and the GLU "
          f"family on shape (n//{SOFTMAX_ROW}, {SOFTMAX_ROW}), axis -1; sizes {', '.join(fmt_n(n) for n in sizes)}")
    print(f"  clock: {'CPU time of the calling thread' if clock == 'cpu' else 'wall time'}; "
          f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())} at the start")
    print("  times are best of repeats (" + ", ".join(
        f"{fmt_n(n)}: <= {r}" for n, (r, _) in REPEATS.items() if n in sizes) + "); ratios are actlib / reference, "
          "so < 1 means actlib is faster")
    print()


def check_references(names: list[str], torch: Any, torch_fns: dict[str, Callable[[Any], Any]]) -> None:
    """Warn when a reference computes something other than actlib (a wrong counterpart would skew ratios)."""
    x = make_input(10_000, np.dtype(np.float64))
    for name in names:
        f = ACTIVATIONS[name]
        xs = shaped(name, x)
        expected = f(xs)
        scale = np.maximum(np.abs(expected), 1.0)
        references: dict[str, Callable[[], Any]] = {}
        if name in TEXTBOOK:
            references["textbook"] = lambda name=name, xs=xs: TEXTBOOK[name](xs)
        if name in torch_fns:
            references["torch"] = lambda name=name, xs=xs: torch_fns[name](torch.from_numpy(xs)).numpy()
        for label, reference in references.items():
            try:
                with np.errstate(all="ignore"):
                    value = reference()
            except Exception as error:
                print(f"  warning: {label} reference of {name} raised {type(error).__name__}: {error}")
                continue
            error = np.nanmax(np.abs(value - expected) / scale)
            if not error <= 1e-6:
                print(f"  warning: {label} reference of {name} differs from actlib by {error:.3g} (relative)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="run n = 1e5 only")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="comma-separated registry names to run")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="time on the thread's CPU clock (default; robust on a shared machine) or the wall clock")
    args = parser.parse_args(argv)

    names = list(ACTIVATIONS)
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in ACTIVATIONS]
        if unknown:
            parser.error(f"unknown name(s) {', '.join(unknown)}; choose from {', '.join(ACTIVATIONS)}")
        names = [name for name in names if name in wanted]
    missing = set(names) - set(TEXTBOOK)
    if missing:
        print(f"note: no textbook formula for {', '.join(sorted(missing))}; column left blank")
    sizes = [10**5] if args.quick else [10**6, 10**7]
    dtypes = [np.dtype(np.float32), np.dtype(np.float64)]

    try:
        import torch
    except Exception as error:  # any failure to import means: no torch column
        torch = None
        torch_fns: dict[str, Callable[[Any], Any]] = {}
        torch_note = f"torch: not importable, column skipped ({type(error).__name__}: {error})"
    else:
        torch.set_num_threads(1)
        torch_fns = torch_functions(torch)
        torch_note = f"torch {torch.__version__}, torch.set_num_threads(1) -> {torch.get_num_threads()} thread"

    header(torch_note, sizes, args.clock)
    check_references(names, torch, torch_fns)

    started = time.perf_counter()
    # (name, dtype) -> (ratio judged, n judged at) for the summary
    judged: dict[tuple[str, str], tuple[float | None, int]] = {}
    errors: list[str] = []
    peak_ratios: dict[tuple[str, str, int], float] = {}
    title = row([title for title, _ in COLUMNS])
    print(title)
    print("-" * len(title))
    for n in sizes:
        for dtype in dtypes:
            x = make_input(n, dtype)
            out = np.empty_like(x)
            for name in names:
                f = ACTIVATIONS[name]
                xs = shaped(name, x)
                textbook = TEXTBOOK.get(name)
                xt = torch.from_numpy(xs) if torch is not None else None

                def call_textbook(textbook=textbook, xs=xs):
                    with np.errstate(all="ignore"):
                        return textbook(xs)

                candidates: dict[str, Callable[[], Any]] = {
                    "actlib": lambda f=f, xs=xs: f(xs),
                    "copy": lambda out=out, x=x: np.copyto(out, x),
                }
                if textbook is not None:
                    candidates["textbook"] = call_textbook
                if xt is not None and name in torch_fns:
                    candidates["torch"] = lambda g=torch_fns[name], xt=xt: g(xt)
                try:
                    peak, out_bytes = peak_memory(candidates["actlib"])
                except Exception as error:
                    errors.append(f"{name} {dtype} n={fmt_n(n)}: {type(error).__name__}: {error}")
                    print(row([name, str(dtype), fmt_n(n), "ERROR", *["-"] * 6]))
                    continue
                for key in ("textbook", "torch"):  # a failing reference only blanks its column
                    if key in candidates:
                        try:
                            candidates[key]()
                        except Exception as error:
                            errors.append(f"{key} reference of {name} {dtype}: {type(error).__name__}: {error}")
                            del candidates[key]
                peak_ratios[(name, str(dtype), n)] = peak / out_bytes
                times = best_times(candidates, n, CLOCKS[args.clock])
                ratio = {key: times["actlib"] / times[key] for key in times if key != "actlib"}

                column, target_n, _ = target_of(name)
                if column == "torch" and torch is None:
                    verdict = "n/a"
                elif n != target_n:
                    verdict = "-"
                else:
                    value = ratio.get(column)
                    verdict = "n/a" if value is None else ("met" if value <= TARGET_FACTOR else "MISSED")
                if n == target_n or (target_n not in sizes and n == max(sizes)):
                    judged[(name, str(dtype))] = (ratio.get(column), n)
                if verdict == "-" and target_n not in sizes and n == max(sizes) and ratio.get(column) is not None:
                    verdict = ("met" if ratio[column] <= TARGET_FACTOR else "MISSED") + "*"
                print(row([
                    name, str(dtype), fmt_n(n), f"{times['actlib'] / n * 1e9:.2f}", f"{peak / 1e6:.1f}",
                    f"{peak / out_bytes:.2f}", fmt_ratio(ratio.get("copy")), fmt_ratio(ratio.get("textbook")),
                    fmt_ratio(ratio.get("torch")), verdict,
                ]), flush=True)
                del candidates, xs, xt
                gc.collect()
            del x, out
            gc.collect()
        if len(sizes) > 1 and n != sizes[-1]:
            print()

    elapsed = time.perf_counter() - started
    print()
    print(f"timed section took {elapsed:.0f} s")
    if any(n_judged != target_of(name)[1] for (name, _), (_, n_judged) in judged.items()):
        print("* judged at the largest n run, not at the target's n: indicative only")
    print("summary (one entry per function and dtype; ratio = actlib time / reference time):")
    for column in ("copy", "torch"):
        group = [key for key in judged if target_of(key[0])[0] == column]
        if not group:
            continue
        description = target_of(group[0][0])[2]
        met = [key for key in group if judged[key][0] is not None and judged[key][0] <= TARGET_FACTOR]
        unknown = [key for key in group if judged[key][0] is None]
        missed = [key for key in group if key not in met and key not in unknown]
        line = f"  {description}: {len(met)}/{len(group)} met"
        if unknown:
            line += f", {len(unknown)} n/a (torch absent)" if torch is None else f", {len(unknown)} n/a"
        print(line)
        if missed:
            print("    missed: " + ", ".join(
                f"{name}/{dtype.replace('float', 'f')} ({judged[(name, dtype)][0]:.2f}x)" for name, dtype in missed))
    within = sum(ratio <= 2 for ratio in peak_ratios.values())
    print(f"  peak/out <= 2 (peak allocation during the call / output bytes): {within}/{len(peak_ratios)} rows")
    over = sorted({name for (name, _, _), ratio in peak_ratios.items() if ratio > 2}, key=names.index)
    if over:
        print("    above 2 in some row: " + ", ".join(over))
    if errors:
        print("errors:")
        for error in errors:
            print(f"  {error}")
        return 1 if any(not e.startswith(("textbook", "torch")) for e in errors) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
