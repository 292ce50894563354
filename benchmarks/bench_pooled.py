"""Benchmark: the joint (pooled) item-response fit of 10 models x 500 problems x 1,000 attempts
with a 100-replicate bootstrap over problems (issue 25 aims at under 30 s on 2 cores).

* simsearch   ``fit_pooled`` (EM with 20 steps of the prior's weights, matrix-vector products,
              per update of the models' lines) and ``bootstrap_pooled`` (each replicate refits
              the joint model, warm-started from the full-data fit).
* textbook EM the same model with one prior step per update of the lines (plain EM), timed on
              the full-data fit and extrapolated to 1 + B fits.

Run:  python benchmarks/bench_pooled.py [--quick]
Writes benchmarks/results/bench_pooled.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import special

from simsearch.fitting import pooled

HERE = Path(__file__).resolve().parent


def ladder(models: int, problems: int, attempts: int, seed: int = 1) -> pooled.PooledCounts:
    """Shared difficulty with problem x model noise and 20% unsolvable problems."""
    rng = np.random.default_rng(seed)
    t = rng.normal(-6.0, 3.0, problems)
    logit = (np.linspace(0, 4, models)[None, :] + t[:, None]
             + rng.normal(0.0, 0.5, (problems, models)))
    p = special.expit(logit)
    p[rng.random(problems) < 0.2] = 0.0
    c = rng.binomial(attempts, p)
    return pooled.PooledCounts(c, np.full(c.shape, attempts), tuple(f"m{j}" for j in range(models)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 models x 200 problems, B = 20")
    args = parser.parse_args()
    models, problems, attempts, boots = (5, 200, 1000, 20) if args.quick else (10, 500, 1000, 100)
    counts = ladder(models, problems, attempts)

    t0 = time.perf_counter()
    fit = pooled.fit_pooled(counts)
    draws = pooled.bootstrap_pooled(counts, fit, [10_000], boots, seed=0)
    ours = time.perf_counter() - t0

    steps = pooled.WEIGHT_STEPS
    pooled.WEIGHT_STEPS = 1
    try:
        t0 = time.perf_counter()
        textbook = pooled.fit_pooled(counts)
        one_fit = time.perf_counter() - t0
    finally:
        pooled.WEIGHT_STEPS = steps
    baseline = one_fit * (1 + boots)

    result = {"models": models, "problems": problems, "attempts": attempts, "bootstrap": boots,
              "simsearch_s": ours, "simsearch_em_iterations": fit.iterations,
              "textbook_em_one_fit_s": one_fit, "textbook_em_iterations": textbook.iterations,
              "textbook_em_converged": textbook.converged,
              "textbook_em_extrapolated_s": baseline, "speedup": baseline / ours,
              "interval_width_mean": float(np.mean(np.ptp(np.quantile(draws, [0.025, 0.975],
                                                                        axis=0), axis=0)))}
    print(f"{models} models x {problems} problems x {attempts} attempts, B = {boots}")
    print(f"simsearch      {ours:8.2f} s  ({fit.iterations} EM iterations for the full fit)")
    print(f"textbook EM    {baseline:8.2f} s  (extrapolated from one fit of {one_fit:.2f} s, "
          f"{textbook.iterations} iterations, converged {textbook.converged})")
    print(f"ratio          {baseline / ours:8.1f}x")
    out = HERE / "results" / ("bench_pooled_quick.json" if args.quick else "bench_pooled.json")
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
