"""The shared feed-forward experiment: its cache (keyed, atomic, reused) and its results on a tiny config."""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
import pytest

from actlib import ffn_study
from actlib.ffn_study import StudyConfig, cache_path, run, skippable_share

TINY = StudyConfig(activations=("relu", "gelu", "swiglu"), steps=6, learning_rates=(0.001, 0.01), seeds=(0, 1),
                   train_samples=64, validation_samples=32, test_samples=32, record_every=2, workers=1)


def test_the_cache_key_changes_with_the_configuration_but_not_the_worker_count(tmp_path):
    key = cache_path(TINY, tmp_path)
    assert key.parent == tmp_path
    assert cache_path(dataclasses.replace(TINY, workers=2), tmp_path) == key
    for change in ({"steps": 7}, {"seeds": (0, 2)}, {"learning_rates": (0.001, 0.02)}, {"dim": 16}):
        assert cache_path(dataclasses.replace(TINY, **change), tmp_path) != key, change


def test_the_cache_key_changes_with_the_source(tmp_path, monkeypatch):
    key = cache_path(TINY, tmp_path)
    original = ffn_study.inspect.getsource
    monkeypatch.setattr(ffn_study.inspect, "getsource", lambda module: original(module) + "# edited\n")
    assert cache_path(TINY, tmp_path) != key


def test_the_cache_directory_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTLIB_CACHE_DIR", str(tmp_path))
    assert cache_path(TINY).parent == tmp_path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cache")
    return directory, run(TINY, directory=directory)


def test_a_second_run_loads_the_cached_result(tiny, monkeypatch):
    directory, result = tiny
    left = sorted(p.name for p in directory.iterdir())
    result_file = cache_path(TINY, directory)
    assert left == sorted([result_file.name, result_file.with_suffix(".lock").name])  # no temporary file left

    def refuse(*args):
        raise AssertionError("trained again instead of loading the cache")

    monkeypatch.setattr(ffn_study, "_study", refuse)
    again = run(TINY, directory=directory)
    assert again.tuned == result.tuned
    np.testing.assert_array_equal(again.values("relu", "test_loss"), result.values("relu", "test_loss"))


def test_the_tiny_study_is_seeded_and_complete(tiny):
    _, result = tiny
    fresh = run(TINY, cache=False)
    for activation in TINY.activations:
        np.testing.assert_array_equal(fresh.values(activation, "test_loss"), result.values(activation, "test_loss"))
        assert result.tuned[activation] in TINY.learning_rates
        assert [r.seed for r in result.runs[activation]] == list(TINY.seeds)
        assert all(r.learning_rate == result.tuned[activation] for r in result.runs[activation])
        for r in result.runs[activation]:
            np.testing.assert_array_equal(r.recorded_steps, [1, 2, 4, 6])
            assert r.zero_fraction.shape == (4, TINY.layers) and r.test_zero_fraction.shape == (TINY.layers,)
            assert len(r.losses) == TINY.steps and np.isfinite(r.test_loss) and 0 <= r.test_accuracy <= 1
    assert len(result.tuning) == len(TINY.activations) * len(TINY.learning_rates) * len(TINY.tuning_seeds)
    assert result.hidden == {"relu": 128, "gelu": 128, "swiglu": 85}
    # ReLU's hidden units are exactly zero for about half of the inputs at the start; GELU's and SwiGLU's never
    relu_start = result.values("relu", "zero_fraction")[:, 0]
    assert np.all((relu_start > 0.3) & (relu_start < 0.7)), relu_start
    assert np.all(result.values("gelu", "zero_fraction") == 0)
    assert np.all(result.values("swiglu", "zero_fraction") == 0)


def test_parallel_runs_give_the_same_numbers_as_serial_ones():
    config = dataclasses.replace(TINY, activations=("relu",), learning_rates=(0.01,), steps=3)
    serial = run(config, cache=False)
    parallel = run(dataclasses.replace(config, workers=2), cache=False)
    np.testing.assert_array_equal(serial.values("relu", "losses"), parallel.values("relu", "losses"))


def test_an_activation_without_a_training_kernel_is_refused():
    with pytest.raises(ValueError, match=r"run: no training kernel for \['elu'\]"):
        run(dataclasses.replace(TINY, activations=("relu", "elu")), cache=False)


def test_skippable_share_is_the_second_products_share():
    assert skippable_share(1.0, gated=False) == 0.5
    assert skippable_share(0.6, gated=True) == pytest.approx(0.2)
    np.testing.assert_allclose(skippable_share(np.array([0.0, 0.5]), gated=False), [0.0, 0.25])


def test_the_default_cache_lives_under_the_build_directory(monkeypatch):
    monkeypatch.delenv("ACTLIB_CACHE_DIR", raising=False)
    path = cache_path(StudyConfig())
    assert path.parent.name == ".actlib_cache" and path.parent.parent.name == "_build"
    assert os.path.isabs(path)


def test_two_processes_asking_at_once_train_once(tmp_path, monkeypatch):
    """The book executes chapters side by side: the second caller waits for the first's result."""
    import threading

    trained = []

    def slow_study(config):
        trained.append(config)
        time.sleep(0.5)
        return "the result"

    monkeypatch.setattr(ffn_study, "_study", slow_study)
    results = []
    callers = [threading.Thread(target=lambda: results.append(run(TINY, directory=tmp_path))) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert results == ["the result", "the result"]
    assert len(trained) == 1, f"trained {len(trained)} times"
