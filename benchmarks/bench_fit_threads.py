"""Benchmark: quadrature fits with 200 bootstraps, before and after certified windows, on 1 and
2 numba threads.

* ``before``  the quadrature likelihood as it was, reconstructed below (no longer in the
              package): grid step a third of the narrowest pair's width in t = logit(x), each
              unscaled pair over its e^-80 window, every scaled pair (``--fit-scale``) over the
              whole grid, blocks of equal work per thread, no gradient (L-BFGS-B by finite
              differences);
* ``after``   the package: grid step from the Poisson-summation bound, each pair over a window
              that certifiably leaves out at most 1e-12 of its sum (for any scale), analytic
              gradient.

Fits are ``DistributionalEstimator(family, fit_scale, bootstrap=B).fit`` (what ``simsearch fit
--dist ... [--fit-scale] --bootstrap B`` runs) on 10,000 problems x 10,000 attempts from
Beta(0.3, 3), in this one process under the command line's thread policy
(``simsearch.runtime``: passive OpenMP wait, one BLAS thread). Beta is the closed-form
Beta-binomial, the same code before and after (a control for the machine's load). The
``before`` fit-scale takes 7-20 s per replicate, so it is timed on ``--before-bootstrap``
replicates (default 5) and extrapolated: point fit + B x mean replicate. Wall and CPU (all
threads) seconds; the load average is recorded before and after (the machine may be shared).

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
from scipy import special  # noqa: E402

import simsearch  # noqa: E402
from simsearch.fitting import estimators, likelihoods, quadrature  # noqa: E402
from simsearch.kernels.compound_binomial import _balanced_blocks  # noqa: E402
from simsearch.sampling.passk import simulate_counts  # noqa: E402

HERE = Path(__file__).resolve().parent
FITS = {"beta": ("beta", False), "kumaraswamy": ("kumaraswamy", False),
        "fit-scale": ("beta", True)}
PACKAGE_MODEL = quadrature._QuadratureModel


@njit(cache=True)
def _old_log_integral(c, n, lo, hi, log_x, log_1mx, log_weight, extra):
    peak = -math.inf
    for j in range(lo, hi):
        v = c * log_x[j] + (n - c) * log_1mx[j] + log_weight[j]
        if v > peak:
            peak = v
    total = 0.0
    if peak > -math.inf:
        for j in range(lo, hi):
            total += math.exp(c * log_x[j] + (n - c) * log_1mx[j] + log_weight[j] - peak)
    if total > 0.0:
        return np.logaddexp(math.log(total) + peak, extra)
    return extra


@njit(parallel=True, cache=True)
def old_log_compound_integrals(c, n, lo, hi, log_x, log_1mx, log_weight, log_head, log_tail):
    """The old kernel: each pair's log sum over [lo, hi), blocks of equal work."""
    out = np.empty(c.shape[0])
    starts = _balanced_blocks(lo, hi, np.ones_like(lo), 256)
    for b in prange(starts.size - 1):
        for u in range(starts[b], starts[b + 1]):
            extra = log_head if c[u] == 0 else (log_tail if c[u] == n[u] else -math.inf)
            out[u] = _old_log_integral(c[u], n[u], lo[u], hi[u], log_x, log_1mx, log_weight,
                                       extra)
    return out


class OldQuadratureModel(PACKAGE_MODEL):
    """The quadrature likelihood before certified windows (value only)."""

    def __init__(self, table, family, fit_scale):
        self.table, self.family, self.fit_scale = table, family, fit_scale
        self.shape = quadrature._SHAPES[family]
        self.n_params = 3 if fit_scale else 2
        self.has_gradient = False
        self.bounds = [(-12.0, 12.0)] * 2 + ([(-10.0, 15.0)] if fit_scale else [])
        c, n = table.successes, table.attempts
        width = np.sqrt(1.0 / (c + 1.0) + 1.0 / (n - c + 1.0)).min()
        step = min(0.05, width / 3.0)
        t_edge = math.log(float(n.max()) / 1e-12)
        t = np.arange(-t_edge, t_edge + step, step)
        self.log_x, self.log_1mx = -np.logaddexp(0.0, -t), -np.logaddexp(0.0, t)
        self.x, self.log_step = np.exp(self.log_x), math.log(step)
        self.x_lo = special.expit(t[0] - step / 2)
        self.log_1mx_hi = -np.logaddexp(0.0, t[-1] + step / 2)
        self.lo, self.hi = self._windows(t, c, n)

    @staticmethod
    def _windows(t, c, n):
        def bump(tt):
            return -(c + 1.0) * np.logaddexp(0.0, -tt) - (n - c + 1.0) * np.logaddexp(0.0, tt)

        mode = np.log((c + 1.0) / (n - c + 1.0))
        floor = bump(mode) - 80.0
        edges = []
        for direction in (-1.0, 1.0):
            near, far = mode.copy(), mode + direction * 2.0 * t[-1]
            for _ in range(60):
                mid = 0.5 * (near + far)
                above = bump(mid) >= floor
                near, far = np.where(above, mid, near), np.where(above, far, mid)
            edges.append(far)
        lo = np.where(c == 0, 0, np.searchsorted(t, edges[0], side="left"))
        hi = np.where(c == n, t.size, np.searchsorted(t, edges[1], side="right"))
        return lo.astype(np.int64), hi.astype(np.int64)

    def log_pmf(self, theta):
        a, b = math.exp(theta[0]), math.exp(theta[1])
        with np.errstate(divide="ignore"):
            log_weight = (self.shape.log_density(a, b, self.log_x, self.log_1mx)
                          + self.log_x + self.log_1mx + self.log_step)
            log_head, log_tail = self.shape.log_edges(a, b, self.x_lo, self.log_1mx_hi)
        t = self.table
        c, n = t.successes, t.attempts
        if not self.fit_scale:
            return t.log_binom + old_log_compound_integrals(
                c, n, self.lo, self.hi, self.log_x, self.log_1mx, log_weight, log_head, log_tail)
        scale = special.expit(theta[2])
        everywhere = (np.zeros(c.size, dtype=np.int64), np.full(c.size, self.x.size, np.int64))
        inside = old_log_compound_integrals(c, n, *everywhere, math.log(scale) + self.log_x,
                                            np.log1p(-scale * self.x), log_weight, log_head,
                                            -math.inf)
        above = c * math.log(scale) + (n - c) * math.log1p(-scale) + log_tail
        return t.log_binom + np.logaddexp(inside, above)

    def objective(self, theta, weights):
        return -self.log_likelihood(theta, weights) / weights.sum()


MODELS = {"before": OldQuadratureModel, "after": PACKAGE_MODEL}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def fit(version, threads, family, fit_scale, counts, boots):
    likelihoods._QuadratureModel = MODELS[version]
    numba.set_num_threads(threads)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        est = estimators.DistributionalEstimator(family=family, fit_scale=fit_scale,
                                                 bootstrap=boots, seed=0).fit(*counts)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        likelihoods._QuadratureModel = PACKAGE_MODEL
    ci = [] if est.exponent_ci_ is None else np.asarray(est.exponent_ci_).tolist()
    return wall, cpu, {"distribution": repr(est.distribution_), "exponent": est.exponent_,
                       "log_likelihood": est.log_likelihood_, "exponent_ci": ci}


def timed(version, threads, family, fit_scale, counts, boots, measured):
    """Time with ``measured`` replicates; extrapolate to ``boots`` from a point fit."""
    if measured >= boots:
        wall, cpu, answer = fit(version, threads, family, fit_scale, counts, boots)
        return {"wall_seconds": wall, "cpu_seconds": cpu, "replicates_timed": boots,
                "extrapolated": False}, answer
    w0, c0, answer = fit(version, threads, family, fit_scale, counts, 0)
    w1, c1, _ = fit(version, threads, family, fit_scale, counts, measured)
    per_wall, per_cpu = max(w1 - w0, 0.0) / measured, max(c1 - c0, 0.0) / measured
    return {"wall_seconds": w0 + boots * per_wall, "cpu_seconds": c0 + boots * per_cpu,
            "replicates_timed": measured, "extrapolated": True}, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3000 x 3000, 20 bootstraps")
    parser.add_argument("--bootstrap", type=int, default=None, help="replicates (default 200)")
    parser.add_argument("--before-bootstrap", type=int, default=5,
                        help="replicates timed for the old fit-scale (default 5; extrapolated)")
    parser.add_argument("--fits", default=",".join(FITS),
                        help=f"comma-separated subset of {', '.join(FITS)} (default all)")
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
    for version in MODELS:  # compile both before timing
        for family, fit_scale in fits.values():
            fit(version, 2, family, fit_scale, small, 2)

    load_before = load()
    rows, answers = [], {}
    for name, (family, fit_scale) in fits.items():
        runs = [("after", 2), ("after", 1), ("before", 2)]
        for version, threads in runs:
            slow = (version, name) == ("before", "fit-scale")
            measured = args.before_bootstrap if slow else boots
            times, answers[name, version, threads] = timed(version, threads, family, fit_scale,
                                                           counts, boots, measured)
            rows.append({"fit": name, "version": version, "threads": threads, **times})
            note = f" (extrapolated from {measured} replicates)" if times["extrapolated"] else ""
            print(f"  {name:12s} {version:6s} {threads} thread(s): "
                  f"{times['wall_seconds']:7.2f} s wall {times['cpu_seconds']:7.2f} s CPU{note}",
                  flush=True)
    load_after = load()

    def seconds(name, version, threads, kind="wall_seconds"):
        return next(r[kind] for r in rows if r["fit"] == name and r["version"] == version
                    and r["threads"] == threads)

    summary = {}
    for name in fits:
        after, before = answers[name, "after", 2], answers[name, "before", 2]
        summary[name] = {
            "after_2_threads_wall_seconds": seconds(name, "after", 2),
            "after_2_threads_cpu_seconds": seconds(name, "after", 2, "cpu_seconds"),
            "before_2_threads_wall_seconds": seconds(name, "before", 2),
            "before_2_threads_cpu_seconds": seconds(name, "before", 2, "cpu_seconds"),
            "wall_after_over_before": seconds(name, "after", 2) / seconds(name, "before", 2),
            "cpu_after_over_before": (seconds(name, "after", 2, "cpu_seconds")
                                      / seconds(name, "before", 2, "cpu_seconds")),
            "wall_2_over_1_thread_after": seconds(name, "after", 2) / seconds(name, "after", 1),
            "identical_on_1_and_2_threads": answers[name, "after", 1] == after,
            "exponent_after_minus_before": after["exponent"] - before["exponent"],
            "log_likelihood_after_minus_before": (after["log_likelihood"]
                                                  - before["log_likelihood"]),
            "under_10_seconds_on_2_threads": seconds(name, "after", 2) < 10.0,
        }
    results = {
        "problems": problems, "attempts": attempts, "bootstrap": boots,
        "before_fit_scale_replicates_timed": args.before_bootstrap,
        "distinct_pairs": int(likelihoods.CountTable.from_counts(*counts).successes.size),
        "load_average_before": load_before, "load_average_after": load_after,
        "cpus": os.cpu_count(), "threading_layer": numba.threading_layer(),
        "thread_policy": {k: os.environ.get(k) for k in runtime.COMMAND_LINE},
        "simsearch_version": simsearch.__version__, "python": platform.python_version(),
        "numba": numba.__version__, "runs": rows, "summary": summary,
        "answers": {f"{k[0]} {k[1]} {k[2]} threads": v for k, v in answers.items()},
    }
    print(f"\nfit of {problems} problems x {attempts} attempts, bootstrap {boots}, 2 threads; "
          f"load average {load_before} before, {load_after} after")
    print(f"{'fit':12s} {'before wall':>12s} {'after wall':>11s} {'wall ratio':>11s} "
          f"{'before CPU':>11s} {'after CPU':>10s} {'CPU ratio':>10s} {'2/1 thr':>8s}")
    for name, s in summary.items():
        print(f"{name:12s} {s['before_2_threads_wall_seconds']:10.2f} s "
              f"{s['after_2_threads_wall_seconds']:9.2f} s {s['wall_after_over_before']:11.3f} "
              f"{s['before_2_threads_cpu_seconds']:9.2f} s "
              f"{s['after_2_threads_cpu_seconds']:8.2f} s "
              f"{s['cpu_after_over_before']:10.3f} {s['wall_2_over_1_thread_after']:8.2f}")
    for name, s in summary.items():
        print(f"{name}: identical on 1 and 2 threads: {s['identical_on_1_and_2_threads']}; "
              f"exponent after - before {s['exponent_after_minus_before']:.2e}, "
              f"log-likelihood after - before {s['log_likelihood_after_minus_before']:.2e}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
