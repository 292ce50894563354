"""The item-response model of several models on the same problems (``pooled-irt``).

One shared difficulty per problem: problem i has a latent easiness t_i, model j solves it with
probability p_ij = expit(alpha_j + beta_j t_i) (per-model intercept and slope; one model is
the reference, alpha = 0, beta = 1, which fixes the scale of t: the one in the middle of the
models' success rates, ties broken by name, so that the fit does not depend on the order of the
models in a file and the grid of t is centred among them). The t_i are drawn from a
nonparametric prior (NPMLE: weights on an even grid of t) plus a point mass at "unsolvable"
(p_ij = 0 for every model). Fitted by EM on the marginal likelihood of all binomial counts,

    L = prod_i [ w_0 [c_i = 0] + sum_g w_g prod_j Binom(c_ij | n_ij, p_j(t_g)) ],

and each model's pass@k is predicted as the posterior mean, over the problems' t_i given all
models' counts, of 1 - mean_i (1 - p_ij)^k. Intervals: a bootstrap over problems that refits
the joint model (warm-started from the full-data fit).

It loses to each model's own line on Pythia/MATH (docs/notes/pool.md): the small models never
solve problems the large ones solve often, which one shared difficulty cannot express.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

from ..errors import require
from .counts import PooledCounts

#: The grid of the latent easiness t (the reference model's logit p): logit p from -25
#: (p ~ 1e-11, beyond any budget) to 12, step 0.25 (a binomial posterior in t is wider than
#: 0.4 for n up to ~10^3 attempts at the p that matter, so the sum is an accurate integral).
T_GRID = np.arange(-25.0, 12.0 + 1e-9, 0.25)
#: EM stops when the mean log-likelihood per problem gains less than this per iteration.
EM_TOL = 1e-7
EM_MAX_ITER = 2000
#: EM steps of the prior's weights per update of the models' intercepts and slopes.
WEIGHT_STEPS = 20
#: A problem whose every model has p below this is counted unsolvable: the data cannot tell
#: the atom from the bottom of the grid (10^7 attempts would be needed).
UNSOLVABLE_P = 1e-7


class IrtFit(NamedTuple):
    """A fitted joint model.

    Attributes
    ----------
    intercept, slope : numpy.ndarray
        (J,) logit p_j(t) = intercept_j + slope_j t.
    weights : numpy.ndarray
        (G + 1,) prior mass of the unsolvable atom (index 0) and of each grid point.
    posterior : numpy.ndarray
        (I, G + 1) each problem's posterior over the atom and the grid.
    log_likelihood : float
        The marginal log-likelihood (binomial coefficients included).
    iterations : int
        EM iterations run.
    converged : bool
    reference : int
        The model whose line is fixed (alpha = 0, beta = 1).
    """

    intercept: np.ndarray
    slope: np.ndarray
    weights: np.ndarray
    posterior: np.ndarray
    log_likelihood: float
    iterations: int
    converged: bool
    reference: int = 0


def reference_model(counts: PooledCounts) -> int:
    """The model in the middle of the success rates (the lower middle of an even count; ties
    by name): the joint fit's reference, whatever the order of the models."""
    rate = counts.successes.sum(0) / counts.attempts.sum(0)
    order = sorted(range(rate.size), key=lambda j: (rate[j], str(counts.names[j])))
    return order[(rate.size - 1) // 2]


def _log_components(counts: PooledCounts, intercept, slope) -> np.ndarray:
    """log P(c_i | component) for the atom (column 0) and each grid point, (I, G + 1),
    without the binomial coefficients."""
    eta = intercept[:, None] + slope[:, None] * T_GRID[None, :]  # (J, G)
    c = counts.successes.astype(float)
    grid = c @ special.log_expit(eta) + (counts.attempts - c) @ special.log_expit(-eta)
    atom = np.where(counts.successes.sum(1) == 0, 0.0, -np.inf)
    return np.concatenate([atom[:, None], grid], axis=1)


def _posterior(log_comp, weights):
    with np.errstate(divide="ignore"):
        joint = log_comp + np.log(weights)[None, :]
    top = joint.max(1, keepdims=True)
    post = np.exp(joint - top)
    total = post.sum(1, keepdims=True)
    return post / total, (top[:, 0] + np.log(total[:, 0]))


def _newton_lines(cg, ng, a, b, fixed_slope: bool):
    """Maximise, for every model m at once, sum_g cg[m] log expit(a_m + b_m t) +
    (ng[m] - cg[m]) log expit(-(a_m + b_m t)) from (a, b): a weighted logistic regression on
    the grid (concave); two damped Newton steps, each model's step halved until it gains."""
    t = T_GRID
    a, b = a.copy(), b.copy()

    def value(a, b):
        eta = a[:, None] + b[:, None] * t[None, :]
        return (cg * special.log_expit(eta) + (ng - cg) * special.log_expit(-eta)).sum(1)

    current = value(a, b)
    moving = np.ones(a.size, dtype=bool)  # a model whose line search failed stops there
    for _ in range(2):
        eta = a[:, None] + b[:, None] * t[None, :]
        prob = special.expit(eta)
        resid = cg - ng * prob
        curv = ng * prob * (1 - prob)
        g0, h00 = resid.sum(1), curv.sum(1)
        if fixed_slope:
            step_a, step_b = g0 / np.maximum(h00, 1e-300), np.zeros_like(a)
        else:
            g1, h01, h11 = resid @ t, curv @ t, curv @ (t * t)
            h00, h11 = h00 + 1e-12, h11 + 1e-12
            det = h00 * h11 - h01 * h01
            with np.errstate(divide="ignore", invalid="ignore"):
                step_a = (h11 * g0 - h01 * g1) / det
                step_b = (h00 * g1 - h01 * g0) / det
            moving &= (det > 0) & np.isfinite(step_a) & np.isfinite(step_b)
        scale = np.where(moving, 1.0, 0.0)
        searching = moving.copy()
        while searching.any():
            na, nb = a + scale * step_a, b + scale * step_b
            with np.errstate(invalid="ignore"):
                new = value(na, np.where(nb > 1e-3, nb, 1.0))
            gain = searching & (nb > 1e-3) & (new >= current)
            a, b, current = (np.where(gain, na, a), np.where(gain, nb, b),
                             np.where(gain, new, current))
            searching &= ~gain
            scale = np.where(searching, scale / 2, scale)
            failed = searching & (scale <= 1e-4)
            moving &= ~failed
            searching &= ~failed
    return a, b


def _distinct_rows(counts: PooledCounts, u):
    """The rows EM needs: problems of positive weight, identical rows of counts merged (their
    weights summed). A bootstrap resample leaves out about a third of the problems and
    evaluations repeat rows (every model 0 of n), so EM runs on far fewer rows; the fit is the
    same, since the likelihood depends on a row only through its counts and weight."""
    keep = u > 0
    rows, inverse = np.unique(np.concatenate([counts.successes, counts.attempts], axis=1)[keep],
                              axis=0, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=u[keep], minlength=rows.shape[0])
    j_count = counts.successes.shape[1]
    return PooledCounts(rows[:, :j_count], rows[:, j_count:], counts.names), weight


def fit_irt(counts: PooledCounts, problem_weights=None, *, start: IrtFit | None = None,
            fixed_slope: bool = False) -> IrtFit:
    """EM for the joint model; ``problem_weights`` reweight the problems (a bootstrap)."""
    require(np.any(counts.successes > 0), "pool: no model solved any problem; nothing to fit")
    i_count, j_count = counts.successes.shape
    u = np.ones(i_count) if problem_weights is None else np.asarray(problem_weights, float)
    distinct, w = _distinct_rows(counts, u)
    c, n = distinct.successes, distinct.attempts
    if start is None:
        ref = reference_model(counts)
        # Start: each model's logit of its pooled success rate as its intercept, slope 1.
        rate = (w @ c + 0.5) / (w @ n + 1.0)
        intercept = special.logit(rate) - special.logit(rate[ref])
        slope = np.ones(j_count)
        weights = np.full(T_GRID.size + 1, 1.0 / (T_GRID.size + 1))
    else:
        ref = start.reference
        intercept, slope = start.intercept.copy(), start.slope.copy()
        # Mixed with a flat prior: EM cannot revive grid points a resample needs from ~0.
        weights = 0.5 * start.weights + 0.5 / start.weights.size
    free = np.arange(j_count) != ref
    total = w.sum()
    previous = -np.inf
    converged = False
    for iteration in range(1, EM_MAX_ITER + 1):
        log_comp = _log_components(distinct, intercept, slope)
        top = log_comp.max(1)
        like = np.exp(log_comp - top[:, None])  # (rows, G + 1), each row's largest entry 1
        like_t = np.ascontiguousarray(like.T)
        # The prior's EM steps are matrix-vector products once the components are fixed, so
        # several run per update of the models' lines (the weights converge slowly).
        for _ in range(WEIGHT_STEPS):
            marginal = np.maximum(like @ weights, 1e-300)  # a row's support can underflow
            weights = weights * (like_t @ (w / marginal)) / total
        marginal = np.maximum(like @ weights, 1e-300)
        mean_ll = float(w @ (top + np.log(marginal))) / total
        if mean_ll - previous < EM_TOL:
            converged = True
            break
        previous = mean_ll
        grid_post = like[:, 1:] * (weights[None, 1:] * (w / marginal)[:, None])
        intercept[free], slope[free] = _newton_lines(
            c[:, free].T @ grid_post, n[:, free].T @ grid_post, intercept[free], slope[free],
            fixed_slope)
    post, log_marg = _posterior(_log_components(counts, intercept, slope), weights)
    c, n = counts.successes, counts.attempts
    log_binom = (special.gammaln(n + 1.0) - special.gammaln(c + 1.0)
                 - special.gammaln(n - c + 1.0)).sum(1)
    return IrtFit(intercept, slope, weights, post, float(u @ (log_marg + log_binom)),
                  iteration, converged, ref)


def unsolvable_fraction(fit: IrtFit) -> float:
    """Prior mass of the atom plus the grid points where every model's p < UNSOLVABLE_P."""
    p_max = special.expit((fit.intercept[:, None] + fit.slope[:, None] * T_GRID[None, :]).max(0))
    return float(fit.weights[0] + fit.weights[1:][p_max < UNSOLVABLE_P].sum())


def irt_log_likelihood(counts: PooledCounts, intercept, slope, weights) -> float:
    """The marginal log-likelihood of given parameters (binomial coefficients included)."""
    c, n = counts.successes, counts.attempts
    _, log_marg = _posterior(_log_components(counts, np.asarray(intercept, float),
                                             np.asarray(slope, float)), np.asarray(weights))
    log_binom = (special.gammaln(n + 1.0) - special.gammaln(c + 1.0)
                 - special.gammaln(n - c + 1.0)).sum(1)
    return float(np.sum(log_marg + log_binom))


def predict_irt(fit: IrtFit, k, problem_weights=None) -> np.ndarray:
    """Each model's pass@k, (J, len(k)): the posterior mean of 1 - mean_i (1 - p_ij)^k."""
    k = np.atleast_1d(np.asarray(k, dtype=float))
    u = (np.ones(fit.posterior.shape[0]) if problem_weights is None
         else np.asarray(problem_weights, float))
    mean_post = (u @ fit.posterior[:, 1:]) / u.sum()  # (G,): the atom solves nothing
    eta = fit.intercept[:, None] + fit.slope[:, None] * T_GRID[None, :]
    log_fail = special.log_expit(-eta)  # (J, G)
    solved = -np.expm1(k[None, None, :] * log_fail[:, :, None])  # (J, G, K)
    return np.einsum("g,jgk->jk", mean_post, solved)


def describe_irt(fit: IrtFit) -> dict:
    """The pooled report's entries: the joint model's, each model's line on t, and notes."""
    return {"model": {"unsolvable_fraction": unsolvable_fraction(fit),
                      "log_likelihood": fit.log_likelihood, "converged": fit.converged,
                      "iterations": fit.iterations},
            "models": [{"intercept": float(a), "slope": float(b)}
                       for a, b in zip(fit.intercept, fit.slope)],
            "notes": [] if fit.converged else ["EM did not converge"]}
