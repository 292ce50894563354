"""Estimates from per-problem success counts: problem i sampled n_i times, c_i successes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import special

from ..errors import SimsearchError, as_count_array, require
from ..kernels.unbiased import unbiased_pass_at_k


#: Most attempts per problem the estimators accept: the unbiased estimator and the likelihoods
#: are exact to well below 1e-7 up to here, and the chi-square table stays small.
MAX_ATTEMPTS = 10**7


def _at_most(name: str, values, high: int) -> None:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return  # as_count_array names the problem
    over = np.flatnonzero(arr > high)
    if over.size:
        raise SimsearchError(f"{name}: must be integers in [0, {high}] (problem {over[0] + 1} "
                             f"has {float(arr[over[0]]):g})")


def validate_counts(successes, attempts) -> tuple[np.ndarray, np.ndarray]:
    """Check per-problem counts; return them as int64 arrays (successes, attempts).

    Attempts are limited to :data:`MAX_ATTEMPTS` per problem.
    """
    _at_most("attempts", attempts, MAX_ATTEMPTS)
    _at_most("successes", successes, MAX_ATTEMPTS)
    c = as_count_array("successes", successes)
    n = as_count_array("attempts", attempts)
    if n.size == 1 and c.size > 1:
        n = np.full(c.size, n[0])
    require(c.size == n.size, f"successes and attempts differ in length ({c.size} vs {n.size})")
    require(c.size > 0, "successes: need at least one problem")
    zero = np.flatnonzero(n == 0)
    if zero.size:
        raise SimsearchError(f"attempts: must be >= 1 (problem {zero[0] + 1} has 0)")
    over = np.flatnonzero(c > n)
    if over.size:
        i = over[0]
        raise SimsearchError(f"successes: must be <= attempts (problem {i + 1} has "
                             f"{c[i]} successes in {n[i]} attempts)")
    return c, n


def _k_grid(k, n: np.ndarray) -> np.ndarray:
    k_arr = np.atleast_1d(np.asarray(k, dtype=float))
    require(k_arr.size > 0 and bool(np.all((k_arr >= 1) & (k_arr == np.round(k_arr)))),
            "k: attempts must be integers >= 1")
    require(k_arr.max() <= n.min(),
            f"k: the unbiased estimator needs k <= attempts; largest k is {int(k_arr.max())} "
            f"but a problem has only {n.min()} attempts")
    return k_arr.astype(np.int64)


def distinct_pairs(successes: np.ndarray, attempts: np.ndarray, return_inverse: bool = False):
    """The distinct (c, n) pairs of valid int64 counts and how many problems have each.

    Real count files repeat pairs heavily (1e5 problems at 1e4 attempts hold ~6,500 distinct
    pairs, most problems at c = 0 or c = n), so per-pair work is done once per pair.

    Returns
    -------
    (successes, attempts, multiplicity) : tuple of numpy.ndarray
        Pairs sorted by (c, n); multiplicities as int64. With ``return_inverse``, a fourth
        array: each problem's pair index.
    """
    # One int64 key per pair (c, n <= MAX_ATTEMPTS, so c * (MAX_ATTEMPTS + 1) + n < 2^63): a 1-D
    # unique is several times faster than np.unique(..., axis=0) on rows.
    key = np.asarray(successes, dtype=np.int64) * (MAX_ATTEMPTS + 1) + attempts
    if return_inverse:
        keys, inverse, multiplicity = np.unique(key, return_inverse=True, return_counts=True)
        return (keys // (MAX_ATTEMPTS + 1), keys % (MAX_ATTEMPTS + 1), multiplicity,
                inverse.ravel())
    keys, multiplicity = np.unique(key, return_counts=True)
    return keys // (MAX_ATTEMPTS + 1), keys % (MAX_ATTEMPTS + 1), multiplicity


def per_problem_pass_at_k(successes, attempts, k) -> np.ndarray:
    """Unbiased pass@k of each problem, 1 - C(n-c, k) / C(n, k) (Chen et al. 2021).

    Parameters
    ----------
    successes, attempts : array_like of int
        c_i and n_i per problem (``attempts`` may be one number for all).
    k : int or array_like of int
        1 <= k <= min(n_i).

    Returns
    -------
    numpy.ndarray
        Shape (problems, len(k)).
    """
    c, n = validate_counts(successes, attempts)
    return unbiased_pass_at_k(c, n, _k_grid(k, n))


def pass_at_k_from_counts(successes, attempts, k) -> np.ndarray:
    """Aggregate unbiased pass@k: the mean of :func:`per_problem_pass_at_k` over problems.

    Computed once per distinct (c, n) pair (:func:`distinct_pairs`) and weighted by how many
    problems share it; equal to the plain mean to rounding (~1e-16 relative).

    Returns
    -------
    numpy.ndarray
        Shape (len(k),).
    """
    c, n = validate_counts(successes, attempts)
    k_grid = _k_grid(k, n)
    pair_c, pair_n, multiplicity = distinct_pairs(c, n)
    per_pair = unbiased_pass_at_k(pair_c, pair_n, k_grid)
    return multiplicity.astype(float) @ per_pair / c.size


@dataclass(frozen=True)
class CountTable:
    """Distinct (successes, attempts) pairs and how many problems have each.

    Build with :meth:`from_counts`; ``weights`` are multiplicities (floats, so a bootstrap can
    reweight them).
    """

    successes: np.ndarray
    attempts: np.ndarray
    weights: np.ndarray
    log_binom: np.ndarray = field(repr=False)

    @classmethod
    def from_counts(cls, successes, attempts) -> "CountTable":
        c, n = validate_counts(successes, attempts)
        require(c.size >= 2, "successes: need at least two problems to fit a distribution")
        require(np.any(c > 0), "successes: every problem has 0 successes; the exponent cannot "
                               "be estimated (sample more attempts per problem)")
        require(np.any(c < n), "successes: every problem succeeded on every attempt; the "
                               "distribution of p cannot be estimated")
        pair_c, pair_n, counts = distinct_pairs(c, n)
        return cls.of_pairs(pair_c, pair_n, counts.astype(float))

    @classmethod
    def of_pairs(cls, successes, attempts, weights) -> "CountTable":
        """A table of already distinct, valid (c, n) pairs with their weights."""
        c, n = np.asarray(successes), np.asarray(attempts)
        log_binom = (special.gammaln(n + 1.0) - special.gammaln(c + 1.0)
                     - special.gammaln(n - c + 1.0))
        return cls(c, n, np.asarray(weights, dtype=float), log_binom)

    @property
    def n_problems(self) -> int:
        return int(round(self.weights.sum()))


class PooledCounts(NamedTuple):
    """Counts of J models (groups) on the same I problems: (I, J) arrays and the names."""

    successes: np.ndarray
    attempts: np.ndarray
    names: tuple


def pooled_counts(groups: dict) -> PooledCounts:
    """(I, J) counts from name -> (successes, attempts) with the same problems in each."""
    require(len(groups) >= 2, "pool: need at least two groups (models) to pool")
    sizes = {name: len(c) for name, (c, _) in groups.items()}
    require(len(set(sizes.values())) == 1,
            f"pool: every group must list the same problems in the same order (sizes "
            f"{', '.join(f'{k}={v}' for k, v in sizes.items())})")
    c = np.stack([np.asarray(g[0], dtype=np.int64) for g in groups.values()], axis=1)
    n = np.stack([np.asarray(g[1], dtype=np.int64) for g in groups.values()], axis=1)
    return PooledCounts(c, n, tuple(groups))
