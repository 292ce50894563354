"""The unbiased pass@k estimator 1 - C(n-c, k) / C(n, k) against exact arithmetic."""

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from simsearch import SimsearchError
from simsearch.fitting.counts import pass_at_k_from_counts, per_problem_pass_at_k


def _exact(n, c, k):
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


def test_matches_exact_rationals_for_every_small_case():
    for n in range(1, 13):
        c = np.arange(n + 1)
        ks = np.arange(1, n + 1)
        got = per_problem_pass_at_k(c, n, ks)
        want = np.array([[float(_exact(n, ci, k)) for k in ks] for ci in c])
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("c,k", [(1, 1), (3, 10), (0, 500), (200, 1), (256, 300), (300, 300),
                                 (5000, 1000), (999_000, 900), (123_456, 7_000)])
def test_stable_against_high_precision_at_n_one_million(c, k):
    n = 1_000_000
    with mp.workdps(60):
        ratio = mp.binomial(n - c, k) / mp.binomial(n, k)
        want = float(1 - ratio)
    got = per_problem_pass_at_k([c], n, [k])[0, 0]
    assert got == pytest.approx(want, rel=1e-7, abs=0)


def test_is_unbiased_for_binomial_counts():
    # E_c[estimate] = 1 - (1 - p)^k exactly when c ~ Binomial(n, p).
    n, p = 40, 0.07
    c = np.arange(n + 1)
    weights = stats.binom(n, p).pmf(c)
    for k in (1, 5, 40):
        est = per_problem_pass_at_k(c, n, [k])[:, 0]
        assert weights @ est == pytest.approx(1 - (1 - p) ** k, rel=1e-12)


def test_aggregate_is_the_mean_and_attempts_may_differ():
    got = pass_at_k_from_counts([0, 2, 5], [10, 20, 5], [1, 5])
    want = [np.mean([float(_exact(n, c, k)) for c, n in ((0, 10), (2, 20), (5, 5))])
            for k in (1, 5)]
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("successes,attempts,k,message", [
    ([1, 11], 10, [1], "successes: must be <= attempts (problem 2 has 11 successes in 10"),
    ([-1], 10, [1], "successes: must be integers >= 0 (problem 1 has -1.0)"),
    ([1.5], 10, [1], "successes: must be integers >= 0"),
    ([np.nan], 10, [1], "successes: must be integers >= 0"),
    ([1], [0], [1], "attempts: must be >= 1 (problem 1 has 0)"),
    ([1, 2], [10, 10, 10], [1], "differ in length"),
    ([1], 10, [11], "needs k <= attempts"),
    ([1], 10, [0], "k: attempts must be integers >= 1"),
])
def test_bad_counts_name_the_problem(successes, attempts, k, message):
    with pytest.raises(SimsearchError) as info:
        per_problem_pass_at_k(successes, attempts, k)
    assert message in str(info.value)


def test_aggregate_over_distinct_pairs_equals_the_per_problem_mean():
    # Heavily repeated pairs as in real count files (most c at 0 or n), with unequal attempts
    # and pairs that differ only in n or only in c.
    rng = np.random.default_rng(23)
    n = rng.choice([50, 51, 400, 10_000], size=5_000)
    p = rng.beta(0.2, 2.0, size=n.size)
    c = rng.binomial(n, p)
    k = [1, 2, 7, 50]
    want = per_problem_pass_at_k(c, n, k).mean(axis=0)
    np.testing.assert_allclose(pass_at_k_from_counts(c, n, k), want, rtol=1e-12, atol=0)


def test_aggregate_matches_exact_rationals_on_random_repeated_counts():
    rng = np.random.default_rng(7)
    n = rng.integers(12, 20, size=300)
    c = np.minimum(rng.geometric(0.3, size=n.size) - 1, n)
    for k in (1, 5, 12):
        want = float(sum(_exact(int(ni), int(ci), k) for ci, ni in zip(c, n)) / n.size)
        assert pass_at_k_from_counts(c, n, [k])[0] == pytest.approx(want, rel=1e-13, abs=0)


def test_running_product_over_the_k_grid_is_bit_identical_to_each_fresh_product():
    # The kernel continues the product over i < k from the previous k (grid walked in
    # ascending order, whatever order it is given in); each entry must equal the fresh sum.
    from simsearch.kernels.unbiased import log_fail_ratio, unbiased_pass_at_k

    rng = np.random.default_rng(11)
    n = rng.choice([1, 2, 30, 257, 600, 5_000], size=400)
    c = rng.binomial(n, rng.beta(0.3, 1.0, size=n.size))
    for k in ([1], [3, 1, 2], [600, 1, 257, 255, 256, 2, 30, 300]):
        k = np.array(k, dtype=np.int64)
        rows = n >= k.max()
        got = unbiased_pass_at_k(c[rows], n[rows], k)
        want = [[-math.expm1(log_fail_ratio(ni, ci, kj)) for kj in k]
                for ni, ci in zip(n[rows], c[rows])]
        np.testing.assert_array_equal(got, np.array(want).reshape(got.shape))
