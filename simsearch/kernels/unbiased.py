"""The unbiased pass@k estimator 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), stably.

C(n-c, k) / C(n, k) = prod_{j=n-c+1}^{n} (1 - k/j) = prod_{i=0}^{k-1} (1 - c/(n-i)).
Short products (at most _DIRECT_TERMS factors) are summed in log1p form, exact to rounding
however close the ratio is to 1. Longer ones go through lgamma; they only arise when both c and
k exceed _DIRECT_TERMS, where the ratio is at most exp(-_DIRECT_TERMS^2 / n) and the lgamma
rounding (~1e-16 n log n) costs a relative error below 1e-7 in 1 - ratio for n <= 1e6.
"""

import math

import numpy as np

from .jit import njit, prange

_DIRECT_TERMS = 256


@njit(cache=True)
def log_fail_ratio(n, c, k):
    """log C(n-c, k) / C(n, k) for 0 <= c <= n, 0 <= k <= n; -inf when n - c < k."""
    if n - c < k:
        return -math.inf
    if min(c, k) <= _DIRECT_TERMS:
        acc = 0.0
        if c <= k:
            for j in range(n - c + 1, n + 1):
                acc += math.log1p(-k / j)
        else:
            for i in range(k):
                acc += math.log1p(-c / (n - i))
        return acc
    return (math.lgamma(n - c + 1.0) - math.lgamma(n - c - k + 1.0)
            - math.lgamma(n + 1.0) + math.lgamma(n - k + 1.0))


@njit(parallel=True, cache=True)
def unbiased_pass_at_k(successes, attempts, k_grid):
    """Per-problem unbiased pass@k, shape (problems, len(k_grid)); needs k <= attempts.

    Each row walks the k grid in ascending order so that the product over i < k (used when
    c > k) continues from the previous k instead of restarting: the running sum is the fresh
    sum's own prefix, so the result is bit-identical to :func:`log_fail_ratio` per entry.
    """
    order = np.argsort(k_grid, kind="mergesort")
    out = np.empty((attempts.shape[0], k_grid.shape[0]))
    for row in prange(attempts.shape[0]):
        n, c = attempts[row], successes[row]
        terms, acc = 0, 0.0  # sum of log1p(-c / (n - i)) over i < terms
        for j in order:
            k = k_grid[j]
            if n - c < k:
                out[row, j] = 1.0
            elif c > k and k <= _DIRECT_TERMS:
                while terms < k:
                    acc += math.log1p(-c / (n - terms))
                    terms += 1
                out[row, j] = -math.expm1(acc)
            else:
                out[row, j] = -math.expm1(log_fail_ratio(n, c, k))
    return out
