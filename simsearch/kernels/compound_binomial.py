"""log of the integral of p^c (1-p)^(n-c) f(p) dp for many (c, n) pairs on one logit grid.

On t = logit(p) the binomial factor times the Jacobian p(1-p) is a log-concave bump of width
~ sqrt(1/(c+1) + 1/(n-c+1)), and the trapezoid rule on an evenly spaced grid converges
geometrically for such smooth integrands once the spacing is below the width. Each pair sums
only over its own window of the grid (where its bump is within e^-60 of its peak), so a
likelihood evaluation costs the sum of the window sizes, not pairs x grid.

Window sizes vary a lot with c, so the threads get blocks of consecutive pairs of about equal
total window size rather than equal numbers of pairs (prange's static split of the pairs gave
one of two threads 71% of the work). A pair's sum does not depend on its block: the results
are the same whatever the number of threads.
"""

import math

import numpy as np
from numba import njit, prange

#: Blocks of pairs: prange splits them statically, so many (8 or more per thread up to 32
#: threads) keep the threads' shares even. A fixed number, not one read from the thread count
#: (which numba cannot cache).
_BLOCKS = 256
#: Fixed cost of a pair in grid points of window (the logs and the combination at the end).
_PAIR_COST = 4


@njit(cache=True)
def _log_integral(c, n, lo, hi, log_x, log_1mx, log_weight, extra):
    """One pair's log sum over its window, combined with ``extra`` (log mass off the grid)."""
    peak = -math.inf
    for j in range(lo, hi):
        v = c * log_x[j] + (n - c) * log_1mx[j] + log_weight[j]
        if v > peak:
            peak = v
    total = 0.0
    if peak > -math.inf:
        for j in range(lo, hi):
            total += math.exp(c * log_x[j] + (n - c) * log_1mx[j] + log_weight[j] - peak)
    if total > 0.0:
        return np.logaddexp(math.log(total) + peak, extra)
    return extra


@njit(cache=True)
def _balanced_blocks(lo, hi, blocks):
    """Start index of each of ``blocks`` runs of consecutive pairs of about equal work (some
    may be empty), and the number of pairs as the last entry."""
    work = np.cumsum(hi - lo + _PAIR_COST)
    total = work[-1] if work.size else 0
    targets = (np.arange(1, blocks) * total) // blocks
    inner = np.searchsorted(work, targets, side="right")
    starts = np.empty(blocks + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:blocks] = inner
    starts[blocks] = lo.size
    return starts


@njit(parallel=True, cache=True)
def log_compound_integrals(c, n, lo, hi, log_x, log_1mx, log_weight, log_head, log_tail):
    """log sum_{j in [lo_u, hi_u)} exp(c_u log x_j + (n_u - c_u) log(1 - x_j) + log_weight_j),
    plus the prior mass below the grid (``log_head``) for c = 0 and above it (``log_tail``)
    for c = n, where the binomial factor is 1 to within 1e-12."""
    out = np.empty(c.shape[0])
    starts = _balanced_blocks(lo, hi, _BLOCKS)
    for b in prange(starts.size - 1):
        for u in range(starts[b], starts[b + 1]):
            extra = log_head if c[u] == 0 else (log_tail if c[u] == n[u] else -math.inf)
            out[u] = _log_integral(c[u], n[u], lo[u], hi[u], log_x, log_1mx, log_weight, extra)
    return out
