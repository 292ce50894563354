"""Which uncertain input moves the outcome: a tornado of rank correlations from a labs sweep.

Runs the random design in experiments/sweeps/labs_uncertain.toml: two labs on a pool of ideas,
six inputs drawn as forecasters state them (the value of an idea lognormal with a 90% interval
spanning a factor of 9, as Davidson and Houlden's r = 1.2 (0.4 to 3.6) does; the frontier lab's
budget and growth, the share of wins published, replenishment, the difficulty's left tail),
with the frontier lab's budget rank-correlated with its growth (+0.4) and with publishing
(-0.5). The figure shows, per statistic and lab, Spearman's rank correlation of each input with
the statistic over all points and replicates (r and the research-productivity decline per
point), with the band where a zero correlation would fall 95% of the time.

Writes figures/labs_uncertainty.{png,pdf} and its data, the sweep's sensitivity.csv
(.csv + .json manifest).

Run:  python experiments/labs_uncertainty.py [--quick]
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import matplotlib.pyplot as plt

from figure_io import experiment_parser, save_figure, save_sweep_table
from simsearch.sweep import plan_sweep, tornado_figure

ROOT = Path(__file__).resolve().parent
SWEEP = ROOT / "sweeps" / "labs_uncertain.toml"
PANELS = ["log_multiplier@end", "time_to_multiplier@8", "r", "decline"]


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def main() -> None:
    parser = experiment_parser(__doc__, "16 points of 3 replicates, 600 ideas, 6 periods")
    args = parser.parse_args()
    stem = args.figures / "labs_uncertainty"
    doc = tomllib.loads(SWEEP.read_text())
    if args.quick:
        doc["random"]["count"], doc["replicates"] = 16, 3
        doc["base"]["periods"], doc["base"]["pool"]["ideas"] = 6, 600
        doc["returns"]["bootstrap"] = 20
    plan = plan_sweep(doc, str(SWEEP), SWEEP.parent)
    rows = save_sweep_table(plan, stem, "sensitivity.csv")
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    # A statistic with no finite correlation (time_to_multiplier@8 when no lab reaches 8x in
    # the quick run) would be an empty panel: leave it out and say so in the title.
    drawn = [name for name in PANELS if any(
        statistic == name and _finite(rho)
        for statistic, rho in zip(columns["statistic"], columns["spearman"]))]
    fig = tornado_figure(columns, drawn, row_key="lab")
    left_out = [name for name in PANELS if name not in drawn]
    note = f"\nnot drawn, no finite value: {', '.join(left_out)}" if left_out else ""
    fig.suptitle(f"Rank sensitivity of a labs sweep: {len(plan.points)} points x "
                 f"{plan.replicates} replicates{note}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    save_figure(fig, stem)
    plt.close(fig)
    if left_out:
        print(f"not drawn, no finite value: {', '.join(left_out)}")
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
