"""``simsearch records fit|forecast|backtest HISTORY ...``: the command line of the records
subpackage (parses, calls the library, prints)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import numpy as np

from ..errors import SimsearchError, require
from ..io.output import check_writable, manifest, write_with_manifest
from ..io.tables import csv_text
from ..records.backtest import (CALENDAR_HORIZONS, EFFORT_FACTORS, auto_origins, run_backtest,
                                summary_table)
from ..records.forecasts import DEFAULT_METHOD, METHODS, default_growth, forecast, forecast_json
from ..records.forecasts import model_summary, pandey_test
from ..records.history import read_history
from ..records.models import GROWTHS, fit_kortum
from ..records.pool import fit_pool, pool_summary


def _history_arguments(parser) -> None:
    parser.add_argument("history", help="CSV with one row per win")
    parser.add_argument("--time", required=True, metavar="NAME",
                        help="time column: ISO dates or numbers (cumulative effort, attempts)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--record", metavar="NAME", help="column of the record after each win")
    what.add_argument("--gain", metavar="NAME", help="column of the size of each win")
    parser.add_argument("--lower-is-better", action="store_true",
                        help="the record improves downwards (e.g. minutes to train)")
    parser.add_argument("--effort", metavar="NAME",
                        help="effort spent per win, cumulated into the time axis")
    parser.add_argument("--where", action="append", metavar="COL=VALUE",
                        help="keep only rows with COL equal to VALUE (repeatable)")
    parser.add_argument("--growth", choices=GROWTHS, default=None,
                        help="effort growth along the time axis (default: exponential for "
                             "dates, power when the axis is effort)")
    parser.add_argument("--until", metavar="TIME",
                        help="end of observation, at or after the last row (default: the last "
                             "row's time, whether or not it improved the record)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        # argparse shows an ArgumentTypeError's message; any other error as "invalid
        # _level value", without the allowed range.
        raise argparse.ArgumentTypeError(f"level: must be in (0, 1) (got {text!r})")
    return value


def _count(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value
    return parse


def add_parser(subparsers) -> None:
    """Register ``records`` and its three subcommands."""
    records = subparsers.add_parser(
        "records", help="fit, forecast and backtest real histories of research wins",
        description="Histories of wins (one row per win): Kortum's record model by exact "
                    "likelihood, forecasts beside trend baselines, rolling-origin backtests.")
    sub = records.add_subparsers(dest="records_command", metavar="ACTION", required=True,
                                 parser_class=type(records))
    fit = sub.add_parser("fit", help="fit the record model; r, halving time, Pandey's test")
    _history_arguments(fit)
    fit.add_argument("--level", type=_level, default=0.9, help="interval level (default 0.9)")
    fit.set_defaults(run=run)

    fc = sub.add_parser("forecast", help="forecast the record at future times")
    _history_arguments(fc)
    fc.add_argument("--at", required=True, metavar="T1,T2,...",
                    help="future times (ISO dates on date axes)")
    fc.add_argument("--level", type=_level, default=0.8, help="interval level (default 0.8)")
    fc.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD,
                    help=f"forecast method (default {DEFAULT_METHOD})")
    fc.add_argument("--replicates", type=_count(10), default=1000,
                    help="simulated paths of the model (default 1000)")
    fc.add_argument("--seed", type=_count(0), default=0, help="simulation seed (default 0)")
    fc.set_defaults(run=run)

    bt = sub.add_parser("backtest", help="rolling-origin backtest of every method")
    _history_arguments(bt)
    bt.add_argument("--origins", default="auto:12", metavar="T1,T2,...|auto:N",
                    help="forecast origins, or auto:N evenly spaced ones (default auto:12)")
    bt.add_argument("--horizons", default=None, metavar="H1,H2,...",
                    help="horizons on the time axis, or factors of the origin's effort "
                         "written x1.5 (default: 0.25,0.5,1 years on date axes, "
                         "x1.25,x1.5,x2 on cumulative-effort axes)")
    bt.add_argument("--level", type=_level, default=0.8, help="interval level (default 0.8)")
    bt.add_argument("--replicates", type=_count(10), default=1000,
                    help="simulated paths of the model per origin (default 1000)")
    bt.add_argument("--seed", type=_count(0), default=0, help="simulation seed (default 0)")
    bt.add_argument("--out", default=None, help="tidy CSV of every forecast (with a manifest)")
    bt.add_argument("--overwrite", action="store_true")
    bt.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    bt.set_defaults(run=run)


def _read(args):
    return read_history(args.history, time=args.time, record=args.record, gain=args.gain,
                        lower_is_better=args.lower_is_better, effort=args.effort,
                        where=args.where, until=args.until)


def _config(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("run",)}


def run(args) -> int:
    """Run ``simsearch records ACTION``; returns the exit status."""
    if args.records_command == "backtest" and args.out is not None:
        check_writable(args.out, "out", overwrite=args.overwrite, with_manifest=True)
    # Defence in depth: a numerical warning the code does not foresee (real histories are
    # varied) reaches stderr as one line per place, not Python's two-line warning per call.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            history = _read(args)
            if not args.json:
                for text in history.warnings:
                    print(f"simsearch records: warning: {text}", file=sys.stderr)
            return {"fit": _fit, "forecast": _forecast, "backtest": _backtest}[
                args.records_command](args, history)
        finally:
            _print_caught(caught)


def _print_caught(caught) -> None:
    seen = set()
    for item in caught:
        where = f"{os.path.basename(item.filename)}:{item.lineno}"
        key = (item.category, str(item.message), where)
        if key not in seen:
            seen.add(key)
            text = " ".join(str(item.message).split())
            print(f"simsearch records: warning: numerical: {item.category.__name__}: {text} "
                  f"({where})", file=sys.stderr)


def _fit(args, history) -> int:
    growth = args.growth or default_growth(history)
    fits = {name: fit_kortum(history.time, history.progress, growth=growth,
                             observed_until=history.end, depleting=name == "depleting")
            for name in ("kortum", "depleting")}
    pandey = pandey_test(history, args.level)
    out = {"models": {name: model_summary(history, f, args.level) for name, f in fits.items()},
           "pandey": pandey, "wins": history.wins,
           "observed_until": history.format_time(history.end),
           "warnings": list(history.warnings)}
    try:
        out["models"]["pool"] = pool_summary(history, fit_pool(
            history.time, history.progress, growth=growth, observed_until=history.end),
            args.level)
    except SimsearchError as exc:  # the record models stand without it
        out["models"]["pool"] = {"name": "pool", "error": str(exc)}
    lr = 2 * (fits["depleting"].log_likelihood - fits["kortum"].log_likelihood)
    from scipy import stats
    out["kortum_vs_depleting"] = {"likelihood_ratio": lr,
                                  "p_value": float(stats.chi2.sf(max(lr, 0.0), 1))}
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False, default=str))
        return 0
    print(f"{history.wins} wins; growth: {growth}; intervals at {args.level:.0%}")
    _print_observation_end(history)
    for name, summary in out["models"].items():
        if name == "pool":
            _print_pool(summary)
            continue
        print(f"{name} model (log-likelihood {summary['log_likelihood']:.2f}):")
        for key in [k for k in summary["units"] if k in summary]:
            item = summary[key]
            unit = summary["units"][key]
            print(f"  {key:>14} = {item['estimate']:.4g}  [{item['low']:.4g}, "
                  f"{item['high']:.4g}]  {unit}")
        print(f"  jones: {summary['jones']['note']}")
    p = out["kortum_vs_depleting"]
    print(f"kappa = 0 (pure Kortum) against the depleting tail: LR = {p['likelihood_ratio']:.2f},"
          f" p = {p['p_value']:.3g}")
    if pandey["slope"] is None:
        print(f"Pandey's test: {pandey['verdict']}")
    else:
        print(f"Pandey's test (log effort per unit progress against progress; effort = "
              f"{pandey['effort_measure']}): slope {pandey['slope']:.4g} [{pandey['low']:.4g}, "
              f"{pandey['high']:.4g}]: exponentially more effort per unit progress "
              f"{pandey['verdict']}")
    return 0


def _print_pool(summary: dict) -> None:
    if "error" in summary:
        print(f"pool model: not fitted ({summary['error']})")
        return
    print(f"pool model (log-likelihood {summary['log_likelihood']:.2f}):")
    for key in ("alpha", "ideas"):
        item = summary[key]
        high = "inf" if item["high"] is None else f"{item['high']:.4g}"
        print(f"  {key:>14} = {item['estimate']:.4g}  [{item['low']:.4g}, {high}]  "
              f"{summary['units'][key]}")
    print(f"  {'solved share':>14} = {summary['solved_share']:.3g}  of the pool, at the fit")


def _print_observation_end(history) -> None:
    if history.observed_until is not None:
        print(f"observed until {history.format_time(history.end)}, after the last win at "
              f"{history.format_time(history.time[-1])}: no record in between, which the "
              f"models count")


def _times(history, text: str, field: str):
    parts = [p.strip() for p in text.split(",") if p.strip()]
    require(bool(parts), f"{field}: give at least one time")
    return parts, np.array([history.parse_time(p, field) for p in parts])


def _forecast(args, history) -> int:
    texts, times = _times(history, args.at, "at")
    result = forecast(history, times, level=args.level, replicates=args.replicates,
                      seed=args.seed, method=args.method, growth=args.growth)
    doc = forecast_json(history, texts, result)
    if args.json:
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    what = "record" if history.kind == "record" else "cumulative gain"
    _print_observation_end(history)
    print(f"{what} forecast ({result.method}, {args.level:.0%} interval):")
    print(f"{'at':>12} {'median':>12} {'low':>12} {'high':>12} "
          + " ".join(f"{b:>12}" for b in doc["baselines"]))
    flip = history.kind == "record" and history.lower_is_better
    shown = []
    for k, text in enumerate(texts):
        # Formatted from progress, not from the JSON floats: beyond float range a record is
        # printed as e^(its natural log), an infinite interval end as "unbounded".
        low, high = (result.high[k], result.low[k]) if flip else (result.low[k], result.high[k])
        cells = [history.format_value(v) for v in (result.median[k], low, high)]
        cells += [history.format_value(result.points[b][k]) for b in doc["baselines"]]
        shown.extend(cells)
        print(f"{text:>12} " + " ".join(f"{c:>12}" for c in cells))
    if any(c.startswith("e^") for c in shown):
        print("e^X: a record beyond float range, given as e to the power of its natural log")
    if "unbounded" in shown:
        print("unbounded: that share of the simulated paths reaches infinite progress (the "
              "fitted tail thickens, kappa < 0)")
    return 0


def _backtest(args, history) -> int:
    growth = args.growth or default_growth(history)
    if args.horizons is None:
        # On a cumulative-effort axis (power growth) the equivalent of fixed calendar horizons
        # is a fixed factor of effort; additive horizons have no scale-free default there.
        require(history.calendar or growth == "power",
                "horizons: give --horizons on a numeric time axis with exponential growth")
        multiplicative = not history.calendar
        horizons = np.array(EFFORT_FACTORS if multiplicative else CALENDAR_HORIZONS)
    else:
        parts = [p.strip() for p in args.horizons.split(",") if p.strip()]
        require(bool(parts), "horizons: give at least one horizon")
        factors = [p.lower().startswith("x") for p in parts]
        require(all(factors) or not any(factors),
                "horizons: give all as factors (x1.5) or none (got a mix)")
        multiplicative = all(factors)
        horizons = np.array([_positive(p[1:] if multiplicative else p) for p in parts])
        # Checked here, before the origins are placed on a log scale of the axis.
        require(not multiplicative or bool(np.all(horizons > 1)),
                "horizons: factors of the origin's effort must be > 1")
        require(not multiplicative or history.time[0] > 0,
                f"horizons: factors ({parts[0]}) need a cumulative-effort axis (times > 0); "
                f"give horizons in the axis's units" + (" (years on date axes: 0.25 is 3 "
                                                        "months)" if history.calendar else ""))
    if args.origins.startswith("auto:"):
        try:
            count = int(args.origins[5:])
        except ValueError:
            count = 0
        require(count >= 1, f"origins: auto:N needs an integer N >= 1 (got {args.origins!r})")
        origins = auto_origins(history, count, horizons.max(), multiplicative)
    else:
        origins = _times(history, args.origins, "origins")[1]
    result = run_backtest(history, origins, horizons, level=args.level,
                          replicates=args.replicates, seed=args.seed, growth=args.growth,
                          progress=not args.no_progress, multiplicative=multiplicative)
    rows = dict(result.rows)
    rows["origin"] = [history.format_time(t) for t in rows["origin"]]
    if args.out is not None:
        write_with_manifest(args.out, csv_text(rows),
                            manifest("records backtest", _config(args), args.seed,
                                     summary=result.summary))
    if args.json:
        print(json.dumps(_backtest_json(result.summary, args.level), indent=2,
                         allow_nan=False))
        return 0
    unit = "log record" if history.kind == "record" else "cumulative gain"
    scored = len(set(result.rows["origin"]))
    origins_text = (f"{len(origins)} origins" if scored == len(origins) else
                    f"{scored} of {len(origins)} origins scored (the others have fewer than 4 "
                    f"wins before them or no horizon inside the history)")
    print(f"mean absolute error in {unit} ({args.level:.0%} interval coverage), {origins_text}")
    if multiplicative:
        label = (lambda h: f"x{h:g}")
    else:
        label = (lambda h: f"{h * 12:g} mo") if history.calendar else (lambda h: f"{h:g}")
    print(summary_table(result.summary, label))
    return 0


def _backtest_json(summary: dict, level: float) -> dict:
    """The ``backtest --json`` document: JSON has no NaN or inf, so a NaN coverage (a method
    without an interval) and an infinite mean error (a method whose forecast was unbounded at
    some origin: the depleting model with kappa < 0) are null, the latter with a warning."""
    warnings = [f"{m} at horizon {h:g}: mean absolute error unbounded (some forecasts were "
                f"unbounded: the fitted tail thickens, kappa < 0); given as null"
                for m, h, mae in zip(summary["method"], summary["horizon"], summary["mae"])
                if not np.isfinite(mae)]
    clean = {k: [None if isinstance(v, float) and not np.isfinite(v) else v for v in column]
             for k, column in summary.items()}
    return {"summary": clean, "level": level, "warnings": warnings}


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    require(value > 0, f"horizons: must be numbers > 0 (got {text!r})")
    return value
