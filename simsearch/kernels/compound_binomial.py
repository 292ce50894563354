"""Sums of p^c (1-p)^(n-c) w_j over a shared grid for many (c, n) pairs, each pair over a window
whose neglected share is certified below a tolerance.

The caller (``simsearch.fitting.quadrature._QuadratureModel``) puts nodes x_j on a logit grid of the
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

Both bounds hold whatever the prior (no assumption on w beyond w >= 0). A pair with stride k
sums only the nodes that are multiples of k, each weighted k (a coarser midpoint rule for a
wider posterior): its left-out nodes are some of those above, so its bounds are k times
theirs. The kernel first sums a core window (nodes where g is within e^-_CORE of its largest
grid value; for a pair with c >= 1 and n - c >= 1 about +-sqrt(2 _CORE) binomial standard
deviations), a lower bound S_core <= S. It then widens each side, by bisection (each bound is
monotone in its edge), until each bound is at most (tolerance / 4) S_core, and sums the
additions. So the neglected part of S (S at the pair's stride) is at most tolerance / 2 of
S; the other factor 2 is a margin for the rounding of the prefix sums W (relative error
below G eps, G the number of nodes) and their floor for underflow (G * 1e-300 of the
largest w). Where the prior is small near the binomial mode (so S_core is small), the window
widens as far as it must, up to the whole grid.

With tolerance 1e-12 the result is the full-grid sum to 12 digits, and the posterior means of
the score rows (the gradient) move by at most tolerance x max |score| over the grid.

Threads get blocks of consecutive pairs of about equal total work (core window over stride)
rather than equal numbers of pairs; a pair's result does not depend on its block, so the
results are the same whatever the number of threads.
"""

import math
from collections import namedtuple

import numpy as np

from .jit import njit, prange

#: Node values shared by every pair, for one parameter value. ``log_p``, ``log_1mp``,
#: ``log_weight``: (G,) log p_j, log(1 - p_j), log w_j, with p_j increasing. ``log_below``,
#: ``log_above``: (G + 1,) log upper bounds of sum_{i<j} w_i and sum_{i>=j} w_i.
#: ``scores``: (K, G) node values whose mean under each pair's posterior is also returned
#: (K from 0 to 3).
Nodes = namedtuple("Nodes", ["log_p", "log_1mp", "log_weight", "log_below", "log_above",
                             "scores"])

#: The (c, n) pairs: successes, attempts, each pair's stride (it sums every stride-th node)
#: and the start of each block of pairs handed to a thread (last entry: the number of pairs).
#: Build with :func:`make_pairs`.
Pairs = namedtuple("Pairs", ["successes", "attempts", "strides", "blocks"])

#: What :func:`windowed_log_sums` returns, per pair: log of the window sum, posterior means of
#: the score rows (pairs, K), the window [lo, hi) and the stride used.
Sums = namedtuple("Sums", ["log_sum", "means", "lo", "hi", "strides"])

#: Core window: nodes where the binomial factor is within e^-_CORE of its largest grid value.
#: e^-36 (about 2e-16) makes the certificate pass without widening for typical priors.
_CORE = 36.0
#: Terms may reach e^_HEADROOM before the shift is raised (so rescaling is rare).
_HEADROOM = 30.0
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
def _accumulate(c, n, nodes, lo, hi, stride, acc):
    """Add exp(v_j - acc[0]) to acc[1] and its score multiples to acc[2:], over the nodes of
    [lo, hi) that are multiples of ``stride``. acc[0] is the shift: raised (and the sums
    rescaled) when a term would exceed e^_HEADROOM, so nothing overflows. The sums run in
    local variables (at most three score rows) so that they stay in registers."""
    scores = nodes.scores
    rows = scores.shape[0]
    shift, total = acc[0], acc[1]
    m0 = acc[2] if rows > 0 else 0.0
    m1 = acc[3] if rows > 1 else 0.0
    m2 = acc[4] if rows > 2 else 0.0
    for j in range(-(-lo // stride) * stride, hi, stride):
        v = _log_g(c, n, nodes, j) + nodes.log_weight[j]
        if v > shift + _HEADROOM:
            rescale = math.exp(shift - v)
            total, m0, m1, m2 = total * rescale, m0 * rescale, m1 * rescale, m2 * rescale
            shift = v
        e = math.exp(v - shift)
        total += e
        if rows > 0:
            m0 += e * scores[0, j]
        if rows > 1:
            m1 += e * scores[1, j]
        if rows > 2:
            m2 += e * scores[2, j]
    acc[0], acc[1] = shift, total
    for k, m in enumerate((m0, m1, m2)):
        if k < rows:
            acc[2 + k] = m


@njit(cache=True)
def _pair(c, n, nodes, lo, hi, stride, log_tolerance, acc):
    """Certified window sum of one pair from its core [lo, hi), over the nodes that are
    multiples of ``stride`` (each weighted ``stride``). Returns (log S, lo, hi) and leaves
    the shift and the shifted sums in ``acc``."""
    size = nodes.log_p.size
    acc[:] = 0.0
    # A first shift near the peak: a node that is summed, so its term is 1.
    middle = min(max((lo + hi) // 2 // stride * stride, 0), size - 1)
    acc[0] = max(_log_g(c, n, nodes, middle) + nodes.log_weight[middle], -1e300)
    _accumulate(c, n, nodes, lo, hi, stride, acc)
    if acc[1] == 0.0:  # the prior vanishes on the core: sum the whole grid
        acc[:] = 0.0
        acc[0] = -1e300  # any finite term raises it
        lo, hi = 0, size
        _accumulate(c, n, nodes, lo, hi, stride, acc)
        if acc[1] == 0.0:
            return -math.inf, lo, hi
    # A stride's left-out nodes are some of the left-out nodes, each weighted ``stride``.
    target = (acc[0] + math.log(acc[1]) + log_tolerance - math.log(4.0)
              - math.log(float(stride)))
    new_lo = _widen_left(c, n, nodes, lo, target)
    new_hi = _widen_right(c, n, nodes, hi, target)
    _accumulate(c, n, nodes, new_lo, lo, stride, acc)
    _accumulate(c, n, nodes, hi, new_hi, stride, acc)
    return acc[0] + math.log(acc[1] * stride), new_lo, new_hi


@njit(cache=True)
def _balanced_blocks(lo, hi, strides, blocks):
    """Start index of each of ``blocks`` runs of consecutive pairs of about equal work (some
    may be empty), and the number of pairs as the last entry."""
    work = np.cumsum((hi - lo) // strides + _PAIR_COST)
    total = work[-1] if work.size else 0
    targets = (np.arange(1, blocks) * total) // blocks
    inner = np.searchsorted(work, targets, side="right")
    starts = np.empty(blocks + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:blocks] = inner
    starts[blocks] = lo.size
    return starts


@njit(cache=True)
def make_pairs(c, n, strides, nodes):
    """:data:`Pairs`, with blocks of about equal work as measured by the core windows on
    ``nodes`` (any representative node values: the split only balances the threads)."""
    lo = np.empty(c.size, dtype=np.int64)
    hi = np.empty(c.size, dtype=np.int64)
    for u in range(c.size):
        lo[u], hi[u] = _core(c[u], n[u], nodes)
    return Pairs(c, n, strides, _balanced_blocks(lo, hi, strides, _BLOCKS))


@njit(parallel=True, cache=True)
def windowed_log_sums(pairs, nodes, log_tolerance):
    """Each pair's log sum_j g_j w_j over its certified window, the posterior means of the
    score rows, and the windows.

    Each pair sums the nodes that are multiples of its stride, each weighted by the stride
    (a coarser midpoint rule for a wider posterior); a window that reaches an end of the
    grid is summed at stride 1 (the caller's end corrections assume the grid's own cells).
    One parallel region over the pairs' blocks (one barrier per call).

    Returns
    -------
    Sums
        ``log_sum`` within ``exp(log_tolerance)`` (relative) of the same rule (the stride
        used) over every node; ``means`` sum_j g_j w_j scores[k, j] / sum_j g_j w_j over the
        window; the windows ``lo``, ``hi`` and the ``strides`` used.
    """
    c, n, strides, starts = pairs.successes, pairs.attempts, pairs.strides, pairs.blocks
    count = c.shape[0]
    k = nodes.scores.shape[0]
    if k > 3:
        raise ValueError("at most three score rows")
    size = nodes.log_p.size
    lo = np.empty(count, dtype=np.int64)
    hi = np.empty(count, dtype=np.int64)
    log_sum = np.empty(count)
    means = np.empty((count, k))
    used = strides.copy()
    for b in prange(starts.size - 1):
        acc = np.empty(k + 2)
        for u in range(starts[b], starts[b + 1]):
            core_lo, core_hi = _core(c[u], n[u], nodes)
            log_sum[u], lo[u], hi[u] = _pair(c[u], n[u], nodes, core_lo, core_hi, strides[u],
                                             log_tolerance, acc)
            if strides[u] > 1 and (lo[u] == 0 or hi[u] == size):
                used[u] = 1
                log_sum[u], lo[u], hi[u] = _pair(c[u], n[u], nodes, core_lo, core_hi, 1,
                                                 log_tolerance, acc)
            for i in range(k):
                means[u, i] = acc[2 + i] / acc[1] if acc[1] > 0.0 else 0.0
    return Sums(log_sum, means, lo, hi, used)
