"""The feed-forward experiment of part 3, shared by two chapters: six activations in a small transformer.

:func:`run` trains the model of :mod:`actlib.transformer` on :func:`actlib.sequences.sorting` with each
activation of :data:`STUDY_ACTIVATIONS` in its feed-forward layers, at equal parameter count (the gated units
get the 2/3 width of :func:`~actlib.transformer.feed_forward_width`). It first tunes the learning rate of
each activation on its own seeds (``tuning_seeds``, judged by the loss on a validation split), then trains
fresh seeds (``seeds``) at the tuned rate and measures the test loss and accuracy. During every run it
records the fraction of exact zeros in each feed-forward layer's hidden units, which the sparsity chapter
reads.

The result is cached on disk, so that the second chapter and a re-run load it instead of training again.
The cache key is a hash of the configuration and of the source of every module the training uses, so a
change to either trains again. The cache lives in ``_build/.actlib_cache/`` at the repository root, or in the
directory named by the environment variable ``ACTLIB_CACHE_DIR``; delete the directory (or ``make clean``)
to clear it. Two processes may run the study at once: each writes a temporary file and renames it into
place, so a reader never sees a half-written file.

>>> config = StudyConfig(activations=("relu", "swiglu"), steps=4, learning_rates=(0.003,), seeds=(0, 1),
...                      train_samples=64, validation_samples=32, test_samples=32, workers=1)
>>> result = run(config, cache=False)
>>> result.tuned, result.hidden, result.parameter_counts
({'relu': 0.003, 'swiglu': 0.003}, {'relu': 128, 'swiglu': 85}, {'relu': 26441, 'swiglu': 26461})
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import os
import pickle
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from . import nn, sequences, transformer
from .nn import Adam
from .transformer import Transformer, feed_forward_width, train_tokens

__all__ = ["STUDY_ACTIVATIONS", "RunResult", "StudyConfig", "StudyResult", "cache_path", "run",
           "skippable_share"]

#: The activations compared: two ungated smooth ones, two rectifiers and two gated units.
STUDY_ACTIVATIONS = ("relu", "gelu", "silu", "squared_relu", "swiglu", "geglu")

_SOURCES = (nn, sequences, transformer)


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything that decides the experiment's numbers (and so its cache key).

    Parameters
    ----------
    activations : tuple of str
        Feed-forward activations, each a key of :data:`actlib.transformer.TRAINING_KERNELS`.
    length, values : int
        The sorting task: ``length`` digits in ``0 .. values - 1``.
    train_samples, validation_samples, test_samples : int
        Sequences for training, for choosing the learning rate, and for the reported results.
    data_seed : int
        Seed of the generated sequences (the same data for every run).
    dim, heads, layers : int
        The transformer: model width, attention heads, blocks.
    steps, batch_size : int
        Adam steps per run and sequences per step.
    learning_rates : tuple of float
        The grid each activation's learning rate is chosen from.
    tuning_seeds, seeds : tuple of int
        Seeds (initial weights and batch order) of the tuning runs, and the fresh ones of the comparison.
    record_every : int
        Steps between two records of the feed-forward zero fractions.
    workers : int
        Processes that train runs in parallel (not part of the result).
    """

    activations: tuple[str, ...] = STUDY_ACTIVATIONS
    length: int = 6
    values: int = 8
    train_samples: int = 3072
    validation_samples: int = 512
    test_samples: int = 1024
    data_seed: int = 1000
    dim: int = 32
    heads: int = 4
    layers: int = 2
    steps: int = 300
    batch_size: int = 64
    learning_rates: tuple[float, ...] = (0.001, 0.003, 0.01)
    tuning_seeds: tuple[int, ...] = (100,)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    record_every: int = 10
    workers: int = 2

    def data(self) -> sequences.TokenSplit:
        """The sorting task's training + validation and test sequences."""
        return sequences.sorting(self.train_samples + self.validation_samples, length=self.length,
                                 values=self.values, test_samples=self.test_samples, seed=self.data_seed)

    def model(self, activation: str, seed: int) -> Transformer:
        """A freshly initialised float32 model with the NumPy training kernels."""
        return Transformer(vocab=self.values + 1, dim=self.dim, heads=self.heads, layers=self.layers,
                           max_length=2 * self.length, activation=activation, rng=np.random.default_rng(seed),
                           dtype=np.float32, kernels="numpy")


@dataclasses.dataclass
class RunResult:
    """One training run: its losses, its final test loss and accuracy, and the recorded zero fractions.

    ``zero_fraction[i, layer]`` is the fraction of the hidden values of that layer's feed-forward layer
    that are exactly 0 in the training batch of step ``recorded_steps[i]``; ``test_zero_fraction[layer]``
    the same over the test sequences after training. ``validation_loss`` chooses the learning rate.
    """

    activation: str
    learning_rate: float
    seed: int
    losses: np.ndarray
    validation_loss: float
    test_loss: float
    test_accuracy: float
    recorded_steps: np.ndarray
    zero_fraction: np.ndarray
    test_zero_fraction: np.ndarray
    cpu_seconds: float


@dataclasses.dataclass
class StudyResult:
    """The whole experiment: the tuning runs, the tuned rates, the comparison runs per activation."""

    config: StudyConfig
    hidden: dict[str, int]
    parameter_counts: dict[str, int]
    tuning: list[RunResult]
    tuned: dict[str, float]
    runs: dict[str, list[RunResult]]
    cpu_seconds: float
    wall_seconds: float

    def values(self, activation: str, field: str) -> np.ndarray:
        """One number per comparison seed: ``result.values("relu", "test_loss")``."""
        return np.array([getattr(r, field) for r in self.runs[activation]])


def _train_run(config: StudyConfig, activation: str, learning_rate: float, seed: int) -> RunResult:
    start = time.process_time()
    data = config.data()
    n_fit = config.train_samples
    model = config.model(activation, seed)
    steps, zeros = [], []

    def record(step: int, trained: Transformer) -> None:
        if step == 1 or step % config.record_every == 0:
            steps.append(step)
            zeros.append([float(np.mean(ff.hidden == 0)) for ff in trained.feed_forwards])

    losses = train_tokens(model, data.x_train[:n_fit], data.y_train[:n_fit], mask=data.mask_train[:n_fit],
                          optimizer=Adam(learning_rate), steps=config.steps, batch_size=config.batch_size,
                          rng=np.random.default_rng(seed + 1), on_step=record)
    with np.errstate(over="ignore", invalid="ignore"):
        validation_loss = model.loss(data.x_train[n_fit:], data.y_train[n_fit:], data.mask_train[n_fit:])
        test_loss = model.loss(data.x_test, data.y_test, data.mask_test)
        test_accuracy = model.accuracy(data.x_test, data.y_test, data.mask_test)
    test_zeros = np.array([float(np.mean(ff.hidden == 0)) for ff in model.feed_forwards])
    return RunResult(activation, learning_rate, seed, np.array(losses), float(validation_loss), float(test_loss),
                     float(test_accuracy), np.array(steps), np.array(zeros), test_zeros,
                     time.process_time() - start)


def _train_many(config: StudyConfig, jobs: list[tuple[str, float, int]]) -> list[RunResult]:
    if config.workers <= 1:
        return [_train_run(config, *job) for job in jobs]
    with ProcessPoolExecutor(config.workers) as pool:
        return list(pool.map(_train_run, *zip(*[(config, *job) for job in jobs], strict=True)))


def _finite_or_inf(value: float) -> float:
    return value if np.isfinite(value) else np.inf


def _study(config: StudyConfig) -> StudyResult:
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    tuning = _train_many(config, [(a, lr, s) for a in config.activations for lr in config.learning_rates
                                  for s in config.tuning_seeds])
    tuned = {}
    for activation in config.activations:
        # the rate with the lowest mean validation loss; a diverged run counts as infinitely bad
        by_rate = {lr: np.mean([_finite_or_inf(r.validation_loss) for r in tuning
                                if r.activation == activation and r.learning_rate == lr])
                   for lr in config.learning_rates}
        tuned[activation] = min(by_rate, key=by_rate.get)
    comparison = _train_many(config, [(a, tuned[a], s) for a in config.activations for s in config.seeds])
    runs = {a: [r for r in comparison if r.activation == a] for a in config.activations}
    models = {a: config.model(a, 0) for a in config.activations}
    cpu = time.process_time() - start_cpu  # the runs themselves when they ran in this process
    if config.workers > 1:
        cpu += sum(r.cpu_seconds for r in tuning + comparison)
    return StudyResult(config, {a: m.hidden for a, m in models.items()},
                       {a: m.parameter_count() for a, m in models.items()}, tuning, tuned, runs, cpu,
                       time.perf_counter() - start_wall)


def cache_path(config: StudyConfig, directory: str | os.PathLike | None = None) -> Path:
    """Where :func:`run` keeps the result of ``config``: a file named by the hash of the configuration
    (without ``workers``, which changes the time taken and not the numbers), of the source of
    :mod:`actlib.nn`, :mod:`actlib.sequences`, :mod:`actlib.transformer` and this module, and of NumPy's
    version.

    Parameters
    ----------
    config : StudyConfig
        The experiment.
    directory : path, optional
        The cache directory: ``$ACTLIB_CACHE_DIR`` if set, else ``_build/.actlib_cache`` at the repository root.

    Returns
    -------
    pathlib.Path
        The file's path (it may not exist yet).

    Examples
    --------
    >>> cache_path(StudyConfig(), "/tmp/cache").name.startswith("ffn_study-")
    True
    """
    if directory is None:
        directory = os.environ.get("ACTLIB_CACHE_DIR") or Path(__file__).resolve().parent.parent / "_build" / \
            ".actlib_cache"
    fields = dataclasses.asdict(config)
    del fields["workers"]
    digest = hashlib.sha256(repr(sorted(fields.items())).encode())
    for module in (*_SOURCES, inspect.getmodule(cache_path)):
        digest.update(inspect.getsource(module).encode())
    digest.update(np.__version__.encode())
    return Path(directory) / f"ffn_study-{digest.hexdigest()[:24]}.pickle"


def run(config: StudyConfig | None = None, *, cache: bool = True,
        directory: str | os.PathLike | None = None) -> StudyResult:
    """The experiment's result for ``config`` (the book's by default): loaded from the cache if a run with
    the same configuration and source wrote it, trained (and written there) otherwise.

    Parameters
    ----------
    config : StudyConfig, optional
        The experiment; ``StudyConfig()`` by default.
    cache : bool, default True
        Read and write the cache; False always trains and writes nothing.
    directory : path, optional
        The cache directory (see :func:`cache_path`).

    Returns
    -------
    StudyResult
    """
    config = StudyConfig() if config is None else config
    unknown = [a for a in config.activations if a not in transformer.TRAINING_KERNELS]
    if unknown:
        raise ValueError(f"run: no training kernel for {unknown}; use {sorted(transformer.TRAINING_KERNELS)}")
    for activation in config.activations:
        feed_forward_width(config.dim, activation)
    if not cache:
        return _study(config)
    path = cache_path(config, directory)
    if path.exists():
        with path.open("rb") as file:
            return pickle.load(file)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two chapters read this result, and the book executes chapters side by side: the second process waits
    # for the first one's training (an exclusive lock on a file beside the result) instead of training again.
    with _exclusive(path.with_suffix(".lock")):
        if path.exists():
            with path.open("rb") as file:
                return pickle.load(file)
        result = _study(config)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.stem, suffix=".tmp", delete=False) as file:
            pickle.dump(result, file)
        os.replace(file.name, path)  # atomic: a reader sees no file or the whole new one
    return result


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created if missing) where the platform has ``fcntl``."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; two processes may then both train, and both write the same result
        yield
        return
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def skippable_share(zero_fraction: float | np.ndarray, gated: bool) -> float | np.ndarray:
    """The share of a feed-forward layer's multiply-adds that a sparse kernel could skip, given the fraction
    of its hidden values that are exactly 0.

    Per token, an ungated layer of width ``h`` costs ``d h`` multiply-adds in its first matrix product and
    ``h d`` in its second; a gated one ``2 d h`` and ``h d``. A zero hidden value makes its row of the second
    matrix useless for that token, so a kernel that gathers the non-zero rows skips
    ``zero_fraction * h d``: a share ``zero_fraction / 2`` ungated, ``zero_fraction / 3`` gated. It assumes
    the zeros are known only after the first product (no predictor of them, as Mirzadeh et al. 2023 add to
    skip the first product too) and that gathering the rows costs nothing.

    Parameters
    ----------
    zero_fraction : float or ndarray
        The fraction of the layer's hidden values that are exactly 0, in [0, 1].
    gated : bool
        Whether the layer is a GLU variant (its first product is twice as wide).

    Returns
    -------
    float or ndarray
        The share of the layer's multiply-adds that can be skipped, ``zero_fraction / 2`` or ``/ 3``.

    Examples
    --------
    >>> skippable_share(0.9, gated=False)
    0.45
    """
    return zero_fraction / (3 if gated else 2)
