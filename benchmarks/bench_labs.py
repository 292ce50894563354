"""Benchmark: the labs engine against plain NumPy and plain Python on the same work, one run.

Work A (round-robin): one lab, a pool of N = 1e5 ideas with p ~ Beta(0.3, 3), a budget of K
rounds' worth of attempts (N K; K = 100 and 10,000), R replicates. The engine's work grows with
the wins, the baselines' with the attempts, so the gap grows with K.

* engine        ``simulate_labs`` on one numba thread (per core), kernels already loaded.
* numpy-rounds  plain NumPy, one vectorised Bernoulli draw per attempt: each round draws
                ``rng.random(unsolved) < p`` for the ideas still unsolved.
* python-loop   plain Python, one ``random.random()`` per attempt, the way existing takeoff
                simulators step; measured on a smaller budget, its time extrapolated by the
                exact number of attempts.

Work B (several labs): three labs (round-robin, patience(10), greedy) on a shared pool of 1e5
ideas, half of all wins published; engine only, on all cores (no baseline can do this without
simulating attempts one by one).

Work C (greedy): one greedy lab, equal idea values, a pool of 1e5 ideas and 1e8 attempts (1000
rounds' worth). With equal values greedy tries ideas in order of failures, then position:
water-filling, which the engine runs as rounds (one event per win). Beside it, the same kernel
without the rounds: the method greedy uses when values differ (the window of work D; before it,
one heap event per attempt, issue 12 defect 5); both give the same wins.

Work D (greedy, distinct values): one greedy lab, lognormal(0.05, 0.3) values, a pool of 1e5
ideas and 1e8 attempts, beside the same lab set to round-robin on the same work (the issue's
peer), and the three labs of work B beside their round-robin variant (lab c set to
round-robin), 30 replicates; all on one thread. With distinct values the greedy lab reads its
attempts off a sorted window (see simsearch.kernels.labs); the previous release switched ideas
through the index heap at almost every attempt, one event each (52.8 s on work D's greedy run,
measured beside this release: see the perf notes).

"Decisions" are idea-attempts the simulation accounts for: the engine decides many attempts
per event in closed form, so its rate is far above its event rate; both are reported.

Run:  python benchmarks/bench_labs.py [--quick] [--only greedy|distinct]
Writes benchmarks/results/bench_labs.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import numba
import numpy as np

from simsearch.labs import labs_config, simulate_labs
from simsearch.labs.engine import _kernel_arguments, _run_batch
from simsearch.seeding import child, seed_sequence, stream_states

HERE = Path(__file__).resolve().parent
ALPHA, BETA = 0.3, 3.0


def round_robin_config(ideas: int, rounds: int, replicates: int):
    return labs_config({"seed": 1, "replicates": replicates, "periods": 1,
                        "pool": {"ideas": ideas, "difficulty": f"beta(alpha={ALPHA}, beta={BETA})"},
                        "lab": [{"name": "lab", "budget": float(ideas * rounds)}]})


def numpy_rounds(ideas: int, rounds: int, replicates: int, seed: int = 1) -> tuple[float, int]:
    """Round-robin with one Bernoulli per attempt (vectorised per round) until the same budget
    of ideas * rounds attempts is spent; (seconds, wins)."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    wins = 0
    for _ in range(replicates):
        p = rng.beta(ALPHA, BETA, ideas)
        budget = ideas * rounds
        while budget > 0 and p.size:
            tried = min(p.size, budget)
            hit = rng.random(tried) < p[:tried]
            wins += int(hit.sum())
            budget -= tried
            p = np.concatenate([p[:tried][~hit], p[tried:]]) if tried < p.size else p[~hit]
    return time.perf_counter() - start, wins


def python_loop(ideas: int, rounds: int, seed: int = 1) -> tuple[float, int]:
    """Round-robin attempt by attempt in plain Python; (seconds, attempts)."""
    rnd = random.Random(seed)
    p = [rnd.betavariate(ALPHA, BETA) for _ in range(ideas)]
    start = time.perf_counter()
    attempts = 0
    for _ in range(rounds):
        still = []
        for q in p:
            attempts += 1
            if rnd.random() >= q:
                still.append(q)
        p = still
    return time.perf_counter() - start, attempts


def greedy_config(ideas: int, attempts: float):
    return labs_config({"seed": 3, "replicates": 1, "periods": 1,
                        "pool": {"ideas": ideas, "difficulty": f"beta(alpha={ALPHA}, beta={BETA})"},
                        "lab": [{"name": "greedy", "budget": float(attempts),
                                 "policy": "greedy"}]})


def greedy_run(config, water_filling: bool) -> tuple[float, dict]:
    """One replicate of ``config`` on one thread, with the level rounds or with the window;
    (seconds, period records)."""
    difficulty, pool, labs = _kernel_arguments(config)
    pool = pool._replace(greedy_rounds=water_filling)
    states = stream_states(child(seed_sequence(config.seed), 0), len(config.labs) + 2)[None]
    start = time.perf_counter()
    _, periods, _, _, _ = _run_batch(states, (difficulty, pool, labs), len(config.labs),
                                     config.periods, 0)
    return time.perf_counter() - start, periods


def greedy_case(ideas: int, attempts: float) -> dict:
    config = greedy_config(ideas, attempts)
    greedy_run(greedy_config(100, 1e4), True)  # load the kernels
    numba.set_num_threads(1)
    after_s, after = greedy_run(config, True)
    window_s, window = greedy_run(config, False)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    same = all(np.array_equal(after[k], window[k]) for k in after)
    return {"ideas": ideas, "attempts": attempts, "wins": int(after["wins"].sum()),
            "same_results": same, "after_seconds": after_s, "window_seconds": window_s,
            "speedup": window_s / after_s}


def print_greedy(g: dict) -> None:
    print(f"C. greedy, equal values: {g['ideas']:.0e} ideas, {g['attempts']:.0e} attempts, "
          f"{g['wins']} wins; water-filling {g['after_seconds']:.3g} s, the window (as for "
          f"distinct values) {g['window_seconds']:.3g} s: {g['speedup']:.0f}x faster, same "
          f"results: {g['same_results']}")


def distinct_config(ideas: int, attempts: float, policy: str):
    return labs_config({"seed": 3, "replicates": 1, "periods": 1,
                        "pool": {"ideas": ideas, "difficulty": f"beta(alpha={ALPHA}, beta={BETA})",
                                 "value": "lognormal(mu=0.05, sigma=0.3)"},
                        "lab": [{"name": "g", "budget": float(attempts), "policy": policy}]})


def three_labs_config(replicates: int, policy_c: str):
    return labs_config({
        "seed": 2, "replicates": replicates, "periods": 10, "sharing": 0.5,
        "pool": {"ideas": 100_000, "difficulty": f"beta(alpha={ALPHA}, beta={BETA})",
                 "value": "lognormal(mu=0.001, sigma=0.002)"},
        "lab": [{"name": "a", "budget": 1e5},
                {"name": "b", "budget": 3e4, "policy": "patience(m=10)"},
                {"name": "c", "budget": 1e4, "policy": policy_c}]})


def distinct_case(ideas: int, attempts: float, replicates: int) -> dict:
    """Greedy with distinct values against round-robin on the same work, one thread."""
    for policy in ("greedy", "round-robin"):  # load the kernels
        simulate_labs(distinct_config(100, 1e4, policy), record_wins=False)
    numba.set_num_threads(1)
    out = {"ideas": ideas, "attempts": attempts, "three_labs_replicates": replicates}
    for policy in ("greedy", "round-robin"):
        seconds, result = timed(distinct_config(ideas, attempts, policy))
        out[policy] = {"seconds": seconds, "wins": int(result.n_wins.sum())}
        seconds, result = timed(three_labs_config(replicates, policy))
        out[f"three_labs_{policy}"] = {"seconds": seconds, "wins": int(result.n_wins.sum())}
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    out["ratio"] = out["greedy"]["seconds"] / out["round-robin"]["seconds"]
    out["three_labs_ratio"] = (out["three_labs_greedy"]["seconds"]
                               / out["three_labs_round-robin"]["seconds"])
    return out


def print_distinct(d: dict) -> None:
    print(f"D. greedy, distinct values: {d['ideas']:.0e} ideas, {d['attempts']:.0e} attempts, "
          f"one thread: greedy {d['greedy']['seconds']:.3g} s ({d['greedy']['wins']} wins), "
          f"round-robin {d['round-robin']['seconds']:.3g} s: {d['ratio']:.3g}x; three labs "
          f"({d['three_labs_replicates']} replicates) {d['three_labs_greedy']['seconds']:.3g} s, "
          f"their round-robin variant {d['three_labs_round-robin']['seconds']:.3g} s: "
          f"{d['three_labs_ratio']:.3g}x")


def timed(config, **kwargs):
    start = time.perf_counter()
    result = simulate_labs(config, record_wins=False, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller work, for a smoke run")
    parser.add_argument("--only", choices=["greedy", "distinct"],
                        help="run only work C (greedy, equal values) or D (distinct values)")
    args = parser.parse_args()
    if args.only == "distinct":
        print_distinct(distinct_case(100_000, 1e8, 30) if not args.quick
                       else distinct_case(20_000, 1e7, 4))
        return
    greedy = greedy_case(100_000, 1e8) if not args.quick else greedy_case(20_000, 1e7)
    if args.only == "greedy":
        print_greedy(greedy)
        return
    ideas, reps = (100_000, 8) if not args.quick else (20_000, 2)
    multi_reps = 200 if not args.quick else 20

    simulate_labs(round_robin_config(100, 2, 2), record_wins=False)  # load the kernels
    threads = numba.get_num_threads()
    small_rounds = 5
    py_s, py_attempts = python_loop(ideas, small_rounds)
    py_rate = py_attempts / py_s
    results = {}
    for rounds in (100, 10_000):
        numba.set_num_threads(1)
        engine_s, result = timed(round_robin_config(ideas, rounds, reps))
        numba.set_num_threads(threads)
        attempts = float(result.periods["cumulative_compute"].sum())
        wins = int(result.n_wins.sum())
        numpy_s, numpy_wins = numpy_rounds(ideas, rounds, reps)
        results[f"round_robin_{rounds}_rounds"] = {
            "ideas": ideas, "rounds": rounds, "replicates": reps,
            "attempts": attempts, "wins": wins, "numpy_wins": numpy_wins,
            "engine": {"seconds": engine_s, "threads": 1,
                       "decisions_per_second": attempts / engine_s,
                       "wins_per_second": wins / engine_s,
                       "seconds_per_replicate": engine_s / reps},
            "numpy-rounds": {"seconds": numpy_s, "decisions_per_second": attempts / numpy_s},
            "python-loop": {"seconds": attempts / py_rate, "extrapolated": True,
                            "decisions_per_second": py_rate,
                            "measured": {"rounds": small_rounds, "seconds": py_s,
                                         "attempts": py_attempts}},
        }
    multi = three_labs_config(multi_reps, "greedy")
    multi_s, multi_result = timed(multi)
    multi_attempts = float(multi_result.periods["cumulative_compute"].sum())
    results["three_labs"] = {
        "replicates": multi_reps, "ideas": 100_000, "threads": threads,
        "seconds": multi_s, "seconds_per_replicate": multi_s / multi_reps,
        "attempts": multi_attempts, "wins": int(multi_result.n_wins.sum()),
        "decisions_per_second_per_core": multi_attempts / multi_s / threads,
    }

    for key, rr in results.items():
        if not key.startswith("round_robin"):
            continue
        engine_s = rr["engine"]["seconds"]
        print(f"A. round-robin: {ideas:.0e} ideas x {rr['rounds']} rounds x {reps} replicates "
              f"= {rr['attempts']:.3g} attempts, {rr['wins']} wins")
        print(f"{'':14s} {'seconds':>10s} {'decisions/s/core':>18s} {'vs engine':>10s}")
        for name in ("engine", "numpy-rounds", "python-loop"):
            r = rr[name]
            tag = " (extrapolated)" if r.get("extrapolated") else ""
            print(f"{name:14s} {r['seconds']:10.3g} {r['decisions_per_second']:18.3g} "
                  f"{r['seconds'] / engine_s:10.3g}{tag}")
    results["greedy_equal_values"] = greedy
    print_greedy(greedy)
    distinct = (distinct_case(100_000, 1e8, 30) if not args.quick
                else distinct_case(20_000, 1e7, 4))
    results["greedy_distinct_values"] = distinct
    print_distinct(distinct)
    m = results["three_labs"]
    print(f"B. three labs, shared pool of 1e5 ideas, 10 periods: {multi_reps} replicates in "
          f"{multi_s:.3g} s on {threads} threads ({1e3 * m['seconds_per_replicate']:.3g} ms "
          f"per replicate, {m['decisions_per_second_per_core']:.3g} decisions/s/core)")
    out = HERE / "results" / "bench_labs.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "quick": args.quick,
                               "results": results}, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
