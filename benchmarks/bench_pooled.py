"""Benchmark: the joint (pooled) item-response fit of 10 models x 500 problems x 1,000 attempts
with a 100-replicate bootstrap over problems (issue 25 aims at under 30 s on 2 cores).

* simsearch    ``fit_irt`` + ``bootstrap_pooled``: EM on the distinct rows of counts (a
               resample leaves out about a third of the problems), 20 steps of the prior's
               weights per update of the models' lines, the lines' Newton steps for all models
               at once; each replicate refits warm-started from the full-data fit. Timed in
               this process (``workers=1``) and over two processes (``workers=2``).
* textbook EM  the same model fitted by plain EM in NumPy: every problem's row, one step of the
               prior's weights per update of the lines. Timed on the full-data fit and
               extrapolated to 1 + B fits.

Run:  python benchmarks/bench_pooled.py [--quick]
Writes benchmarks/results/bench_pooled.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import simsearch  # noqa: F401  (first, as the command line does: one BLAS thread per process)

import numpy as np  # noqa: E402
from scipy import special  # noqa: E402

from simsearch.fitting import pooled, pooled_irt  # noqa: E402

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


def textbook_em(counts: pooled.PooledCounts) -> tuple[int, bool]:
    """Plain EM from simsearch's starting point: (iterations, converged)."""
    c, n = counts.successes, counts.attempts
    rate = (c.sum(0) + 0.5) / (n.sum(0) + 1.0)
    intercept = special.logit(rate) - special.logit(rate[0])
    slope = np.ones(c.shape[1])
    weights = np.full(pooled_irt.T_GRID.size + 1, 1.0 / (pooled_irt.T_GRID.size + 1))
    previous = -np.inf
    for iteration in range(1, pooled_irt.EM_MAX_ITER + 1):
        log_comp = pooled_irt._log_components(counts, intercept, slope)
        top = log_comp.max(1)
        like = np.exp(log_comp - top[:, None])
        marginal = np.maximum(like @ weights, 1e-300)
        mean_ll = float(np.mean(top + np.log(marginal)))
        if mean_ll - previous < pooled_irt.EM_TOL:
            return iteration, True
        previous = mean_ll
        post = like * weights[None, :] / marginal[:, None]
        weights = post.mean(0)
        grid = post[:, 1:]
        intercept[1:], slope[1:] = pooled_irt._newton_lines(c[:, 1:].T @ grid, n[:, 1:].T @ grid,
                                                        intercept[1:], slope[1:], False)
    return pooled_irt.EM_MAX_ITER, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 models x 200 problems, B = 20")
    args = parser.parse_args()
    models, problems, attempts, boots = (5, 200, 1000, 20) if args.quick else (10, 500, 1000, 100)
    counts = ladder(models, problems, attempts)

    times, draws = {}, {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        fit = pooled_irt.fit_irt(counts)
        draws[workers] = pooled.bootstrap_pooled(counts, fit, [10_000], boots,
                                                 method="pooled-irt",
                                                 seed=0, workers=workers)
        times[workers] = time.perf_counter() - t0
    assert np.array_equal(draws[1], draws[2]), "results must not depend on workers"

    t0 = time.perf_counter()
    iterations, converged = textbook_em(counts)
    one_fit = time.perf_counter() - t0
    baseline = one_fit * (1 + boots)

    result = {"models": models, "problems": problems, "attempts": attempts, "bootstrap": boots,
              "simsearch_s": times[1], "simsearch_workers2_s": times[2],
              "simsearch_em_iterations": fit.iterations,
              "textbook_em_one_fit_s": one_fit, "textbook_em_iterations": iterations,
              "textbook_em_converged": converged,
              "textbook_em_extrapolated_s": baseline, "speedup": baseline / times[1],
              "speedup_workers2": baseline / times[2],
              "interval_width_mean": float(np.mean(np.ptp(np.quantile(draws[1], [0.025, 0.975],
                                                                        axis=0), axis=0)))}
    print(f"{models} models x {problems} problems x {attempts} attempts, B = {boots}")
    print(f"simsearch, 1 process   {times[1]:8.2f} s  ({fit.iterations} EM iterations for the "
          f"full fit)")
    print(f"simsearch, 2 processes {times[2]:8.2f} s  (same draws)")
    print(f"textbook EM            {baseline:8.2f} s  (extrapolated from one fit of {one_fit:.2f} s, "
          f"{iterations} iterations, converged {converged})")
    print(f"ratio                  {baseline / times[1]:8.1f}x, {baseline / times[2]:.1f}x")
    out = HERE / "results" / ("bench_pooled_quick.json" if args.quick else "bench_pooled.json")
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
