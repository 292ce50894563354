"""The repeated-sampling engine against exact expectations and a per-attempt Bernoulli reference."""

import numpy as np
import pytest
from scipy import stats

from simsearch import (Beta, Empirical, Kumaraswamy, LogitNormal, LogUniform, Mixture, Point,
                       SimsearchError, parse_k_grid, simulate_pass_at_k)
from passk_reference import first_success_times_bernoulli
from conftest import P_MIN, Z_TOL, chi2_pvalue_discrete

K_GRID = parse_k_grid("logspace:1:1e6:25")


def _z_scores(result):
    """Deviation of simulated fail@k from E[(1-p)^k] in exact binomial standard errors."""
    e = result.expected_failure
    se = np.sqrt(e * (1 - e) / result.problems)
    diff = result.fail_at_k - e
    return np.where(se > 0, diff / np.where(se > 0, se, 1), np.where(diff == 0, 0.0, np.inf))


@pytest.mark.parametrize("dist", [
    Beta(0.3, 3),
    Beta(0.5, 2, scale=0.4),
    Kumaraswamy(0.5, 2),
    Kumaraswamy(0.5, 2, scale=0.4),
    Mixture([(0.7, Beta(0.3, 3)), (0.3, Point(0.5))]),
    LogitNormal(-2, 1.5),
    LogUniform(1e-5, 0.5),
    Empirical([0.0, 0.001, 0.03, 0.4]),
], ids=str)
def test_aggregate_pass_at_k_matches_exact_expectation(dist):
    result = simulate_pass_at_k(dist, K_GRID, 400_000, replicates=2, seed=20)
    z = _z_scores(result)
    assert np.all(np.abs(z) < Z_TOL), z.round(2)


@pytest.mark.parametrize("p", [0.3, 0.01])
def test_geometric_times_match_bernoulli_reference_for_fixed_p(p):
    n, cap = 100_000, int(20 / p)
    geo = simulate_pass_at_k(Point(p), 1, n, seed=1, per_problem=True).first_success[0]
    ber = first_success_times_bernoulli(np.full(n, p), cap, rng=2)
    bins = np.unique(np.round(np.geomspace(1, cap + 1, 40))).tolist() + [np.inf]
    assert chi2_pvalue_discrete(np.minimum(geo, cap + 1), np.minimum(ber, cap + 1),
                                bins) > P_MIN
    # and both against the exact geometric law
    observed, _ = np.histogram(np.minimum(geo, cap + 1), bins=bins)
    edges = np.array(bins[:-1])
    cdf_lo = 1 - (1 - p) ** (edges - 1)
    probs = np.diff(np.append(cdf_lo, 1.0))
    assert stats.chisquare(observed, n * probs).pvalue > P_MIN


def test_geometric_times_match_bernoulli_reference_over_a_beta_population():
    n, cap = 100_000, 2000
    res = simulate_pass_at_k(Beta(0.3, 3), 1, n, seed=5, per_problem=True)
    geo = np.minimum(res.first_success[0], cap + 1)
    ber = np.minimum(first_success_times_bernoulli(res.p[0], cap, rng=6), cap + 1)
    bins = np.unique(np.round(np.geomspace(1, cap + 1, 30))).tolist() + [np.inf]
    assert chi2_pvalue_discrete(geo, ber, bins) > P_MIN


@pytest.mark.parametrize("dist", [Beta(0.3, 3), Kumaraswamy(0.5, 2, scale=0.4),
                                  LogitNormal(-2, 1.5), LogUniform(1e-5, 0.5)], ids=str)
def test_kernel_draws_p_from_the_distribution(dist):
    p = simulate_pass_at_k(dist, 1, 200_000, seed=9, per_problem=True).p[0]
    assert stats.kstest(p, dist.cdf).pvalue > P_MIN


def test_kernel_draws_mixture_weights_and_empirical_values():
    dist = Mixture([(0.2, Point(0.1)), (0.5, Empirical([0.3, 0.6])), (0.3, Point(0.9))])
    p = simulate_pass_at_k(dist, 1, 200_000, seed=3, per_problem=True).p[0]
    values, counts = np.unique(p, return_counts=True)
    np.testing.assert_array_equal(values, [0.1, 0.3, 0.6, 0.9])
    assert stats.chisquare(counts, p.size * np.array([0.2, 0.25, 0.25, 0.3])).pvalue > P_MIN


def test_per_problem_draws_reproduce_the_binned_counts_exactly():
    kw = dict(dist=Beta(0.3, 3), k=K_GRID, problems=150_000, replicates=3, seed=4)
    binned = simulate_pass_at_k(**kw)
    full = simulate_pass_at_k(**kw, per_problem=True)
    np.testing.assert_array_equal(binned.fail_counts, full.fail_counts)
    assert full.p.shape == full.first_success.shape == (3, 150_000)
    direct = (full.first_success[:, :, None] > K_GRID[None, None, :]).sum(axis=1)
    np.testing.assert_array_equal(direct, binned.fail_counts)


def test_results_are_bit_identical_across_thread_counts(two_threads):
    kw = dict(dist="mixture(0.7*beta(alpha=0.3, beta=3), 0.3*logitnormal(mu=0, sigma=1))",
              k=K_GRID, problems=300_000, replicates=2, seed=123)
    runs = []
    for threads in (1, 2):
        two_threads.set_num_threads(threads)
        runs.append((simulate_pass_at_k(**kw), simulate_pass_at_k(**kw, per_problem=True)))
    (a, a_pp), (b, b_pp) = runs
    np.testing.assert_array_equal(a.fail_counts, b.fail_counts)
    np.testing.assert_array_equal(a_pp.p, b_pp.p)
    np.testing.assert_array_equal(a_pp.first_success, b_pp.first_success)


def test_seeds_reproduce_and_replicates_are_independent_streams():
    kw = dict(dist=Beta(0.3, 3), k=[1, 10, 100], problems=70_000)
    one = simulate_pass_at_k(**kw, seed=8)
    again = simulate_pass_at_k(**kw, seed=8)
    three = simulate_pass_at_k(**kw, seed=8, replicates=3)
    other = simulate_pass_at_k(**kw, seed=9)
    np.testing.assert_array_equal(one.fail_counts, again.fail_counts)
    np.testing.assert_array_equal(three.fail_counts[0], one.fail_counts[0])
    assert not np.array_equal(three.fail_counts[0], three.fail_counts[1])
    assert not np.array_equal(one.fail_counts, other.fail_counts)
    fresh = simulate_pass_at_k(**kw, seed=None)
    replay = simulate_pass_at_k(**kw, seed=fresh.seed_entropy)
    np.testing.assert_array_equal(fresh.fail_counts, replay.fail_counts)


def test_stderr_is_the_binomial_standard_error_and_matches_replicate_spread():
    res = simulate_pass_at_k(Beta(0.3, 3), [1, 100, 10_000], 20_000, replicates=200, seed=2)
    f = res.fail_at_k
    np.testing.assert_allclose(res.stderr, np.sqrt(f * (1 - f) / 20_000))
    # Spread over 200 replicates estimates the same quantity to ~5% (1/sqrt(2*199)).
    ratio = res.pass_at_k.std(axis=0, ddof=1) / res.stderr.mean(axis=0)
    assert np.all(np.abs(ratio - 1) < Z_TOL / np.sqrt(2 * 199))


def _local_slopes(fail, k):
    """Slopes of log(-log pass@k) against log k between neighbouring grid points."""
    return np.diff(np.log(-np.log1p(-fail))) / np.diff(np.log(k))


def test_neg_log_pass_at_k_slope_approaches_minus_alpha_for_beta():
    dist, n = Beta(0.3, 3), 4_000_000
    k = np.array([1, 10, 1e3, 1e4, 1e5, 1e6])
    res = simulate_pass_at_k(dist, k, n, seed=31)
    sim = _local_slopes(res.fail_at_k[0], k)
    exact = _local_slopes(res.expected_failure, k)
    # standard error of log(-log pass) ~ sqrt((1 - f) / (f n)); bound a slope's by the sum
    f = res.fail_at_k[0]
    se_log = np.sqrt((1 - f) / (f * n))
    se_slope = (se_log[1:] + se_log[:-1]) / np.diff(np.log(k))
    assert np.all(np.abs(sim - exact) < Z_TOL * se_slope)
    # exact local slopes steepen less and less and converge on -alpha
    assert np.all(np.diff(np.abs(exact + 0.3)) < 0)
    assert abs(sim[-1] + 0.3) < 0.02 < abs(sim[0] + 0.3)
    far = np.array([1e10, 1e12])
    assert _local_slopes(dist.expected_failure(far), far)[0] == pytest.approx(-0.3, abs=2e-3)


def test_logitnormal_has_no_constant_slope():
    dist, n = LogitNormal(-2, 1.5), 4_000_000
    k = np.array([1, 10, 100, 1000])
    res = simulate_pass_at_k(dist, k, n, seed=32)
    f = res.fail_at_k[0]
    sim = _local_slopes(f, k)
    se_log = np.sqrt((1 - f) / (f * n))
    se_slope = (se_log[1:] + se_log[:-1]) / np.diff(np.log(k))
    # each decade is steeper than the last by far more than the noise
    assert np.all(np.diff(sim) < -Z_TOL * (se_slope[1:] + se_slope[:-1]))
    assert np.all(np.abs(sim - _local_slopes(res.expected_failure, k)) < Z_TOL * se_slope)


def test_huge_k_and_degenerate_p():
    res = simulate_pass_at_k(Beta(0.3, 3), [1, 10**9, 10**12], 1_000_000, seed=1)
    assert np.all(np.abs(_z_scores(res)) < Z_TOL)
    never = simulate_pass_at_k(Point(0.0), [1, 10**12], 1000, seed=1, per_problem=True)
    assert np.all(never.pass_at_k == 0) and np.all(np.isinf(never.first_success))
    always = simulate_pass_at_k(Point(1.0), [1], 1000, seed=1, per_problem=True)
    assert np.all(always.pass_at_k == 1) and np.all(always.first_success == 1)


@pytest.mark.parametrize("p", [1e-25, 1e-300, 5e-324])
def test_astronomically_small_p_never_succeeds_early(p):
    # First-success times far beyond 2^63 must stay huge (not wrap around as integers).
    res = simulate_pass_at_k(Point(p), [1, 10**15], 20_000, seed=1, per_problem=True)
    assert np.all(res.pass_at_k == 0)
    assert np.all(res.first_success[0] > 1e15)


def test_neg_log_pass_is_computed_without_cancellation():
    res = simulate_pass_at_k(Beta(0.3, 3), [10**6], 10_000, seed=1)
    f = res.fail_at_k[0, 0]
    assert res.neg_log_pass_at_k[0, 0] == pytest.approx(-np.log1p(-f), rel=1e-15)


@pytest.mark.parametrize("kwargs,message", [
    (dict(problems=0), "problems: must be an integer >= 1"),
    (dict(problems=2.5), "problems: must be an integer >= 1"),
    (dict(replicates=0), "replicates: must be an integer >= 1"),
    (dict(k=[0, 10]), "k: attempts must be integers in [1,"),
    (dict(k=[1.5]), "k: attempts must be integers"),
    (dict(k=[2.0**60]), "k: attempts must be integers"),
    (dict(k=[]), "k: give at least one"),
    (dict(seed=-1), "seed: must be an integer >= 0"),
    (dict(seed=1.5), "seed: must be an integer >= 0"),
    (dict(dist="beta(alpha=0.3)"), "missing parameter 'beta'"),
])
def test_bad_arguments_raise_one_line_errors(kwargs, message):
    args = dict(dist="beta(alpha=0.3, beta=3)", k=[1, 10], problems=100, seed=1) | kwargs
    with pytest.raises(SimsearchError) as info:
        simulate_pass_at_k(**args)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_k_grid_forms():
    np.testing.assert_array_equal(parse_k_grid("100,1,10,10"), [1, 10, 100])
    grid = parse_k_grid("logspace:1:1e6:25")
    assert grid[0] == 1 and grid[-1] == 10**6 and len(grid) == 25
    np.testing.assert_array_equal(parse_k_grid("linspace:1:100:4"), [1, 34, 67, 100])
    for bad in ("1,,2", "logspace:1:x:3", "logspace:10:1:3", "logspace:1:10:0", "0,1", "-5"):
        with pytest.raises(SimsearchError, match="k:"):
            parse_k_grid(bad)
