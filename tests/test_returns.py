"""Returns to research: the Kortum round trip from idea-level draws to r, lambda and phi."""

import math

import numpy as np
import pytest
from conftest import Z_TOL
from scipy import special

from simsearch.errors import SimsearchError
from simsearch.labs import labs_config, simulate_labs
from simsearch.labs import QUANTITIES, ReturnsEstimator, kortum_theory

THETA = 2.0
LABS = [{"name": "small", "budget": 50.0}, {"name": "mid", "budget": 200.0},
        {"name": "big", "budget": 800.0}, {"name": "growing", "budget": 20.0, "growth": 0.3}]


def _kortum(labs=LABS, periods=12, replicates=1000, seed=3, theta=THETA):
    return labs_config({"seed": seed, "replicates": replicates, "periods": periods,
                        "pool": {"ideas": "inf", "difficulty": "point(p=1)",
                                 "value": f"pareto(alpha={theta})", "combine": "max"},
                        "lab": labs})


def _expected_periods(result, theta):
    """The same design with log A replaced by its exact mean H_K / theta (K ideas tried)."""
    per = result.periods
    cumulative = per["cumulative_compute"][:1]
    return {"log_multiplier": (special.digamma(cumulative + 1) + np.euler_gamma) / theta,
            "compute": per["compute"][:1], "cumulative_compute": cumulative}


@pytest.fixture(scope="module")
def kortum_fit():
    config = _kortum()
    result = simulate_labs(config, record_wins=False)
    fitted = ReturnsEstimator(bootstrap=200, seed=1).fit(result)
    exact = ReturnsEstimator(bootstrap=0).fit(_expected_periods(result, THETA))
    return config, fitted, exact


def test_the_exact_means_of_the_design_give_kortums_parameters(kortum_fit):
    """Without Monte Carlo noise the estimators land on the theory up to the discreteness of
    periods, so what remains in the simulated estimates is sampling error."""
    config, _, exact = kortum_fit
    theory = kortum_theory(config)
    assert theory == {"r": 0.5, "lambda": 1.0, "phi": -1.0, "r_implied": 0.5}
    for name, value in theory.items():
        assert abs(exact.estimates_[name] - value) < 0.02 * max(1, abs(value)), name


@pytest.mark.parametrize("name", ["r", "lambda", "phi", "r_implied", "decline"])
def test_kortum_estimates_agree_with_theory_within_their_bootstrap_error(kortum_fit, name):
    config, fitted, exact = kortum_fit
    se = fitted.standard_error(name)
    assert 0 < se < 0.2 * max(1.0, abs(exact.estimates_[name]))
    assert abs(fitted.estimates_[name] - exact.estimates_[name]) < Z_TOL * se
    low, high = fitted.intervals_[name]
    assert low < fitted.estimates_[name] < high
    theory = kortum_theory(config)
    if name in theory:
        assert abs(fitted.estimates_[name] - theory[name]) < Z_TOL * se + 0.02


def test_growing_research_declines_in_productivity_at_its_growth_rate():
    """With effort growing by n per period, Kortum's productivity growth g settles at
    log(1 + n) / theta, so research productivity g / R falls by log(1 + n) per period."""
    n = 0.4
    config = _kortum(labs=[{"name": "a", "budget": 20.0, "growth": n},
                           {"name": "b", "budget": 60.0, "growth": n}],
                     periods=16, replicates=400)
    result = simulate_labs(config, record_wins=False)
    fitted = ReturnsEstimator(burn_in=6, seed=2).fit(result)
    se = fitted.standard_error("decline")
    assert abs(fitted.estimates_["decline"] - math.log(1 + n)) < Z_TOL * se + 0.01
    halving = math.log(2) / math.log(1 + n)
    assert abs(fitted.estimates_["halving_time"] - halving) < 0.2 * halving


def test_same_seed_same_intervals_and_tidy_outputs():
    config = _kortum(periods=6, replicates=20)
    result = simulate_labs(config, record_wins=False)
    once = ReturnsEstimator(bootstrap=200, seed=1).fit(result)
    twice = ReturnsEstimator(bootstrap=200, seed=1).fit(result.periods)
    assert once.intervals_ == twice.intervals_
    table = once.table(kortum_theory(config))
    assert table["quantity"] == list(QUANTITIES)
    assert table["theory"][0] == 0.5 and table["theory"][4] == ""
    text = once.report(kortum_theory(config))
    assert "lambda" in text and "theory 0.5" in text


def test_one_constant_lab_cannot_identify_lambda_but_still_gives_phi():
    config = _kortum(labs=[{"name": "a", "budget": 100.0}], periods=10, replicates=400)
    fitted = ReturnsEstimator(bootstrap=50, seed=0).fit(simulate_labs(config,
                                                                      record_wins=False))
    assert math.isnan(fitted.estimates_["lambda"])
    assert math.isnan(fitted.estimates_["r_implied"])
    assert abs(fitted.estimates_["phi"] - (1 - THETA)) < Z_TOL * fitted.standard_error("phi") \
        + 0.05


def test_theory_only_where_kortum_applies():
    assert kortum_theory(_kortum()) is not None
    finite = labs_config({"pool": {"ideas": 10, "difficulty": "point(p=0.5)",
                                   "value": "pareto(alpha=2)", "combine": "max"},
                          "lab": [{"name": "a", "budget": 1.0}]})
    assert kortum_theory(finite) is None
    product = labs_config({"pool": {"ideas": "inf", "difficulty": "point(p=0.5)",
                                    "value": "pareto(alpha=2)"},
                           "lab": [{"name": "a", "budget": 1.0}]})
    assert kortum_theory(product) is None


def test_bad_inputs_are_named():
    short = {"log_multiplier": np.zeros((2, 1, 2)), "compute": np.ones((2, 1, 2)),
             "cumulative_compute": np.ones((2, 1, 2))}
    with pytest.raises(SimsearchError, match="periods"):
        ReturnsEstimator().fit(short)
    ok = {k: np.ones((2, 1, 6)) for k in short}
    with pytest.raises(SimsearchError, match="burn_in"):
        ReturnsEstimator(burn_in=5).fit(ok)
    with pytest.raises(SimsearchError, match="confidence"):
        ReturnsEstimator(confidence=1.5).fit(ok)
