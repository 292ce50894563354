"""The observed pass@k curve of a count table, for any sampling design.

With every problem sampled n times the curve is the mean of the unbiased estimator
1 - C(n-c, k) / C(n, k) (Chen et al. 2021). When n_i differ, a problem with no success in n_i
attempts says nothing about k > n_i: it is censored there. The curve is then a Kaplan-Meier
estimate of P(first success > k) in which problem i with c_i >= 1 successes contributes its
first-success time with the exchangeable law P(T_i > j) = C(n_i - c_i, j) / C(n_i, j) (zero
for j >= n_i - c_i + 1). Between two censoring times the risk set is fixed, so the estimate is a
ratio of weighted sums there; with equal n_i it reduces exactly to the mean unbiased estimator.

Designs that stop sampling a problem at its first success record (1, T_i) for solved problems:
their success is the last attempt, not a uniformly placed one, so P(T_i > j) = [j < T_i].
Designs that sample in batches of B until the first batch with a success (attacks and searches
run in parallel batches) record (c_i, n_i) with all c_i successes in the last batch: the first
success is in (n_i - B, n_i], exchangeably placed there, so P(T_i > j) = 1 up to n_i - B and
C(B - c_i, m) / C(B, m) at j = n_i - B + m. Reading such counts as exchangeable would spread
the successes over all n_i attempts (first successes too early); reading them as first-success
times would put each at the batch's end (too late). :func:`detect_design` tells the three apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.unbiased import unbiased_pass_at_k

#: The curve stops where fewer than this share of the problems still unsolved are observed.
MIN_OBSERVED_SHARE = 0.5


def detect_design(successes: np.ndarray, attempts: np.ndarray) -> str:
    """How the counts were sampled, from their shape.

    * ``"exchangeable"``: every problem got its attempts regardless of outcomes (equal n, or
      unequal n that do not look like the designs below).
    * ``"batch:B"``: batches of B attempts until the first batch with a success (attacks,
      searches): attempts differ, every problem's n is a multiple of B = gcd(n) > 1, every
      unsolved problem reached the largest budget, some solved problem stopped before it, and
      no problem has more successes than a batch holds. The successes are all in the last
      batch, so a solved problem's first success is in its last B attempts.
    * ``"first-success"``: one attempt at a time until the first success: attempts differ, gcd
      1, every problem has at most one success, and some solved problem stopped before the
      largest budget.
    """
    solved = successes > 0
    if np.all(attempts == attempts[0]) or not solved.any():
        return "exchangeable"
    stopped_early = bool(np.any(attempts[solved] < attempts.max()))
    batch = int(np.gcd.reduce(attempts))
    if (batch > 1 and stopped_early and np.all(attempts[~solved] == attempts.max())
            and successes.max() <= batch):
        return f"batch:{batch}"
    if np.any(successes > 1):
        return "exchangeable"
    return "first-success" if stopped_early else "exchangeable"


def batch_size(design: str) -> int | None:
    """B of a ``"batch:B"`` design, else None."""
    return int(design.split(":", 1)[1]) if design.startswith("batch:") else None


def _survival(successes, attempts, k, design) -> np.ndarray:
    """P(T_u > k_j) for each (c, n) pair u and each k_j (0 for solved pairs beyond n)."""
    if design == "first-success":
        return np.where(successes[:, None] > 0, (k[None, :] < attempts[:, None]), 1.0)
    if batch_size(design) is not None:
        return _batch_survival(successes, attempts, k, batch_size(design))
    surv = 1.0 - unbiased_pass_at_k(successes, attempts, np.minimum(k, attempts.min()))
    if np.all(attempts == attempts[0]) and k.max() <= attempts[0]:
        return surv
    # Pairs differ in n: evaluate each at its own k, clipped, then zero where k > n and c > 0.
    out = np.empty((successes.size, k.size))
    for n in np.unique(attempts):
        rows = attempts == n
        kk = np.minimum(k, n)
        out[rows] = 1.0 - unbiased_pass_at_k(successes[rows], attempts[rows], kk)
        beyond = k > n
        out[np.ix_(rows, beyond)] = np.where(successes[rows] > 0, 0.0, 1.0)[:, None]
    return out


def _batch_survival(successes, attempts, k, batch: int) -> np.ndarray:
    """Sampling in batches of ``batch`` until the first batch with a success: a solved pair's
    successes are all in its last batch, exchangeable there, so its first-success time is
    n - batch + (the first success among the batch's attempts): P(T > k) = 1 up to n - batch,
    then C(batch - c, j) / C(batch, j) at j = k - (n - batch)."""
    out = np.ones((successes.size, k.size))
    solved = np.flatnonzero(successes > 0)
    if solved.size == 0:
        return out
    values, which = np.unique(successes[solved], return_inverse=True)
    j = k[None, :] - (attempts[solved] - batch)[:, None]
    part = np.where(j >= batch, 0.0, 1.0)
    rows, cols = np.nonzero((j > 0) & (j < batch))
    # Only the offsets into a batch that the grid reaches, whatever the batch's size:
    # within[v, i] = P(no success among the first steps[i] attempts of a batch with values[v]).
    steps, where = np.unique(j[rows, cols], return_inverse=True)
    within = 1.0 - unbiased_pass_at_k(values, np.full(values.size, batch, dtype=np.int64),
                                      steps.astype(np.int64))
    part[rows, cols] = within[which[rows], where]
    out[solved] = part
    return out


def curve_k_max(successes, attempts, weights, design: str = "auto") -> int:
    """Largest k (up to the largest n) at which the problems still observed and unsolved make
    up at least MIN_OBSERVED_SHARE of the estimated unsolved ones; beyond it the curve would
    rest on a few uncensored problems. Equal n gives n."""
    if np.all(attempts == attempts[0]):
        return int(attempts[0])
    pieces = curve_pieces(successes, attempts, weights, log_grid(int(attempts.max()), 60),
                          design)
    survivors = (1.0 - pieces.pass_at_k(weights)) * weights.sum()
    observed = pieces.observed_unsolved(weights)
    ok = observed >= MIN_OBSERVED_SHARE * survivors - 1e-9
    bad = np.flatnonzero(~ok)
    last = pieces.k.size - 1 if bad.size == 0 else bad[0] - 1
    return int(pieces.k[max(last, 0)])


@dataclass(frozen=True)
class CurvePieces:
    """What the curve of one table needs, computed once and reweighted by the bootstrap.

    ``survival[u, j]`` is P(T_u > e_j) at the evaluation points ``points`` (the k grid and
    the censoring times); ``at_risk[u, r]`` says whether pair u is in the risk set of the r-th
    interval between censoring times; ``interval[j]`` is the interval of point j.
    """

    k: np.ndarray
    points: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    interval: np.ndarray
    starts: np.ndarray
    design: str

    def pass_at_k(self, weights: np.ndarray) -> np.ndarray:
        """Estimated pass@k on ``k`` for the given pair weights."""
        num = (self.survival * weights[:, None]).T @ self.at_risk  # points x intervals
        # Survival at a point j in interval r is S(start_r) * num[j, r] / num[start_r, r].
        s_at_start = np.ones(self.starts.size)
        for r in range(1, self.starts.size):
            prev = self.starts[r - 1]
            denom = num[prev, r - 1]
            ratio = num[self.starts[r], r - 1] / denom if denom > 0 else 0.0
            s_at_start[r] = s_at_start[r - 1] * ratio
        r = self.interval
        start = self.starts[r]
        with np.errstate(invalid="ignore", divide="ignore"):
            surv = s_at_start[r] * num[np.arange(r.size), r] / num[start, r]
        surv = np.where(np.isfinite(surv), surv, 0.0)
        lookup = np.searchsorted(self.points, self.k)
        return 1.0 - np.clip(surv[lookup], 0.0, 1.0)

    def observed_unsolved(self, weights: np.ndarray) -> np.ndarray:
        """Weight of pairs in the risk set and not yet solved, at each k."""
        num = (self.survival * weights[:, None]).T @ self.at_risk
        lookup = np.searchsorted(self.points, self.k)
        return num[lookup, self.interval[lookup]]


def curve_pieces(successes, attempts, weights, k: np.ndarray, design: str = "auto"
                 ) -> CurvePieces:
    """Precompute the curve of distinct (c, n) pairs on the grid ``k``."""
    if design == "auto":
        design = detect_design(successes, attempts)
    censor = np.unique(attempts[successes == 0])
    censor = censor[censor < k.max()]
    # Interval r covers (tau_{r-1}, tau_r]; interval 0 starts at k = 0.
    taus = np.concatenate([[0], censor]).astype(np.int64)
    points = np.unique(np.concatenate([taus, k])).astype(np.int64)
    survival = _survival(successes, attempts, points, design)
    # Risk set of interval r: solved pairs, and unsolved pairs not yet censored (n >= tau_r end).
    ends = np.concatenate([censor, [k.max()]])
    at_risk = ((successes[:, None] > 0) | (attempts[:, None] >= ends[None, :])).astype(float)
    interval = np.searchsorted(taus, points, side="left") - 1
    interval = np.clip(interval, 0, None)
    starts = np.searchsorted(points, taus)
    return CurvePieces(k, points, survival, at_risk, interval, starts, design)


def log_grid(k_max: int, n_points: int = 20) -> np.ndarray:
    """About ``n_points`` log-spaced integers from 1 to ``k_max`` (rounding merges some)."""
    return np.unique(np.round(np.logspace(0, np.log10(max(k_max, 1)), n_points))).astype(
        np.int64)
