"""Benchmark: the cost of feedback (lab key ``automation``) in the labs engine, one run.

Each work runs the same config with automation 0 (the engine's old path: one segment per
period) and with automation s > 0 (a new constant-rate segment at every change of A, partial
attempts carried), on one numba thread, and reports the time per decision (idea-attempts the
run accounts for) and the ratio.

A. Kortum stream: one lab, point(p=0.25), Pareto(0.5) values, max. Automation 0 runs a budget
   that tries as many ideas as the automated lab (s = 0.75 > theta, so A explodes) needs to
   reach its cap of 2^16.
B. Three labs on a shared pool of 10^5 ideas (round-robin, patience(10), greedy), half the wins
   published, lognormal values, product, cost 1: automation 0 against automation 0.5 (every win
   re-segments its lab and, when published, every lab it reaches; a cap of 10^9 that is never
   reached).

Run:  python benchmarks/bench_feedback.py [--quick]
Writes benchmarks/results/bench_feedback.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numba

from simsearch.labs import labs_config, simulate_labs

HERE = Path(__file__).resolve().parent


def kortum(automation: float, budget: float, replicates: int):
    """Capped at 2^16 with feedback; without, the budget alone bounds the run."""
    doc = {"seed": 3, "replicates": replicates, "periods": 1,
           "pool": {"ideas": "inf", "difficulty": "point(p=0.25)", "value": "pareto(alpha=0.5)",
                    "combine": "max"},
           "lab": [{"name": "a", "budget": budget, "automation": automation}]}
    if automation > 0:
        doc["limits"] = {"multiplier": 2.0**16}
    return labs_config(doc)


def three_labs(automation: float, replicates: int):
    return labs_config({
        "seed": 2, "replicates": replicates, "periods": 10, "sharing": 0.5,
        "pool": {"ideas": 100_000, "difficulty": "beta(alpha=0.3, beta=3)",
                 "value": "lognormal(mu=0.001, sigma=0.002)"},
        "lab": [{"name": "a", "budget": 1e5, "automation": automation},
                {"name": "b", "budget": 3e4, "policy": "patience(m=10)",
                 "automation": automation},
                {"name": "c", "budget": 1e4, "policy": "greedy", "automation": automation}],
        "limits": {"multiplier": 1e9}})


def timed(config) -> dict:
    start = time.perf_counter()
    result = simulate_labs(config, record_wins=False)
    seconds = time.perf_counter() - start
    per = result.periods
    decisions = float(per["ideas_tried"][:, :, -1].sum()) if config.pool.endless \
        else float(per["cumulative_compute"].sum())  # cost 1: compute = attempts
    return {"seconds": seconds, "decisions": decisions, "wins": int(result.n_wins.sum()),
            "ns_per_decision": 1e9 * seconds / decisions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller work, for a smoke run")
    args = parser.parse_args()
    reps_a, reps_b = (4000, 20) if not args.quick else (400, 4)
    numba.set_num_threads(1)
    simulate_labs(kortum(0.5, 10.0, 1), record_wins=False)  # load the kernels
    out = {}
    fed = timed(kortum(0.75, 1e4, reps_a))
    per_rep = fed["decisions"] / reps_a
    # The same ideas tried per replicate without feedback: one attempt each, cost 1.
    plain = timed(kortum(0.0, float(round(per_rep)), reps_a))
    out["kortum_stream"] = {"replicates": reps_a, "automation_0": plain, "automation_0.75": fed,
                            "ratio": fed["ns_per_decision"] / plain["ns_per_decision"]}
    plain = timed(three_labs(0.0, reps_b))
    fed = timed(three_labs(0.5, reps_b))
    out["three_labs"] = {"replicates": reps_b, "automation_0": plain, "automation_0.5": fed,
                         "ratio": fed["ns_per_decision"] / plain["ns_per_decision"]}
    print(f"{'work':14s} {'automation':>10s} {'seconds':>9s} {'decisions':>11s} "
          f"{'ns/decision':>12s}")
    for work, rows in out.items():
        for key, row in rows.items():
            if key.startswith("automation"):
                print(f"{work:14s} {key.split('_')[1]:>10s} {row['seconds']:9.3g} "
                      f"{row['decisions']:11.3g} {row['ns_per_decision']:12.3g}")
        print(f"{work:14s} {'ratio':>10s} {rows['ratio']:9.3g}  (time per decision, feedback "
              f"over none)")
    if not args.quick:
        (HERE / "results" / "bench_feedback.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
