"""The labs sweep kind: a point is a direct simulate_labs run; statistics; backends; resume."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas
import pytest

import simsearch
from simsearch.cli import main
from test_sweep import kill_midway, run_on_every_backend
from simsearch.errors import SimsearchError
from simsearch.labs import ReturnsEstimator, labs_config, simulate_labs
from simsearch.sweep import SweepSummary, load_sweep, plan_sweep, point_config, run_sweep

LABS = """
kind = "labs"
seed = 9
replicates = {replicates}
statistics = {statistics}

[returns]
bootstrap = 30

[base]
periods = {periods}
sharing = 0.5
seed = 123          # replaced by each point's seed
replicates = 1000   # and by the sweep's replicates

[base.pool]
ideas = {ideas}
difficulty = "beta(alpha=0.4, beta=4)"
value = "lognormal(mu=0.001, sigma=0.001)"
replenish = 0.3

[[base.lab]]
name = "frontier"
budget = 300.0
growth = 0.3
policy = "patience(m=4)"

[[base.lab]]
name = "academic"
budget = 100.0

[axes]
"lab.frontier.budget" = {budgets}
sharing = [0.0, 0.5]
"""
STATISTICS = ["wins@end", "compute@2", "log_multiplier@end", "pool_remaining@3",
              "doubling_time@end", "time_to_multiplier@1.02", "r", "phi", "decline"]


def _sweep_file(tmp_path, replicates=3, periods=5, ideas=300, budgets="[200.0, 400.0]",
                statistics=STATISTICS, name="labs.toml"):
    path = tmp_path / name
    path.write_text(LABS.format(replicates=replicates, periods=periods, ideas=ideas,
                                budgets=budgets, statistics=json.dumps(statistics)))
    return path


def _csv(path):
    lines = Path(path).read_text().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


def test_a_point_is_a_direct_simulate_labs_run_with_its_seed(tmp_path):
    plan = load_sweep(_sweep_file(tmp_path))
    run_sweep(plan, tmp_path / "out", workers=1)
    rows, points = _csv(tmp_path / "out" / "results.csv"), _csv(tmp_path / "out" / "points.csv")
    assert len(rows) == 4 * 3 * 2 and len(points) == 4
    for i in (1, 3):
        seed = np.random.SeedSequence(plan.seed, spawn_key=(i,))
        config = labs_config(point_config(plan, plan.points[i]))
        direct = simulate_labs(config, replicates=3, seed=seed)
        per = direct.periods
        mine = [row for row in rows if row["point"] == str(i)]
        assert [(row["replicate"], row["lab"]) for row in mine] == [
            (str(r), lab) for r in range(3) for lab in ("frontier", "academic")]
        for row in mine:
            r, j = int(row["replicate"]), ["frontier", "academic"].index(row["lab"])
            assert int(row["wins@end"]) == per["wins"][r, j, -1]
            assert float(row["compute@2"]) == per["cumulative_compute"][r, j, 1]
            assert float(row["log_multiplier@end"]) == per["log_multiplier"][r, j, -1]
            assert float(row["pool_remaining@3"]) == per["pool_remaining"][r, j, 2]
            growth = per["log_multiplier"][r, j, -1] - per["log_multiplier"][r, j, -2]
            assert float(row["doubling_time@end"]) == math.log(2) / growth
        child = np.random.SeedSequence(plan.seed, spawn_key=(i, 3))
        fit = ReturnsEstimator(bootstrap=30, seed=child).fit(direct)
        point = points[i]
        for q in ("r", "phi", "decline"):
            assert float(point[q]) == fit.estimates_[q]
            assert (float(point[f"{q}_low"]), float(point[f"{q}_high"])) == fit.intervals_[q]
    summary = SweepSummary.read(tmp_path / "out").to_pandas("summary")
    assert set(summary["statistic"]) == set(STATISTICS)
    assert (summary.query("statistic == 'r'")["rows"] == 4).all()


def _first_crossing_replayed_from_the_start(result, r, j, log_x):
    """Independent replay: the lab's A over every win of the replicate from time 0 (own wins
    exact, published wins of others spilling over unless it had won the idea)."""
    w = result.wins
    sel = np.flatnonzero(w["replicate"] == r)
    level, own = 0.0, set()
    for k in sel:
        if w["lab"][k] == j:
            level = w["log_multiplier"][k]
            own.add(int(w["idea"][k]))
        elif w["published"][k] and int(w["idea"][k]) not in own:
            level += w["log_value"][k]
        if level >= log_x:
            return float(w["time"][k])
    return math.nan


@pytest.mark.parametrize("sharing", [0.0, 1.0])
def test_time_to_multiplier_is_the_time_of_the_win_that_crosses(sharing):
    from simsearch.sweep.kinds.labs import _crossing_times

    doc = {"periods": 6, "sharing": sharing,
           "pool": {"ideas": 400, "difficulty": "beta(alpha=0.4, beta=4)",
                    "value": "lognormal(mu=0.001, sigma=0.001)"},
           "lab": [{"name": "a", "budget": 200.0, "growth": 0.2}, {"name": "b", "budget": 80}]}
    result = simulate_labs(labs_config(doc), replicates=6, seed=4)
    log_x = math.log(1.03)
    times = _crossing_times(result, log_x)
    assert np.isfinite(times).sum() >= 6
    for r in range(6):
        for j in range(2):
            expected = _first_crossing_replayed_from_the_start(result, r, j, log_x)
            assert times[r, j] == expected or (math.isnan(expected) and math.isnan(times[r, j]))
            if np.isfinite(times[r, j]):  # the exact time of a win, not a period end
                assert times[r, j] in result.wins["time"][result.wins["replicate"] == r]


@pytest.mark.parametrize("sharing", [0.0, 1.0])
def test_time_to_a_doubling_comes_from_the_kernels_records_and_equals_the_replay(sharing):
    from simsearch.sweep.kinds.labs import _crossing_times, evaluate

    doc = {"periods": 8, "sharing": sharing, "limits": {"multiplier": 1e6},
           "pool": {"ideas": 300, "difficulty": "beta(alpha=0.5, beta=3)",
                    "value": "pareto(alpha=0.7)", "combine": "max"},
           "lab": [{"name": "a", "budget": 100.0, "automation": 0.5},
                   {"name": "b", "budget": 60.0}]}
    seed = np.random.SeedSequence(5, spawn_key=(0,))
    result = simulate_labs(labs_config(doc), replicates=5, seed=seed)
    replayed = _crossing_times(result, math.log(8.0))
    assert np.isfinite(replayed).sum() >= 5
    rows = evaluate(doc, ["time_to_multiplier@8"], 5, seed, {}).rows
    recorded = np.array([row["time_to_multiplier@8"] for row in rows]).reshape(5, 2)
    assert np.array_equal(recorded, replayed, equal_nan=True)


def test_labs_by_name_and_by_index_are_the_same_axis(tmp_path):
    by_name = plan_sweep({"kind": "labs", "base": _base(), "replicates": 2,
                          "axes": {"lab.frontier.budget": [150.0]}})
    by_index = plan_sweep({"kind": "labs", "base": _base(), "replicates": 2,
                           "axes": {"lab.0.budget": [150.0]}})
    assert point_config(by_name, by_name.points[0]) == point_config(by_index,
                                                                     by_index.points[0])
    run_sweep(by_name, tmp_path / "a", workers=1)
    run_sweep(by_index, tmp_path / "b", workers=1)
    a = (tmp_path / "a" / "results.csv").read_text().splitlines()
    b = (tmp_path / "b" / "results.csv").read_text().splitlines()
    assert a[1:] == b[1:] and a[0].replace("lab.frontier.budget", "lab.0.budget") == b[0]


def _base():
    return {"periods": 3, "pool": {"ideas": 100, "difficulty": "beta(alpha=0.4, beta=4)"},
            "lab": [{"name": "frontier", "budget": 100.0}, {"name": "academic", "budget": 50.0}]}


BAD = [
    ({"axes": {"lab.nosuch.budget": [1.0]}}, "axis 'lab.nosuch.budget': the base config has no "
                                            "'lab.nosuch'"),
    ({"axes": {"sharing": [0.5]}, "statistics": ["wins@0"]}, "unknown statistic 'wins@0'"),
    ({"axes": {"sharing": [0.5]}, "statistics": ["time_to_multiplier@0.5"]},
     "unknown statistic 'time_to_multiplier@0.5'; known: r, lambda"),
    ({"axes": {"sharing": [0.5]}, "statistics": ["exponent"]}, "unknown statistic 'exponent'"),
    ({"axes": {"sharing": [0.5]}, "returns": {"bootstrap": -1}}, "returns.bootstrap"),
    ({"axes": {"sharing": [0.5]}, "returns": {"colour": 1}}, "returns: unknown key 'colour'"),
    ({"axes": {"periods": [3]}, "base": {**_base(), "sharing": 2}},
     "point 0 (periods = 3): sharing: must be a finite number >= 0 and <= 1"),
    # issue 19.5: bad axis keys and values are refused before anything runs
    ({"axes": {"lab.0.budgett": [1.0]}}, "point 0 (lab.0.budgett = 1.0): lab[0]: unknown key "
                                         "'budgett'"),
    ({"axes": {"sharing": ["x"]}}, "point 0 (sharing = 'x'): sharing: must be a finite number"),
    ({"axes": {"periods": [3, 4]}, "statistics": ["wins@4", "wins@end"]},
     "point 0 (periods = 3): statistics: wins@4: needs a period in [1, 3]"),
    ({"axes": {"sharing": [0.5]}, "replicates": 10**9},
     "point 0 (sharing = 0.5): max_events: the run needs about"),
]


@pytest.mark.parametrize("extra,message", BAD, ids=[m for _, m in BAD])
def test_bad_labs_sweeps_are_refused_in_one_line(extra, message):
    with pytest.raises(SimsearchError) as info:
        plan_sweep({"kind": "labs", "base": _base(), **extra})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_labs_sweep_identical_for_1_and_2_workers_and_a_dask_cluster(tmp_path):
    run_on_every_backend(load_sweep(_sweep_file(tmp_path, replicates=2, periods=4, ideas=150)),
                         tmp_path)
    for name in ("results.csv", "points.csv", "summary.csv"):
        one = (tmp_path / "one" / name).read_bytes()
        assert one == (tmp_path / "two" / name).read_bytes() == (tmp_path / "dask" /
                                                                 name).read_bytes()


def test_labs_sigkill_then_resume_loses_and_duplicates_nothing(tmp_path):
    # 16 points of ~0.1-0.3 s, in a CLI process killed midway
    sweep = _sweep_file(tmp_path, replicates=6, periods=6, ideas=2000,
                        budgets=json.dumps([float(b) for b in range(2000, 10000, 1000)]))
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "simsearch", "sweep", str(sweep), "--out",
                             str(out), "--workers", "1", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
                            # the simsearch under test, whatever the child's directory
                            env={**os.environ,
                                 "PYTHONPATH": str(Path(simsearch.__file__).parents[1])})
    kill_midway(proc, out)
    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "--workers", "2",
                 "--no-progress"]) == 0
    run_sweep(load_sweep(sweep), tmp_path / "clean", workers=1)
    for name in ("results.csv", "points.csv", "summary.csv"):
        assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()
    keys = [(r["point"], r["replicate"], r["lab"]) for r in _csv(out / "results.csv")]
    assert len(keys) == len(set(keys)) == 16 * 6 * 2


def test_random_labs_sweep_writes_sensitivity_and_a_tornado(tmp_path, capsys):
    path = tmp_path / "random.toml"
    path.write_text('kind = "labs"\nreplicates = 2\nstatistics = ["wins@end", '
                    '"log_multiplier@end"]\n'
                    f"base = {json.dumps(_base())}\n".replace('": ', '" = ')
                    + '[random]\ncount = 12\n"lab.frontier.budget" = { lognormal = '
                      '{ p5 = 50.0, p95 = 400.0 } }\n"lab.academic.budget" = { uniform = '
                      '[20.0, 80.0] }\n[random.correlation]\n"lab.frontier.budget" = '
                      '{ "lab.academic.budget" = 0.5 }\n')
    figures = tmp_path / "figs"
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--no-progress", "--figures", str(figures)]) == 0
    sens = SweepSummary.read(tmp_path / "o").to_pandas("sensitivity")
    assert set(sens["input"]) == {"lab.frontier.budget", "lab.academic.budget"}
    assert set(sens["lab"]) == {"frontier", "academic"} and len(sens) == 2 * 2 * 2
    frontier = sens.query("input == 'lab.frontier.budget' and statistic == 'wins@end' and "
                          "lab == 'frontier'")["spearman"].item()
    assert frontier > 0.5  # more budget, more wins
    assert (figures / "tornado.png").stat().st_size > 0 and (figures / "tornado.pdf").exists()


def test_a_labs_grid_draws_per_lab_lines_and_point_level_intervals(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    from simsearch.sweep import grid_figure

    path = _sweep_file(tmp_path, replicates=2, periods=4, statistics=["wins@end", "r"])
    figures = tmp_path / "figs"
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--no-progress", "--figures", str(figures)]) == 0
    assert sorted(p.name for p in figures.iterdir()) == [
        "grid_r.pdf", "grid_r.png", "grid_wins_end.pdf", "grid_wins_end.png"]
    results = pandas.read_csv(tmp_path / "o" / "results.csv")
    ax = grid_figure(results.to_dict("list"), ["lab.frontier.budget", "sharing"], "wins@end",
                     row_key="lab", unit="ideas won").axes[0]
    labels = [c.get_label() for c in ax.containers]
    assert labels == [f"sharing = {s}, lab {lab}" for s in (0.0, 0.5)
                      for lab in ("frontier", "academic")]
    frontier = results.query("sharing == 0.0 and lab == 'frontier'")
    assert list(ax.containers[0].lines[0].get_ydata()) == list(
        frontier.groupby("lab.frontier.budget")["wins@end"].mean())
    points = pandas.read_csv(tmp_path / "o" / "points.csv").to_dict("list")
    ax = grid_figure(points, ["lab.frontier.budget", "sharing"], "r").axes[0]
    bars = ax.containers[0]
    assert list(bars.lines[0].get_ydata()) == points["r"][0::2]  # sharing 0: points 0, 2


def test_difficulty_and_value_as_tables_make_their_parameters_axes(tmp_path):
    from simsearch.sweep.kinds.labs import labs_point_config

    base = {**_base(), "pool": {"ideas": 100, "difficulty": {"name": "beta", "alpha": 0.4,
                                                             "beta": 4.0},
                                "value": {"name": "lognormal", "mu": 0.001, "sigma": 0.001}}}
    plan = plan_sweep({"kind": "labs", "base": base, "replicates": 2,
                       "axes": {"pool.difficulty.alpha": [0.3], "pool.value.mu": [0.002]}})
    config = labs_point_config(point_config(plan, plan.points[0]))
    assert config.pool.difficulty.spec == labs_config(
        {**_base(), "pool": {"ideas": 100, "difficulty": "beta(alpha=0.3, beta=4.0)"}}
    ).pool.difficulty.spec
    assert run_sweep(plan, tmp_path / "o", workers=1).done == 1
