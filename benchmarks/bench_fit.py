"""Benchmark: fitting the exponent of 10,000 problems x 10,000 attempts with 200 bootstraps.

* simsearch   ``simsearch fit counts.csv --bootstrap 200`` as a whole process, and the same fit
              in-process (``DistributionalEstimator``): Beta-binomial MLE with an analytic
              gradient on the distinct (successes, attempts) pairs; a bootstrap replicate is a
              multinomial reweighting of the pairs.
* plain SciPy ``scipy.stats.betabinom.logpmf`` summed over all problems, minimised with
              ``scipy.optimize.minimize`` (L-BFGS-B, numerical gradient), bootstrap by resampling
              problems. Timed on a few replicates and extrapolated to 200.

Run:  python benchmarks/bench_fit.py [--quick]
Writes benchmarks/results/bench_fit.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from simsearch.fitting.estimators import DistributionalEstimator
from simsearch.sampling.passk import simulate_counts

HERE = Path(__file__).resolve().parent


def plain_scipy_fit(c, n, start=(0.5, 2.0)):
    def nll(theta):
        return -stats.betabinom.logpmf(c, n, *np.exp(theta)).sum()
    return np.exp(optimize.minimize(nll, np.log(start), method="L-BFGS-B").x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 x 2000, 20 bootstraps")
    args = parser.parse_args()
    problems, attempts, boots = (2000, 2000, 20) if args.quick else (10_000, 10_000, 200)
    sc = simulate_counts("beta(alpha=0.3, beta=3)", problems, attempts, seed=1)

    t0 = time.perf_counter()
    est = DistributionalEstimator(bootstrap=boots, seed=0).fit(sc.successes, sc.attempts)
    ours = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counts.csv"
        path.write_text("successes,attempts\n" + "".join(
            f"{c},{n}\n" for c, n in zip(sc.successes, sc.attempts)))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simsearch", "fit", str(path), "--bootstrap",
                        str(boots), "--json"], check=True, capture_output=True)
        ours_process = time.perf_counter() - t0

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    point = plain_scipy_fit(sc.successes, sc.attempts)
    base_point = time.perf_counter() - t0
    timed = 3
    t0 = time.perf_counter()
    for _ in range(timed):
        idx = rng.integers(0, problems, problems)
        plain_scipy_fit(sc.successes[idx], sc.attempts[idx], start=point)
    per_boot = (time.perf_counter() - t0) / timed
    baseline = base_point + boots * per_boot

    results = {
        "problems": problems, "attempts": attempts, "bootstrap": boots,
        "simsearch_in_process_seconds": ours, "simsearch_whole_process_seconds": ours_process,
        "plain_scipy_seconds_extrapolated": baseline,
        "plain_scipy_measured": {"point_fit_seconds": base_point, "per_bootstrap_seconds":
                                 per_boot, "bootstrap_replicates_timed": timed},
        "distinct_pairs": int(est.table_.successes.size),
        "alpha_hat": {"simsearch": est.exponent_, "plain_scipy": float(point[0])},
        "alpha_ci": [float(x) for x in est.exponent_ci_],
    }
    print(f"fit, {problems} problems x {attempts} attempts, bootstrap {boots} "
          f"({results['distinct_pairs']} distinct (c, n) pairs)")
    print(f"  simsearch, in process      {ours:8.2f} s")
    print(f"  simsearch fit, whole CLI   {ours_process:8.2f} s")
    print(f"  plain SciPy (extrapolated) {baseline:8.1f} s   "
          f"({baseline / ours:.0f}x the in-process time)")
    print(f"  alpha-hat {est.exponent_:.4f} (plain SciPy {point[0]:.4f}), 95% CI "
          f"[{est.exponent_ci_[0]:.4f}, {est.exponent_ci_[1]:.4f}]")
    out = HERE / "results" / "bench_fit.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
