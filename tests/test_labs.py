"""Labs engine: closed forms, an attempt-by-attempt reference, budgets, sharing, seeds."""

import dataclasses
import math

import numpy as np
import pytest
from conftest import P_MIN, Z_TOL
from labs_reference import (ALL_FEATURES, assert_matches_reference, features,
                             random_config)
from scipy import optimize, special, stats

from simsearch.errors import SimsearchError
from simsearch.labs import labs_config, load_labs_config, simulate_labs
from simsearch.labs import ChinchillaLoss


def _config(ideas=200, difficulty="beta(alpha=0.5, beta=2)", labs=None, **top):
    pool = {"ideas": ideas, "difficulty": difficulty}
    pool.update(top.pop("pool", {}))
    doc = {"seed": 1, "replicates": 2, "pool": pool,
           "lab": labs or [{"name": "a", "budget": 1e4}], **top}
    return labs_config(doc)


def _rounds_compute_at_wins(need, m):
    """Compute at each win under rounds of quantum m, from the first-success times alone.

    An idea i with T_i attempts needed is solved in round r = ceil(T_i / m) - 1 (0-based). By
    then every idea j has had min(T_j, m r) attempts in the earlier rounds, the ideas before i
    still open in round r have had min(T_j - m r, m) more, and i itself T_i - m r.
    """
    need = np.asarray(need, dtype=float)
    out = {}
    for i, t in enumerate(need):
        if np.isfinite(t):
            r = math.ceil(t / m) - 1
            earlier = np.minimum(need, m * r).sum()
            before = need[:i][need[:i] > m * r]
            out[i] = earlier + np.minimum(before - m * r, m).sum() + t - m * r
    return out


@pytest.mark.parametrize("policy,m", [("round-robin", 1), ("patience(m=3)", 3)])
def test_compute_at_each_win_follows_from_the_first_success_times(policy, m):
    config = _config(ideas=300, labs=[{"name": "a", "budget": 400.0, "policy": policy}],
                     periods=30, replicates=3)
    wins = simulate_labs(config).wins
    for r in range(3):
        sel = wins["replicate"] == r
        need = np.full(300, np.inf)  # unsolved ideas need more than the lab ever spent
        need[wins["idea"][sel]] = wins["attempts"][sel]
        expected = _rounds_compute_at_wins(need, m)
        np.testing.assert_array_equal(wins["compute"][sel],
                                      [expected[i] for i in wins["idea"][sel]])
        assert sel.sum() > 200


def test_round_robin_unsolved_fraction_is_the_beta_law():
    """After k rounds an idea is unsolved with probability B(a, b + k) / B(a, b)."""
    a, b, n, reps = 0.3, 3.0, 2000, 200
    config = _config(ideas=n, difficulty=f"beta(alpha={a}, beta={b})",
                     labs=[{"name": "a", "budget": n * 1000.0}], seed=3)
    result = simulate_labs(config, replicates=reps)
    wins = result.wins
    for k in (1, 10, 100, 1000):
        solved = np.count_nonzero(wins["attempts"] <= k)
        unsolved = 1.0 - solved / (n * reps)
        exact = math.exp(special.betaln(a, b + k) - special.betaln(a, b))
        se = math.sqrt(exact * (1.0 - exact) / (n * reps))
        assert abs(unsolved - exact) < Z_TOL * se, (k, unsolved, exact)
    # The pool the lab sees at the end agrees with its own wins.
    per = result.periods
    np.testing.assert_array_equal(per["pool_remaining"][:, 0, -1] + per["wins"][:, 0, -1], n)


REFERENCE_CONFIGS = {
    "round-robin": dict(labs=[{"name": "a", "budget": 30.0}]),
    "patience": dict(labs=[{"name": "a", "budget": 30.0, "policy": "patience(m=4)"}]),
    "greedy": dict(labs=[{"name": "a", "budget": 30.0, "policy": "greedy"}],
                   pool={"value": "lognormal(mu=0.1, sigma=0.5)"}),
    "greedy, equal values": dict(labs=[{"name": "a", "budget": 30.0, "policy": "greedy"}]),
    "three labs, private": dict(sharing=0.0, pool={"value": "lognormal(mu=0.1, sigma=0.5)"}),
    "three labs, half shared": dict(sharing=0.5, pool={"value": "lognormal(mu=0.1, sigma=0.5)",
                                                       "combine": "max"}),
    "three labs, all shared": dict(sharing=1.0, pool={"value": "lognormal(mu=0.1, sigma=0.5)"}),
    "dearer at the frontier": dict(
        sharing=0.7, pool={"value": "lognormal(mu=0.1, sigma=0.5)"},
        labs=[{"name": "a", "budget": 30.0, "growth": 0.3,
               "cost": {"base": 1.0, "elasticity": 0.7}},
              {"name": "b", "budget": 20.0, "policy": "patience(m=3)", "cost": 0.7},
              {"name": "c", "budget": 25.0, "policy": "greedy"}]),
    # Defect 1 of issue 12: a replenished or max_ideas pool broke rounds labs.
    "round-robin, replenished": dict(pool={"replenish": 0.5},
                                     labs=[{"name": "a", "budget": 30.0}]),
    "patience, replenished": dict(pool={"replenish": 1.0},
                                  labs=[{"name": "a", "budget": 30.0, "policy": "patience(m=5)"}]),
    "round-robin, max_ideas": dict(pool={"replenish": 2.0, "max_ideas": 60},
                                   labs=[{"name": "a", "budget": 30.0}]),
    "three labs, replenished, half shared": dict(sharing=0.5, pool={"replenish": 1.7}),
    "greedy, replenished": dict(pool={"replenish": 1.7},
                                labs=[{"name": "a", "budget": 30.0, "policy": "greedy"},
                                      {"name": "b", "budget": 20.0, "policy": "greedy",
                                       "cost": 0.5}], sharing=0.5),
    "endless stream": dict(ideas="inf", sharing=0.5, pool={"value": "pareto(alpha=1.5)",
                                                            "combine": "max"},
                           labs=[{"name": "a", "budget": 30.0},
                                 {"name": "b", "budget": 20.0, "policy": "patience(m=3)",
                                  "cost": {"base": 1.0, "elasticity": 0.5}}]),
    # Feedback (issue 14): rates change at every change of A, partial attempts carried, a cap.
    "feedback, schedules, half shared, cap": dict(
        sharing=0.5, limits={"multiplier": 40.0},
        pool={"value": "lognormal(mu=0.1, sigma=0.5)", "replenish": 1.0},
        labs=[{"name": "a", "budget": 30.0, "growth": 0.3, "automation": 0.8},
              {"name": "b", "budget": 20.0, "policy": "patience(m=3)",
               "automation": [0.0, 0.5, 1.0]},
              {"name": "c", "budget": 25.0, "policy": "greedy", "automation": 0.4,
               "cost": {"base": 1.0, "elasticity": 0.2}}]),
    "feedback, endless stream, all shared": dict(
        ideas="inf", sharing=1.0, limits={"multiplier": 100.0},
        pool={"value": "pareto(alpha=1.5)", "combine": "max"},
        labs=[{"name": "a", "budget": 30.0, "automation": 1.0},
              {"name": "b", "budget": 20.0, "policy": "patience(m=3)", "automation": 0.5,
               "cost": {"base": 1.0, "elasticity": 0.5}}]),
}
_THREE_LABS = [{"name": "a", "budget": 30.0, "growth": 1.0},
               {"name": "b", "budget": 20.0, "policy": "patience(m=3)", "cost": 2.0},
               {"name": "c", "budget": 30.0, "policy": "greedy"}]


@pytest.mark.parametrize("case", list(REFERENCE_CONFIGS))
def test_kernel_matches_an_attempt_by_attempt_reference(case):
    """Same streams, independent logic: every win (who, which idea, at what compute and time,
    with what multiplier, published or not) and every period record agree bit for bit."""
    spec = dict(REFERENCE_CONFIGS[case])
    spec.setdefault("labs", _THREE_LABS)
    spec.setdefault("ideas", 40)
    config = _config(difficulty="beta(alpha=0.6, beta=1.5)", periods=6, **spec)
    result = assert_matches_reference(config, seed=21, replicates=3)
    assert result.n_wins.min() > 0


def _random_configs(count, seed):
    rng = np.random.default_rng(seed)
    return [random_config(rng) for _ in range(count)]


RANDOM_CONFIGS = _random_configs(48, 2026)


def test_random_configurations_cover_every_feature():
    covered = set().union(*(features(doc) for doc in RANDOM_CONFIGS))
    assert covered == ALL_FEATURES, ALL_FEATURES - covered


@pytest.mark.parametrize("index", range(len(RANDOM_CONFIGS)))
def test_kernel_matches_the_reference_on_random_configurations(index):
    assert_matches_reference(labs_config(RANDOM_CONFIGS[index]))


# Greedy labs with distinct values read their attempts off a window listing about max(4 ideas,
# window_min) of them at a time, ideas with more than window_hot of them left to the heap; a
# window after a used-up one takes its bound from the last listing's count, not a pass over
# the ideas. At the engine's sizes (1024, 256) the small configs above fit in one window, so
# here the sizes are tiny: the window is rebuilt every few attempts (from the count, as a
# window of at least window_min attempts measures it), ideas move between it and the heap,
# blocks are cut short, and replenished pools grow under it.
_WINDOW_CONFIGS = [doc for doc in RANDOM_CONFIGS
                   if any(lab["policy"] == "greedy" for lab in doc["lab"])]
_WINDOW_CASES = ["greedy", "three labs, half shared", "greedy, replenished",
                 "feedback, schedules, half shared, cap", "dearer at the frontier"]


# (window_min, window_hot, window_hot_share, window_sort_run, window_log_trials): the share 0
# keeps every hot idea at window_hot; a sort run of 1-2 attempts sorts a window in many coarse
# buckets (crowded ones by mergesort); a table of 3-7 logarithms leaves most keys past it.
@pytest.mark.parametrize("sizes", [(1, 1, 0.0, 1, 3), (3, 2, 0.5, 2, 7), (16, 40, 0.0, 2, 2 ** 17),
                                   (4, 1, 0.25, 256, 5)])
def test_the_greedy_window_of_any_size_matches_the_reference(sizes, monkeypatch):
    from simsearch.labs import engine

    arguments = engine._kernel_arguments

    def tiny_window(config):
        difficulty, pool, labs = arguments(config)
        return difficulty, pool._replace(window_min=sizes[0], window_hot=sizes[1],
                                         window_hot_share=sizes[2], window_sort_run=sizes[3],
                                         window_log_trials=sizes[4]), labs

    monkeypatch.setattr(engine, "_kernel_arguments", tiny_window)
    assert len(_WINDOW_CONFIGS) >= 10
    for doc in _WINDOW_CONFIGS:
        assert_matches_reference(labs_config(doc))
    for case in _WINDOW_CASES:
        spec = dict(REFERENCE_CONFIGS[case])
        spec.setdefault("labs", _THREE_LABS)
        spec.setdefault("ideas", 40)
        assert_matches_reference(_config(difficulty="beta(alpha=0.6, beta=1.5)", periods=6,
                                         **spec), seed=21, replicates=3)
    # A near-point difficulty: the prior is so tight that keys tie over many failures.
    assert_matches_reference(_config(ideas=30, difficulty="point(p=0.15)", periods=3,
                                     labs=_THREE_LABS, sharing=0.5), seed=4, replicates=2)


# The window's sort against NumPy's stable sort, on keys that reach every path: spread keys
# in many coarse buckets, crowded ones (a few values, ties kept in listing order), keys a few
# ulps apart near zero, bounds looser than the keys, all keys equal.
@pytest.mark.parametrize("case", ["spread", "crowded", "ulps", "loose", "equal"])
@pytest.mark.parametrize("run", [1, 3, 16, 256])
def test_the_window_sort_is_numpys_stable_sort(case, run):
    from collections import namedtuple

    from simsearch.kernels.labs import _window_sort
    from simsearch.labs.engine import _kernel_arguments

    rng = np.random.default_rng([run, len(case)])
    w = 3000
    keys = {"spread": rng.normal(size=w),
            "crowded": rng.choice([-1.0, 0.5, 0.5 + 1e-12, 2.0], size=w),
            "ulps": np.nextafter(0.0, 1.0) * rng.integers(0, 9, size=w),
            "loose": rng.random(w),
            "equal": np.full(w, 0.25)}[case]
    kmin, kmax = keys.min(), keys.max()
    if case == "loose":
        kmin, kmax = kmin - 3.0, kmax + 0.5
    attempts = 2 * rng.permutation(w) + (rng.random(w) < 0.1)
    Window = namedtuple("Window", ["wkey", "wattempt"])
    ideas = Window(np.concatenate([keys, [9.0]])[None].copy(),
                   np.concatenate([attempts, [-7]])[None].copy())
    config = labs_config({"pool": {"ideas": 10, "difficulty": "beta(alpha=1, beta=1)"},
                          "lab": [{"budget": 10}]})
    pool = _kernel_arguments(config)[1]
    _window_sort(0, w, kmin, kmax, pool._replace(window_sort_run=run), ideas)
    order = np.argsort(keys, kind="stable")
    np.testing.assert_array_equal(ideas.wkey[0, :w], keys[order])
    np.testing.assert_array_equal(ideas.wattempt[0, :w], attempts[order])
    assert ideas.wkey[0, w] == 9.0 and ideas.wattempt[0, w] == -7  # past w: untouched


def test_kortum_best_value_grows_as_a_power_of_ideas_tried():
    """Best of K Pareto(theta) values: E[log max] = H_K / theta exactly, so log A grows as
    (1/theta) log K."""
    theta, budget, reps = 1.5, 100.0, 400
    config = _config(ideas="inf", difficulty="point(p=1)", periods=30, seed=5,
                     pool={"value": f"pareto(alpha={theta})", "combine": "max"},
                     labs=[{"name": "a", "budget": budget}])
    per = simulate_labs(config, replicates=reps, record_wins=False).periods
    tried = per["ideas_tried"][:, 0, :]
    np.testing.assert_array_equal(tried, np.broadcast_to(budget * np.arange(1, 31), tried.shape))
    log_a = per["log_multiplier"][:, 0, :]
    k = tried[0]
    harmonic = special.digamma(k + 1) + np.euler_gamma
    var_max = special.polygamma(1, 1) - special.polygamma(1, k + 1)  # Var of a max of k Exp(1)
    z = (log_a.mean(0) - harmonic / theta) / (np.sqrt(var_max / reps) / theta)
    assert np.all(np.abs(z) < Z_TOL), z
    slope = np.polyfit(np.log(k), log_a.mean(0), 1)[0]
    exact_slope = np.polyfit(np.log(k), harmonic / theta, 1)[0]
    assert abs(exact_slope - 1.0 / theta) < 0.01
    assert abs(slope - exact_slope) < 0.03


def test_stream_with_patience_wins_with_the_right_probability():
    p, m = 0.1, 3
    config = _config(ideas="inf", difficulty=f"point(p={p})", periods=10,
                     labs=[{"name": "a", "budget": 1000.0, "policy": f"patience(m={m})"}])
    per = simulate_labs(config, replicates=50, record_wins=False).periods
    tried, won = per["ideas_tried"][:, 0, -1].sum(), per["wins"][:, 0, -1].sum()
    q = 1.0 - (1.0 - p) ** m
    assert abs(won / tried - q) < Z_TOL * math.sqrt(q * (1 - q) / tried)
    # Ideas that fail use m attempts each, winners T | T <= m: the compute adds up.
    assert np.all(per["cumulative_compute"][:, 0, -1] <= 10_000.0)


@pytest.mark.parametrize("spec,sampler", [
    ("pareto(alpha=2.5)", stats.expon(scale=1 / 2.5)),
    ("lognormal(mu=0.1, sigma=0.3)", stats.norm(0.1, 0.3)),
])
def test_idea_values_follow_their_distribution(spec, sampler):
    config = _config(ideas="inf", difficulty="point(p=1)", pool={"value": spec},
                     labs=[{"name": "a", "budget": 5000.0}])
    log_values = simulate_labs(config, replicates=4).wins["log_value"]
    assert log_values.size == 20_000
    assert stats.kstest(log_values, sampler.cdf).pvalue > P_MIN


def test_budgets_are_spent_to_the_last_unit_and_never_overspent():
    config = _config(
        ideas=3000, difficulty="beta(alpha=0.4, beta=3)", periods=12, sharing=0.5,
        pool={"value": "lognormal(mu=0.05, sigma=0.1)", "replenish": 0.5},
        labs=[{"name": "big", "budget": 400.0, "growth": 0.2,
               "cost": {"base": 1.3, "elasticity": 0.5}},
              {"name": "small", "budget": 100.7, "policy": "patience(m=4)"},
              {"name": "greedy", "budget": 150.0, "policy": "greedy", "cost": 1.5}])
    result = simulate_labs(config, replicates=60)
    per = result.periods
    budgets = result.budgets()[None]
    # What is left after a period's last whole attempt is spent on the next one (issue 19.1):
    # every lab still has ideas, so each period spends exactly its budget.
    assert result.periods["pool_remaining"].min() > 0
    np.testing.assert_allclose(per["compute"], np.broadcast_to(budgets, per["compute"].shape),
                               rtol=1e-9)
    np.testing.assert_allclose(np.cumsum(per["compute"], axis=2), per["cumulative_compute"],
                               rtol=1e-12)
    # Each win's compute is within its lab's cumulative budget.
    w = result.wins
    assert np.all(w["compute"] <= np.cumsum(result.budgets(), axis=1)[w["lab"], -1])


def test_sharing_one_makes_every_pool_identical_and_zero_keeps_them_apart():
    labs = [{"name": "a", "budget": 300.0, "growth": 0.2},
            {"name": "b", "budget": 100.0, "policy": "patience(m=4)"},
            {"name": "c", "budget": 150.0, "policy": "greedy"}]
    common = dict(ideas=500, difficulty="beta(alpha=0.4, beta=3)", periods=10, labs=labs,
                  pool={"value": "lognormal(mu=0.05, sigma=0.1)", "replenish": 0.5})
    shared = simulate_labs(_config(sharing=1.0, **common), replicates=40)
    per = shared.periods
    assert np.all(per["pool_remaining"] == per["pool_remaining"][:, :1, :])
    assert np.all(per["log_multiplier"] == per["log_multiplier"][:, :1, :])
    assert shared.wins["published"].all()
    for r in range(40):
        ideas = shared.wins["idea"][shared.wins["replicate"] == r]
        assert len(np.unique(ideas)) == len(ideas)  # nobody finds a published idea again

    private = simulate_labs(_config(sharing=0.0, **common), replicates=40)
    assert not private.wins["published"].any()
    assert np.any(private.periods["pool_remaining"] != private.periods["pool_remaining"][:, :1])
    duplicates = sum(len(ids) - len(np.unique(ids)) for ids in
                     (private.wins["idea"][private.wins["replicate"] == r] for r in range(40)))
    assert duplicates > 0  # labs rediscover each other's private wins


def test_replenishment_adds_ideas_at_the_given_rate():
    config = _config(ideas=1000, difficulty="beta(alpha=0.5, beta=2)", periods=5,
                     pool={"replenish": 0.5}, labs=[{"name": "a", "budget": 3000.0}])
    per = simulate_labs(config, replicates=100).periods
    wins, pool = per["wins"][:, 0, -1], per["pool_remaining"][:, 0, -1]
    added = pool + wins - 1000
    # Each win adds one idea with probability 1/2: Binomial(wins, 1/2) in total.
    se = math.sqrt(0.25 * wins.sum())
    assert abs(added.sum() - 0.5 * wins.sum()) < Z_TOL * se
    one_for_one = _config(ideas=1000, periods=5, pool={"replenish": 1.0},
                          labs=[{"name": "a", "budget": 3000.0}])
    assert np.all(simulate_labs(one_for_one, replicates=5).periods["pool_remaining"] == 1000)


def test_a_pool_without_max_ideas_grows_and_never_drops():
    """Two new ideas per win: the pool holds the initial ideas plus two per win, far beyond
    the first buffers, and nothing is dropped."""
    config = _config(ideas=50, difficulty="beta(alpha=2, beta=2)", periods=4,
                     pool={"replenish": 2.0},
                     labs=[{"name": "a", "budget": 500.0},
                           {"name": "b", "budget": 300.0, "policy": "greedy"}])
    result = simulate_labs(config, replicates=4)
    per = result.periods
    assert np.all(result.dropped == 0)
    np.testing.assert_array_equal(per["pool_remaining"], 50 + per["wins"])
    assert per["pool_remaining"].max() > 500


def test_a_full_pool_drops_new_ideas_and_counts_them():
    config = _config(ideas=100, periods=3, pool={"replenish": 2.0, "max_ideas": 150},
                     labs=[{"name": "a", "budget": 2000.0}])
    result = simulate_labs(config, replicates=5)
    assert np.all(result.dropped > 0)
    assert np.all(result.periods["pool_remaining"][:, 0, -1] + result.periods["wins"][:, 0, -1]
                  <= 150)


def test_same_seed_same_results_whatever_the_threads_and_batches(two_threads):
    config = _config(ideas=300, difficulty="beta(alpha=0.4, beta=3)", periods=8, sharing=0.5,
                     pool={"value": "lognormal(mu=0.05, sigma=0.1)", "replenish": 0.3},
                     labs=[{"name": "a", "budget": 200.0, "growth": 0.1},
                           {"name": "b", "budget": 100.0, "policy": "greedy"}])
    two_threads.set_num_threads(1)
    one = simulate_labs(config, replicates=300, seed=9)
    two_threads.set_num_threads(2)
    two = simulate_labs(config, replicates=300, seed=9)
    for name in one.wins:
        np.testing.assert_array_equal(one.wins[name], two.wins[name])
    for name in one.periods:
        np.testing.assert_array_equal(one.periods[name], two.periods[name])
    # Replicate r depends on the seed and r only, not on how many replicates ran.
    few = simulate_labs(config, replicates=3, seed=9)
    np.testing.assert_array_equal(few.periods["log_multiplier"],
                                  one.periods["log_multiplier"][:3])
    other = simulate_labs(config, replicates=3, seed=10)
    assert not np.array_equal(other.periods["log_multiplier"], few.periods["log_multiplier"])


def test_more_wins_than_the_first_buffer_holds_are_all_recorded(monkeypatch):
    # The first buffers hold the wins estimated, at least 4,096: with the estimate made far
    # too low, the batch is run again with room for all 6,000.
    from simsearch.labs import engine

    check = engine.check_labs_work
    monkeypatch.setattr(engine, "check_labs_work",
                        lambda *args, **kw: dataclasses.replace(check(*args, **kw), wins=1.0))
    runs = []
    batch = engine._run_batch
    monkeypatch.setattr(engine, "_run_batch",
                        lambda *args, **kw: runs.append(args[4]) or batch(*args, **kw))
    config = _config(ideas="inf", difficulty="point(p=1)", periods=2,
                     labs=[{"name": "a", "budget": 3000.0}])
    result = simulate_labs(config, replicates=2)
    assert runs == [4096, 7516]
    assert result.n_wins.tolist() == [6000, 6000]
    assert np.array_equal(result.wins["win"][:6000], np.arange(1, 6001))
    assert result.wins["compute"][5999] == 6000.0


def test_a_replicate_with_many_wins_runs_once():
    # 6,000 wins estimated: the first buffers hold them all (they were 4,096 rows, and every
    # replicate with more wins ran twice).
    from simsearch.labs import engine

    config = _config(ideas="inf", difficulty="point(p=1)", periods=2,
                     labs=[{"name": "a", "budget": 3000.0}])
    runs = []
    batch = engine._run_batch
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "_run_batch",
                   lambda *args, **kw: runs.append(args[4]) or batch(*args, **kw))
        result = simulate_labs(config, replicates=2)
    assert result.n_wins.tolist() == [6000, 6000]
    assert len(runs) == 1 and runs[0] >= 6000


def test_result_tables_are_tidy():
    config = _config(periods=3, loss={"training_flop": 1e23},
                     pool={"value": "fixed(v=1.1)"},
                     labs=[{"name": "a", "budget": 100.0}, {"name": "b", "budget": 50.0}])
    result = simulate_labs(config, replicates=2)
    wins, summary, periods = (result.wins_table(), result.summary_table(),
                              result.periods_table())
    assert {"replicate", "lab", "win", "compute", "p", "value", "multiplier",
            "loss"} <= set(wins)
    assert len(summary["lab"]) == 4 and len(periods["period"]) == 12
    assert set(wins["lab"]) == {"a", "b"}
    np.testing.assert_allclose(wins["value"], 1.1)
    lab_a = (wins["replicate"] == 0) & (wins["lab"] == "a")
    np.testing.assert_allclose(wins["multiplier"][lab_a], 1.1 ** wins["win"][lab_a])
    np.testing.assert_allclose(summary["multiplier"], 1.1 ** summary["wins"])
    loss = config.loss
    assert np.all(np.diff(wins["loss"][lab_a]) < 0)
    np.testing.assert_allclose(periods["loss"], loss.optimal_loss(1e23 * periods["multiplier"]))


@pytest.mark.parametrize("doc_patch,message", [
    ({"pool": None}, "pool"),
    ({"pool": {"difficulty": "beta(alpha=1, beta=1)"}}, "pool.ideas"),
    ({"pool": {"ideas": 0, "difficulty": "beta(alpha=1, beta=1)"}}, "pool.ideas"),
    # "inf" is the one way to say endless.
    ({"pool": {"ideas": float("inf"), "difficulty": "point(p=0.5)"}}, "pool.ideas: an integer"),
    ({"pool": {"ideas": -1, "difficulty": "point(p=0.5)"}}, "pool.ideas: an integer"),
    ({"pool": {"ideas": "infinite", "difficulty": "point(p=0.5)"}}, '"inf" for an endless'),
    ({"pool": {"ideas": "inf", "difficulty": "point(p=0.5)", "max_ideas": 10}},
     "pool.max_ideas: needs a finite pool"),
    ({"pool": {"ideas": 10, "difficulty": "point(p=0.5)", "max_ideas": 5}},
     "pool.max_ideas: must be >= pool.ideas"),
    ({"pool": {"ideas": 10}}, "pool.difficulty"),
    ({"pool": {"ideas": 10, "difficulty": "beta(alpha=-1, beta=1)"}}, "pool.difficulty"),
    ({"pool": {"ideas": 10, "difficulty": "point(p=0.5)", "value": "pareto(alpha=0)"}},
     "pareto"),
    ({"pool": {"ideas": 10, "difficulty": "point(p=0.5)", "value": "zipf(a=2)"}},
     "pool.value"),
    ({"pool": {"ideas": 10, "difficulty": "point(p=0.5)", "colour": 1}}, "colour"),
    ({"pool": {"ideas": "inf", "difficulty": "point(p=0.5)", "replenish": 1}},
     "pool.replenish"),
    ({"pool": {"ideas": 10, "difficulty": "point(p=0.5)", "combine": "sum"}}, "pool.combine"),
    ({"lab": []}, "lab"),
    ({"lab": [{"name": "a"}]}, "lab[0].budget"),
    ({"lab": [{"name": "a", "budget": -1}]}, "lab[0].budget"),
    ({"lab": [{"name": "a", "budget": float("nan")}]}, "lab[0].budget"),
    ({"lab": [{"name": "a", "budget": 1, "policy": "lucky"}]}, "lab[0].policy"),
    ({"lab": [{"name": "a", "budget": 1, "policy": "patience(m=0)"}]}, "lab[0].policy"),
    ({"lab": [{"name": "a", "budget": 1, "growth": -1}]}, "lab[0].growth"),
    ({"lab": [{"name": "a", "budget": 1, "cost": 0}]}, "lab[0].cost"),
    ({"lab": [{"name": "a", "budget": 1, "cost": {"base": 1, "slope": 1}}]}, "lab[0].cost"),
    ({"lab": [{"name": "a", "budget": 1}, {"name": "a", "budget": 2}]}, "lab.name"),
    ({"sharing": 1.5}, "sharing"),
    ({"periods": 0}, "periods"),
    ({"replicates": 2.5}, "replicates"),
    ({"loss": {"alpha": -1}}, "loss.alpha"),
    ({"loss": {"gamma": 1}}, "loss"),
    ({"speed": 3}, "speed"),
])
def test_bad_configs_name_the_key(doc_patch, message):
    doc = {"seed": 1, "pool": {"ideas": 10, "difficulty": "point(p=0.5)"},
           "lab": [{"name": "a", "budget": 10.0}]}
    doc.update(doc_patch)
    if doc.get("pool") is None:
        del doc["pool"]
    with pytest.raises(SimsearchError) as err:
        labs_config(doc)
    text = str(err.value)
    assert message in text and "\n" not in text


def test_greedy_needs_a_finite_pool():
    with pytest.raises(SimsearchError, match="greedy"):
        _config(ideas="inf", difficulty="point(p=0.5)",
                labs=[{"name": "a", "budget": 1.0, "policy": "greedy"}])


def test_example_configs_load(tmp_path):
    from pathlib import Path

    configs = sorted((Path(__file__).parent.parent / "experiments" / "configs").glob("*.toml"))
    assert len(configs) >= 3
    for path in configs:
        config = load_labs_config(path)
        assert config.as_dict()["pool"]["difficulty"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[pool\nideas = 3")
    with pytest.raises(SimsearchError, match="not valid TOML"):
        load_labs_config(bad)
    with pytest.raises(SimsearchError, match="not found"):
        load_labs_config(tmp_path / "missing.toml")


@pytest.mark.parametrize("law,exponent", [
    (ChinchillaLoss(), 0.154),
    (ChinchillaLoss(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658), 0.178),
])
def test_chinchilla_optimum_matches_a_numerical_minimum(law, exponent):
    assert abs(law.compute_exponent - exponent) < 5e-4
    for flop in (1e20, 1e23, 1e26):
        def loss_at(log_n):
            n = math.exp(log_n)
            return law.E + law.A / n ** law.alpha + law.B / (flop / (6 * n)) ** law.beta
        best = optimize.minimize_scalar(loss_at, bounds=(0, math.log(flop)), method="bounded",
                                        options={"xatol": 1e-10})
        assert abs(float(law.optimal_loss(flop)) - best.fun) < 1e-9
    # Reducible loss falls as a power of compute with the stated exponent.
    flops = np.array([1e22, 1e25])
    reducible = law.optimal_loss(flops) - law.E
    slope = np.diff(np.log(reducible)) / np.diff(np.log(flops))
    np.testing.assert_allclose(-slope, law.compute_exponent, rtol=1e-12)


@pytest.fixture
def ctrl_c():
    """Python's own Ctrl-C handler for the test. A process that a shell starts in the
    background (``nohup``, ``&``) inherits SIGINT ignored, and Python then installs no handler,
    so ``interrupt_main`` would do nothing and an interrupted run would go on for hours."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_keeps_the_replicates_finished_before_it(ctrl_c):
    """Ctrl-C (here interrupt_main from a timer) stops the run within a fraction of a second;
    the replicates finished by then are exactly a shorter run's."""
    import _thread
    import threading
    import time

    from simsearch.labs import LabsInterrupted

    config = _config(ideas=20_000, difficulty="beta(alpha=0.3, beta=3)", periods=4,
                     labs=[{"name": "a", "budget": 2e5}, {"name": "b", "budget": 1e5,
                                                          "policy": "patience(m=3)"}])
    simulate_labs(config, replicates=1)  # load the kernels
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    began = time.perf_counter()
    with pytest.raises(LabsInterrupted) as stopped:
        # Far more work than the default limit allows (the point is a run to interrupt).
        simulate_labs(config, replicates=100_000, seed=3, record_wins=False, max_events=1e12)
    waited = time.perf_counter() - began
    timer.join()
    assert waited < 1.5 + 1.0, "Ctrl-C should act within a second"
    partial = stopped.value.result
    assert partial is not None and 0 < partial.replicates < 100_000
    again = simulate_labs(config, replicates=partial.replicates, seed=3, record_wins=False)
    for name in again.periods:
        np.testing.assert_array_equal(partial.periods[name], again.periods[name])
    np.testing.assert_array_equal(partial.n_wins, again.n_wins)


def test_recording_too_many_wins_is_refused_with_an_estimate(monkeypatch):
    from simsearch.labs import engine

    monkeypatch.setattr(engine, "MAX_WIN_ROWS", 50_000)
    config = _config(ideas="inf", difficulty="point(p=1)", labs=[{"name": "a", "budget": 1e4}])
    with pytest.raises(SimsearchError, match=r"wins: recording every win needs about 1e\+05 "
                                             r"rows .*--no-wins"):
        simulate_labs(config, replicates=10)
    assert simulate_labs(config, replicates=10, record_wins=False).n_wins.sum() == 100_000
