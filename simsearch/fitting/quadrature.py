"""The shape families of p (Beta, Kumaraswamy) by quadrature: a certified compound-binomial
likelihood for laws with no closed form, and the starting points every shape model shares.

For each distinct (c, n) pair the integral int p^c (1-p)^(n-c) f(p) dp is a midpoint sum on a
logit grid of nodes (:mod:`simsearch.kernels.compound_binomial`) whose steps and windows are
chosen so that the left-out share and the discretisation error stay below certified bounds
(``_TRUNCATION``, ``_DISCRETISATION``); the prior's mass beyond the grid's ends is added in
closed form. Scores (the gradient) come from the same sums.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..distributions.families import Beta, Distribution, Kumaraswamy
from ..kernels.compound_binomial import Nodes, make_nodes, make_pairs, windowed_log_sums
from .counts import CountTable

# Grid ends: p from 1e-12 / n_max to 1 - 1e-12 / n_max; beyond them the binomial factor is 1
# (c = 0) or 1 (c = n) to 12 digits and the prior's mass there is added in closed form.
_EDGE = 1e-12
_LOG_BOUND = 12.0  # fitted shape parameters stay within exp(+-12)


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


class _CountLikelihood:
    """What every likelihood over a :class:`CountTable` shares: the weighted log-likelihood
    from ``log_pmf(theta)``, moment starts, and the negative mean log-likelihood with its
    gradient from ``log_pmf_and_gradient(theta)`` (a family without a gradient overrides
    :meth:`objective`)."""

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


class _QuadratureModel(_CountLikelihood):
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
