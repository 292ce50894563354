"""Benchmark: the returns bootstrap of a labs run (issue 23, item 7), batched against the loop.

``ReturnsEstimator(bootstrap=200)`` refits r, lambda, phi and the decline of research
productivity on 200 resamples of the replicates. It fits every resample at once (one slice of
the same array arithmetic each); the baseline, in the same run, is the estimator as it was
written before, one resample at a time with boolean selection, per-lab demeaning and
``numpy.linalg.lstsq`` (``tests/returns_reference.py``, which the tests compare it with). Also
the share of a labs sweep point the bootstrap takes: the simulation of the same point beside it.

Run:  python benchmarks/bench_returns.py [--quick]
Writes benchmarks/results/bench_returns.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from simsearch.labs import labs_config, simulate_labs
from simsearch.labs.returns import ReturnsEstimator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from returns_reference import fit_aggregates as one_resample  # noqa: E402

#: Labs runs of the shapes a sweep point has: (replicates, labs, periods).
CASES = {"2 labs x 8 periods, 20 replicates": (20, 2, 8),
         "3 labs x 16 periods, 40 replicates": (40, 3, 16),
         "4 labs x 40 periods, 100 replicates": (100, 4, 40)}


def _config(replicates, labs, periods):
    return labs_config({"seed": 5, "replicates": replicates, "periods": periods,
                        "pool": {"ideas": 2000, "difficulty": "beta(alpha=0.4, beta=4)",
                                 "value": "fixed(v=1.01)"},
                        "lab": [{"name": f"lab{i}", "budget": 200.0 * 3 ** i,
                                 "growth": 0.1 * i} for i in range(labs)]})


def _loop_bootstrap(periods, resamples, seed):
    """The baseline: the same resample weights, each resample's means fitted on its own."""
    log_a, compute, cumulative = (np.asarray(periods[k], dtype=float) for k in
                                  ("log_multiplier", "compute", "cumulative_compute"))
    n_rep, n_labs, n_periods = log_a.shape
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_rep, np.full(n_rep, 1.0 / n_rep), size=resamples) / n_rep
    stacked = np.stack([log_a, compute, cumulative], axis=1).reshape(n_rep, -1)
    return np.array([one_resample(*row.reshape(3, n_labs, n_periods), n_periods // 5)[0]
                     for row in weights @ stacked])


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, 50 resamples")
    args = parser.parse_args()
    resamples, repeats = (50, 1) if args.quick else (200, 5)
    rows = []
    print(f"returns bootstrap, {resamples} resamples, best of {repeats} (seconds)")
    print(f"  {'labs run':38s} {'batched':>9s} {'loop':>9s} {'loop/batched':>13s} "
          f"{'simulation':>11s} {'bootstrap share':>16s}")
    for name, shape in CASES.items():
        config = _config(*shape)
        simulate_labs(config, progress=False)  # compile / load the kernel
        simulation = _best(lambda: simulate_labs(config, progress=False), repeats)
        result = simulate_labs(config, progress=False)
        batched = _best(lambda: ReturnsEstimator(bootstrap=resamples, seed=1).fit(result),
                        repeats)
        loop = _best(lambda: _loop_bootstrap(result.periods, resamples, 1), repeats)
        share = batched / (batched + simulation)
        rows.append({"case": name, "shape": shape, "batched_s": batched, "loop_s": loop,
                     "ratio_loop_over_batched": loop / batched, "simulation_s": simulation,
                     "bootstrap_share_of_point": share})
        print(f"  {name:38s} {batched:9.4f} {loop:9.4f} {loop / batched:12.1f}x "
              f"{simulation:11.4f} {share:15.0%}")
    out = {"resamples": resamples, "repeats": repeats, "rows": rows,
           "median_ratio": statistics.median(r["ratio_loop_over_batched"] for r in rows),
           "cores": os.cpu_count(), "python": platform.python_version(),
           "load_average": os.getloadavg()}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_returns.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
