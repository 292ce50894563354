"""The windowed compound-binomial sums against the sum over every node.

The kernel certifies that each pair's window leaves out at most TOLERANCE / 2 of its
full-grid sum at its stride (the other half is margin for rounding). The full-grid reference
here is a plain NumPy sum of the same node values, so the only differences allowed are that
share and floating-point rounding: a sum of G positive terms has relative rounding below G eps,
for each of the two sums compared, and a log is rounded to its own magnitude.
"""

import math

import numpy as np
import pytest
from scipy import special

from simsearch.kernels.compound_binomial import (_balanced_blocks, make_nodes, make_pairs,
                                                 windowed_log_sums)

TOLERANCE = 1e-12
EPS = np.finfo(float).eps


def random_nodes(seed, grid=3000, scores=2):
    """A logit grid, a scale (some near 0 or 1) and a prior that is smooth, or spiky, or
    concentrated far from most binomial modes, or zero on part of the grid."""
    rng = np.random.default_rng(seed)
    t = np.linspace(-30.0, 30.0, grid)
    log_x, log_1mx = -np.logaddexp(0.0, -t), -np.logaddexp(0.0, t)
    scale = float(rng.choice([1.0, special.expit(rng.uniform(-8, 12))]))
    log_p = math.log(scale) + log_x
    log_1mp = log_1mx if scale == 1.0 else np.logaddexp(math.log1p(-scale),
                                                       math.log(scale) + log_1mx)
    a, b = np.exp(rng.uniform(-4, 4, 2))
    log_weight = a * log_x + b * log_1mx + math.log(t[1] - t[0])
    kind = seed % 4
    if kind == 1:
        log_weight += rng.normal(0.0, 3.0, grid)
    elif kind == 2:
        log_weight = -0.5 * ((t - rng.uniform(-20, 20)) / 0.3) ** 2
    elif kind == 3:
        log_weight[: grid // 3] = -math.inf
    score_rows = rng.normal(0.0, 1.0, (scores, grid)) * np.abs(t)
    return make_nodes(log_p, log_1mp, log_weight, score_rows)


def random_pairs(seed, pairs=400):
    rng = np.random.default_rng(seed)
    n = np.concatenate([[1, 1, 10_000, 10_000, 10_000], rng.integers(1, 10_000, pairs - 5)])
    c = np.minimum(n, rng.pareto(0.7, pairs).astype(np.int64))
    c[rng.random(pairs) < 0.1] = 0
    top = rng.random(pairs) < 0.05
    c[top] = n[top]
    c[:5] = [0, 1, 0, 10_000, 5_000]  # c = 0, c = n, n = 1 and n = 1e4
    return c.astype(np.int64), n.astype(np.int64)


def random_strides(seed, c, n):
    """1 for some pairs (and at the ends, c = 0 or n), up to 16 for others."""
    strides = np.random.default_rng(seed).integers(1, 17, c.size)
    strides[::3] = 1
    return np.where((c == 0) | (c == n), 1, strides).astype(np.int64)


def full_grid(c, n, nodes, strides):
    """log sum over every node that is a multiple of the pair's stride (weighted by it), the
    score means, and each node's term (pairs, G; -inf off the stride)."""
    on = np.arange(nodes.log_p.size) % strides[:, None] == 0
    v = (c[:, None] * nodes.log_p + (n - c)[:, None] * nodes.log_1mp + nodes.log_weight
         + np.log(strides)[:, None])
    v = np.where(on, v, -np.inf)
    peak = v.max(axis=1)
    finite = np.isfinite(peak)
    scaled = np.exp(v - np.where(finite, peak, 0.0)[:, None])
    with np.errstate(divide="ignore"):
        log_sum = np.where(finite, peak + np.log(scaled.sum(axis=1)), -np.inf)
    share = scaled / np.maximum(scaled.sum(axis=1), 1e-300)[:, None]
    return log_sum, share @ nodes.scores.T, v


@pytest.mark.parametrize("tolerance", [TOLERANCE, 1e-30])  # 1e-30: every window widens
def test_windows_leave_out_at_most_the_certified_share(tolerance):
    for seed in range(12):
        nodes = random_nodes(seed)
        c, n = random_pairs(seed)
        strides = random_strides(seed, c, n)
        log_sum, means, lo, hi, used = windowed_log_sums(make_pairs(c, n, strides, nodes),
                                                         nodes, math.log(tolerance))
        # A window that reaches an end of the grid at its stride is summed at stride 1.
        assert np.all((used == strides) | (used == 1))
        ref_sum, ref_means, v = full_grid(c, n, nodes, used)
        rounding = 2 * nodes.log_p.size * EPS
        finite = np.isfinite(ref_sum)
        np.testing.assert_array_equal(np.isfinite(log_sum), finite)
        # ... and each log, rounded to its own magnitude (peak + log of the scaled sum).
        assert np.all(np.abs(log_sum - ref_sum)[finite]
                      <= (tolerance + rounding + 4 * EPS * np.abs(ref_sum))[finite])
        # The left-out share itself, from the full grid.
        nodes_idx = np.arange(nodes.log_p.size)
        outside = (nodes_idx < lo[:, None]) | (nodes_idx >= hi[:, None])
        with np.errstate(divide="ignore"):
            left_out = np.where(outside, np.exp(v - ref_sum[:, None]), 0.0).sum(axis=1)
        assert np.all(left_out[finite] <= tolerance / 2 * (1 + 1e-9))
        # A score mean moves by at most the left-out share times twice the largest |score|.
        bound = (tolerance + 2 * rounding) * 2 * np.abs(nodes.scores).max(axis=1)
        assert np.all(np.abs(means - ref_means)[finite] <= bound)


def test_windows_are_small_where_the_prior_is_smooth():
    nodes = random_nodes(0, grid=10_000)
    c, n = random_pairs(0)
    pairs = make_pairs(c, n, np.ones_like(c), nodes)
    _, _, lo, hi, _ = windowed_log_sums(pairs, nodes, math.log(TOLERANCE))
    interior = (c > 20) & (n - c > 20)
    assert (hi - lo)[interior].mean() < nodes.log_p.size / 10


def test_same_results_on_one_and_two_threads(two_threads):
    nodes = random_nodes(1, grid=5000)
    c, n = random_pairs(7, pairs=3000)
    results = []
    for threads in (1, 2):
        two_threads.set_num_threads(threads)
        pairs = make_pairs(c, n, random_strides(7, c, n), nodes)
        results.append(windowed_log_sums(pairs, nodes, math.log(TOLERANCE)))
    for one, two in zip(*results):
        assert np.array_equal(one, two, equal_nan=True)


def test_blocks_cover_every_pair_once_with_about_equal_work():
    rng = np.random.default_rng(3)
    lo = rng.integers(0, 4000, 3000)
    hi = np.minimum(4000, lo + (4000 / np.sqrt(1.0 + rng.pareto(0.7, 3000))).astype(np.int64))
    hi[:30] = lo[:30]  # empty windows
    strides = rng.integers(1, 5, 3000)
    work = (hi - lo) // strides + 32
    for blocks in (1, 2, 16, 5000):
        starts = _balanced_blocks(lo, hi, strides, blocks)
        assert starts[0] == 0 and starts[-1] == lo.size and np.all(np.diff(starts) >= 0)
        per_block = np.add.reduceat(np.append(work, 0), starts[:-1])
        per_block[np.diff(starts) == 0] = 0
        # No block exceeds its share by more than one pair's work.
        assert per_block.max() <= work.sum() / blocks + work.max()
    empty = np.zeros(0, dtype=np.int64)
    assert list(_balanced_blocks(empty, empty, empty, 4)) == [0, 0, 0, 0, 0]
