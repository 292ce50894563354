"""The sampling planner: allocations, the preposterior error, the exact replay, the CLI."""

import json

import numpy as np
import pytest
from scipy import special

from simsearch import Beta, simulate_counts
from simsearch.cli import main
from simsearch.fitting.methods import FittedMethod
from simsearch.fitting.planner import (STRATEGIES, Replay, _State, allocate, caps_for,
                                       conditional_pass_at_k, forecast, plan, plan_groups,
                                       round_budgets)
from simsearch.io.output import manifest_path


def beta_method(a: float, b: float) -> FittedMethod:
    """The exact pass@k of a Beta(a, b) population, as a fitted method."""
    def predict(k):
        return 1.0 - np.exp(special.betaln(a, b + k) - special.betaln(a, b))
    return FittedMethod("exact-beta", 0.0, None, {}, predict)


def counts(seed, problems=60, attempts=100):
    sim = simulate_counts(Beta(0.3, 4.0), problems, attempts, seed=seed)
    return np.asarray(sim.successes), np.asarray(sim.attempts)


@pytest.mark.parametrize("seed", range(6))
def test_allocations_sum_to_the_budget_and_respect_caps(seed):
    rng = np.random.default_rng(seed)
    c, n = counts(seed, problems=int(rng.integers(5, 60)))
    n = n + rng.integers(0, 50, n.size)  # unequal n_i
    k = int(rng.choice([150, 1000, 10_000]))
    cap = [None, int(rng.integers(1, 200))][seed % 2]
    room = caps_for(n, k, cap)
    state = _State(beta_method(0.3, 4.0), [])
    for budget in (0, 7, int(rng.integers(1, 5000)), int(room.sum()) + 100):
        for strategy in STRATEGIES:
            alloc = allocate(strategy, state, c, n, budget, k, room)
            assert alloc.dtype.kind == "i"
            assert alloc.sum() == min(budget, room.sum())
            assert np.all((alloc >= 0) & (alloc <= room))


def test_planned_allocation_skips_solved_problems():
    c, n = counts(1)
    state = _State(beta_method(0.3, 4.0), [])
    alloc = allocate("planned", state, c, n, 20 * c.size, 10_000, caps_for(n, 10_000))
    assert alloc[c > 0].sum() == 0 and alloc[c == 0].sum() == 20 * c.size


def test_round_budgets_split_evenly():
    assert round_budgets(10, 3) == [4, 3, 3]
    assert sum(round_budgets(12_801, 4)) == 12_801


def test_process_error_matches_monte_carlo():
    # Problems unsolved after n attempts, drawn from the population the forecast assumes: the
    # realised error of the conditional pass@K after the plan has the forecast variance.
    a, b, n0, k, problems = 0.4, 3.0, 100, 2000, 40
    fitted = beta_method(a, b)
    c = np.zeros(problems, dtype=np.int64)
    n = np.full(problems, n0)
    extra = np.arange(problems) * 10  # 0 .. 390 more attempts
    promised = forecast(_State(fitted, []), c, n, extra, k)
    rng = np.random.default_rng(7)
    reps = 4000
    p = rng.beta(a, b + n0, size=(reps, problems))  # posterior of p given 0 of n0
    solved_extra = rng.random((reps, problems)) < 1 - (1 - p) ** extra
    solved_k = solved_extra | (rng.random((reps, problems)) < 1 - (1 - p) ** (k - n0 - extra))
    pi = conditional_pass_at_k(fitted, np.zeros(problems), n + extra, k)
    predicted = np.where(solved_extra, 1.0, pi).mean(axis=1)
    error = predicted - solved_k.mean(axis=1)
    assert abs(error.mean()) < 5 * error.std() / np.sqrt(reps)  # unbiased
    # Variance of a sample variance: sd * sqrt(2 / reps) for a near-normal error.
    assert abs(error.var() / promised.process_sd**2 - 1) < 5 * np.sqrt(2 / reps)
    assert promised.model_sd == 0.0


def test_conditional_pass_at_k_counts_each_kind_of_problem_by_its_own_rule():
    # Solved below K: 1. Unsolved below K: 1 - S(K)/S(n). At or beyond K (solved or not): its
    # unbiased pass@K from the counts, whatever the fit says.
    fitted = beta_method(0.3, 3.0)
    c = np.array([2, 0, 0, 0, 3, 40])
    n = np.array([50, 50, 500, 1000, 1000, 5000])
    k = 1000
    got = conditional_pass_at_k(fitted, c, n, k)
    survival = 1.0 - fitted.predict_pass_at_k(np.array([50.0, 500.0, 1000.0]))
    assert got[0] == 1.0
    np.testing.assert_allclose(got[1:3], 1.0 - survival[2] / survival[:2], rtol=1e-12)
    assert got[3] == 0.0 and got[4] == 1.0  # n = K: the record at K is the answer
    # 40 successes in 5,000: 1 - C(4960, 1000) / C(5000, 1000), exactly.
    exact = -np.expm1(special.gammaln(4961) - special.gammaln(3961) - special.gammaln(5001)
                      + special.gammaln(4001))
    assert got[5] == pytest.approx(exact, rel=1e-12)


def test_replay_is_exact():
    rng = np.random.default_rng(3)
    good = rng.integers(0, 50, 30)
    total = np.full(30, 200)
    replay = Replay(good, total, np.random.default_rng(0))
    drawn = sum(replay.draw(rng.integers(0, 40, 30)) for _ in range(3))
    rest = replay.draw(replay.good + replay.bad)  # every remaining attempt
    assert np.array_equal(drawn + rest, good)  # the record, exactly
    assert np.all(replay.good == 0) and np.all(replay.bad == 0)
    with pytest.raises(Exception, match="replay"):
        replay.draw(np.ones(30, dtype=np.int64))


def test_replay_in_two_steps_is_the_hypergeometric_law():
    # 40 then 60 attempts from a record of 30 successes in 200: successes among all 100 are
    # hypergeometric(30, 170, 100), mean 15, variance 15 * (170/200) * (100/199).
    reps = 20_000
    replay = Replay(np.full(reps, 30), np.full(reps, 200), np.random.default_rng(11))
    got = replay.draw(np.full(reps, 40)) + replay.draw(np.full(reps, 60))
    var = 15 * 170 / 200 * 100 / 199
    assert abs(got.mean() - 15) < 5 * np.sqrt(var / reps)
    assert abs(got.var() / var - 1) < 5 * np.sqrt(2 / reps)


def test_sequential_plan_with_one_round_equals_the_one_shot_plan():
    c, n = counts(4)
    replay = Replay(c + 5, n + 5000, np.random.default_rng(0))
    one_shot = plan(c, n, 3000, 10_000, replicates=0)
    sequential = plan(c, n, 3000, 10_000, rounds=1, outcomes=replay.draw, replicates=0)
    assert np.array_equal(one_shot.allocation, sequential.allocation)
    assert one_shot.expected_error == sequential.expected_error
    assert one_shot.uniform_error == sequential.uniform_error


def test_sequential_plan_spends_the_budget_over_rounds():
    c, n = counts(5)
    full_c = c + np.random.default_rng(0).integers(0, 3, c.size)
    replay = Replay(full_c, n + 10_000, np.random.default_rng(1))
    result = plan(c, n, 4000, 10_000, rounds=3, outcomes=replay.draw, replicates=0)
    assert [int(r.sum()) for r in result.rounds] == round_budgets(4000, 3)
    assert result.allocation.sum() == 4000 and result.final_predicted is not None
    first = plan(c, n, 4000, 10_000, rounds=3, replicates=0)  # no outcomes: first batch only
    assert first.allocation.sum() == round_budgets(4000, 3)[0]


def test_plan_promises_no_more_error_than_uniform():
    c, n = counts(6)
    result = plan(c, n, 50 * c.size, 10_000, replicates=20, seed=1)
    assert result.expected_error.sd <= result.uniform_error.sd * (1 + 1e-12)
    assert result.uniform_attempts_to_match is None or \
        result.uniform_attempts_to_match >= 50 * c.size - c.size // 4
    # Nothing to match: no budget, or a cap of 0, is matched by no uniform attempt at all.
    assert plan(c, n, 0, 10_000, replicates=0).uniform_attempts_to_match == 0
    assert plan(c, n, 500, 10_000, cap=0, replicates=0).uniform_attempts_to_match == 0


def test_a_plan_over_groups_gives_each_its_uniform_share():
    # Three models on their own problems: "solved" has every problem solved (nothing to buy),
    # "easy" and "hard" leave some open. Each open group gets the uniform share of the budget
    # over the open groups' problems, planned within it; every cap holds.
    c_easy, n_easy = counts(10, problems=40)
    c_hard, n_hard = counts(11, problems=25, attempts=30)
    groups = {"solved": (np.full(20, 3), np.full(20, 100)), "easy": (c_easy, n_easy),
              "hard": (c_hard, n_hard)}
    result = plan_groups(groups, 1300, 10_000, cap=90, replicates=10, seed=2)
    assert result.allocation["solved"].sum() == 0
    assert result.allocation["easy"].sum() == 800 and result.allocation["hard"].sum() == 500
    for name, (c, n) in groups.items():
        alloc = result.allocation[name]
        assert alloc.shape == c.shape and np.all((alloc >= 0) & (alloc <= 90))
        assert alloc[np.asarray(c) > 0].sum() == 0  # solved problems gain nothing
    for name in ("easy", "hard"):
        assert result.expected_error[name].sd <= result.uniform_error[name].sd * (1 + 1e-12)
    # What the open groups cannot take goes to the others: 65 problems x 90 is the room.
    more = plan_groups(groups, 65 * 90 + 40, 10_000, cap=90, replicates=0)
    assert more.allocation["solved"].sum() == 40
    # One group alone is plan().
    alone = plan(c_easy, n_easy, 1000, 10_000, cap=90, replicates=10, seed=2)
    single = plan_groups({"easy": (c_easy, n_easy)}, 1000, 10_000, cap=90, replicates=10,
                         seed=2)
    assert np.array_equal(alone.allocation, single.allocation["easy"])
    assert alone.expected_error == single.expected_error["easy"]


def test_a_sequential_plan_over_groups_spends_each_round_and_refits():
    groups = {"a": counts(12, problems=30), "b": counts(13, problems=20)}
    replays = {g: Replay(c + 1, n + 10_000, np.random.default_rng(i))
               for i, (g, (c, n)) in enumerate(groups.items())}
    result = plan_groups(groups, 2400, 10_000, rounds=3, replicates=0,
                         outcomes=lambda extra: {g: replays[g].draw(m) for g, m in extra.items()})
    assert [sum(int(a.sum()) for a in r.values()) for r in result.rounds] == \
        round_budgets(2400, 3)
    assert set(result.final_predicted) == {"a", "b"} and set(result.final_population) == {"a", "b"}
    with pytest.raises(Exception, match="outcomes: must return a dict"):
        plan_groups(groups, 100, 10_000, replicates=0, outcomes=lambda extra: [0])


def write_counts(path, c, n):
    path.write_text("problem,successes,attempts\n"
                    + "".join(f"q{i},{a},{b}\n" for i, (a, b) in enumerate(zip(c, n))))


def test_cli_json_contract_and_csv(tmp_path, capsys):
    c, n = counts(8, problems=30)
    src = tmp_path / "counts.csv"
    write_counts(src, c, n)
    out = tmp_path / "plan.csv"
    assert main(["plan", str(src), "--budget", "900", "--predict", "10000", "--json",
                 "--bootstrap", "0", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["allocation"]) == [f"q{i}" for i in range(30)]
    assert sum(report["allocation"].values()) == 900
    for key in ("expected_error", "uniform_error"):
        assert {"sd", "mean_abs", "process_sd", "model_sd"} <= set(report[key])
    lines = out.read_text().splitlines()
    assert lines[0] == "problem,attempts" and len(lines) == 31
    assert {ln.split(",")[0]: int(ln.split(",")[1]) for ln in lines[1:]} == report["allocation"]
    assert json.loads(manifest_path(out).read_text())["command"] == "plan"


def test_cli_strategy_chooses_the_allocation_and_is_recorded(tmp_path, capsys):
    c, n = counts(16, problems=30)
    write_counts(tmp_path / "c.csv", c, n)
    args = ["plan", str(tmp_path / "c.csv"), "--budget", "300", "--predict", "10000",
            "--bootstrap", "0", "--json"]
    assert main(args + ["--strategy", "uniform"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["allocation"].values()) == {10}
    assert report["manifest"]["config"]["strategy"] == "uniform"
    assert main(args + ["--strategy", "nosuch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "strategy: unknown 'nosuch'; expected one of planned" in err[0]


def test_cli_by_plans_every_group_at_once(tmp_path, capsys):
    src = tmp_path / "counts.csv"
    rows = ["problem,successes,attempts,model"]
    for model, seed in (("small", 14), ("large", 15)):
        c, n = counts(seed, problems=12)
        rows += [f"q{i},{a},{b},{model}" for i, (a, b) in enumerate(zip(c, n))]
    src.write_text("\n".join(rows) + "\n")
    out = tmp_path / "plan.csv"
    assert main(["plan", str(src), "--by", "model", "--budget", "600", "--predict", "10000",
                 "--json", "--bootstrap", "0", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["by"] == "model" and list(report["allocation"]) == ["small", "large"]
    assert list(report["allocation"]["small"]) == [f"q{i}" for i in range(12)]
    assert sum(sum(v.values()) for v in report["allocation"].values()) == 600
    assert set(report["expected_error"]) == set(report["predicted"]) == {"small", "large"}
    import pandas as pd
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["model", "problem", "attempts"] and len(frame) == 24
    assert {(m, p): a for m, p, a in frame.itertuples(index=False)} == {
        (m, p): a for m, alloc in report["allocation"].items() for p, a in alloc.items()}
    # A problem listed twice within one group is refused; without --by, the hint names it.
    src.write_text("\n".join(rows + ["q0,1,100,small"]) + "\n")
    assert main(["plan", str(src), "--by", "model", "--budget", "600", "--predict",
                 "10000"]) == 2
    assert "problem: each problem must appear once per model (repeated in 'small')" in \
        capsys.readouterr().err
    assert main(["plan", str(src), "--budget", "600", "--predict", "10000"]) == 2
    assert "--by COLUMN" in capsys.readouterr().err


@pytest.mark.parametrize("argv, field", [(["--budget", "-5", "--predict", "100"], "budget"),
                                         (["--budget", "5", "--predict", "1"], "predict"),
                                         (["--budget", "5", "--predict", "100", "--rounds",
                                           "0"], "rounds")])
def test_cli_bad_input(tmp_path, capsys, argv, field):
    src = tmp_path / "counts.csv"
    write_counts(src, *counts(9, problems=10))
    out = tmp_path / "plan.csv"
    assert main(["plan", str(src), *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"simsearch plan: error: {field}:") and "\n" not in err
    assert not out.exists()


def test_first_success_law_is_the_random_order_law():
    # s = 3 successes among b = 20 attempts in random order: compare with permutations.
    from simsearch.fitting.planner import first_success_law
    law = first_success_law(3, 20)
    assert law.size == 20 and abs(law.sum() - 1) < 1e-12 and np.all(law[18:] == 0)
    assert abs(law[0] - 3 / 20) < 1e-12  # the first attempt succeeds with probability s / b
    reps = 20_000
    rng = np.random.default_rng(5)
    first = np.array([np.flatnonzero(rng.permutation(20) < 3)[0] + 1 for _ in range(reps)])
    for j in (1, 3, 6, 10):
        expected = law[j:].sum()  # P(first > j)
        assert abs(np.mean(first > j) - expected) < 5 * np.sqrt(expected * (1 - expected) / reps)


def test_plan_reads_a_batch_design_as_fit_does():
    # Batches of 8 until the first success (an attack), cap 800: plan's fit must read the
    # counts as fit does (successes in each solved problem's last batch), not as exchangeable.
    from simsearch.fitting.counts import CountTable
    from simsearch.fitting.curve import detect_design
    from simsearch.fitting.methods import DEFAULT_METHOD, get_method

    rng = np.random.default_rng(5)
    p = rng.beta(0.3, 30.0, 80)
    first = rng.geometric(p)
    solved = first <= 800
    n = np.where(solved, 8 * -(-first // 8), 800)
    c = np.where(solved, 1 + rng.binomial(np.maximum(n - first, 0), p), 0)
    assert detect_design(c, n) == "batch:8"
    result = plan(c, n, 2000, 5000, replicates=0)
    fitted = get_method(DEFAULT_METHOD).fit(CountTable.from_counts(c, n))
    expected = float(np.mean(conditional_pass_at_k(fitted, c, n, 5000)))
    assert result.predicted == pytest.approx(expected, rel=1e-12)


def test_cli_by_leaves_out_a_group_it_cannot_fit_and_plans_the_others(tmp_path, capsys):
    # A model with no success at all cannot be fitted: it is named, left out (no attempts),
    # and the budget goes to the others; only unfittable groups: one line naming one, exit 2.
    src = tmp_path / "counts.csv"
    rows = ["problem,successes,attempts,model"]
    c, n = counts(14, problems=12)
    rows += [f"q{i},{a},{b},small" for i, (a, b) in enumerate(zip(c, n))]
    rows += [f"q{i},0,100,tiny" for i in range(12)]
    src.write_text("\n".join(rows) + "\n")
    out = tmp_path / "plan.csv"
    argv = ["plan", str(src), "--by", "model", "--budget", "600", "--predict", "10000",
            "--bootstrap", "0"]
    assert main(argv + ["--json", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert list(report["allocation"]) == ["small"]
    assert sum(report["allocation"]["small"].values()) == 600
    assert "every problem has 0 successes" in report["not_planned"]["tiny"]
    assert captured.err.count("\n") == 1 and "model 'tiny' not planned" in captured.err
    import pandas as pd
    assert set(pd.read_csv(out)["model"]) == {"small"}
    assert main(argv) == 0
    assert "model = tiny: not planned: successes: every problem has 0 successes" in \
        capsys.readouterr().out
    src.write_text("\n".join(rows[:1] + rows[-12:]) + "\n")
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert not captured.out and captured.err.count("\n") == 1
    assert "model 'tiny': successes: every problem has 0 successes" in captured.err


def test_cli_says_when_no_problem_is_left_open_at_k(tmp_path, capsys):
    # A stop-after-success file planned at its own cap: every problem is solved or already
    # has K attempts, so pass@K is known; the plan says so rather than only promising 0.
    src = tmp_path / "counts.csv"
    write_counts(src, np.array([1, 0, 2, 0, 1]), np.array([8, 80, 16, 80, 40]))
    assert main(["plan", str(src), "--budget", "100", "--predict", "80", "--bootstrap",
                 "0"]) == 0
    out = capsys.readouterr().out
    assert "no problem is open at K = 80" in out
    write_counts(src, *counts(9, problems=10))
    assert main(["plan", str(src), "--budget", "100", "--predict", "1000", "--bootstrap",
                 "0"]) == 0
    assert "no problem is open" not in capsys.readouterr().out
