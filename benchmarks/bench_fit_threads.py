"""Benchmark: quadrature fits on 1 and 2 numba threads, before and after balancing the work.

The Kumaraswamy and scaled-Beta likelihoods integrate each distinct (successes, attempts) pair
over its own window of a logit grid (``simsearch.kernels.compound_binomial``). Windows vary a
lot with the successes, and numba's prange splits the pairs statically into contiguous
halves, so before balancing one thread of two got most of the work and 2 threads were slower
than 1. The kernel now gives prange blocks of pairs of about equal total window size.

* ``before``  the unbalanced kernel as it was (reconstructed below, prange over the pairs),
              patched into ``simsearch.estimators`` for the run;
* ``after``   the package's kernel.

Each fit is ``DistributionalEstimator(family, fit_scale, bootstrap=B).fit`` (what ``simsearch
fit --dist ...`` runs) on 10,000 problems x 10,000 attempts drawn from Beta(0.3, 3), timed
in this one process under the command line's thread policy (``simsearch.runtime``: passive
OpenMP wait, one BLAS thread), with ``numba.set_num_threads`` 1 or 2. Wall and CPU (all
threads) seconds; the fitted parameters and intervals must agree exactly before and after.
The machine may be shared: the load average is recorded before and after.

Run:  python benchmarks/bench_fit_threads.py [--quick] [--bootstrap B] [--fits F] [--out PATH]
Writes benchmarks/results/bench_fit_threads.json beside printing a table.
"""

from __future__ import annotations

from simsearch import runtime

runtime.apply_thread_policy()  # before numpy and numba start their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

import simsearch  # noqa: E402
from simsearch import estimators  # noqa: E402
from simsearch.kernels.compound_binomial import _log_integral  # noqa: E402
from simsearch.repeated_sampling import simulate_counts  # noqa: E402

HERE = Path(__file__).resolve().parent
FITS = {"kumaraswamy": ("kumaraswamy", False), "fit-scale": ("beta", True)}


@njit(parallel=True, cache=True)
def unbalanced_log_compound_integrals(c, n, lo, hi, log_x, log_1mx, log_weight, log_head,
                                      log_tail):
    """The kernel before balancing: prange straight over the pairs (numba's static split),
    each pair summed by the package's own per-pair routine, so only the split differs."""
    out = np.empty(c.shape[0])
    for u in prange(c.shape[0]):
        extra = log_head if c[u] == 0 else (log_tail if c[u] == n[u] else -math.inf)
        out[u] = _log_integral(c[u], n[u], lo[u], hi[u], log_x, log_1mx, log_weight, extra)
    return out


KERNELS = {"before": unbalanced_log_compound_integrals,
           "after": estimators.log_compound_integrals}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def fit(kernel, threads, family, fit_scale, counts, boots):
    estimators.log_compound_integrals = KERNELS[kernel]
    numba.set_num_threads(threads)
    wall, cpu = time.perf_counter(), time.process_time()
    est = estimators.DistributionalEstimator(family=family, fit_scale=fit_scale,
                                             bootstrap=boots, seed=0).fit(*counts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ci = [] if est.exponent_ci_ is None else np.asarray(est.exponent_ci_).tolist()
    answer = (repr(est.distribution_), est.log_likelihood_, ci)
    return wall, cpu, answer


def first_half_share(counts, family, fit_scale) -> float:
    """Share of the window work in the first half of the pairs (prange's thread 0 of 2)."""
    model = estimators._model(estimators.CountTable.from_counts(*counts), family, fit_scale)
    if fit_scale or family == "scaled-beta":
        return 0.5  # a scaled family sums every pair over the whole grid
    work = model.hi - model.lo
    return float(work[: work.size // 2].sum() / work.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3000 x 3000, 20 bootstraps")
    parser.add_argument("--bootstrap", type=int, default=None, help="replicates (default 200)")
    parser.add_argument("--fits", default=",".join(FITS),
                        help=f"comma-separated subset of {', '.join(FITS)} (default both)")
    parser.add_argument("--out", default=str(HERE / "results" / "bench_fit_threads.json"),
                        help="results JSON (default benchmarks/results/bench_fit_threads.json)")
    args = parser.parse_args()
    problems, attempts, boots = (3000, 3000, 20) if args.quick else (10_000, 10_000, 200)
    boots = args.bootstrap if args.bootstrap is not None else boots
    fits = {name: FITS[name] for name in args.fits.split(",")}
    if numba.config.NUMBA_NUM_THREADS < 2:
        raise SystemExit("needs 2 numba threads (NUMBA_NUM_THREADS >= 2)")
    sc = simulate_counts("beta(alpha=0.3, beta=3)", problems, attempts, seed=1)
    counts = (sc.successes, sc.attempts)
    small = (sc.successes[:300], sc.attempts[:300])
    for kernel in KERNELS:  # compile both kernels before timing
        for family, fit_scale in fits.values():
            fit(kernel, 2, family, fit_scale, small, 0)

    load_before = load()
    rows = []
    for name, (family, fit_scale) in fits.items():
        answers = {}
        for threads in (1, 2):
            for kernel in KERNELS:
                wall, cpu, answers[kernel, threads] = fit(kernel, threads, family, fit_scale,
                                                          counts, boots)
                rows.append({"fit": name, "kernel": kernel, "threads": threads,
                             "wall_seconds": wall, "cpu_seconds": cpu})
                print(f"  {name:12s} {kernel:6s} {threads} thread(s): {wall:6.2f} s wall "
                      f"{cpu:6.2f} s CPU", flush=True)
        same = len({json.dumps(a) for a in answers.values()}) == 1
        rows.append({"fit": name, "identical_results": same,
                     "first_half_work_share": first_half_share(counts, family, fit_scale)})
    load_after = load()

    def seconds(name, kernel, threads, kind="wall_seconds"):
        return next(r[kind] for r in rows if r.get("fit") == name and r.get("kernel") == kernel
                    and r.get("threads") == threads)

    summary = {}
    for name in fits:
        summary[name] = {
            "after_2_threads_wall_seconds": seconds(name, "after", 2),
            "wall_2_over_1_thread_before": seconds(name, "before", 2) / seconds(name, "before", 1),
            "wall_2_over_1_thread_after": seconds(name, "after", 2) / seconds(name, "after", 1),
            "wall_after_over_before_2_threads":
                seconds(name, "after", 2) / seconds(name, "before", 2),
            "cpu_after_over_before_2_threads":
                seconds(name, "after", 2, "cpu_seconds") / seconds(name, "before", 2, "cpu_seconds"),
            "under_10_seconds_on_2_threads": seconds(name, "after", 2) < 10.0,
        }
    results = {
        "problems": problems, "attempts": attempts, "bootstrap": boots,
        "distinct_pairs": int(estimators.CountTable.from_counts(*counts).successes.size),
        "load_average_before": load_before, "load_average_after": load_after,
        "cpus": os.cpu_count(), "threading_layer": numba.threading_layer(),
        "thread_policy": {k: os.environ.get(k) for k in runtime.COMMAND_LINE},
        "simsearch_version": simsearch.__version__, "python": platform.python_version(),
        "numba": numba.__version__, "runs": rows, "summary": summary,
    }
    print(f"\nfit of {problems} problems x {attempts} attempts, bootstrap {boots}; "
          f"load average {load_before} before, {load_after} after")
    print(f"{'fit':12s} {'2/1 thr before':>15s} {'2/1 thr after':>14s} "
          f"{'after/before (2 thr)':>21s} {'after, 2 thr':>13s}")
    for name, s in summary.items():
        print(f"{name:12s} {s['wall_2_over_1_thread_before']:15.2f} "
              f"{s['wall_2_over_1_thread_after']:14.2f} "
              f"{s['wall_after_over_before_2_threads']:21.2f} "
              f"{s['after_2_threads_wall_seconds']:11.2f} s")
    for r in rows:
        if "identical_results" in r:
            print(f"{r['fit']}: identical results before/after and 1/2 threads: "
                  f"{r['identical_results']}; first half of the pairs holds "
                  f"{100 * r['first_half_work_share']:.0f}% of the window work")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
