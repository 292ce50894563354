"""Issue 19, item 3: every labs run is bounded. The work (attempts, events, wins, memory) is
estimated from the config before anything runs and a run past the limits is refused with one
line naming the estimate and the option that raises the limit; the kernel stops a replicate
that passes its event budget, so a run whose estimate was wrong still ends.

On main 6fc43e4 each refused config below ran on for minutes (killed by the timeout guard),
and the runaway replicate of the kernel-guard test never ended."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

import simsearch
from simsearch.errors import SimsearchError
from simsearch.labs import MAX_EVENTS, check_labs_work, labs_config, simulate_labs
from simsearch.labs import engine
from simsearch.labs.work import EVENT_SLACK, estimate_work, replicate_event_limit

BASE = {"seed": 1, "periods": 10,
        "pool": {"ideas": "inf", "difficulty": "point(p=0.2)", "combine": "max"},
        "lab": [{"name": "a", "budget": 10.0}]}

#: The configs of the issue, each of which ran for 40-120 s and more before it was stopped.
RUNAWAY = {
    "replicates 1e12": ({"replicates": 1e12}, [], "max_events"),
    "replicates 1e9 without wins": ({"replicates": 1e9}, ["--no-wins"], "max_events"),
    "stream at cost 1e-300": ({"lab": {"cost": 1e-300}}, [], "max_events"),
    "automation 1, pareto(0.5), cap 1e40": (
        {"lab": {"automation": 1.0}, "pool": {"value": "pareto(alpha=0.5)"},
         "limits": {"multiplier": 1e40}}, [], "max_events"),
    "point(p=1), budget 1e9": (
        {"periods": 1, "lab": {"budget": 1e9}, "pool": {"difficulty": "point(p=1)"}},
        ["--no-wins"], "max_events"),
}


def _doc(patch: dict) -> dict:
    doc = copy.deepcopy(BASE)
    for key, value in patch.items():
        if key == "lab":
            doc["lab"][0].update(value)
        elif key == "pool":
            doc["pool"].update(value)
        else:
            doc[key] = value
    return doc


def _toml(doc: dict) -> str:
    def value(v):
        return f'"{v}"' if isinstance(v, str) else repr(v)
    lines = [f"{k} = {value(v)}" for k, v in doc.items() if not isinstance(v, (dict, list))]
    for table in ("pool", "limits"):
        if table in doc:
            lines += [f"[{table}]"] + [f"{k} = {value(v)}" for k, v in doc[table].items()]
    for lab in doc["lab"]:
        lines += ["[[lab]]"] + [f"{k} = {value(v)}" for k, v in lab.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", list(RUNAWAY))
def test_a_run_that_cannot_finish_is_refused_up_front_in_one_line(tmp_path, name):
    """``simsearch labs`` exits 2 with one line naming the estimate and ``--max-events`` or
    ``--max-memory``, and makes no output directory. The timeout only guards against the old
    behaviour (running on); the refusal itself comes before the kernel is even loaded."""
    patch, flags, key = RUNAWAY[name]
    config = tmp_path / "labs.toml"
    config.write_text(_toml(_doc(patch)))
    out = tmp_path / "out"
    # The simsearch under test, whatever the working directory of the child.
    env = {**os.environ, "PYTHONPATH": str(Path(simsearch.__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-m", "simsearch", "labs", str(config), "--out",
                           str(out), "--no-progress", *flags], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"{key}:" in lines[0] and "--max-events" in lines[0] and "about" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("name", list(RUNAWAY))
def test_simulate_labs_refuses_the_same_runs(name):
    patch, flags, _ = RUNAWAY[name]
    config = labs_config(_doc(patch))
    with pytest.raises(SimsearchError, match="max_events=") as err:
        simulate_labs(config, record_wins="--no-wins" not in flags)
    assert "\n" not in str(err.value)


def test_the_memory_limit_names_its_option_and_is_raised_by_it():
    """1e7 replicates x (100 periods x 48 bytes + 65 doubling and cap times x 8 + 16)."""
    config = labs_config(_doc({"replicates": 1e7, "periods": 100}))
    with pytest.raises(SimsearchError, match=r"max_memory: the result needs about 53\.4 GB"):
        check_labs_work(config, record_wins=False, max_events=1e12)
    check_labs_work(config, record_wins=False, max_events=1e12, max_memory=1e11)


def test_the_event_estimate_is_exact_for_a_stream_of_sure_wins_and_the_limit_overrides():
    """point(p=1): every attempt is a win and an event, budget x periods of them, plus one event
    per period end. The run passes at the estimate and is refused one event below it."""
    config = labs_config(_doc({"pool": {"difficulty": "point(p=1)"}, "replicates": 3}))
    estimate = estimate_work(config, 3, True)
    assert estimate.attempts == estimate.wins == 100.0
    assert estimate.events == 110.0 and estimate.total_events == 330.0
    result = simulate_labs(config, max_events=330)
    assert (result.n_wins == 100).all()
    with pytest.raises(SimsearchError, match="330 kernel events"):
        simulate_labs(config, max_events=329)


def test_bounds_from_the_pool_and_the_cap():
    """Wins in a pool without replenishment are at most its ideas per lab, whatever the budget;
    a capped stream with Pareto(alpha) values and the best value kept needs cap^alpha wins on
    average, 1 / p attempts each, however large the feedback makes its budget."""
    pool = labs_config({"seed": 1, "periods": 5, "pool": {"ideas": 300,
                                                          "difficulty": "point(p=1)"},
                        "lab": [{"name": "a", "budget": 1e12}, {"name": "b", "budget": 1.0}]})
    estimate = estimate_work(pool, 1, True)
    assert estimate.wins == 300.0 + 5.0  # b: 5 attempts, at most 5 wins
    assert estimate.events == estimate.wins + 2 * 5.0  # and a period end per lab and period
    capped = labs_config(_doc({"lab": {"automation": 1.0, "budget": 1e6},
                               "pool": {"value": "pareto(alpha=0.5)"},
                               "limits": {"multiplier": 1e4}}))
    estimate = estimate_work(capped, 1, True)
    assert estimate.wins == pytest.approx(100.0)
    assert estimate.events == pytest.approx(100.0 / 0.2 + 10)


def _runaway_stream():
    """Each win halves the multiplier (fixed(v=0.5), product) and with elasticity 1 the cost
    of an attempt: the estimate (A >= 1) expects ~110 events, but the attempts per period
    double with every win, and once A underflows an attempt costs nothing: without the
    kernel's guard the replicate never ends."""
    return labs_config({"seed": 2, "periods": 3, "replicates": 2,
                        "pool": {"ideas": "inf", "difficulty": "point(p=0.5)",
                                 "value": "fixed(v=0.5)"},
                        "lab": [{"name": "a", "budget": 10.0,
                                 "cost": {"base": 1.0, "elasticity": 1.0}}]})


def test_the_kernel_stops_a_replicate_past_its_event_budget():
    config = _runaway_stream()
    estimate = check_labs_work(config, max_events=20_000)
    assert estimate.total_events < 20_000  # the estimate passes
    limit = replicate_event_limit(estimate, 20_000)
    assert limit == 10_000  # its share of max_events, more than 16x its estimate
    with pytest.raises(SimsearchError, match=f"max_events: replicate 0 passed {limit:,} events "
                                             r"\(estimated 3[0-9.]+ per replicate\)") as err:
        simulate_labs(config, max_events=20_000, record_wins=False)
    assert "\n" not in str(err.value)


def test_the_kernel_guard_counts_events_exactly():
    """A replicate of a sure-win stream takes budget x periods + periods events: it finishes
    with exactly that many allowed and is stopped (reported, not returned) with one fewer."""
    config = labs_config(_doc({"pool": {"difficulty": "point(p=1)"}, "replicates": 2}))
    args = engine._kernel_arguments(config)
    states = engine._replicate_states(engine.seed_sequence(1), 0, 2, 3 + 1)
    _, _, n_wins, _, _ = engine._run_batch(states, args, 1, 10, 200, max_events=110)
    assert (n_wins == 100).all()
    _, _, n_wins, _, _ = engine._run_batch(states, args, 1, 10, 200, max_events=109)
    assert (n_wins == engine.EVENTS_EXCEEDED).all()


def test_the_default_limit_leaves_the_experiments_configs_room():
    """The largest run of the experiments (takeoff's measured r: two labs on a stream of sure
    wins, 8e5 attempts per replicate, 200 replicates) fits under the default limit."""
    config = labs_config({"seed": 1, "periods": 20, "replicates": 200,
                          "pool": {"ideas": "inf", "difficulty": "point(p=1)",
                                   "value": "pareto(alpha=2)", "combine": "max"},
                          "lab": [{"name": "steady", "budget": 2e4},
                                  {"name": "growing", "budget": 4e5 * 0.1 / (1.1 ** 20 - 1),
                                   "growth": 0.1}]})
    estimate = check_labs_work(config, record_wins=False)
    assert estimate.total_events == pytest.approx(200 * (8e5 + 40), rel=1e-9)
    assert estimate.total_events < MAX_EVENTS / 3
    assert replicate_event_limit(estimate) == int(EVENT_SLACK * estimate.events)


def test_a_win_row_is_counted_at_its_size():
    import numpy as np

    from simsearch.labs.work import WIN_ROW_BYTES
    assert WIN_ROW_BYTES == sum(np.dtype(dt).itemsize for dt in engine._WIN_DTYPES) + 16
