"""Rolling-origin backtests: fit on the rows before each origin, forecast fixed horizons after it.

Errors are in progress units: log record (records) or cumulative gain (gains), so histories of
any scale compare. A forecast target must be at or before the end of observation (the data say
nothing after it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import SimsearchError, require
from ..runtime import progress_bar
from .forecasts import BASELINES, METHODS, forecast
from .history import History

#: Horizons on calendar axes: 3, 6 and 12 months, in years.
CALENDAR_HORIZONS = (0.25, 0.5, 1.0)
#: Horizons on a cumulative-effort axis (the model's power clock): the origin's effort times
#: these factors (log effort grows by log 1.25 .. log 2, as calendar time grows on date axes).
EFFORT_FACTORS = (1.25, 1.5, 2.0)
COLUMNS = ("origin", "horizon", "method", "forecast", "low", "high", "actual", "error",
           "covered")


class Backtest(NamedTuple):
    """A backtest's tidy rows (one per origin x horizon x method) and its summary."""

    rows: dict
    summary: dict
    level: float


def auto_origins(history: History, count: int, longest: float,
                 multiplicative: bool = False) -> np.ndarray:
    """``count`` origins evenly spaced from 40% of the history's span to its end minus the
    longest horizon (on a log scale, to its end divided by the longest factor, when the
    horizons are ``multiplicative``)."""
    t0, t1 = history.time[0], history.end
    span = f"{history.format_time(t0)} to {history.format_time(t1)}"
    if multiplicative:
        require(t0 > 0, "horizons: factors of the origin's effort need a cumulative-effort "
                        "axis (times > 0)")
        first, last = np.log(t0) + 0.4 * np.log(t1 / t0), np.log(t1 / longest)
        # A numeric axis that is not effort (years, Unix seconds) spans a factor near 1: say
        # so, since its fix is additive horizons in the axis's units.
        require(last > first, f"origins: the history ({span}, a factor of {t1 / t0:.4g}) is "
                              f"too short for the longest horizon factor x{longest:g}; give "
                              f"smaller factors, --horizons in the axis's units (such as "
                              f"{(t1 - t0) / 8:.3g}) or explicit --origins")
        return np.exp(np.linspace(first, last, count))
    first, last = t0 + 0.4 * (t1 - t0), t1 - longest
    unit = " years" if history.calendar else ""
    require(last > first, f"origins: the history ({span}) is too short for the longest "
                          f"horizon ({longest:g}{unit}); give shorter --horizons or explicit "
                          f"--origins")
    return np.linspace(first, last, count)


def run_backtest(history: History, origins, horizons, *, level: float = 0.8,
                 replicates: int = 1000, seed: int = 0, growth: str | None = None,
                 progress: bool = True, multiplicative: bool = False) -> Backtest:
    """Rolling-origin forecasts of every method in :data:`METHODS`.

    Targets are ``origin + horizon``, or ``origin * horizon`` when ``multiplicative`` (factors
    > 1 of cumulative effort, the equivalent of fixed horizons on an effort axis).

    Origins with fewer than 4 wins before them, and targets after the end of observation, are
    skipped; a method that cannot be fitted at an origin has no rows there (the others keep
    theirs, and the text table says which methods scored fewer origins).
    Each origin's simulation has its own seed (``seed`` + origin index), so adding origins
    does not change the others.

    Returns
    -------
    Backtest
        ``rows``: columns :data:`COLUMNS`; ``summary``: per method and horizon, the mean
        absolute error, the interval coverage (methods with intervals) and the count.
    """
    origins = np.atleast_1d(np.asarray(origins, dtype=float))
    horizons = np.atleast_1d(np.asarray(horizons, dtype=float))
    require(bool(np.all(horizons > 0)), "horizons: must be > 0")
    require(not multiplicative or bool(np.all(horizons > 1)),
            "horizons: factors of the origin's effort must be > 1")
    require(not multiplicative or history.time[0] > 0,
            "horizons: factors of the origin's effort need a cumulative-effort axis (times > 0)")
    rows = {name: [] for name in COLUMNS}
    for i, origin in enumerate(progress_bar(origins, progress=progress, desc="origins",
                                            unit="origin")):
        past = history.before(origin)
        targets = origin * horizons if multiplicative else origin + horizons
        usable = targets <= history.end
        if past.wins < 4 or not usable.any():
            continue
        results = {}
        for m in METHODS:
            if m in BASELINES:
                continue
            try:
                results[m] = forecast(past, targets[usable], level=level,
                                      replicates=replicates, seed=seed + i, method=m,
                                      growth=growth, observed_until=origin)
            except SimsearchError:
                # Too few wins for the record models (the origin is skipped), or this method
                # alone cannot fit here (it has no rows at this origin; the others keep theirs).
                continue
        if "kortum" not in results:
            continue
        actual = history.progress_at(targets[usable])
        points = results["kortum"].points
        for method in METHODS:
            res = results.get(method)
            if res is None and method not in BASELINES:
                continue
            for k, h in enumerate(horizons[usable]):
                point = res.median[k] if res is not None else points[method][k]
                low = res.low[k] if res is not None else np.nan
                high = res.high[k] if res is not None else np.nan
                rows["origin"].append(float(origin))
                rows["horizon"].append(float(h))
                rows["method"].append(method)
                rows["forecast"].append(float(point))
                rows["low"].append(float(low))
                rows["high"].append(float(high))
                rows["actual"].append(float(actual[k]))
                rows["error"].append(float(point - actual[k]))
                rows["covered"].append(float(low <= actual[k] <= high) if res is not None
                                       else np.nan)
    require(len(rows["origin"]) > 0, "origins: no origin has at least 4 wins before it and a "
                                     "horizon inside the history")
    return Backtest(rows=rows, summary=summarise(rows), level=level)


def summarise(rows: dict) -> dict:
    """Per (method, horizon): mean absolute error, coverage and count."""
    method = np.asarray(rows["method"])
    horizon = np.asarray(rows["horizon"])
    error = np.abs(np.asarray(rows["error"]))
    covered = np.asarray(rows["covered"], dtype=float)
    out = {"method": [], "horizon": [], "mae": [], "coverage": [], "n": []}
    for m in METHODS:
        for h in np.unique(horizon):
            sel = (method == m) & (horizon == h)
            if not sel.any():
                continue
            out["method"].append(m)
            out["horizon"].append(float(h))
            out["mae"].append(float(error[sel].mean()))
            cov = covered[sel]
            out["coverage"].append(float(np.mean(cov)) if np.isfinite(cov).all() else np.nan)
            out["n"].append(int(sel.sum()))
    return out


def summary_table(summary: dict, horizon_label=lambda h: f"{h:g}") -> str:
    """The summary as a text table: one row per horizon, MAE (coverage) per method."""
    methods = [m for m in METHODS if m in summary["method"]]
    horizons = sorted(set(summary["horizon"]))
    head = f"{'horizon':>10} " + " ".join(f"{m:>18}" for m in methods) + f" {'n':>5}"
    lines = [head]
    for h in horizons:
        cells, n = [], 0
        for m in methods:
            k = next(i for i, (mm, hh) in enumerate(zip(summary["method"], summary["horizon"]))
                     if mm == m and hh == h)
            cov = summary["coverage"][k]
            mae = summary["mae"][k]  # infinite: some forecast of the method was unbounded
            text = (f"{mae:.4f}" if np.isfinite(mae) else "unbounded") + (
                "" if np.isnan(cov) else f" ({cov:.0%})")
            cells.append(f"{text:>18}")
            n = max(n, summary["n"][k])
        lines.append(f"{horizon_label(h):>10} " + " ".join(cells) + f" {n:>5}")
    short = sorted({f"{m} ({c} of {max(summary['n'])})" for m, c in
                    zip(summary["method"], summary["n"]) if c < max(summary["n"])})
    if short:
        lines.append("fewer origins scored (the method could not fit at the others): "
                     + ", ".join(short))
    return "\n".join(lines)
