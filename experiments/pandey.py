"""Figure 10: Pandey's claim put to the test: does each further algorithmic win need
exponentially more compute?

Pandey: "you need ~exponentially more compute to discover each incremental algorithmic win".
If it holds, the compute C_n to the n-th win is a straight line against n on a log axis, and
when every win multiplies effective compute by the same factor the multiplier A is a power law
in cumulative research compute K, slope r = d log A / d log K (doublings of A per doubling of
K). One round-robin lab, three kinds of search, each beside its closed form
(:mod:`simsearch.labs.theory`):

(a) a finite pool of N ideas with a power-law left tail of difficulty, p ~ Beta(0.3, 3), and for
    contrast Beta(1.5, 3) (b > 1) and a logit-normal (light tail); each win multiplies A by
    v = e^(10/N), so the whole pool is worth e^10;
(b) the same pool with log-uniform difficulty on [1e-6, 0.1]: the n-th easiest idea's p falls
    geometrically in n, so each win costs a constant factor more;
(c) Kortum's record search on an endless stream: Pareto(0.8) values, A the best so far; the
    n-th record needs about e^n draws.

Rows: compute to the n-th win (median and 10-90% over replicates; closed form: the compute at
which the expected wins reach n - 1/2, for Kortum the exact quantiles of the n-th record time);
A against K (geometric mean and 10-90%; closed form exp(E[log A])); the local slope r per decade
of K, simulated (mean, 2 standard errors over replicates) against the closed form.

Run:  python experiments/pandey.py [--quick]
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch import parse_distribution
from simsearch.labs import labs_config, simulate_labs
from simsearch.labs.theory import (expected_records, record_count_pmf, record_time_quantile,
                                   round_robin_curve)
from simsearch.seeding import seed_sequence

SEED = 10
POOL_GAIN = 10.0  # log A when the whole pool is solved
POOLS = {"a": ["beta(alpha=0.3, beta=3)", "beta(alpha=1.5, beta=3)",
               "logitnormal(mu=-3, sigma=1)"],
         "b": ["loguniform(low=1e-06, high=0.1)"]}
THETA = 0.8
QUANTILES = (10, 90)


def run_pool(spec: str, ideas: int, max_compute: float, replicates: int, seed) -> list:
    """Per replicate: (compute at each win, log A after it)."""
    value = f"fixed(v={math.exp(POOL_GAIN / ideas)!r})"
    config = labs_config({"seed": 0, "periods": 1,
                          "pool": {"ideas": ideas, "difficulty": spec, "value": value},
                          "lab": [{"name": "lab", "budget": max_compute}]})
    wins = simulate_labs(config, replicates=replicates, seed=seed).wins
    rows = [wins["replicate"] == r for r in range(replicates)]
    return [(wins["compute"][sel], wins["log_multiplier"][sel]) for sel in rows]


def run_kortum(max_draws: int, replicates: int, seed, chunk: int = 20) -> list:
    """Per replicate: (draws at each record, log A after it). Every draw is a win row, so
    replicates run in chunks and only the records are kept."""
    config = labs_config({"seed": 0, "periods": 1,
                          "pool": {"ideas": "inf", "difficulty": "point(p=1)",
                                   "value": f"pareto(alpha={THETA})", "combine": "max"},
                          "lab": [{"name": "lab", "budget": float(max_draws)}]})
    out = []
    children = seed_sequence(seed).spawn((replicates + chunk - 1) // chunk)
    for i, child in enumerate(children):
        size = min(chunk, replicates - i * chunk)
        wins = simulate_labs(config, replicates=size, seed=child).wins
        for r in range(size):
            sel = wins["replicate"] == r
            compute, log_a = wins["compute"][sel], wins["log_multiplier"][sel]
            record = np.r_[True, np.diff(log_a) > 0]
            out.append((compute[record], log_a[record]))
    return out


def log_a_at(runs: list, grid: np.ndarray) -> np.ndarray:
    """log A after ``grid`` attempts, (replicates, grid)."""
    out = np.zeros((len(runs), grid.size))
    for i, (compute, log_a) in enumerate(runs):
        idx = np.searchsorted(compute, grid, side="right") - 1
        out[i] = np.where(idx >= 0, log_a[np.maximum(idx, 0)], 0.0)
    return out


def compute_to_win(runs: list, max_n: int) -> np.ndarray:
    """Compute at the n-th win, (replicates, max_n), inf where a replicate did not reach it."""
    out = np.full((len(runs), max_n), np.inf)
    for i, (compute, _) in enumerate(runs):
        m = min(max_n, compute.size)
        out[i, :m] = compute[:m]
    return out


def decades(max_compute: float, start: float = 1.0) -> np.ndarray:
    return 10.0 ** np.arange(math.ceil(math.log10(start)), round(math.log10(max_compute)) + 1)


def per_decade(runs: list, edges: np.ndarray) -> dict:
    """Mean and standard error over replicates, per decade of compute, of the local r
    (Delta log A / log 10) and of the wins in the decade (the inverse slope of log C_n in n)."""
    r = np.diff(log_a_at(runs, edges), axis=1) / math.log(10.0)
    wins = np.array([np.diff(np.searchsorted(compute, edges, side="right"))
                     for compute, _ in runs])
    root = math.sqrt(len(runs))
    return {"r": (r.mean(axis=0), r.std(axis=0, ddof=1) / root),
            "wins": (wins.mean(axis=0), wins.std(axis=0, ddof=1) / root)}


def main() -> None:
    parser = experiment_parser(__doc__, "smaller pools, fewer draws and replicates")
    args = parser.parse_args()
    if args.quick:
        ideas, pool_compute, pool_reps, draws, kortum_reps = 1000, 1e7, 8, 10_000, 40
    else:
        ideas, pool_compute, pool_reps, draws, kortum_reps = 10_000, 1e9, 40, 100_000, 400
    seeds = seed_sequence(SEED).spawn(5)

    fig, axes = plt.subplots(3, 3, figsize=(14, 12), constrained_layout=True)
    rows = {k: [] for k in ("case", "quantity", "x", "simulated", "low", "high", "se",
                            "closed_form")}

    def record(case, quantity, x, sim, low, high, se, theory):
        n = len(x)
        rows["case"] += [case] * n
        rows["quantity"] += [quantity] * n
        for key, col in (("x", x), ("simulated", sim), ("low", low), ("high", high),
                         ("se", se), ("closed_form", theory)):
            rows[key] += np.broadcast_to(np.asarray(col, dtype=float), (n,)).tolist()

    def multiplier_panel(ax, runs, grid, exact_log_a, color, label):
        """A against cumulative compute: simulated mean and 10-90% band, closed form dashed."""
        sim = log_a_at(runs, grid)
        band = np.percentile(sim, QUANTILES, axis=0)
        ax.plot(grid, np.exp(sim.mean(axis=0)), "o", color=color, ms=3, label=label)
        ax.fill_between(grid, *np.exp(band), color=color, alpha=0.25, lw=0)
        ax.plot(grid, np.exp(exact_log_a), color="k", lw=0.7, ls="--")
        record(label, "log_multiplier", grid, sim.mean(axis=0), *band,
               sim.std(axis=0, ddof=1) / math.sqrt(len(runs)), exact_log_a)

    grid = np.geomspace(1.0, pool_compute, 8 * round(math.log10(pool_compute)) + 1)
    summary = []
    seed_index = 0
    for column, case in enumerate(("a", "b")):
        for i, spec in enumerate(POOLS[case]):
            dist = parse_distribution(spec)
            runs = run_pool(spec, ideas, pool_compute, pool_reps, seeds[seed_index])
            seed_index += 1
            curve = round_robin_curve(dist, ideas, pool_compute)
            color, label = f"C{i}", dist.spec
            log_v = POOL_GAIN / ideas
            # (1) compute to the n-th win
            to_win = compute_to_win(runs, ideas)
            n = np.arange(1, ideas + 1)
            reached = np.mean(np.isfinite(to_win), axis=0) > 0.9
            median = np.median(to_win, axis=0)
            low, high = np.percentile(to_win, QUANTILES, axis=0, method="inverted_cdf")
            theory = curve.compute_at(n - 0.5)
            ax = axes[0, column]
            ax.plot(n[reached], median[reached], color=color, lw=1.5, label=label)
            band = reached & np.isfinite(high)  # an upper quantile not reached is unknown
            ax.fill_between(n[band], low[band], high[band], color=color, alpha=0.25, lw=0)
            ax.plot(n, theory, color="k", lw=0.7, ls="--")
            thin = slice(None, None, max(1, ideas // 500))
            record(label, "compute_at_win", n[reached][thin], median[reached][thin],
                   low[reached][thin], high[reached][thin], np.nan,
                   theory[reached][thin])
            # (2) A against K
            multiplier_panel(axes[1, column], runs, grid, log_v * curve.wins_at(grid), color,
                             label)
            # (3) local r per decade
            edges = decades(pool_compute)
            local = per_decade(runs, edges)
            mean, se = local["r"]
            exact_wins = np.diff(curve.wins_at(edges))
            exact_r = log_v * exact_wins / math.log(10.0)
            mid = np.sqrt(edges[1:] * edges[:-1])
            ax = axes[2, column]
            ax.errorbar(mid * (1 + 0.08 * i), mean, yerr=2 * se, fmt="o", color=color, ms=4,
                        capsize=2, label=label)
            ax.plot(mid, exact_r, "_", color="k", ms=14, mew=1.5)
            record(label, "r_by_decade", mid, mean, mean - 2 * se, mean + 2 * se, se, exact_r)
            record(label, "wins_by_decade", mid, local["wins"][0],
                   local["wins"][0] - 2 * local["wins"][1],
                   local["wins"][0] + 2 * local["wins"][1], local["wins"][1], exact_wins)
            summary += list(zip([label] * mid.size, edges[:-1], *local["r"], exact_r,
                                *local["wins"], exact_wins))
        if case == "b":  # wins per e-fold ~ N / log(high/low) for log-uniform p
            axes[2, 1].axhline(POOL_GAIN / math.log(dist.high / dist.low), color="0.5", lw=0.8,
                               ls=":", label="pool gain / log(high/low)")

    # (c) Kortum's record search
    runs = run_kortum(draws, kortum_reps, seeds[4])
    label = f"Kortum, pareto(alpha={THETA:g}) values"
    pmf = record_count_pmf(draws, 40)
    max_n = int(np.nonzero([record_time_quantile(k, 0.5, pmf) < draws
                            for k in range(1, 40)])[0][-1]) + 1
    to_win = compute_to_win(runs, max_n)
    n = np.arange(1, max_n + 1)
    median = np.median(to_win, axis=0)
    low, high = np.percentile(to_win, QUANTILES, axis=0, method="inverted_cdf")
    exact = {q: np.array([record_time_quantile(k, q, pmf) for k in n])
             for q in (0.5, QUANTILES[0] / 100, QUANTILES[1] / 100)}
    ax = axes[0, 2]
    # A quantile of the n-th record's time beyond the draws is only known to exceed them: the
    # exact 10-90% band is drawn up to the last draw there (the dotted line), so that it spans
    # every record shown, and the simulated quantiles are marked where they are known.
    ax.fill_between(n, exact[0.1], np.where(np.isfinite(exact[0.9]), exact[0.9], draws),
                    color="0.6", alpha=0.3, lw=0, label="exact 10-90% (capped at the draws)")
    ax.axhline(draws, color="0.3", lw=0.8, ls=":", label=f"end of the stream: {draws:,} draws")
    ax.plot(n, exact[0.5], color="k", lw=0.9, ls="--", label="exact median")
    ax.plot(n, median, "o", color="C3", ms=4, label="simulated median")
    known = np.isfinite(high)
    ax.plot(n, low, "^", color="C3", ms=4, mfc="none", ls="none",
            label="simulated 10% and 90% (where within the draws)")
    ax.plot(n[known], high[known], "v", color="C3", ms=4, mfc="none", ls="none")
    ax.plot(n, np.exp(n - np.euler_gamma), color="C0", lw=1.0, ls="-.",
            label="e^(n - gamma): one record per e-fold")
    ax.set_ylim(0.5, draws * 1e4)  # room above the stream for the legend
    record(label, "compute_at_win", n, median, low, high, np.nan, exact[0.5])
    kgrid = np.unique(np.round(np.geomspace(1.0, draws, 8 * round(math.log10(draws)) + 1)))
    multiplier_panel(axes[1, 2], runs, kgrid, expected_records(kgrid) / THETA, "C3", label)
    edges = decades(draws)
    local = per_decade(runs, edges)
    mean, se = local["r"]
    exact_wins = np.diff(expected_records(edges))
    exact_r = exact_wins / THETA / math.log(10.0)
    mid = np.sqrt(edges[1:] * edges[:-1])
    ax = axes[2, 2]
    ax.errorbar(mid, mean, yerr=2 * se, fmt="o", color="C3", ms=4, capsize=2, label=label)
    ax.plot(mid, exact_r, "_", color="k", ms=14, mew=1.5)
    ax.axhline(1 / THETA, color="0.5", lw=0.8, ls=":", label=f"1/theta = {1 / THETA:g}")
    record(label, "r_by_decade", mid, mean, mean - 2 * se, mean + 2 * se, se, exact_r)
    record(label, "wins_by_decade", mid, local["wins"][0],
           local["wins"][0] - 2 * local["wins"][1], local["wins"][0] + 2 * local["wins"][1],
           local["wins"][1], exact_wins)
    summary += list(zip([label] * mid.size, edges[:-1], *local["r"], exact_r, *local["wins"],
                        exact_wins))

    titles = ["(a) finite pool, power-law vs light tails", "(b) finite pool, log-uniform p",
              "(c) Kortum: records on an endless stream"]
    for column in range(3):
        ax = axes[0, column]
        ax.set_yscale("log")
        ax.set_xlabel("n-th win" if column < 2 else "n-th record")
        ax.set_ylabel("compute to the n-th win (attempts)")
        ax.set_title(f"{titles[column]}\nstraight line = exponential in n", fontsize=10)
        ax = axes[1, column]
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("cumulative research compute K (attempts)")
        ax.set_ylabel("effective-compute multiplier A")
        ax.set_title("straight line = power law, slope r", fontsize=10)
        ax = axes[2, column]
        ax.set_xscale("log")
        ax.set_xlabel("cumulative research compute K (decade midpoint)")
        ax.set_ylabel("local r = d log A / d log K per decade")
        ax.set_title("simulated (2 s.e.) and closed form (black bars)", fontsize=10)
        for row in range(3):
            axes[row, column].grid(True, which="major", alpha=0.3)
            axes[row, column].legend(fontsize=8.5)
    axes[0, 0].plot([], [], color="k", lw=0.7, ls="--", label="closed form")
    axes[0, 0].legend(fontsize=8.5)

    stem = args.figures / "pandey"
    save_figure(fig, stem)
    save_data(stem, rows, "experiments/pandey.py",
              {"ideas": ideas, "pool_compute": pool_compute, "pool_replicates": pool_reps,
               "pool_gain": POOL_GAIN, "pools": POOLS, "kortum_draws": draws,
               "kortum_replicates": kortum_reps, "theta": THETA}, SEED)
    for case, start, m, s, t, w, ws, wt in summary:
        print(f"{case:34s} K {start:7.0e}-{10 * start:7.0e}: r = {m:7.4f} +- {s:.4f} "
              f"(closed form {t:7.4f}); wins {w:9.2f} +- {ws:.2f} (closed form {wt:9.2f})")
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
