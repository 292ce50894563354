"""simsearch.records.pool: the pool model's exact likelihood against the order statistics of
the ideas' search times, recovery and interval coverage on histories simulated by the labs
engine (round-robin over a finite pool of Beta-difficulty ideas), the forecast's win process
against an independent simulation, and the CLI."""

import json
import math

import numpy as np
import pytest
from scipy import special, stats

from simsearch.cli import main
from simsearch.labs import simulate_labs
from simsearch.labs.config import labs_config
from simsearch.records import forecast
from simsearch.records.history import History
from simsearch.records.pool import (_likelihood_function, effort, fit_pool, forecast_pool,
                                    log_likelihood, time_of_effort)


def _order_statistics_log_likelihood(alpha, rho, ideas, g, time, end, growth):
    """The same likelihood written the other way: the W first order statistics of N iid
    search times with S(tau) = (1 + tau)^-alpha, N - W survivors at the end, and the Jacobian
    dtau/dt = rho E'(t) / R(t) of each win (integer N)."""
    t0, wins = time[0], time.size - 1
    e = effort(np.r_[time, end], t0, g, growth)
    remaining = ideas - np.arange(wins + 1)
    tau = np.cumsum(rho * np.diff(e) / remaining)
    log_f = math.log(alpha) - (alpha + 1) * np.log1p(tau[:-1])
    if growth == "exponential":
        log_slope = g * (time[1:] - t0)
    else:
        log_slope = np.full(wins, -math.log(t0))
    jacobian = math.log(rho) + log_slope - np.log(remaining[:-1])
    combinations = special.gammaln(ideas + 1) - special.gammaln(ideas - wins + 1)
    return float(combinations + np.sum(log_f) + np.sum(jacobian)
                 - (ideas - wins) * alpha * math.log1p(tau[-1]))


@pytest.mark.parametrize("growth", ["exponential", "power"])
def test_likelihood_equals_the_order_statistics_form(growth):
    rng = np.random.default_rng(3)
    for _ in range(20):
        wins = int(rng.integers(3, 40))
        start = 0.0 if growth == "exponential" else float(rng.uniform(0.5, 5))
        time = np.r_[start, start + np.sort(rng.uniform(0, 4, wins))]
        end = time[-1] + float(rng.uniform(0, 1))
        alpha, rho = float(rng.uniform(0.05, 3)), float(rng.uniform(0.01, 10))
        ideas = float(wins + rng.integers(1, 50))
        g = float(rng.uniform(-0.5, 2)) if growth == "exponential" else 1.0
        reference = _order_statistics_log_likelihood(alpha, rho, ideas, g, time, end, growth)
        assert log_likelihood(alpha, rho, ideas, g, time, start, end, growth) == pytest.approx(
            reference, rel=1e-10, abs=1e-9)
        fast = _likelihood_function(time, start, end, growth)
        assert fast(alpha, rho, ideas, g) == pytest.approx(reference, rel=1e-10, abs=1e-9)
    assert log_likelihood(1.0, 1.0, 2.0, 1.0, time, start, end, growth) == -math.inf  # N < W


def test_effort_and_its_inverse():
    t = np.array([0.0, 0.5, 2.0])
    for g in (-0.3, 1e-14, 0.8):
        assert np.allclose(time_of_effort(effort(t, 0.0, g, "exponential"), 0.0, g,
                                          "exponential"), t)
    assert time_of_effort(10.0, 0.0, -0.5, "exponential") == math.inf  # never reached
    assert np.allclose(time_of_effort(effort([2.0, 7.0], 2.0, 1.0, "power"), 2.0, 1.0,
                                      "power"), [2.0, 7.0])


def _labs_histories(alpha, ideas, replicates, seed):
    """Round-robin search of a finite pool of Beta(alpha, 500) ideas, one attempt = one unit
    of compute, deep enough to solve most of it: each replicate's wins on the compute axis."""
    config = labs_config({"seed": seed, "replicates": replicates, "periods": 10,
                          "pool": {"ideas": ideas, "difficulty": f"beta(alpha={alpha}, beta=500)",
                                   "value": "lognormal(mu=0.05, sigma=0.02)"},
                          "lab": [{"name": "a", "budget": 1000.0 * ideas, "growth": 0.0}]})
    wins = simulate_labs(config).wins
    for r in range(replicates):
        mine = wins["replicate"] == r
        yield (np.r_[1.0, wins["compute"][mine]],
               np.r_[0.0, np.cumsum(wins["log_value"][mine])])


@pytest.mark.slow
def test_pool_tail_recovered_with_nominal_coverage_on_labs_histories():
    """The labs engine draws p ~ Beta(0.5, 500) (a Gamma(0.5) left tail: the model's Lomax
    search times up to (1 - p)^k ~ e^(-pk)) and attempts in discrete rounds: the model is
    approximate there, so this checks the fit on data it did not generate. 24 histories of
    ~270 wins from 300 ideas; the 90% interval of alpha must cover 0.5 in at least 18 (at
    nominal coverage P(X <= 17) = 0.04; the run gives 21)."""
    covered, estimates = 0, []
    for time, progress in _labs_histories(0.5, 300, 24, seed=11):
        fit = fit_pool(time, progress, growth="power")
        low, high = fit.interval("alpha", 0.9)
        covered += low <= 0.5 <= high
        estimates.append(math.log(fit.alpha))
        assert low <= fit.alpha <= high
        assert fit.wins <= fit.interval("ideas", 0.9)[0] <= fit.ideas
    assert covered >= 18
    assert abs(np.mean(estimates) - math.log(0.5)) < 3 * np.std(estimates) / math.sqrt(24)


def test_a_barely_searched_pool_leaves_alpha_open():
    """A third of the pool solved: the wins cannot tell the tail from the pool's size (an
    endless pool with alpha -> 0 fits as well), and the intervals say so."""
    time, progress = next(_labs_histories(0.5, 300, 1, seed=3))
    keep = time <= 3e4  # the first tenth of the compute
    fit = fit_pool(time[keep], progress[keep], growth="power")
    low, high = fit.interval("alpha", 0.9)
    assert low == 0.0 and fit.interval("ideas", 0.9)[1] == math.inf


def test_forecast_wins_match_an_independent_simulation():
    """From a start with no wins, the forecast's count of wins by a later effort equals the
    direct simulation's: N search times drawn at once, sorted, each gap costing R dtau / rho
    of effort. Means over 4000 paths, within 4 standard errors."""
    alpha, rho, ideas = 0.7, 0.002, 400.0
    history = np.array([1.0, 1.0 + 1e-9, 1.0 + 2e-9, 1.0 + 3e-9])  # three wins at once
    fit = fit_pool(np.r_[history, 50.0], np.arange(5.0), growth="power")
    fit = fit._replace(alpha=alpha, rho=rho, ideas=ideas, time=np.r_[history, 50.0],
                       observed_until=50.0, wins=4, gains=np.array([1.0]), last_progress=4.0)
    targets = np.array([500.0, 5000.0])
    paths = forecast_pool(fit, targets, 4000, np.random.default_rng(1),
                          parameter_uncertainty=False)
    wins_forecast = paths - 4.0  # unit gains: progress counts wins
    rng = np.random.default_rng(2)
    direct = np.empty((4000, targets.size))
    e_end = effort(50.0, 1.0, 1.0, "power")
    tau_end = rho * float(effort(history[-1], 1.0, 1.0, "power")) / (ideas - 3) + rho * (
        e_end - float(effort(history[-1], 1.0, 1.0, "power"))) / (ideas - 4)
    for i in range(4000):
        survivors = (1 + tau_end) * rng.random(int(ideas) - 4) ** (-1 / alpha) - 1
        tau = np.sort(survivors)
        remaining = ideas - 4 - np.arange(tau.size)
        e = e_end + np.cumsum(remaining * np.diff(np.r_[tau_end, tau]) / rho)
        direct[i] = np.searchsorted(e, effort(targets, 1.0, 1.0, "power"))
    for m in range(targets.size):
        se = math.hypot(wins_forecast[:, m].std(), direct[:, m].std()) / math.sqrt(4000)
        assert abs(wins_forecast[:, m].mean() - direct[:, m].mean()) < 4 * se
        assert stats.ks_2samp(wins_forecast[:, m], direct[:, m]).pvalue > 1e-3


def _history(n_wins=40, seed=0):
    rng = np.random.default_rng(seed)
    time = np.r_[0.0, np.sort(rng.uniform(0, 3, n_wins))]
    progress = np.r_[0.0, np.cumsum(rng.exponential(0.1, n_wins))]
    return History(time=time, progress=progress, effort=None, start=1.0, kind="gain",
                   lower_is_better=False, calendar=True, origin="2020-01-01", warnings=())


def test_pool_forecast_is_reproducible_and_ordered():
    h = _history()
    a = forecast(h, [3.5, 4.0, 5.0], method="pool", replicates=300, seed=4)
    b = forecast(h, [3.5, 4.0, 5.0], method="pool", replicates=300, seed=4)
    assert np.array_equal(a.median, b.median) and np.array_equal(a.high, b.high)
    assert np.all(a.low <= a.median) and np.all(a.median <= a.high)
    assert np.all(a.low >= h.progress[-1]) and np.all(np.diff(a.median) >= 0)


def test_cli_fit_reports_the_pool(tmp_path, capsys):
    h = _history(60, seed=5)
    path = tmp_path / "h.csv"
    path.write_text("t,gain\n" + "".join(f"{t},{g}\n" for t, g in
                                          zip(h.time * 10 + 1, np.r_[0, np.diff(h.progress)])))
    code = main(["records", "fit", str(path), "--time", "t", "--gain", "gain", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    pool = out["models"]["pool"]
    assert pool["alpha"]["low"] <= pool["alpha"]["estimate"]
    assert pool["ideas"]["estimate"] >= pool["wins"] == 60
    assert main(["records", "fit", str(path), "--time", "t", "--gain", "gain"]) == 0
    assert "pool model" in capsys.readouterr().out


def test_pool_fit_is_the_same_in_any_time_units():
    """A pool searched with a budget growing 30% a period, on its calendar axis (periods) and
    in units 1e24 times smaller (as cumulative FLOP would be): the same pool, the effort growth
    rate scaled by the units, and the estimate inside its interval."""
    config = labs_config({"seed": 4, "replicates": 1, "periods": 12,
                          "pool": {"ideas": 300, "difficulty": "beta(alpha=0.5, beta=500)",
                                   "value": "lognormal(mu=0.05, sigma=0.02)"},
                          "lab": [{"name": "a", "budget": 2e4, "growth": 0.3}]})
    wins = simulate_labs(config).wins
    time, progress = np.r_[0.0, wins["time"]], np.r_[0.0, np.cumsum(wins["log_value"])]
    periods = fit_pool(time, progress, growth="exponential")
    flop = fit_pool(time * 1e24, progress, growth="exponential")
    assert periods.wins / periods.ideas > 0.6  # deep enough into the pool to tell its tail
    assert flop.alpha == pytest.approx(periods.alpha, rel=1e-3)
    assert flop.ideas == pytest.approx(periods.ideas, rel=1e-3)
    assert flop.g / flop.scale == pytest.approx(periods.g / periods.scale / 1e24, rel=1e-3)
    for fit in (periods, flop):
        low, high = fit.interval("alpha", 0.9)
        assert low <= fit.alpha <= high
