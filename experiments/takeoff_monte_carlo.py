"""Figure 14: time to ten doublings of effective compute, with and without automated research,
over 1,000 draws of uncertain pool parameters.

Takeoff models run Monte Carlos over an assumed r. Here the uncertainty is over the *pool* the
labs search, and r follows from it: a pool replenished one for one (each win opens one new
idea), difficulty p ~ Beta(b, 3), Pareto(theta) idea values, A the best value found (the model
of panel (b) of ``takeoff.py``, whose asymptotic returns are r = min(b, 1)/theta). Inputs, drawn
the way forecasters state them (a ``simsearch sweep`` random design with a Gaussian copula):

- theta lognormal with a 90% interval 1/3.6 to 1/0.4, so that 1/theta spans Davidson and
  Houlden's r = 1.2 (0.4 to 3.6);
- b loguniform on [0.3, 1.5];
- the pool's size lognormal, 90% interval 30 to 1,000 ideas;
- the lab's compute per period at A = 1 lognormal, 80% interval 3 to 30 attempts,
  rank-correlated 0.5 with the pool's size (bigger fields get more compute).

Each draw runs three times with the same inputs and the same random streams: automation s = 0
(no feedback), 0.5 and 1 (the AI does all the research: compute per unit time x A^s). The
statistic is the time (periods, exact within a period) at which A first reaches 2^10 = 1024,
from the kernel's first-passage records; draws that do not get there within the horizon are
censored. (a) the share of draws with ten doublings by time t; (b) each draw's time against its
asymptotic r, where r s = 1 separates explosive from non-explosive draws.

Run:  python experiments/takeoff_monte_carlo.py [--quick]
"""

from __future__ import annotations

import csv
import io

import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, run_sweep_table, save_data, save_figure
from simsearch.sweep import plan_sweep

SEED = 2031
AUTOMATION = (0.0, 0.5, 1.0)
HORIZON = 200  # periods
DOUBLINGS = 10
STATISTIC = f"time_to_multiplier@{2 ** DOUBLINGS}"


def sweep_document(automation: float, count: int) -> dict:
    """The sweep of one arm: the same random design (and seed) for every arm."""
    return {
        "kind": "labs", "seed": SEED, "replicates": 1, "statistics": [STATISTIC],
        "base": {"periods": HORIZON, "limits": {"multiplier": 2.0 ** DOUBLINGS},
                 "pool": {"ideas": 100, "difficulty": {"name": "beta", "alpha": 0.7,
                                                       "beta": 3.0},
                          "value": {"name": "pareto", "alpha": 0.8}, "combine": "max",
                          "replenish": 1.0},
                 "lab": [{"name": "lab", "budget": 1000.0, "automation": automation}]},
        "random": {"count": count,
                   "pool.value.alpha": {"lognormal": {"p5": 1 / 3.6, "p95": 1 / 0.4}},
                   "pool.difficulty.alpha": {"loguniform": [0.3, 1.5]},
                   "pool.ideas": {"lognormal": {"p5": 30.0, "p95": 1000.0}, "round": True},
                   "lab.lab.budget": {"lognormal": {"p10": 3.0, "p90": 30.0}},
                   "correlation": {"pool.ideas": {"lab.lab.budget": 0.5}}},
    }


def run_arm(automation: float, count: int) -> dict:
    """Run one arm's sweep; its results.csv as columns."""
    plan = plan_sweep(sweep_document(automation, count), where=f"automation {automation:g}")
    text, meta = run_sweep_table(plan)
    failed = [p for p in meta["points"] if p["status"] != "done"]
    if failed:
        raise RuntimeError(f"{len(failed)} points failed, e.g. {failed[0]}")
    rows = list(csv.DictReader(io.StringIO(text)))
    return {key: np.array([float(row[key]) for row in rows])
            for key in ("point", "pool.value.alpha", "pool.difficulty.alpha", "pool.ideas",
                        "lab.lab.budget", STATISTIC)}


def main() -> None:
    parser = experiment_parser(__doc__, "50 draws instead of 1,000")
    args = parser.parse_args()
    count = 50 if args.quick else 1000
    arms = {s: run_arm(s, count) for s in AUTOMATION}
    first = arms[AUTOMATION[0]]
    for s, arm in arms.items():  # common random numbers: the same inputs in every arm
        assert np.array_equal(arm["pool.value.alpha"], first["pool.value.alpha"])
    theta, b = first["pool.value.alpha"], first["pool.difficulty.alpha"]
    r_asymptotic = np.minimum(b, 1.0) / theta

    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4), constrained_layout=True)
    grid = np.geomspace(1e-2, HORIZON, 400)
    data = {"point": [], "automation": [], "theta": [], "b": [], "ideas": [], "budget": [],
            "r_asymptotic": [], "time_to_10_doublings": []}
    lines = []
    for i, (s, arm) in enumerate(arms.items()):
        times = arm[STATISTIC]
        reached = np.isfinite(times)
        share = (times[reached][:, None] <= grid).sum(axis=0) / times.size
        # Censored draws count as later than any time: quantiles without interpolation.
        censored = np.where(reached, times, np.inf)
        median, p10, p90 = np.percentile(censored, [50, 10, 90], method="inverted_cdf")
        axes[0].step(grid, share, where="post", color=f"C{i}",
                     label=f"s = {s:g}: {reached.mean():.0%} within {HORIZON} periods, "
                           f"median {median:.3g}")
        axes[1].scatter(r_asymptotic[reached], times[reached], s=6, color=f"C{i}",
                        alpha=0.6, label=f"s = {s:g}")
        axes[1].scatter(r_asymptotic[~reached], np.full((~reached).sum(), HORIZON * 1.6),
                        s=6, marker="^", color=f"C{i}", alpha=0.6)
        lines.append((s, reached.mean(), median, p10, p90))
        data["point"] += arm["point"].astype(int).tolist()
        data["automation"] += [s] * times.size
        data["theta"] += theta.tolist()
        data["b"] += b.tolist()
        data["ideas"] += arm["pool.ideas"].astype(int).tolist()
        data["budget"] += arm["lab.lab.budget"].tolist()
        data["r_asymptotic"] += r_asymptotic.tolist()
        data["time_to_10_doublings"] += times.tolist()
    axes[0].set_xscale("log")
    axes[0].set_xlabel("time t (periods)")
    axes[0].set_ylabel(f"share of {count} draws with A >= 2^{DOUBLINGS} by t")
    axes[0].set_title("(a) ten doublings of effective compute: when?", fontsize=10)
    axes[0].legend(fontsize=8.5, loc="upper left")
    for s in AUTOMATION[1:]:
        axes[1].axvline(1.0 / s, color="0.4", ls="--", lw=0.8)
        axes[1].text(1.0 / s * 1.03, 0.5, f"s r = 1 for s = {s:g}", fontsize=8.5, rotation=90,
                     transform=axes[1].get_xaxis_transform())
    axes[1].axhline(HORIZON, color="0.6", lw=0.8)
    axes[1].text(r_asymptotic.min(), HORIZON * 1.9,
                 "not within the horizon", fontsize=8.5)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("asymptotic returns r = min(b, 1)/theta of the draw's pool")
    axes[1].set_ylabel(f"time to {DOUBLINGS} doublings (periods)")
    axes[1].set_title("(b) each draw: explosive where s r > 1", fontsize=10)
    axes[1].legend(fontsize=8.5, loc="lower left", markerscale=2)
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)

    stem = args.figures / "takeoff_monte_carlo"
    save_figure(fig, stem)
    save_data(stem, data, "experiments/takeoff_monte_carlo.py",
              {"sweep": sweep_document(0.0, count), "automation": list(AUTOMATION)}, SEED)
    for s, reached, median, p10, p90 in lines:
        print(f"automation {s:g}: {reached:.1%} reach 2^{DOUBLINGS} within {HORIZON} periods; "
              f"median {median:.3g}, 10-90% {p10:.3g} to {p90:.3g} periods (inf: beyond)")
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
