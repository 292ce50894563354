"""Figure 5: predicting pass@k far beyond the attempts sampled.

1000 problems (p ~ Beta(0.3, 3)) sampled n = 100 times each. From the counts alone: the observed
unbiased pass@k up to n; the distributional estimator's prediction to 100n with its 95%
bootstrap band; and the regression's power law extrapolated. The truth is the exact pass@k of
the same 1000 problems, mean_i [1 - (1 - p_i)^k], computed from their hidden p_i.

Run:  python experiments/prediction.py [--quick]
"""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np

from figure_io import experiment_parser, save_data, save_figure
from simsearch import simulate_counts
from simsearch.fitting.counts import pass_at_k_from_counts
from simsearch.fitting.estimators import DistributionalEstimator, RegressionEstimator

SEED = 5
TRUTH = "beta(alpha=0.3, beta=3)"


def main() -> None:
    parser = experiment_parser(__doc__, "fewer bootstrap replicates")
    args = parser.parse_args()
    n = 100
    sc = simulate_counts(TRUTH, 1000, n, seed=SEED)
    boots = 50 if args.quick else 400
    dist_est = DistributionalEstimator(bootstrap=boots, seed=SEED).fit(sc.successes,
                                                                       sc.attempts)
    reg = RegressionEstimator().fit(sc.successes, sc.attempts)
    k_obs = np.unique(np.round(np.geomspace(1, n, 15))).astype(int)
    observed = pass_at_k_from_counts(sc.successes, sc.attempts, k_obs)
    k_all = np.geomspace(1, 100 * n, 200)
    truth = np.array([np.mean(-np.expm1(k * np.log1p(-sc.p))) for k in k_all])
    predicted = dist_est.predict_pass_at_k(k_all)
    lo, hi = dist_est.pass_at_k_interval(k_all)

    def neg_log(x):
        return -np.log(x)

    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    ax.axvspan(1, n, color="0.93", label=f"sampled: k <= n = {n}")
    ax.plot(k_all, neg_log(truth), color="k", lw=2, label="truth for these 1000 problems")
    ax.fill_between(k_all, neg_log(hi), neg_log(lo), color="C0", alpha=0.25,
                    label=f"distributional, 95% bootstrap band (B = {boots})")
    ax.plot(k_all, neg_log(predicted), color="C0", lw=1.5,
            label=f"distributional prediction (b = {dist_est.exponent_:.3f})")
    ax.plot(k_all, neg_log(reg.predict_pass_at_k(k_all)), color="C3", ls="--",
            label=f"regression extrapolated (b = {reg.exponent_:.3f})")
    ax.plot(k_obs, neg_log(observed), "o", color="k", ms=4, label="observed (unbiased pass@k)")
    ax.set(xscale="log", yscale="log", xlabel="attempts per problem k", ylabel="-log pass@k")
    ax.set_title("Predicting pass@k to 100x the sampled attempts", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8.5, loc="lower left")
    stem = args.figures / "prediction"
    save_figure(fig, stem)
    save_data(stem, {"k": k_all, "truth_pass_at_k": truth, "predicted_pass_at_k": predicted,
                     "predicted_lo": lo, "predicted_hi": hi,
                     "regression_pass_at_k": reg.predict_pass_at_k(k_all)},
              "experiments/prediction.py",
              {"truth": TRUTH, "problems": 1000, "attempts": n, "bootstrap": boots}, SEED)
    k_far = np.array([float(100 * n)])
    print(f"pass@{100 * n}: truth {truth[-1]:.4f}, distributional "
          f"{dist_est.predict_pass_at_k(k_far)[0]:.4f} "
          f"[{dist_est.pass_at_k_interval(k_far)[0, 0]:.4f}, "
          f"{dist_est.pass_at_k_interval(k_far)[1, 0]:.4f}], regression "
          f"{reg.predict_pass_at_k(k_far)[0]:.4f}")
    print(f"wrote {stem.with_suffix('.png')}, .pdf and .csv")


if __name__ == "__main__":
    main()
