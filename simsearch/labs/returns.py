"""Returns to research measured from simulated labs, with the estimators forecasters use.

From the per-period records of a labs simulation (mean over replicates of each lab's log
multiplier log A, its compute R per period and cumulative compute K) :class:`ReturnsEstimator`
fits

* **r**, software doublings per doubling of cumulative research input (Epoch; Davidson's
  compute-centric takeoff model): the within-lab slope of log A on log K.
* **lambda** and **phi** of Jones (1995), dA/dt = delta R^lambda A^phi: the regression
  log g = c + lambda log R + (phi - 1) log A on growth rates g = Delta log A per period, with
  log A taken at the period's midpoint. lambda is identified only when log R varies apart from
  log A, across labs with different budgets or growth; otherwise it is NaN and phi is fitted
  with lambda left out. The implied r is lambda / (1 - phi).
* the **decline of research productivity** g / R per period (Bloom et al. 2020), the within-lab
  slope of log(g / R) on the period, and its halving time.

Intervals come from a bootstrap over replicates: each resample recomputes the means and every
fit, so the intervals carry the Monte Carlo error of the simulation. In Kortum's model (an endless
stream of ideas with Pareto(theta) values, productivity the best value so far) theory gives
r = 1/theta, lambda = 1 and phi = 1 - theta (:func:`kortum_theory`).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import require
from ..seeding import seed_sequence

QUANTITIES = ("r", "lambda", "phi", "r_implied", "decline", "halving_time")
_DESCRIPTIONS = {
    "r": "doublings of A per doubling of cumulative compute",
    "lambda": "Jones lambda (returns to research effort R)",
    "phi": "Jones phi (standing on shoulders > 0 > fishing out)",
    "r_implied": "lambda / (1 - phi)",
    "decline": "decline of research productivity g/R per period (log units)",
    "halving_time": "periods for research productivity to halve",
}


def _within(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> float:
    """Slope of y on x with one intercept per group (the within estimator)."""
    yd, xd = y.astype(float).copy(), x.astype(float).copy()
    for g in np.unique(groups):
        sel = groups == g
        yd[sel] -= yd[sel].mean()
        xd[sel] -= xd[sel].mean()
    sxx = float(xd @ xd)
    return float(xd @ yd) / sxx if sxx > 1e-12 else math.nan


def _fit_aggregates(log_a: np.ndarray, compute: np.ndarray, cumulative: np.ndarray,
                    first: int) -> tuple[np.ndarray, int]:
    """Every estimate from (labs, periods) means; returns (estimates in QUANTITIES order,
    number of growth rates dropped for being <= 0)."""
    n_labs, n_periods = log_a.shape
    lab = np.repeat(np.arange(n_labs), n_periods).reshape(n_labs, n_periods)
    period = np.tile(np.arange(n_periods), (n_labs, 1))

    keep = (period >= first) & (cumulative > 0)
    r = _within(log_a[keep], np.log(cumulative[keep]), lab[keep])

    growth = np.diff(log_a, axis=1)
    mid = 0.5 * (log_a[:, 1:] + log_a[:, :-1])
    spent = compute[:, 1:]
    usable = (period[:, 1:] >= max(first, 1)) & (spent > 0)
    keep = usable & (growth > 0)
    dropped = int(np.count_nonzero(usable & ~(growth > 0)))
    lam = phi = decline = math.nan
    if np.count_nonzero(keep) >= 3:
        log_g, log_r, a_mid = np.log(growth[keep]), np.log(spent[keep]), mid[keep]
        if np.ptp(a_mid) > 1e-12:
            if np.ptp(log_r) > 1e-9:
                design = np.column_stack([np.ones_like(log_g), log_r, a_mid])
                if np.linalg.matrix_rank(design) == 3:
                    coef = np.linalg.lstsq(design, log_g, rcond=None)[0]
                    lam, phi = coef[1], 1.0 + coef[2]
            if math.isnan(phi):
                coef = np.polyfit(a_mid, log_g - (log_r if math.isnan(lam) else 0.0), 1)
                phi = 1.0 + coef[0]
        decline = -_within(log_g - log_r, period[:, 1:][keep].astype(float), lab[:, 1:][keep])
    r_implied = lam / (1.0 - phi) if not math.isnan(lam) and phi != 1.0 else math.nan
    halving = math.log(2.0) / decline if decline > 0 else math.inf
    if math.isnan(decline):
        halving = math.nan
    return np.array([r, lam, phi, r_implied, decline, halving]), dropped


class ReturnsEstimator:
    """Fit r, Jones's lambda and phi and the decline of research productivity.

    Parameters
    ----------
    burn_in : int, optional
        Initial periods left out of every fit (the first wins are rare and discrete); default
        a fifth of the periods.
    bootstrap : int
        Resamples of the replicates for the intervals (0 for none).
    confidence : float
        Coverage of the percentile intervals.
    seed : int or numpy.random.SeedSequence, optional
        Seed of the bootstrap.

    Attributes
    ----------
    estimates_ : dict
        ``r``, ``lambda``, ``phi``, ``r_implied``, ``decline``, ``halving_time``.
    intervals_ : dict
        (low, high) per quantity, NaN without a bootstrap.
    n_dropped_ : int
        Lab-periods whose mean growth was <= 0 (no log), left out of the growth regressions.
    burn_in_ : int
        Periods left out.
    replicates_, labs_, periods_ : int
    """

    def __init__(self, burn_in: int | None = None, bootstrap: int = 200,
                 confidence: float = 0.95, seed=None):
        self.burn_in = burn_in
        self.bootstrap = bootstrap
        self.confidence = confidence
        self.seed = seed

    def fit(self, periods) -> "ReturnsEstimator":
        """Fit from a :class:`~simsearch.labs.LabsResult` or its ``periods`` dict.

        ``periods`` needs ``log_multiplier``, ``compute`` and ``cumulative_compute`` arrays of
        shape (replicates, labs, periods).
        """
        periods = getattr(periods, "periods", periods)
        log_a = np.asarray(periods["log_multiplier"], dtype=float)
        compute = np.asarray(periods["compute"], dtype=float)
        cumulative = np.asarray(periods["cumulative_compute"], dtype=float)
        require(log_a.ndim == 3 and log_a.shape == compute.shape == cumulative.shape,
                "periods: log_multiplier, compute and cumulative_compute must share a shape "
                "(replicates, labs, periods)")
        n_rep, n_labs, n_periods = log_a.shape
        require(n_periods >= 3, f"periods: at least 3 periods are needed (got {n_periods})")
        require(0 < self.confidence < 1, "confidence: must be in (0, 1)")
        require(self.bootstrap >= 0, "bootstrap: must be >= 0")
        first = n_periods // 5 if self.burn_in is None else int(self.burn_in)
        require(0 <= first <= n_periods - 3, f"burn_in: must be in [0, {n_periods - 3}] "
                f"(got {first})")

        means = [x.mean(axis=0) for x in (log_a, compute, cumulative)]
        point, dropped = _fit_aggregates(*means, first)
        self.estimates_ = dict(zip(QUANTITIES, point.tolist()))
        self.n_dropped_ = dropped
        self.burn_in_ = first
        self.replicates_, self.labs_, self.periods_ = n_rep, n_labs, n_periods

        intervals = np.full((len(QUANTITIES), 2), math.nan)
        self.bootstrap_ = None
        if self.bootstrap > 0 and n_rep > 1:
            rng = np.random.default_rng(seed_sequence(self.seed))
            weights = rng.multinomial(n_rep, np.full(n_rep, 1.0 / n_rep),
                                      size=self.bootstrap) / n_rep
            stacked = np.stack([log_a, compute, cumulative], axis=1).reshape(n_rep, -1)
            draws = np.array([_fit_aggregates(*row.reshape(3, n_labs, n_periods), first)[0]
                              for row in weights @ stacked])
            tail = 50.0 * (1.0 - self.confidence)
            for j in range(len(QUANTITIES)):
                column = draws[:, j][np.isfinite(draws[:, j])]
                if column.size:
                    intervals[j] = np.percentile(column, [tail, 100.0 - tail])
            self.bootstrap_ = draws
        self.intervals_ = {q: (float(lo), float(hi)) for q, (lo, hi) in zip(QUANTITIES, intervals)}
        return self

    def standard_error(self, quantity: str) -> float:
        """Bootstrap standard deviation of one estimate (NaN without a bootstrap)."""
        if self.bootstrap_ is None:
            return math.nan
        column = self.bootstrap_[:, QUANTITIES.index(quantity)]
        column = column[np.isfinite(column)]
        return float(column.std(ddof=1)) if column.size > 1 else math.nan

    def table(self, theory: dict | None = None) -> dict:
        """Tidy columns (quantity, estimate, low, high, theory, description) for a CSV."""
        theory = theory or {}
        return {"quantity": list(QUANTITIES),
                "estimate": [self.estimates_[q] for q in QUANTITIES],
                "low": [self.intervals_[q][0] for q in QUANTITIES],
                "high": [self.intervals_[q][1] for q in QUANTITIES],
                "theory": [theory.get(q, "") for q in QUANTITIES],
                "description": [_DESCRIPTIONS[q] for q in QUANTITIES]}

    def report(self, theory: dict | None = None) -> str:
        """Human-readable lines, one per quantity."""
        theory = theory or {}
        level = f"{100 * self.confidence:g}%"
        lines = []
        for q in QUANTITIES:
            est, (lo, hi) = self.estimates_[q], self.intervals_[q]
            text = f"{q:>12} = {est:.4g}"
            if not math.isnan(lo):
                text += f"  [{lo:.4g}, {hi:.4g}] {level}"
            if q in theory:
                text += f"  (theory {theory[q]:.4g})"
            lines.append(f"{text}  {_DESCRIPTIONS[q]}")
        return "\n".join(lines)


def kortum_theory(config) -> dict | None:
    """Kortum's closed forms for a labs config, or None when they do not apply.

    They apply to an endless stream of ideas with Pareto(theta) values combined by ``max``, no
    sharing and costs that do not grow with the multiplier: r = 1/theta, lambda = 1,
    phi = 1 - theta (REFERENCE.md, "Kortum in Jones's terms").
    """
    pool = config.pool
    value = pool.value
    if (pool.ideas is not None or value is None or value.name != "pareto"
            or pool.combine != "max" or config.sharing != 0
            or any(lab.elasticity != 0 for lab in config.labs)):
        return None
    theta = value.alpha
    return {"r": 1.0 / theta, "lambda": 1.0, "phi": 1.0 - theta, "r_implied": 1.0 / theta}
