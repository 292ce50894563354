"""Benchmark: many tiny sweep points on worker processes against a plain loop in one process.

300 tiny passk points (1000 problems, k = 1, 10, 100: the simulation itself is well under a
millisecond) run three ways, each a whole Python process, alternated and repeated:

* ``loop``: a plain loop over the Python API (``load_sweep``, then each point's kind
  ``evaluate`` with the same per-point seed), nothing written: the peer;
* ``run_sweep``: ``run_sweep(plan, out, workers=W)`` from a Python program;
* ``cli``: ``simsearch sweep FILE --out DIR --workers W --no-progress``.

All three under the package's thread policy (``import simsearch`` applies it; the variables
are removed from the environment first). Wall and CPU time (user + system of the process and
its children), median over ``--repeats``; the ratios sweep / loop are printed. Target: wall
ratio <= 1 on 2 workers.

Run:  python benchmarks/bench_sweep_workers.py [--points 300] [--workers 2] [--repeats 5]
Writes benchmarks/results/bench_sweep_workers.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICY_VARIABLES = ("OMP_WAIT_POLICY", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")

SWEEP = """kind = "passk"
seed = 1
statistics = ["exponent"]
[base]
problems = 1000
k = "1,10,100"
dist = {{ name = "beta", alpha = 0.3, beta = 3.0 }}
[axes]
"dist.alpha" = {{ linspace = [0.1, 2.0, {points}] }}
"""

LOOP = """
import sys
import numpy as np
from simsearch.seeding import child
from simsearch.sweep import get_kind, load_sweep, point_config

plan = load_sweep(sys.argv[1])
kind = get_kind(plan.kind)
root = np.random.SeedSequence(plan.seed)
for i, values in enumerate(plan.points):
    kind.evaluate(point_config(plan, values), plan.statistics, plan.replicates, child(root, i),
                  plan.options)
"""

RUN_SWEEP = """
import sys
from simsearch.sweep import load_sweep, run_sweep

if __name__ == "__main__":
    run_sweep(load_sweep(sys.argv[1]), sys.argv[2], workers=int(sys.argv[3]))
"""


def _timed(command: list[str], env: dict) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the process and its children) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in POLICY_VARIABLES}
    load_start = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench_sweep_workers."))
    try:
        sweep = root / "sweep.toml"
        sweep.write_text(SWEEP.format(points=args.points))
        (root / "loop.py").write_text(LOOP)
        (root / "run_sweep.py").write_text(RUN_SWEEP)

        def command(variant: str, out: Path) -> list[str]:
            if variant == "loop":
                return [sys.executable, str(root / "loop.py"), str(sweep)]
            if variant == "run_sweep":
                return [sys.executable, str(root / "run_sweep.py"), str(sweep), str(out),
                        str(args.workers)]
            return [sys.executable, "-m", "simsearch", "sweep", str(sweep), "--out", str(out),
                    "--workers", str(args.workers), "--no-progress"]

        variants = ("loop", "run_sweep", "cli")
        # load (or compile into) numba's cache once, outside the timings
        subprocess.run(command("loop", root), env=env, check=True, capture_output=True)
        times: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
        for repeat in range(args.repeats):
            for variant in variants:  # alternated, so a change in load reaches all three
                out = root / f"out-{variant}-{repeat}"
                times[variant].append(_timed(command(variant, out), env))
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = {}
    for variant in variants:
        rows[variant] = {"wall_s": statistics.median(w for w, _ in times[variant]),
                         "cpu_s": statistics.median(c for _, c in times[variant]),
                         "runs": times[variant]}
    loop = rows["loop"]
    print(f"{args.points} tiny passk points, {args.workers} workers, median of "
          f"{args.repeats}; load average {load_start:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end (the machine is shared)")
    print(f"{'variant':10s} {'wall s':>7s} {'CPU s':>7s} {'wall / loop':>11s} "
          f"{'CPU / loop':>10s}")
    for variant, row in rows.items():
        row["wall_ratio"] = row["wall_s"] / loop["wall_s"]
        row["cpu_ratio"] = row["cpu_s"] / loop["cpu_s"]
        print(f"{variant:10s} {row['wall_s']:7.2f} {row['cpu_s']:7.2f} "
              f"{row['wall_ratio']:11.2f} {row['cpu_ratio']:10.2f}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_sweep_workers.json").write_text(json.dumps(
        {"cpu_count": os.cpu_count(), "machine": platform.platform(),
         "load_average_at_start": load_start, "load_average_at_end": os.getloadavg(),
         "points": args.points, "workers": args.workers, "repeats": args.repeats,
         "variants": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
