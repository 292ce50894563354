"""Benchmark: the first ``simsearch passk`` on a fresh install (cold numba cache) against later
runs (warm), and the compile time of each passk kernel.

Cold runs point ``NUMBA_CACHE_DIR`` at an empty temporary directory, so numba compiles every
kernel as on a fresh install; the warm runs reuse that directory. Each run is a fresh process
(wall and CPU seconds; CPU is what the machine's load does not inflate). Then the compile time
alone (CPU seconds, each in a fresh process): before, passk had one kernel to count and another
to keep per-problem draws (both reconstructed here), each compiling the whole sampler; now one
kernel does both.

Run:  python benchmarks/bench_first_run.py [--runs N] [--compile-runs N]
Writes benchmarks/results/bench_first_run.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The README's quick-start command, with and without per-problem output.
COMMANDS = {
    "passk": ["passk", "--dist", "beta(alpha=0.3, beta=3)", "--problems", "400000",
              "--k", "logspace:1:1e6:13", "--seed", "11", "--no-progress"],
    "passk --per-problem x.npy": ["passk", "--dist", "beta(alpha=0.3, beta=3)",
                                  "--problems", "400000", "--seed", "11", "--no-progress",
                                  "--per-problem", "x.npy", "--overwrite"],
}
_COMPILE = r"""
import json, sys, time
import numpy as np
from numba import njit, prange
from simsearch.distributions import Beta
from simsearch.kernels import first_success as fs
from simsearch.kernels.draws import draw_p, kernel_table
from simsearch.seeding import replicate_chunk_states

# Before: two kernels, one to count and one to keep per-problem draws, each compiling the whole
# sampler (reconstructed here; the package now has one kernel for both).
@njit(parallel=True)
def before_counts(states, sizes, kinds, params, cum_weights, data, k_grid, table):
    last = table.shape[0] - 1
    counts = np.zeros((states.shape[0], k_grid.shape[0] + 1), dtype=np.int64)
    for c in prange(states.shape[0]):
        s = states[c]
        for _ in range(sizes[c]):
            t = fs.first_success_time(s, draw_p(s, kinds, params, cum_weights, data))
            b = table[int(t)] if t <= last else fs.grid_bin(k_grid, t)
            counts[c, b] += 1
    return counts

@njit(parallel=True)
def before_draws(states, sizes, offsets, kinds, params, cum_weights, data, p_out, t_out):
    for c in prange(states.shape[0]):
        s = states[c]
        for i in range(offsets[c], offsets[c] + sizes[c]):
            p = draw_p(s, kinds, params, cum_weights, data)
            p_out[i] = p
            t_out[i] = fs.first_success_time(s, p)

table = kernel_table(Beta(0.3, 3))
states = replicate_chunk_states(np.random.SeedSequence(1), 1, 1)
sizes, offsets, k = np.array([10]), np.array([0]), np.array([1.0, 10.0])
start = time.process_time()
if sys.argv[1] == "before_counts":
    before_counts(states, sizes, *table, k, fs.bin_table(k))
elif sys.argv[1] == "before_draws":
    before_draws(states, sizes, offsets, *table, np.empty(10), np.empty(10))
else:
    fs.first_success_counts(states, sizes, offsets, *table, k, fs.bin_table(k), np.empty(10),
                            np.empty(10))
print(json.dumps(time.process_time() - start))
"""


def _run(argv, cache: str, cwd: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "cpu_s": (after.ru_utime + after.ru_stime)
            - (before.ru_utime + before.ru_stime), "stderr": done.stderr, "stdout": done.stdout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="warm runs per command (default 3)")
    parser.add_argument("--compile-runs", type=int, default=2,
                        help="fresh-cache compiles per kernel, the least kept (default 2)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in COMMANDS.items():
            cache = tempfile.mkdtemp(dir=tmp)
            cmd = [sys.executable, "-m", "simsearch", *argv]
            cold = _run(cmd, cache, tmp)
            warm = [_run(cmd, cache, tmp) for _ in range(args.runs)]
            results[name] = {
                "cold": {k: cold[k] for k in ("wall_s", "cpu_s")},
                "warm": {k: min(w[k] for w in warm) for k in ("wall_s", "cpu_s")},
                "notice_cold": "compiling kernels" in cold["stderr"],
                "notice_warm": any("compiling kernels" in w["stderr"] for w in warm)}
        compile_cpu = {}
        for kernel in ("before_counts", "before_draws", "first_success_counts"):
            times = []  # compile times vary by +-20% on a shared machine: keep the least
            for _ in range(args.compile_runs):
                cache = tempfile.mkdtemp(dir=tmp)
                out = _run([sys.executable, "-c", _COMPILE, kernel], cache, tmp)
                times.append(json.loads(out["stdout"]))
            compile_cpu[kernel] = min(times)
        before = compile_cpu["before_counts"] + compile_cpu["before_draws"]
    print(f"{'command':28s} {'cold wall':>10s} {'cold CPU':>9s} {'warm wall':>10s} "
          f"{'warm CPU':>9s}  notice cold/warm")
    for name, r in results.items():
        print(f"{name:28s} {r['cold']['wall_s']:9.1f}s {r['cold']['cpu_s']:8.1f}s "
              f"{r['warm']['wall_s']:9.2f}s {r['warm']['cpu_s']:8.2f}s  "
              f"{r['notice_cold']}/{r['notice_warm']}")
    for kernel, seconds in compile_cpu.items():
        print(f"compile {kernel}: {seconds:.1f} s CPU")
    print(f"passk kernels compiled for pass@k and per-problem runs: before {before:.1f} s CPU "
          f"(two kernels), now {compile_cpu['first_success_counts']:.1f} s (one): "
          f"{before / compile_cpu['first_success_counts']:.2f}x less")
    out = HERE / "results" / "bench_first_run.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"commands": results, "compile_cpu_s": compile_cpu,
                               "compile_ratio_before_over_now":
                                   before / compile_cpu["first_success_counts"],
                               "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
                               "python": platform.python_version()}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
