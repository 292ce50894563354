"""Kortum's record model of a history of wins, fitted by exact likelihood.

Ideas are tried at a rate that grows over time; each idea's value is Pareto(theta), and the
record is the best value so far (Kortum 1997). On the log scale (progress ``y = log A``, or the
gain's own units) an idea beats the record ``y`` with probability ``exp(-theta y)`` per unit of
"effective draws" ``M``, and the cumulative effective draws grow as
``M(t) = exp(c + g u(t))``: ``u(t) = t - t_0`` when effort grows exponentially in calendar time
(``growth="exponential"``) or ``u(t) = log(t / t_0)`` when the time axis is itself cumulative
effort (``growth="power"``: draws grow as effort^g). The points (time, value) of all ideas form
a Poisson process with intensity ``M'(t) theta exp(-theta y)``, so a history of records has the
exact log-likelihood

    sum_i [log M'(t_i) + log theta - theta y_i] - sum_i (M(t_i) - M(t_{i-1})) exp(-theta y_{i-1})

(the last sum runs to the end of observation), and the best value at a later time ``T`` is
``max(y_n, (log(M(T) - M(t_n)) + Gumbel) / theta)`` exactly. Progress grows as
``(g / theta) u``: Pandey's law "progress ~ (1/theta) log effort" with draws proportional to
effort, and a constant number of wins per unit of ``u`` (g) of mean size 1/theta.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..errors import SimsearchError, require

GROWTHS = ("exponential", "power")


def axis(time, t0: float, growth: str) -> np.ndarray:
    """``u(t)``: the exponent of the effective draws (see the module docstring)."""
    time = np.asarray(time, dtype=float)
    if growth == "exponential":
        return time - t0
    return np.log(time / t0)


def _log_axis_slope(time, growth: str) -> np.ndarray:
    """log u'(t): constant in the parameters, kept so the likelihood is the exact density."""
    time = np.asarray(time, dtype=float)
    return np.zeros_like(time) if growth == "exponential" else -np.log(time)


def logsumexp(x) -> float:
    """log(sum(exp(x))) of a 1-d array, stable (scipy's is slow on small arrays)."""
    top = float(np.max(x))
    return top + math.log(float(np.sum(np.exp(x - top))))


def _log_increment(g, u_prev, u_next):
    """log(exp(g u_next) - exp(g u_prev)), -inf where they are equal."""
    du = u_next - u_prev
    with np.errstate(divide="ignore"):
        return g * u_next + np.log(-np.expm1(-g * du))


class KortumFit(NamedTuple):
    """Maximum-likelihood fit of Kortum's record model.

    Attributes
    ----------
    theta, c, g : float
        Pareto tail of idea values (per unit of progress), log scale of the effective draws,
        and their growth rate (per unit of the time axis, or the power of effort).
    kappa : float
        Thinning of the tail with progress (0 unless ``depleting``): ideas beat the record
        ``y`` with probability ``exp(-Lambda(y))`` per effective draw, ``Lambda(y) = theta
        (exp(kappa y) - 1) / kappa``, so wins shrink as progress grows when kappa > 0.
    cov : ndarray
        4x4 covariance of (log theta, c, log g, kappa) from the observed information (zero
        row and column for kappa unless it was fitted).
    growth : str
        "exponential" or "power".
    t0, observed_until : float
        Start of the history (u = 0) and end of observation.
    last_progress : float
        Progress at the last win.
    wins : int
    log_likelihood : float
    depleting : bool
        Whether kappa was fitted.
    """

    theta: float
    c: float
    g: float
    kappa: float
    cov: np.ndarray
    growth: str
    t0: float
    observed_until: float
    last_progress: float
    wins: int
    log_likelihood: float
    depleting: bool

    @property
    def point(self) -> np.ndarray:
        return np.array([math.log(self.theta), self.c, math.log(self.g), self.kappa])

    def interval(self, name: str, level: float) -> tuple[float, float]:
        """Wald interval on the log scale for theta, g, r = 1/theta, progress_rate = g/theta
        and halving = theta log 2 / g."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2)
        if name == "kappa":
            half = z * math.sqrt(self.cov[3, 3])
            return self.kappa - half, self.kappa + half
        grad = {"theta": (1, 0, 0, 0), "g": (0, 0, 1, 0), "r": (-1, 0, 0, 0),
                "progress_rate": (-1, 0, 1, 0), "halving": (1, 0, -1, 0)}[name]
        grad = np.array(grad, dtype=float)
        centre = math.log(self.quantity(name))
        half = z * math.sqrt(max(grad @ self.cov @ grad, 0.0))
        return math.exp(max(centre - half, -700.0)), math.exp(min(centre + half, 700.0))

    def quantity(self, name: str) -> float:
        return {"theta": self.theta, "g": self.g, "kappa": self.kappa, "r": 1 / self.theta,
                "progress_rate": self.g / self.theta,
                "halving": self.theta * math.log(2) / self.g}[name]


def log_likelihood(params, u, log_slope, progress, u_end) -> float:
    """Exact log-likelihood of a record history under (log theta, c, log g, kappa).

    ``u``, ``progress``: per row (row 0 the starting record); ``u_end >= u[-1]``: end of
    observation (no record between the last row and it).
    """
    return _value_and_gradient(params, u, log_slope, progress, u_end)[0]


def hazard(theta, kappa, y):
    """Lambda(y) = theta (exp(kappa y) - 1) / kappa (theta y at kappa = 0) and d/dkappa."""
    y = np.asarray(y, dtype=float)
    x = kappa * y
    small = np.abs(x) < 1e-5
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(small, 1 + x / 2 + x * x / 6, np.expm1(x) / np.where(small, 1, x))
        # d/dkappa of (e^{ky} - 1)/k = y (x e^x - e^x + 1) / x^2
        d_ratio = np.where(small, y * (0.5 + x / 3),
                           y * (x * np.exp(x) - np.expm1(x)) / np.where(small, 1, x * x))
    return theta * y * ratio, theta * y * d_ratio


def inverse_hazard(theta, kappa, z):
    """y with Lambda(y) = z (inf where a thickening tail, kappa < 0, never reaches z)."""
    z = np.asarray(z, dtype=float)
    # An absurd parameter draw (g e^c past float range) overflows: z = +inf, y = +inf (an
    # unbounded path; 0 * inf would make it NaN, which callers read as "no new record").
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = kappa * z / theta
        small = np.abs(x) < 1e-5
        out = np.where(small, z / theta * (1 - x / 2),
                       np.log1p(np.where(x > -1, x, np.nan)) / np.where(small, 1, kappa))
    return np.where((np.isnan(out) & np.isfinite(z)) | (z == np.inf), np.inf, out)


def _value_and_gradient(params, u, log_slope, progress, u_end):
    """The log-likelihood and its gradient in (log theta, c, log g, kappa)."""
    log_theta, c, log_g, kappa = params
    theta, g = math.exp(log_theta), math.exp(log_g)
    y = progress[1:]
    wins = y.size
    lam, lam_k = hazard(theta, kappa, y)
    value = float(np.sum(log_g + c + g * u[1:] + log_slope[1:] + log_theta + kappa * y - lam))
    grad = np.array([wins - lam.sum(), float(wins), wins + g * u[1:].sum(),
                     float(y.sum() - lam_k.sum())])
    u_next = np.r_[u[1:], u_end]
    positive = u_next > u
    if positive.any():
        u_prev, u_next, y_prev = u[positive], u_next[positive], progress[positive]
        q = np.exp(-g * (u_next - u_prev))
        lam_prev, lam_prev_k = hazard(theta, kappa, y_prev)
        # The optimiser's trial steps can take the exposure past float range: inf, so the
        # value is -inf and the step is refused (numpy's warning would reach the user).
        with np.errstate(over="ignore"):
            weight = np.exp(c + g * u_next + np.log1p(-q) - lam_prev)
        value -= float(weight.sum())
        grad[0] += float(weight @ lam_prev)
        grad[1] -= float(weight.sum())
        grad[2] -= g * float(weight @ ((u_next - u_prev * q) / (1 - q)))
        grad[3] += float(weight @ lam_prev_k)
    return value, grad


def _exposure_terms(theta, kappa, g, u, progress, u_end):
    """log of (M(t_i) - M(t_{i-1})) exp(-Lambda(y_{i-1})) / e^c, over intervals of positive
    length."""
    u_next = np.r_[u[1:], u_end]
    terms = _log_increment(g, u, u_next) - hazard(theta, kappa, progress)[0]
    return terms[np.isfinite(terms)]


def _profile_c(theta, kappa, g, u, progress, u_end, wins):
    """The c maximising the likelihood at (theta, kappa, g): e^c = wins / exposure."""
    return math.log(wins) - logsumexp(_exposure_terms(theta, kappa, g, u, progress, u_end))


def _information(point, u, log_slope, progress, u_end, free, step=1e-5):
    """Observed information of the free parameters: central differences of the analytic
    gradient, symmetrised."""
    n = len(free)
    h = np.empty((n, n))
    for row, i in enumerate(free):
        e = np.zeros(4)
        e[i] = step
        h[row] = (_value_and_gradient(point - e, u, log_slope, progress, u_end)[1][free]
                  - _value_and_gradient(point + e, u, log_slope, progress, u_end)[1][free]
                  ) / (2 * step)
    return (h + h.T) / 2


def fit_inputs(time, progress, growth: str, observed_until):
    """What every model fit checks first: (time, progress, wins, t0, end of observation)."""
    require(growth in GROWTHS, f"growth: must be one of {', '.join(GROWTHS)} (got {growth!r})")
    time = np.asarray(time, dtype=float)
    progress = np.asarray(progress, dtype=float)
    wins = progress.size - 1
    require(wins >= 3, f"history: {wins} wins; at least 3 are needed for a fit")
    t0 = float(time[0])
    require(growth == "exponential" or t0 > 0,
            "time: power growth (time axis = cumulative effort) needs times > 0")
    end = float(time[-1] if observed_until is None else max(observed_until, time[-1]))
    return time, progress, wins, t0, end


def fit_kortum(time, progress, *, growth: str = "exponential",
               observed_until: float | None = None, depleting: bool = False) -> KortumFit:
    """Fit Kortum's record model to a history by maximum likelihood.

    Parameters
    ----------
    time, progress : array
        One entry per row, sorted; row 0 is the starting record (progress 0), the others wins
        (progress strictly increasing).
    growth : {"exponential", "power"}
        How the effective draws grow along the time axis (see the module docstring).
    observed_until : float, optional
        End of observation (default: the last row's time); no win happened after the last row
        up to it.
    depleting : bool
        Also fit kappa, the thinning of the values' tail with progress (kappa = 0: Kortum).

    Returns
    -------
    KortumFit
    """
    from scipy import optimize  # here, not at import: `simsearch --help` must not load SciPy

    time, progress, wins, t0, end = fit_inputs(time, progress, growth, observed_until)
    u = axis(time, t0, growth)
    u_end = float(axis(end, t0, growth))
    log_slope = _log_axis_slope(time, growth)
    require(u_end > 0, "time: every win happened at the first row's time; the history has "
                       "no time span to fit a growth rate")
    # Fit in units where the span of u and the progress to the last win are 1, so theta, g and
    # kappa are of order the number of wins whatever the data's units (cumulative FLOP from 0
    # spans 1e24, a gain can be in units of 1e15): the optimiser's box on log theta and log g
    # would otherwise exclude the start. The log Jacobian of the change of units goes into
    # the per-row constant, so the log-likelihood is still the density in the data's units.
    span_u, span_y = u_end, float(progress[-1])
    u, u_end, progress = u / span_u, 1.0, progress / span_y
    log_slope = log_slope - math.log(span_u) - math.log(span_y)
    free = [0, 2, 3] if depleting else [0, 2]

    def full(x):
        kappa = x[2] if depleting else 0.0
        c = _profile_c(math.exp(x[0]), kappa, math.exp(x[1]), u, progress, u_end, wins)
        return np.array([x[0], c, x[1], kappa])

    def profile(x):
        if not (np.all(np.abs(x[:2]) < 30) and (not depleting or abs(x[2]) < 50)):
            return math.inf, np.zeros(x.size)
        value, grad = _value_and_gradient(full(x), u, log_slope, progress, u_end)
        return -value, -grad[free]  # d/dc = 0 at the profiled c

    theta0 = float(wins)
    g0 = float(wins)
    best = None
    for factor in (1.0, 0.2, 5.0):  # more starts only if the first fails to converge
        x0 = np.log([theta0, g0 * factor])
        x0 = np.r_[x0, 0.0] if depleting else x0
        res = optimize.minimize(profile, x0, jac=True, method="BFGS", options={"gtol": 1e-8})
        if best is None or res.fun < best.fun - 1e-9:
            best = res
        # "Precision loss" at a gradient this small is convergence at float64 precision.
        if res.success or np.max(np.abs(res.jac)) < 1e-3:
            break
    point = full(best.x)
    cov = np.zeros((4, 4))
    fitted = [0, 1, 2, 3] if depleting else [0, 1, 2]
    cov[np.ix_(fitted, fitted)] = _covariance(point, fitted, u, log_slope, progress, u_end)
    # Back to the data's units: log theta and log g shift, kappa scales, c is unchanged.
    point = point - np.array([math.log(span_y), 0.0, math.log(span_u), 0.0])
    point[3] /= span_y
    jacobian = np.diag([1.0, 1.0, 1.0, 1.0 / span_y])
    cov = jacobian @ cov @ jacobian
    progress = progress * span_y
    return KortumFit(theta=math.exp(point[0]), c=float(point[1]), g=math.exp(point[2]),
                     kappa=float(point[3]), cov=cov, growth=growth, t0=t0, observed_until=end,
                     last_progress=float(progress[-1]), wins=wins,
                     log_likelihood=-float(best.fun), depleting=depleting)


def _covariance(point, fitted, u, log_slope, progress, u_end):
    """Covariance of the fitted parameters (c included): the inverse observed information."""
    info = _information(point, u, log_slope, progress, u_end, fitted)
    try:
        cov = np.linalg.inv(info)
        # Forecasts draw parameters by Cholesky: a positive diagonal is not enough.
        np.linalg.cholesky(cov if np.all(np.isfinite(cov)) else np.eye(len(fitted)))
    except np.linalg.LinAlgError:
        cov = None
    if cov is None or not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        raise SimsearchError("history: the record model's fit has no finite intervals; the "
                             "history is too short or degenerate to fit")
    return cov


def sample_parameters(fit: KortumFit, replicates: int, rng) -> np.ndarray:
    """Parameter draws (replicates x 4: log theta, c, log g, kappa) from the fit's normal
    approximation (kappa stays 0 unless it was fitted)."""
    n = 4 if fit.depleting else 3
    out = np.zeros((replicates, 4))
    out[:, :n] = rng.multivariate_normal(fit.point[:n], fit.cov[:n, :n], size=replicates,
                                         method="cholesky")
    return out


def forecast_progress(fit: KortumFit, times, replicates: int, rng,
                      parameter_uncertainty: bool = True) -> np.ndarray:
    """Simulated progress (replicates x times) at future ``times`` from the fitted model.

    Each replicate draws its parameters (from the fit's normal approximation unless
    ``parameter_uncertainty`` is False) and, for each time, the exact Gumbel law of the best
    idea found since the end of observation; the record never falls below the last win.
    Replicates share their path across times: the best over (u_{k-1}, u_k] is drawn
    independently of the one before, and the record is the running maximum.
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if parameter_uncertainty:
        params = sample_parameters(fit, replicates, rng)
    else:
        params = np.tile(fit.point, (replicates, 1))
    # A short history's normal approximation can draw log theta or log g past float range:
    # exp gives inf and the path is unbounded (not a RuntimeWarning on the user's stderr).
    with np.errstate(over="ignore"):
        theta, c, g = np.exp(params[:, 0]), params[:, 1], np.exp(params[:, 2])
    kappa = params[:, 3]
    u_end = float(axis(fit.observed_until, fit.t0, fit.growth))
    u = axis(np.maximum(times, fit.observed_until), fit.t0, fit.growth)
    out = np.empty((replicates, times.size))
    best = np.full(replicates, fit.last_progress)
    prev = u_end
    for k in np.argsort(u, kind="stable"):
        if u[k] > prev:
            gumbel = -np.log(rng.standard_exponential(replicates))
            with np.errstate(over="ignore"):
                new = inverse_hazard(theta, kappa, c + _log_increment(g, prev, u[k]) + gumbel)
            best = np.maximum(best, np.where(np.isnan(new), -np.inf, new))
            prev = u[k]
        out[:, k] = best
    return out


def simulate_history(theta: float, c: float, g: float, end: float, rng, *,
                     growth: str = "exponential", t0: float = 0.0, kappa: float = 0.0,
                     max_wins: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """A record history simulated exactly from the model, observed from ``t0`` to ``end``.

    Returns (time, progress), row 0 the starting record at ``t0`` with progress 0. Waiting
    times come from the Poisson process of draws beating the record; a win from ``y`` lands
    at ``Lambda^-1(Lambda(y) + Exp(1))`` (Exp(theta) steps when kappa = 0: Pareto values are
    memoryless on the log scale).
    """
    u_end = float(axis(end, t0, growth))
    times, levels = [t0], [0.0]
    u, y = 0.0, 0.0
    while len(times) <= max_wins:
        level = float(hazard(theta, kappa, y)[0])
        u = float(np.logaddexp(g * u, math.log(rng.standard_exponential()) + level - c) / g)
        if u > u_end:
            break
        y = float(inverse_hazard(theta, kappa, level + rng.standard_exponential()))
        times.append(t0 + u if growth == "exponential" else t0 * math.exp(u))
        levels.append(y)
    return np.array(times), np.array(levels)
