"""Benchmark: the cost of a tiny simulation under each thread policy, idle and beside a busy process.

A sweep point or a short ``simsearch passk`` is mostly fixed cost. When the cores are shared,
idle numba (OpenMP) threads that spin-wait between parallel regions steal the time the work
needs, so the thread policy, not the engine, sets the cost. Each policy runs in its own process
(the environment must be set before numba and OpenBLAS start their pools):

* ``default``        what a process gets with no simsearch policy: numba's OpenMP layer with
                     libgomp's default spin-wait, one numba thread per core, threaded OpenBLAS.
* ``passive``        OMP_WAIT_POLICY=PASSIVE: idle numba threads sleep instead of spinning.
* ``simsearch``      the policy ``simsearch.runtime`` applies to the command line (passive wait,
                     one BLAS thread).
* ``worker``         the policy of sweep worker processes: one numba thread, one BLAS thread.

Each is timed idle and with one CPU-bound process beside it (``busy``).

Run:  python benchmarks/bench_threads.py [--calls N]
Writes benchmarks/results/bench_threads.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

POLICIES = {
    "default": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "simsearch": "command",
    "worker": "worker",
}

_CHILD = r"""
import json, sys, time
from simsearch import runtime
policy = sys.argv[2]
if policy in ("command", "worker"):
    runtime.apply_thread_policy(worker=policy == "worker")
import numba
from simsearch.sampling.passk import simulate_pass_at_k
calls = int(sys.argv[1])
simulate_pass_at_k("beta(alpha=0.3, beta=3)", [1, 10, 100, 1000], 2000, seed=0)   # compile
times = []
for i in range(calls):
    start = time.perf_counter()
    simulate_pass_at_k("beta(alpha=0.3, beta=3)", [1, 10, 100, 1000], 2000, seed=i)
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"median_ms": 1e3 * times[len(times) // 2],
                  "p90_ms": 1e3 * times[int(0.9 * len(times))],
                  "numba_threads": numba.get_num_threads(),
                  "layer": numba.threading_layer()}))
"""


def _burn(stop):
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _time_policy(name: str, calls: int) -> dict:
    policy = POLICIES[name]
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}
    argv = [sys.executable, "-c", _CHILD, str(calls), "none"]
    if isinstance(policy, dict):
        env.update(policy)
    else:
        argv[-1] = policy
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    rows = []
    for load in ("idle", "busy"):
        stop = mp.Event()
        burner = mp.Process(target=_burn, args=(stop,)) if load == "busy" else None
        if burner:
            burner.start()
        try:
            for name in POLICIES:
                rows.append({"load": load, "policy": name, **_time_policy(name, args.calls)})
        finally:
            if burner:
                stop.set()
                burner.join()
    base = {row["load"]: row["median_ms"] for row in rows if row["policy"] == "default"}
    print(f"{'load':6s} {'policy':10s} {'threads':>7s} {'median ms':>10s} {'p90 ms':>8s} "
          f"{'vs default':>10s}")
    for row in rows:
        row["ratio_to_default"] = row["median_ms"] / base[row["load"]]
        print(f"{row['load']:6s} {row['policy']:10s} {row['numba_threads']:7d} "
              f"{row['median_ms']:10.2f} {row['p90_ms']:8.2f} {row['ratio_to_default']:10.2f}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_threads.json").write_text(json.dumps(
        {"calls": args.calls, "cpu_count": os.cpu_count(), "machine": platform.platform(),
         "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
