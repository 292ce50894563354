"""The joint item-response fit of several models on the same problems (pooled-irt), and the
plumbing every pooled method shares (simsearch.fitting.pooled)."""

import json
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from simsearch.cli import main
from simsearch.fitting.counts import PooledCounts, pooled_counts
from simsearch.fitting.pooled import bootstrap_pooled as _bootstrap
from simsearch.fitting.pooled_irt import (T_GRID, fit_irt as fit_pooled,
                                          irt_log_likelihood as pooled_log_likelihood,
                                          predict_irt as predict_pooled)


def bootstrap_pooled(*args, **kwargs):
    return _bootstrap(*args, method="pooled-irt", **kwargs)


def _simulate(seed, problems, attempts, intercept, slope, zeros=0.0):
    """Counts from the model itself: t_i ~ N(-4, 2), an unsolvable share ``zeros``."""
    rng = np.random.default_rng(seed)
    t = rng.normal(-4.0, 2.0, problems)
    p = special.expit(np.asarray(intercept)[None, :] + np.asarray(slope)[None, :] * t[:, None])
    p[rng.random(problems) < zeros] = 0.0
    c = rng.binomial(attempts, p)
    return PooledCounts(c, np.full(c.shape, attempts), tuple(f"m{j}" for j in range(c.shape[1])))


def test_joint_likelihood_equals_a_direct_sum_over_the_grid():
    # Independent reference: loops and scipy's binomial pmf, atom included.
    rng = np.random.default_rng(1)
    c = np.array([[0, 0], [3, 9], [0, 1], [12, 20], [0, 0]])
    n = np.array([[20, 25], [20, 25], [20, 25], [20, 25], [20, 25]])
    intercept, slope = np.array([0.0, 0.7]), np.array([1.0, 1.3])
    weights = rng.dirichlet(np.ones(T_GRID.size + 1))
    expected = 0.0
    for i in range(c.shape[0]):
        total = weights[0] * float(np.all(c[i] == 0))
        for g, t in enumerate(T_GRID):
            term = weights[g + 1]
            for j in range(2):
                term *= stats.binom.pmf(c[i, j], n[i, j], special.expit(intercept[j] + slope[j] * t))
            total += term
        expected += math.log(total)
    got = pooled_log_likelihood(PooledCounts(c, n, ("a", "b")), intercept, slope, weights)
    assert got == pytest.approx(expected, rel=1e-12)


def test_joint_likelihood_with_a_smooth_prior_equals_the_integral():
    # A normal prior on t put on the grid (midpoint rule) plus an atom: the marginal likelihood
    # of each problem equals the integral over t by adaptive quadrature, to the rule's error:
    # for a near-Gaussian integrand of width sigma in t the midpoint rule with step h errs by
    # about 2 exp(-2 pi^2 sigma^2 / h^2); three models' 30 attempts give sigma >= 0.22, so
    # with h = 0.25 below 1e-6.
    mu, sd, atom = -3.0, 1.5, 0.2
    weights = np.concatenate([[atom], (1 - atom) * stats.norm.pdf(T_GRID, mu, sd) * 0.25])
    c = np.array([[0, 0, 0], [2, 5, 11], [0, 1, 4]])
    n = np.full(c.shape, 30)
    intercept, slope = np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.9, 1.1])
    for i in range(c.shape[0]):
        def integrand(t):
            p = special.expit(intercept + slope * t)
            return stats.norm.pdf(t, mu, sd) * np.prod(stats.binom.pmf(c[i], n[i], p))
        value = integrate.quad(integrand, -30, 15, points=[mu], epsabs=0, epsrel=1e-12,
                               limit=200)[0]
        expected = math.log(atom * float(np.all(c[i] == 0)) + (1 - atom) * value)
        got = pooled_log_likelihood(PooledCounts(c[i:i + 1], n[i:i + 1], ("a", "b", "c")),
                                    intercept, slope, weights)
        assert got == pytest.approx(expected, rel=1e-6)


def test_parameters_are_recovered_from_a_ladder_of_abilities_within_monte_carlo_error():
    # 5 simulated sets of 150 problems x 3 models x 200 attempts, 20% unsolvable. The mean of
    # the intercepts and slopes must lie within 4 standard errors (their spread over the sets)
    # of the truth. (The unsolvable share itself is not identified from 200 attempts: an atom
    # at 0 and mass at p ~ 1e-5 fit zeros equally; only the models' ladder is.)
    intercept, slope = np.array([0.0, 1.0, 2.5]), np.array([1.0, 0.8, 1.2])
    est = []
    for seed in range(5):
        fit = fit_pooled(_simulate(seed, 150, 200, intercept, slope, zeros=0.2))
        # The fit's reference is the middle model; the truth's is model 0: its scale of t.
        a, b = fit.intercept, fit.slope
        est.append(np.concatenate([(a - b * a[0] / b[0])[1:], (b / b[0])[1:]]))
    est = np.array(est)
    truth = np.concatenate([intercept[1:], slope[1:]])
    se = est.std(0, ddof=1) / math.sqrt(len(est))
    assert np.all(np.abs(est.mean(0) - truth) < 4 * se), (est.mean(0), truth, se)


def test_the_fit_does_not_depend_on_the_order_of_the_models():
    """The reference model is chosen from the counts (the middle success rate), not by
    position: the models in any order give the same predictions (to EM's tolerance)."""
    counts = _simulate(3, 120, 200, np.array([0.0, 1.0, 2.5]), np.array([1.0, 0.8, 1.2]),
                       zeros=0.1)
    base = predict_pooled(fit_pooled(counts), [10, 1000])
    for order in ([2, 0, 1], [1, 2, 0]):
        shuffled = PooledCounts(counts.successes[:, order], counts.attempts[:, order],
                                tuple(counts.names[j] for j in order))
        fit = fit_pooled(shuffled)
        assert fit.reference == order.index(1)  # the middle model, wherever it is
        assert np.allclose(predict_pooled(fit, [10, 1000]), base[order], rtol=1e-4, atol=1e-6)


def test_prediction_is_the_posterior_mean_of_each_models_pass_at_k():
    counts = _simulate(3, 80, 50, [0.0, 1.5], [1.0, 1.0])
    fit = fit_pooled(counts)
    k = np.array([1.0, 50.0, 5000.0])
    p = special.expit(fit.intercept[:, None] + fit.slope[:, None] * T_GRID[None, :])  # (J, G)
    for j in range(2):
        per_problem = fit.posterior[:, 1:] @ (1 - (1 - p[j])[:, None] ** k[None, :])
        np.testing.assert_allclose(predict_pooled(fit, k)[j], per_problem.mean(0), rtol=1e-10)
    # In sample, at k = n, the prediction is close to the observed share solved.
    observed = (counts.successes > 0).mean(0)
    np.testing.assert_allclose(predict_pooled(fit, [50])[:, 0], observed, atol=0.03)


def test_bootstrap_is_reproducible_and_its_interval_brackets_the_estimate():
    intercept, slope = np.array([0.0, 1.5]), np.array([1.0, 1.0])
    counts = _simulate(5, 100, 100, intercept, slope, zeros=0.1)
    fit = fit_pooled(counts)
    a = bootstrap_pooled(counts, fit, [1000], 20, seed=7)
    b = bootstrap_pooled(counts, fit, [1000], 3, seed=7)  # replicate b does not depend on B
    assert np.array_equal(a[:3], b) and a.shape == (20, 2, 1)
    lo, hi = np.quantile(a[:, :, 0], [0.025, 0.975], axis=0)
    pred = predict_pooled(fit, [1000])[:, 0]
    assert np.all(lo <= pred) and np.all(pred <= hi) and np.all(hi - lo > 0)


@pytest.mark.slow
def test_bootstrap_intervals_cover_the_problems_pass_at_k_near_the_nominal_rate():
    # Where the joint model is right: 12 simulated sets of 60 problems x 3 models x 100
    # attempts (10% unsolvable), 20 refits each. A 90% percentile interval of pass@1000 must
    # cover the same problems' pass@1000 (mean of 1 - (1 - p)^1000, exact) in 90% of the 36
    # cases to within 3 binomial standard errors (0.05 each; the cases of one set share its
    # problems, so the true spread is somewhat wider and the bound is not tight).
    intercept, slope, k = np.array([-1.0, 0.0, 1.5]), np.array([1.0, 0.9, 1.1]), 1000
    hits = []
    for s in range(12):
        rng = np.random.default_rng(9000 + s)
        t = rng.normal(-4.0, 2.0, 60)
        p = special.expit(intercept[None, :] + slope[None, :] * t[:, None])
        p[rng.random(60) < 0.1] = 0.0
        counts = PooledCounts(rng.binomial(100, p), np.full(p.shape, 100), ("a", "b", "c"))
        draws = bootstrap_pooled(counts, fit_pooled(counts), [k], 20, seed=s)[:, :, 0]
        lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
        truth = (1.0 - (1.0 - p) ** k).mean(0)
        hits.extend((lo <= truth) & (truth <= hi))
    coverage, se = np.mean(hits), math.sqrt(0.9 * 0.1 / len(hits))
    assert abs(coverage - 0.9) <= 3 * se, (coverage, len(hits))


def test_the_fit_depends_on_a_problem_only_through_its_counts_and_weight():
    # EM runs on the distinct rows of positive weight: a problem listed twice weighs as one of
    # weight 2, and a problem of weight 0 is as if absent (a bootstrap resample's view).
    counts = _simulate(11, 60, 40, [0.0, 1.0, -0.5], [1.0, 0.9, 1.2], zeros=0.2)
    c, n = counts.successes, counts.attempts
    u = np.random.default_rng(3).multinomial(60, np.full(60, 1 / 60)).astype(float)
    repeat = np.repeat(np.arange(60), u.astype(int))  # each problem u_i times
    weighted = fit_pooled(counts, u)
    listed = fit_pooled(PooledCounts(c[repeat], n[repeat], counts.names))
    assert weighted.iterations == listed.iterations and weighted.converged
    for name in ("intercept", "slope", "weights"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(listed, name), rtol=1e-12,
                                   atol=1e-15)
    assert weighted.log_likelihood == pytest.approx(listed.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(predict_pooled(weighted, [1000], u),
                               predict_pooled(listed, [1000]), rtol=1e-12)


def test_bootstrap_does_not_depend_on_the_number_of_processes():
    counts = _simulate(5, 80, 60, [0.0, 1.5], [1.0, 1.0], zeros=0.1)
    fit = fit_pooled(counts)
    one = bootstrap_pooled(counts, fit, [1000, 10_000], 6, seed=4)
    two = bootstrap_pooled(counts, fit, [1000, 10_000], 6, seed=4, workers=2)
    assert np.array_equal(one, two)


def test_groups_must_list_the_same_problems():
    with pytest.raises(Exception, match="pool: every group must list the same problems"):
        pooled_counts({"a": (np.array([1, 0]), np.array([5, 5])),
                       "b": (np.array([1]), np.array([5]))})


def test_cli_fit_by_pool_reports_every_model_and_pool_needs_by(tmp_path, capsys):
    counts = _simulate(2, 60, 100, [0.0, 1.5], [1.0, 1.0])
    lines = ["problem,successes,attempts,model"]
    for j, name in enumerate(counts.names):
        lines += [f"{i},{c},100,{name}" for i, c in enumerate(counts.successes[:, j])]
    path = tmp_path / "counts.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["fit", str(path), "--by", "model", "--pool", "--pool-method", "pooled-irt",
                 "--bootstrap", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    pooled = report["pooled"]
    assert set(pooled["models"]) == set(report["groups"]) == {"m0", "m1"}
    for name, entry in pooled["models"].items():
        assert (set(entry["predicted_pass_at_k"])
                == set(report["groups"][name]["predicted_pass_at_k"]) == {"1000", "10000"})
        assert "predicted_pass_at_k_ci" not in entry  # --bootstrap 0: no interval
    assert main(["fit", str(path), "--by", "model", "--pool", "--pool-method", "pooled-irt",
                 "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "== model = m1" in out and "pooled: pooled-irt (item response" in out
    assert main(["fit", str(path), "--pool"]) == 2
    assert "pool: needs --by" in capsys.readouterr().err
    assert main(["fit", str(path), "--by", "model", "--pool", "--pool-method", "irt"]) == 2
    assert "unknown pooled method 'irt'" in capsys.readouterr().err
    assert main(["fit", str(path), "--by", "model", "--pool-method", "pooled-irt"]) == 2
    assert "pool-method: needs --pool" in capsys.readouterr().err


def test_backtest_pool_adds_paired_rows_of_the_joint_model(tmp_path, capsys):
    from simsearch.fitting import run_backtest
    from simsearch.fitting.pooled import add_pooled_backtest

    counts = _simulate(4, 50, 400, [0.0, 1.5], [1.0, 1.0])
    groups = {name: (counts.successes[:, j], counts.attempts[:, j])
              for j, name in enumerate(counts.names)}
    result = add_pooled_backtest(run_backtest(groups, 50, 400, ["line"], seeds=2), groups,
                                 seeds=2)
    assert (result.summary["pooled-irt"]["cases"] == result.summary["pooled-line"]["cases"]
            == 4 == result.summary["line"]["cases"])
    rows = result.rows
    for s in range(2):  # rows pair with the line's: same groups, seeds and targets
        line = [o for o, m, ss in zip(rows["observed"], rows["method"], rows["seed"])
                if m == "line" and ss == s]
        pooled = [o for o, m, ss in zip(rows["observed"], rows["method"], rows["seed"])
                  if m == "pooled-irt" and ss == s]
        assert line == pooled
    lines = ["problem,successes,attempts,model"] + [
        f"{i},{c},400,{name}" for name, (cs, _) in groups.items() for i, c in enumerate(cs)]
    path = tmp_path / "counts.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["backtest", str(path), "--from", "50", "--to", "400", "--by", "model",
                 "--pool", "--methods", "line", "--seeds", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "pooled-irt" in out and "pooled-line" in out
    assert main(["backtest", str(path), "--from", "50", "--to", "400", "--pool"]) == 2


def _two_model_rows(counts):
    """CSV rows ``problem,successes,attempts,model`` of simulated pooled counts."""
    rows = []
    for j, name in enumerate(counts.names):
        rows += [(f"q{i}", int(c), int(n), name) for i, (c, n) in
                 enumerate(zip(counts.successes[:, j], counts.attempts[:, j]))]
    return rows


def _write(path, rows):
    path.write_text("problem,successes,attempts,model\n"
                    + "".join(f"{p},{c},{n},{m}\n" for p, c, n, m in rows))


def test_cli_pool_pairs_problems_by_their_id_not_by_row_order(tmp_path, capsys):
    # Each model's rows in its own order: the joint fit must pair problem q7 of m0 with q7 of
    # m1 (pairing by position gave every model pass@k = 1 on the reordered Pythia file).
    counts = _simulate(3, 60, 100, [0.0, 1.5], [1.0, 1.0])
    rows = _two_model_rows(counts)
    _write(tmp_path / "sorted.csv", rows)
    # m0 stays the first model (the joint fit's parametrisation depends on the models' order).
    order = np.random.default_rng(0).permutation(len(rows))
    shuffled = [rows[i] for i in order]
    shuffled.sort(key=lambda row: row[3] != "m0")
    _write(tmp_path / "shuffled.csv", shuffled)
    reports = []
    for name in ("sorted", "shuffled"):
        assert main(["fit", str(tmp_path / f"{name}.csv"), "--by", "model", "--pool",
                     "--bootstrap", "0", "--json"]) == 0
        reports.append(json.loads(capsys.readouterr().out)["pooled"])
    for name in counts.names:
        for k, v in reports[0]["models"][name]["predicted_pass_at_k"].items():
            assert reports[1]["models"][name]["predicted_pass_at_k"][k] == pytest.approx(
                v, rel=1e-9)
    assert main(["backtest", str(tmp_path / "shuffled.csv"), "--from", "20", "--to", "100",
                 "--by", "model", "--pool", "--methods", "line", "--seeds", "1",
                 "--no-progress"]) == 0
    capsys.readouterr()


def test_cli_pool_refuses_groups_with_different_problems_in_one_line(tmp_path, capsys):
    counts = _simulate(4, 30, 100, [0.0, 1.5], [1.0, 1.0])
    rows = _two_model_rows(counts)
    _write(tmp_path / "missing.csv", rows[:-1])  # m1 lacks q29
    _write(tmp_path / "repeated.csv", rows + [rows[0]])  # m0 lists q0 twice
    for name, needle in (("missing", "'q29'"), ("repeated", "'q0'")):
        for argv in (["fit", "--bootstrap", "0"],
                     ["backtest", "--from", "20", "--to", "100", "--no-progress"]):
            path = str(tmp_path / f"{name}.csv")
            assert main([argv[0], path, *argv[1:], "--by", "model", "--pool"]) == 2
            out, err = capsys.readouterr()
            assert err.count("\n") == 1 and "pool:" in err and needle in err and not out


def test_pooled_report_stays_between_the_share_solved_and_one():
    from simsearch.fitting.pooled import pooled_report

    # Seed 5: the raw joint pass@1000 is 0.011 below the share solved, pass@1e8 is 1 + 2e-16.
    counts = _simulate(5, 40, 1000, [0.0, 3.0], [1.0, 1.0])
    groups = {name: (counts.successes[:, j], counts.attempts[:, j])
              for j, name in enumerate(counts.names)}
    k = ["1000", "100000000"]
    singles = {name: {"predicted_pass_at_k": dict.fromkeys(k, 0.5)} for name in groups}
    report = pooled_report(groups, singles, 20, method="pooled-irt", seed=1)
    for j, (name, entry) in enumerate(report["models"].items()):
        solved = float(np.mean(counts.successes[:, j] > 0))
        for kk in k:
            lo, hi = entry["predicted_pass_at_k_ci"][kk]
            assert solved <= lo <= entry["predicted_pass_at_k"][kk] <= hi <= 1.0
