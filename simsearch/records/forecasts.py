"""Forecasts of a history's progress: Kortum's record model simulated forward, and two trends.

Methods (the registry :data:`METHODS`, in one place):

- ``kortum``: the record model fitted by exact likelihood, simulated forward with its parameter
  uncertainty (median and interval over replicates);
- ``trend``: least squares of progress on time (log-linear trend of the record, or the linear
  trend of cumulative gain);
- ``power_law``: a power law in time, ``R ~ (t - t_0 + d)^-b`` for records (progress linear in
  log time) and ``G ~ (t - t_0 + d)^b`` for cumulative gains, with ``d`` the mean gap between
  wins;
- ``depleting``: the record model with a tail that thins as progress grows (kappa, fitted);
- ``pool``: a finite pool of ideas of heavy-tailed difficulty searched round-robin (the labs
  engine's world, :mod:`simsearch.records.pool`), fitted by exact likelihood and simulated win by
  win with the history's own gains;
- ``combined``: the mean of the depleting model's and the two trends' point
  forecasts (those finite), with the depleting model's interval shifted to that centre;
- ``weighted``: the default, per horizon the candidates (the depleting, Kortum and pool models
  and the two trends) weighted by the inverse of their mean squared error on rolling origins
  inside the history, with an empirical interval from the weighted forecast's errors there.

docs/notes/records.md has the backtests: no method wins at every horizon on both dev
histories, and none of them, the default included, meets the issue's target on both.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..errors import SimsearchError, require
from .history import History
from .models import KortumFit, fit_kortum, forecast_progress
from .pool import fit_pool, forecast_pool

#: Forecast methods (``DEFAULT_METHOD`` is the default).
METHODS = ("weighted", "combined", "depleting", "kortum", "pool", "trend", "power_law")
MODELS = ("depleting", "kortum")
BASELINES = ("trend", "power_law")
CANDIDATES = ("depleting", "kortum", "pool", "trend", "power_law")
#: The candidates consistent with any time axis, whose median is ``weighted``'s fallback (the
#: linear trend is not: linear in raw effort, it is absurd 10x out).
FALLBACK = ("depleting", "kortum", "pool", "power_law")

DEFAULT_METHOD = "weighted"
#: Inner rolling origins of the ``weighted`` method (inside the history given to it).
INNER_ORIGINS = 8
INNER_START = 0.25


def path_quantiles(paths, probs) -> np.ndarray:
    """Quantiles over replicates (axis 0) of simulated progress, each one a simulated value.

    Paths can be +inf (a thickening tail, kappa < 0, reaches unbounded progress at finite
    effort); NumPy's interpolating quantile takes inf - inf there and returns NaN, so the
    inverted empirical CDF is used: a quantile is +inf exactly when that share of paths is.
    """
    return np.quantile(paths, probs, axis=0, method="inverted_cdf")


def contain_median(median, low, high):
    """The interval widened, where needed, to contain its median (a shifted or borrowed band
    can miss it; an interval that excludes its own centre is never reported)."""
    return np.minimum(low, median), np.maximum(high, median)


def _weighted_mean(weight, values) -> float:
    """sum(weight * values) over the positive weights only (0 * inf would be NaN)."""
    use = weight > 0
    return float(np.sum(weight[use] * np.asarray(values, dtype=float)[use]))


def default_growth(history: History) -> str:
    """Exponential effort growth on calendar axes; power growth when the axis is effort."""
    return "exponential" if history.calendar or history.time[0] <= 0 else "power"


def trend(history: History, times) -> np.ndarray:
    """Least-squares line of progress on time, evaluated at ``times``."""
    slope, intercept = np.polyfit(history.time, history.progress, 1)
    return intercept + slope * np.asarray(times, dtype=float)


def power_law(history: History, times) -> np.ndarray:
    """A power law in time (see the module docstring), evaluated at ``times``."""
    t, y = history.time, history.progress
    offset = (t[-1] - t[0]) / max(history.wins, 1)
    x = np.log(t - t[0] + offset)
    x_new = np.log(np.asarray(times, dtype=float) - t[0] + offset)
    if history.kind == "record":
        slope, intercept = np.polyfit(x, y, 1)
        return intercept + slope * x_new
    keep = y > 0
    slope, intercept = np.polyfit(x[keep], np.log(y[keep]), 1)
    return np.exp(intercept + slope * x_new)


def _point_forecasts(history: History, times, end: float, growth: str, seed: int) -> dict:
    """Point forecast (progress) of every candidate at ``times`` from ``history``."""
    points = {"trend": trend(history, times), "power_law": power_law(history, times)}
    for k, model in enumerate(MODELS):
        fit = fit_kortum(history.time, history.progress, growth=growth, observed_until=end,
                         depleting=model == "depleting")
        paths = forecast_progress(fit, times, 200, np.random.default_rng([seed, k, 1]))
        points[model] = path_quantiles(paths, 0.5)
    points["pool"] = _pool_point(history, times, end, growth, seed, 200)
    for name in points:
        points[name] = np.maximum(points[name], history.progress[-1])
    return points


def _pool_point(history: History, times, end: float, growth: str, seed: int,
                replicates: int) -> np.ndarray:
    """The pool model's median forecast at its fitted parameters; NaN where it cannot be
    fitted, which leaves it out of the weights and the fallback median (no candidate may stop
    the others)."""
    try:
        # The maximum alone (no profile of alpha): paths at the fitted parameters.
        fit = fit_pool(history.time, history.progress, growth=growth, observed_until=end,
                       grid=None)
    except SimsearchError:
        return np.full(np.size(times), np.nan)
    paths = forecast_pool(fit, times, replicates, np.random.default_rng([seed, 2, 1]),
                          parameter_uncertainty=False)
    return path_quantiles(paths, 0.5)


def inner_backtest(history: History, horizons, growth: str, seed: int = 0) -> dict:
    """Errors (progress units) of every candidate on rolling origins inside ``history``.

    Origins: :data:`INNER_ORIGINS` evenly spaced from 25% of the span to its end minus the
    shortest horizon; a target must be inside the history. Returns ``{candidate: {horizon
    index: errors}}``.
    """
    horizons = np.asarray(horizons, dtype=float)
    # Inner origins span the wins, not the quiet stretch after the last one (the end of
    # observation enters every inner fit as its origin): extending them there moved the
    # weights on NanoGPT from a 0.18 to a 0.55 mean error at 3 months (8 origins).
    t0, t1 = history.time[0], history.time[-1]
    errors = {m: {k: [] for k in range(horizons.size)} for m in CANDIDATES}
    for j, origin in enumerate(np.linspace(t0 + INNER_START * (t1 - t0), t1 - horizons.min(),
                                           INNER_ORIGINS)):
        past = history.before(origin)
        inside = origin + horizons <= t1
        if past.wins < 4 or not inside.any():
            continue
        try:
            points = _point_forecasts(past, origin + horizons[inside], origin, growth, seed + j)
        except SimsearchError:
            continue
        actual = history.progress_at(origin + horizons[inside])
        for m in CANDIDATES:
            for i, k in enumerate(np.flatnonzero(inside)):
                errors[m][k].append(float(points[m][i] - actual[i]))
    return errors


class Forecast(NamedTuple):
    """Forecast progress at future times.

    Attributes
    ----------
    times : ndarray
        Model-axis times.
    median, low, high : ndarray
        Default (``method``) forecast and its interval, in progress units.
    level : float
    method : str
    points : dict
        Point forecast (progress) of every method at ``times``.
    fit : KortumFit
        The depleting model's fit (the Kortum one for ``method="kortum"``).
    chosen : dict
        For ``weighted``: the candidates' weights at each time index.
    """

    times: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    method: str
    points: dict
    fit: KortumFit
    chosen: dict


def forecast(history: History, times, *, level: float = 0.8, replicates: int = 1000,
             seed: int = 0, method: str = DEFAULT_METHOD, growth: str | None = None,
             observed_until: float | None = None) -> Forecast:
    """Fit the record model to ``history`` and forecast its progress at ``times``.

    Parameters
    ----------
    history : History
    times : array
        Model-axis times after the history's last row.
    level : float
        Central interval level in (0, 1).
    replicates : int
        Simulated paths of the fitted model.
    seed : int
        Seed of the simulation (one ``numpy.random.Generator``; same seed, same forecast).
    method : str
        One of :data:`METHODS`.
    growth : str, optional
        The model's effort growth (default :func:`default_growth`).
    observed_until : float, optional
        End of observation, if later than ``history.end`` (no win happened in between).

    Returns
    -------
    Forecast
    """
    require(0 < level < 1, f"level: must be in (0, 1) (got {level})")
    require(method in METHODS, f"method: must be one of {', '.join(METHODS)} (got {method!r})")
    times = np.atleast_1d(np.asarray(times, dtype=float))
    end = history.end if observed_until is None else max(observed_until, history.end)
    require(bool(np.all(times > end)), f"at: every time must be after the end of observation "
                                       f"({history.format_time(end)})")
    tails = [(1 - level) / 2, 0.5, (1 + level) / 2]
    growth = growth or default_growth(history)
    fits, bands, points = {}, {}, {}
    for k, model in enumerate(MODELS):
        fits[model] = fit_kortum(history.time, history.progress, growth=growth,
                                 observed_until=end, depleting=model == "depleting")
        paths = forecast_progress(fits[model], times, replicates,
                                  np.random.default_rng([seed, k]))
        bands[model] = path_quantiles(paths, tails)
        points[model] = bands[model][1]
    points["trend"] = trend(history, times)
    points["power_law"] = power_law(history, times)
    # Progress never falls below the last win, whatever a trend line says.
    for name in BASELINES:
        points[name] = np.maximum(points[name], history.progress[-1])
    # The mean of the finite ones: the depleting model is unbounded where its fitted tail
    # thickens (kappa < 0), and the trends are always finite.
    parts = np.array([points["depleting"], points["trend"], points["power_law"]])
    finite = np.isfinite(parts)
    points["combined"] = np.sum(np.where(finite, parts, 0.0), axis=0) / finite.sum(axis=0)
    if method == "weighted":  # a candidate: its point forecast (the pool method fits its own)
        points["pool"] = np.maximum(_pool_point(history, times, end, growth, seed, replicates),
                                    history.progress[-1])
    # The fallback of ``weighted`` where no inner origin scores a horizon: the median of the
    # axis-consistent candidates (one that could not be fitted left out), so one absurd
    # candidate cannot drag it.
    points["fallback"] = np.nanmedian([points[m] for m in FALLBACK if m in points], axis=0)
    chosen = {}
    if method == "pool":
        pool = fit_pool(history.time, history.progress, growth=growth, observed_until=end)
        low, median, high = path_quantiles(
            forecast_pool(pool, times, replicates, np.random.default_rng([seed, 2])), tails)
        points["pool"] = median
        return Forecast(times=times, median=median, low=np.maximum(low, history.progress[-1]),
                        high=high, level=level, method=method, points=points,
                        fit=fits["depleting"], chosen=chosen)
    if method == "weighted":
        return _weighted(history, times, end, level, points, fits["depleting"], bands, growth,
                         seed)
    centre = points[method]
    low, median, high = bands["kortum" if method == "kortum" else "depleting"]
    fit = fits["kortum" if method == "kortum" else "depleting"]
    if method in BASELINES:
        low = high = centre  # the trends have no interval of their own
    else:
        # An unbounded model median gives no finite shift: the band is kept as simulated.
        finite = np.isfinite(centre) & np.isfinite(median)
        shift = np.where(finite, centre - np.where(finite, median, 0.0), 0.0)
        low, high = np.maximum(low + shift, history.progress[-1]), high + shift
        low, high = contain_median(centre, low, high)
    return Forecast(times=times, median=centre, low=low, high=high, level=level, method=method,
                    points=points, fit=fit, chosen=chosen)


def _weighted(history, times, end, level, points, fit, bands, growth, seed) -> Forecast:
    """Per horizon, the candidates weighted by the inverse of their mean squared error on
    rolling origins inside the history. A horizon longer than the inner origins allow borrows
    the weights of the longest one that has at least 3 errors; with none, the median of the
    axis-consistent candidates (``points["fallback"]``). A candidate unbounded at a time gets
    weight 0 there (the others renormalised), so the median is always finite.

    The interval is the widest of what each source of error says, around that median: the
    inner errors' conformal quantile (the ceil((n + 1) level)-th smallest absolute error of n,
    the largest when n is too small for the level; scaled by the ratio of horizons when
    borrowed), and the simulated bands of both record models (``bands``: low, median, high per
    model) shifted to the median, leaving out a band's unbounded ends. The inner errors see
    regime changes the models do not; the models see the heavy tail of a record's jumps, which
    a few inner origins rarely do.
    """
    horizons = times - end
    errors = inner_backtest(history, horizons, growth, seed)
    median, low, high = np.empty(times.size), np.empty(times.size), np.empty(times.size)
    chosen = {}
    enough = [k for k in range(times.size) if all(len(errors[m][k]) >= 3 for m in CANDIDATES)]
    for k in range(times.size):
        src = k if k in enough else max(enough, key=lambda i: horizons[i], default=None)
        spread = 0.0
        if src is None:
            median[k] = points["fallback"][k]
            chosen[k] = "fallback"
        else:
            errs = np.array([errors[m][src] for m in CANDIDATES])
            # A candidate with an unbounded inner forecast scores an infinite error: weight 0.
            with np.errstate(over="ignore", invalid="ignore"):
                mse = np.mean(errs ** 2, axis=1)
            weight = np.where(np.isfinite(mse), 1 / np.maximum(mse, 1e-300), 0.0)
            weight /= weight.sum()
            combined = np.abs([_weighted_mean(weight, errs[:, i]) for i in range(errs.shape[1])])
            spread = _conformal_quantile(combined, level) * horizons[k] / horizons[src]
            # A candidate unbounded at this time (the depleting model with kappa < 0 past
            # where its paths explode) gets weight 0 here, the others renormalised: weights
            # borrowed from a horizon where it was finite would make the median infinite.
            # The trends are always finite, so some weight is left.
            values = np.array([points[m][k] for m in CANDIDATES], dtype=float)
            weight = np.where(np.isfinite(values), weight, 0.0)
            if weight.sum() > 0:
                weight = weight / weight.sum()
                median[k] = _weighted_mean(weight, values)
            else:
                median[k] = points["fallback"][k]
            chosen[k] = dict(zip(CANDIDATES, np.round(weight, 3).tolist()))
        low[k], high[k] = median[k] - spread, median[k] + spread
        for model in MODELS:
            lo, mid, hi = (bands[model][j][k] for j in range(3))
            if np.isfinite(mid) and np.isfinite(median[k]):
                # An unbounded end (a share of paths of a thickening tail reaching infinite
                # progress) is not used: the other sources bound the interval, and an
                # unbounded default interval says nothing a user can act on.
                if np.isfinite(lo):
                    low[k] = min(low[k], lo + median[k] - mid)
                if np.isfinite(hi):
                    high[k] = max(high[k], hi + median[k] - mid)
        low[k] = max(low[k], history.progress[-1])
        low[k], high[k] = contain_median(median[k], low[k], high[k])
    # The record never gets worse, so no quantile of it falls at a later time; per-horizon
    # weights and sources (a model band used at one time, unbounded and left out at the next)
    # could make one fall.
    order = np.argsort(times, kind="stable")
    for values in (median, low, high):
        values[order] = np.maximum.accumulate(values[order])
    return Forecast(times=times, median=median, low=low, high=high, level=level,
                    method="weighted", points=points, fit=fit, chosen=chosen)


def _conformal_quantile(errors: np.ndarray, level: float) -> float:
    """The ceil((n + 1) level)-th smallest of n absolute errors (split conformal's quantile,
    which covers a new error with probability >= level when errors are exchangeable), or the
    largest when n is too small for the level."""
    errors = np.sort(np.asarray(errors, dtype=float))
    rank = math.ceil((errors.size + 1) * level)
    return float(errors[min(rank, errors.size) - 1])


def forecast_json(history: History, at_texts, result: Forecast, warnings=()) -> dict:
    """The ``records forecast --json`` document: keys spelled as given in ``--at``."""
    notes = []

    def value(progress, what):
        # JSON has no inf: a value that is not a float is null, and a warning says what it is.
        out = history.value_or_none(progress)
        if out is None:
            notes.append(f"{what}: {_not_a_float(history, progress)}; given as null")
        return out

    forecast = {}
    for k, text in enumerate(at_texts):
        # For lower-is-better records the interval's low progress is the high record.
        ends = ("high", "low") if history.kind == "record" and history.lower_is_better else (
            "low", "high")
        cell = {"median": value(result.median[k], f"at {text}: median")}
        cell[ends[0]] = value(result.low[k], f"at {text}: {ends[0]}")
        cell[ends[1]] = value(result.high[k], f"at {text}: {ends[1]}")
        forecast[text] = {name: cell[name] for name in ("median", "low", "high")}
    baselines = {name: {text: value(result.points[name][k], f"at {text}: baseline {name}")
                        for k, text in enumerate(at_texts)} for name in BASELINES}
    return {"forecast": forecast, "level": result.level, "baselines": baselines,
            "model": model_summary(history, result.fit, result.level, method=result.method),
            "warnings": list(history.warnings) + list(warnings) + notes}


def _not_a_float(history: History, progress) -> str:
    """Why a forecast value is not a float: unbounded, or a record beyond float range."""
    if not math.isfinite(float(progress)):
        return ("unbounded (the fitted tail thickens, kappa < 0, and simulated paths reach "
                "infinite progress at finite effort)")
    return (f"the record is beyond float range: its natural log is "
            f"{float(history.log_value(progress)):.6g}")


def model_summary(history: History, fit: KortumFit, level: float = 0.9,
                  method: str | None = None) -> dict:
    """The fitted model's parameters with intervals, as plain data."""
    out = {"name": "depleting" if fit.depleting else "kortum", "growth": fit.growth, "wins": fit.wins,
           "log_likelihood": fit.log_likelihood, "interval_level": level}
    if method is not None:
        out["forecast_method"] = method
    # r, the progress rate and the halving time are constants of the pure model only (with a
    # thinning tail they fall as progress grows).
    names = ("theta", "g", "kappa") if fit.depleting else ("theta", "g", "r", "progress_rate",
                                                            "halving")
    for name in names:
        low, high = fit.interval(name, level)
        out[name] = {"estimate": fit.quantity(name), "low": low, "high": high}
    unit = "year" if history.calendar else "unit of the time axis"
    if fit.growth == "power":
        unit = "log of cumulative effort"
    out["units"] = {"theta": "per unit of progress (log record or gain units)",
                    "kappa": "thinning of the tail per unit of progress",
                    "g": f"growth of log effective draws per {unit}",
                    "r": "doublings of the record per doubling of effective draws",
                    "progress_rate": f"progress per {unit}",
                    "halving": (f"{'years' if history.calendar else 'time units'} to halve "
                                f"the record" if fit.growth == "exponential" else
                                "log of the effort factor that halves the record")}
    if history.kind == "record" and fit.growth == "exponential" and not fit.depleting:
        out["jones"] = {"lambda": None, "phi": 1 - fit.theta,
                        "note": "phi = 1 - theta assumes draws proportional to research effort; "
                                "lambda is not identified without an effort measure"}
    else:
        out["jones"] = {"lambda": None, "phi": None,
                        "note": "not identified: the progress units are not log productivity "
                                "or no separate effort measure"}
    return out


def pandey_test(history: History, level: float = 0.9) -> dict:
    """Pandey's test on the data: log(effort per unit of progress) of each win against progress.

    The effort of a win is its ``effort`` when the history has one, else the time since the win
    before (calendar time is then the only effort measure, which it is not when effort grows).
    The slope of the least-squares line with its t interval; "exponentially more effort per
    unit of progress" holds when the interval is above 0, is rejected when it is below.
    """
    from scipy import stats

    gain = np.diff(history.progress)
    spent = (history.effort[1:] if history.effort is not None else np.diff(history.time))
    keep = (spent > 0) & (gain > 0)
    x = history.progress[:-1][keep]
    z = np.log(spent[keep] / gain[keep])
    measure = "effort column" if history.effort is not None else "time between wins"
    if x.size < 3 or np.ptp(x) == 0:
        return {"effort_measure": measure, "wins_used": int(x.size), "slope": None,
                "low": None, "high": None, "verdict": "not enough wins"}
    res = stats.linregress(x, z)
    half = stats.t.ppf(0.5 + level / 2, x.size - 2) * res.stderr
    low, high = res.slope - half, res.slope + half
    verdict = ("holds" if low > 0 else "rejected" if high < 0 else "inconclusive")
    return {"effort_measure": measure, "wins_used": int(x.size), "level": level,
            "slope": float(res.slope), "low": float(low), "high": float(high),
            "intercept": float(res.intercept),
            "doubling_progress": (math.log(2) / res.slope if res.slope > 0 else None),
            "verdict": verdict}
