"""Returns to research: the Kortum round trip from idea-level draws to r, lambda and phi."""

import math
import zlib

import numpy as np
import pytest
from conftest import Z_TOL
from scipy import special

from simsearch.errors import SimsearchError
from simsearch.labs import labs_config, simulate_labs
from simsearch.labs import QUANTITIES, ReturnsEstimator, kortum_theory

# One worker builds the module's expensive fixture once (pytest-xdist, --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_returns")


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


def test_unequal_lab_costs_do_not_confound_lambda_and_phi():
    """A lab paying c per attempt tries R/c ideas, so its delta is c^-lambda times the others':
    without lab fixed effects the cost difference loads onto lambda and phi (issue 12 saw
    lambda -0.39, phi 1.34 for theory 1, -0.5). Theory must lie inside the 95% intervals of
    lambda and phi; r is compared with the same design's exact means (log A = H_K / theta,
    K = compute / cost ideas), which differ from 1/theta by the discreteness of small K."""
    theta = 1.5
    labs = [{"name": "steady", "budget": 500.0, "cost": 10.0},
            {"name": "growing", "budget": 50.0, "growth": 0.25, "cost": 1.0},
            {"name": "fast", "budget": 10.0, "growth": 0.4, "cost": 0.1}]
    config = _kortum(labs=labs, periods=16, replicates=400, seed=1997, theta=theta)
    result = simulate_labs(config, record_wins=False)
    fitted = ReturnsEstimator(bootstrap=200, seed=4).fit(result)
    theory = kortum_theory(config)
    assert theory is not None and theory["lambda"] == 1.0 and theory["phi"] == 1 - theta
    for name in ("lambda", "phi"):
        low, high = fitted.intervals_[name]
        assert low < theory[name] < high, (name, fitted.estimates_[name], (low, high))
        assert fitted.standard_error(name) < 0.5, name
    costs = np.array([lab["cost"] for lab in labs])[None, :, None]
    per = result.periods
    ideas = per["cumulative_compute"][:1] / costs
    exact = ReturnsEstimator(bootstrap=0).fit(
        {"log_multiplier": (special.digamma(ideas + 1) + np.euler_gamma) / theta,
         "compute": per["compute"][:1], "cumulative_compute": per["cumulative_compute"][:1]})
    for name in ("lambda", "phi", "r", "r_implied"):
        assert abs(exact.estimates_[name] - theory[name]) < 0.01, name
    for name in ("r", "r_implied"):
        assert abs(fitted.estimates_[name] - exact.estimates_[name]) \
            < Z_TOL * fitted.standard_error(name), name


def _jones_paths(lam, phi, budgets, growths, periods=60, delta=1.0):
    """Exact Jones paths, A(0) = 1 and compute constant within a period:
    A_t^(1-phi) = 1 + (1-phi) delta sum_{s<=t} R_s^lambda. One replicate."""
    t = np.arange(periods)
    compute = np.array([b * (1 + g) ** t for b, g in zip(budgets, growths)])
    log_a = np.log1p((1 - phi) * delta * np.cumsum(compute ** lam, axis=1)) / (1 - phi)
    return {"log_multiplier": log_a[None], "compute": compute[None],
            "cumulative_compute": np.cumsum(compute, axis=1)[None]}


def test_with_constant_compute_r_is_one_over_one_minus_phi_whatever_lambda():
    """Integrating Jones's law at constant R gives A^(1-phi) ~ R^lambda t, so log A / log K has
    slope 1/(1-phi) = 1.25, not Epoch's lambda/(1-phi) = 0.625; lambda is not identified."""
    fitted = ReturnsEstimator(bootstrap=0).fit(_jones_paths(0.5, 0.2, [100, 10, 1], [0, 0, 0]))
    assert abs(fitted.estimates_["r"] - 1.25) < 0.03
    assert abs(fitted.estimates_["phi"] - 0.2) < 0.01
    assert math.isnan(fitted.estimates_["lambda"]) and math.isnan(fitted.estimates_["r_implied"])
    assert math.isnan(fitted.estimates_["r_growth"])


def test_off_the_balanced_growth_path_only_lambda_over_one_minus_phi_is_epochs_r():
    paths = _jones_paths(0.5, 0.2, [100, 10, 1], [0, 0.01, 0.03])
    fitted = ReturnsEstimator(bootstrap=0).fit(paths)
    assert abs(fitted.estimates_["lambda"] - 0.5) < 0.01
    assert abs(fitted.estimates_["phi"] - 0.2) < 0.01
    assert abs(fitted.estimates_["r_implied"] - 0.625) < 0.01
    assert abs(fitted.estimates_["r"] - 0.625) > 0.3
    assert abs(fitted.estimates_["r_growth"] - 0.625) > 0.3
    twice = {k: np.concatenate([v, v]) for k, v in paths.items()}
    noted = ReturnsEstimator(bootstrap=20, seed=0).fit(twice)
    assert noted.notes() and noted.notes()[0] in noted.report()


def test_on_the_balanced_growth_path_every_r_agrees():
    fitted = ReturnsEstimator(bootstrap=0).fit(
        _jones_paths(0.5, 0.2, [100, 10, 1], [0.05, 0.1, 0.2], periods=200, delta=0.01))
    for name in ("r", "r_implied", "r_growth"):
        assert abs(fitted.estimates_[name] - 0.625) < 0.03, name


def test_lab_intercepts_absorb_a_delta_that_scales_with_cost():
    """delta_lab = cost^-lambda (a lab paying c per attempt): exact paths with costs 10 and
    0.1 give the same lambda and phi as equal costs."""
    lam, phi = 0.7, -0.5
    t = np.arange(80)
    budgets, growths, costs = [500.0, 50.0, 10.0], [0.0, 0.25, 0.4], [10.0, 1.0, 0.1]
    compute = np.array([b * (1 + g) ** t for b, g in zip(budgets, growths)])
    attempts = compute / np.array(costs)[:, None]
    log_a = np.log1p((1 - phi) * np.cumsum(attempts ** lam, axis=1)) / (1 - phi)
    fitted = ReturnsEstimator(bootstrap=0).fit(
        {"log_multiplier": log_a[None], "compute": compute[None],
         "cumulative_compute": np.cumsum(compute, axis=1)[None]})
    assert abs(fitted.estimates_["lambda"] - lam) < 0.01
    assert abs(fitted.estimates_["phi"] - phi) < 0.01


def test_theory_is_shown_only_beside_estimated_quantities():
    config = _kortum(labs=[{"name": "a", "budget": 100.0}], periods=8, replicates=50)
    fitted = ReturnsEstimator(bootstrap=20, seed=0).fit(simulate_labs(config,
                                                                      record_wins=False))
    theory = kortum_theory(config)
    assert math.isnan(fitted.estimates_["lambda"]) and theory["lambda"] == 1.0
    lines = {line.split("=")[0].strip(): line for line in fitted.report(theory).splitlines()}
    assert "theory" not in lines["lambda"] and "theory" not in lines["r_implied"]
    assert "theory 0.5" in lines["r"]
    table = fitted.table(theory)
    row = dict(zip(table["quantity"], table["theory"]))
    assert row["lambda"] == "" and row["r"] == 0.5


def test_estimates_as_a_dataframe_match_the_table(kortum_fit):
    pytest.importorskip("pandas")
    config, fitted, _ = kortum_fit
    theory = kortum_theory(config)
    frame = fitted.to_pandas(theory)
    table = fitted.table(theory)
    assert list(frame.columns) == list(table) and list(frame["quantity"]) == list(QUANTITIES)
    np.testing.assert_array_equal(frame["estimate"].to_numpy(), np.array(table["estimate"]))
    for quantity, value in zip(frame["quantity"], frame["theory"]):
        assert (value == theory[quantity]) if quantity in theory else math.isnan(value)


def _random_aggregates(rng, resamples, labs, periods, kind):
    """Stacks of (labs, periods) means shaped like a labs run's, with the designs that take
    the estimator's other branches: constant compute (lambda not identified), balanced
    growth (log R collinear with log A), falling multipliers (growth rates dropped), zero
    compute in some periods, too few usable growth rates."""
    t = np.arange(periods, dtype=float)
    rate = rng.uniform(0.0, 0.4, (resamples, labs, 1))
    budget = rng.lognormal(3.0, 1.0, (resamples, labs, 1))
    compute = budget * np.exp(rate * t) * rng.lognormal(0.0, 0.2, (resamples, labs, periods))
    if kind == "constant compute":
        compute = np.broadcast_to(budget, compute.shape).copy()
    log_a = np.cumsum(rng.gamma(2.0, 0.05, (resamples, labs, periods)), axis=-1)
    if kind == "balanced":
        compute = budget * np.exp(rate * t)
        log_a = 0.5 * rate * t + np.zeros((resamples, labs, periods))
    if kind == "falling":
        log_a += rng.normal(0.0, 0.2, log_a.shape)
    if kind == "zero compute":
        compute[:, :, ::3] = 0.0
    if kind == "flat":
        log_a = np.zeros_like(log_a)
    cumulative = np.cumsum(compute, axis=-1)
    return log_a, compute, cumulative


@pytest.mark.parametrize("kind", ["plain", "constant compute", "balanced", "falling",
                                  "zero compute", "flat"])
def test_batched_fits_equal_the_one_resample_reference(kind):
    # The bootstrap fits every resample at once; each slice must be the estimate the
    # one-at-a-time reference gives (NaN where it gives NaN), to rounding.
    from returns_reference import fit_aggregates as reference
    from simsearch.labs.returns import _fit_aggregates

    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    for labs, periods, first in ((1, 6, 0), (3, 12, 2), (4, 30, 6)):
        stacks = _random_aggregates(rng, 25, labs, periods, kind)
        batch, dropped = _fit_aggregates(*stacks, first)
        for b in range(25):
            want, want_dropped = reference(*(x[b] for x in stacks), first)
            assert dropped[b] == want_dropped
            np.testing.assert_array_equal(np.isnan(batch[b]), np.isnan(want), err_msg=kind)
            np.testing.assert_allclose(batch[b], want, rtol=1e-9, atol=1e-12, err_msg=kind)
