"""log of the integral of p^c (1-p)^(n-c) f(p) dp for many (c, n) pairs on one logit grid.

On t = logit(p) the binomial factor times the Jacobian p(1-p) is a log-concave bump of width
~ sqrt(1/(c+1) + 1/(n-c+1)), and the trapezoid rule on an evenly spaced grid converges
geometrically for such smooth integrands once the spacing is below the width. Each pair sums
only over its own window of the grid (where its bump is within e^-60 of its peak), so a
likelihood evaluation costs the sum of the window sizes, not pairs x grid.
"""

import math

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def log_compound_integrals(c, n, lo, hi, log_x, log_1mx, log_weight, log_head, log_tail):
    """log sum_{j in [lo_u, hi_u)} exp(c_u log x_j + (n_u - c_u) log(1 - x_j) + log_weight_j),
    plus the prior mass below the grid (``log_head``) for c = 0 and above it (``log_tail``)
    for c = n, where the binomial factor is 1 to within 1e-12."""
    out = np.empty(c.shape[0])
    for u in prange(c.shape[0]):
        peak = -math.inf
        for j in range(lo[u], hi[u]):
            v = c[u] * log_x[j] + (n[u] - c[u]) * log_1mx[j] + log_weight[j]
            if v > peak:
                peak = v
        total = 0.0
        if peak > -math.inf:
            for j in range(lo[u], hi[u]):
                total += math.exp(c[u] * log_x[j] + (n[u] - c[u]) * log_1mx[j]
                                  + log_weight[j] - peak)
        extra = log_head if c[u] == 0 else (log_tail if c[u] == n[u] else -math.inf)
        if total > 0.0:
            out[u] = np.logaddexp(math.log(total) + peak, extra)
        else:
            out[u] = extra
    return out
