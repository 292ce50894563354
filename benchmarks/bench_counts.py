"""Benchmark: aggregate unbiased pass@k from per-problem counts (``pass_at_k_from_counts``)
against the plain SciPy peer, log-gamma ratios over every (problem, k), in the same process.

Counts as in real files: 1e5 problems, 1e4 attempts each, p ~ Beta(0.3, 3), 50 k on a log grid.
simsearch works once per distinct (c, n) pair; the peer once per problem. Both warmed up once
(numba cache), then the median of paired timings; the largest difference between the two
answers is printed too (the peer's log-gamma differences lose digits when pass@k is small).

Run:  python benchmarks/bench_counts.py [--problems N] [--attempts N] [--runs N]
Writes benchmarks/results/bench_counts.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from scipy.special import gammaln

from simsearch.fitting.counts import distinct_pairs, pass_at_k_from_counts

HERE = Path(__file__).resolve().parent


def scipy_peer(c, n, k):
    """The 15-line SciPy version: 1 - C(n-c, k)/C(n, k) via gammaln, per problem and k."""
    c, n, k = c[:, None].astype(float), n[:, None].astype(float), k[None, :].astype(float)
    feasible = n - c >= k
    log_ratio = (gammaln(n - c + 1) - gammaln(np.where(feasible, n - c - k + 1, 1.0))
                 - gammaln(n + 1) + gammaln(n - k + 1))
    per_problem = np.where(feasible, -np.expm1(log_ratio), 1.0)
    return per_problem.mean(axis=0)


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(2023)
    n = np.full(args.problems, args.attempts, dtype=np.int64)
    c = rng.binomial(n, rng.beta(0.3, 3.0, size=args.problems))
    k = np.unique(np.round(np.logspace(0, np.log10(args.attempts), 50)).astype(np.int64))
    ours_fn = lambda: pass_at_k_from_counts(c, n, k)  # noqa: E731
    peer_fn = lambda: scipy_peer(c, n, k)  # noqa: E731
    ours_value, peer_value = ours_fn(), peer_fn()  # warm-up (numba cache load)
    ours, peer = [], []
    for _ in range(args.runs):
        ours.append(_time(ours_fn))
        peer.append(_time(peer_fn))
    ratio = statistics.median(ours) / statistics.median(peer)
    diff = float(np.max(np.abs(ours_value / peer_value - 1)))
    pairs = distinct_pairs(c, n)[0].size
    print(f"pass@k from counts: {args.problems} problems x {args.attempts} attempts, "
          f"{k.size} k, {pairs} distinct pairs; median of {args.runs} (seconds)")
    print(f"  simsearch pass_at_k_from_counts  {statistics.median(ours):.4f}")
    print(f"  SciPy gammaln per problem        {statistics.median(peer):.4f}")
    print(f"  ratio                            {ratio:.3f}x   (bar <= 1.0, goal 0.1)")
    print(f"  largest relative difference      {diff:.1e}")
    out = {"problems": args.problems, "attempts": args.attempts, "k": k.size,
           "distinct_pairs": pairs, "simsearch_s": ours, "scipy_s": peer, "ratio": ratio,
           "max_relative_difference": diff, "cores": os.cpu_count(),
           "python": platform.python_version(), "load_average": os.getloadavg()}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_counts.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
