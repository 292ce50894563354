"""Sample efficiency of the two exponent estimators (Schaeffer et al. 2025, their comparison).

Counts are simulated with p ~ Beta(0.3, 3) (true exponent b = 0.3). For each design, many
seeded repetitions; each fits the distributional estimator (Beta-binomial maximum likelihood)
and the regression estimator (least squares of log(-log pass@k) on log k, k <= n).

  (a) error against attempts per problem n, with 1000 problems;
  (b) error against the number of problems, with 100 attempts each.

Writes figures/estimator_efficiency.{png,pdf} and the data behind it,
figures/estimator_efficiency.csv (+ .json manifest).

Run:  python experiments/estimator_efficiency.py [--quick]
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from figure_io import experiment_parser, save_data, save_figure
from simsearch.fitting.estimators import DistributionalEstimator, RegressionEstimator
from simsearch.sampling.passk import simulate_counts

TRUTH = "beta(alpha=0.3, beta=3)"
B_TRUE = 0.3


def designs(quick: bool):
    attempts = [10, 30, 100, 300, 1000] + ([] if quick else [3000, 10000])
    problems = [32, 64, 128, 256, 512, 1024] + ([] if quick else [2048, 4096])
    return ([("attempts", 1000, n) for n in attempts]
            + [("problems", p, 100) for p in problems])


def run(quick: bool, seed: int) -> dict:
    repeats = 5 if quick else 50
    rows = {k: [] for k in ("panel", "problems", "attempts", "repeat", "estimator",
                            "exponent", "error")}
    plan = [(d, r) for d in designs(quick) for r in range(repeats)]
    seeds = np.random.SeedSequence(seed).spawn(len(plan))
    for ((panel, n_problems, n_attempts), rep), child in tqdm(
            list(zip(plan, seeds)), desc="fits", unit="dataset"):
        sc = simulate_counts(TRUTH, n_problems, n_attempts, seed=child)
        fits = {"distributional": DistributionalEstimator().fit(sc.successes, sc.attempts),
                "regression": RegressionEstimator().fit(sc.successes, sc.attempts)}
        for name, est in fits.items():
            for key, value in (("panel", panel), ("problems", n_problems),
                               ("attempts", n_attempts), ("repeat", rep), ("estimator", name),
                               ("exponent", est.exponent_),
                               ("error", est.exponent_ - B_TRUE)):
                rows[key].append(value)
    return rows


def summarise(rows: dict):
    """RMSE, bias and the standard error of the RMSE for each panel, x and estimator."""
    err = np.array(rows["error"])
    out = []
    for panel, xkey in (("attempts", "attempts"), ("problems", "problems")):
        for name in ("distributional", "regression"):
            mask = (np.array(rows["panel"]) == panel) & (np.array(rows["estimator"]) == name)
            xs = np.array(rows[xkey])[mask]
            for x in np.unique(xs):
                e = err[mask][xs == x]
                rmse = np.sqrt(np.mean(e**2))
                se = np.std(e**2, ddof=1) / (2 * rmse * np.sqrt(e.size))
                out.append((panel, name, int(x), rmse, se, float(np.mean(e))))
    return out


def plot(summary, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    styles = {"distributional": dict(color="C0", marker="o",
                                     label="distributional (Beta-binomial MLE)"),
              "regression": dict(color="C3", marker="s",
                                 label="regression on pass@k (log-log)")}
    for ax, panel, xlabel, fixed in (
            (axes[0], "attempts", "attempts per problem n", "(a) 1000 problems"),
            (axes[1], "problems", "number of problems", "(b) 100 attempts per problem")):
        for name, style in styles.items():
            pts = [(x, r, s, b) for p, nm, x, r, s, b in summary if p == panel and nm == name]
            x, rmse, se, bias = map(np.array, zip(*pts))
            ax.plot(x, rmse, **style)
            ax.fill_between(x, rmse - se, rmse + se, color=style["color"], alpha=0.2)
            if name == "regression":  # its error is almost all bias; the MLE's is noise
                ax.plot(x, np.abs(bias), color=style["color"], ls=":", lw=1.2,
                        label="regression |bias|" if panel == "attempts" else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("error of exponent estimate (RMSE)")
        ax.set_title(fixed)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Exponent estimates from success counts, p ~ Beta(0.3, 3) (true b = {B_TRUE}); "
                 "bands: RMSE +- 1 s.e.", fontsize=10)
    save_figure(fig, path)
    plt.close(fig)


def main() -> None:
    parser = experiment_parser(__doc__, "fewer designs and repeats")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    rows = run(args.quick, args.seed)
    summary = summarise(rows)
    stem = args.figures / "estimator_efficiency"
    plot(summary, stem)
    save_data(stem, rows, "experiments/estimator_efficiency.py",
              {"truth": TRUTH, "quick": args.quick, "designs": designs(args.quick)}, args.seed)
    for panel, name, x, rmse, se, bias in summary:
        print(f"{panel:8s} {x:6d} {name:14s} rmse {rmse:.4f} +- {se:.4f}  bias {bias:+.4f}")
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
