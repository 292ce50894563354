"""Where to spend the next samples: planned vs uniform vs hard-problems-first, replayed exactly.

Real: the 7 Pythia models on 128 MATH problems, 10,000 attempts each (Brown et al. 2024). From
n = 100 attempts per problem (a hypergeometric draw from the record), each strategy spends
B = budget x problems more attempts, in 1 or 4 rounds, each round's attempts drawn from what the
record has left (:class:`simsearch.fitting.planner.Replay`: exact, not simulated), and predicts
pass@10000 with the conditional predictor of :mod:`simsearch.fitting.planner`; the error is
against the record's pass@10000. Across models: one budget over all 7 models' problems at
once (:func:`simsearch.fitting.planner.replay_plan_groups`), planned (each model its uniform
share, planned within it) against uniform on the same first passes. Simulated populations
(Beta, zero-inflated, a mixture, a logit-normal; 128 problems, 10,000 attempts) are replayed
per group.

Figure: figures/planner.{png,pdf}: mean |error| of pass@10000 against total attempts per
problem, per strategy (log x), real data and simulated populations. Data: figures/planner.csv.

Run:  python experiments/planner.py [COUNTS] [--quick]
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter
from tqdm.auto import tqdm

from figure_io import experiment_parser, save_data, save_figure
from simsearch import Beta, LogitNormal, Mixture, Point, simulate_counts
from simsearch.fitting.planner import replay_plan, replay_plan_groups

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / \
    "llmonkeys_pythia_math.csv"
SEED = 2024
K = 10_000
N_FROM = 100
#: (strategy, rounds) pairs compared.
ARMS = (("planned", 1), ("planned", 4), ("uniform", 1), ("hard-first", 1))
#: (strategy, rounds) pairs planned over every real model at once (scope "all models").
ACROSS_ARMS = (("planned", 1), ("uniform", 1))
POPULATIONS = {
    "beta(0.3,3)": Beta(0.3, 3.0),
    "zero-inflated 50%": Mixture([(0.5, Point(0.0)), (0.5, Beta(0.3, 3.0))]),
    "mixture": Mixture([(0.7, Beta(0.2, 30.0)), (0.3, Beta(2.0, 2.0))]),
    "logit-normal(-6,3)": LogitNormal(-6.0, 3.0),
}


def groups(counts: Path, quick: bool) -> dict:
    import pandas as pd

    out = {}
    if counts.is_file():
        frame = pd.read_csv(counts)
        for model, rows in frame.groupby("model", sort=False):
            out[f"pythia {model.split()[-1]}"] = (rows["successes"].to_numpy(),
                                                  rows["attempts"].to_numpy())
    rng = np.random.default_rng(SEED)
    for name, dist in POPULATIONS.items():
        sim = simulate_counts(dist, 128, K, seed=int(rng.integers(2**31)))
        out[f"sim {name}"] = (np.asarray(sim.successes), np.asarray(sim.attempts))
    return dict(list(out.items())[:2]) if quick else out


def main() -> None:
    parser = experiment_parser(__doc__, "two groups, one seed, one budget, 5 bootstrap refits")
    parser.add_argument("counts", nargs="?", type=Path, default=DATA)
    parser.add_argument("--budgets", default=None,
                        help="comma-separated extra attempts per problem (default 30,100,300)")
    args = parser.parse_args()
    quick = args.quick
    seeds = 1 if quick else 10
    budgets = ((100,) if quick else (30, 100, 300)) if args.budgets is None else \
        tuple(int(b) for b in args.budgets.split(","))
    replicates = 5 if quick else 20
    data = groups(args.counts, quick)
    columns = {k: [] for k in ("group", "scope", "strategy", "rounds", "budget_per_problem",
                               "seed", "total_attempts", "predicted", "population", "observed",
                               "error", "promised_mean_abs")}

    def record(group, scope, res, b):
        for key, value in (("group", group), ("scope", scope), ("strategy", res.strategy),
                           ("rounds", res.rounds), ("budget_per_problem", b),
                           ("seed", res.seed), ("total_attempts", res.total_attempts),
                           ("predicted", res.predicted), ("population", res.population),
                           ("observed", res.observed), ("error", res.predicted - res.observed),
                           ("promised_mean_abs", res.promised_mean_abs)):
            columns[key].append(value)

    real = {g: v for g, v in data.items() if g.startswith("pythia")}
    jobs = [("model", g, s, r, b, seed) for g in data for b in budgets for s, r in ARMS
            for seed in range(seeds)]
    if len(real) > 1:
        jobs += [("all models", None, s, r, b, seed) for b in budgets for s, r in ACROSS_ARMS
                 for seed in range(seeds)]
    for scope, g, strategy, rounds, b, seed in tqdm(jobs, desc="replays", disable=None):
        if scope == "model":
            c, n = data[g]
            record(g, scope, replay_plan(c, n, N_FROM, b * c.size, K, strategy, rounds, seed,
                                         replicates=replicates, root=SEED), b)
        else:
            budget = b * sum(c.size for c, _ in real.values())
            results = replay_plan_groups(real, N_FROM, budget, K, strategy, rounds, seed,
                                         replicates=replicates, root=SEED)
            for name, res in results.items():
                record(name, scope, res, b)
    table = {k: np.asarray(v) for k, v in columns.items()}
    lines = [f"{'group':20s} {'B/T':>4s} {'arm':26s} {'mean|err|':>9s} {'promised':>9s} "
             f"{'ratio':>6s} {'vs uniform':>10s}"]
    for scope, arms, names in (("model", ARMS, list(data)), ("all models", ACROSS_ARMS,
                                                               ["all pythia"])):
        for g in names:
            for b in budgets:
                sel = (table["scope"] == scope) & (table["budget_per_problem"] == b)
                if scope == "model":
                    sel &= table["group"] == g
                if not sel.any():
                    continue
                uni = sel & (table["strategy"] == "uniform")
                base = np.mean(np.abs(table["error"][uni]))
                for s, r in arms:
                    arm = sel & (table["strategy"] == s) & (table["rounds"] == r)
                    err = np.mean(np.abs(table["error"][arm]))
                    prom = np.mean(table["promised_mean_abs"][arm])
                    label = f"{s} x{r}" + (", all models" if scope != "model" else "")
                    lines.append(f"{g:20s} {b:4d} {label:26s} {err:9.4f} {prom:9.4f} "
                                 f"{prom / err if err > 0 else np.inf:6.2f} "
                                 f"{err / base:10.2f}")
    print("\n".join(lines))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    for ax, real in zip(axes, (True, False)):
        pick = np.array([g.startswith("pythia") == real for g in table["group"]])
        if not pick.any():  # no real data here: leave the panel out
            ax.set_visible(False)
            continue
        xs = [N_FROM + b for b in budgets]
        lines_drawn = 0
        for scope, arms, style in (("model", ARMS, "-"), ("all models", ACROSS_ARMS, "--")):
            for s, r in arms:
                arm = pick & (table["scope"] == scope) & (table["strategy"] == s) & \
                    (table["rounds"] == r)
                if not arm.any():
                    continue
                errors = [np.abs(table["error"][arm & (table["budget_per_problem"] == b)])
                          for b in budgets]
                # Bars: the standard error of each mean over its groups and seeds.
                # Each arm a little to the side, so that the bars do not hide each other.
                shifted = [x * 1.012 ** (lines_drawn - 2.5) for x in xs]
                lines_drawn += 1
                ax.errorbar(shifted, [e.mean() for e in errors], fmt=style, marker="o",
                            capsize=3,
                            yerr=[e.std(ddof=1) / np.sqrt(e.size) if e.size > 1 else 0.0
                                  for e in errors],
                            label=f"{s}, {r} round{'s' if r > 1 else ''}"
                                  + (", one budget over all models" if scope != "model" else ""))
        ax.set_xscale("log")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("total attempts per problem (n = 100 first pass + budget)")
        ax.set_ylabel("mean |error| of pass@10000 (fraction of problems)")
        ax.set_title("Pythia/MATH, 7 models" if real else "simulated populations")
        ax.legend(fontsize=8)
    fig.tight_layout()
    stem = args.figures / "planner"
    save_figure(fig, stem)
    save_data(stem, columns, "experiments/planner.py",
              {"counts": str(args.counts), "n_from": N_FROM, "k": K, "budgets": list(budgets),
               "seeds": seeds, "replicates": replicates, "arms": [list(a) for a in ARMS],
               "across_arms": [list(a) for a in ACROSS_ARMS],
               "populations": {k: v.spec for k, v in POPULATIONS.items()}, "quick": quick},
              SEED)
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
