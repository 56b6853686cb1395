"""Milliseconds per training step of actlib.transformer's small model, per feed-forward activation.

Prints one row per activation: the model's parameter count and the median time of a forward + backward +
Adam step on a seeded batch of actlib.sequences.modular_sums, so that an experiment can be sized to its time
budget. It only prints; the numbers mean something only on an otherwise idle machine.

    .venv/bin/python benchmarks/transformer_step.py [--dim 32] [--layers 2] [--length 8] [--batch 64] [--dtype float32]
        [--kernels numpy]

``--kernels numpy`` times the plain training kernels that actlib.ffn_study uses (for the activations that
have one; the others are skipped). The step's CPU time is printed beside the wall time, which a loaded
machine inflates.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from actlib.nn import Adam
from actlib.sequences import modular_sums
from actlib.transformer import TRAINING_KERNELS, Transformer

ACTIVATIONS = ["relu", "gelu", "silu", "squared_relu", "swiglu", "geglu", "reglu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--modulus", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--kernels", default="actlib", choices=["actlib", "numpy"])
    args = parser.parse_args()
    data = modular_sums(args.batch, length=args.length, modulus=args.modulus, seed=0)
    print(f"dim {args.dim}, heads {args.heads}, layers {args.layers}, length {args.length}, batch {args.batch}, "
          f"{args.dtype}, {args.kernels} kernels")
    print(f"{'activation':<14}{'hidden':>8}{'parameters':>12}{'ms/step':>10}{'CPU ms/step':>13}")
    for name in ACTIVATIONS:
        if args.kernels == "numpy" and name not in TRAINING_KERNELS:
            continue
        model = Transformer(vocab=args.modulus, dim=args.dim, heads=args.heads, layers=args.layers,
                            max_length=args.length, activation=name, rng=np.random.default_rng(0), dtype=args.dtype,
                            kernels=args.kernels)
        optimizer = Adam(1e-3)
        times, cpu_times = [], []
        for _ in range(args.steps + 2):
            start, start_cpu = time.perf_counter(), time.process_time()
            _, grads = model.loss_and_grads(data.x_train, data.y_train)
            optimizer.step(list(model.parameters.values()), grads)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - start_cpu)
        # the first steps build lazily cached tables
        median, median_cpu = statistics.median(times[2:]) * 1e3, statistics.median(cpu_times[2:]) * 1e3
        print(f"{name:<14}{model.hidden:>8}{model.parameter_count():>12}{median:>10.1f}{median_cpu:>13.1f}")


if __name__ == "__main__":
    main()
