"""Backtests of every prediction method on real evaluations and on simulated populations.

Real: per-problem success counts of 7 Pythia models on 128 MATH problems, 10,000 attempts each
(Brown et al. 2024; the data of Schaeffer et al. 2025). From the first N1 = 100 and 1,000
attempts of each problem (hypergeometric subsamples, 10 seeds) every registered method predicts
pass@10000; the error is against the observed pass@10000 of the same problems. The pooled fits
(simsearch.fitting.pooled: `pooled-line`, each model's line with its exponent pooled across the
models, with bootstrap intervals; `pooled-irt`, one shared difficulty per problem) predict each
model from its own first N1 attempts and the other models' first N1 attempts of the same
problems.

Simulated (10 populations of 150 problems each, 10,000 attempts, one subsample each): designs
that break the assumptions, such as zero inflation (40% and 70% of problems unsolvable, as in
CodeContests-like sets), a two-Beta mixture, a logit-normal (no power law), a plain Beta, a
zero-inflated Kumaraswamy. And a stop-after-success design (sampling stops at the first
success, budget 1,000, so n_i varies), whose pass@10000 is compared with the exact value of the
same problems.

Figures: figures/real_data_backtest.{png,pdf}: per Pythia model, the observed -log pass@k and
each method's extrapolation from 100 attempts; figures/real_data_backtest_errors.{png,pdf}: the
errors by method. Data: figures/real_data_backtest.csv (+ .json manifest).

Run:  python experiments/real_data_backtest.py [COUNTS] [--quick]
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch import Beta, Kumaraswamy, LogitNormal, Mixture, Point, simulate_counts
from simsearch.fitting.counts import pass_at_k_from_counts
from simsearch.fitting.counts import CountTable
from simsearch.fitting.backtest import (format_summary, run_backtest, subsample_counts,
                                       table_columns)
from simsearch.fitting.methods import DEFAULT_METHOD, METHODS, get_method
from simsearch.fitting.pooled import POOLED_METHODS, add_pooled_backtest

# The checkout's data/ first (what a clone carries), then the development machine's shared data.
_ROOT = Path(__file__).resolve().parent.parent
DATA = next((p for p in (_ROOT / "data" / "llmonkeys_pythia_math.csv",
                         _ROOT.parent / "shared" / "data" / "llmonkeys_pythia_math.csv")
             if p.is_file()), _ROOT / "data" / "llmonkeys_pythia_math.csv")
SEED = 2026
N_TO = 10_000
CURVE_METHODS = [m for m, spec in METHODS.items() if spec.kind == "curve"]
INTERVAL_METHODS = ["line", "wls", "line-or-floor", "line-or-q1-floor", "zi-beta"]

POPULATIONS = {
    "zero-inflated 70%": Mixture([(0.7, Point(0.0)), (0.3, Beta(0.3, 3))]),
    "zero-inflated 40%": Mixture([(0.4, Point(0.0)), (0.6, Beta(0.3, 3))]),
    "zi-Kumaraswamy 20%": Mixture([(0.2, Point(0.0)), (0.8, Kumaraswamy(0.4, 4))]),
    "two-Beta mixture": Mixture([(0.5, Beta(0.2, 30)), (0.5, Beta(2, 3))]),
    "logit-normal": LogitNormal(-5, 2.5),
    "Beta(0.3, 3)": Beta(0.3, 3),
}


def read_groups(path: Path) -> dict:
    """model -> (successes, attempts) from the counts CSV."""
    groups: dict = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            c, n = groups.setdefault(row["model"], ([], []))
            c.append(int(row["successes"]))
            n.append(int(row["attempts"]))
    return {k: (np.array(c), np.array(n)) for k, (c, n) in groups.items()}


def simulated_groups(population, replicates: int, seed: int) -> dict:
    children = np.random.SeedSequence(seed).spawn(replicates)
    out = {}
    for r, child in enumerate(children):
        sc = simulate_counts(population, 150, N_TO, seed=child)
        out[f"{r}"] = (sc.successes, sc.attempts)
    return out


def stop_after_success(methods, replicates: int, seed: int, budget: int = 1000) -> dict:
    """Errors of pass@10000 predicted from stop-after-success data (n_i varies)."""
    population = POPULATIONS["zero-inflated 70%"]
    errors = {m: [] for m in methods}
    for child in np.random.SeedSequence(seed).spawn(replicates):
        rng = np.random.default_rng(child)
        p = population.sample(150, rng)
        first = np.where(p > 0, rng.geometric(np.where(p > 0, p, 0.5)), np.iinfo(np.int64).max)
        solved = first <= budget
        c, n = solved.astype(np.int64), np.where(solved, first, budget)
        truth = float(np.mean(-np.expm1(N_TO * np.log1p(-p))))
        table = CountTable.from_counts(c, n)
        for m in methods:
            with np.errstate(all="ignore"):
                errors[m].append(float(get_method(m).fit(table).predict_pass_at_k(N_TO)[0])
                                 - truth)
    return {m: np.array(e) for m, e in errors.items()}


_MARKERS = "osD^vPX*"
_DASHES = ["-", (0, (5, 2)), "-.", (0, (1, 1.5)), (0, (6, 2, 1, 2, 1, 2)), (0, (3, 1)),
           (0, (8, 3)), (0, (2, 3))]


def _method_style(i: int, method: str) -> dict:
    """Each method its colour, dash pattern and marker, the markers staggered along k: methods
    that predict the same curve (the floors where no floor is kept) stay distinguishable. The
    default method is a wide translucent band underneath, so that the others show on it."""
    style = dict(color=f"C{i}", ls=_DASHES[i % len(_DASHES)], marker=_MARKERS[i % len(_MARKERS)],
                 ms=4, mfc="none", markevery=(2 + 2 * i, 16), lw=1.1, zorder=3)
    if method == DEFAULT_METHOD:
        style.update(lw=4.0, alpha=0.45, ls="-", zorder=2)
    return style


def _one_two_five(value: float, _position) -> str:
    """Tick labels 0.1, 0.2, 0.5, 1, 2, 5 as plain numbers, the ticks between unlabelled."""
    if value <= 0:
        return ""
    mantissa = value / 10 ** np.floor(np.log10(value))
    return f"{value:g}" if any(abs(mantissa - m) < 1e-6 for m in (1, 2, 5)) else ""


def extrapolation_figure(groups: dict, methods: list[str], stem: Path) -> None:
    names = list(groups)
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows),
                             constrained_layout=True, squeeze=False)
    k_obs = np.unique(np.round(np.geomspace(1, N_TO, 30))).astype(int)
    k_pred = np.geomspace(1, N_TO, 100)
    rng = np.random.default_rng(SEED)
    for ax, name in zip(axes.ravel(), names):
        c, n = groups[name]
        observed = pass_at_k_from_counts(c, n, k_obs)
        ax.plot(k_obs, -np.log(observed), "o", color="k", ms=2.5, label="observed (all 10,000)")
        table = CountTable.from_counts(subsample_counts(c, n, 100, rng), np.full(c.size, 100))
        for i, m in enumerate(methods):
            with np.errstate(all="ignore"):
                pred = get_method(m).fit(table).predict_pass_at_k(k_pred)
            ax.plot(k_pred, -np.log(pred), **_method_style(i, m), label=m)
        ax.axvline(100, color="0.6", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", title=name, xlabel="attempts k",
               ylabel="-log pass@k")
        for formats in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            formats(FuncFormatter(_one_two_five))
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    axes.ravel()[-1].legend(handles, labels, fontsize=9, loc="center")
    fig.suptitle("Pythia on MATH: extrapolating from the first 100 attempts (dotted line); "
                 "methods that agree share a curve, their markers are staggered", fontsize=11)
    save_figure(fig, stem)
    plt.close(fig)


def errors_figure(panels: dict, methods: list[str], stem: Path) -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2),
                             constrained_layout=True, squeeze=False)
    for ax, (title, rows) in zip(axes.ravel(), panels.items()):
        method = np.array(rows["method"])
        shown = [m for m in methods if np.any(method == m)]  # pooled fits: real models only
        data = [np.abs(np.array(rows["error"], dtype=float)[method == m]) for m in shown]
        data = [d[np.isfinite(d)] for d in data]
        ax.boxplot(data, orientation="horizontal", tick_labels=shown, showfliers=True)
        ax.set(xscale="log", xlabel="|predicted - observed pass@10000|", title=title)
        ax.grid(True, axis="x", which="major", alpha=0.3)
    save_figure(fig, stem)
    plt.close(fig)


def main() -> None:
    parser = experiment_parser(__doc__, "2 seeds, fewer methods and replicates")
    parser.add_argument("counts", nargs="?", type=Path, default=DATA,
                        help="counts CSV with successes, attempts and model columns")
    args = parser.parse_args()
    if not args.counts.is_file():
        # One line that `simsearch reproduce` shows: the real data is not part of the package.
        print(f"wrote nothing: skipped, {args.counts} not found")
        return
    quick = args.quick
    methods = CURVE_METHODS + (["zi-beta"] if quick else
                               [m for m in METHODS if METHODS[m].kind == "likelihood"])
    seeds, boot, reps = (1, 0, 1) if quick else (10, 100, 10)
    n_froms = (100,) if quick else (100, 1000)
    groups = read_groups(args.counts)
    columns: dict = {}
    panels = {}

    def collect(data: str, result) -> None:
        rows = dict(result.rows)
        rows = {"data": [data] * len(rows["method"]), **rows}
        for key, values in rows.items():
            columns.setdefault(key, []).extend(values)

    report = []
    for n_from in n_froms:
        result = run_backtest(groups, n_from, N_TO, methods, seeds=seeds, seed=SEED,
                              bootstrap=boot, confidence=0.9,
                              interval_methods=INTERVAL_METHODS, progress=True)
        # The pooled fits see every model's first n attempts of the same subsamples; the
        # joint item-response refits are too slow for intervals here.
        result = add_pooled_backtest(result, groups, seeds=seeds, seed=SEED,
                                     methods=["pooled-line"], bootstrap=boot)
        result = add_pooled_backtest(result, groups, seeds=seeds, seed=SEED,
                                     methods=["pooled-irt"])
        collect("pythia-math", result)
        panels[f"Pythia/MATH, n = {n_from}"] = result.rows
        report.append(format_summary(result, "[Pythia/MATH] "))
        for pop_i, (pop, dist) in enumerate(POPULATIONS.items()):
            sim = run_backtest(simulated_groups(dist, reps, SEED + pop_i), n_from, N_TO, methods,
                               seeds=1, seed=SEED + pop_i, bootstrap=boot, confidence=0.9,
                               interval_methods=INTERVAL_METHODS)
            collect(pop, sim)
            report.append(format_summary(sim, f"[{pop}] "))
    sas = stop_after_success(CURVE_METHODS + ["beta", "zi-beta"], max(reps, 2), SEED)
    report.append("[stop-after-success, zero-inflated 70%, budget 1000] pass@10000 vs truth\n"
                  + "\n".join(f"{m:16s} mean|err| {np.mean(np.abs(e)):.4f} "
                              f"max|err| {np.max(np.abs(e)):.4f} bias {np.mean(e):+.4f}"
                              for m, e in sas.items()) + "\n")
    stem = args.figures / "real_data_backtest"
    plot_methods = CURVE_METHODS + ["zi-beta"] + ([] if quick else ["beta"])
    extrapolation_figure(groups, plot_methods, stem)
    sim_rows = {k: [v for d, v in zip(columns["data"], vals) if d != "pythia-math"]
                for k, vals in columns.items()}
    panels["simulated populations, all"] = sim_rows
    errors_figure(panels, methods + list(POOLED_METHODS),
                  args.figures / "real_data_backtest_errors")
    save_data(stem, table_columns(columns), "experiments/real_data_backtest.py",
              {"counts": str(args.counts), "n_from": list(n_froms), "n_to": N_TO,
               "seeds": seeds, "bootstrap": boot, "confidence": 0.9, "methods": methods,
               "pooled_methods": list(POOLED_METHODS),
               "populations": {k: v.spec for k, v in POPULATIONS.items()},
               "simulated_replicates": reps, "quick": quick}, SEED)
    print("\n".join(report))
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")
    print(f"wrote {(args.figures / 'real_data_backtest_errors').with_suffix('.png')} and .pdf")


if __name__ == "__main__":
    main()
