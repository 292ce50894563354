"""Returns to research measured from simulated labs, with the estimators forecasters use.

From the per-period records of a labs simulation (mean over replicates of each lab's log
multiplier log A, its compute R per period and cumulative compute K) :class:`ReturnsEstimator`
fits

* **lambda** and **phi** of Jones (1995), dA/dt = delta_lab R^lambda A^phi: the regression
  log g = c_lab + lambda log R + (phi - 1) log A on growth rates g = Delta log A per period,
  with log A taken at the period's midpoint and one intercept per lab. The lab intercepts are
  needed because a lab paying c per attempt has delta proportional to c^-lambda; pooled, the
  cost differences would load onto lambda and phi. lambda is identified only when log R varies
  within labs apart from log A (labs growing at different rates, or off their balanced growth
  path); otherwise it is NaN and phi is the within-lab slope on log A.
* **r**, the returns to software R&D of Epoch (Erdil, Besiroglu and Ho 2024, "Estimating idea
  production: a methodological survey", arXiv:2405.10494; Davidson's compute-centric takeoff
  model; r = lambda / beta with beta = 1 - phi), three ways:

  - ``r_implied`` = lambda / (1 - phi), from the Jones fit: Epoch's definition, valid on and
    off the balanced growth path;
  - ``r_growth`` = g_A / g_R, the ratio of the growth rates of output and research input
    (Epoch's balanced-growth estimate): the within-lab slope of log A on log R over labs whose
    compute grows. On a balanced growth path g_A = lambda g_R / (1 - phi); off it (early
    periods of a growing lab) it is biased, and labs with constant compute say nothing;
  - ``r`` = doublings of A per doubling of *cumulative* input K, the within-lab slope of
    log A on log K. Integrating Jones's law gives A^(1-phi) proportional to the integral of
    R^lambda, which is K only when lambda = 1; on a balanced growth path K and R grow at the
    same rate. So ``r`` is Epoch's r only when lambda = 1 or on a balanced growth path: a lab
    with constant compute has slope 1 / (1 - phi) whatever lambda.

* the **decline of research productivity** g / R per period (Bloom et al. 2020), the within-lab
  slope of log(g / R) on the period, and its halving time.

Intervals come from a bootstrap over replicates: each resample recomputes the means and every
fit, so the intervals carry the Monte Carlo error of the simulation. In Kortum's model (an endless
stream of ideas with Pareto(theta) values, productivity the best value so far) theory gives
lambda = 1, phi = 1 - theta and r = 1/theta by every route
(:func:`simsearch.labs.theory.kortum_theory`).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import require
from ..fitting.interval import percentile_interval
from ..io.frames import to_pandas
from ..seeding import seed_sequence

QUANTITIES = ("r", "lambda", "phi", "r_implied", "r_growth", "decline", "halving_time")
_DESCRIPTIONS = {
    "r": "doublings of A per doubling of cumulative compute (Epoch's r only if lambda = 1 "
         "or on a balanced growth path)",
    "lambda": "Jones lambda (returns to research effort R)",
    "phi": "Jones phi (standing on shoulders > 0 > fishing out)",
    "r_implied": "Epoch's r = lambda / (1 - phi)",
    "r_growth": "g_A / g_R over labs with growing compute (Epoch's r on a balanced growth path)",
    "decline": "decline of research productivity g/R per period (log units)",
    "halving_time": "periods for research productivity to halve",
}


def _centred(columns: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``columns`` (k, B, labs, periods) minus their mean over each lab's kept periods (one
    intercept per lab and resample), zero in the cells ``keep`` (B, labs, periods) drops, so
    every resample is one slice of the same arithmetic."""
    weight = keep.astype(float)
    count = weight.sum(axis=-1)
    totals = (columns * weight).sum(axis=-1)
    means = np.divide(totals, count, out=np.zeros_like(totals), where=count > 0)
    return (columns - means[..., None]) * weight


def _products(centred: np.ndarray) -> np.ndarray:
    """Cross products of centred columns per resample: (B, k, k)."""
    return np.einsum("ibxy,jbxy->bij", centred, centred)


def _within(y: np.ndarray, x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Slope of y on x with one intercept per lab (the within estimator), per resample; NaN
    where x does not vary within labs."""
    products = _products(_centred(np.stack([y, x]), keep))
    sxx, sxy = products[:, 1, 1], products[:, 1, 0]
    return np.where(sxx > 1e-12, sxy / np.where(sxx > 1e-12, sxx, 1.0), math.nan)


def _jones(log_g: np.ndarray, log_r: np.ndarray, a_mid: np.ndarray,
           keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lambda, phi) per resample from log g = c_lab + lambda log R + (phi - 1) log A, within
    labs, over the kept lab-periods.

    The lab intercepts carry each lab's delta: a lab paying c per attempt turns compute R into
    R / c attempts, so its delta is c^-lambda times another's, and a pooled intercept would load
    the cost difference onto lambda and phi. lambda is identified only by within-lab variation
    of log R apart from log A (labs growing at different rates, or off their balanced growth
    path): the centred design [log R, log A] must have rank 2 by ``numpy.linalg.matrix_rank``'s
    rule (smallest singular value above the largest times rows times machine epsilon), and is
    then solved by its pseudo-inverse, as least squares would. Without it lambda is NaN and phi
    comes from the within-lab slope on log A alone.
    """
    centred = _centred(np.stack([log_g, log_r, a_mid]), keep)
    products = _products(centred)
    s_aa, s_rr, s_ay = products[:, 2, 2], products[:, 1, 1], products[:, 2, 0]
    lam = np.full(keep.shape[0], math.nan)
    phi = np.full(keep.shape[0], math.nan)
    varies = s_aa > 1e-12
    phi[varies] = 1.0 + s_ay[varies] / s_aa[varies]
    both = np.flatnonzero(varies & (s_rr > 1e-9))
    if both.size:
        cells = centred[:, both].reshape(3, both.size, -1)
        design = np.moveaxis(cells[1:], 0, -1)              # (resamples, cells, 2)
        singular = np.linalg.svd(design, compute_uv=False)  # descending
        rows = np.maximum(keep[both].reshape(both.size, -1).sum(axis=1), 2)
        full = singular[:, 1] > singular[:, 0] * rows * np.finfo(float).eps
        solved = np.einsum("bic,bc->bi", np.linalg.pinv(design[full]), cells[0][full])
        lam[both[full]] = solved[:, 0]
        phi[both[full]] = 1.0 + solved[:, 1]
    return lam, phi


def _fit_aggregates(log_a: np.ndarray, compute: np.ndarray, cumulative: np.ndarray,
                    first: int) -> tuple[np.ndarray, np.ndarray]:
    """Every estimate from (labs, periods) means, for a stack of resamples at once.

    ``log_a``, ``compute``, ``cumulative``: (B, labs, periods). Returns the estimates (B, 7)
    in :data:`QUANTITIES` order and, per resample, the number of growth rates dropped for
    being <= 0.
    """
    periods = np.arange(log_a.shape[-1])
    after = periods >= first

    def logged(values, keep):
        return np.log(np.where(keep, values, 1.0))

    keep = after & (cumulative > 0)
    r = _within(log_a, logged(cumulative, keep), keep)
    keep = after & (compute > 0)
    r_growth = _within(log_a, logged(compute, keep), keep)

    growth = np.diff(log_a, axis=-1)
    mid = 0.5 * (log_a[..., 1:] + log_a[..., :-1])
    spent = compute[..., 1:]
    usable = (periods[1:] >= max(first, 1)) & (spent > 0)
    keep = usable & (growth > 0)
    dropped = np.count_nonzero(usable & ~(growth > 0), axis=(1, 2))
    enough = np.count_nonzero(keep, axis=(1, 2)) >= 3
    log_g, log_r = logged(growth, keep), logged(spent, keep)
    lam, phi = _jones(log_g, log_r, mid, keep)
    decline = -_within(log_g - log_r, np.broadcast_to(periods[1:].astype(float), growth.shape),
                       keep)
    lam, phi, decline = (np.where(enough, v, math.nan) for v in (lam, phi, decline))
    with np.errstate(divide="ignore", invalid="ignore"):
        r_implied = np.where(np.isfinite(lam) & (phi != 1.0), lam / (1.0 - phi), math.nan)
        halving = np.where(decline > 0, math.log(2.0) / decline, math.inf)
    halving = np.where(np.isnan(decline), math.nan, halving)
    return np.stack([r, lam, phi, r_implied, r_growth, decline, halving], axis=1), dropped


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

        means = [x.mean(axis=0)[None] for x in (log_a, compute, cumulative)]
        point, dropped = _fit_aggregates(*means, first)
        self.estimates_ = dict(zip(QUANTITIES, point[0].tolist()))
        self.n_dropped_ = int(dropped[0])
        self.burn_in_ = first
        self.replicates_, self.labs_, self.periods_ = n_rep, n_labs, n_periods

        intervals = np.full((len(QUANTITIES), 2), math.nan)
        self.bootstrap_ = None
        if self.bootstrap > 0 and n_rep > 1:
            rng = np.random.default_rng(seed_sequence(self.seed))
            weights = rng.multinomial(n_rep, np.full(n_rep, 1.0 / n_rep),
                                      size=self.bootstrap) / n_rep
            stacked = np.stack([log_a, compute, cumulative], axis=1).reshape(n_rep, -1)
            # Every resample's means at once, then every fit at once (one slice each).
            resampled = (weights @ stacked).reshape(self.bootstrap, 3, n_labs, n_periods)
            draws = _fit_aggregates(*np.moveaxis(resampled, 1, 0), first)[0]
            for j in range(len(QUANTITIES)):
                # Over the resamples where the quantity is finite (lambda is NaN where the
                # design does not identify it, a halving time infinite without a decline).
                column = draws[:, j][np.isfinite(draws[:, j])]
                if column.size:
                    intervals[j] = percentile_interval(column, self.confidence,
                                                       minimum=1)[:, 0]
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

    def _applicable(self, theory: dict | None) -> dict:
        """The theory values of the quantities that were estimated (lambda is NaN when the
        design does not identify it, r_growth when no lab's compute grows)."""
        return {q: v for q, v in (theory or {}).items()
                if q in self.estimates_ and math.isfinite(self.estimates_[q])}

    def notes(self) -> list[str]:
        """Warnings on reading the estimates: when r and lambda / (1 - phi) disagree beyond
        their intervals, r (cumulative input) is not Epoch's r for this design."""
        (r_lo, r_hi), (i_lo, i_hi) = self.intervals_["r"], self.intervals_["r_implied"]
        if math.isnan(r_lo) or math.isnan(i_lo) or (r_lo <= i_hi and i_lo <= r_hi):
            return []
        return [("note: r (per doubling of cumulative compute) and r_implied = lambda/(1-phi) "
                 "disagree: lambda != 1 or labs off their balanced growth path; Epoch's r is "
                 "r_implied")]

    def table(self, theory: dict | None = None, *, typed: bool = False) -> dict:
        """Tidy columns (quantity, estimate, low, high, theory, description) for a CSV; theory
        only for the quantities estimated (a blank cell elsewhere, NaN with ``typed``: one
        dtype per column, for a binary file or a DataFrame)."""
        theory = self._applicable(theory)
        missing = math.nan if typed else ""
        return {"quantity": list(QUANTITIES),
                "estimate": [self.estimates_[q] for q in QUANTITIES],
                "low": [self.intervals_[q][0] for q in QUANTITIES],
                "high": [self.intervals_[q][1] for q in QUANTITIES],
                "theory": [theory.get(q, missing) for q in QUANTITIES],
                "description": [_DESCRIPTIONS[q] for q in QUANTITIES]}

    def to_pandas(self, theory: dict | None = None):
        """:meth:`table` as a pandas DataFrame (``theory`` missing where it does not apply)."""
        return to_pandas(self.table(theory, typed=True))

    def report(self, theory: dict | None = None) -> str:
        """Human-readable lines, one per quantity (theory beside the quantities estimated),
        then any :meth:`notes`."""
        theory = self._applicable(theory)
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
        return "\n".join(lines + self.notes())
