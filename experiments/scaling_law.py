"""Figure 1: exponential failure per problem, power-law failure in aggregate.

Each problem with success probability p has -log pass_i@k = -log(1 - (1-p)^k), which falls
exponentially in k. Averaged over problems with p ~ Beta(0.3, 3), -log pass_D@k falls as a power
law, ~ a k^(-0.3) (Schaeffer et al. 2025). Simulated aggregate (points, +-2 s.e.), its exact
expectation (line) and the asymptote C Gamma(b) k^(-b) (dashed), on the same log-log axes as
five individual problems.

Run:  python experiments/scaling_law.py [--quick]
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from scipy import special

from figure_io import experiment_parser, save_data, save_figure
from simsearch import Beta, parse_k_grid, simulate_pass_at_k

SEED = 1


def main() -> None:
    parser = experiment_parser(__doc__, "fewer simulated problems")
    args = parser.parse_args()
    alpha, beta = 0.3, 3.0
    dist = Beta(alpha, beta)
    problems = 200_000 if args.quick else 10_000_000
    k = parse_k_grid("logspace:1:1e6:25")
    res = simulate_pass_at_k(dist, k, problems, seed=SEED)
    k_fine = np.geomspace(1, 1e6, 400)
    # Density ~ p^(a-1) / B(a, b) near 0, so E[(1-p)^k] ~ Gamma(a) k^(-a) / B(a, b).
    asymptote = math.gamma(alpha) / special.beta(alpha, beta) * k_fine ** -alpha

    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    for q, shade in zip([0.9, 0.7, 0.5, 0.3, 0.1], np.linspace(0.35, 0.85, 5)):
        p = float(dist.ppf(q))
        with np.errstate(divide="ignore"):
            per_problem = -np.log1p(-np.exp(k_fine * math.log1p(-p)))
        ax.plot(k_fine, per_problem, color=str(shade), lw=1,
                label=f"one problem, p = {p:.2g}" if q in (0.9, 0.1) else None)
    ax.plot(k_fine, -np.log1p(-dist.expected_failure(k_fine)), color="C0", lw=2,
            label="aggregate, exact: -log(1 - E[(1-p)^k])")
    ax.plot(k_fine, asymptote, color="C0", ls="--", lw=1,
            label=r"asymptote $\Gamma(b)\,k^{-b}/B(\alpha,\beta)$, b = 0.3")
    sim = res.neg_log_pass_at_k[0]
    # -log pass = -log(1 - f): its s.e. is se(f) / (1 - f).
    err = 2 * res.stderr[0] / res.pass_at_k[0]
    ax.errorbar(res.k, sim, yerr=err, fmt="o", ms=4, color="C3",
                label=f"aggregate, simulated ({problems:,} problems)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, 10)
    ax.set_xlabel("attempts per problem k")
    ax.set_ylabel("-log pass@k")
    ax.set_title("p ~ Beta(0.3, 3): exponential per problem, power law in aggregate",
                 fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8.5, loc="lower left")
    stem = args.figures / "scaling_law"
    save_figure(fig, stem)
    save_data(stem, {"k": res.k, "neg_log_pass_at_k": sim,
                     "expected_neg_log_pass_at_k": res.expected_neg_log_pass_at_k,
                     "stderr_pass_at_k": res.stderr[0]},
              "experiments/scaling_law.py",
              {"dist": dist.spec, "problems": problems, "k": res.k.tolist()}, SEED)
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
