"""How the measured scaling exponent moves with the difficulty distribution: a sweep heatmap.

Runs the sweep in experiments/sweeps/beta_grid.toml (p ~ Beta(alpha, beta) on a 6 x 6 log grid,
pass@k simulated to k = 1e6) and draws, per grid cell, averaged over replicates:

  (a) the exponent of a power-law fit to -log pass@k over k = 1..1e6;
  (b) that fitted exponent minus the true left-tail exponent alpha: the regression's bias.
      It is positive for heavy tails (small alpha) and grows with beta; at alpha near 1 only a
      few of the 200,000 problems still fail at k ~ 1e6, so those cells are noisy.

Writes figures/sweep_exponent_heatmap.{png,pdf} and its data (.csv + .json manifest).

Run:  python experiments/sweep_exponent_heatmap.py [--quick]
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.colors import Normalize
import numpy as np

from figure_io import experiment_parser, save_figure, save_sweep_table
from simsearch.sweep import plan_sweep

ROOT = Path(__file__).resolve().parent
SWEEP = ROOT / "sweeps" / "beta_grid.toml"


def main() -> None:
    parser = experiment_parser(__doc__, "3 x 3 grid, 20,000 problems")
    args = parser.parse_args()
    stem = args.figures / "sweep_exponent_heatmap"
    doc = tomllib.loads(SWEEP.read_text())
    if args.quick:
        doc["base"]["problems"] = 20_000
        doc["axes"] = {"dist.alpha": {"logspace": [0.1, 1.0, 3]},
                       "dist.beta": {"logspace": [0.5, 10.0, 3]}}
    plan = plan_sweep(doc, str(SWEEP), SWEEP.parent)
    rows = save_sweep_table(plan, stem, "results.csv")
    alphas = sorted({float(r["dist.alpha"]) for r in rows})
    betas = sorted({float(r["dist.beta"]) for r in rows})
    fitted = np.zeros((len(betas), len(alphas)))
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            fitted[i, j] = np.mean([float(r["exponent"]) for r in rows
                                    if float(r["dist.alpha"]) == a
                                    and float(r["dist.beta"]) == b])
    bias = fitted - np.array(alphas)[None, :]

    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.2), constrained_layout=True)
    # The bias is signed: a diverging map centred on zero, so that colour says over or under.
    largest = float(np.abs(bias).max()) or 1.0
    for ax, data, title, cmap, norm in (
            (axes[0], fitted, "(a) fitted exponent of -log pass@k, k = 1..1e6", "viridis",
             Normalize(float(fitted.min()), float(fitted.max()))),
            (axes[1], bias, "(b) fitted exponent minus true alpha", "RdBu_r",
             Normalize(-largest, largest))):
        mesh = ax.pcolormesh(np.arange(len(alphas) + 1), np.arange(len(betas) + 1), data,
                             cmap=cmap, norm=norm, shading="flat")
        for i in range(len(betas)):
            for j in range(len(alphas)):
                shade = norm(data[i, j])  # white text on the dark ends of each map
                dark = shade < 0.5 if cmap == "viridis" else abs(shade - 0.5) > 0.3
                ax.text(j + 0.5, i + 0.5, f"{data[i, j]:.2f}", ha="center", va="center",
                        fontsize=8, color="white" if dark else "black")
        ax.set_xticks(np.arange(len(alphas)) + 0.5, [f"{a:.2g}" for a in alphas])
        ax.set_yticks(np.arange(len(betas)) + 0.5, [f"{b:.2g}" for b in betas])
        ax.set_xlabel("alpha (left-tail exponent of p ~ Beta(alpha, beta))")
        ax.set_ylabel("beta")
        ax.set_title(title, fontsize=10)
        fig.colorbar(mesh, ax=ax, label="exponent" if ax is axes[0] else "bias")
    save_figure(fig, stem)
    plt.close(fig)
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
