"""Figure 13: when does AI that does its own research explode? The phase diagram.

Forecasters assume the returns to software R&D r (Davidson and Houlden 2025: r = 1.2, 0.4 to
3.6) and call r > 1 with full automation an intelligence explosion. Here r is *measured* from
idea-level draws, and the feedback run that would explode is *simulated*: a lab whose AI does a
share s of its research spends budget x A^s per unit time (lab key ``automation``), A its
effective-compute multiplier. The claim to test: A reaches infinity in finite time exactly when
s r > 1, with r measured without feedback.

Two pools:

(a) Kortum's record search: an endless stream of ideas with Pareto(theta) values, A the best so
    far. Theory: r = 1/theta, explosion iff s > theta (:mod:`simsearch.labs.theory`).
(b) A finite pool replenished one for one (every win opens one new idea), difficulty
    p ~ Beta(b, 3), Pareto(theta = 0.6) values, A the best so far. Each idea slot is a renewal
    process whose waiting time has tail P(T > k) = E[(1-p)^k] ~ k^-b: over X attempts the wins
    grow as X^min(b, 1) (Feller's renewal theorem for infinite-mean waits when b < 1), so
    r -> min(b, 1) / theta and explosion iff s min(b, 1) > theta, only asymptotically: the
    simulation measures r where the labs are.

For every (tail, s) the feedback run records the exact time of each doubling of A up to a cap;
kappa = log2 of the ratio of successive doubling intervals (:meth:`LabsResult.explosion_summary`)
is negative when doublings come ever faster, i.e. when A explodes (kappa = 1/r - s in theory).
The shading is the simulated kappa, the black contour its zero: where the feedback runs explode.
The white line is s = 1/r with r measured by :class:`ReturnsEstimator` from runs *without*
feedback (band: its 95% bootstrap interval); the dashed line is the analytic boundary. (c) the
measured r of pool (b) against b, with Davidson and Houlden's r marked.

Run:  python experiments/takeoff.py [--quick]
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
from tqdm.auto import tqdm

from figure_io import experiment_parser, save_data, save_figure
from simsearch.labs import ReturnsEstimator, labs_config, simulate_labs
from simsearch.labs.theory import explosion_threshold

SEED = 2030
POOL_THETA = 0.6
DH_R, DH_LOW, DH_HIGH = 1.2, 0.4, 3.6
#: Most record draws (successful ideas) a Kortum replicate makes before its cap: the cap is
#: 2^n with n = min(12, this / theta) doublings, since A = 2^n takes ~2^(n theta) records.
KORTUM_LOG2_DRAWS = 16


def kortum_pool(theta: float) -> dict:
    return {"ideas": "inf", "difficulty": "point(p=1)", "value": f"pareto(alpha={theta})",
            "combine": "max"}


def replenished_pool(b: float, theta: float = POOL_THETA, ideas: int = 100) -> dict:
    return {"ideas": ideas, "difficulty": f"beta(alpha={b}, beta=3)",
            "value": f"pareto(alpha={theta})", "combine": "max", "replenish": 1.0}


#: Compute per period of the feedback lab at A = 1, and its horizon in periods.
BUDGET, PERIODS = 1000.0, 400
#: Periods of the runs that measure r, over the compute the s = 0 run needed to reach the cap.
R_PERIODS = 20
#: ... and at least this budget per period: too few attempts leave r unidentified (where r is
#: the same at every scale, as in Kortum's model, the range does not matter).
MIN_R_BUDGET = 100.0


def doubling_exponent(pool: dict, automation: float, doublings: int, replicates: int,
                      seed: int) -> tuple[float, float, float]:
    """kappa = log2 of the ratio of successive mean doubling intervals of A under feedback,
    the share of replicates that reached the cap 2^doublings, and their mean compute to it
    (at s = 0 the compute is the time times the budget)."""
    config = labs_config({"seed": seed, "replicates": replicates, "periods": PERIODS,
                          "pool": pool, "limits": {"multiplier": 2.0 ** doublings},
                          "lab": [{"name": "ai", "budget": BUDGET, "automation": automation}]})
    summary = simulate_labs(config, record_wins=False).explosion_summary()
    cap_time = summary["cap_time_mean"][0]
    compute = BUDGET * (cap_time if np.isfinite(cap_time) else PERIODS)
    return math.log2(summary["interval_ratio"][0]), float(summary["capped_share"][0]), compute


def measured_r(pool: dict, compute: float, replicates: int,
               seed: int) -> tuple[float, float, float]:
    """r and its 95% bootstrap interval from labs without feedback that spend ``compute``
    (the s = 0 run's compute to the cap: the same range of A as the doublings) over
    ``R_PERIODS`` periods (at least ``MIN_R_BUDGET`` each), one lab at a constant budget
    and one growing into it."""
    compute = max(compute, R_PERIODS * MIN_R_BUDGET)
    labs = [{"name": "steady", "budget": compute / R_PERIODS},
            {"name": "growing", "budget": compute * 0.1 / (1.1 ** R_PERIODS - 1),
             "growth": 0.1}]
    config = labs_config({"seed": seed, "replicates": replicates, "periods": R_PERIODS,
                          "pool": pool, "lab": labs})
    est = ReturnsEstimator(bootstrap=200, seed=seed).fit(simulate_labs(config,
                                                                       record_wins=False))
    low, high = est.intervals_["r"]
    return est.estimates_["r"], low, high


def zero_crossing(s: np.ndarray, kappa: np.ndarray) -> float:
    """The automation where kappa first turns negative (linear between grid points); NaN if
    it never does, 0 if it already is at s = 0."""
    below = np.flatnonzero(kappa < 0)
    if below.size == 0:
        return math.nan
    j = below[0]
    if j == 0:
        return float(s[0])
    return float(s[j - 1] + (s[j] - s[j - 1]) * kappa[j - 1] / (kappa[j - 1] - kappa[j]))


def sweep_panel(name, tails, pools, doublings, s_grid, replicates, seed, bar):
    """kappa on the (tail, s) grid (s_grid[0] = 0) and r measured at each tail."""
    kappa = np.empty((len(tails), len(s_grid)))
    capped = np.empty_like(kappa)
    r = np.empty((len(tails), 3))
    for i, (pool, n) in enumerate(zip(pools, doublings)):
        for j, s in enumerate(s_grid):
            kappa[i, j], capped[i, j], compute = doubling_exponent(
                pool, float(s), n, replicates, seed + 1000 * i + j + 1)
            if j == 0:
                r[i] = measured_r(pool, compute, replicates, seed + 1000 * i)
            bar.update(1)
    return {"panel": name, "tails": np.asarray(tails), "kappa": kappa, "capped": capped,
            "r": r}


def draw_panel(ax, panel, s_grid, x, xlabel, analytic, title):
    kappa = panel["kappa"]
    limit = np.nanmax(np.abs(kappa))
    mesh = ax.pcolormesh(x, s_grid, kappa.T, cmap="RdBu", vmin=-limit, vmax=limit,
                         shading="nearest")
    ax.contour(x, s_grid, kappa.T, levels=[0.0], colors="k", linewidths=1.5)
    r, low, high = panel["r"].T
    ax.fill_between(x, np.clip(1 / high, 0, 1.05), np.clip(1 / low, 0, 1.05), color="w",
                    alpha=0.35, lw=0)
    ax.plot(x, np.clip(1 / r, 0, 1.05), color="w", lw=2, label="s = 1/r, r measured "
            "without feedback")
    ax.plot(x, np.clip(analytic, 0, 1.05), "k--", lw=1.2, label="analytic boundary")
    ax.plot([], [], color="k", lw=1.5, label="kappa = 0: feedback runs explode above")
    ax.set_ylim(s_grid[0], s_grid[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("automation s (research rate ~ A^s)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8.5, loc="lower right", framealpha=0.8)
    return mesh


def main() -> None:
    parser = experiment_parser(__doc__, "coarser grids, fewer replicates")
    args = parser.parse_args()
    quick = args.quick
    replicates = 30 if quick else 200
    s_grid = np.linspace(0.0, 1.0, 5 if quick else 11)
    r_grid = np.geomspace(0.5, 4.0, 4 if quick else 13)  # Kortum: theta = 1/r
    b_grid = np.linspace(0.3, 1.5, 4 if quick else 13)
    thetas = 1.0 / r_grid
    kortum_doublings = [min(12, int(KORTUM_LOG2_DRAWS / t)) for t in thetas]
    with tqdm(total=(len(r_grid) + len(b_grid)) * len(s_grid), unit="point",
              desc="takeoff") as bar:
        kortum = sweep_panel("kortum", thetas, [kortum_pool(t) for t in thetas],
                             kortum_doublings, s_grid, replicates, SEED, bar)
        pool = sweep_panel("replenished", b_grid, [replenished_pool(b) for b in b_grid],
                           [12] * len(b_grid), s_grid, replicates, SEED + 50_000, bar)
    kortum["analytic"] = explosion_threshold(thetas)
    pool["analytic"] = POOL_THETA / np.minimum(b_grid, 1.0)  # the renewal asymptote

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    mesh = draw_panel(axes[0], kortum, s_grid, r_grid, "r = 1/theta (Pareto value tail)",
                      kortum["analytic"], "(a) Kortum: explosion iff s > theta")
    axes[0].set_xscale("log")
    axes[0].errorbar(DH_R, 0.97, xerr=[[DH_R - DH_LOW], [DH_HIGH - DH_R]], fmt="D", ms=4,
                     color="k", capsize=3, lw=1)
    axes[0].text(DH_R * 1.05, 0.91, "Davidson & Houlden r = 1.2 (0.4-3.6)", fontsize=8.5)
    draw_panel(axes[1], pool, s_grid, b_grid, "difficulty tail b (p ~ Beta(b, 3))",
               pool["analytic"],
               f"(b) replenished pool, theta = {POOL_THETA}: asymptote s = theta/min(b, 1)")
    fig.colorbar(mesh, ax=axes[:2], label="kappa = log2 (doubling interval ratio)",
                 shrink=0.9)

    r, low, high = pool["r"].T
    axes[2].errorbar(b_grid, r, yerr=[r - low, high - r], fmt="o", ms=4, capsize=2,
                     label="r measured (95% bootstrap)")
    fine = np.linspace(b_grid[0], b_grid[-1], 200)
    axes[2].plot(fine, np.minimum(fine, 1.0) / POOL_THETA, "k--", lw=1,
                 label="renewal asymptote min(b, 1)/theta")
    axes[2].axhspan(DH_LOW, DH_HIGH, color="0.5", alpha=0.15, lw=0,
                    label="Davidson & Houlden 0.4-3.6")
    axes[2].axhline(DH_R, color="0.3", ls=":", lw=1)
    axes[2].axhline(1.0, color="C3", lw=0.8, label="r = 1")
    axes[2].set_yscale("log")
    for ax, ticks in ((axes[0], [0.5, 1, 2, 4]), (axes[2], [0.3, 0.5, 1, 2, 3])):
        axis = ax.xaxis if ax is axes[0] else ax.yaxis
        axis.set_major_locator(mticker.FixedLocator(ticks))
        axis.set_major_formatter(mticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(mticker.NullFormatter())
    axes[2].set_xlabel("difficulty tail b (p ~ Beta(b, 3))")
    axes[2].set_ylabel("returns to research r\n(doublings of A per doubling of compute)")
    axes[2].set_title("(c) r derived from idea-level draws, not assumed", fontsize=10)
    axes[2].legend(fontsize=8.5, loc="lower right")
    axes[2].grid(True, which="major", alpha=0.3)

    data = {"panel": [], "tail": [], "automation": [], "kappa": [], "capped_share": [],
            "r": [], "r_low": [], "r_high": [], "analytic_threshold": []}
    agreement = {"panel": [], "tail": [], "s_exploding": [], "s_from_r": [], "s_analytic": []}
    for panel in (kortum, pool):
        analytic = panel["analytic"]
        for i, tail in enumerate(panel["tails"]):
            for j, s in enumerate(s_grid):
                data["panel"].append(panel["panel"])
                data["tail"].append(float(tail))
                data["automation"].append(float(s))
                data["kappa"].append(float(panel["kappa"][i, j]))
                data["capped_share"].append(float(panel["capped"][i, j]))
                data["r"].append(float(panel["r"][i, 0]))
                data["r_low"].append(float(panel["r"][i, 1]))
                data["r_high"].append(float(panel["r"][i, 2]))
                data["analytic_threshold"].append(float(analytic[i]))
            agreement["panel"].append(panel["panel"])
            agreement["tail"].append(float(tail))
            agreement["s_exploding"].append(zero_crossing(s_grid, panel["kappa"][i]))
            agreement["s_from_r"].append(float(1.0 / panel["r"][i, 0]))
            agreement["s_analytic"].append(float(analytic[i]))

    stem = args.figures / "takeoff"
    save_figure(fig, stem)
    config = {"replicates": replicates, "automation": s_grid.tolist(), "r_grid":
              r_grid.tolist(), "b_grid": b_grid.tolist(), "pool_theta": POOL_THETA,
              "kortum_log2_draws": KORTUM_LOG2_DRAWS, "budget": BUDGET,
              "periods": PERIODS, "r_periods": R_PERIODS}
    save_data(stem, data, "experiments/takeoff.py", config, SEED)
    save_data(args.figures / "takeoff_boundary", agreement, "experiments/takeoff.py", config,
              SEED)
    print("panel        tail   s where runs explode   s = 1/r measured   analytic")
    for k in range(len(agreement["panel"])):
        print(f"{agreement['panel'][k]:12s} {agreement['tail'][k]:6.3f}   "
              f"{agreement['s_exploding'][k]:20.3f}   {agreement['s_from_r'][k]:16.3f}   "
              f"{agreement['s_analytic'][k]:8.3f}")
    print(f"wrote {stem.with_suffix('.png')}, .pdf, .csv and "
          f"{(args.figures / 'takeoff_boundary').with_suffix('.csv')}")


if __name__ == "__main__":
    main()
