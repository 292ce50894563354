"""Figure 15: real histories of research wins, fitted and forecast out of sample.

For each history (NanoGPT speedrun records, Stockfish fishtest gains, when ../shared/data is
there; always a history simulated from Kortum's model with a thinning tail, whose parameters
are known): (a) the observed record, the default forecast's median and 80% band from three
origins, and the two trend baselines from the same origins; (b) Pandey's test: log effort per
unit of progress against progress, with its least-squares line. records.csv holds the
rolling-origin backtest (mean absolute error and 80% coverage per method and horizon), the
table of the README.

Run:  python experiments/records.py [--quick]
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch.records import History, forecast, pandey_test, read_history, run_backtest
from simsearch.records.backtest import auto_origins, summary_table
from simsearch.records.models import simulate_history

SEED = 15
ROOT = Path(__file__).resolve().parent.parent
PROGRESS = next((p / "shared" / "data" / "progress" for p in (ROOT.parent, ROOT.parent.parent)
                 if (p / "shared" / "data" / "progress").is_dir()), None)
HORIZONS = [0.25, 0.5, 1.0]
SIMULATED = {"theta": 1.0, "c": 0.0, "g": 40.0, "kappa": 0.7, "years": 4.0}


def histories() -> dict:
    out = {}
    if PROGRESS is not None:
        out["NanoGPT speedrun (track 1)"] = read_history(
            PROGRESS / "modded_nanogpt_records.csv", time="date", record="record_time_min",
            lower_is_better=True, where=["track=track_1_short", "is_retiming=0"])
        out["Stockfish fishtest gainers"] = read_history(
            PROGRESS / "stockfish_sprt_patches_2013_2019.csv", time="commit_date",
            gain="ref_elo_logistic", effort="games_passed_total", where=["kind=gainer"])
    p = SIMULATED
    t, y = simulate_history(p["theta"], p["c"], p["g"], p["years"], np.random.default_rng(SEED),
                            kappa=p["kappa"])
    out["simulated (theta 1, kappa 0.7)"] = History(
        time=t, progress=y, effort=None, start=10.0, kind="record", lower_is_better=True,
        calendar=True, origin="2020-01-01", warnings=())
    return out


def main() -> None:
    parser = experiment_parser(__doc__, "2 origins and 100 replicates per history")
    args = parser.parse_args()
    count, replicates = (2, 100) if args.quick else (12, 1000)
    data = histories()
    if PROGRESS is not None:
        # Forecasts and backtests of Stockfish run on calendar time; Pandey's test uses games.
        fish_time = read_history(PROGRESS / "stockfish_sprt_patches_2013_2019.csv",
                                 time="commit_date", gain="ref_elo_logistic",
                                 where=["kind=gainer"])
    fig, axes = plt.subplots(len(data), 2, figsize=(11, 3.6 * len(data)),
                             constrained_layout=True, squeeze=False)
    table: dict = {}
    for row, (name, effortful) in enumerate(data.items()):
        h = fish_time if name.startswith("Stockfish") else effortful
        origins = auto_origins(h, count, max(HORIZONS))
        bt = run_backtest(h, origins, HORIZONS, level=0.8, replicates=replicates, seed=SEED,
                          progress=False)
        for key, values in bt.summary.items():
            table.setdefault(key, []).extend(values)
        table.setdefault("history", []).extend([name] * len(bt.summary["method"]))
        print(f"[{name}] mean absolute error ({'log record' if h.kind == 'record' else 'gain'}"
              f", 80% coverage)\n{summary_table(bt.summary, lambda x: f'{x * 12:g} mo')}")

        ax = axes[row, 0]
        years = h.time
        observed = h.value(h.progress)
        ax.step(years, observed, where="post", color="k", lw=1.2, label="observed")
        fan = np.linspace(0, max(HORIZONS), 13)[1:]
        for j, origin in enumerate(origins[:: max(1, len(origins) // 3)][:3]):
            past = h.before(origin)
            res = forecast(past, origin + fan, level=0.8, replicates=replicates,
                           seed=SEED + j, observed_until=origin)
            color = f"C{j}"
            lo, hi = h.value(res.low), h.value(res.high)
            ax.fill_between(origin + fan, np.minimum(lo, hi), np.maximum(lo, hi), color=color,
                            alpha=0.25, lw=0, label=f"80% band from {h.format_time(origin)}")
            ax.plot(origin + fan, h.value(res.median), color=color, lw=1.5)
            ax.plot(origin + fan, h.value(res.points["trend"]), color=color, lw=1, ls="--",
                    label="log-linear trend" if j == 0 else None)
            ax.plot(origin + fan, h.value(res.points["power_law"]), color=color, lw=1, ls=":",
                    label="power law in time" if j == 0 else None)
        if h.kind == "record":
            ax.set_yscale("log")
            ax.set_ylabel("record (log scale)")
        else:
            ax.set_ylabel("cumulative gain since the first row")
        ax.set_xlabel(f"years since {h.origin}")
        ax.set_title(f"(a) {name}: {h.wins} wins, default forecast (weighted) and trends",
                     fontsize=9)
        ax.legend(fontsize=8.5)
        ax.grid(True, alpha=0.3)

        ax = axes[row, 1]
        test = pandey_test(effortful)
        gain = np.diff(effortful.progress)
        spent = effortful.effort[1:] if effortful.effort is not None else np.diff(
            effortful.time)
        keep = (spent > 0) & (gain > 0)
        x = effortful.progress[:-1][keep]
        ax.plot(x, spent[keep] / gain[keep], "o", ms=3, alpha=0.6, color="C0",
                label=f"one win (effort: {test['effort_measure']})")
        if test["slope"] is not None:
            grid = np.linspace(x.min(), x.max(), 50)
            ax.plot(grid, np.exp(test["intercept"] + test["slope"] * grid), color="C3",
                    label=f"slope {test['slope']:.3g} [{test['low']:.3g}, {test['high']:.3g}]"
                          f" (90%): {test['verdict']}")
        ax.set_yscale("log")
        ax.set_xlabel("progress before the win (log record or gain units)")
        ax.set_ylabel("effort per unit of progress (log scale)")
        ax.set_title("(b) Pandey's test: exponentially more effort per unit of progress?",
                     fontsize=9)
        ax.legend(fontsize=8.5)
        ax.grid(True, which="both", alpha=0.3)

    stem = args.figures / "records"
    save_figure(fig, stem)
    save_data(stem, table, "experiments/records.py",
              {"horizons_years": HORIZONS, "origins_per_history": count,
               "replicates": replicates, "level": 0.8, "simulated": SIMULATED,
               "histories": list(data), "real_data": PROGRESS is not None}, SEED)
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
