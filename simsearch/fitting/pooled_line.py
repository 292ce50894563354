"""Each model's line with its exponent pooled across the models (a Fay-Herriot model).

The ``line`` method fits log(-log pass@k) on log k for one model. Its level is well measured;
its slope, the exponent b that carries the extrapolation, is not: from 100 attempts per problem
the slope's sampling error is most of the error of a predicted pass@10000. Models evaluated on
the same problems have exponents that line up with their levels (on Pythia/MATH the stronger
models' curves fall faster), so the exponents are pooled by a Fay-Herriot model (Fay and
Herriot 1979), the small-area estimator of survey statistics:

    b_j = beta_0 + beta_1 level_j + u_j + e_j,    u_j ~ N(0, s^2),    e ~ N(0, V),

where ``level_j`` is model j's line at the middle of the models' windows of log k, ``s^2``
the spread of the true exponents about the regression (restricted maximum likelihood on a
grid) and ``V`` the exponents' sampling covariance. V is diagonal: what is predicted is the
pass@K of these same problems, so the error that matters is the noise of each model's own
attempts, and different models' attempts are independent. Its variances come from a bootstrap
over problems, which also carries the problems' own spread, so V errs large and the pull
toward the regression errs strong. (The paired covariance of that bootstrap, which counts the
shared problems as shared error, gained nothing on Pythia: 0.98x / 1.00x the line's mean
|error| at n = 100 / 1,000, against 0.98x / 0.78x.) Each model's variance comes from the
resamples its own line fits on, so a weak model costs only its own draws. Each exponent is
replaced by its best linear unbiased predictor

    b~ = X beta + s^2 (s^2 I + V)^-1 (b - X beta).

Each model's line keeps its centroid (the mean point of its curve), so only its slope moves.
Where the exponents scatter about the regression far beyond their sampling error, s^2 is large
and each model keeps its own line; where they agree within it, they move to the regression.
With two models the regression passes through both exponents and nothing moves: pooling needs
three or more. A model whose own line cannot be fitted (it solved nothing) is left out.

Backtests (pass@10000 from the first n attempts, docs/notes/pool.md): on Pythia/MATH (7
models, 10 seeds; two seed sets) 0.98x-1.00x the per-model line's mean |error| at n = 100
and 0.78x-0.81x at n = 1,000, with smaller worst errors (0.122-0.133 against 0.139-0.152,
0.048 against 0.071-0.074); 0.88x-1.00x on
simulated ladders of models sharing problem difficulty, and 1.06x / 1.00x where the models
share nothing (the price of pooling when there is nothing to pool).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import SimsearchError, require
from ..seeding import child, seed_sequence
from .counts import CountTable, PooledCounts, distinct_pairs
from .methods import _y, fit_line, observed_curve

#: Bootstrap replicates for the exponents' sampling variances (at least this many, and five
#: per model).
COVARIANCE_REPLICATES = 50
#: The covariance's resamples are drawn from this fixed seed: the pooled point prediction is
#: a function of the counts alone (the user's seed drives only the interval's bootstrap).
COVARIANCE_SEED = 0
#: Grid of s^2 for REML, in units of the mean sampling variance of an exponent.
BETWEEN_GRID = np.concatenate([[0.0], np.logspace(-3.0, 4.0, 71)])


class PooledLineFit(NamedTuple):
    """The pooled lines of J models (NaN for a model whose own line could not be fitted).

    Attributes
    ----------
    names : tuple of str
    log_a, exponent : numpy.ndarray
        (J,) each model's own line, -log pass@k = a k^-b.
    centre_x, centre_y : numpy.ndarray
        (J,) the mean log k and mean log(-log pass@k) of its curve's points.
    level : numpy.ndarray
        (J,) the regression's covariate: the own line at the models' middle log k.
    pooled_exponent : numpy.ndarray
        (J,) the exponent each model's line takes (through its centre).
    between_variance : float
        s^2 (NaN when fewer than three models could be pooled).
    coefficients : numpy.ndarray
        (2,) beta of b = beta_0 + beta_1 level (NaN likewise).
    covariance : numpy.ndarray
        (J, J) the exponents' sampling covariance V, diagonal (NaN rows for models left out).
    notes : tuple of str
        Why a model was left out.
    """

    names: tuple
    log_a: np.ndarray
    exponent: np.ndarray
    centre_x: np.ndarray
    centre_y: np.ndarray
    level: np.ndarray
    pooled_exponent: np.ndarray
    between_variance: float
    coefficients: np.ndarray
    covariance: np.ndarray
    notes: tuple = ()


class _Tables(NamedTuple):
    """Each model's distinct (c, n) pairs and, per problem, the index of its pair."""

    tables: list  # CountTable or None
    inverse: list  # (I,) int arrays or None
    notes: tuple


def _tables(counts) -> _Tables:
    tables, inverse, notes = [], [], []
    for j, name in enumerate(counts.names):
        c, n = counts.successes[:, j], counts.attempts[:, j]
        try:
            CountTable.from_counts(c, n)  # its checks: at least one success, one failure
        except SimsearchError as exc:
            tables.append(None)
            inverse.append(None)
            notes.append(f"{name}: left out of the pooled line ({exc})")
            continue
        pair_c, pair_n, mult, inv = distinct_pairs(c, n, return_inverse=True)
        tables.append(CountTable.of_pairs(pair_c, pair_n, mult.astype(float)))
        inverse.append(inv)
    return _Tables(tables, inverse, tuple(notes))


def _lines(tabs: _Tables, problem_weights=None) -> np.ndarray:
    """(J, 5): log a, b, centre x, centre y and the middle of the curve's log k range, for
    each model under the problems' weights (NaN where its line cannot be fitted)."""
    out = np.full((len(tabs.tables), 5), np.nan)
    for j, (table, inv) in enumerate(zip(tabs.tables, tabs.inverse)):
        if table is None:
            continue
        w = (None if problem_weights is None
             else np.bincount(inv, weights=problem_weights, minlength=table.weights.size))
        try:
            with np.errstate(all="ignore"):
                curve = observed_curve(table, w)
                fitted = fit_line(curve)
        except SimsearchError:
            continue
        x, y = _y(curve)
        out[j] = (np.log(fitted.parameters["prefactor"]), fitted.exponent, x.mean(), y.mean(),
                  0.5 * (x.min() + x.max()))
    return out


def _design(level: np.ndarray) -> np.ndarray:
    """X of the regression: a constant and the level, or the constant alone when the levels
    do not vary."""
    X = np.column_stack([np.ones(level.size), level])
    if np.linalg.matrix_rank(X) < 2:
        X = X[:, :1]
    return X


def _reml_predictor(b, V, X):
    """(pooled b, s^2, beta) by REML over :data:`BETWEEN_GRID`; the own b where no grid
    point gives a proper likelihood."""
    scale = float(np.mean(np.diag(V)))
    best = None
    for s2 in scale * BETWEEN_GRID:
        S = V + s2 * np.eye(b.size)
        sign, log_det = np.linalg.slogdet(S)
        if sign <= 0:
            continue
        S_inv = np.linalg.inv(S)
        info = X.T @ S_inv @ X
        sign_x, log_det_x = np.linalg.slogdet(info)
        if sign_x <= 0:
            continue
        beta = np.linalg.solve(info, X.T @ S_inv @ b)
        resid = b - X @ beta
        value = -0.5 * (log_det + log_det_x + resid @ S_inv @ resid)
        if np.isfinite(value) and (best is None or value > best[0]):
            best = (value, s2, beta, X @ beta + s2 * (S_inv @ resid))
    if best is None:
        return b.copy(), np.nan, np.full(2, np.nan)
    _, s2, beta, pooled = best
    return pooled, float(s2), np.pad(beta, (0, 2 - beta.size), constant_values=0.0)


def _pool(names, lines, V, ok, middle, notes) -> PooledLineFit:
    pooled = lines[:, 1].copy()
    level = lines[:, 0] - lines[:, 1] * middle
    s2, beta = np.nan, np.full(2, np.nan)
    if ok.sum() >= 3:
        pooled[ok], s2, beta = _reml_predictor(lines[ok, 1], V[np.ix_(ok, ok)],
                                               _design(level[ok]))
    return PooledLineFit(tuple(names), lines[:, 0], lines[:, 1], lines[:, 2], lines[:, 3],
                         level, pooled, s2, beta, V, tuple(notes))


def fit_pooled_line(counts: PooledCounts, problem_weights=None, *,
                    start: PooledLineFit | None = None) -> PooledLineFit:
    """Pool the models' line exponents.

    Parameters
    ----------
    counts : PooledCounts
        (I, J) successes and attempts of J models on the same I problems.
    problem_weights : array_like, optional
        (I,) weights of the problems (a bootstrap resample), shared by every model.
    start : PooledLineFit, optional
        A fit of the full data whose sampling covariance V is reused (a bootstrap refit: V
        is the sampling error of the full data's exponents, not re-estimated per resample).

    Returns
    -------
    PooledLineFit
    """
    tabs = _tables(counts)
    require(any(t is not None for t in tabs.tables),
            "pool: no model's line can be fitted (each needs a problem solved and one failed)")
    lines = _lines(tabs, problem_weights)
    ok = np.isfinite(lines[:, 1])
    require(ok.any(), "pool: no model's line can be fitted on these problems")
    middle = float(np.mean(lines[ok, 4]))
    if start is not None:
        V = start.covariance
    else:
        V = _covariance(counts, tabs, ok)
    notes = list(tabs.notes)
    pooled = ok & np.all(np.isfinite(V), axis=1)
    notes += [f"{counts.names[j]}: keeps its own line (its line fails on too many resamples "
              f"of the problems to measure its exponent's error)"
              for j in np.flatnonzero(ok & ~pooled)]
    return _pool(counts.names, lines, V, pooled, middle, notes)


def _covariance(counts, tabs: _Tables, ok: np.ndarray) -> np.ndarray:
    """The exponents' sampling variances (a diagonal V; see the module's docstring) from
    resamples of the problems, each model over the resamples its line could be fitted on (a
    weak model fails on some); NaN for a model fitted on fewer than half of them."""
    i_count, j_count = counts.successes.shape
    replicates = max(COVARIANCE_REPLICATES, 5 * j_count)
    root = seed_sequence(COVARIANCE_SEED)
    draws = np.array([_lines(tabs, np.random.default_rng(child(root, r)).multinomial(
        i_count, np.full(i_count, 1.0 / i_count)).astype(float))[:, 1]
        for r in range(replicates)])
    fitted = np.isfinite(draws)
    variance = np.full(j_count, np.nan)
    enough = ok & (fitted.sum(0) >= replicates / 2)
    for j in np.flatnonzero(enough):
        variance[j] = np.var(draws[fitted[:, j], j], ddof=1)
    V = np.full((j_count, j_count), np.nan)
    V[np.ix_(enough, enough)] = np.diag(variance[enough])
    return V


def predict_pooled_line(fit: PooledLineFit, k, problem_weights=None) -> np.ndarray:
    """Each model's pass@k, (J, len(k)), on its line through its centre with the pooled
    exponent: -log pass@k = exp(centre_y - b~ (log k - centre_x)). ``problem_weights`` is
    not needed (a refit's lines already carry its resample's weights)."""
    log_k = np.log(np.atleast_1d(np.asarray(k, dtype=float)))
    b = fit.pooled_exponent[:, None]
    return np.exp(-np.exp(fit.centre_y[:, None] - b * (log_k[None, :] - fit.centre_x[:, None])))


def describe_pooled_line(fit: PooledLineFit) -> dict:
    """The pooled report's entries: the regression's, each model's exponents, and notes."""
    return {"model": {"between_variance": fit.between_variance,
                      "coefficients": [float(v) for v in fit.coefficients]},
            "models": [{"exponent": float(b), "pooled_exponent": float(p),
                        "level": float(lv)}
                       for b, p, lv in zip(fit.exponent, fit.pooled_exponent, fit.level)],
            "notes": list(fit.notes)}
