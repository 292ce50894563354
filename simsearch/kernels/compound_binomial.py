"""Sums of p^c (1-p)^(n-c) w_j over a shared grid for many (c, n) pairs, each pair over a window
whose neglected share is certified below a tolerance.

The caller (``simsearch.estimators._QuadratureModel``) puts nodes x_j on a logit grid of the
integration variable and passes, for one parameter value, the success probability at each node
(p_j = s x_j for a scaled family, else x_j) and the prior mass of each node w_j (density times
Jacobian times step). A pair's sum S = sum_j g_j w_j, with g_j = p_j^c (1 - p_j)^(n-c), is the
midpoint rule for its integral; it is the sum over every node that this kernel approximates.

Window and the bound on what it leaves out
------------------------------------------
p_j increases with j, and g is unimodal in p with its mode at c/n, so g_j increases up to the
first node m with p_m >= c/n and decreases from there. For any window [lo, hi) around m:

* every left-out node i < lo has g_i <= g_(lo-1), so their share of S is at most
  g_(lo-1) * W_below(lo), with W_below(j) = sum_{i<j} w_i;
* every left-out node i >= hi has g_i <= g_hi, so their share is at most g_hi * W_above(hi),
  with W_above(j) = sum_{i>=j} w_i.

Both bounds hold whatever the prior (no assumption on w beyond w >= 0). The kernel first sums
a core window (nodes where g is within e^-_CORE of its largest grid value; for a pair with
c >= 1 and n - c >= 1 this is about +-sqrt(2 _CORE) binomial standard deviations), which is a
lower bound S_core <= S. It then widens each side, by bisection (each bound is monotone in
its edge), until each bound is at most (tolerance / 4) S_core, and sums the additions. So
the neglected part of S is at most tolerance / 2 of S; the other factor 2 is a margin for the
rounding of the prefix sums W (relative error below G eps, G the number of nodes) and their
floor for underflow (the caller adds G * 1e-300 of the largest w). Where the prior is
small near the binomial mode (so S_core is small), the window widens as far as it must,
up to the whole grid.

With tolerance 1e-12 the result is the full-grid sum to 12 digits, and the posterior means of
the score rows (the gradient) move by at most tolerance x max |score| over the grid.

Threads get blocks of consecutive pairs of about equal total core size rather than equal
numbers of pairs; a pair's result does not depend on its block, so the results are the same
whatever the number of threads.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit, prange

#: Node values shared by every pair, for one parameter value. ``log_p``, ``log_1mp``,
#: ``log_weight``: (G,) log p_j, log(1 - p_j), log w_j, with p_j increasing. ``log_below``,
#: ``log_above``: (G + 1,) log upper bounds of sum_{i<j} w_i and sum_{i>=j} w_i.
#: ``scores``: (K, G) node values whose mean under each pair's posterior is also returned
#: (K may be 0).
Nodes = namedtuple("Nodes", ["log_p", "log_1mp", "log_weight", "log_below", "log_above",
                             "scores"])

#: Core window: nodes where the binomial factor is within e^-_CORE of its largest grid value.
#: e^-36 (about 2e-16) makes the certificate pass without widening for typical priors.
_CORE = 36.0
#: Blocks of pairs: prange splits them statically, so many (8 or more per thread up to 32
#: threads) keep the threads' shares even. A fixed number, not one read from the thread count
#: (which numba cannot cache).
_BLOCKS = 256
#: Fixed cost of a pair in nodes (the bisections and the combination at the end).
_PAIR_COST = 32


@njit(cache=True)
def make_nodes(log_p, log_1mp, log_weight, scores):
    """:data:`Nodes` with the prefix and suffix bounds of the weights.

    The sums run over the weights scaled by the largest, in floating point (relative rounding
    below G eps, covered by the kernel's factor-2 margin); a floor of G x 1e-300 (times the
    largest) covers the terms that underflow.
    """
    size = log_weight.size
    top = -math.inf
    for j in range(size):
        top = max(top, log_weight[j])
    floor = size * 1e-300
    log_below = np.empty(size + 1)
    log_above = np.empty(size + 1)
    log_below[0], log_above[size] = -math.inf, -math.inf
    total = 0.0
    for j in range(size):
        total += math.exp(log_weight[j] - top) if top > -math.inf else 0.0
        log_below[j + 1] = top + math.log(total + floor)
    total = 0.0
    for j in range(size - 1, -1, -1):
        total += math.exp(log_weight[j] - top) if top > -math.inf else 0.0
        log_above[j] = top + math.log(total + floor)
    return Nodes(log_p, log_1mp, log_weight, log_below, log_above, scores)


@njit(cache=True)
def _log_g(c, n, nodes, j):
    return c * nodes.log_p[j] + (n - c) * nodes.log_1mp[j]


@njit(cache=True)
def _core(c, n, nodes):
    """[lo, hi) of the nodes where log g is within _CORE of its largest grid value."""
    size = nodes.log_p.size
    m = 0 if c == 0 else np.searchsorted(nodes.log_p, math.log(c / n))
    top = -math.inf
    if m > 0:
        top = _log_g(c, n, nodes, m - 1)
    if m < size:
        top = max(top, _log_g(c, n, nodes, m))
    floor = top - _CORE
    lo, hi = 0, m  # first node of [0, m) with log g >= floor (increasing there)
    while lo < hi:
        mid = (lo + hi) // 2
        if _log_g(c, n, nodes, mid) >= floor:
            hi = mid
        else:
            lo = mid + 1
    first = lo
    lo, hi = m, size  # first node of [m, size) with log g < floor (decreasing there)
    while lo < hi:
        mid = (lo + hi) // 2
        if _log_g(c, n, nodes, mid) < floor:
            hi = mid
        else:
            lo = mid + 1
    return first, lo


@njit(cache=True)
def _widen_left(c, n, nodes, lo, target):
    """Largest j <= lo with g_(j-1) W_below(j) <= e^target (monotone in j for j <= lo)."""
    if lo == 0 or _log_g(c, n, nodes, lo - 1) + nodes.log_below[lo] <= target:
        return lo
    a, b = 0, lo - 1  # the answer is in [a, b]; j = 0 always satisfies the bound
    while a < b:
        mid = (a + b + 1) // 2
        if _log_g(c, n, nodes, mid - 1) + nodes.log_below[mid] <= target:
            a = mid
        else:
            b = mid - 1
    return a


@njit(cache=True)
def _widen_right(c, n, nodes, hi, target):
    """Smallest j >= hi with g_j W_above(j) <= e^target (monotone in j for j >= hi)."""
    size = nodes.log_p.size
    if hi == size or _log_g(c, n, nodes, hi) + nodes.log_above[hi] <= target:
        return hi
    a, b = hi + 1, size  # j = size always satisfies the bound
    while a < b:
        mid = (a + b) // 2
        if _log_g(c, n, nodes, mid) + nodes.log_above[mid] <= target:
            b = mid
        else:
            a = mid + 1
    return a


@njit(cache=True)
def _peak(c, n, nodes, lo, hi):
    peak = -math.inf
    for j in range(lo, hi):
        v = _log_g(c, n, nodes, j) + nodes.log_weight[j]
        if v > peak:
            peak = v
    return peak


@njit(cache=True)
def _accumulate(c, n, nodes, lo, hi, shift, acc):
    """acc[0] += sum exp(v_j - shift), acc[1 + k] += sum exp(v_j - shift) scores[k, j]."""
    scores = nodes.scores
    for j in range(lo, hi):
        e = math.exp(_log_g(c, n, nodes, j) + nodes.log_weight[j] - shift)
        acc[0] += e
        for k in range(scores.shape[0]):
            acc[1 + k] += e * scores[k, j]


@njit(cache=True)
def _pair(c, n, nodes, lo, hi, log_tolerance, acc):
    """Certified window sum of one pair from its core [lo, hi). Returns (log S, lo, hi) and
    leaves the score sums (scaled by exp(-shift)) in ``acc``."""
    acc[:] = 0.0
    shift = _peak(c, n, nodes, lo, hi)
    if shift == -math.inf:  # the prior vanishes on the core: sum the whole grid
        lo, hi = 0, nodes.log_p.size
        shift = _peak(c, n, nodes, lo, hi)
        if shift == -math.inf:
            return -math.inf, lo, hi
    _accumulate(c, n, nodes, lo, hi, shift, acc)
    target = shift + math.log(acc[0]) + log_tolerance - math.log(4.0)
    new_lo = _widen_left(c, n, nodes, lo, target)
    new_hi = _widen_right(c, n, nodes, hi, target)
    if new_lo < lo or new_hi > hi:
        wider = max(_peak(c, n, nodes, new_lo, lo), _peak(c, n, nodes, hi, new_hi))
        if wider > shift:  # rescale so that no term overflows
            acc *= math.exp(shift - wider)
            shift = wider
        _accumulate(c, n, nodes, new_lo, lo, shift, acc)
        _accumulate(c, n, nodes, hi, new_hi, shift, acc)
    return shift + math.log(acc[0]), new_lo, new_hi


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
def windowed_log_sums(c, n, nodes, log_tolerance):
    """Each pair's log sum_j g_j w_j over its certified window, the posterior means of the
    score rows, and the windows.

    Returns
    -------
    log_sum : (pairs,) ndarray
        Within ``exp(log_tolerance)`` (relative) of the sum over every node.
    means : (pairs, K) ndarray
        sum_j g_j w_j scores[k, j] / sum_j g_j w_j over the window.
    lo, hi : (pairs,) int64 ndarrays
        The windows summed.
    """
    pairs = c.shape[0]
    k = nodes.scores.shape[0]
    lo = np.empty(pairs, dtype=np.int64)
    hi = np.empty(pairs, dtype=np.int64)
    for u in prange(pairs):
        lo[u], hi[u] = _core(c[u], n[u], nodes)
    log_sum = np.empty(pairs)
    means = np.empty((pairs, k))
    starts = _balanced_blocks(lo, hi, _BLOCKS)
    for b in prange(starts.size - 1):
        acc = np.empty(k + 1)
        for u in range(starts[b], starts[b + 1]):
            log_sum[u], lo[u], hi[u] = _pair(c[u], n[u], nodes, lo[u], hi[u], log_tolerance,
                                             acc)
            for i in range(k):
                means[u, i] = acc[1 + i] / acc[0] if acc[0] > 0.0 else 0.0
    return log_sum, means, lo, hi
