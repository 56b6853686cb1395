"""Small, seeded data sets for the book's training experiments; none needs a download.

Each loader returns a :class:`Split` of training and test arrays. Features are standardised with the
training rows' mean and standard deviation only, so nothing about the test rows leaks into training.

>>> data = digits()
>>> data.x_train.shape, data.x_test.shape, data.classes
((1347, 64), (450, 64), 10)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Split", "digits", "spirals", "two_moons"]


class Split(NamedTuple):
    """Training and test rows of a classification data set, with integer labels ``0 .. classes-1``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self) -> int:
        """Number of classes."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _check_fraction(caller: str, test_fraction: float) -> None:
    if not 0 < test_fraction < 1:
        raise ValueError(f"{caller}: test_fraction must be in (0, 1), got {test_fraction!r}")


def _split_and_standardise(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> Split:
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0  # a constant feature (digits' corner pixels) stays 0 instead of dividing by 0
    return Split((x_train - mean) / std, y_train, (x_test - mean) / std, y_test)


def digits(*, test_fraction: float = 0.25, seed: int = 0) -> Split:
    """scikit-learn's 8x8 handwritten digits (1797 images, 10 classes), split with stratification.

    The data ship inside scikit-learn (UCI ML hand-written digits, Alpaydin & Kaynak 1998).

    Parameters
    ----------
    test_fraction : float, default 0.25
        Share of the images held out for testing, in every class alike.
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    Split
        Training and test images (64 standardised pixel values each) and their labels.

    Examples
    --------
    >>> data = digits(seed=1)
    >>> bool(np.bincount(data.y_train).min() >= 130), float(abs(data.x_train.mean()).round(12))
    (True, 0.0)
    """
    from sklearn.datasets import load_digits

    _check_fraction("digits", test_fraction)
    bunch = load_digits()
    return _split_and_standardise(bunch.data.astype(np.float64), bunch.target.astype(np.int64), test_fraction, seed)


def two_moons(n: int = 1000, *, noise: float = 0.2, test_fraction: float = 0.25, seed: int = 0) -> Split:
    """Two interleaved half circles in the plane (scikit-learn's ``make_moons``), two classes.

    Parameters
    ----------
    n : int, default 1000
        Number of points.
    noise : float, default 0.2
        Standard deviation of the Gaussian noise added to each coordinate.
    test_fraction : float, default 0.25
        Share of the points held out for testing.
    seed : int, default 0
        Seed of the points and of the split.

    Returns
    -------
    Split
        Training and test points (two coordinates each) and their half-circle labels.

    Examples
    --------
    >>> data = two_moons(200, seed=3)
    >>> data.x_train.shape, data.classes
    ((150, 2), 2)
    """
    from sklearn.datasets import make_moons

    _check_fraction("two_moons", test_fraction)
    x, y = make_moons(n_samples=int(n), noise=noise, random_state=seed)
    return _split_and_standardise(x, y.astype(np.int64), test_fraction, seed)


def spirals(n: int = 900, *, classes: int = 3, noise: float = 0.2, test_fraction: float = 0.25,
            seed: int = 0) -> Split:
    r"""``classes`` interleaved spiral arms in the plane, ``n`` points in all.

    Arm :math:`k` is :math:`r(\cos\theta, \sin\theta)` with :math:`r` uniform in [0, 1] and
    :math:`\theta = 4r + 2\pi k/K` plus normal noise of standard deviation ``noise`` (radians): no
    straight line separates two arms, so a linear model stays near chance.

    Parameters
    ----------
    n : int, default 900
        Number of points, shared equally between the arms.
    classes : int, default 3
        Number of arms :math:`K`.
    noise : float, default 0.2
        Standard deviation of the angular noise, in radians.
    test_fraction : float, default 0.25
        Share of the points held out for testing.
    seed : int, default 0
        Seed of the points and of the split.

    Returns
    -------
    Split
        Training and test points (two coordinates each) and their arm labels.

    Examples
    --------
    >>> data = spirals(300, classes=3, seed=0)
    >>> data.x_train.shape, np.bincount(data.y_train).tolist()
    ((225, 2), [75, 75, 75])
    """
    if int(classes) < 2:
        raise ValueError(f"spirals: classes must be at least 2, got {classes!r}")
    if int(n) < 2 * int(classes):
        raise ValueError(f"spirals: n must be at least 2 * classes, got n={n!r}, classes={classes!r}")
    _check_fraction("spirals", test_fraction)
    rng = np.random.default_rng(seed)
    per_class = int(n) // int(classes)
    radius = np.tile(np.linspace(0.0, 1.0, per_class), classes)
    label = np.repeat(np.arange(classes), per_class)
    angle = 4.0 * radius + 2.0 * np.pi * label / classes + rng.normal(0.0, noise, size=radius.size)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return _split_and_standardise(x, label.astype(np.int64), test_fraction, seed)
