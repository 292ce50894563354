"""Estimators of the scaling exponent from per-problem success counts (c_i of n_i attempts).

Two estimators, with scikit-learn conventions (``fit``, then read the attributes ending in ``_``):

* :class:`RegressionEstimator` fits log(-log pass@k) = log a - b log k by least squares to the
  unbiased pass@k (Chen et al. 2021) on a log grid of k <= min n_i.
* :class:`DistributionalEstimator` fits the distribution of p by maximum likelihood of a compound
  binomial model, P(c | n) = C(n, c) int p^c (1-p)^(n-c) dD(p), and reads the exponent off its
  left tail (Schaeffer et al. 2025). Zero-success problems are kept: they carry most of the
  information about the tail. Beta is the closed-form Beta-binomial; Kumaraswamy and scaled
  Beta use quadrature (:mod:`simsearch.kernels.compound_binomial`).

Both take a nonparametric bootstrap over problems. Problems are first reduced to the distinct
(c, n) pairs with their multiplicities, so a bootstrap replicate is a multinomial reweighting
of the pairs and never copies the data.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Callable

import numpy as np
from scipy import optimize, special

from ..distributions.families import Beta, Distribution, Kumaraswamy, Mixture, Point
from ..errors import SimsearchError, require
from ..kernels.compound_binomial import Nodes, make_nodes, make_pairs, windowed_log_sums
from ..seeding import child, seed_sequence
from .counts import per_problem_pass_at_k, validate_counts

# Grid ends: p from 1e-12 / n_max to 1 - 1e-12 / n_max; beyond them the binomial factor is 1
# (c = 0) or 1 (c = n) to 12 digits and the prior's mass there is added in closed form.
_EDGE = 1e-12
_LOG_BOUND = 12.0  # fitted shape parameters stay within exp(+-12)
_CHI_SQUARE_MAX_N = 100_000


@dataclass(frozen=True)
class CountTable:
    """Distinct (successes, attempts) pairs and how many problems have each.

    Build with :meth:`from_counts`; ``weights`` are multiplicities (floats, so a bootstrap can
    reweight them).
    """

    successes: np.ndarray
    attempts: np.ndarray
    weights: np.ndarray
    log_binom: np.ndarray = field(repr=False)

    @classmethod
    def from_counts(cls, successes, attempts) -> "CountTable":
        c, n = validate_counts(successes, attempts)
        require(c.size >= 2, "successes: need at least two problems to fit a distribution")
        require(np.any(c > 0), "successes: every problem has 0 successes; the exponent cannot "
                               "be estimated (sample more attempts per problem)")
        require(np.any(c < n), "successes: every problem succeeded on every attempt; the "
                               "distribution of p cannot be estimated")
        pairs, counts = np.unique(np.stack([c, n], axis=1), axis=0, return_counts=True)
        return cls.of_pairs(pairs[:, 0], pairs[:, 1], counts.astype(float))

    @classmethod
    def of_pairs(cls, successes, attempts, weights) -> "CountTable":
        """A table of already distinct, valid (c, n) pairs with their weights."""
        c, n = np.asarray(successes), np.asarray(attempts)
        log_binom = (special.gammaln(n + 1.0) - special.gammaln(c + 1.0)
                     - special.gammaln(n - c + 1.0))
        return cls(c, n, np.asarray(weights, dtype=float), log_binom)

    @property
    def n_problems(self) -> int:
        return int(round(self.weights.sum()))


# --- likelihoods -----------------------------------------------------------------------------


class _BetaBinomial:
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

    def log_likelihood(self, theta, weights) -> float:
        return float(weights @ self.log_pmf(theta))

    def log_pmf_and_gradient(self, theta):
        """log P(c | n) of each pair and its gradient in (log alpha, log beta), (pairs, 2)."""
        a, b = np.exp(theta)
        t = self.table
        c, n = t.successes, t.attempts
        common = special.digamma(n + a + b) - special.digamma(a + b)
        d_a = special.digamma(c + a) - special.digamma(a) - common
        d_b = special.digamma(n - c + b) - special.digamma(b) - common
        return self.log_pmf(theta), np.stack([a * d_a, b * d_b], axis=1)

    def starts(self, table: CountTable) -> list[np.ndarray]:
        """Starting points for the optimiser: the method of moments."""
        return [_moment_start(table, self.n_params == 3)]

    def objective(self, theta, weights):
        """Negative mean log-likelihood and its gradient in (log alpha, log beta)."""
        log_pmf, grad = self.log_pmf_and_gradient(theta)
        total = weights.sum()
        return -float(weights @ log_pmf) / total, -(weights @ grad) / total


class _BetaShape:
    """Beta(a, b) on the quadrature grid: log density, its scores and its mass off the grid."""

    distribution = Beta

    @staticmethod
    def log_density(a, b, log_x, log_1mx):
        return (a - 1) * log_x + (b - 1) * log_1mx - special.betaln(a, b)

    @staticmethod
    def scores(a, b, log_x, log_1mx):
        """d log density / d (log a, log b) at each node."""
        both = special.digamma(a + b)
        return np.stack([a * (log_x - special.digamma(a) + both),
                         b * (log_1mx - special.digamma(b) + both)])

    @staticmethod
    def slope(a, b, log_x, log_1mx):
        """d/dt log[density(x) x (1 - x)], t = logit(x): the prior's log slope on the grid."""
        return a * np.exp(log_1mx) - b * np.exp(log_x)

    @staticmethod
    def log_edges(a, b, x_lo, log_1mx_hi):
        """log P(X < x_lo) and log P(X > x_hi), from the accurate 1 - x_hi."""
        return (np.log(special.betainc(a, b, x_lo)),
                np.log(special.betainc(b, a, np.exp(log_1mx_hi))))


class _KumaraswamyShape:
    """Kumaraswamy(a, b): density a b x^(a-1) (1 - x^a)^(b-1), from log x (accurate near 1)."""

    distribution = Kumaraswamy

    @staticmethod
    def log_density(a, b, log_x, log_1mx):
        return np.log(a * b) + (a - 1) * log_x + (b - 1) * np.log(-np.expm1(a * log_x))

    @staticmethod
    def scores(a, b, log_x, log_1mx):
        log_1m_xa = np.log(-np.expm1(a * log_x))
        xa_over = np.exp(a * log_x - log_1m_xa)  # x^a / (1 - x^a)
        return np.stack([1.0 + a * log_x * (1.0 - (b - 1) * xa_over), 1.0 + b * log_1m_xa])

    @staticmethod
    def slope(a, b, log_x, log_1mx):
        xa_over = np.exp(a * log_x - np.log(-np.expm1(a * log_x)))
        return a * np.exp(log_1mx) * (1.0 - (b - 1) * xa_over) - np.exp(log_x)

    @staticmethod
    def log_edges(a, b, x_lo, log_1mx_hi):
        log_x_hi = np.log1p(-np.exp(log_1mx_hi))
        return (np.log(-np.expm1(b * np.log1p(-x_lo ** a))),
                b * np.log(-np.expm1(a * log_x_hi)))


#: Families the quadrature integrates (each optionally scaled, p = scale x X).
_SHAPES = {"beta": _BetaShape, "kumaraswamy": _KumaraswamyShape}
#: Certified bound on the share of each pair's grid sum that its window leaves out.
_TRUNCATION = 1e-12
#: Step in (log a, log b) of the central differences of the prior mass off the grid.
_EDGE_STEP = 1e-5
#: Bound on the midpoint rule's relative error on a pair's posterior in the grid's interior.
_DISCRETISATION = 1e-13
_MAX_STEP = 0.05


def _midpoint_error_bound(a, b, step):
    """Bound on the relative error of the midpoint rule with ``step`` in t = logit(x), on the
    whole line, for phi(t) = x^a (1 - x)^b (a Beta posterior, in t).

    Poisson summation: step sum_j phi(t0 + j step) = sum_k Phi(2 pi k / step) e^(...), with
    Phi the Fourier transform; here Phi(w) = B(a - i w, b + i w) (substitute x = expit(t)), so
    |Phi(w)| / Phi(0) = rho_a(w) rho_b(w) with rho_x(y) = |Gamma(x + i y)| / Gamma(x).
    From Gamma's product, -2 log rho_x(y) = sum_{k>=0} log(1 + y^2 / (x + k)^2), a sum of
    decreasing terms, so at least the integral J(x, y) = 2 y atan(y / x) - x log(1 + y^2/x^2).
    J is convex in y with J(x, 0) = 0, so the k-th alias term is at most T^k with
    T = exp(-(J(a, w) + J(b, w)) / 2), w = 2 pi / step, and the error at most 2 T / (1 - T).
    (For large a and b, J(x, y) ~ y^2 / x: the Gaussian's 2 exp(-w^2 sigma^2 / 2).)
    """
    w = 2 * np.pi / step

    def half_j(x):
        return w * np.arctan(w / x) - 0.5 * x * np.log1p((w / x) ** 2)

    alias = np.exp(-half_j(a) - half_j(b))
    return 2 * alias / (1 - alias)


def _pair_steps(c, n) -> np.ndarray:
    """Each pair's largest step in t (at most _MAX_STEP) whose midpoint-rule error bound is
    below _DISCRETISATION for its posterior under a uniform prior, x^(c+1) (1-x)^(n-c+1) in t
    (about 0.8 of its standard deviation in t). Shape parameters up to 1 widen a posterior,
    so the bound holds for them; larger ones narrow it as c and n - c do.
    """
    a, b = c + 1.0, n - c + 1.0
    lo = np.full(a.shape, math.log(1e-8))
    hi = np.full(a.shape, math.log(_MAX_STEP))
    ok = _midpoint_error_bound(a, b, _MAX_STEP) <= _DISCRETISATION
    lo[ok] = hi[ok]
    for _ in range(40):  # bisection on log step; the bound grows with the step
        mid = 0.5 * (lo + hi)
        ok = _midpoint_error_bound(a, b, np.exp(mid)) <= _DISCRETISATION
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return np.exp(lo)


def _end_factor(z):
    """(1 - z / sinh z) / z^2, even in z, 1/6 at 0 (the midpoint rule's end correction)."""
    z = np.maximum(np.abs(z), 1e-300)
    series = 1 / 6 - 7 * z * z / 360
    return np.where(z < 1e-3, series, (1 - (2 * z * np.exp(-z) / -np.expm1(-2 * z))) / (z * z))


class _QuadratureModel:
    """Compound-binomial likelihood of a continuous family by quadrature on a logit grid, with
    its gradient.

    The integration variable is x, with p = scale x for a scaled family (the density of x is
    smooth; in p it would end abruptly at the scale). Nodes sit on an even grid in
    t = logit(x) from x = 1e-12 / n_max to 1 - 1e-12 / n_max, each standing for its cell of
    the midpoint rule. Its error on a pair has three parts, each bounded:

    * interior: each pair's step is the largest whose Poisson-summation bound on the aliasing
      error is below ``_DISCRETISATION`` (1e-13) for its posterior (:func:`_pair_steps`),
      about 0.8 of its standard deviation in t; the grid has the narrowest pair's step and
      each pair sums every k-th node, k its step over the grid's (rounded down);
    * ends: the prior's mass beyond the grid is added in closed form (below it only for c = 0,
      where the binomial factor is 1 to 12 digits; above it at p = scale), less the midpoint
      rule's error at that end (:meth:`_log_edges`), exact for priors exponential in t there;
    * windows: each pair sums only its window of the nodes
      (:func:`simsearch.kernels.compound_binomial.windowed_log_sums`), certified to leave out
      at most ``_TRUNCATION`` (1e-12) of its full-grid sum whatever the parameters and scale,
      so the work per pair is the nodes in its window, not the grid.

    The gradient in theta = (log a, log b[, logit scale]) is the posterior mean of the score
    of each node, d/dtheta [c log p + (n - c) log(1 - p) + log density], plus the closed-form
    ends (central differences in theta: they are scalars). Checked against the full grid and
    a 20-30 digit mpmath reference in tests/test_fit_quadrature.py.
    """

    def __init__(self, table: CountTable, family: str, fit_scale: bool):
        self.table = table
        self.family = family
        self.shape = _SHAPES[family]
        self.fit_scale = fit_scale
        self.n_params = 3 if fit_scale else 2
        self.has_gradient = True
        self.bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 2 + ([(-10.0, 15.0)] if fit_scale else [])
        c, n = table.successes, table.attempts
        n_max = float(n.max())
        steps = _pair_steps(c, n)
        step = self.step = float(steps.min())
        # Each pair sums every stride-th node: its own step, a whole number of grid steps.
        # Pairs at an end of the grid (c = 0, c = n) sum every node (the end corrections
        # assume the grid's cells); the kernel does the same for any window at an end.
        strides = np.where((c == 0) | (c == n), 1,
                           np.floor(steps / step * (1 + 1e-12))).astype(np.int64)
        t_edge = math.log(n_max / _EDGE)
        t = np.arange(-t_edge, t_edge + step, step)
        self.log_x = -np.logaddexp(0.0, -t)
        self.log_1mx = -np.logaddexp(0.0, t)
        self.log_jacobian = self.log_x + self.log_1mx + math.log(step)
        # The sum is a midpoint rule: node j stands for [t_j - step/2, t_j + step/2], so the
        # closed-form ends start half a step beyond the outer nodes. (With a heavy left tail the
        # integrand at the first node is far from negligible; the half step matters.)
        self.x_lo = special.expit(t[0] - step / 2)
        self.log_1mx_hi = -np.logaddexp(0.0, t[-1] + step / 2)  # 1 - x_hi is below 1e-16
        # Blocks of pairs for the threads, balanced on the windows of a flat prior, unscaled.
        flat = make_nodes(self.log_x, self.log_1mx, self.log_jacobian, np.empty((0, t.size)))
        self.pairs = make_pairs(c, n, strides, flat)
        # log x and log(1 - x) at the two ends of the midpoint rule's cells.
        self.log_x_ends = -np.logaddexp(0.0, -np.array([t[0] - step / 2, t[-1] + step / 2]))
        self.log_1mx_ends = -np.logaddexp(0.0, np.array([t[0] - step / 2, t[-1] + step / 2]))

    def distribution(self, theta) -> Distribution:
        scale = special.expit(theta[2]) if self.fit_scale else 1.0
        return self.shape.distribution(math.exp(theta[0]), math.exp(theta[1]), scale=scale)

    def _log_edges(self, thetas):
        """log of the prior's mass below and above the grid, each corrected by the midpoint
        rule's error at that end of the grid, so that mass + grid sum + mass is the integral;
        (rows of ``thetas``, 2).

        Node j stands for the cell [t_j - h/2, t_j + h/2]; by Euler-Maclaurin the cells' sum
        exceeds the integral over [alpha, beta] by E(alpha) - E(beta) + ..., with
        E = phi r (h/2)^2 (1 - z / sinh z) / z^2, z = r h / 2, where phi is the integrand in t
        at the end and r its log slope: exact for an integrand exponential in t at the ends
        (the binomial factor is constant there to 12 digits and a Beta prior is x^a (1-x)^b
        in t), with O(h^4) terms of the prior's curvature left for Kumaraswamy. Without it
        the end error is (h^2 / 24) r phi, about 1e-7 of P(0) for a heavy left tail.
        """
        a, b = np.exp(thetas[:, :1]), np.exp(thetas[:, 1:2])  # one row per theta
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_mass = np.hstack(self.shape.log_edges(a, b, self.x_lo, self.log_1mx_hi))
            lx, l1x = self.log_x_ends, self.log_1mx_ends
            log_phi = self.shape.log_density(a, b, lx, l1x) + lx + l1x
            slope = self.shape.slope(a, b, lx, l1x)
            half = self.step / 2
            excess = slope * half ** 2 * _end_factor(slope * half)
            # mass below - E(alpha), mass above + E(beta), as mass (1 - ratio) in logs
            ratio = excess * np.array([1.0, -1.0]) * np.exp(log_phi - log_mass)
            ratio = np.where(np.isfinite(ratio), ratio, 0.0)
            return np.where(ratio < 1.0, log_mass + np.log1p(-np.minimum(ratio, 1.0)), -np.inf)

    def _edges_and_gradient(self, theta):
        """log P(X below the grid), log P(X above it) and their gradients in (log a, log b),
        (end, parameter), by central differences (one vectorised call)."""
        steps = _EDGE_STEP * np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]])
        values = self._log_edges(theta[:2] + steps)
        grad = np.stack([values[1] - values[2], values[3] - values[4]], axis=1) / (2 * _EDGE_STEP)
        # An end with no mass (log -inf) gets weight 0 below; its gradient must not be nan.
        return values[0], np.where(np.isfinite(grad), grad, 0.0)

    def _nodes(self, theta, with_scores: bool) -> Nodes:
        """The node values of the kernel at theta (``scores``: d/dtheta of each node's log
        weight, and for a scaled family s x / (1 - s x), for the binomial factor's)."""
        a, b = math.exp(theta[0]), math.exp(theta[1])
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_weight = (self.shape.log_density(a, b, self.log_x, self.log_1mx)
                          + self.log_jacobian)
            scores = (self.shape.scores(a, b, self.log_x, self.log_1mx) if with_scores
                      else np.empty((0, self.log_x.size)))
            if self.fit_scale:
                log_s, log_1ms = -np.logaddexp(0.0, -theta[2]), -np.logaddexp(0.0, theta[2])
                log_p = log_s + self.log_x
                # 1 - s x = (1 - s) + s (1 - x): both terms positive, no cancellation near 1.
                log_1mp = np.logaddexp(log_1ms, log_s + self.log_1mx)
                if with_scores:
                    scores = np.vstack([scores, np.exp(log_p - log_1mp)])
            else:
                log_p, log_1mp = self.log_x, self.log_1mx
        return make_nodes(log_p, log_1mp, log_weight, np.ascontiguousarray(scores))

    def _parts(self, theta, with_scores: bool):
        """Each pair's log probability and, with scores, its gradient in theta."""
        t = self.table
        c, n = t.successes, t.attempts
        nodes = self._nodes(theta, with_scores)
        log_sum, means, *_ = windowed_log_sums(self.pairs, nodes, math.log(_TRUNCATION))
        (log_head, log_tail), edge_grad = (self._edges_and_gradient(theta) if with_scores
                                           else (self._log_edges(theta[None, :2])[0], None))
        if self.fit_scale:
            log_s, log_1ms = -np.logaddexp(0.0, -theta[2]), -np.logaddexp(0.0, theta[2])
            log_above = c * log_s + np.where(c < n, (n - c) * log_1ms, 0.0) + log_tail
        else:
            log_above = np.where(c == n, log_tail, -math.inf)
        log_below = np.where(c == 0, log_head, -math.inf)
        with np.errstate(invalid="ignore"):
            total = np.logaddexp(log_sum, np.logaddexp(log_below, log_above))
        log_pmf = t.log_binom + total
        if not with_scores:
            return log_pmf, None
        grad = np.zeros((c.size, self.n_params))
        # Each part's share of the pair's probability (none for a pair of probability 0).
        finite = np.where(np.isfinite(total), total, np.inf)
        share_sum, share_below, share_above = (np.exp(part - finite)[:, None]
                                               for part in (log_sum, log_below, log_above))
        grad[:, :2] = (share_sum * means[:, :2] + share_below * edge_grad[0]
                       + share_above * edge_grad[1])
        if self.fit_scale:
            s = special.expit(theta[2])
            # d/d logit(s) of c log(s x) + (n - c) log(1 - s x) is
            # (1 - s) (c - (n - c) s x / (1 - s x)); above the grid x = 1.
            grad[:, 2] = (share_sum[:, 0] * (1 - s) * (c - (n - c) * means[:, 2])
                          + share_above[:, 0] * (c * (1 - s) - (n - c) * s))
        return log_pmf, grad

    def log_pmf(self, theta) -> np.ndarray:
        """log P(c | n) of each pair."""
        return self._parts(theta, False)[0]

    def log_pmf_and_gradient(self, theta):
        """log P(c | n) of each pair and its gradient in theta, (pairs, n_params)."""
        return self._parts(theta, True)

    def log_likelihood(self, theta, weights) -> float:
        return float(weights @ self.log_pmf(theta))

    def starts(self, table: CountTable) -> list[np.ndarray]:
        """Starting points for the optimiser: the method of moments."""
        return [_moment_start(table, self.n_params == 3)]

    def objective(self, theta, weights):
        """Negative mean log-likelihood and its gradient in theta."""
        log_pmf, grad = self.log_pmf_and_gradient(theta)
        total = weights.sum()
        return -float(weights @ log_pmf) / total, -(weights @ grad) / total


class _ZeroInflated:
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

    def log_likelihood(self, theta, weights) -> float:
        return float(weights @ self.log_pmf(theta))

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


class _BetaMixture:
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

    def log_likelihood(self, theta, weights) -> float:
        return float(weights @ self.log_pmf(theta))

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


def _moment_start(table: CountTable, fit_scale: bool) -> np.ndarray:
    """Method-of-moments Beta shapes from c/n, net of binomial noise, as a starting point."""
    w = table.weights / table.weights.sum()
    rate = table.successes / table.attempts
    mean = float(w @ rate)
    noise = float(w @ (rate * (1 - rate) / table.attempts))
    var = float(w @ (rate - mean) ** 2) - noise
    var = min(max(var, 1e-6), 0.9 * mean * (1 - mean))
    total = mean * (1 - mean) / var - 1
    a, b = np.clip([mean * total, (1 - mean) * total], 1e-2, 1e2)
    start = [math.log(a), math.log(b)]
    return np.array(start + [special.logit(min(0.99, max(5 * rate.max(), 0.05)))]
                    if fit_scale else start)


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


def bootstrap_fits(table: CountTable, fit: FamilyFit | list[FamilyFit], replicates: int, *,
                   seed=None, fit_scale: bool = False, workers: int = 1) -> list[Distribution]:
    """Refit on ``replicates`` resamples of the problems.

    ``fit`` is one family's fit, or several, in which case each replicate refits them all and
    keeps the smallest AIC (model selection repeated per replicate). Replicate b always uses
    ``child(seed, b)`` and starts from the point estimates, so the
    result does not depend on ``workers`` (processes to spread over).
    """
    fits = fit if isinstance(fit, list) else [fit]
    root = seed_sequence(seed)
    children = [child(root, b) for b in range(replicates)]
    if workers <= 1 or replicates < 2 * workers:
        return _bootstrap_selected(table, fits, fit_scale, children)
    parts = np.array_split(np.arange(replicates), workers)
    # "spawn": a forked child would inherit numba's thread pool in an unusable state.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_bootstrap_selected, table, fits, fit_scale,
                               [children[i] for i in part]) for part in parts]
        return [d for f in futures for d in f.result()]


# --- estimators ----------------------------------------------------------------------------------


def _interval(samples: np.ndarray, confidence: float) -> np.ndarray:
    tail = (1 - confidence) / 2
    return np.quantile(samples, [tail, 1 - tail], axis=0)


def _log_grid(k_max: int, n_points: int) -> np.ndarray:
    return np.unique(np.round(np.logspace(0, math.log10(k_max), n_points))).astype(np.int64)


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
        keep = (pass_at_k > 0) & (pass_at_k < 1)
        if keep.sum() < 2:
            return math.nan, math.nan, math.nan
        x, y = np.log(k[keep]), np.log(-np.log(pass_at_k[keep]))
        # scipy.stats.linregress's arithmetic, without importing scipy.stats (~0.45 s).
        ssxm, ssxym, _, ssym = np.cov(x, y, bias=1).flat
        slope = ssxym / ssxm
        intercept = np.mean(y, None) - slope * np.mean(x, None)
        if ssxm == 0.0 or ssym == 0.0:
            r = math.nan if ssxym == 0 else 0.0
        else:
            r = min(1.0, max(-1.0, ssxym / math.sqrt(ssxm * ssym)))
        return -slope, math.exp(intercept), r * r

    def fit(self, successes, attempts) -> "RegressionEstimator":
        table = CountTable.from_counts(successes, attempts)
        k_top = int(table.attempts.min())
        k_max = k_top if self.k_max is None else min(int(self.k_max), k_top)
        k = _log_grid(k_max, self.n_points)
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
            self.bootstrap_distributions_ = bootstrap_fits(
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
        k = _log_grid(int(t.attempts.min()), n_points)
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
