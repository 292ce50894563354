"""Figure 3: power law or not, decided by the left tail of the success distribution.

Aggregate -log pass@k (simulated points, exact lines) for four distributions of p, and the local
log-log slope d log(-log pass@k) / d log k of the exact curves. Beta, Kumaraswamy and the
mixture have density ~ p^(b-1) near 0, and their slopes settle at -b (dotted); the logit-normal,
whose density vanishes faster than any power of p, keeps steepening: no power law.

Run:  python experiments/power_law_or_not.py [--quick]
"""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch import parse_distribution, parse_k_grid, simulate_pass_at_k

SEED = 3
SPECS = ["beta(alpha=0.3, beta=3)", "kumaraswamy(a=0.6, b=2)", "logitnormal(mu=-2, sigma=1.5)",
         "mixture(0.5*beta(alpha=0.5, beta=5), 0.5*point(p=0.3))"]


def main() -> None:
    parser = experiment_parser(__doc__, "fewer simulated problems")
    args = parser.parse_args()
    problems = 200_000 if args.quick else 4_000_000
    k = parse_k_grid("logspace:1:1e6:19")
    k_fine = np.geomspace(1, 1e7, 300)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    data = {"dist": [], "k": [], "neg_log_pass_at_k": [], "expected_neg_log_pass_at_k": []}
    for i, spec in enumerate(SPECS):
        dist = parse_distribution(spec)
        res = simulate_pass_at_k(dist, k, problems, seed=SEED + i)
        exact = -np.log1p(-dist.expected_failure(k_fine))
        colour = f"C{i}"
        left.plot(k_fine, exact, color=colour, lw=1.5, label=spec)
        left.plot(res.k, res.neg_log_pass_at_k[0], "o", ms=3, color=colour)
        slope = np.gradient(np.log(exact), np.log(k_fine))
        right.plot(k_fine, slope, color=colour, lw=1.5)
        if dist.tail_exponent is not None:
            right.axhline(-dist.tail_exponent, color=colour, ls=":", lw=1)
        for name, values in (("dist", [spec] * res.k.size), ("k", res.k),
                             ("neg_log_pass_at_k", res.neg_log_pass_at_k[0]),
                             ("expected_neg_log_pass_at_k", res.expected_neg_log_pass_at_k)):
            data[name].extend(values)
    left.set(xscale="log", yscale="log", ylim=(1e-6, 10), xlabel="attempts per problem k",
             ylabel="-log pass@k")
    left.set_title(f"aggregate scaling (points: simulated, {problems:,} problems)", fontsize=10)
    # One legend for both panels (same colours), in the slope panel's empty lower right.
    right.legend(*left.get_legend_handles_labels(), fontsize=8.5, loc="lower right")
    right.set(xscale="log", ylim=(-2.5, 0), xlabel="attempts per problem k",
              ylabel="local slope d log(-log pass@k) / d log k")
    right.set_title("local slope; dotted: -b, the left-tail exponent", fontsize=10)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    stem = args.figures / "power_law_or_not"
    save_figure(fig, stem)
    save_data(stem, data, "experiments/power_law_or_not.py",
              {"dists": SPECS, "problems": problems, "k": k.tolist()}, SEED)
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
