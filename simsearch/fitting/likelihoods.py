"""Compound-binomial likelihoods of per-problem success counts, and the registry of the
families of p that can be fitted.

A problem with n attempts and c successes has P(c | n) = C(n, c) int p^c (1-p)^(n-c) dD(p) under
a law D of p. Beta is the closed-form Beta-binomial; Kumaraswamy and scaled Beta use a certified
quadrature (:mod:`simsearch.kernels.compound_binomial`); zero-inflated families add a mass at
p = 0 (the unsolvable fraction); a two-Beta mixture has a closed form per component.
Zero-success problems are kept: they carry most of the information about the left tail.

Problems are first reduced to the distinct (c, n) pairs with their multiplicities
(:class:`CountTable`), so a bootstrap replicate is a multinomial reweighting of the pairs and
never copies the data. :data:`FIT_FAMILIES` is the one registry of fit families: ``simsearch
fit --dist``, the likelihood prediction methods and :class:`~simsearch.fitting.estimators.
DistributionalEstimator` all read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import optimize, special

from ..distributions.families import Beta, Distribution, Mixture, Point
from ..errors import SimsearchError
from ..runtime import map_replicates
from ..seeding import child, seed_sequence
from .counts import CountTable
from .quadrature import _LOG_BOUND, _CountLikelihood, _QuadratureModel, _moment_start

_CHI_SQUARE_MAX_N = 100_000


# --- likelihoods -----------------------------------------------------------------------------


class _BetaBinomial(_CountLikelihood):
    """Closed-form Beta-binomial likelihood over (log alpha, log beta), with its gradient."""

    n_params = 2
    has_gradient = True
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 2

    def __init__(self, table: CountTable):
        self.table = table

    @staticmethod
    def distribution(theta) -> Distribution:
        return Beta(math.exp(theta[0]), math.exp(theta[1]))

    def log_pmf(self, theta) -> np.ndarray:
        """log P(c | n) of each pair."""
        a, b = np.exp(theta)
        t = self.table
        return (t.log_binom + special.betaln(t.successes + a, t.attempts - t.successes + b)
                - special.betaln(a, b))

    def log_pmf_and_gradient(self, theta):
        """log P(c | n) of each pair and its gradient in (log alpha, log beta), (pairs, 2)."""
        a, b = np.exp(theta)
        t = self.table
        c, n = t.successes, t.attempts
        common = special.digamma(n + a + b) - special.digamma(a + b)
        d_a = special.digamma(c + a) - special.digamma(a) - common
        d_b = special.digamma(n - c + b) - special.digamma(b) - common
        return self.log_pmf(theta), np.stack([a * d_a, b * d_b], axis=1)


class _ZeroInflated(_CountLikelihood):
    """A base family with an extra mass pi0 at p = 0: theta = (base theta..., logit pi0).

    P(c | n) = pi0 [c = 0] + (1 - pi0) P_base(c | n), summed in log space, with the gradient
    from the base's.
    """

    def __init__(self, base):
        self.base = base
        self.table = base.table
        self.n_params = base.n_params + 1
        self.has_gradient = base.has_gradient
        self.bounds = list(base.bounds) + [(-15.0, 15.0)]

    def distribution(self, theta) -> Distribution:
        pi0 = float(special.expit(theta[-1]))
        return Mixture([(pi0, Point(0.0)), (1.0 - pi0, self.base.distribution(theta[:-1]))])

    def _combine(self, theta, base_log_pmf):
        log_pi0, log_rest = -np.logaddexp(0.0, -theta[-1]), -np.logaddexp(0.0, theta[-1])
        base = log_rest + base_log_pmf
        return np.where(self.table.successes == 0, np.logaddexp(log_pi0, base), base), base

    def log_pmf(self, theta) -> np.ndarray:
        return self._combine(theta, self.base.log_pmf(theta[:-1]))[0]

    def starts(self, table: CountTable) -> list[np.ndarray]:
        """The base's moments, and two guesses of the mass at 0 from the share of zeros."""
        w = table.weights / table.weights.sum()
        zero_share = float(w @ (table.successes == 0))
        base = _moment_start(table, self.base.n_params == 3)
        return [np.append(base, special.logit(min(max(f * zero_share, 1e-4), 0.99)))
                for f in (0.2, 0.8)]

    def objective(self, theta, weights):
        total = weights.sum()
        if not self.has_gradient:
            return -self.log_likelihood(theta, weights) / total
        base_log_pmf, base_grad = self.base.log_pmf_and_gradient(theta[:-1])
        log_pmf, base = self._combine(theta, base_log_pmf)
        pi0 = special.expit(theta[-1])
        # Share of each pair's probability that comes from the base family (1 for c > 0).
        share = np.exp(base - log_pmf)
        grad = np.empty((log_pmf.size, self.n_params))
        grad[:, :-1] = share[:, None] * base_grad
        # d/d logit(pi0): pi0 (1 - pi0) ([c = 0] - P_base) / P, i.e. (1 - share) - pi0.
        grad[:, -1] = (1.0 - share) - pi0
        return -float(weights @ log_pmf) / total, -(weights @ grad) / total


class _BetaMixture(_CountLikelihood):
    """Two Beta components: theta = (log a1, log b1, log a2, log b2, logit w1), closed form."""

    n_params = 5
    has_gradient = False
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4 + [(-15.0, 15.0)]

    def __init__(self, table: CountTable):
        self.table = table
        self._parts = (_BetaBinomial(table), _BetaBinomial(table))

    @staticmethod
    def distribution(theta) -> Distribution:
        w = float(special.expit(theta[4]))
        return Mixture([(w, Beta(math.exp(theta[0]), math.exp(theta[1]))),
                        (1.0 - w, Beta(math.exp(theta[2]), math.exp(theta[3])))])

    def log_pmf(self, theta) -> np.ndarray:
        log_w, log_1mw = -np.logaddexp(0.0, -theta[4]), -np.logaddexp(0.0, theta[4])
        return np.logaddexp(log_w + self._parts[0].log_pmf(theta[0:2]),
                            log_1mw + self._parts[1].log_pmf(theta[2:4]))

    def starts(self, table: CountTable) -> list[np.ndarray]:
        """A hard component at Beta(0.3, 30) beside the moments, at two mixing shares."""
        base = _moment_start(table, False)
        return [np.array([math.log(0.3), math.log(30.0), *base, special.logit(share)])
                for share in (0.3, 0.6)]

    def objective(self, theta, weights):
        return -self.log_likelihood(theta, weights) / weights.sum()


# --- the registry of fit families --------------------------------------------------------------


@dataclass(frozen=True)
class FitFamily:
    """A family of the law of p that can be fitted by maximum likelihood.

    ``model(table, fit_scale)`` builds its likelihood on a :class:`CountTable`: an object
    with ``n_params``, ``bounds``, ``has_gradient``, ``distribution(theta)``,
    ``log_pmf(theta)`` (per pair of the table), ``log_likelihood(theta, weights)``,
    ``objective(theta, weights)`` (minus the log likelihood, with its gradient when
    ``has_gradient``) and ``starts(table)`` (starting points for the optimiser).
    Registering one in :data:`FIT_FAMILIES` makes it a ``--dist`` of ``simsearch fit`` and a
    candidate of ``"all"``; those registered when :mod:`simsearch.fitting.methods` is imported
    are also prediction methods of the same name.
    """

    name: str
    summary: str
    model: Callable[[CountTable, bool], object]


def _beta(table: CountTable, fit_scale: bool):
    # Closed form without a scale; a scaled Beta needs quadrature.
    return _QuadratureModel(table, "beta", True) if fit_scale else _BetaBinomial(table)


def _kumaraswamy(table: CountTable, fit_scale: bool):
    return _QuadratureModel(table, "kumaraswamy", fit_scale)


def _zero_inflated(base: Callable) -> Callable:
    return lambda table, fit_scale: _ZeroInflated(base(table, fit_scale))


#: Families of the law of p that can be fitted, by name. "zi-" families put a mass pi0 at
#: p = 0 (problems no number of attempts solves: the unsolvable fraction); "scaled-beta" is
#: p = scale x Beta (Schaeffer et al. 2025); "beta-mixture" is two Beta components.
FIT_FAMILIES: dict[str, FitFamily] = {f.name: f for f in (
    FitFamily("beta", "Beta-binomial maximum likelihood", _beta),
    FitFamily("kumaraswamy", "Kumaraswamy-binomial maximum likelihood", _kumaraswamy),
    FitFamily("zi-beta", "zero-inflated Beta-binomial (mass at p = 0)", _zero_inflated(_beta)),
    FitFamily("zi-kumaraswamy", "zero-inflated Kumaraswamy-binomial",
              _zero_inflated(_kumaraswamy)),
    FitFamily("scaled-beta", "Beta scaled to [0, s] (3 parameters)",
              lambda table, fit_scale: _QuadratureModel(table, "beta", True)),
    FitFamily("beta-mixture", "two-component Beta mixture",
              lambda table, fit_scale: _BetaMixture(table)),
)}


def check_family(name: str, *, allow_all: bool = True) -> str:
    """``name`` if it is a registered fit family (or ``"all"``), else a one-line error."""
    if name in FIT_FAMILIES or (allow_all and name == "all"):
        return name
    raise SimsearchError(f"dist: unknown family {name!r}; expected one of "
                         f"{', '.join(FIT_FAMILIES)}{', all' if allow_all else ''}")


def _model(table: CountTable, family: str, fit_scale: bool = False):
    return FIT_FAMILIES[family].model(table, fit_scale)


def _maximise(model, weights, start) -> tuple[np.ndarray, bool]:
    """Best of the L-BFGS-B runs from each start (``start`` may be one point or a list)."""
    starts = start if isinstance(start, list) else [start]
    best = None
    with np.errstate(all="ignore"):
        for point in starts:
            res = optimize.minimize(model.objective, point, args=(weights,),
                                    jac=model.has_gradient, method="L-BFGS-B",
                                    bounds=model.bounds)
            if best is None or not (res.fun >= best.fun):
                best = res
    return best.x, bool(best.success)


@dataclass(frozen=True)
class FamilyFit:
    """Maximum-likelihood fit of one family.

    Attributes
    ----------
    family : str
    distribution : Distribution
    exponent : float
        Left-tail exponent of the fitted distribution.
    log_likelihood : float
        Including the binomial coefficients, so families are comparable.
    aic : float
    n_params : int
    converged : bool
    """

    family: str
    distribution: Distribution
    exponent: float
    log_likelihood: float
    aic: float
    n_params: int
    converged: bool
    theta: np.ndarray = field(repr=False)
    #: Mass at p = 0 (zero-inflated families), else None.
    unsolvable_fraction: float | None = None
    #: A fitted parameter sits on its optimiser bound: the data do not identify it.
    at_bound: bool = False

    def predict_pass_at_k(self, k) -> np.ndarray:
        """Expected pass@k of the fitted distribution at any k."""
        return self.distribution.expected_pass_at_k(np.asarray(k, dtype=float))


def _tail_exponent(dist: Distribution) -> float:
    """Left-tail exponent of the continuous part (an atom at 0 is the unsolvable fraction)."""
    if isinstance(dist, Mixture):
        exps = [d.tail_exponent for _, d in dist.components
                if not isinstance(d, Point) and d.tail_exponent is not None]
        return float(min(exps)) if exps else math.nan
    # A law with no power-law tail (a point, a finite support) has no exponent.
    return math.nan if dist.tail_exponent is None else float(dist.tail_exponent)


def _family_fit(model, family: str, theta, weights, ok: bool) -> FamilyFit:
    ll = model.log_likelihood(theta, weights)
    dist = model.distribution(theta)
    pi0 = float(special.expit(theta[-1])) if isinstance(model, _ZeroInflated) else None
    # pi0 -> 0 (no unsolvable problems) is a legitimate answer, not a failure to identify.
    shape = theta[:-1] if pi0 is not None else theta
    at_bound = any(min(abs(t - lo), abs(t - hi)) < 1e-3 for t, (lo, hi) in zip(shape, model.bounds))
    return FamilyFit(family, dist, _tail_exponent(dist), ll, 2 * model.n_params - 2 * ll,
                     model.n_params, ok, theta, pi0, bool(at_bound))


def fit_family(table: CountTable, family: str = "beta", *, fit_scale: bool = False,
               weights: np.ndarray | None = None, start=None) -> FamilyFit:
    """Maximum likelihood of one compound-binomial family on a :class:`CountTable`."""
    check_family(family, allow_all=False)
    model = _model(table, family, fit_scale)
    weights = table.weights if weights is None else weights
    theta, ok = _maximise(model, weights, model.starts(table) if start is None else start)
    return _family_fit(model, family, theta, weights, ok)


# --- bootstrap ---------------------------------------------------------------------------------


def _bootstrap_weights(table: CountTable, children):
    """One multinomial reweighting of the pairs per child seed: resampling the problems."""
    share = table.weights / table.weights.sum()
    for seq in children:
        yield np.random.default_rng(seq).multinomial(table.n_problems, share).astype(float)


def _bootstrap_selected(table, fits, fit_scale, children) -> list[Distribution]:
    """Per resample: refit every family in ``fits`` (from its point estimate) and keep the
    smallest AIC, so the model choice is repeated in each replicate."""
    models = [(_model(table, f.family, fit_scale), f) for f in fits]
    out = []
    for w in _bootstrap_weights(table, children):
        best = None
        for model, f in models:
            theta = _maximise(model, w, f.theta)[0]
            aic = 2 * model.n_params - 2 * model.log_likelihood(theta, w)
            if best is None or aic < best[0]:
                best = (aic, model.distribution(theta))
        out.append(best[1])
    return out


def bootstrap_families(table: CountTable, fit: FamilyFit | list[FamilyFit], replicates: int, *,
                       seed=None, fit_scale: bool = False,
                       workers: int = 1) -> list[Distribution]:
    """The law of p refitted on ``replicates`` resamples of the problems (a prediction
    method's refits are :func:`simsearch.fitting.bootstrap.bootstrap_fits`).

    ``fit`` is one family's fit, or several, in which case each replicate refits them all and
    keeps the smallest AIC (model selection repeated per replicate). Replicate b always uses
    ``child(seed, b)`` and starts from the point estimates, so the result does not depend on
    ``workers`` (processes to spread over).
    """
    fits = fit if isinstance(fit, list) else [fit]
    root = seed_sequence(seed)
    children = [child(root, b) for b in range(replicates)]
    return map_replicates(_bootstrap_selected, (table, fits, fit_scale), children, workers)
