"""Figure 2: the distribution of per-problem success probability and its heavy left tail.

Per-problem p drawn by the engine (p ~ Beta(0.3, 3)), as a histogram per unit of log10 p, with
the true density and the densities fitted by maximum likelihood from success counts alone
(1000 problems x 100 attempts; Beta-binomial and Kumaraswamy-binomial). On these axes a
density ~ p^(b-1) near 0 is a straight line of slope b: the left tail the exponent comes from.

Run:  python experiments/success_distribution.py [--quick]
"""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch import Beta, simulate_counts, simulate_pass_at_k
from simsearch.fitting.estimators import DistributionalEstimator

SEED = 2


def main() -> None:
    parser = experiment_parser(__doc__, "fewer problems")
    args = parser.parse_args()
    truth = Beta(0.3, 3)
    n_draws = 100_000 if args.quick else 2_000_000
    p = simulate_pass_at_k(truth, 1, n_draws, seed=SEED, per_problem=True).p[0]
    counts = simulate_counts(truth, 1000, 100, seed=SEED + 1)
    fitted = DistributionalEstimator("all").fit(counts.successes, counts.attempts)

    edges = np.linspace(-9, 0, 61)
    hist, _ = np.histogram(np.log10(np.clip(p, 1e-300, None)), bins=edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    per_decade = hist / (p.size * np.diff(edges))
    x = np.logspace(-9, -1e-9, 500)

    def per_decade_density(dist):
        return dist.pdf(x) * x * np.log(10)

    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    ax.bar(centres, per_decade, width=np.diff(edges), color="0.8", edgecolor="0.6",
           label=f"engine draws ({n_draws:,} problems)")
    ax.plot(np.log10(x), per_decade_density(truth), color="k", lw=2,
            label=f"true density, {truth.spec}")
    for (name, fit), colour in zip(fitted.fits_.items(), ("C0", "C3")):
        ax.plot(np.log10(x), per_decade_density(fit.distribution), color=colour, ls="--",
                label=f"fitted {name} from counts (b = {fit.exponent:.3f}, AIC {fit.aic:.0f})")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 2)
    ax.set_xlabel("log10 of single-attempt success probability p")
    ax.set_ylabel("probability density per decade of p")
    ax.set_title("Heavy left tail: density ~ p^(b-1), a line of slope b here", fontsize=10)
    ax.legend(fontsize=8.5, loc="lower right")
    ax.grid(True, alpha=0.3)
    stem = args.figures / "success_distribution"
    save_figure(fig, stem)
    save_data(stem, {"log10_p_bin_centre": centres, "density_per_decade": per_decade},
              "experiments/success_distribution.py",
              {"truth": truth.spec, "draws": n_draws, "fit_problems": 1000, "fit_attempts": 100,
               "fitted": {k: f.distribution.spec for k, f in fitted.fits_.items()}}, SEED)
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
