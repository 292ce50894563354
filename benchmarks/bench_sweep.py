"""Benchmark: sweeps through the command line, labs points per second and per-point overhead.

(a) ``labs``: points per second of a small labs sweep (2 labs, 300 ideas, 5 periods, 4
    replicates per point, r with a 50-resample bootstrap) through ``simsearch sweep``, with 1 and
    2 worker processes. The rate is the marginal one, (t(N) - t(N0)) / (N - N0) between a sweep
    of N0 and one of N points (each the fastest of --repeats runs), so process start-up and
    import are left out (reported apart).
(b) ``passk``: the per-point cost of tiny passk points (200 problems, k = 1, 10: the simulation
    itself is ~0.2 ms) through ``simsearch sweep``, marginal as in (a), idle and with a CPU-bound
    process beside it (``python -c "while 1: pass"``), under the package's thread policy
    (``simsearch.runtime``: passive OpenMP wait, one numba and one BLAS thread per worker) and
    under numba/OpenMP defaults forced by the environment (OMP_WAIT_POLICY=ACTIVE,
    NUMBA_NUM_THREADS=2, OPENBLAS_NUM_THREADS=2: an explicit setting wins over the policy),
    measured in the same run; ratios are defaults / policy. Target: <= 2 ms per tiny point
    under load.

Run:  python benchmarks/bench_sweep.py [--labs-points 100] [--passk-points 400] [--repeats 3]
Writes benchmarks/results/bench_sweep.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICY_VARIABLES = ("OMP_WAIT_POLICY", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")
ENVIRONMENTS = {
    "simsearch policy": {},
    "numba/OpenMP defaults": {"OMP_WAIT_POLICY": "ACTIVE", "NUMBA_NUM_THREADS": "2",
                              "OPENBLAS_NUM_THREADS": "2"},
}

LABS = """kind = "labs"
seed = 1
replicates = 4
statistics = ["wins@end", "log_multiplier@end", "time_to_multiplier@1.01", "r"]
returns = {{ bootstrap = 50 }}
[base]
periods = 5
[base.pool]
ideas = 300
difficulty = "beta(alpha=0.4, beta=4)"
value = "lognormal(mu=0.001, sigma=0.001)"
[[base.lab]]
name = "frontier"
budget = 300.0
growth = 0.2
[[base.lab]]
name = "academic"
budget = 100.0
[axes]
"lab.frontier.budget" = {{ linspace = [100.0, 1000.0, {points}] }}
"""

PASSK = """kind = "passk"
seed = 1
statistics = ["exponent"]
[base]
problems = 200
k = "1,10"
dist = {{ name = "beta", alpha = 0.3, beta = 3.0 }}
[axes]
"dist.alpha" = {{ linspace = [0.1, 2.0, {points}] }}
"""


def _environment(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in POLICY_VARIABLES}
    return {**env, **extra}


def _sweep_seconds(template: str, points: int, workers: int, env: dict, root: Path):
    """Wall time and CPU time (user + system, the process and its workers) of one
    ``simsearch sweep`` process over ``points`` points."""
    work = Path(tempfile.mkdtemp(dir=root))
    (work / "s.toml").write_text(template.format(points=points))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "simsearch", "sweep", str(work / "s.toml"), "--out",
                    str(work / "out"), "--workers", str(workers), "--no-progress"],
                   env=env, check=True, capture_output=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(work)
    return took, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _marginal(template, small, large, workers, env, root, repeats) -> dict:
    """Per-point wall and CPU time between a small and a large sweep, from the fastest of
    ``repeats`` runs of each (on a shared machine the fastest run is the least disturbed; CPU
    time, which waiting for a core does not count, is the steadier measure)."""
    runs = {n: [_sweep_seconds(template, n, workers, env, root) for _ in range(repeats)]
            for n in (small, large)}
    wall = {n: min(w for w, _ in runs[n]) for n in runs}
    cpu = {n: min(c for _, c in runs[n]) for n in runs}
    per_point = (wall[large] - wall[small]) / (large - small)
    return {"ms_per_point": 1e3 * per_point, "startup_s": wall[small] - small * per_point,
            "cpu_ms_per_point": 1e3 * (cpu[large] - cpu[small]) / (large - small),
            "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs-points", type=int, default=100)
    parser.add_argument("--passk-points", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (the machine is shared)")
    root = Path(tempfile.mkdtemp(prefix="bench_sweep."))
    try:
        # compile (or load the numba cache) once, outside the timings
        for template in (LABS, PASSK):
            _sweep_seconds(template, 2, 1, _environment({}), root)
        labs = []
        for workers in (1, 2):
            row = _marginal(LABS, 10, args.labs_points, workers, _environment({}), root,
                            args.repeats)
            row.update(workers=workers, points_per_second=1e3 / row["ms_per_point"])
            labs.append(row)
            print(f"labs   workers={workers}: {row['points_per_second']:7.1f} points/s "
                  f"({row['ms_per_point']:.2f} ms/point, CPU {row['cpu_ms_per_point']:.2f} "
                  f"ms/point, start-up {row['startup_s']:.2f} s)")
        passk = []
        for load in ("idle", "busy"):
            burner = (subprocess.Popen([sys.executable, "-c", "while 1: pass"])
                      if load == "busy" else None)
            try:
                for workers in (1, 2):
                    for name, extra in ENVIRONMENTS.items():
                        row = _marginal(PASSK, 50, args.passk_points, workers,
                                        _environment(extra), root, args.repeats)
                        row.update(load=load, workers=workers, environment=name)
                        passk.append(row)
            finally:
                if burner is not None:
                    burner.kill()
                    burner.wait()
        print(f"{'load':5s} {'workers':>7s} {'environment':22s} {'ms/point':>9s} "
              f"{'CPU ms/point':>12s} {'start-up s':>10s} {'defaults/policy':>15s}")
        for row in passk:
            policy = next(r for r in passk if r["load"] == row["load"]
                          and r["workers"] == row["workers"]
                          and r["environment"] == "simsearch policy")
            row["ratio_to_policy"] = row["ms_per_point"] / policy["ms_per_point"]
            row["cpu_ratio_to_policy"] = row["cpu_ms_per_point"] / policy["cpu_ms_per_point"]
            print(f"{row['load']:5s} {row['workers']:7d} {row['environment']:22s} "
                  f"{row['ms_per_point']:9.3f} {row['cpu_ms_per_point']:12.3f} "
                  f"{row['startup_s']:10.2f} {row['ratio_to_policy']:15.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_sweep.json").write_text(json.dumps(
        {"cpu_count": os.cpu_count(), "machine": platform.platform(),
         "load_average_at_end": os.getloadavg(),
         "labs_points": args.labs_points, "passk_points": args.passk_points,
         "labs": labs, "passk": passk}, indent=2) + "\n")


if __name__ == "__main__":
    main()
