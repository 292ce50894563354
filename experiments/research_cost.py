"""Figure 6: the compute cost of each further win grows as a power law in the remaining pool.

One lab tries a finite pool of N ideas round-robin (every round tries each unsolved idea once;
Schaeffer's repeated sampling with ideas for problems). Easy ideas fall first, so each further
win costs more. After r rounds the unsolved fraction is u = E[(1-p)^r] ~ r^(-b) and the compute
spent is N sum_{j<r} E[(1-p)^j] ~ r^(1-b): the compute to bring the pool down to u grows as
u^(-(1-b)/b), a power law set by the left tail of the difficulty distribution alone
(Schaeffer's mechanism one level up). That is a power law in the remaining pool, not Pandey's
claim of exponentially more compute per win, which figure 10 (pandey.py) tests. A light left
tail (logit-normal) gives no power law.

(a) compute to the n-th win; (b) compute against the unsolved fraction, simulated (median and
10-90% band over replicates) beside the closed form; (c) the exponent fitted to the simulation
over its last decade of compute, against the closed form over the same window and the
asymptote (1-b)/b.

Run:  python experiments/research_cost.py [--quick]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch import parse_distribution
from simsearch.labs import labs_config, simulate_labs
from simsearch.labs.theory import round_robin_curve

SEED = 6
PANEL_DISTS = ["beta(alpha=0.3, beta=3)", "beta(alpha=0.5, beta=3)", "beta(alpha=0.8, beta=3)",
               "logitnormal(mu=-3, sigma=1)"]
EXPONENT_ALPHAS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def simulate(spec: str, ideas: int, rounds: int, replicates: int, seed: int):
    """Compute at each win, array (replicates, wins reached by every replicate)."""
    config = labs_config({"seed": seed, "replicates": replicates, "periods": 1,
                          "pool": {"ideas": ideas, "difficulty": spec},
                          "lab": [{"name": "lab", "budget": float(ideas * rounds)}]})
    wins = simulate_labs(config).wins
    per_replicate = [wins["compute"][wins["replicate"] == r] for r in range(replicates)]
    reached = min(c.size for c in per_replicate)
    return np.array([c[:reached] for c in per_replicate])


def fitted_exponent(compute_at_win: np.ndarray, ideas: int) -> float:
    """Slope of log compute on -log(unsolved fraction) over the last decade of compute."""
    median = np.median(compute_at_win, axis=0)
    unsolved = 1.0 - np.arange(1, median.size + 1) / ideas
    window = (median >= median[-1] / 10) & (unsolved > 0)
    return float(np.polyfit(-np.log(unsolved[window]), np.log(median[window]), 1)[0])


def closed_form_exponent(dist, ideas: int, c_max: float) -> float:
    """The same fit on the closed-form compute at each win (the same points as the simulation:
    one per win, over the last decade up to ``c_max``)."""
    n = np.arange(1, ideas)
    compute = round_robin_curve(dist, ideas, c_max).compute_at(n)
    window = (compute >= c_max / 10) & (compute <= c_max)
    return float(np.polyfit(-np.log(1.0 - n[window] / ideas), np.log(compute[window]), 1)[0])


def main() -> None:
    parser = experiment_parser(__doc__, "smaller pools and fewer replicates")
    args = parser.parse_args()
    ideas, rounds, replicates = (2000, 3000, 8) if args.quick else (10_000, 20_000, 40)

    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.3), constrained_layout=True)
    data = {"dist": [], "win": [], "median_compute": [], "low_compute": [], "high_compute": []}
    for i, spec in enumerate(PANEL_DISTS):
        dist = parse_distribution(spec)
        table = simulate(spec, ideas, rounds, replicates, SEED + i)
        n = np.arange(1, table.shape[1] + 1)
        median = np.median(table, axis=0)
        low, high = np.percentile(table, [10, 90], axis=0)
        keep = np.ones(n.size, dtype=bool)
        label = dist.spec.replace("logitnormal", "logit-normal")
        color = f"C{i}"
        axes[0].plot(n[keep], median[keep], color=color, lw=1.5, label=label)
        axes[0].fill_between(n[keep], low[keep], high[keep], color=color, alpha=0.25, lw=0)
        _, wins, compute, unsolved = round_robin_curve(dist, ideas, float(ideas * rounds))
        axes[0].plot(wins, compute, color="k", lw=0.6, ls="--")
        unsolved_sim = 1.0 - n / ideas
        axes[1].plot(unsolved_sim[keep], median[keep], color=color, lw=1.5, label=label)
        axes[1].fill_between(unsolved_sim[keep], low[keep], high[keep], color=color,
                             alpha=0.25, lw=0)
        axes[1].plot(unsolved, compute, color="k", lw=0.6, ls="--")
        data["dist"] += [dist.spec] * int(keep.sum())
        data["win"] += n[keep].tolist()
        data["median_compute"] += median[keep].tolist()
        data["low_compute"] += low[keep].tolist()
        data["high_compute"] += high[keep].tolist()
    axes[0].plot([], [], color="k", lw=0.6, ls="--", label="closed form (expected)")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("n-th win (ideas solved)")
    axes[0].set_ylabel("cumulative compute to the n-th win (attempts)")
    axes[0].set_title(f"(a) {ideas:,} ideas, round-robin; median and 10-90%", fontsize=10)
    axes[0].legend(fontsize=8.5, loc="lower right")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlim(1.2, 0.5 / ideas)  # a pool of N ideas resolves fractions down to 1/N
    axes[1].set_xlabel("unsolved fraction of the pool")
    axes[1].set_ylabel("cumulative compute (attempts)")
    axes[1].set_title("(b) power law in the remaining pool, slope (1-b)/b", fontsize=10)
    axes[1].legend(fontsize=8.5, loc="upper left")

    fitted, exact, asymptote = [], [], []
    for j, a in enumerate(EXPONENT_ALPHAS):
        spec = f"beta(alpha={a}, beta=3)"
        table = simulate(spec, ideas, rounds, replicates, SEED + 100 + j)
        fitted.append(fitted_exponent(table, ideas))
        c_max = float(np.median(table[:, -1]))
        exact.append(closed_form_exponent(parse_distribution(spec), ideas, c_max))
        asymptote.append((1 - a) / a)
    b_fine = np.linspace(0.18, 0.85, 100)
    axes[2].plot(b_fine, (1 - b_fine) / b_fine, color="k", lw=1,
                 label="asymptote (1-b)/b")
    axes[2].plot(EXPONENT_ALPHAS, exact, "s", mfc="none", color="C0", ms=8,
                 label="closed form, same window")
    axes[2].plot(EXPONENT_ALPHAS, fitted, "o", color="C3", ms=5,
                 label="fitted to the simulation")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("left-tail exponent b of the difficulty (Beta(b, 3))")
    axes[2].set_ylabel("exponent of compute in 1 / unsolved fraction")
    axes[2].set_title("(c) the exponent is set by the left tail", fontsize=10)
    axes[2].legend(fontsize=8.5)
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)

    stem = args.figures / "research_cost"
    save_figure(fig, stem)
    config = {"ideas": ideas, "rounds_of_budget": rounds, "replicates": replicates,
              "dists": PANEL_DISTS, "exponent_alphas": EXPONENT_ALPHAS,
              "exponents": {"fitted": fitted, "closed_form": exact, "asymptote": asymptote}}
    save_data(stem, data, "experiments/research_cost.py", config, SEED)
    for a, f, e, s in zip(EXPONENT_ALPHAS, fitted, exact, asymptote):
        print(f"b = {a}: fitted {f:.3f}, closed form {e:.3f}, asymptote {s:.3f}")
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
