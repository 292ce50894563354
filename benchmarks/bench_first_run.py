"""Benchmark: the first ``simsearch passk`` and ``simsearch labs`` on a fresh install (cold numba
cache) against later runs (warm), and the compile time of each entry kernel.

Cold runs point ``NUMBA_CACHE_DIR`` at an empty temporary directory, so numba compiles every
kernel as on a fresh install; the warm runs reuse that directory. Each run is a fresh process
(wall and CPU seconds; CPU is what the machine's load does not inflate). Then the compile time
alone (CPU seconds, each in a fresh process): before, passk had one kernel to count and another
to keep per-problem draws (both reconstructed here), each compiling the whole sampler; now one
kernel does both.

Labs: ``simsearch labs`` on the example config (experiments/configs/shared_pool.toml), cold and
warm, then the compile CPU of each entry kernel (numba's compile events, top level only, in a
fresh process on a one-replicate config). With ``--before-rev REV`` the same is measured, in the
same run, for the package as it was at git revision REV (extracted with ``git archive`` into a
temporary directory and put first on ``PYTHONPATH``).

Run:  python benchmarks/bench_first_run.py [--runs N] [--compile-runs N] [--only passk|labs]
                                           [--before-rev REV]
Writes benchmarks/results/bench_first_run.json (bench_first_run_labs.json for labs) beside
printing a table.
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
from simsearch.kernels.draws import draw_p
from simsearch.kernels.inputs import kernel_table
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
    fs.first_success_counts(fs.Chunks(states, sizes, offsets), table, fs.KGrid(k, fs.bin_table(k)),
                            fs.PerProblem(np.empty(10), np.empty(10)))
print(json.dumps(time.process_time() - start))
"""


LABS_CONFIG = HERE.parent / "experiments" / "configs" / "shared_pool.toml"
LABS_COMMAND = ["labs", str(LABS_CONFIG), "--out", "labs-out", "--overwrite", "--no-progress"]
# Compile the labs kernels (a one-replicate run) and report the CPU seconds of each top-level
# compile: the entry kernels, their callees included.
_LABS_COMPILE = r"""
import json, sys, time
from numba.core import event
from simsearch.labs import load_labs_config, simulate_labs

class Entry(event.Listener):
    depth, seconds = 0, {}
    def on_start(self, ev):
        if self.depth == 0:
            self.start = time.process_time()
        self.depth += 1
    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            name = ev.data["dispatcher"].py_func.__name__
            self.seconds[name] = self.seconds.get(name, 0.0) + time.process_time() - self.start

entry = Entry()
event.register("numba:compile", entry)
simulate_labs(load_labs_config(sys.argv[1]), replicates=1)
print(json.dumps(entry.seconds))
"""


def _run(argv, cache: str, cwd: str, pythonpath: str | None = None) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "cpu_s": (after.ru_utime + after.ru_stime)
            - (before.ru_utime + before.ru_stime), "stderr": done.stderr, "stdout": done.stdout}


def _cold_and_warm(argv, tmp: str, runs: int, pythonpath: str | None = None) -> dict:
    """One cold run of ``simsearch ARGV`` (empty cache), then ``runs`` warm ones (least kept)."""
    cache = tempfile.mkdtemp(dir=tmp)
    cmd = [sys.executable, "-m", "simsearch", *argv]
    cold = _run(cmd, cache, tmp, pythonpath)
    warm = [_run(cmd, cache, tmp, pythonpath) for _ in range(runs)]
    return {"cold": {k: cold[k] for k in ("wall_s", "cpu_s")},
            "warm": {k: min(w[k] for w in warm) for k in ("wall_s", "cpu_s")},
            "notice_cold": "compiling kernels" in cold["stderr"],
            "notice_warm": any("compiling kernels" in w["stderr"] for w in warm)}


def _print_commands(results: dict) -> None:
    print(f"{'command':28s} {'cold wall':>10s} {'cold CPU':>9s} {'warm wall':>10s} "
          f"{'warm CPU':>9s}  notice cold/warm")
    for name, r in results.items():
        print(f"{name:28s} {r['cold']['wall_s']:9.1f}s {r['cold']['cpu_s']:8.1f}s "
              f"{r['warm']['wall_s']:9.2f}s {r['warm']['cpu_s']:8.2f}s  "
              f"{r['notice_cold']}/{r['notice_warm']}")


def _extract(rev: str, into: str) -> str:
    """The package as it was at git revision ``rev``, in a directory for ``PYTHONPATH``."""
    tree = tempfile.mkdtemp(dir=into)
    archive = subprocess.run(["git", "archive", rev, "simsearch"], cwd=HERE.parent,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
    return tree


def labs_main(args) -> None:
    versions = {"now": None}
    results, compile_cpu = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.before_rev:
            versions = {f"before ({args.before_rev})": _extract(args.before_rev, tmp), **versions}
        for version, pythonpath in versions.items():
            results[f"labs, {version}"] = _cold_and_warm(LABS_COMMAND, tmp, args.runs,
                                                         pythonpath)
            runs = []
            for _ in range(args.compile_runs):
                out = _run([sys.executable, "-c", _LABS_COMPILE, str(LABS_CONFIG)],
                           tempfile.mkdtemp(dir=tmp), tmp, pythonpath)
                runs.append(json.loads(out["stdout"]))
            compile_cpu[version] = {k: min(r[k] for r in runs) for k in runs[0]}
    _print_commands(results)
    for version, kernels in compile_cpu.items():
        print(f"compile, {version}: " + ", ".join(f"{k} {v:.1f} s CPU"
                                                    for k, v in kernels.items()))
    if len(results) == 2:
        (b, before), (n, now) = results.items()
        print("cold before/now: " + ", ".join(
            f"{k} {before['cold'][k] / now['cold'][k]:.2f}x" for k in ("cpu_s", "wall_s")))
    out = HERE / "results" / "bench_first_run_labs.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"config": str(LABS_CONFIG.relative_to(HERE.parent)),
                               "commands": results, "compile_cpu_s": compile_cpu,
                               "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
                               "python": platform.python_version()}, indent=2) + "\n")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="warm runs per command (default 3)")
    parser.add_argument("--compile-runs", type=int, default=2,
                        help="fresh-cache compiles per kernel, the least kept (default 2)")
    parser.add_argument("--only", choices=["passk", "labs"], help="measure one command")
    parser.add_argument("--before-rev", metavar="REV",
                        help="labs: also measure the package at this git revision")
    args = parser.parse_args()
    if args.only != "passk":
        labs_main(args)
    if args.only == "labs":
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in COMMANDS.items():
            results[name] = _cold_and_warm(argv, tmp, args.runs)
        compile_cpu = {}
        for kernel in ("before_counts", "before_draws", "first_success_counts"):
            times = []  # compile times vary by +-20% on a shared machine: keep the least
            for _ in range(args.compile_runs):
                cache = tempfile.mkdtemp(dir=tmp)
                out = _run([sys.executable, "-c", _COMPILE, kernel], cache, tmp)
                times.append(json.loads(out["stdout"]))
            compile_cpu[kernel] = min(times)
        before = compile_cpu["before_counts"] + compile_cpu["before_draws"]
    _print_commands(results)
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
