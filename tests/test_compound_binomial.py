"""The quadrature kernel's thread balancing changes which thread sums a pair, never the sum."""

import math

import numpy as np
from numba import njit

from simsearch.kernels.compound_binomial import _balanced_blocks, log_compound_integrals


@njit
def one_pair_at_a_time(c, n, lo, hi, log_x, log_1mx, log_weight, log_head, log_tail):
    """The kernel as it was before balancing (one serial loop over the pairs)."""
    out = np.empty(c.shape[0])
    for u in range(c.shape[0]):
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


def random_problem(seed, pairs=3000, grid=4000):
    """Pairs with very unequal windows (wide for small c, as in real fits), some empty, some
    at c = 0 or c = n, and a weight that is -inf on part of the grid."""
    rng = np.random.default_rng(seed)
    t = np.linspace(-40.0, 12.0, grid)
    log_x, log_1mx = -np.logaddexp(0.0, -t), -np.logaddexp(0.0, t)
    log_weight = rng.normal(-3.0, 1.0, grid)
    log_weight[:50] = -math.inf
    n = rng.integers(1, 10_000, pairs)
    c = np.minimum(n, (rng.pareto(0.7, pairs)).astype(np.int64))
    c[rng.random(pairs) < 0.05] = 0
    c[:20] = n[:20]
    width = (grid / np.sqrt(1.0 + c)).astype(np.int64)
    lo = rng.integers(0, grid, pairs)
    hi = np.minimum(grid, lo + width)
    hi[:30] = lo[:30]  # empty windows
    return (c.astype(np.int64), n.astype(np.int64), lo.astype(np.int64), hi.astype(np.int64),
            log_x, log_1mx, log_weight, -2.5, -7.0)


def test_balanced_kernel_is_bit_identical_to_the_pair_loop():
    for seed in range(3):
        args = random_problem(seed)
        before, after = one_pair_at_a_time(*args), log_compound_integrals(*args)
        assert np.array_equal(before, after, equal_nan=True)
        assert np.isfinite(after).mean() > 0.9


def test_same_results_on_one_and_two_threads(two_threads):
    args = random_problem(7)
    results = []
    for threads in (1, 2):
        two_threads.set_num_threads(threads)
        results.append(log_compound_integrals(*args))
    assert np.array_equal(results[0], results[1], equal_nan=True)


def test_blocks_cover_every_pair_once_with_about_equal_work():
    c, n, lo, hi, *_ = random_problem(3)
    work = hi - lo + 4
    for blocks in (1, 2, 16, 5000):
        starts = _balanced_blocks(lo, hi, blocks)
        assert starts[0] == 0 and starts[-1] == c.size and np.all(np.diff(starts) >= 0)
        per_block = np.add.reduceat(np.append(work, 0), starts[:-1])
        per_block[np.diff(starts) == 0] = 0
        # No block exceeds its share by more than one pair's work.
        assert per_block.max() <= work.sum() / blocks + work.max()
    empty = np.zeros(0, dtype=np.int64)
    assert list(_balanced_blocks(empty, empty, 4)) == [0, 0, 0, 0, 0]
