"""Issue 19, items 1 and 2: a period's budget is spent to the last unit (an attempt spans
periods), and simultaneous wins go to a lab drawn at random, not to the lowest lab index.

Each test fails on main 6fc43e4: there the remainder of a period's budget was dropped and ties
went to the first lab in the config."""

import re

import numpy as np
import pytest
from conftest import Z_TOL

from simsearch.labs import labs_config, simulate_labs


def _stream(budget, p, periods, replicates, seed=1):
    """One lab on an endless stream of ideas of difficulty p, one attempt each (cost 1)."""
    return labs_config({"seed": seed, "replicates": replicates, "periods": periods,
                        "pool": {"ideas": "inf", "difficulty": f"point(p={p})",
                                 "combine": "max"},
                        "lab": [{"name": "a", "budget": budget}]})


def test_a_budget_below_one_attempt_per_period_still_buys_attempts():
    """0.9 per period for 6 periods is 5.4 units of compute: five whole attempts, each a win
    with probability 0.2 (main: every period spent nothing and no replicate won)."""
    replicates = 2000
    result = simulate_labs(_stream(0.9, 0.2, 6, replicates))
    per = result.periods
    np.testing.assert_allclose(per["compute"], 0.9, rtol=1e-12)
    np.testing.assert_allclose(per["cumulative_compute"][..., -1], 5.4, rtol=1e-12)
    wins = result.n_wins
    se = np.sqrt(5 * 0.2 * 0.8 / replicates)
    assert abs(wins.mean() - 1.0) < Z_TOL * se, (wins.mean(), se)


@pytest.mark.parametrize("budget", [1.3, 2.5, 3.7, 4.5, 5.5])
def test_each_attempt_ends_when_the_compute_since_the_start_pays_for_it(budget):
    """Continuous spending: the k-th attempt ends at time k / budget, across period ends."""
    result = simulate_labs(_stream(budget, 0.3, 12, 200))
    w = result.wins
    np.testing.assert_allclose(w["time"], w["compute"] / budget, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("budget", [1.3, 2.5, 3.7, 4.5, 5.5])
def test_expected_time_of_the_nth_win_at_a_few_attempts_per_period(budget):
    """E[T_n] = n / (p budget): the n-th win is on attempt N_n ~ NegativeBinomial(n, p), which
    ends at N_n / budget. Tolerance from the exact variance n (1 - p) / (p budget)^2."""
    p, replicates = 0.3, 20_000
    result = simulate_labs(_stream(budget, p, 60, replicates, seed=7))
    w = result.wins
    assert result.n_wins.min() >= 3
    for n in (1, 3):
        times = w["time"][w["win"] == n]
        assert times.size == replicates
        exact = n / (p * budget)
        se = np.sqrt(n * (1 - p)) / (p * budget) / np.sqrt(replicates)
        assert abs(times.mean() - exact) < Z_TOL * se, (n, times.mean(), exact, se)


def _greedy_labs(budgets, sharing=1.0, replicates=300, seed=3):
    return labs_config({
        "seed": seed, "replicates": replicates, "periods": 4, "sharing": sharing,
        "pool": {"ideas": 60, "difficulty": "beta(alpha=0.6, beta=1.5)",
                 "value": "lognormal(mu=0.05, sigma=0.3)", "replenish": 1.0},
        "lab": [{"name": f"lab{i}", "budget": b, "policy": "greedy"}
                for i, b in enumerate(budgets)]})


def _wins_per_lab(result, n_labs):
    """(replicates, labs) wins of each lab in each replicate."""
    w = result.wins
    out = np.zeros((result.n_wins.size, n_labs))
    np.add.at(out, (w["replicate"], w["lab"]), 1.0)
    return out


def test_identical_labs_win_equally_often_whatever_their_position():
    """Ten identical greedy labs sharing everything: by exchangeability each lab's mean wins
    equal the others'. Per replicate, d = (first lab's wins) - (last lab's wins) has mean 0;
    its standard error comes from the replicates (main: lab 0 won far more than lab 9)."""
    n_labs = 10
    result = simulate_labs(_greedy_labs([10.0] * n_labs))
    per_lab = _wins_per_lab(result, n_labs)
    for a, b in ((0, n_labs - 1), (0, 1)):
        d = per_lab[:, a] - per_lab[:, b]
        se = d.std(ddof=1) / np.sqrt(d.size)
        assert abs(d.mean()) < Z_TOL * se, (a, b, d.mean(), se)
    # Lab 0 against the mean of the others.
    d = per_lab[:, 0] - per_lab[:, 1:].mean(axis=1)
    assert abs(d.mean()) < Z_TOL * d.std(ddof=1) / np.sqrt(d.size)


def test_permuting_labs_permutes_their_results_in_distribution():
    """Labs whose attempts end at the same instants (budgets 10 and 20): listing them in the
    other order gives each lab (by name) the same mean wins within MC error."""
    budgets = [10.0, 20.0, 10.0]
    forward = _wins_per_lab(simulate_labs(_greedy_labs(budgets, seed=5)), 3)
    backward = _wins_per_lab(simulate_labs(_greedy_labs(budgets[::-1], seed=6)), 3)[:, ::-1]
    for lab in range(3):
        diff = forward[:, lab].mean() - backward[:, lab].mean()
        se = np.hypot(forward[:, lab].std(ddof=1), backward[:, lab].std(ddof=1)) \
            / np.sqrt(forward.shape[0])
        assert abs(diff) < Z_TOL * se, (lab, diff, se)


def test_a_tiny_budget_change_moves_total_wins_by_no_more_than_mc_error():
    """Budgets 10 against 10 (1 + 1e-4 i): the ties vanish, so the order of events changes,
    but the total wins may not move by more than MC error (main: the total rose by ~20%)."""
    n_labs = 10
    tied = simulate_labs(_greedy_labs([10.0] * n_labs, seed=8)).n_wins
    apart = simulate_labs(_greedy_labs([10.0 * (1 + 1e-4 * i) for i in range(n_labs)],
                                       seed=9)).n_wins
    se = np.hypot(tied.std(ddof=1), apart.std(ddof=1)) / np.sqrt(tied.size)
    assert abs(tied.mean() - apart.mean()) < Z_TOL * se, (tied.mean(), apart.mean(), se)


@pytest.mark.parametrize("patch, key", [
    ({"periods": 1030, "lab": [{"name": "a", "budget": 100.0, "growth": 1.0}]},
     "lab[0].growth"),
    ({"pool": {"ideas": 50, "difficulty": "point(p=0.2)",
               "value": "lognormal(mu=1e308, sigma=1)"}}, "lognormal"),
    ({"pool": {"ideas": 50, "difficulty": "point(p=0.2)",
               "value": "lognormal(mu=0, sigma=1e300)"}}, "lognormal"),
    ({"pool": {"ideas": 50, "difficulty": "point(p=0.2)", "value": "fixed(v=1e308)"}},
     "fixed"),
    ({"limits": {"multiplier": 1e308}}, "limits.multiplier"),
])
def test_what_would_overflow_is_refused_up_front_in_one_line(patch, key):
    """Issue 19.4 (main: ran, printed compute 0 or NaN and multipliers inf, exit 0)."""
    from simsearch.errors import SimsearchError
    doc = {"seed": 1, "periods": 3, "pool": {"ideas": 50, "difficulty": "point(p=0.2)"},
           "lab": [{"name": "a", "budget": 100.0}], **patch}
    with pytest.raises(SimsearchError, match=re.escape(key)) as err:
        labs_config(doc)
    assert "\n" not in str(err.value)


def test_beta_with_a_huge_shape_has_an_exact_finite_density():
    """Issue 19.4: lgamma(1e306) overflowed (OverflowError traceback); betaln does not."""
    from scipy import stats

    from simsearch.distributions.spec import parse_distribution
    dist = parse_distribution("beta(alpha=0.3, beta=1e306)")
    x = np.array([1e-310, 1e-307])
    np.testing.assert_allclose(dist._logpdf_inside(x), stats.beta(0.3, 1e306).logpdf(x),
                               rtol=1e-9)


def test_a_published_win_sinks_the_attempt_another_lab_has_in_progress_on_its_idea():
    """Two sure ideas (p = 1), everything shared. Lab a (budget 1) wins idea 0 at t = 1 while
    lab b (budget 0.8) is 0.8 into its attempt on it: that compute is lost and b starts idea 1
    afresh, due at 2.25, but a wins it at 2 and b again loses its attempt. b wins nothing and
    spent 1.6 (main: b's compute carried onto idea 1, which it won at t = 1.25)."""
    config = labs_config({"seed": 1, "periods": 3, "sharing": 1.0,
                          "pool": {"ideas": 2, "difficulty": "point(p=1)"},
                          "lab": [{"name": "a", "budget": 1.0}, {"name": "b", "budget": 0.8}]})
    result = simulate_labs(config)
    np.testing.assert_array_equal(result.wins["lab"], [0, 0])
    np.testing.assert_array_equal(result.wins["time"], [1.0, 2.0])
    np.testing.assert_allclose(result.periods["cumulative_compute"][0, 1], [0.8, 1.6, 1.6],
                               rtol=1e-12)


@pytest.mark.parametrize("apart", [0.0, 1e-4])
def test_the_reference_sinks_the_same_compute_on_identical_and_nearly_identical_labs(apart):
    """The attempt-by-attempt reference (tests/labs_reference.py) gives the same wins and
    period records bit for bit on the labs of the continuity test, tied or 1e-4 apart."""
    from labs_reference import assert_matches_reference
    assert_matches_reference(_greedy_labs([10.0 * (1 + apart * i) for i in range(10)],
                                          replicates=2, seed=10))


def test_a_multiplier_past_the_largest_float_is_missing_not_inf():
    """Issue 19.4: five wins of value 1e200 make log A = 2302.6, a finite number whose A no
    float holds: the tables leave A missing (blank CSV cell, NaN typed) beside the exact log,
    with no overflow warning (main: multiplier inf and three RuntimeWarnings)."""
    import math
    import warnings

    result = simulate_labs(labs_config({
        "seed": 1, "periods": 2, "pool": {"ideas": 5, "difficulty": "point(p=1)",
                                         "value": "fixed(v=1e200)"},
        "lab": [{"name": "a", "budget": 10.0}]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary, typed = result.summary_table(), result.summary_table(typed=True)
        periods, wins = result.periods_table(), result.wins_table(typed=True)
    assert summary["multiplier"].tolist() == [""] and np.isnan(typed["multiplier"]).all()
    assert periods["log_multiplier"][-1] == pytest.approx(5 * math.log(1e200), rel=1e-12)
    assert wins["multiplier"][0] == pytest.approx(1e200, rel=1e-12)
    assert np.isnan(wins["multiplier"][1:]).all()
