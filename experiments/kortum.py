"""Figure 8: Kortum's record search, and the returns to research measured back from it.

An endless stream of ideas with Pareto(theta) values (P(X > x) = x^-theta); a lab's
productivity A is the best value found so far. The best of K values grows like K^(1/theta):
its median is exactly (1 - 2^(-1/K))^(-1/theta) ~ (K / ln 2)^(1/theta). Theory also gives the
parameters forecasters argue about: r = 1/theta doublings of A per doubling of cumulative
research, and Jones's dA/dt = R^lambda A^phi with lambda = 1, phi = 1 - theta.

(a) best value against ideas tried, median and 10-90% band over replicates, beside the exact
median; (b) r, lambda and phi fitted from the simulated labs (bootstrap 95% intervals over
replicates) against theory, for several theta; the labs differ in budget, growth and cost per
attempt (10 to 0.1), which the lab fixed effects of the Jones regression absorb.

Run:  python experiments/kortum.py [--quick]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch.labs import labs_config, simulate_labs
from simsearch.labs import ReturnsEstimator, kortum_theory
from simsearch.labs.theory import kortum_median_best

SEED = 8
CURVE_THETAS = [0.7, 1.5, 3.0]
FIT_THETAS = [0.7, 1.0, 1.5, 2.0, 3.0]
# Labs with different budgets, costs per attempt and growth rates. The fit has one intercept per
# lab (a lab's delta scales with cost^-lambda), so lambda is identified by the growing labs
# against the constant ones, and unequal costs must not move it.
DESIGN = [{"name": "small", "budget": 50.0, "cost": 0.1}, {"name": "mid", "budget": 200.0},
          {"name": "big", "budget": 800.0, "cost": 10.0},
          {"name": "growing", "budget": 20.0, "growth": 0.3},
          {"name": "fast", "budget": 5.0, "growth": 0.5, "cost": 0.5}]


def config(theta: float, labs, periods: int, replicates: int, seed: int):
    return labs_config({"seed": seed, "replicates": replicates, "periods": periods,
                        "pool": {"ideas": "inf", "difficulty": "point(p=1)",
                                 "value": f"pareto(alpha={theta})", "combine": "max"},
                        "lab": labs})


def main() -> None:
    parser = experiment_parser(__doc__, "fewer replicates")
    args = parser.parse_args()
    replicates = 100 if args.quick else 1000
    # --quick: fewer periods of the growing lab (its ideas per period grow as e^(0.5 t)) and a
    # smaller bootstrap; the full figure keeps 24 periods and 200 resamples.
    curve_periods, bootstrap = (16, 50) if args.quick else (24, 200)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    data = {"theta": [], "ideas_tried": [], "median_best": [], "low_best": [], "high_best": [],
            "exact_median_best": []}

    for i, theta in enumerate(CURVE_THETAS):
        cfg = config(theta, [{"name": "lab", "budget": 10.0, "growth": 0.5}], curve_periods,
                     replicates, SEED + i)
        per = simulate_labs(cfg, record_wins=False).periods
        tried = per["ideas_tried"][0, 0]
        best = np.exp(per["log_multiplier"][:, 0, :])
        median = np.median(best, axis=0)
        low, high = np.percentile(best, [10, 90], axis=0)
        exact = kortum_median_best(tried, theta)
        color = f"C{i}"
        axes[0].plot(tried, median, "o", color=color, ms=4,
                     label=f"theta = {theta:g}: simulated median")
        axes[0].fill_between(tried, low, high, color=color, alpha=0.25, lw=0)
        axes[0].plot(tried, exact, color=color, lw=1,
                     label=f"exact median, slope 1/theta = {1 / theta:.2f}")
        data["theta"] += [theta] * tried.size
        data["ideas_tried"] += tried.tolist()
        data["median_best"] += median.tolist()
        data["low_best"] += low.tolist()
        data["high_best"] += high.tolist()
        data["exact_median_best"] += exact.tolist()
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("ideas tried K")
    axes[0].set_ylabel("best value found (productivity multiplier A)")
    axes[0].set_title("(a) the record grows as K^(1/theta)", fontsize=10)
    axes[0].legend(fontsize=8.5)

    fits = {"theta": [], "quantity": [], "estimate": [], "low": [], "high": [], "theory": []}
    markers = {"r": ("o", "C0"), "lambda": ("s", "C2"), "phi": ("^", "C3")}
    for j, theta in enumerate(FIT_THETAS):
        cfg = config(theta, DESIGN, 12, replicates, SEED + 10 + j)
        result = simulate_labs(cfg, record_wins=False)
        est = ReturnsEstimator(bootstrap=bootstrap, seed=SEED).fit(result)
        theory = kortum_theory(cfg)
        for name, (marker, color) in markers.items():
            value, (lo, hi) = est.estimates_[name], est.intervals_[name]
            axes[1].errorbar(theta, value, yerr=[[value - lo], [hi - value]], fmt=marker,
                             color=color, ms=5, capsize=2,
                             label=f"{name}, fitted" if j == 0 else None)
            fits["theta"].append(theta)
            fits["quantity"].append(name)
            fits["estimate"].append(value)
            fits["low"].append(lo)
            fits["high"].append(hi)
            fits["theory"].append(theory[name])
    t = np.linspace(0.6, 3.1, 100)
    axes[1].plot(t, 1 / t, color="C0", lw=1, label="theory r = 1/theta")
    axes[1].plot(t, np.ones_like(t), color="C2", lw=1, label="theory lambda = 1")
    axes[1].plot(t, 1 - t, color="C3", lw=1, label="theory phi = 1 - theta")
    axes[1].axhline(1.2, color="0.5", ls=":", lw=1, label="r = 1.2 (Davidson & Houlden 2025)")
    axes[1].set_xlabel("Pareto tail index theta of idea values")
    axes[1].set_ylabel("fitted parameter (95% bootstrap interval)")
    axes[1].set_title("(b) r, lambda, phi fitted to five labs, cost 0.1-10 per attempt",
                      fontsize=10)
    # Room under the phi line for the legend, never cutting off an interval.
    axes[1].set_ylim(bottom=min(-3.4, min(fits["low"]) - 0.1))
    axes[1].legend(fontsize=8.5, loc="lower left", ncol=2)
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)

    stem = args.figures / "kortum"
    save_figure(fig, stem)
    save_data(stem, data, "experiments/kortum.py",
              {"curve_thetas": CURVE_THETAS, "replicates": replicates,
               "periods": curve_periods}, SEED)
    fit_stem = args.figures / "kortum_returns"
    save_data(fit_stem, fits, "experiments/kortum.py",
              {"fit_thetas": FIT_THETAS, "design": DESIGN, "periods": 12,
               "replicates": replicates, "bootstrap": bootstrap}, SEED)
    for k in range(len(fits["theta"])):
        print(f"theta {fits['theta'][k]:g} {fits['quantity'][k]:>6s} "
              f"{fits['estimate'][k]:.3f} [{fits['low'][k]:.3f}, {fits['high'][k]:.3f}] "
              f"theory {fits['theory'][k]:.3f}")
    print(f"wrote {stem.with_suffix('.png')}, .pdf, .csv and {fit_stem.with_suffix('.csv')}")


if __name__ == "__main__":
    main()
