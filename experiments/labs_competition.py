"""Figure 7: labs of different budgets on one pool: sublinear returns and the effect of sharing.

Five round-robin labs, budgets 100 to 10,000 attempts per period, search one pool of ideas with
p ~ Beta(0.3, 3). A lab's wins grow sublinearly with its budget: easy ideas go first, so each
further win costs more (figure 6), and rivals take some of them. Publishing (sharing = 1) removes
a found idea from every pool, so no lab repeats another's work; kept private (sharing = 0), the
same ideas are found again and again: duplicated effort, Jones's lambda < 1.

(a) wins per lab against its budget, mean and 10-90% band over replicates, beside the closed
form for a lab alone with the pool; (b) distinct ideas found by the whole field over time.

Run:  python experiments/labs_competition.py [--quick]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch import parse_distribution
from simsearch.labs import labs_config, simulate_labs
from simsearch.labs.theory import expected_wins

SEED = 7
DIFFICULTY = "beta(alpha=0.3, beta=3)"
BUDGETS = [100.0, 316.0, 1000.0, 3162.0, 10000.0]
SHARING = [0.0, 0.5, 1.0]


def run(sharing: float, ideas: int, periods: int, replicates: int, seed: int):
    config = labs_config({
        "seed": seed, "replicates": replicates, "periods": periods, "sharing": sharing,
        "pool": {"ideas": ideas, "difficulty": DIFFICULTY},
        "lab": [{"name": f"budget {b:g}", "budget": b} for b in BUDGETS]})
    return simulate_labs(config)


def distinct_over_time(result, periods: int) -> np.ndarray:
    """Distinct ideas found by any lab by the end of each period, (replicates, periods)."""
    wins = result.wins
    out = np.zeros((result.replicates, periods))
    for r in range(result.replicates):
        sel = wins["replicate"] == r
        ideas, times = wins["idea"][sel], wins["time"][sel]
        first = {}
        for idea, t in zip(ideas.tolist(), times.tolist()):
            first.setdefault(idea, t)
        first_times = np.array(sorted(first.values()))
        out[r] = np.searchsorted(first_times, np.arange(1, periods + 1), side="right")
    return out


def main() -> None:
    parser = experiment_parser(__doc__, "a smaller pool and fewer replicates")
    args = parser.parse_args()
    ideas, periods, replicates = (2000, 8, 10) if args.quick else (10_000, 20, 50)
    dist = parse_distribution(DIFFICULTY)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    data = {"sharing": [], "budget": [], "mean_wins": [], "low_wins": [], "high_wins": [],
            "lone_lab_wins": []}
    budgets = np.array(BUDGETS)
    lone = expected_wins(dist, ideas, budgets * periods)
    b_fine = np.geomspace(budgets[0], budgets[-1], 100)
    axes[0].plot(b_fine, expected_wins(dist, ideas, b_fine * periods), color="k",
                 lw=1, ls="--", label="closed form, a lab alone with the pool")
    axes[0].plot(b_fine, lone[0] * b_fine / budgets[0], color="0.6", lw=0.8, ls=":",
                 label="linear returns (slope 1)")
    for i, sharing in enumerate(SHARING):
        result = run(sharing, ideas, periods, replicates, SEED + i)
        final = result.periods["wins"][:, :, -1]
        mean = final.mean(axis=0)
        low, high = np.percentile(final, [10, 90], axis=0)
        color = f"C{i}"
        axes[0].errorbar(budgets * (1 + 0.04 * (i - 1)), mean,
                         yerr=[mean - low, high - mean], fmt="o-", color=color, ms=4,
                         capsize=2, label=f"sharing = {sharing:g}")
        distinct = distinct_over_time(result, periods)
        t = np.arange(1, periods + 1)
        axes[1].plot(t, distinct.mean(axis=0), "o-", color=color, ms=3,
                     label=f"sharing = {sharing:g}")
        axes[1].fill_between(t, *np.percentile(distinct, [10, 90], axis=0), color=color,
                             alpha=0.25, lw=0)
        data["sharing"] += [sharing] * len(BUDGETS)
        data["budget"] += BUDGETS
        data["mean_wins"] += mean.tolist()
        data["low_wins"] += low.tolist()
        data["high_wins"] += high.tolist()
        data["lone_lab_wins"] += lone.tolist()
    total = budgets.sum() * np.arange(1, periods + 1)
    axes[1].plot(np.arange(1, periods + 1), expected_wins(dist, ideas, total),
                 color="k", lw=1, ls="--", label="closed form, one lab with all the budgets")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("lab budget (attempts per period)")
    axes[0].set_ylabel(f"wins after {periods} periods")
    axes[0].set_title(f"(a) five labs, one pool of {ideas:,} ideas: sublinear returns",
                      fontsize=10)
    axes[0].legend(fontsize=8.5)
    axes[1].set_xlabel("period")
    axes[1].set_ylabel("distinct ideas found by the field")
    axes[1].set_title("(b) private wins are found again: duplicated effort", fontsize=10)
    axes[1].legend(fontsize=8.5)
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)

    stem = args.figures / "labs_competition"
    save_figure(fig, stem)
    save_data(stem, data, "experiments/labs_competition.py",
              {"difficulty": DIFFICULTY, "ideas": ideas, "periods": periods,
               "replicates": replicates, "budgets": BUDGETS, "sharing": SHARING}, SEED)
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
