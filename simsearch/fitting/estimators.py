"""Estimators of the scaling exponent from per-problem success counts (c_i of n_i attempts),
with scikit-learn conventions (``fit``, then read the attributes ending in ``_``):

* :class:`RegressionEstimator` fits log(-log pass@k) = log a - b log k by least squares to the
  unbiased pass@k (Chen et al. 2021) on a log grid of k <= min n_i.
* :class:`DistributionalEstimator` fits the distribution of p by maximum likelihood of a compound
  binomial model (:mod:`simsearch.fitting.likelihoods`) and reads the exponent off its left
  tail (Schaeffer et al. 2025).

Both take a nonparametric bootstrap over problems.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from ..distributions.families import Distribution
from ..errors import require
from ..seeding import child, seed_sequence
from .counts import per_problem_pass_at_k
from .curve import log_grid
from .interval import percentile_interval
from .line import power_law_line
from .likelihoods import (_CHI_SQUARE_MAX_N, FIT_FAMILIES, CountTable, _bootstrap_weights, _model,
                          _tail_exponent, bootstrap_families, check_family, fit_family)


def _interval(samples: np.ndarray, confidence: float) -> np.ndarray:
    """The package's percentile interval over any number of replicates, shaped like one
    sample (a scalar's: (2,); a curve's: (2, len(k)))."""
    samples = np.asarray(samples, dtype=float)
    return percentile_interval(samples, confidence, minimum=1).reshape(
        (2,) + samples.shape[1:])


class RegressionEstimator:
    """Power-law regression on the pass@k curve: log(-log pass@k) = log a - b log k.

    Parameters
    ----------
    n_points : int, default 20
        Log-spaced k from 1 to ``k_max`` (duplicates after rounding merge).
    k_max : int, optional
        Largest k; default and upper limit the smallest number of attempts of any problem.
    bootstrap : int, default 0
        Bootstrap replicates for ``exponent_ci_``.
    confidence : float, default 0.95
    seed : int, optional

    Attributes
    ----------
    exponent_, prefactor_ : float
        b and a.
    r2_ : float
    k_ : numpy.ndarray
        The k used (points with pass@k = 1 drop out: log(-log 1) is undefined).
    pass_at_k_ : numpy.ndarray
        Observed unbiased pass@k at ``k_``.
    exponent_ci_ : numpy.ndarray or None
    """

    def __init__(self, n_points: int = 20, k_max: int | None = None, bootstrap: int = 0,
                 confidence: float = 0.95, seed=None):
        self.n_points, self.k_max, self.bootstrap = n_points, k_max, bootstrap
        self.confidence, self.seed = confidence, seed

    @staticmethod
    def _line(k, pass_at_k):
        line = power_law_line(k, pass_at_k)
        if line is None:
            return math.nan, math.nan, math.nan
        return -line.slope, math.exp(line.intercept), line.r2

    def fit(self, successes, attempts) -> "RegressionEstimator":
        table = CountTable.from_counts(successes, attempts)
        k_top = int(table.attempts.min())
        k_max = k_top if self.k_max is None else min(int(self.k_max), k_top)
        k = log_grid(k_max, self.n_points)
        per_pair = per_problem_pass_at_k(table.successes, table.attempts, k)
        observed = table.weights @ per_pair / table.weights.sum()
        self.exponent_, self.prefactor_, self.r2_ = self._line(k, observed)
        require(math.isfinite(self.exponent_),
                "regression: fewer than two k with 0 < pass@k < 1; nothing to fit")
        keep = (observed > 0) & (observed < 1)
        self.k_, self.pass_at_k_ = k[keep], observed[keep]
        self.exponent_ci_ = None
        if self.bootstrap:
            root = seed_sequence(self.seed)
            children = [child(root, b) for b in range(self.bootstrap)]
            exps = [self._line(k, w @ per_pair / w.sum())[0]
                    for w in _bootstrap_weights(table, children)]
            self.exponent_ci_ = _interval(np.array(exps), self.confidence)
        return self

    def predict_pass_at_k(self, k) -> np.ndarray:
        """exp(-a k^-b): the fitted power law, extrapolated."""
        return np.exp(-self.prefactor_ * np.asarray(k, dtype=float) ** -self.exponent_)


class DistributionalEstimator:
    """Maximum likelihood of the distribution of p from success counts; exponent = left tail.

    Parameters
    ----------
    family : str, default "beta"
        One of :data:`FIT_FAMILIES`, or "all": every family is fitted and the smallest AIC
        wins (and the bootstrap repeats that choice in each replicate).
    fit_scale : bool, default False
        Also fit Schaeffer's scale (p = scale x X); uses quadrature.
    bootstrap : int, default 0
        Bootstrap replicates (over problems) for intervals.
    confidence : float, default 0.95
    seed : int, optional
        Seeds the bootstrap; results do not depend on ``workers``.
    workers : int, default 1
        Processes for the bootstrap.

    Attributes
    ----------
    distribution_ : Distribution
    exponent_ : float
    log_likelihood_, aic_ : float
    fits_ : dict[str, FamilyFit]
        Every family fitted.
    exponent_ci_ : numpy.ndarray or None
    bootstrap_distributions_ : list[Distribution]
    """

    def __init__(self, family: str = "beta", fit_scale: bool = False, bootstrap: int = 0,
                 confidence: float = 0.95, seed=None, workers: int = 1):
        self.family, self.fit_scale, self.bootstrap = family, fit_scale, bootstrap
        self.confidence, self.seed, self.workers = confidence, seed, workers

    def fit(self, successes, attempts) -> "DistributionalEstimator":
        check_family(self.family)
        require(isinstance(self.bootstrap, int) and self.bootstrap >= 0,
                f"bootstrap: must be an integer >= 0 (got {self.bootstrap!r})")
        require(0 < self.confidence < 1,
                f"confidence: must be in (0, 1) (got {self.confidence!r})")
        table = CountTable.from_counts(successes, attempts)
        families = list(FIT_FAMILIES) if self.family == "all" else [self.family]
        self.table_ = table
        self.fits_ = {f: fit_family(table, f, fit_scale=self.fit_scale) for f in families}
        best = min(self.fits_.values(), key=lambda f: f.aic)
        self.best_ = best
        self.distribution_ = best.distribution
        self.exponent_ = best.exponent
        self.log_likelihood_, self.aic_ = best.log_likelihood, best.aic
        self.bootstrap_distributions_ = []
        self.exponent_ci_ = None
        if self.bootstrap:
            self.bootstrap_distributions_ = bootstrap_families(
                table, list(self.fits_.values()), self.bootstrap, seed=self.seed,
                fit_scale=self.fit_scale, workers=self.workers)
            exps = np.array([_tail_exponent(d) for d in self.bootstrap_distributions_])
            self.exponent_ci_ = _interval(exps, self.confidence)
        return self

    def predict_pass_at_k(self, k) -> np.ndarray:
        """Expected pass@k at any k, beyond the sampled n too, from the fitted distribution."""
        return self.distribution_.expected_pass_at_k(np.asarray(k, dtype=float))

    def pass_at_k_interval(self, k) -> np.ndarray:
        """Bootstrap interval of the predicted pass@k, shape (2, len(k))."""
        require(self.bootstrap_distributions_, "bootstrap: fit with bootstrap > 0 for intervals")
        k = np.atleast_1d(np.asarray(k, dtype=float))
        draws = np.array([d.expected_pass_at_k(k) for d in self.bootstrap_distributions_])
        return _interval(draws, self.confidence)

    def attempts_for(self, target: float, dist: Distribution | None = None) -> float:
        """Smallest k with expected pass@k >= ``target`` (real-valued; ``inf`` if never)."""
        require(0 < target < 1, f"target: must be in (0, 1) (got {target!r})")
        dist = self.distribution_ if dist is None else dist
        if dist.expected_pass_at_k(1.0) >= target:
            return 1.0
        hi = 1.0
        while dist.expected_pass_at_k(hi) < target:
            hi *= 10.0
            if hi > 1e15:
                return math.inf
        root = optimize.brentq(lambda lk: dist.expected_pass_at_k(math.exp(lk)) - target,
                               math.log(hi / 10.0), math.log(hi), xtol=1e-10)
        return math.exp(root)

    def goodness_of_fit(self, n_points: int = 12) -> dict:
        """How well the fitted distribution reproduces the data.

        Returns observed and fitted pass@k on a log grid of k <= min n (the largest absolute
        gap is ``max_abs_pass_at_k_gap``) and, when every problem has the same n, a chi-square
        test of the histogram of successes against the fitted compound binomial (bins pooled to
        expected counts >= 5; degrees of freedom reduced by the fitted parameters), for n up to
        ``_CHI_SQUARE_MAX_N`` (it tabulates every count 0..n).
        """
        t = self.table_
        k = log_grid(int(t.attempts.min()), n_points)
        observed = t.weights @ per_problem_pass_at_k(t.successes, t.attempts, k) / t.weights.sum()
        fitted = self.predict_pass_at_k(k)
        out = {"k": k.tolist(), "observed_pass_at_k": observed.tolist(),
               "fitted_pass_at_k": fitted.tolist(),
               "max_abs_pass_at_k_gap": float(np.max(np.abs(observed - fitted)))}
        if np.all(t.attempts == t.attempts[0]) and t.attempts[0] <= _CHI_SQUARE_MAX_N:
            out.update(self._chi_square(int(t.attempts[0])))
        return out

    def _chi_square(self, n: int) -> dict:
        t = self.table_
        c = np.arange(n + 1)
        every_c = CountTable.of_pairs(c, np.full(n + 1, n), np.ones(n + 1))
        probs = np.exp(_model(every_c, self.best_.family, self.fit_scale).log_pmf(self.best_.theta))
        observed = np.zeros(n + 1)
        np.add.at(observed, t.successes, t.weights)
        expected = probs / probs.sum() * t.weights.sum()
        # Pool neighbouring counts until each bin expects at least 5 problems.
        obs_bins, exp_bins, acc_o, acc_e = [], [], 0.0, 0.0
        for o, e in zip(observed, expected):
            acc_o, acc_e = acc_o + o, acc_e + e
            if acc_e >= 5:
                obs_bins.append(acc_o)
                exp_bins.append(acc_e)
                acc_o = acc_e = 0.0
        if obs_bins:
            obs_bins[-1] += acc_o
            exp_bins[-1] += acc_e
        dof = len(obs_bins) - 1 - self.best_.n_params
        if dof < 1:
            return {}
        obs_bins, exp_bins = np.array(obs_bins), np.array(exp_bins)
        stat = float(np.sum((obs_bins - exp_bins) ** 2 / exp_bins))
        return {"chi_square": stat, "chi_square_dof": dof,
                "chi_square_p_value": float(special.chdtrc(dof, stat))}
