"""Closed forms of simsearch.labs.theory: against exact small cases and direct sums, and the
engine's local slopes (wins and records per decade of compute) against them within Monte Carlo
error."""

import itertools
import math

import numpy as np
import pytest
from conftest import Z_TOL
from scipy import special

from simsearch import parse_distribution
from simsearch.labs import labs_config, simulate_labs
from simsearch.labs.theory import (compute_at_win, expected_records, expected_wins,
                                   kortum_median_best, log_record_time_mean, record_count_pmf,
                                   record_time_quantile, records_variance, round_robin_curve)

# One worker builds the module's expensive fixture once (pytest-xdist, --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_theory")


def test_round_robin_curve_equals_the_direct_sum_of_the_beta_failure_law():
    """Rounds past 1024 are on a geometric grid, the sums by quadrature: check them against
    N sum_{j<r} B(alpha, beta+j)/B(alpha, beta) summed term by term to 2e6 rounds."""
    alpha, beta, ideas = 0.3, 3.0, 1000
    curve = round_robin_curve(parse_distribution(f"beta(alpha={alpha}, beta={beta})"), ideas,
                              3e7)
    j = np.arange(2_000_001, dtype=float)
    u = np.exp(special.betaln(alpha, beta + j) - special.betaln(alpha, beta))
    direct = ideas * np.r_[0.0, np.cumsum(u)]
    inside = curve.rounds <= j[-1]
    assert curve.rounds[-1] > 1024 and inside.sum() > 2000
    r = curve.rounds[inside].astype(int)
    np.testing.assert_allclose(curve.compute[inside], direct[r], rtol=1e-6)
    np.testing.assert_allclose(curve.unsolved[inside], u[r], rtol=1e-8)
    np.testing.assert_allclose(curve.wins, ideas * (1 - curve.unsolved))


def test_point_difficulty_rounds_are_geometric_and_wins_linear_within_a_round():
    curve = round_robin_curve(parse_distribution("point(p=0.25)"), 100, 1e9)
    r = curve.rounds[:5]
    np.testing.assert_allclose(curve.unsolved[:5], 0.75 ** r)
    np.testing.assert_allclose(curve.compute[:5], 100 * (1 - 0.75 ** r) / 0.25)
    # half-way through round 2 (75 ideas left, each wins with p = 0.25)
    assert curve.wins_at(100 + 37.5) == pytest.approx(25 + 37.5 * 0.25)
    assert curve.compute_at(25 + 37.5 * 0.25) == pytest.approx(137.5)
    assert math.isnan(curve.compute_at(1e6))


@pytest.mark.parametrize("spec, ideas, budget", [
    ("beta(alpha=0.3, beta=3)", 400, 3e5),
    ("loguniform(low=0.0001, high=0.1)", 400, 3e5),
    ("beta(alpha=1.5, beta=3)", 400, 3e4),
])
def test_engine_wins_per_decade_match_the_closed_form(spec, ideas, budget):
    """The expected wins at fixed compute are exact, so the simulated wins in each decade of
    compute (the local slope of log C_n in n, and r = log v times it / log 10) agree within
    Monte Carlo error."""
    replicates = 300
    config = labs_config({"seed": 12, "replicates": replicates, "periods": 1,
                          "pool": {"ideas": ideas, "difficulty": spec},
                          "lab": [{"name": "a", "budget": budget}]})
    wins = simulate_labs(config).wins
    edges = np.r_[10.0 ** np.arange(1, math.floor(math.log10(budget)) + 1), budget]
    counts = np.array([np.searchsorted(wins["compute"][wins["replicate"] == r], edges,
                                       side="right") for r in range(replicates)])
    curve = round_robin_curve(parse_distribution(spec), ideas, budget)
    exact = curve.wins_at(edges)
    left = ideas * curve.unsolved[-1]  # the curve stops once < 0.001 ideas are expected left
    for sim in (counts, np.diff(counts, axis=1)):
        theory = exact if sim is counts else np.diff(exact)
        se = sim.std(axis=0, ddof=1) / math.sqrt(replicates)
        error = np.abs(sim.mean(axis=0) - theory)
        assert np.all(error <= Z_TOL * se + left + 1e-9), (sim.mean(axis=0), theory, se)


def test_compute_at_win_inverts_expected_wins():
    dist = parse_distribution("beta(alpha=0.4, beta=2)")
    n = np.array([1.0, 10.0, 100.0, 500.0])
    c = compute_at_win(dist, 1000, n, 1e8)
    np.testing.assert_allclose(expected_wins(dist, 1000, c), n, rtol=1e-9)


def test_record_counts_match_every_permutation():
    """Records of i.i.d. continuous draws are left-to-right maxima of a random permutation."""
    k = 7
    pmf = record_count_pmf(k, k)
    counts = np.zeros(k + 1)
    for perm in itertools.permutations(range(k)):
        counts[np.count_nonzero(np.maximum.accumulate(perm) == perm)] += 1
    np.testing.assert_allclose(pmf[k], counts / math.factorial(k), atol=1e-15)
    mean = pmf @ np.arange(k + 1)
    np.testing.assert_allclose(mean, expected_records(np.arange(k + 1)), atol=1e-12)
    var = pmf @ np.arange(k + 1) ** 2 - mean**2
    np.testing.assert_allclose(var, records_variance(np.arange(k + 1)), atol=1e-12)


def test_log_record_time_mean_small_cases_and_asymptote():
    assert log_record_time_mean(1) == 0.0
    # P(T_2 > k) = 1/k, so E[log T_2] = sum_k log(1 + 1/k) / k; the tail beyond 1e7 is 1e-7.
    k = np.arange(1, 10**7, dtype=float)
    direct = float(np.sum(np.log1p(1 / k) / k)) + 1e-7
    assert log_record_time_mean(2) == pytest.approx(direct, abs=1e-8)
    for n in (3, 6, 12):  # the asymptotic tail does not depend on where it starts
        assert log_record_time_mean(n, 60_000) == pytest.approx(log_record_time_mean(n),
                                                                abs=2e-7)
    assert log_record_time_mean(25) == pytest.approx(25 - np.euler_gamma, abs=1e-6)


def test_kortum_median_best_is_the_median():
    k, theta = np.array([1.0, 10.0, 1e6]), 1.5
    x = kortum_median_best(k, theta)
    np.testing.assert_allclose((1 - x ** -theta) ** k, 0.5, rtol=1e-9)


@pytest.fixture(scope="module")
def kortum_records():
    """Draws at each record, per replicate, from the engine (Pareto values, A the best)."""
    replicates, draws = 400, 10_000
    config = labs_config({"seed": 5, "replicates": replicates, "periods": 1,
                          "pool": {"ideas": "inf", "difficulty": "point(p=1)",
                                   "value": "pareto(alpha=0.8)", "combine": "max"},
                          "lab": [{"name": "a", "budget": float(draws)}]})
    wins = simulate_labs(config).wins
    out = []
    for r in range(replicates):
        sel = wins["replicate"] == r
        log_a = wins["log_multiplier"][sel]
        out.append(wins["compute"][sel][np.r_[True, np.diff(log_a) > 0]])
    return out, draws


def test_engine_records_per_decade_are_one_per_e_fold(kortum_records):
    records, draws = kortum_records
    edges = 10.0 ** np.arange(0, round(math.log10(draws)) + 1)
    counts = np.array([np.diff(np.searchsorted(c, edges, side="right")) for c in records])
    exact = np.diff(expected_records(edges))
    sd = np.sqrt(np.diff(records_variance(edges)))  # independent Bernoulli(1/i) per draw
    z = np.abs(counts.mean(axis=0) - exact) / (sd / math.sqrt(len(records)))
    assert np.all(z < Z_TOL), z
    assert exact[-1] == pytest.approx(math.log(10), abs=1e-3)


@pytest.mark.parametrize("n, k", [(2, 5), (3, 20), (5, 200), (8, 3000)])
def test_engine_record_times_follow_the_exact_law(kortum_records, n, k):
    records, _ = kortum_records
    pmf = record_count_pmf(k, n)
    exact = 1.0 - pmf[k, :n].sum()  # P(T_n <= k) = P(N_k >= n)
    seen = np.mean([c.size >= n and c[n - 1] <= k for c in records])
    se = math.sqrt(exact * (1 - exact) / len(records))
    assert abs(seen - exact) < Z_TOL * se
    q = record_time_quantile(n, 0.5, record_count_pmf(5000, n))
    reached = 1.0 - record_count_pmf(int(q), n)[:, :n].sum(axis=1)
    assert reached[-1] >= 0.5 > reached[-2]
