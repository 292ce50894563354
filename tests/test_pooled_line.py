"""Each model's line with its exponent pooled across models (pooled-line, a Fay-Herriot model)."""

import json
import math

import numpy as np
import pytest
from scipy import special

from simsearch.cli import main
from simsearch.fitting.counts import CountTable, PooledCounts, pass_at_k_from_counts
from simsearch.fitting.methods import get_method
from simsearch.fitting.pooled import bootstrap_pooled, pooled_report
from simsearch.fitting.pooled_line import (BETWEEN_GRID, _reml_predictor, fit_pooled_line,
                                           predict_pooled_line)


def _ladder(seed, problems=120, attempts=100, models=5, zeros=0.0):
    """Models sharing problem difficulty: logit p_ij = a_j + t_i + N(0, 0.5) interaction."""
    rng = np.random.default_rng(seed)
    t = np.log(rng.beta(0.3, 3.0, problems))
    a = np.linspace(-1.5, 1.5, models)
    p = special.expit(a[None, :] + special.logit(np.exp(t))[:, None]
                      + rng.normal(0, 0.5, (problems, models)))
    p[rng.random(problems) < zeros] = 0.0
    c = rng.binomial(attempts, p)
    return PooledCounts(c, np.full(c.shape, attempts), tuple(f"m{j}" for j in range(models))), p


def _contrast_reml(b, V, X, s2):
    """REML log-likelihood as the likelihood of the error contrasts A'b (A spans the
    orthogonal complement of X): an independent formula, equal up to a constant."""
    q, _ = np.linalg.qr(X, mode="complete")
    A = q[:, X.shape[1]:]
    S = A.T @ (V + s2 * np.eye(b.size)) @ A
    z = A.T @ b
    return -0.5 * (np.linalg.slogdet(S)[1] + z @ np.linalg.solve(S, z))


def _augmented_predictor(b, V, X, s2):
    """Posterior mean of the true exponents theta under theta = X beta + u, u ~ N(0, s2 I),
    b ~ N(theta, V), beta flat: minimise (b - theta)' V^-1 (b - theta) + |theta - X beta|^2 / s2
    over (theta, beta) by one linear solve of the normal equations."""
    J, q = X.shape
    Vi = np.linalg.inv(V)
    top = np.hstack([Vi + np.eye(J) / s2, -X / s2])
    bottom = np.hstack([-X.T / s2, X.T @ X / s2])
    rhs = np.concatenate([Vi @ b, np.zeros(q)])
    return np.linalg.solve(np.vstack([top, bottom]), rhs)[:J]


def test_reml_choice_and_predictor_match_independent_formulas():
    rng = np.random.default_rng(2)
    for _ in range(20):
        J = int(rng.integers(3, 9))
        level = rng.normal(0, 1, J)
        X = np.column_stack([np.ones(J), level])
        V = np.diag(rng.uniform(0.5, 2.0, J) * 1e-3)
        b = 0.3 - 0.1 * level + rng.normal(0, rng.choice([0.005, 0.05, 0.3]), J)
        pooled, s2, beta = _reml_predictor(b, V, X)
        scale = np.mean(np.diag(V))
        values = [_contrast_reml(b, V, X, s) for s in scale * BETWEEN_GRID]
        assert s2 == pytest.approx(scale * BETWEEN_GRID[int(np.argmax(values))], rel=1e-12)
        Si = np.linalg.inv(V + s2 * np.eye(J))
        gls = np.linalg.solve(X.T @ Si @ X, X.T @ Si @ b)  # beta: generalised least squares
        np.testing.assert_allclose(beta, gls, rtol=1e-9, atol=1e-12)
        if s2 > 0:
            np.testing.assert_allclose(pooled, _augmented_predictor(b, V, X, s2), rtol=1e-8,
                                       atol=1e-12)
        else:  # no spread about the regression: every exponent on it
            np.testing.assert_allclose(pooled, X @ gls, rtol=1e-10)


def test_each_own_line_is_the_line_method_and_the_prediction_goes_through_its_centre():
    counts, _ = _ladder(1)
    fit = fit_pooled_line(counts)
    line = get_method("line")
    for j in range(len(counts.names)):
        own = line.fit(CountTable.from_counts(counts.successes[:, j], counts.attempts[:, j]))
        assert fit.exponent[j] == pytest.approx(own.exponent, rel=1e-12)
        assert math.exp(fit.log_a[j]) == pytest.approx(own.parameters["prefactor"], rel=1e-12)
    # At the centre of each curve the pooled line and the own line agree.
    centre = np.exp(fit.centre_x)
    pooled = np.diag(predict_pooled_line(fit, centre))
    own = np.exp(-np.exp(fit.log_a - fit.exponent * fit.centre_x))
    np.testing.assert_allclose(pooled, own, rtol=1e-10)


def test_two_models_keep_their_own_lines_and_a_model_that_solved_nothing_is_left_out():
    counts, _ = _ladder(3, models=3)
    two = PooledCounts(counts.successes[:, :2], counts.attempts[:, :2], counts.names[:2])
    fit = fit_pooled_line(two)
    np.testing.assert_allclose(fit.pooled_exponent, fit.exponent, rtol=1e-9)
    c = counts.successes.copy()
    c[:, 0] = 0  # m0 solved nothing: no line, so it is left out and noted
    fit = fit_pooled_line(PooledCounts(c, counts.attempts, counts.names))
    assert np.isnan(fit.pooled_exponent[0]) and np.all(np.isfinite(fit.pooled_exponent[1:]))
    assert any("m0: left out" in note for note in fit.notes)
    assert np.all(np.isnan(predict_pooled_line(fit, [1000])[0]))


def test_weak_models_that_fail_on_some_resamples_do_not_stop_the_others_pooling():
    # Six of eight models solved one problem once each: each line fails on the resamples
    # without its problem (about 37%), so all eight fit on only ~6% of the resamples. That
    # must cost each model its own draws, not every model's variance (a paired V would).
    counts, _ = _ladder(8, models=8)
    c = counts.successes.copy()
    for j in range(6):
        c[:, j] = 0
        c[10 * j, j] = 1
    fit = fit_pooled_line(PooledCounts(c, counts.attempts, counts.names))
    assert np.all(np.isfinite(np.diag(fit.covariance)))
    assert np.all(np.isfinite(fit.pooled_exponent)) and np.isfinite(fit.between_variance)


def test_the_fit_does_not_depend_on_the_order_of_the_models():
    counts, _ = _ladder(4, models=6)
    order = [3, 0, 5, 1, 4, 2]
    shuffled = PooledCounts(counts.successes[:, order], counts.attempts[:, order],
                            tuple(counts.names[j] for j in order))
    a = predict_pooled_line(fit_pooled_line(counts), [10_000])[:, 0]
    b = predict_pooled_line(fit_pooled_line(shuffled), [10_000])[:, 0]
    np.testing.assert_allclose(b, a[order], rtol=1e-12)


def test_pooling_is_no_worse_than_the_own_lines_where_models_share_difficulty():
    # 16 simulated ladders of 5 models (shared difficulty, a heavy left tail): pass@10000 of
    # the same problems (exact from p) predicted from 100 attempts. The pooled exponents must
    # not err more than the models' own lines: the mean paired difference of |error| may not
    # exceed 3 of its standard errors (measured: pooled below the lines).
    diffs = []
    for s in range(16):
        counts, p = _ladder(100 + s)
        fit = fit_pooled_line(counts)
        truth = (1.0 - (1.0 - p) ** 10_000).mean(0)
        own = np.exp(-np.exp(fit.log_a - fit.exponent * math.log(10_000)))
        pooled = predict_pooled_line(fit, [10_000])[:, 0]
        diffs.extend(np.abs(pooled - truth) - np.abs(own - truth))
    diffs = np.array(diffs)
    assert diffs.mean() <= 3 * diffs.std(ddof=1) / math.sqrt(diffs.size), diffs.mean()


def test_bootstrap_is_reproducible_independent_of_processes_and_brackets_the_estimate():
    counts, _ = _ladder(5, models=4)
    fit = fit_pooled_line(counts)
    a = bootstrap_pooled(counts, fit, [1000, 10_000], 24, method="pooled-line", seed=7)
    b = bootstrap_pooled(counts, fit, [1000, 10_000], 3, method="pooled-line", seed=7)
    c = bootstrap_pooled(counts, fit, [1000, 10_000], 24, method="pooled-line", seed=7,
                         workers=2)
    assert np.array_equal(a[:3], b) and np.array_equal(a, c) and a.shape == (24, 4, 2)
    lo, hi = np.quantile(a[:, :, 1], [0.025, 0.975], axis=0)
    pred = predict_pooled_line(fit, [10_000])[:, 0]
    assert np.all(lo <= pred) and np.all(pred <= hi) and np.all(hi - lo > 0)


def test_report_and_cli_default_to_the_pooled_line(tmp_path, capsys):
    counts, _ = _ladder(6, problems=60, models=3)
    groups = {name: (counts.successes[:, j], counts.attempts[:, j])
              for j, name in enumerate(counts.names)}
    singles = {name: {"predicted_pass_at_k": {"1000": 0.5, "10000": 0.5}} for name in groups}
    report = pooled_report(groups, singles, 20, seed=3)
    assert report["method"] == "pooled-line" and "warning" not in report
    for j, name in enumerate(counts.names):
        entry = report["models"][name]
        solved = float(np.mean(counts.successes[:, j] > 0))
        for k in ("1000", "10000"):
            lo, hi = entry["predicted_pass_at_k_ci"][k]
            assert solved <= lo <= entry["predicted_pass_at_k"][k] <= hi <= 1.0
    path = tmp_path / "counts.csv"
    path.write_text("problem,successes,attempts,model\n" + "".join(
        f"q{i},{c},100,{name}\n" for name, (cs, _) in groups.items() for i, c in enumerate(cs)))
    assert main(["fit", str(path), "--by", "model", "--pool", "--bootstrap", "20", "--seed",
                 "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pooled"]["method"] == "pooled-line"
    assert out["manifest"]["config"]["pool_method"] == "pooled-line"
    assert out["pooled"]["models"]["m1"]["predicted_pass_at_k"]["10000"] == pytest.approx(
        report["models"]["m1"]["predicted_pass_at_k"]["10000"], rel=1e-12)
    assert main(["fit", str(path), "--by", "model", "--pool", "--bootstrap", "0"]) == 0
    text = capsys.readouterr().out
    assert "== pooled: pooled-line" in text and "exponent" in text


def test_backtest_rows_of_the_pooled_line_have_intervals_under_bootstrap():
    from simsearch.fitting import run_backtest
    from simsearch.fitting.pooled import add_pooled_backtest

    counts, p = _ladder(7, problems=80, attempts=400, models=3)
    groups = {name: (counts.successes[:, j], counts.attempts[:, j])
              for j, name in enumerate(counts.names)}
    result = add_pooled_backtest(run_backtest(groups, 50, 400, ["line"], seeds=2), groups,
                                 seeds=2, methods=["pooled-line"], bootstrap=20)
    summary = result.summary["pooled-line"]
    assert summary["cases"] == 6 and summary["intervals"] == 6
    rows = [i for i, m in enumerate(result.rows["method"]) if m == "pooled-line"]
    observed = [float(pass_at_k_from_counts(groups[result.rows["group"][i]][0],
                                            groups[result.rows["group"][i]][1], 400)[0])
                for i in rows]
    assert [result.rows["observed"][i] for i in rows] == observed
    assert all(result.rows["lo"][i] <= result.rows["hi"][i] for i in rows)
