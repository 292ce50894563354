"""Prediction methods, the new likelihoods, bootstrap intervals and the backtest harness."""

import json
import math

import mpmath as mp
import numpy as np
import pytest
from scipy import special, stats

from simsearch import Beta, Kumaraswamy, Mixture, Point, simulate_counts
from simsearch.fitting.counts import pass_at_k_from_counts
from simsearch.fitting.counts import CountTable
from simsearch.fitting.likelihoods import _model, fit_family
from simsearch.fitting import (METHODS, get_method, observed_curve, prediction_interval,
                               run_backtest, subsample_counts)
from simsearch.fitting.curve import curve_pieces, log_grid
from simsearch.fitting.interval import percentile_interval
from simsearch.fitting.methods import DEFAULT_METHOD, solvable_share_bound
from conftest import P_MIN, Z_TOL

Q1_FLOOR = "line-or-q1-floor"


def _all_c(n):
    return CountTable.of_pairs(np.arange(n + 1), np.full(n + 1, n), np.ones(n + 1))


def _mp_log_pmf(c, n, log_density, lo=0, hi=1, atom=0.0):
    """log P(c | n) by mpmath quadrature of the binomial against a density on [lo, hi]."""
    with mp.workdps(30):
        f = lambda p: mp.exp(c * mp.log(p) + (n - c) * mp.log1p(-p) + log_density(p))  # noqa
        cuts = [lo] + [x for x in (mp.mpf(1) / n, mp.mpf(c + 1) / (n + 2), 0.5) if lo < x < hi]
        integral = mp.quad(f, sorted(set(cuts)) + [hi])
        value = (1 - atom) * mp.binomial(n, c) * integral + (atom if c == 0 else 0)
        return float(mp.log(value))


@pytest.mark.parametrize("family,theta,log_density,atom,hi", [
    ("zi-beta", [math.log(0.4), math.log(2.5), special.logit(0.3)],
     lambda p: (0.4 - 1) * mp.log(p) + 1.5 * mp.log1p(-p) - mp.log(mp.beta(0.4, 2.5)), 0.3, 1),
    ("zi-kumaraswamy", [math.log(0.5), math.log(3.0), special.logit(0.2)],
     lambda p: mp.log(1.5) - 0.5 * mp.log(p) + 2 * mp.log1p(-mp.sqrt(p)), 0.2, 1),
    ("scaled-beta", [math.log(0.6), math.log(2.0), special.logit(0.5)],
     lambda p: (-0.4) * mp.log(2 * p) + mp.log1p(-2 * p) - mp.log(mp.beta(0.6, 2)) + mp.log(2),
     0.0, 0.5),
    ("beta-mixture", [math.log(0.3), math.log(20.0), math.log(2.0), math.log(2.0),
                      special.logit(0.6)],
     lambda p: mp.log(0.6 * p**-0.7 * (1 - p)**19 / mp.beta(0.3, 20)
                      + 0.4 * p * (1 - p) / mp.beta(2, 2)), 0.0, 1),
])
def test_new_likelihoods_match_numerical_integration(family, theta, log_density, atom, hi):
    n = 40
    log_pmf = _model(_all_c(n), family).log_pmf(np.array(theta))
    assert np.exp(log_pmf).sum() == pytest.approx(1.0, abs=1e-8)
    for c in (0, 1, 5, 40):
        if family == "scaled-beta" and c == 40:
            continue  # p <= 0.5: P(40 of 40) ~ 1e-14, below the absolute tolerance's meaning
        ref = _mp_log_pmf(c, n, log_density, 0, hi, atom)
        assert log_pmf[c] == pytest.approx(ref, abs=1e-6), c


def test_zero_inflated_beta_binomial_is_exact_at_a_million_attempts():
    n, a, b, pi0 = 10**6, 0.3, 3.0, 0.25
    table = CountTable.of_pairs(np.array([0, 3, 500_000]), np.full(3, n), np.ones(3))
    got = _model(table, "zi-beta").log_pmf(np.array([math.log(a), math.log(b),
                                                     special.logit(pi0)]))
    with mp.workdps(40):
        for c, value in zip((0, 3, 500_000), got):
            bb = mp.binomial(n, c) * mp.beta(c + a, n - c + b) / mp.beta(a, b)
            ref = mp.log((1 - pi0) * bb + (pi0 if c == 0 else 0))
            assert value == pytest.approx(float(ref), rel=1e-9)


def _standard_errors(table, family, theta):
    """Square roots of the inverse observed information (numerical Hessian)."""
    model = _model(table, family)

    def nll(t):
        return -model.log_likelihood(t, table.weights)

    h = 1e-4
    d = len(theta)
    hess = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            ei, ej = np.eye(d)[i] * h, np.eye(d)[j] * h
            hess[i, j] = (nll(theta + ei + ej) - nll(theta + ei - ej) - nll(theta - ei + ej)
                          + nll(theta - ei - ej)) / (4 * h * h)
    return np.sqrt(np.diag(np.linalg.inv(hess)))


@pytest.mark.parametrize("family,dist,truth", [
    ("zi-beta", Mixture([(0.4, Point(0.0)), (0.6, Beta(0.5, 3))]),
     [math.log(0.5), math.log(3), special.logit(0.4)]),
    ("zi-kumaraswamy", Mixture([(0.3, Point(0.0)), (0.7, Kumaraswamy(0.5, 2))]),
     [math.log(0.5), math.log(2), special.logit(0.3)]),
    ("scaled-beta", Beta(0.5, 2, scale=0.4), [math.log(0.5), math.log(2), special.logit(0.4)]),
    ("beta-mixture", Mixture([(0.5, Beta(0.5, 30)), (0.5, Beta(4, 4))]),
     [math.log(0.5), math.log(30), math.log(4), math.log(4), 0.0]),
])
def test_parameters_are_recovered_within_their_standard_errors(family, dist, truth):
    sc = simulate_counts(dist, 3000, 100, seed=17)
    table = CountTable.from_counts(sc.successes, sc.attempts)
    fit = fit_family(table, family)
    assert fit.converged and not fit.at_bound
    se = _standard_errors(table, family, fit.theta)
    assert np.all(np.abs(fit.theta - np.array(truth)) < Z_TOL * se), (fit.theta, se)


def test_curve_equals_the_mean_unbiased_estimator_for_equal_attempts():
    sc = simulate_counts("beta(alpha=0.3, beta=3)", 500, 200, seed=3)
    pairs, w = np.unique(np.stack([sc.successes, sc.attempts], 1), axis=0, return_counts=True)
    k = log_grid(200)
    pieces = curve_pieces(pairs[:, 0], pairs[:, 1], w.astype(float), k)
    np.testing.assert_allclose(pieces.pass_at_k(w.astype(float)),
                               pass_at_k_from_counts(sc.successes, sc.attempts, k), atol=1e-12)


def test_curve_of_a_stop_after_success_design_is_the_share_solved_by_k():
    rng = np.random.default_rng(4)
    p = rng.beta(0.3, 3, 400)
    first = rng.geometric(p)
    solved = first <= 500
    c, n = solved.astype(np.int64), np.where(solved, first, 500)
    table = CountTable.from_counts(c, n)
    curve = observed_curve(table)
    assert curve.design == "first-success"
    expected = [np.mean(first <= k) for k in curve.k]
    np.testing.assert_allclose(curve.pass_at_k, expected, atol=1e-12)


def test_every_method_predicts_an_increasing_probability():
    sc = simulate_counts(Mixture([(0.3, Point(0.0)), (0.7, Beta(0.4, 3))]), 300, 100, seed=5)
    table = CountTable.from_counts(sc.successes, sc.attempts)
    k = np.array([1, 10, 100, 1e3, 1e4, 1e6])
    for name, method in METHODS.items():
        pred = method.fit(table).predict_pass_at_k(k)
        assert np.all((pred >= 0) & (pred <= 1)) and np.all(np.diff(pred) >= -1e-12), name


@pytest.mark.parametrize("name", ["line-or-floor", "line-or-q1-floor"])
def test_floor_is_found_where_problems_are_unsolvable_and_not_where_none_are(name):
    zi = simulate_counts(Mixture([(0.6, Point(0.0)), (0.4, Beta(0.5, 2))]), 400, 1000, seed=6)
    fit = get_method(name).fit(CountTable.from_counts(zi.successes, zi.attempts))
    assert fit.unsolvable_fraction is not None
    assert fit.predict_pass_at_k(1e8)[0] < 0.45  # saturates near 0.4, where the line goes to 1
    plain = simulate_counts(Beta(0.3, 3), 400, 1000, seed=6)
    fit = get_method(name).fit(CountTable.from_counts(plain.successes, plain.attempts))
    assert fit.unsolvable_fraction is None


def test_solvable_share_bound_by_hand():
    # 10 problems: 4 unsolved, 3 solved once, 2 twice, one 7 times: at least (6 + 3) / 10.
    c = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 7])
    assert solvable_share_bound(c, np.full(10, 50), np.ones(10), "exchangeable") == 0.9
    assert solvable_share_bound(c, np.arange(50, 60), np.ones(10), "exchangeable") == 0.9
    assert solvable_share_bound(np.array([0, 1, 1]), np.full(3, 5), np.ones(3),
                                "exchangeable") == 1.0  # capped at every problem
    assert solvable_share_bound(c, np.full(10, 50), np.ones(10), "first-success") is None


@pytest.mark.parametrize("a,b", [(0.2, 1.0), (0.3, 3.0), (0.5, 30.0), (1.0, 1.0), (1.0, 5.0)])
@pytest.mark.parametrize("n", [1, 10, 100, 10_000])
def test_singletons_never_outnumber_the_solvable_unsolved_when_the_density_decreases(a, b, n):
    # The bound behind line-or-q1-floor, in closed form: for p ~ Beta(a, b) with a <= 1 <= b
    # (a non-increasing density), E[(1-p)^n] >= E[n p (1-p)^(n-1)], with equality for the
    # uniform; the Q1 per problem is n B(a+1, b+n-1) / B(a, b).
    unsolved = math.exp(special.betaln(a, b + n) - special.betaln(a, b))
    q1 = n * math.exp(special.betaln(a + 1, b + n - 1) - special.betaln(a, b))
    if a == b == 1.0:
        assert q1 == pytest.approx(unsolved, rel=1e-12)
    else:
        assert q1 < unsolved


def test_singletons_can_outnumber_them_when_the_density_rises():
    # The assumption matters: for Beta(2, 3) (density rising from 0) Q1 exceeds the unsolved.
    n = 10
    unsolved = math.exp(special.betaln(2, 3 + n) - special.betaln(2, 3))
    q1 = n * math.exp(special.betaln(3, 3 + n - 1) - special.betaln(2, 3))
    assert q1 > unsolved


def test_default_is_the_line_and_beats_the_floor_rules_on_a_very_hard_but_solvable_tail():
    # Why the default is the line: half the problems have p log-uniform on [1e-5, 1e-3] (very
    # hard, yet 10,000 attempts solve many), as in real evaluations. From 100 attempts they
    # look unsolvable and the floor rules predict a saturation that is not there. 12 seeded
    # sets of 150 problems; |error| of pass@10000 against the problems' exact value, paired:
    # the floor rule's excess error must exceed 3 of its standard errors.
    assert DEFAULT_METHOD == "line"
    errors = {DEFAULT_METHOD: [], Q1_FLOOR: []}
    for rep in range(12):
        rng = np.random.default_rng(100 + rep)
        hard = rng.random(150) < 0.5
        p = np.where(hard, np.exp(rng.uniform(math.log(1e-5), math.log(1e-3), 150)),
                     Beta(0.3, 3).sample(150, rng))
        table = CountTable.from_counts(rng.binomial(100, p), np.full(150, 100))
        truth = float(np.mean(-np.expm1(1e4 * np.log1p(-p))))
        for name in errors:
            errors[name].append(abs(get_method(name).fit(table).predict_pass_at_k(1e4)[0] - truth))
    excess = np.array(errors[Q1_FLOOR]) - np.array(errors[DEFAULT_METHOD])
    assert excess.mean() > 3 * excess.std(ddof=1) / math.sqrt(excess.size)


def test_q1_check_is_not_fooled_by_a_hard_tail_mixture():
    # Half easy, half very hard with a heavy tail and no unsolvable problem: from 100 attempts
    # the curve looks saturated and the floor test fires, but the problems solved exactly once
    # (more than the solvable ones a floor leaves unsolved) often betray the hard tail. 20
    # seeded sets of 150 problems; errors of pass@10000 against the exact value of the
    # problems drawn, paired across methods.
    dist = Mixture([(0.5, Beta(0.2, 30)), (0.5, Beta(2, 3))])
    errors = {"line-or-floor": [], Q1_FLOOR: []}
    floors, covered = 0, 0
    for rep in range(20):
        rng = np.random.default_rng(rep)
        p = dist.sample(150, rng)
        table = CountTable.from_counts(rng.binomial(100, p), np.full(150, 100))
        truth = float(np.mean(-np.expm1(1e4 * np.log1p(-p))))
        for name in errors:
            fitted = get_method(name).fit(table)
            errors[name].append(abs(fitted.predict_pass_at_k(1e4)[0] - truth))
        floors += get_method("line-or-floor").fit(table).unsolvable_fraction is not None
        (lo, hi), _ = prediction_interval(get_method(Q1_FLOOR), table, [1e4], 20,
                                          confidence=0.9, seed=rep)
        covered += lo[0] <= truth <= hi[0]
    assert floors >= 16  # the failure the check guards against does occur here
    gain = np.array(errors["line-or-floor"]) - np.array(errors[Q1_FLOOR])
    assert gain.mean() > 3 * gain.std(ddof=1) / math.sqrt(gain.size)
    # Intervals span the line and the floor when the floor test fires: they cover the truth
    # (a 90% interval covers 18 of 20 on average; 14 or fewer has probability < 1.2%).
    assert covered >= 15


def test_interval_spans_the_floor_and_the_line_when_the_data_cannot_tell():
    dist = Mixture([(0.5, Beta(0.2, 30)), (0.5, Beta(2, 3))])
    rng = np.random.default_rng(3)
    p = dist.sample(150, rng)
    table = CountTable.from_counts(rng.binomial(100, p), np.full(150, 100))
    fitted = get_method(Q1_FLOOR).fit(table)
    assert fitted.alternatives  # the floor test fired: both models are kept
    (lo, hi), _ = prediction_interval(get_method(Q1_FLOOR), table, [1e4], 20, seed=0)
    for model in [fitted, *fitted.alternatives]:
        assert lo[0] <= model.predict_pass_at_k(1e4)[0] <= hi[0]


def test_q1_floor_bootstrap_interval_covers_about_95_percent_on_zero_inflated_data():
    # 40 seeded datasets of 200 problems x 100 attempts, half unsolvable; 40 replicates each.
    # A true 95% interval covers 38 of 40 on average; fewer than 33 has probability < 0.2%.
    dist = Mixture([(0.5, Point(0.0)), (0.5, Beta(0.5, 2))])
    truth = dist.expected_pass_at_k(1000.0)
    covered = 0
    for rep in range(40):
        sc = simulate_counts(dist, 200, 100, seed=rep)
        table = CountTable.from_counts(sc.successes, sc.attempts)
        (lo, hi), failed = prediction_interval(get_method(Q1_FLOOR), table, [1000], 40,
                                               confidence=0.95, seed=rep)
        assert failed == 0
        covered += lo[0] <= truth <= hi[0]
    assert covered >= 33


def test_subsampling_is_hypergeometric():
    rng = np.random.default_rng(8)
    draws = subsample_counts(np.full(40_000, 7), np.full(40_000, 20), 5, rng)
    observed = np.bincount(draws, minlength=6)
    expected = stats.hypergeom(20, 7, 5).pmf(np.arange(6)) * draws.size
    assert observed.size == 6 and expected.min() >= 5  # every cell big enough for chi-square
    assert stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > P_MIN
    # The same law as counting successes among the first 5 of randomly ordered attempts.
    order = np.array([rng.permutation(np.r_[np.ones(7), np.zeros(13)])[:5].sum()
                      for _ in range(40_000)])
    table = np.vstack([np.bincount(draws, minlength=6), np.bincount(order.astype(int),
                                                                     minlength=6)])
    table = table[:, table.sum(0) > 0]
    assert stats.chi2_contingency(table)[1] > P_MIN


def test_backtest_is_seeded_and_takes_the_first_columns_of_a_matrix():
    sc = simulate_counts(Beta(0.3, 3), 120, 400, seed=9)
    groups = {"a": (sc.successes, sc.attempts)}
    one = run_backtest(groups, 40, 400, ["line", "zi-beta"], seeds=3, seed=1)
    two = run_backtest(groups, 40, 400, ["zi-beta", "line"], seeds=3, seed=1)
    by_key = {(s, m): e for s, m, e in zip(two.rows["seed"], two.rows["method"],
                                           two.rows["error"])}
    for s, m, e in zip(one.rows["seed"], one.rows["method"], one.rows["error"]):
        assert e == by_key[(s, m)]
    matrix = (np.random.default_rng(2).random((50, 300)) < 0.05).astype(np.int8)
    result = run_backtest({"m": matrix}, 30, 300, ["line"], seeds=1)
    direct = get_method("line").fit(CountTable.from_counts(matrix[:, :30].sum(1), 30))
    assert result.rows["predicted"][0] == pytest.approx(direct.predict_pass_at_k(300)[0])
    assert result.rows["observed"][0] == pytest.approx(np.mean(matrix.sum(1) > 0))


def test_percentile_interval_keeps_an_unreachable_target_infinite():
    draws = np.array([[float(v)] for v in range(30)] + [[np.inf]] * 10)
    lo, hi = percentile_interval(draws, 0.9)
    assert np.isfinite(lo[0]) and hi[0] == np.inf


# --- simsearch fit: defaults and --by ---------------------------------------------------------


def _two_model_csv(path, problems=120, attempts=200, seed=4):
    """Two models on the same problems (the second abler): problem,successes,attempts,model."""
    rng = np.random.default_rng(seed)
    easiness = rng.normal(-5.0, 2.5, problems)
    lines = ["problem,successes,attempts,model"]
    singles = {}
    for name, shift in (("small", 0.0), ("large", 1.5)):
        c = rng.binomial(attempts, special.expit(easiness + shift))
        lines += [f"{i},{ci},{attempts},{name}" for i, ci in enumerate(c)]
        singles[name] = ["problem,successes,attempts"] + [f"{i},{ci},{attempts}"
                                                           for i, ci in enumerate(c)]
    path.write_text("\n".join(lines) + "\n")
    return singles


def _fit_json(capsys, argv):
    from simsearch.cli import main

    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fit_without_options_predicts_at_10x_and_100x_with_an_interval(tmp_path, capsys):
    singles = _two_model_csv(tmp_path / "both.csv")
    path = tmp_path / "small.csv"
    path.write_text("\n".join(singles["small"]) + "\n")
    report = _fit_json(capsys, ["fit", str(path)])
    assert set(report["predicted_pass_at_k"]) == {"2000", "20000"}
    assert report["manifest"]["config"]["bootstrap"] == 100
    for k, (lo, hi) in report["predicted_pass_at_k_ci"].items():
        assert lo <= report["predicted_pass_at_k"][k] <= hi and lo < hi
    assert "prediction.exponent" in report["read_exponent"]
    # An explicit --bootstrap 0 still means no interval.
    assert "predicted_pass_at_k_ci" not in _fit_json(capsys, ["fit", str(path), "--bootstrap",
                                                              "0"])


def test_fit_by_reports_a_group_it_cannot_fit_and_fits_the_others(tmp_path, capsys):
    # A small model that solved nothing (common on code benchmarks): its group says why, the
    # others are fitted as alone (and jointly with --pool); the file's report is not lost.
    from simsearch.cli import main

    singles = _two_model_csv(tmp_path / "both.csv")
    lines = (tmp_path / "both.csv").read_text().splitlines()
    lines += [f"{i},0,200,tiny" for i in range(120)]
    (tmp_path / "three.csv").write_text("\n".join(lines) + "\n")
    argv = ["fit", str(tmp_path / "three.csv"), "--by", "model", "--bootstrap", "0"]
    report = _fit_json(capsys, argv)
    assert list(report["groups"]) == ["small", "large", "tiny"]
    assert "every problem has 0 successes" in report["groups"]["tiny"]["error"]
    (tmp_path / "small.csv").write_text("\n".join(singles["small"]) + "\n")
    alone = _fit_json(capsys, ["fit", str(tmp_path / "small.csv"), "--bootstrap", "0"])
    assert report["groups"]["small"]["predicted_pass_at_k"] == alone["predicted_pass_at_k"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "== model = tiny\nnot fitted: successes: every problem has 0 successes" in out
    assert err.count("\n") == 1 and "model 'tiny' not fitted" in err
    assert main(argv + ["--pool"]) == 0  # the pooled lines leave tiny out and say why
    out = capsys.readouterr().out
    assert "tiny: not pooled" in out and "note: tiny: left out of the pooled line" in out
    assert main(argv + ["--pool", "--pool-method", "pooled-irt"]) == 0  # the joint fit has it
    assert "tiny: pass@2000 = " in capsys.readouterr().out
    # Only unfittable groups: one line naming the group, exit 2.
    (tmp_path / "tiny.csv").write_text("\n".join([lines[0]] + lines[-120:]) + "\n")
    assert main(["fit", str(tmp_path / "tiny.csv"), "--by", "model"]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1 and "model 'tiny': successes:" in err


def test_fit_by_equals_separate_single_fits_exactly(tmp_path, capsys):
    singles = _two_model_csv(tmp_path / "both.csv")
    argv = ["--bootstrap", "20", "--predict", "1000,5000", "--seed", "3"]
    by = _fit_json(capsys, ["fit", str(tmp_path / "both.csv"), "--by", "model", *argv])
    assert by["by"] == "model" and list(by["groups"]) == ["small", "large"]
    for name, lines in singles.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n")
        single = _fit_json(capsys, ["fit", str(path), *argv])
        single.pop("manifest")
        assert by["groups"][name] == single


def test_fit_never_predicts_less_than_the_share_already_solved():
    # Three problems, all solved within 10,000 attempts: their pass@k for k >= 10,000 is 1,
    # whatever the fitted curve says (the line said 0.988 at 10^5). The report keeps the
    # bound and says so; predictions above it are untouched.
    from simsearch.fitting.report import fit_report

    c, n = np.array([2, 30, 700]), np.full(3, 10_000)
    report = fit_report(c, n, bootstrap=20, predict=[1000, 100_000], seed=0).data
    assert report["predicted_pass_at_k"]["100000"] == 1.0
    assert report["predicted_pass_at_k_ci"]["100000"] == [1.0, 1.0]
    assert report["predicted_pass_at_k"]["1000"] < 1.0  # k < n: no bound
    assert any("below the share of problems already solved" in w for w in report["warnings"])


def test_fit_json_of_a_beta_mixture_law_is_plain_data():
    # The mixture's parameters hold its component laws: --json printed a traceback
    # ("Object of type Beta is not JSON serializable") whenever the mixture was the law.
    from simsearch import Beta, Mixture
    from simsearch.fitting.report import fit_report
    from simsearch.sampling.passk import simulate_counts

    sim = simulate_counts(Mixture([(0.5, Beta(1.0, 300.0)), (0.5, Beta(0.2, 6.0))]), 140,
                          2000, seed=3)
    report = fit_report(sim.successes, sim.attempts, dist="beta-mixture", bootstrap=0)
    law = json.loads(json.dumps(report.to_dict(), allow_nan=False))["distribution"]
    assert law["name"] == "mixture"
    (w0, first), (w1, second) = law["parameters"]["components"]
    assert w0 + w1 == pytest.approx(1.0)
    assert first["spec"].startswith("beta(") and set(first["parameters"]) >= {"alpha", "beta"}


def test_fit_says_when_too_few_bootstrap_refits_leave_no_interval():
    # One solved problem of three: 6 of 20 refits fail (resamples without it), and the 14
    # left are too few for an interval; the warning said "intervals use the rest".
    from simsearch.fitting.report import fit_report

    report = fit_report([8, 0, 0], [10_000] * 3, bootstrap=20, seed=0).data
    assert report["predicted_pass_at_k_ci"] == {"100000": None, "1000000": None}
    line = [w for w in report["warnings"] if "bootstrap replicates could not be fitted" in w]
    assert len(line) == 1 and "too few for an interval" in line[0]
    assert "intervals use the rest" not in line[0]


def test_unsolvable_fraction_interval_contains_its_estimate():
    # A simulated CodeContests-like model (140 problems x 10^4 attempts, 42 unsolved): the
    # zi-beta atom sits at its lower bound (~1e-6), where the refits' optimiser noise put the
    # whole percentile interval [3.1e-07, 5.4e-06] below the estimate 6.2e-06.
    from simsearch.fitting.report import fit_report

    table = {0: 42, 1: 24, 2: 10, 3: 8, 4: 6, 5: 6, 6: 5, 7: 1, 8: 4, 9: 1, 10: 2, 13: 2}
    rest = [14, 15, 16, 18, 19, 21, 24, 24, 26, 28, 30, 32, 34, 37, 41, 48, 54, 55, 67, 70,
            86, 119, 123, 126, 145, 178, 237, 260, 271]
    c = np.array([v for v, m in table.items() for _ in range(m)] + rest)
    assert c.size == 140
    u = fit_report(c, np.full(c.size, 10_000), bootstrap=20, seed=0).data["unsolvable_fraction"]
    lo, hi = u["ci"]
    assert lo <= u["estimate"] <= hi
