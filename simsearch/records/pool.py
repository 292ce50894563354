"""The pool model of a history of wins: a finite pool of ideas of heavy-tailed difficulty,
searched round-robin (the world of ``simsearch labs``), fitted by exact likelihood.

A pool holds N ideas. Idea j is solved once it has had T_j units of search, with

    S(tau) = P(T > tau) = (1 + tau)^(-alpha):

its chance per attempt has a Gamma(alpha) left tail (a Beta(alpha, beta) difficulty with a
large beta, the labs engine's), so after tau units each the share of ideas still unsolved falls
as tau^-alpha: the pool's tail is the exponent of the pass@k law. Round-robin search spreads the
effort over the R ideas still open, so the search time advances as ``dtau = rho dE / R``, with
effort ``E(t) = (e^(g (t - t0)) - 1) / g`` (``growth="exponential"``: effort per unit time
grows at rate g, the calendar default) or ``E(t) = t / t0 - 1`` (``growth="power"``: the axis
is cumulative effort, and search is proportional to it; fitting a power of it as Kortum's model
does would let a slowing growth of effort explain what the emptying pool explains). The wins
form a counting process with intensity

    lambda(t) = R(t) h(tau(t)) dtau/dt = alpha rho E'(t) / (1 + tau(t))

(R cancels: fewer ideas open, each searched faster), so a history has the exact log-likelihood

    sum_i log lambda(t_i) - alpha sum_s R_s log((1 + tau_s+) / (1 + tau_s-)),

the second sum over the stretches between wins (and from the last win to the end of
observation), R_s = N - (wins before s). Easy ideas go first, so the wins slow down as the pool
empties; N = infinity is the limit without depletion (wins at a rate proportional to effort).
Each win adds a gain drawn from one distribution, independent of its difficulty; forecasts
resample the history's own gains.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..errors import require
from ..io.output import finite_or_none
from .models import fit_inputs

__all__ = ["LOG_ALPHA_GRID", "PoolFit", "effort", "fit_pool", "forecast_pool", "log_likelihood",
           "pool_summary", "time_of_effort"]

#: Grid of log alpha for the profile likelihood (intervals, and the forecasts' draws of alpha).
LOG_ALPHA_GRID = np.linspace(math.log(0.01), math.log(20.0), 21)


class PoolFit(NamedTuple):
    """Maximum-likelihood fit of the pool model.

    The wins identify two combinations well: the first wins' rate per unit of effort and the
    effort at which they slow down. How the slowdown goes on as the pool empties tells the
    pool's tail alpha from its size N, only weakly: an endless pool with alpha -> 0 (wins
    growing as log effort) is the limit of one direction. So alpha has a profile-likelihood
    interval, and N is reported over it.

    Attributes
    ----------
    alpha : float
        The pool's tail: the unsolved share after tau units of search each is (1 + tau)^-alpha.
    rho : float
        Search time per unit of effort per open idea, times the ideas open.
    ideas : float
        N, the ideas in the pool at the start (wins included).
    g : float
        Growth rate of effort on calendar axes, per unit of the *scaled* axis (1 on effort
        axes); per unit of the time axis it is ``g / scale``.
    alpha_grid, profile : ndarray
        log alpha on :data:`LOG_ALPHA_GRID` with the estimate inserted, and the profile
        log-likelihood there (-inf where no pool of at least the wins fits), and
        ``profile_params``: the best (log a, log c, g) at each (a = alpha rho E_ref,
        c = rho E_ref / N; E_ref the effort to the end of observation at g = 1). A point fit
        (``fit_pool(..., grid=None)``) has the estimate alone.
    cov : ndarray
        3x3 covariance of (log a, log c, g) at the fitted alpha (observed information).
    growth : str
    t0, observed_until, e_ref : float
        On the scaled axis, as ``time``.
    time : ndarray
        The history's times (row 0 the start), replayed by forecasts: on calendar axes
        ``(t - offset) / scale``, the span mapped to [0, 1] so that the fit is the same in any
        units (cumulative FLOP from 0 spans 1e24); on effort axes as given (the model uses
        t / t0 only).
    offset, scale : float
        That map.
    wins : int
    last_progress : float
    gains : ndarray
        The history's gain per win (progress increments), resampled by forecasts.
    log_likelihood : float
    """

    alpha: float
    rho: float
    ideas: float
    g: float
    alpha_grid: np.ndarray
    profile: np.ndarray
    profile_params: np.ndarray
    cov: np.ndarray
    growth: str
    t0: float
    observed_until: float
    e_ref: float
    time: np.ndarray
    offset: float
    scale: float
    wins: int
    last_progress: float
    gains: np.ndarray
    log_likelihood: float

    def interval(self, name: str, level: float) -> tuple[float, float]:
        """Profile-likelihood interval of ``alpha`` (the crossings of the threshold,
        interpolated between grid points), and ``ideas`` (N) over that interval; an end past
        the grid's edge is open (0 for alpha; inf for N where an endless pool fits)."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2)
        top = max(self.log_likelihood, float(np.max(self.profile)))
        threshold = top - z * z / 2
        inside = np.flatnonzero(self.profile >= threshold)  # the estimate is a grid point
        ends = []
        for i, outer in ((inside[0], inside[0] - 1), (inside[-1], inside[-1] + 1)):
            if not 0 <= outer < self.alpha_grid.size:
                ends.append(None)  # open: the grid's edge is inside the interval
                continue
            if not np.isfinite(self.profile[outer]):
                ends.append((float(self.alpha_grid[i]), self.profile_params[i]))
                continue
            w = (self.profile[i] - threshold) / (self.profile[i] - self.profile[outer])
            ends.append((float(self.alpha_grid[i] + w * (self.alpha_grid[outer]
                                                         - self.alpha_grid[i])),
                         self.profile_params[i] + w * (self.profile_params[outer]
                                                       - self.profile_params[i])))
        if name == "alpha":
            return (0.0 if ends[0] is None else math.exp(ends[0][0]),
                    math.inf if ends[1] is None else math.exp(ends[1][0]))
        ideas = [_natural(self.alpha_grid[i], self.profile_params[i], self.e_ref)[2]
                 for i in inside]
        ideas += [_natural(e[0], e[1], self.e_ref)[2] for e in ends if e is not None]
        ideas.append(self.ideas)
        return (max(min(ideas), float(self.wins)), math.inf if ends[0] is None else max(ideas))


def _natural(log_alpha, params, e_ref):
    """(alpha, rho, N) from log alpha and (log a, log c, g)."""
    alpha = math.exp(log_alpha)
    rho = math.exp(params[0]) / (alpha * e_ref)
    return alpha, rho, rho * e_ref / math.exp(params[1])


def effort(time, t0: float, g, growth: str) -> np.ndarray:
    """E(t), the effort spent since ``t0`` (the module docstring's), for one g or an array
    (g = 1 on effort axes)."""
    time = np.asarray(time, dtype=float)
    g = np.asarray(g, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if growth == "exponential":
            u = time - t0
            return np.where(np.abs(g) < 1e-12, u, np.expm1(g * u) / np.where(g == 0, 1, g))
        return np.expm1(g * np.log(time / t0))


def _log_effort_slope(time, t0: float, g: float, growth: str) -> np.ndarray:
    """log E'(t)."""
    time = np.asarray(time, dtype=float)
    if growth == "exponential":
        return g * (time - t0)
    return math.log(abs(g)) + (g - 1) * np.log(time / t0) - math.log(t0)


def time_of_effort(e, t0: float, g, growth: str) -> np.ndarray:
    """The inverse of :func:`effort`: inf where the effort is never reached (g < 0)."""
    e = np.asarray(e, dtype=float)
    g = np.asarray(g, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = g * e
        if growth == "exponential":
            u = np.where(np.abs(g) < 1e-12, e, np.log1p(x) / np.where(g == 0, 1, g))
            return np.where(x > -1, t0 + u, np.inf)
        return np.where(x > -1, t0 * np.exp(np.log1p(x) / g), np.inf)


def log_likelihood(alpha, rho, ideas, g, time, t0: float, end: float, growth: str) -> float:
    """Exact log-likelihood of the wins at ``time`` (row 0 the start, not a win) in a pool of
    ``ideas`` (N >= wins) with tail ``alpha``, search rate ``rho`` and effort growth ``g``,
    observed until ``end``; -inf outside the model."""
    wins = time.size - 1
    if not (alpha > 0 and rho > 0 and ideas > wins) or (growth == "power" and g <= 0):
        return -math.inf
    e = effort(time, t0, g, growth)
    e_end = float(effort(end, t0, g, growth))
    if not (np.all(np.isfinite(e)) and math.isfinite(e_end)) or np.any(np.diff(e) < 0):
        return -math.inf
    remaining = ideas - np.arange(wins + 1)  # R before win 1, ..., after the last
    log_tau = np.log1p(np.cumsum(rho * np.diff(np.r_[0.0, e[1:], e_end]) / remaining))
    value = (wins * math.log(alpha * rho)
             + float(np.sum(_log_effort_slope(time[1:], t0, g, growth)))
             - float(np.sum(log_tau[:-1]))
             - alpha * float(remaining @ np.diff(np.r_[0.0, log_tau])))
    return value if math.isfinite(value) else -math.inf


def _likelihood_function(time, t0: float, end: float, growth: str):
    """:func:`log_likelihood` as a closure of (alpha, rho, ideas, g), on the numba kernel (the
    fit evaluates it ~10^4 times)."""
    from ..kernels.pool import pool_log_likelihood  # numba only when a pool is fitted

    calendar = growth == "exponential"
    u = np.r_[time, end] - t0 if calendar else np.log(np.r_[time, end] / t0)
    slope_sum = 0.0 if calendar else float(np.sum(_log_effort_slope(time[1:], t0, 1.0, growth)))

    def value(alpha, rho, ideas, g):
        return pool_log_likelihood(alpha, rho, ideas, g, u, calendar, slope_sum)

    return value


def _hessian(f, x, step=1e-4):
    """Central-difference Hessian of a scalar function."""
    n = x.size
    h = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = step, step
            h[i, j] = h[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * step * step)
    return h


def _covariance(f, x) -> np.ndarray:
    """Inverse observed information of ``-f`` at its minimum ``x``. At the edge of the model (a
    pool all but used up, N -> wins) a difference step leaves it; then smaller steps, and at
    last each parameter's own curvature alone, a negligible variance where it has none (the
    profile over alpha still carries the main uncertainty)."""
    for step in (1e-4, 1e-6):
        info = _hessian(f, x, step)
        if np.all(np.isfinite(info)):
            try:
                cov = np.linalg.inv(info)
            except np.linalg.LinAlgError:
                continue
            try:
                np.linalg.cholesky(cov)  # positive definite: forecasts draw from it
                return cov
            except np.linalg.LinAlgError:
                continue
    diag = np.diag(info)
    # 1e-18, not zero, where there is no curvature: Cholesky needs a positive variance.
    return np.diag(np.where(np.isfinite(diag) & (diag > 0), 1 / np.where(diag > 0, diag, 1),
                            1e-18))


def fit_pool(time, progress, *, growth: str = "exponential",
             observed_until: float | None = None, grid=LOG_ALPHA_GRID) -> PoolFit:
    """Fit the pool model to a history by maximum likelihood (profiled over alpha).

    Parameters
    ----------
    time, progress : array
        One entry per row, sorted; row 0 is the starting point, the others wins.
    growth : {"exponential", "power"}
        How effort grows along the time axis (module docstring).
    observed_until : float, optional
        End of observation (default: the last row's time).
    grid : array or None, optional
        The log alpha of the profile (default :data:`LOG_ALPHA_GRID`); None skips the profile
        and maximises over every parameter at once, for a point forecast (``interval`` is
        then open at both ends, and forecasts keep alpha at its estimate).

    Returns
    -------
    PoolFit
    """
    # Overflow and log(0) mark parameters outside the model: the likelihood is -inf there.
    with np.errstate(all="ignore"):
        return _fit_pool(time, progress, growth, observed_until,
                         None if grid is None else np.asarray(grid, dtype=float))


def _fit_pool(time, progress, growth, observed_until, grid) -> PoolFit:
    from scipy import optimize  # here, not at import: `simsearch --help` must not load SciPy

    time, progress, wins, t0, end = fit_inputs(time, progress, growth, observed_until)
    require(end > t0, "time: every win happened at the first row's time; the history has "
                      "no time span to fit")
    offset, scale = (t0, end - t0) if growth == "exponential" else (0.0, 1.0)
    time, t0, end = (time - offset) / scale, (t0 - offset) / scale, (end - offset) / scale
    e_ref = float(effort(end, t0, 1.0, growth))

    free = 3 if growth == "exponential" else 2  # (log a, log c[, g]); g = 1 on effort axes

    def full(x):
        return x if free == 3 else np.r_[x, 1.0]

    likelihood = _likelihood_function(time, t0, end, growth)

    def minus(log_alpha, x):
        x = full(x)
        if not (abs(log_alpha) < 12 and abs(x[0]) < 50 and abs(x[1]) < 50
                and abs(x[2]) < 1e3):
            return math.inf
        alpha, rho, ideas = _natural(log_alpha, x, e_ref)
        return -likelihood(alpha, rho, ideas, x[2])

    def best_at(log_alpha, starts):
        best = None
        for x0 in starts:
            if not math.isfinite(minus(log_alpha, x0)):
                continue
            res = optimize.minimize(lambda x: minus(log_alpha, x), x0, method="Nelder-Mead",
                                    options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 2000,
                                             "adaptive": True})
            if best is None or res.fun < best.fun:
                best = res
        return best

    # a ~ the wins with no slowdown; c from none to strong; the pool at least the wins.
    # On the scaled calendar axis, effort growing by e^0.5 or e^3 over the span.
    first = [np.array([math.log(wins * f), math.log(c), g][:free])
             for f in (1.0, 3.0) for c in (0.05, 1.0, 20.0)
             for g in ((0.5, 3.0) if free == 3 else (1.0,))]
    if grid is None:
        joint = _joint_maximum(minus, first)
        grid = joint.x[:1].copy()
        profile, params = np.array([-joint.fun]), full(joint.x[1:])[None, :]
    else:
        profile, params = _profile(minus, best_at, grid, first, full)
        top = int(np.argmax(profile))
        # Refine alpha between the grid's neighbours of the best point.
        lo_a, hi_a = grid[max(top - 1, 0)], grid[min(top + 1, grid.size - 1)]
        joint = optimize.minimize(lambda y: minus(y[0], y[1:]) if lo_a <= y[0] <= hi_a
                                  else math.inf, np.r_[grid[top], params[top, :free]],
                                  method="Nelder-Mead",
                                  options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 8000,
                                           "adaptive": True})
    log_alpha, x = float(joint.x[0]), joint.x[1:]
    if grid.size > 1:  # the maximum joins the profile, so the interval holds the estimate
        where = int(np.searchsorted(grid, log_alpha))
        grid = np.insert(grid, where, log_alpha)
        profile = np.insert(profile, where, -joint.fun)
        params = np.insert(params, where, full(x), axis=0)
    inner = _covariance(lambda y: minus(log_alpha, y), x)
    cov = np.zeros((3, 3))
    cov[:free, :free] = inner
    x = full(x)
    alpha, rho, ideas = _natural(log_alpha, x, e_ref)
    return PoolFit(alpha=alpha, rho=rho, ideas=ideas, g=float(x[2]),
                   alpha_grid=grid.copy(), profile=profile, profile_params=params,
                   cov=cov, growth=growth, t0=t0, observed_until=end, e_ref=e_ref, time=time,
                   offset=offset, scale=scale,
                   wins=wins, last_progress=float(progress[-1]), gains=np.diff(progress),
                   log_likelihood=-float(joint.fun))


def _profile(minus, best_at, grid, first, full):
    """The profile log-likelihood on ``grid`` and the best (log a, log c, g) at each point."""
    profile = np.full(grid.size, -math.inf)
    params = np.full((grid.size, 3), np.nan)
    previous = None
    for i, log_alpha in enumerate(grid):
        # Warm from the neighbour, and from a fixed guess: the ridge has bends a single warm
        # start can miss, which would misplace the interval.
        res = best_at(log_alpha, first if previous is None else [previous, first[0]])
        if res is not None and math.isfinite(res.fun):
            profile[i], params[i], previous = -res.fun, full(res.x), res.x
    require(np.isfinite(profile).any(), "history: the pool model has no finite likelihood "
                                        "on this history (its time span is degenerate)")
    return profile, params


def _joint_maximum(minus, first):
    """The maximum over (log alpha, log a, log c[, g]) at once, from three tails and each
    one's best first guess: the point fit, without the profile."""
    from scipy import optimize

    best = None
    for log_alpha in (math.log(0.3), 0.0, math.log(3.0)):
        x0 = min(first, key=lambda x: minus(log_alpha, x))
        if not math.isfinite(minus(log_alpha, x0)):
            continue
        # A point forecast needs the maximum to 1e-6 in log-likelihood, not the last digits.
        res = optimize.minimize(lambda y: minus(y[0], y[1:]), np.r_[log_alpha, x0],
                                method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6,
                                                               "maxiter": 4000,
                                                               "adaptive": True})
        if best is None or res.fun < best.fun:
            best = res
    require(best is not None and math.isfinite(best.fun), "history: the pool model has no "
            "finite likelihood on this history (its time span is degenerate)")
    return best


def forecast_pool(fit: PoolFit, times, replicates: int, rng,
                  parameter_uncertainty: bool = True, max_wins: int | None = None) -> np.ndarray:
    """Simulated progress (replicates x times) at future ``times`` from the fitted pool.

    Each replicate draws alpha from the profile likelihood (flat in log alpha on the grid) and
    the other parameters from the best fit at that alpha plus the fit's normal error (unless
    ``parameter_uncertainty`` is False: the fitted values), replays the history's search time
    under them, rounds the open ideas N - wins at random, then draws each next win exactly: one
    exponential draw gives the search time at which one of the R open ideas is solved,
    ``(1 + tau) e^(Exp(1) / (alpha R)) - 1``, the effort that takes, ``R dtau / rho``, and its
    time on the axis; each win's gain is one of the history's gains, drawn at random. A path
    that needs more than ``max_wins`` wins (default: 10 times the history's, plus 1,000) to
    reach the last time is unbounded (inf) from there.
    """
    # Parameter draws far in the tail overflow (a pool of e^800 ideas): inf there is meant.
    with np.errstate(all="ignore"):
        return _forecast_pool(fit, times, replicates, rng, parameter_uncertainty,
                              10 * fit.wins + 1000 if max_wins is None else max_wins)


def _forecast_pool(fit, times, replicates, rng, parameter_uncertainty, max_wins):
    times = (np.atleast_1d(np.asarray(times, dtype=float)) - fit.offset) / fit.scale
    if parameter_uncertainty:
        weight = np.exp(np.where(np.isfinite(fit.profile), fit.profile - fit.log_likelihood,
                                 -np.inf))
        pick = rng.choice(fit.alpha_grid.size, size=replicates, p=weight / weight.sum())
        log_alpha = fit.alpha_grid[pick]
        free = 3 if fit.growth == "exponential" else 2
        x = fit.profile_params[pick].copy()
        x[:, :free] += rng.multivariate_normal(np.zeros(free), fit.cov[:free, :free],
                                               size=replicates, method="cholesky")
    else:
        log_alpha = np.full(replicates, math.log(fit.alpha))
        x = np.tile([math.log(fit.alpha * fit.rho * fit.e_ref),
                     math.log(fit.rho * fit.e_ref / fit.ideas), fit.g], (replicates, 1))
    alpha = np.exp(log_alpha)
    rho = np.exp(x[:, 0]) / (alpha * fit.e_ref)
    open_ = np.maximum(rho * fit.e_ref / np.exp(x[:, 1]) - fit.wins, 1e-9)
    g = x[:, 2]
    # Each replicate's search time at the end of observation, from the history's own wins.
    e = effort(fit.time[None, :], fit.t0, g[:, None], fit.growth)
    e_now = effort(fit.observed_until, fit.t0, g, fit.growth)
    remaining = open_[:, None] + fit.wins - np.arange(fit.wins + 1)[None, :]
    steps = np.diff(np.concatenate([np.zeros((replicates, 1)), e[:, 1:], e_now[:, None]],
                                   axis=1), axis=1)
    tau = np.sum(rho[:, None] * steps / remaining, axis=1)
    open_ideas = np.floor(np.minimum(open_, 1e15) + rng.random(replicates))
    out = np.empty((replicates, times.size))
    filled = np.zeros((replicates, times.size), dtype=bool)
    progress = np.full(replicates, fit.last_progress)
    active = np.ones(replicates, dtype=bool)
    for _ in range(max_wins):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            return out
        r = open_ideas[idx]
        new_tau = (1 + tau[idx]) * np.exp(rng.standard_exponential(idx.size)
                                          / (alpha[idx] * r)) - 1
        e_win = e_now[idx] + r * (new_tau - tau[idx]) / rho[idx]
        t_win = time_of_effort(e_win, fit.t0, g[idx], fit.growth)
        t_win = np.where((r > 0) & np.isfinite(new_tau) & ~np.isnan(t_win), t_win, np.inf)
        for m in range(times.size):  # targets before this win hold the progress so far
            hit = ~filled[idx, m] & (times[m] < t_win)
            out[idx[hit], m] = progress[idx[hit]]
            filled[idx[hit], m] = True
        progress[idx] += fit.gains[rng.integers(0, fit.gains.size, idx.size)]
        tau[idx], e_now[idx], open_ideas[idx] = new_tau, e_win, r - 1
        active[idx] = ~filled[idx].all(axis=1)
    # Paths still short of the last time after max_wins wins (parameter draws far in the tail,
    # where wins come faster than the history ever saw): unbounded at the times left, as the
    # record models' exploding paths are.
    out[~filled] = np.inf
    return out


def pool_summary(history, fit: PoolFit, level: float = 0.9) -> dict:
    """The fitted pool as plain data (JSON-safe: an open interval end is None)."""
    alpha_low, alpha_high = fit.interval("alpha", level)
    ideas_low, ideas_high = fit.interval("ideas", level)
    unit = "year" if history.calendar else "unit of the time axis"
    return {"name": "pool", "growth": fit.growth, "wins": fit.wins,
            "log_likelihood": fit.log_likelihood, "interval_level": level,
            "alpha": {"estimate": fit.alpha, "low": alpha_low,
                      "high": finite_or_none(alpha_high)},
            "ideas": {"estimate": fit.ideas, "low": ideas_low,
                      "high": finite_or_none(ideas_high)},
            "solved_share": fit.wins / fit.ideas, "g": fit.g / fit.scale,
            "units": {"alpha": "the pool's tail: the unsolved share after tau units of search "
                               "each falls as (1 + tau)^-alpha",
                      "ideas": "ideas in the pool at the start (wins included)"
                               + ("; no upper end: an endless pool fits"
                                  if not math.isfinite(ideas_high) else ""),
                      "g": (f"growth rate of effort per {unit}" if fit.growth == "exponential"
                            else "1: the axis is cumulative effort")}}
