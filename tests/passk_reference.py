"""Slow, independent reference implementations in plain NumPy.

They share no code with the numba engine and simulate the textbook way, one Bernoulli draw per
attempt, so the tests can check the engine's one-draw geometric sampling against them, and the
benchmarks can time the engine against them on the same work. Not for production use: their
cost grows with the number of attempts.
"""

from __future__ import annotations

import numpy as np


def first_success_times_bernoulli(p, max_attempts: int, rng=None) -> np.ndarray:
    """First-success attempt of each problem by Bernoulli draws, one per attempt.

    Parameters
    ----------
    p : array_like
        Success probability of each problem.
    max_attempts : int
        Attempts made at most; problems with no success by then get ``inf``.
    rng : numpy.random.Generator or seed

    Returns
    -------
    numpy.ndarray
        float64 first-success times in {1, ..., max_attempts} or ``inf``.
    """
    rng = np.random.default_rng(rng)
    p = np.asarray(p, dtype=float)
    times = np.full(p.shape, np.inf)
    open_ = np.arange(p.size)
    for attempt in range(1, max_attempts + 1):
        if open_.size == 0:
            break
        hit = rng.random(open_.size) < p[open_]
        times[open_[hit]] = attempt
        open_ = open_[~hit]
    return times

