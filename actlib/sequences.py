"""Seeded token-sequence tasks for the small transformer: generated, so nothing is downloaded.

:func:`sorting` is the task of part 3's feed-forward experiment (:mod:`actlib.ffn_study`).
:func:`modular_sums` is a second one: sequences of digits modulo ``p``, where the target at every position
is the running sum of the digits so far, modulo ``p``. A model must attend to every earlier position (the
answer depends on all of them, with equal weight) and then map what it gathered to a residue, a periodic and
strongly non-linear function of that sum, which is the feed-forward layer's work. Its difficulty is set by
two numbers (longer sequences and larger moduli are harder), every answer is exact, and the accuracy per
position shows where a model stops coping: the chance level is ``1/p`` everywhere, and position 0 (the digit
itself) is trivially right.

>>> data = modular_sums(4, length=5, modulus=7, seed=1)
>>> data.x_train[0], data.y_train[0]
(array([3, 3, 5, 6, 0]), array([3, 6, 4, 3, 3]))
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TokenSplit", "modular_sums", "sorting"]


class TokenSplit(NamedTuple):
    """Training and test sequences ``(n, T)`` of input tokens and next-position targets, vocabulary ``vocab``;
    ``mask_train`` and ``mask_test`` (booleans ``(n, T)``, None: every position) say which targets count."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocab: int
    mask_train: np.ndarray | None = None
    mask_test: np.ndarray | None = None


def modular_sums(samples: int, *, length: int = 8, modulus: int = 7, test_samples: int | None = None,
                 seed: int = 0) -> TokenSplit:
    """Running sums modulo ``modulus``: inputs ``x_0 .. x_{T-1}`` uniform in ``[0, modulus)``, targets
    ``y_t = (x_0 + ... + x_t) mod modulus``.

    Parameters
    ----------
    samples : int
        Training sequences.
    length : int, default 8
        Tokens per sequence (the model's ``max_length``).
    modulus : int, default 7
        The vocabulary size, at least 2.
    test_samples : int, optional
        Test sequences, drawn from the same distribution after the training ones (``samples // 4`` by default).
    seed : int, default 0
        Seed of the generator: the same arguments give the same sequences.

    Returns
    -------
    TokenSplit
        Training and test inputs and targets, integer arrays of shape ``(n, length)``, and ``vocab = modulus``.
    """
    if modulus < 2:
        raise ValueError(f"modular_sums: modulus must be at least 2, got {modulus!r}")
    if length < 1 or samples < 1:
        raise ValueError(f"modular_sums: samples and length must be positive, got {samples!r} and {length!r}")
    test = max(1, samples // 4) if test_samples is None else int(test_samples)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, modulus, size=(samples + test, length))
    y = np.cumsum(x, axis=1) % modulus
    return TokenSplit(x[:samples], y[:samples], x[samples:], y[samples:], int(modulus))


def sorting(samples: int, *, length: int = 6, values: int = 8, test_samples: int | None = None,
            seed: int = 0) -> TokenSplit:
    """Sort a list of digits: the sequence ``v_1 .. v_n, SEP, s_1 .. s_n`` where ``v`` is uniform in
    ``[0, values)`` and ``s`` is ``v`` sorted; the model reads it left to right and must predict each ``s_i``
    (the masked positions are the ``n`` after the separator, token ``values``).

    Each output needs the whole input (how many digits are smaller than each candidate), gathered by attention
    and turned into a choice of digit by the feed-forward layer; a one-layer model cannot do it in one step.

    Parameters
    ----------
    samples : int
        Training sequences.
    length : int, default 6
        Digits to sort; the model's sequences are ``2 * length`` tokens long.
    values : int, default 8
        The digits are ``0 .. values - 1``; the vocabulary is ``values + 1`` (the separator), at least 2 digits.
    test_samples : int, optional
        Test sequences, drawn after the training ones (``samples // 4`` by default).
    seed : int, default 0
        Seed of the generator.

    Returns
    -------
    TokenSplit
        Inputs (the sequence without its last token), targets (without its first), the masks of the sorted
        positions, and ``vocab = values + 1``.

    Examples
    --------
    >>> data = sorting(2, length=3, values=5, seed=0)
    >>> data.x_train[0], data.y_train[0], data.mask_train[0]
    (array([4, 3, 2, 5, 2, 3]), array([3, 2, 5, 2, 3, 4]), array([False, False, False,  True,  True,  True]))
    """
    if values < 2:
        raise ValueError(f"sorting: values must be at least 2, got {values!r}")
    if length < 1 or samples < 1:
        raise ValueError(f"sorting: samples and length must be positive, got {samples!r} and {length!r}")
    test = max(1, samples // 4) if test_samples is None else int(test_samples)
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, values, size=(samples + test, length))
    sequences = np.concatenate([digits, np.full((samples + test, 1), values), np.sort(digits, axis=1)], axis=1)
    x, y = sequences[:, :-1], sequences[:, 1:]
    mask = np.zeros(x.shape, dtype=bool)
    mask[:, length:] = True  # from the separator on, the targets are the sorted digits
    return TokenSplit(x[:samples], y[:samples], x[samples:], y[samples:], int(values) + 1, mask[:samples],
                      mask[samples:])
