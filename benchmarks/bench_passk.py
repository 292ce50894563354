"""Benchmark: the pass@k engine against plain NumPy on the same work, measured in one run.

Work: P problems with p ~ Beta(0.3, 3), aggregate pass@k on 25 log-spaced k from 1 to 1e6.

* engine      ``simsearch passk`` as a whole process (numba cache warmed by a first run);
              ``engine-compute`` is the same simulation timed inside a warm process, without
              the ~1.2 s fixed start-up (importing numba and scipy, loading cached kernels).
* numpy-geom  plain NumPy, one geometric draw per problem: ``rng.beta``, ``rng.geometric``,
              ``np.searchsorted`` + ``np.bincount``; a whole process as well.
* numpy-bern  plain NumPy, one Bernoulli draw per attempt (a vectorised loop over attempts on
              the problems still unsolved). Infeasible at full size: its draw rate is measured
              on a smaller run and its time extrapolated with the exact number of draws the full
              work needs, P * sum_{j<k} E[(1-p)^j], from the Beta closed form.

Run:  python benchmarks/bench_passk.py [--problems 20000000] [--quick]
Writes benchmarks/results/bench_passk.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from scipy import special

HERE = Path(__file__).resolve().parent
ALPHA, BETA = 0.3, 3.0
K_SPEC = "logspace:1:1e6:25"

NUMPY_GEOMETRIC = textwrap.dedent("""
    import sys, numpy as np
    P = int(sys.argv[1])
    k = np.unique(np.round(np.logspace(0, 6, 25)))
    rng = np.random.default_rng(11)
    p = rng.beta({a}, {b}, P)
    t = rng.geometric(p)
    counts = np.bincount(np.searchsorted(k, t), minlength=k.size + 1)
    print((np.cumsum(counts[:-1]) / P)[-1])
""").format(a=ALPHA, b=BETA)

ENGINE_IN_PROCESS = textwrap.dedent("""
    import sys, time
    import simsearch as ss
    P = int(sys.argv[1])
    k = ss.parse_k_grid("{k}")
    ss.simulate_pass_at_k("beta(alpha={a}, beta={b})", k, 1000, seed=1)  # load the kernels
    t0 = time.perf_counter()
    ss.simulate_pass_at_k("beta(alpha={a}, beta={b})", k, P, seed=11)
    print(time.perf_counter() - t0)
""").format(a=ALPHA, b=BETA, k=K_SPEC)

NUMPY_BERNOULLI = textwrap.dedent("""
    import sys, time, numpy as np
    sys.path.insert(0, {tests!r})  # the tests' plain-NumPy reference
    from passk_reference import first_success_times_bernoulli
    P, K = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(11)
    p = rng.beta({a}, {b}, P)
    t0 = time.perf_counter()
    first_success_times_bernoulli(p, K, rng)
    print(time.perf_counter() - t0)
""").format(a=ALPHA, b=BETA, tests=str(Path(__file__).resolve().parents[1] / "tests"))


def run_process(argv: list[str]) -> tuple[float, float, str]:
    """Wall time (s), peak resident memory (MiB) and stdout of one child process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child with its own rusage
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv} failed:\n{err.read()}")
        return wall, usage.ru_maxrss / 1024, out.read()


def expected_draws(problems: int, k_max: int) -> float:
    """P * E[min(T, k)] = P * sum_{j=0}^{k-1} E[(1-p)^j] for p ~ Beta(ALPHA, BETA)."""
    j = np.arange(k_max, dtype=float)
    return problems * np.exp(special.betaln(ALPHA, BETA + j) - special.betaln(ALPHA, BETA)).sum()


def best_of(repeats: int, argv: list[str]) -> tuple[float, float, str]:
    runs = [run_process(argv) for _ in range(repeats)]
    return min(runs, key=lambda r: r[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=20_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--quick", action="store_true", help="2e6 problems, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.problems, args.repeats = 2_000_000, 1
    P = args.problems
    py = sys.executable
    engine_argv = [py, "-m", "simsearch", "passk", "--dist", f"beta(alpha={ALPHA}, beta={BETA})",
                   "--problems", str(P), "--k", K_SPEC, "--seed", "11", "--no-progress"]

    subprocess.run(engine_argv[:-3] + ["--problems", "1000", "--no-progress"], check=True,
                   capture_output=True)  # warm the numba cache
    results = {}
    for name, argv in (("engine", engine_argv),
                       ("numpy-geom", [py, "-c", NUMPY_GEOMETRIC, str(P)])):
        wall, rss, _ = best_of(args.repeats, argv)
        results[name] = {"seconds": wall, "peak_rss_mib": rss}

    compute = min(float(run_process([py, "-c", ENGINE_IN_PROCESS, str(P)])[2])
                  for _ in range(args.repeats))
    results["engine-compute"] = {"seconds": compute, "in_process": True,
                                 "ns_per_problem_per_core": compute * os.cpu_count() / P * 1e9}

    small_p, small_k = 20_000, 20_000
    bern_seconds = float(run_process([py, "-c", NUMPY_BERNOULLI, str(small_p),
                                      str(small_k)])[2])
    rate = expected_draws(small_p, small_k) / bern_seconds
    results["numpy-bern"] = {
        "seconds": expected_draws(P, 10**6) / rate, "extrapolated": True,
        "measured": {"problems": small_p, "k_max": small_k, "seconds": bern_seconds,
                     "draws_per_second": rate},
    }

    base = results["numpy-geom"]["seconds"]
    print(f"pass@k, {P:.3g} problems, p ~ Beta({ALPHA}, {BETA}), 25 k from 1 to 1e6, "
          f"{os.cpu_count()} cores, whole process, best of {args.repeats}")
    print(f"{'':12s} {'seconds':>12s} {'vs numpy-geom':>14s} {'peak MiB':>10s}")
    for name, r in results.items():
        mem = f"{r['peak_rss_mib']:.0f}" if "peak_rss_mib" in r else "-"
        tag = (" (extrapolated)" if r.get("extrapolated") else
               " (in-process, after start-up)" if r.get("in_process") else "")
        print(f"{name:12s} {r['seconds']:12.3g} {r['seconds'] / base:14.3g} {mem:>10s}{tag}")
    out = HERE / "results" / "bench_passk.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"problems": P, "k": K_SPEC, "cores": os.cpu_count(),
                               "results": results}, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
