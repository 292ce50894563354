"""Sampling designs read from the counts' shape: exchangeable, first-success, and batches until
the first batch with a success (attacks, searches). Each design's pass@k curve is checked
against the population's exact pass@k within Monte Carlo error, and the two misreadings of a
batch design are shown to fail the same check."""

import numpy as np
import pytest

from simsearch.fitting.counts import CountTable
from simsearch.fitting.curve import _survival, batch_size, detect_design
from simsearch.fitting.methods import observed_curve, solvable_share_bound
from simsearch.fitting.curve import curve_pieces, log_grid


def _batches_until_success(p, batch, budget, rng):
    """Counts of sampling each problem in batches of ``batch`` attempts until a batch holds a
    success, at most ``budget`` attempts: (successes, attempts)."""
    first = np.minimum(rng.geometric(p), 10**12)
    batches = -(-first // batch)
    solved = batches * batch <= budget
    n = np.where(solved, batches * batch, budget)
    # the attempts of the last batch after the first success succeed independently
    later = rng.binomial(np.where(solved, batches * batch - first, 0), p)
    return np.where(solved, 1 + later, 0), n


def _exact_pass_at_k(a, b, k):
    """1 - E[(1-p)^k] for p ~ Beta(a, b): 1 - B(a, b + k) / B(a, b)."""
    from scipy.special import betaln

    return -np.expm1(betaln(a, b + k) - betaln(a, b))


@pytest.mark.parametrize("batch", [10, 64])
def test_a_batch_design_is_read_as_batches_and_its_curve_is_the_populations(batch):
    rng = np.random.default_rng(7)
    a, b, budget = 0.3, 3.0, 50 * batch
    c, n = _batches_until_success(rng.beta(a, b, 20_000), batch, budget, rng)
    table = CountTable.from_counts(c, n)
    assert detect_design(c, n) == f"batch:{batch}" and c.max() > 1
    curve = observed_curve(table)
    assert curve.design == f"batch:{batch}" and curve.k.max() == budget
    se = np.sqrt(np.diag(curve.covariance))
    exact = _exact_pass_at_k(a, b, curve.k)
    assert np.all(np.abs(curve.pass_at_k - exact) < 5 * se), (curve.pass_at_k - exact) / se
    # Reading the same counts as exchangeable (successes anywhere in the n attempts: first
    # successes too early) or as first-success times (each at its batch's end: too late)
    # misses the population by many standard errors.
    for wrong in ("exchangeable", "first-success"):
        other = observed_curve(table, design=wrong)
        miss = np.abs(other.pass_at_k - _exact_pass_at_k(a, b, other.k))
        assert np.max(miss / np.sqrt(np.diag(other.covariance))) > 10, wrong


def test_a_batch_of_one_is_first_success_and_one_batch_is_exchangeable():
    k = np.arange(0, 41)
    c, n = np.array([1, 1, 0]), np.array([7, 30, 40])
    np.testing.assert_array_equal(_survival(c, n, k, "batch:1"),
                                  _survival(c, n, k, "first-success"))
    c, n = np.array([0, 1, 3, 40]), np.full(4, 40)
    np.testing.assert_allclose(_survival(c, n, k, "batch:40"),
                               _survival(c, n, k, "exchangeable"), rtol=0, atol=1e-15)
    # a problem solved in its third batch of 10, 2 successes there: never before attempt 21,
    # C(8, m) / C(10, m) after attempt 20 + m, solved by 29 (at most 8 failures come first)
    s = _survival(np.array([2]), np.array([30]), k, "batch:10")[0]
    assert np.all(s[:21] == 1.0) and s[22] == pytest.approx(8 * 7 / (10 * 9))
    assert s[29] == 0.0 and np.all(s[29:] == 0.0)


@pytest.mark.parametrize("c,n,design", [
    ([0, 2, 5], [100, 100, 100], "exchangeable"),            # equal attempts
    ([0, 3, 1], [40, 20, 40], "batch:20"),                   # batches of 20
    ([0, 1, 1], [40, 20, 30], "batch:10"),                   # one success per batch of 10
    ([0, 1, 1], [40, 13, 27], "first-success"),              # one attempt at a time
    ([0, 25, 1], [40, 20, 40], "exchangeable"),              # more successes than a batch
    ([0, 3, 1], [20, 20, 40], "exchangeable"),               # an unsolved problem stopped early
    ([0, 3, 1], [40, 40, 40], "exchangeable"),
    ([0, 0], [20, 40], "exchangeable"),                      # nothing solved
])
def test_the_design_is_told_from_the_counts_shape(c, n, design):
    c, n = np.array(c), np.array(n)
    assert detect_design(c, n) == design
    assert batch_size(design) == (int(design[6:]) if design.startswith("batch:") else None)


def test_the_singleton_bound_needs_exchangeable_successes():
    # In a batch design every solved problem's successes sit in its last batch: how many were
    # solved once says nothing about how many are still unsolved, so the floor rules get no bound.
    c, n = np.array([0, 1, 1, 2]), np.array([40, 20, 40, 10])
    assert solvable_share_bound(c, n, np.ones(4), "batch:10") is None
    pieces = curve_pieces(c, n, np.ones(4), log_grid(40))
    assert pieces.design == "batch:10"
