"""Every way of predicting pass@k beyond the sampled attempts, registered in one place.

Two kinds:

* curve methods fit the observed pass@k curve (:mod:`simsearch.fitting.curve`) on a log grid of
  k and extrapolate: the least-squares line log(-log pass@k) = log a - b log k (Schaeffer et
  al. 2025), its weighted version, the line through the upper decade of k only (the local slope
  near the largest n), and a power law with a floor, -log pass@k = f + a k^-b, whose floor f is
  an unsolvable fraction 1 - e^-f (pass@k saturates at e^-f).
* likelihood methods fit the distribution of p by maximum likelihood
  (:func:`simsearch.fitting.likelihoods.fit_family`) and predict 1 - E[(1-p)^k]. The Beta-binomial is the
  estimator of Kazdan et al. 2025 ("Efficient Prediction of Pass@k Scaling") and the model of
  Levi 2024 ("A Simple Model of Inference Scaling Laws"); the zero-inflated Beta is the
  maximum-likelihood counterpart of the zero-inflated hierarchical priors of Verine et al. 2026.

``line-or-floor`` is the line unless the floor is significant: the floor model is fitted by
least squares and kept when f exceeds 1.645 standard errors, the standard error from the sandwich
covariance of the least-squares fit with the covariance of the curve's points across k from the
problems (delta method; the points share problems, so plain least-squares errors would be far
too small).

``line-or-q1-floor`` also drops a significant floor when the problems solved exactly once
contradict it: the floor's solvable share e^-f must reach (S + Q1) / T, S problems solved and Q1
of them once (:func:`solvable_share_bound`, valid when the density of p over the solvable
problems is non-increasing). Whenever the floor test fires the fit keeps the other model as an
alternative and prediction intervals span both.

The default of ``simsearch fit`` is the plain ``line``. The floor rules were designed on
simulated populations whose unsolved problems have p = 0 exactly; in real evaluations most
problems that 100 attempts miss are merely very hard (p ~ 1e-5 to 1e-3) and 10,000 attempts
solve many of them. Backtests of pass@10000 from n = 100 and 1,000 attempts (docs/notes/pool.md)
on populations with such tails (half log-uniform on [1e-5, 1e-3]; a zero-heavy code-like set;
a two-Beta mixture; a hard tail with 20% true zeros) found ``line-or-q1-floor`` 1.1x to 7.6x
worse than the line in mean |error| and up to 5x worse in worst error; it wins only where the
unsolved problems are truly unsolvable (40% and 70% zeros), which one model's counts cannot tell
from a hard tail. Several models evaluated on the same problems can: see
:mod:`simsearch.fitting.pooled`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import optimize

from ..errors import SimsearchError, require
from .counts import CountTable
from .likelihoods import FIT_FAMILIES, fit_family
from .curve import curve_k_max, curve_pieces, log_grid
from .line import least_squares_line

#: The method ``simsearch fit`` predicts with: the line, which no floor rule tried beat on
#: every real-looking population (module docstring; docs/notes/pool.md).
DEFAULT_METHOD = "line"
#: One-sided z for keeping the floor (5% level).
FLOOR_Z = 1.645
#: Points of the log grid of k the curve methods fit.
GRID_POINTS = 20


@dataclass
class FittedMethod:
    """One method's fit: predicts pass@k at any k.

    Attributes
    ----------
    method : str
    exponent : float
        Power-law exponent b of the extrapolation (curve methods) or the left-tail exponent of
        the fitted distribution (likelihood methods).
    unsolvable_fraction : float or None
        Share of problems no number of attempts solves, where the model has one.
    parameters : dict
    warnings : list of str
    alternatives : list of FittedMethod
        Competing fits the data cannot rule out (the line beside a kept floor, the floor beside
        a rejected one); prediction intervals are widened to span their predictions.
    """

    method: str
    exponent: float
    unsolvable_fraction: float | None
    parameters: dict
    predict: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    warnings: list = field(default_factory=list)
    alternatives: list = field(default_factory=list, repr=False)

    def predict_pass_at_k(self, k) -> np.ndarray:
        """Predicted pass@k at any k >= 1 (an array shaped like ``np.atleast_1d(k)``)."""
        return self.predict(np.atleast_1d(np.asarray(k, dtype=float)))


# --- curve methods -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """Observed pass@k on a log grid (only 0 < pass@k < 1) and the covariance of its points."""

    k: np.ndarray
    pass_at_k: np.ndarray
    covariance: np.ndarray
    design: str
    #: Lower bound on the share of problems that are solvable, from the problems solved
    #: exactly once (None for first-success and batch designs, where the successes are not
    #: an exchangeable sample of the attempts).
    solvable_share: float | None = None


def solvable_share_bound(successes, attempts, weights, design: str) -> float | None:
    """(S + Q1) / T: a lower bound on the share of problems with p > 0.

    S problems are solved, Q1 of them exactly once. If the density g of p over the solvable
    problems is non-increasing (every Beta or Kumaraswamy with shapes a <= 1 <= b: the heavy
    left tail that makes pass@k a power law), the expected number still unsolved after n
    attempts, T * int (1-p)^n g, is at least the expected Q1, T * int n p (1-p)^(n-1) g: for g
    uniform on [0, u], integration by parts gives n int_0^u p (1-p)^(n-1) dp
    = int_0^u (1-p)^n dp - u (1-u)^n, and a non-increasing g is a mixture of such uniforms.
    Problems with p = 0 add to the unsolved but never to Q1. So at least S + Q1 problems are
    solvable, in expectation, for any n_i; a floor claiming fewer is contradicted by the
    problems solved once. (Chao1, S + (n-1)/n Q1^2 / (2 Q2), bounds the same share with no
    assumption on g but is weaker and noisier here; see the README.)
    """
    if design != "exchangeable":  # successes placed by the design, not exchangeably: no Q1
        return None
    total = weights.sum()
    seen = weights[successes > 0].sum() + weights[successes == 1].sum()
    return float(min(seen, total) / total)


def observed_curve(table: CountTable, weights=None, design: str = "auto",
                   n_points: int = GRID_POINTS) -> Curve:
    """The pass@k curve of ``table`` (reweighted by ``weights``) with its covariance."""
    w = table.weights if weights is None else np.asarray(weights, dtype=float)
    k_max = curve_k_max(table.successes, table.attempts, w, design)
    pieces = curve_pieces(table.successes, table.attempts, w, log_grid(k_max, n_points), design)
    pass_k = pieces.pass_at_k(w)
    keep = (pass_k > 0) & (pass_k < 1)
    # Covariance of the mean over problems of each pair's own pass@k (exact for equal n; the
    # censored design's Kaplan-Meier weights are ignored here, which only affects weights).
    lookup = np.searchsorted(pieces.points, pieces.k[keep])
    per_pair = 1.0 - pieces.survival[:, lookup]
    total = w.sum()
    centred = per_pair - (w @ per_pair) / total
    cov = (centred * w[:, None]).T @ centred / (total * max(total - 1.0, 1.0))
    return Curve(pieces.k[keep], pass_k[keep], cov, pieces.design,
                 solvable_share_bound(table.successes, table.attempts, w, pieces.design))


def _y(curve: Curve) -> tuple[np.ndarray, np.ndarray]:
    return np.log(curve.k), np.log(-np.log(curve.pass_at_k))


def _y_covariance(curve: Curve) -> np.ndarray:
    """Delta method: y = log(-log p) has dy/dp = 1 / (p log p)."""
    d = 1.0 / (curve.pass_at_k * np.log(curve.pass_at_k))
    return curve.covariance * np.outer(d, d)


def _power_law(method, log_a, b, floor=0.0, extra_warnings=()) -> FittedMethod:
    a = math.exp(log_a)

    def predict(k):
        return np.exp(-(floor + a * k ** -b))

    unsolvable = -math.expm1(-floor) if floor > 0 else None
    params = {"prefactor": a, "exponent": b, "floor": floor}
    return FittedMethod(method, float(b), unsolvable, params, predict, list(extra_warnings))


def _line_coefficients(x, y, weights=None) -> tuple[float, float]:
    """(log a, b) of y = log a - b x: the package's one line fit."""
    require(x.size >= 2, "fewer than two k with 0 < pass@k < 1; a line cannot be fitted")
    line = least_squares_line(x, y, weights)
    return line.intercept, -line.slope


def fit_line(curve: Curve, *, weighted: bool = False, lowest_k: float = 1.0,
             method: str = "line") -> FittedMethod:
    """Least squares of log(-log pass@k) on log k over the curve's k >= ``lowest_k``."""
    x, y = _y(curve)
    keep = curve.k >= lowest_k
    weights = None
    if weighted:
        var = np.diag(_y_covariance(curve))[keep]
        weights = 1.0 / np.maximum(var, 1e-12 * max(var.max(), 1e-300))
    log_a, b = _line_coefficients(x[keep], y[keep], weights)
    return _power_law(method, log_a, b)


def _floor_least_squares(curve: Curve):
    """Least squares of y = log(f + a k^-b): parameters (f, log a, b) and the Jacobian.

    Started from the best point of a profile over f (for fixed f, log(-log pass@k - f) is a
    line in log k), then refined with the analytic Jacobian.
    """
    x, y = _y(curve)
    g = -np.log(curve.pass_at_k)

    def residuals(theta):
        return np.log(theta[0] + np.exp(theta[1] - theta[2] * x)) - y

    def jacobian(theta):
        power = np.exp(theta[1] - theta[2] * x)
        u = theta[0] + power
        return np.stack([1.0 / u, power / u, -x * power / u], axis=1)

    starts = []
    for share in (0.0, 0.5, 0.8, 0.9, 0.95, 0.99):
        f = share * g.min()
        log_a, b = _line_coefficients(x, np.log(g - f))
        theta = np.array([f, log_a, min(max(b, 1e-6), 9.9)])
        starts.append((float(np.sum(residuals(theta) ** 2)), theta))
    start = min(starts, key=lambda item: item[0])[1]
    res = optimize.least_squares(residuals, start, jac=jacobian,
                                 bounds=([0.0, -50.0, 0.0], [50.0, 50.0, 10.0]))
    return res.x, jacobian(res.x)


def floor_z(curve: Curve, theta, jac) -> float:
    """f over its sandwich standard error."""
    bread = np.linalg.pinv(jac.T @ jac)
    cov = bread @ jac.T @ _y_covariance(curve) @ jac @ bread
    se = math.sqrt(max(cov[0, 0], 0.0))
    return math.inf if se == 0 and theta[0] > 0 else (theta[0] / se if se > 0 else 0.0)


def fit_floor(curve: Curve, *, tested: bool, method: str, checked: bool = False
              ) -> FittedMethod:
    """Power law with a floor; ``tested`` keeps the floor only when significant.

    With ``checked`` a significant floor is also dropped (for the line) when its solvable
    share e^-f is below the curve's bound (S + Q1) / T, and the fit keeps the competing
    model (the line beside a kept floor, the floor beside a dropped one) as an alternative so
    that intervals span both: a significant floor means the data cannot tell an unsolvable
    share from a hard tail, and neither test proves the floor.
    """
    if curve.k.size < 4:
        line = fit_line(curve, method=method)
        line.warnings.append(f"{method}: only {curve.k.size} points on the pass@k curve; "
                             "the floor cannot be tested, the plain line is used")
        return line
    theta, jac = _floor_least_squares(curve)
    z = floor_z(curve, theta, jac)
    if tested and not z > FLOOR_Z:
        fitted = fit_line(curve, method=method)
        fitted.parameters["floor_z"] = z
        return fitted
    fitted = _power_law(method, theta[1], theta[2], theta[0])
    fitted.parameters["floor_z"] = z
    if not checked:
        return fitted
    line = fit_line(curve, method=method)
    bound = curve.solvable_share
    if bound is not None and math.exp(-theta[0]) < bound:
        line.parameters.update(floor_z=z, solvable_share_bound=bound,
                               rejected_floor=float(theta[0]))
        line.warnings.append(
            f"{method}: the curve suggests {-math.expm1(-theta[0]):.3g} of the problems are "
            f"unsolvable (floor z = {z:.2g}), but the problems solved exactly once imply at "
            f"least {bound:.3g} are solvable: predicting with the line, whose interval spans "
            "the floor's prediction")
        line.alternatives.append(fitted)
        return line
    fitted.parameters["solvable_share_bound"] = bound
    fitted.alternatives.append(line)
    return fitted


# --- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A registered prediction method: ``fit(table, weights)`` -> :class:`FittedMethod`."""

    name: str
    kind: str  # "curve" or "likelihood"
    summary: str
    fit_curve: Callable[[Curve], FittedMethod] | None = None
    family: str | None = None

    def fit(self, table: CountTable, weights=None, design: str = "auto") -> FittedMethod:
        if self.kind == "curve":
            return self.fit_curve(observed_curve(table, weights, design))
        fit = fit_family(table, self.family, weights=weights)
        warnings = []
        if fit.at_bound:
            warnings.append(f"{self.name}: a parameter sits on its bound; the data do not "
                            "identify this model")
        if not fit.converged:
            warnings.append(f"{self.name}: the optimiser did not converge")
        params = {"spec": fit.distribution.spec, "log_likelihood": fit.log_likelihood,
                  "aic": fit.aic}
        return FittedMethod(self.name, fit.exponent, fit.unsolvable_fraction, params,
                            fit.predict_pass_at_k, warnings)


def _curve_method(name, summary, fit_curve) -> Method:
    return Method(name, "curve", summary, fit_curve=fit_curve)


def _likelihood_method(family, summary) -> Method:
    return Method(family, "likelihood", summary, family=family)


METHODS: dict[str, Method] = {m.name: m for m in (
    _curve_method("line", "least-squares line of log(-log pass@k) on log k, k = 1..n",
                  lambda c: fit_line(c, method="line")),
    _curve_method("wls", "the line weighted by the delta-method variance of each point",
                  lambda c: fit_line(c, weighted=True, method="wls")),
    _curve_method("local-line", "the line over the top decade of k only (slope near n)",
                  lambda c: fit_line(c, lowest_k=c.k.max() / 10.0, method="local-line")),
    _curve_method("floor", "power law with a floor: -log pass@k = f + a k^-b",
                  lambda c: fit_floor(c, tested=False, method="floor")),
    _curve_method("line-or-floor", "the line, or the floor model when its floor is "
                                   "significant (one-sided 5%, sandwich s.e.)",
                  lambda c: fit_floor(c, tested=True, method="line-or-floor")),
    _curve_method("line-or-q1-floor", "the line, or the floor model when its floor is "
                                      "significant and leaves at least as many problems to "
                                      "solve as were solved exactly once; intervals span both",
                  lambda c: fit_floor(c, tested=True, checked=True, method="line-or-q1-floor")),
    # Every registered fit family is also a method of the same name.
    *(_likelihood_method(family.name, family.summary) for family in FIT_FAMILIES.values()),
)}


def get_method(name: str) -> Method:
    """The registered method called ``name``."""
    if name not in METHODS:
        raise SimsearchError(f"method: unknown method {name!r}; expected one of "
                             f"{', '.join(METHODS)}")
    return METHODS[name]


def parse_methods(text: str | None) -> list[str]:
    """``"line,zi-beta"`` or ``"all"`` (or None: all) to a list of registered names."""
    if text is None or text.strip() in ("", "all"):
        return list(METHODS)
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        get_method(name)
    return list(dict.fromkeys(names))


def attempts_for(fitted: FittedMethod, target: float) -> float:
    """Smallest real k >= 1 with predicted pass@k >= ``target``; ``inf`` if the prediction
    never gets there (a floor below it, or beyond 1e15 attempts)."""
    require(0 < target < 1, f"target: must be in (0, 1) (got {target!r})")

    def gap(log_k):
        return float(fitted.predict_pass_at_k(math.exp(log_k))[0]) - target

    if gap(0.0) >= 0:
        return 1.0
    hi = 1.0
    while gap(math.log(hi)) < 0:
        hi *= 10.0
        if hi > 1e15:
            return math.inf
    return math.exp(optimize.brentq(gap, math.log(hi / 10.0), math.log(hi), xtol=1e-10))
