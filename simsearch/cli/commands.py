"""Command-line interface: ``simsearch SUBCOMMAND ...`` (also ``python -m simsearch``).

Input errors print one line, ``simsearch: error: <what is wrong and what is allowed>``, and exit
with status 2 before any output file is created.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
import warnings

from ..runtime import apply_thread_policy

apply_thread_policy()  # before numpy starts OpenBLAS and numba its OpenMP pool

import numpy as np

from .. import __version__
from ..errors import SimsearchError, Terminated, require
from .first_run import announce_compiling
from ..kernels.first_success import first_success_counts
from ..io.output import (DIRECTORY_TABLE_FORMATS, check_distinct, check_output_directory,
                     check_table_format, check_writable, csv_text, manifest,
                     prepare_output_directory, table_data, table_format, write_directory,
                     write_with_manifest)
from ..sampling.passk import parse_k_grid, simulate_pass_at_k
from ..seeding import CHUNK_SIZE
from ..distributions.spec import input_files_entry, parse_distribution
from . import records as records_command


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        if not (math.isfinite(value) and value == int(value) and value >= low):
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return int(value)
    return parse


def _set_threads(threads: int | None) -> int:
    import numba

    if threads is None:
        return numba.get_num_threads()
    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= threads <= limit:
        raise SimsearchError(f"threads: must be an integer in [1, {limit}] (got {threads})")
    numba.set_num_threads(threads)
    return threads


def _run_passk(args) -> int:
    dist = parse_distribution(args.dist)
    k_grid = parse_k_grid(args.k)
    outputs = {"out": args.out, "per-problem": args.per_problem}
    for field, path in outputs.items():
        if path is not None:
            check_writable(path, field, overwrite=args.overwrite, with_manifest=True)
    check_distinct(outputs)
    if args.per_problem is not None:
        check_table_format(args.per_problem, "per-problem")
    threads = _set_threads(args.threads)
    announce_compiling(first_success_counts)
    result = simulate_pass_at_k(dist, k_grid, args.problems, replicates=args.replicates,
                                seed=args.seed, per_problem=args.per_problem is not None,
                                progress=not args.no_progress)
    table = csv_text(result.table())
    config = {"dist": dist.spec, "problems": args.problems, "k": [int(k) for k in k_grid],
              "replicates": args.replicates, "seed": args.seed}
    meta = manifest("passk", config, result.seed_entropy, chunk_size=CHUNK_SIZE,
                    threads=threads, tail_exponent=dist.tail_exponent,
                    **input_files_entry(dist))
    if args.per_problem is not None:
        write_with_manifest(args.per_problem,
                            table_data(args.per_problem, result.per_problem_table()),
                            {**meta, "per_problem_format": table_format(args.per_problem)})
    if args.out is None:
        sys.stdout.write(table)
    else:
        write_with_manifest(args.out, table, meta)
        print(f"wrote {args.out} and {args.out}.json", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _quiet_numerics():
    """Fits try parameters where logs and ratios overflow or divide by zero and then move on;
    what goes wrong for good is a warning in the report, not a RuntimeWarning on the terminal."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _check_identifiable(successes, attempts) -> None:
    """Refuse data from which no model of p can be identified (one line, exit 2)."""
    if np.all(attempts == 1):
        raise SimsearchError("attempts: every problem has a single attempt; pass@k beyond k = 1 "
                             "and the exponent are not identified (sample more attempts)")
    if np.all((successes == 0) | (successes == attempts)):
        raise SimsearchError("successes: every problem has either no success or all successes; "
                             "the distribution of p between 0 and 1 is not identified")


def _finite_or_none(value):
    """JSON has no inf or NaN: they become null (the report's warnings say why)."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


#: Bootstrap replicates of ``simsearch fit`` without --bootstrap (about a second on 128
#: problems), and with the quadrature families (--dist all, --fit-scale), which cost more.
AUTO_BOOTSTRAP, AUTO_BOOTSTRAP_SLOW = 100, 20


def _fit_report(args, successes, attempts) -> dict:
    from ..fitting.estimators import CountTable, DistributionalEstimator, RegressionEstimator
    from ..fitting.bootstrap import (bootstrap_fits, check_replicates, percentile_interval,
                                    span_alternatives)
    from ..fitting.methods import attempts_for, get_method

    # Without --predict: 10x and 100x the largest number of attempts (the usual question).
    predict = (parse_k_grid(args.predict) if args.predict
               else np.array([10, 100], dtype=np.int64) * int(attempts.max()))
    if args.target is not None and not 0 < args.target < 1:
        raise SimsearchError(f"target: must be in (0, 1) (got {args.target})")
    check_replicates(args.bootstrap)
    table = CountTable.from_counts(successes, attempts)
    _check_identifiable(successes, attempts)
    warnings: list[str] = []
    solved = int(np.sum(successes > 0))
    if solved < 10:
        warnings.append(f"only {solved} problems have any success: the exponent and every "
                        "extrapolation rest on them; treat the numbers as rough")

    # The prediction: the chosen method (the default is what the backtests favour).
    method = get_method(args.method)
    fitted = method.fit(table)
    warnings += fitted.warnings
    boots = bootstrap_fits(method, table, args.bootstrap, seed=args.seed) if args.bootstrap else []
    good = [f for f in boots if f is not None]
    if boots and len(good) < 0.9 * len(boots):
        warnings.append(f"{method.name}: {len(boots) - len(good)} of {len(boots)} bootstrap "
                        "replicates could not be fitted; intervals use the rest")

    def interval(values_of):
        if not boots:
            return None
        draws = np.array([values_of(f) if f is not None else np.nan for f in boots])
        lo, hi = percentile_interval(draws, 0.95)
        return [float(lo[0]), float(hi[0])] if np.isfinite(lo[0]) else None

    # What the distribution of p explains: the per-problem law and the unsolvable fraction.
    dist_est = DistributionalEstimator(family=args.dist, fit_scale=args.fit_scale,
                                       bootstrap=args.bootstrap, seed=args.seed,
                                       workers=args.workers).fit(successes, attempts)
    best = dist_est.distribution_
    if dist_est.best_.at_bound:
        warnings.append(f"distribution: the {dist_est.best_.family} fit has a parameter on "
                        "its bound; the data do not identify it, so its exponent is not "
                        "meaningful")
    gof = dist_est.goodness_of_fit()
    misfit = gof.get("chi_square_p_value", 1.0) < 1e-3
    if misfit:
        warnings.append(f"misfit: the {dist_est.best_.family} distribution does not reproduce "
                        f"the histogram of successes (chi-square p = "
                        f"{gof['chi_square_p_value']:.2g}); its exponent and law are suspect")
    zi_beta = get_method("zi-beta")
    unsolvable = {"model": "zi-beta", "estimate": zi_beta.fit(table).unsolvable_fraction,
                  "ci": None}
    if args.bootstrap:
        draws = [np.nan if f is None else f.unsolvable_fraction
                 for f in bootstrap_fits(zi_beta, table, args.bootstrap, seed=args.seed)]
        lo, hi = percentile_interval(np.array(draws), 0.95)
        unsolvable["ci"] = None if np.isnan(lo[0]) else [float(lo[0]), float(hi[0])]

    # The plain regression is a side estimate: when it cannot be fitted the report goes on.
    regression = None
    try:
        reg = RegressionEstimator(bootstrap=args.bootstrap, seed=args.seed).fit(successes,
                                                                              attempts)
        regression = {"exponent": reg.exponent_,
                      "exponent_ci": None if reg.exponent_ci_ is None
                      else [float(v) for v in reg.exponent_ci_],
                      "prefactor": reg.prefactor_, "r2": reg.r2_,
                      "k_range": [int(reg.k_.min()), int(reg.k_.max())],
                      "k_points": int(reg.k_.size)}
    except SimsearchError as exc:
        warnings.append(f"regression not reported: {exc}")

    report = {
        "problems": int(successes.size),
        "attempts": {"min": int(attempts.min()), "max": int(attempts.max())},
        "zero_success_problems": int(np.sum(successes == 0)),
        "method": method.name,
        "prediction": {"method": method.name, "summary": method.summary,
                       "exponent": fitted.exponent, "parameters": fitted.parameters,
                       "unsolvable_fraction": fitted.unsolvable_fraction},
        "exponent": dist_est.exponent_,
        "exponent_ci": (None if dist_est.exponent_ci_ is None
                        else [float(v) for v in dist_est.exponent_ci_]),
        "confidence": 0.95,
        "distribution": {"name": best.name, "spec": best.spec, "parameters": best.parameters,
                         "role": "per-problem law of p (not the prediction method)"},
        "log_likelihood": dist_est.log_likelihood_,
        "aic": dist_est.aic_,
        "families": {name: {"spec": f.distribution.spec, "exponent": f.exponent,
                            "log_likelihood": f.log_likelihood, "aic": f.aic,
                            "converged": f.converged, "at_bound": f.at_bound}
                     for name, f in dist_est.fits_.items()},
        "unsolvable_fraction": unsolvable,
        "regression": regression,
        "predicted_pass_at_k": {str(int(k)): float(v) for k, v in
                                zip(predict, fitted.predict_pass_at_k(predict))},
        "goodness_of_fit": gof,
        "misfit": misfit,
    }
    if fitted.parameters.get("floor", 0.0) > 0 and predict.size:
        k_far = int(predict[-1])
        line = get_method("line").fit(table).predict_pass_at_k(k_far)[0]
        warnings.append(f"floor: pass@k is predicted to saturate at "
                        f"{1 - fitted.unsolvable_fraction:.3g}; attempts up to "
                        f"{int(attempts.max())} cannot tell unsolvable problems from very hard "
                        f"ones, and without the floor pass@{k_far} would be {line:.3g}")
    if args.bootstrap and predict.size:
        # Widened to span the predictions of models the data cannot rule out (a floor's line).
        cis = {}
        for k in predict:
            ci = interval(lambda f, k=k: f.predict_pass_at_k(k)[0])
            cis[str(int(k))] = (None if ci is None else
                                [float(v[0]) for v in span_alternatives(
                                    np.array(ci)[:, None], fitted, [k])])
        report["predicted_pass_at_k_ci"] = cis
    if args.target is not None:
        needed = attempts_for(fitted, args.target)
        if not math.isfinite(needed):
            warnings.append(f"target: the {method.name} prediction does not reach pass@k = "
                            f"{args.target} within 1e15 attempts; attempts reported as null")
        attempts_ci = interval(lambda f: attempts_for(f, args.target))
        if attempts_ci is not None:  # spans the alternatives' attempts too, as pass@k does
            for alternative in fitted.alternatives:
                other = attempts_for(alternative, args.target)
                attempts_ci = [min(attempts_ci[0], other), max(attempts_ci[1], other)]
        report["target"] = {"pass_at_k": args.target, "attempts": needed,
                            "attempts_ci": attempts_ci}
    report["read_exponent"] = (
        f"prediction.exponent ({fitted.exponent:.4g}, {method.name}) is the exponent of the "
        "pass@k extrapolation; 'exponent' is the left tail of the fitted law of p, which "
        "explains the counts but does not predict")
    report["warnings"] = warnings
    return report


def _print_fit(report: dict) -> None:
    def interval(values):
        return f"  95% CI [{values[0]:.4g}, {values[1]:.4g}]" if values else ""

    def number(value):
        return "none" if value is None else f"{value:.4g}"

    r = report
    print(f"problems {r['problems']}, attempts {r['attempts']['min']}..{r['attempts']['max']}, "
          f"{r['zero_success_problems']} with no success")
    pred = r["prediction"]
    print(f"prediction method: {pred['method']} ({pred['summary']})")
    for k, v in r["predicted_pass_at_k"].items():
        ci = (r.get("predicted_pass_at_k_ci") or {}).get(k)
        print(f"predicted pass@{k} = {v:.4g}{interval(ci)}")
    if "target" in r:
        t = r["target"]
        print(f"attempts for pass@k >= {t['pass_at_k']}: {number(t['attempts'])}"
              f"{interval(t['attempts_ci'])}")
    print("distribution of p (the per-problem law; explains, does not predict):")
    for name, f in r["families"].items():
        mark = "*" if f["spec"] == r["distribution"]["spec"] else " "
        print(f"{mark} {name:14s} exponent {number(f['exponent'])}   AIC {f['aic']:.6g}   "
              f"{f['spec']}")
    print(f"distributional exponent {number(r['exponent'])}{interval(r['exponent_ci'])}")
    u = r["unsolvable_fraction"]
    print(f"unsolvable fraction ({u['model']}) {number(u['estimate'])}{interval(u['ci'])}")
    reg = r["regression"]
    if reg is not None:
        print(f"regression exponent     {reg['exponent']:.4g}{interval(reg['exponent_ci'])}   "
              f"(log-log fit of pass@k, k = {reg['k_range'][0]}..{reg['k_range'][1]}, "
              f"R^2 {reg['r2']:.4f})")
    gof = r["goodness_of_fit"]
    line = f"fit: max |observed - fitted pass@k| = {gof['max_abs_pass_at_k_gap']:.3g}"
    if "chi_square" in gof:
        line += (f"; chi-square {gof['chi_square']:.4g} on {gof['chi_square_dof']} dof, "
                 f"p = {gof['chi_square_p_value']:.3g}")
    print(line)
    print(f"read: {r['read_exponent']}")
    for warning in r["warnings"]:
        print(f"warning: {warning}")


def _print_pooled(pooled: dict) -> None:
    print(f"== pooled ({pooled['model']}); unsolvable fraction "
          f"{pooled['unsolvable_fraction']:.3g}")
    for name, entry in pooled["models"].items():
        cis = entry.get("predicted_pass_at_k_ci", {})
        values = "  ".join(f"pass@{k} = {v:.4g}" + (f" [{cis[k][0]:.4g}, {cis[k][1]:.4g}]"
                                                      if k in cis else "")
                           for k, v in entry["predicted_pass_at_k"].items())
        print(f"{name}: {values}")
    print(f"warning: {pooled['warning']}")


def _run_fit(args) -> int:
    from ..fitting.count_files import read_count_groups, read_counts
    from ..fitting.estimators import FIT_FAMILIES
    from ..fitting.methods import DEFAULT_METHOD, get_method

    # Names are checked here, not by the parser, which does not import the fitting modules.
    args.method = get_method(args.method or DEFAULT_METHOD).name
    if args.dist not in (*FIT_FAMILIES, "all"):
        raise SimsearchError(f"dist: unknown family {args.dist!r}; expected one of "
                             f"{', '.join(FIT_FAMILIES)}, all")
    auto_bootstrap = args.bootstrap is None
    if auto_bootstrap:  # sized to take seconds: the quadrature families cost more
        args.bootstrap = AUTO_BOOTSTRAP_SLOW if args.dist == "all" or args.fit_scale \
            else AUTO_BOOTSTRAP
    config = {"counts": str(args.counts), "method": args.method, "dist": args.dist,
              "fit_scale": args.fit_scale, "bootstrap": args.bootstrap, "predict": args.predict,
              "target": args.target, "seed": args.seed, "by": args.by, "pool": args.pool}
    if args.pool and not args.by:
        raise SimsearchError("pool: needs --by COLUMN (the groups, e.g. models, to fit jointly)")
    if args.by:
        groups = read_count_groups(args.counts, args.by, args.successes_column,
                                   args.attempts_column)
        with _quiet_numerics():
            # Each group's object is exactly its separate single fit (same seed, same defaults).
            report = {"by": args.by, "groups": {name: _fit_report(args, c, n)
                                                for name, (c, n) in groups.items()}}
            if args.pool:
                from ..fitting.pooled import pooled_report

                # A joint refit costs about a second: the automatic interval uses fewer.
                report["pooled"] = pooled_report(
                    groups, report["groups"],
                    AUTO_BOOTSTRAP_SLOW if auto_bootstrap else args.bootstrap, seed=args.seed)
    else:
        successes, attempts = read_counts(args.counts, args.successes_column,
                                          args.attempts_column)
        _warn_pooled(args, "fit", "pass --by {column} to fit each group apart")
        with _quiet_numerics():
            report = _fit_report(args, successes, attempts)
    report["manifest"] = manifest("fit", config, args.seed)
    if args.json:
        print(json.dumps(_finite_or_none(report), indent=2, allow_nan=False))
    elif args.by:
        for name, group in report["groups"].items():
            print(f"== {args.by} = {name}")
            _print_fit(group)
        if "pooled" in report:
            _print_pooled(report["pooled"])
    else:
        _print_fit(report)
    return 0


def _warn_pooled(args, command: str, advice: str) -> None:
    """Say on stderr when a counts CSV holds several groups (models) that will be pooled."""
    from pathlib import Path

    from ..fitting.count_files import label_columns

    if Path(args.counts).suffix.lower() == ".npy":
        return
    groups = label_columns(args.counts, (args.successes_column, args.attempts_column))
    if groups:
        column, count = next(iter(groups.items()))
        print(f"simsearch {command}: warning: column {column!r} has {count} distinct values; "
              f"all rows are pooled into one population ({advice.format(column=column)})",
              file=sys.stderr)


def _run_backtest(args) -> int:
    from pathlib import Path

    from ..fitting.count_files import read_count_groups, read_counts, read_outcomes_npy
    from ..fitting.backtest import format_summary, run_backtest
    from ..fitting.bootstrap import check_replicates
    from ..fitting.methods import parse_methods

    methods = parse_methods(args.methods)
    check_replicates(args.bootstrap)
    if args.pool and not args.by:
        raise SimsearchError("pool: needs --by COLUMN (the groups, e.g. models, to fit jointly)")
    if not 0 < args.confidence < 1:
        raise SimsearchError(f"confidence: must be in (0, 1) (got {args.confidence})")
    if args.out is not None:
        check_writable(args.out, "out", with_manifest=True)
    if Path(args.counts).suffix.lower() == ".npy":
        groups = {"all": read_outcomes_npy(args.counts)}
    elif args.by:
        groups = read_count_groups(args.counts, args.by, args.successes_column,
                                   args.attempts_column)
    else:
        groups = {"all": read_counts(args.counts, args.successes_column, args.attempts_column)}
        _warn_pooled(args, "backtest", "pass --by {column} to backtest each group apart")
    with _quiet_numerics():
        result = run_backtest(groups, args.n_from, args.n_to, methods, seeds=args.seeds,
                              seed=args.seed, bootstrap=args.bootstrap,
                              confidence=args.confidence, progress=not args.no_progress)
        if args.pool:
            from ..fitting.pooled import add_pooled_backtest

            result = add_pooled_backtest(result, groups, seeds=args.seeds, seed=args.seed)
    sys.stdout.write(format_summary(result))
    if args.out is not None:
        meta = manifest("backtest", {
            "counts": str(args.counts), "from": args.n_from, "to": args.n_to,
            "methods": methods, "seeds": args.seeds, "by": args.by, "pool": args.pool,
            "bootstrap": args.bootstrap, "confidence": args.confidence, "seed": args.seed},
            args.seed, summary=_finite_or_none(result.summary))
        write_with_manifest(args.out, csv_text(result.rows), meta)
        print(f"wrote {args.out} and {args.out}.json", file=sys.stderr)
    return 0


def _save_tornado(out, figures) -> None:
    """figures/tornado.png and .pdf from the sweep's sensitivity.csv (checked first)."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    from ..io.output import atomic_path, read_manifest
    from ..sweep import tornado_figure

    read_manifest(out)
    with open(out / "sensitivity.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = {name: [row[name] for row in rows] for name in (rows[0] if rows else [])}
    if not rows:
        print("simsearch sweep: no finished point, no tornado figure", file=sys.stderr)
        return
    figures.mkdir(parents=True, exist_ok=True)
    fig = tornado_figure(columns, row_key="lab" if "lab" in columns else None)
    for suffix in ("png", "pdf"):
        with atomic_path(figures / f"tornado.{suffix}", "figures") as tmp:
            fig.savefig(tmp, format=suffix, dpi=150,
                        metadata={"Software": None} if suffix == "png" else
                        {"CreationDate": None, "Producer": None})
    print(f"wrote {figures / 'tornado.png'} and .pdf", file=sys.stderr)


def _run_sweep(args) -> int:
    from ..sweep import SweepAborted, load_sweep, run_sweep

    plan = load_sweep(args.sweep, **({} if args.max_points is None
                                     else {"max_points": args.max_points}))
    if args.figures is not None:
        require(plan.random, "figures: the tornado figure needs a random design ([random]); "
                             "a grid has no sensitivity to draw")
        check_output_directory(args.figures, "figures", parents=True)
    try:
        summary = run_sweep(plan, args.out, workers=args.workers, scheduler=args.scheduler,
                            resume=args.resume, progress=not args.no_progress)
    except SweepAborted as exc:
        print(f"simsearch sweep: {exc}", file=sys.stderr)
        return 1
    if summary.points and summary.failed == summary.points:
        print(f"simsearch sweep: every one of the {summary.points} points failed; their "
              f"messages are in {summary.out / 'manifest.json'}", file=sys.stderr)
        return 1
    print(f"{summary.done} of {summary.points} points done, {summary.failed} failed "
          f"({summary.ran} run now); results in {summary.out / 'results.csv'}",
          file=sys.stderr)
    if args.figures is not None:
        from pathlib import Path

        _save_tornado(summary.out, Path(args.figures))
    return 0


def _print_labs_summary(result) -> None:
    per = result.periods
    print(f"{result.replicates} replicates, {result.config.periods} periods; "
          "mean per lab at the end:", file=sys.stderr)
    for j, name in enumerate(result.lab_names):
        wins = per["wins"][:, j, -1].mean()
        compute = per["cumulative_compute"][:, j, -1].mean()
        log_m = per["log_multiplier"][:, j, -1].mean()
        print(f"  {name:16s} wins {wins:10.4g}   compute {compute:10.4g}   "
              f"log multiplier {log_m:8.4g}", file=sys.stderr)


def _run_labs(args) -> int:
    from ..kernels.labs import simulate_replicates
    from ..labs import LabsInterrupted, load_labs_config, simulate_labs
    from ..labs import ReturnsEstimator, kortum_theory

    config = load_labs_config(args.config)
    out = prepare_output_directory(args.out, overwrite=args.overwrite, parents=True)
    fmt = args.format
    check_table_format(f"summary.{fmt}", "format")  # Parquet without pyarrow: refused now
    if args.estimate and config.periods < 3:
        raise SimsearchError(f"periods: --estimate needs at least 3 periods "
                             f"(config has {config.periods})")
    threads = _set_threads(args.threads)
    announce_compiling(simulate_replicates)
    replicates = args.replicates if args.replicates is not None else config.replicates
    seed = args.seed if args.seed is not None else config.seed
    try:
        result = simulate_labs(config, replicates=replicates, seed=seed,
                               record_wins=not args.no_wins, progress=not args.no_progress)
        interrupted = False
    except LabsInterrupted as exc:
        # SIGTERM reaches the engine as Terminated, which it reports as LabsInterrupted.
        terminated = isinstance(exc.__context__, Terminated)
        if exc.result is None:
            if terminated:
                raise Terminated() from None
            raise
        # Keep what finished: replicates 0..k-1 are exactly a run with replicates = k.
        result, interrupted = exc.result, True
    typed = fmt != "csv"  # binary tables hold NaN where the CSV has a blank cell
    tables = {"summary": result.summary_table(typed=typed),
              "periods": result.periods_table(typed=typed)}
    if not args.no_wins:
        tables["wins"] = result.wins_table(typed=typed)
    tables["doublings"] = result.doublings_table()
    tables["explosion"] = result.explosion_table()
    extra = {"interrupted": True} if interrupted else {}
    if args.estimate and not interrupted:
        estimator = ReturnsEstimator(bootstrap=args.bootstrap, seed=result.seed_entropy)
        estimator.fit(result)
        theory = kortum_theory(config)
        tables["estimates"] = estimator.table(theory, typed=typed)
        extra["estimates"] = {"bootstrap": args.bootstrap,
                              "burn_in_periods": estimator.burn_in_,
                              "dropped_growth_rates": estimator.n_dropped_}
        print(estimator.report(theory))
    canonical = config.as_dict()
    canonical.update(replicates=result.replicates, seed=seed)
    meta = manifest("labs", canonical, result.seed_entropy, threads=threads,
                    config_file=str(args.config), ideas_dropped=int(result.dropped.sum()),
                    format=fmt, **extra)
    # Tables and manifest replaced as one unit; an --overwrite run removes the previous run's
    # tables that this one does not write (wins after --no-wins, estimates, another format's).
    files = {f"{name}.{fmt}": table_data(f"{name}.{fmt}", columns)
             for name, columns in tables.items()}
    write_directory(out, files, meta)
    if interrupted:
        print(f"simsearch labs: {'terminated' if terminated else 'interrupted'}; kept the "
              f"{result.replicates} of {replicates} replicates finished in {out}",
              file=sys.stderr)
        return 143 if terminated else 130
    _print_labs_summary(result)
    print(f"wrote {', '.join(sorted(files))} and manifest.json to {out}", file=sys.stderr)
    return 0


def _run_reproduce(args) -> int:
    from .reproduce import QUICK_FIGURES, run_experiments, select

    if args.only is None:
        names = select(None)
    else:
        requested = [n.strip() for part in args.only for n in part.split(",")]
        if not all(requested):
            raise SimsearchError("only: give experiment names, e.g. --only scaling_law,kortum "
                                 "(got an empty name)")
        names = select(requested)
    # Quick figures never land on the committed full-size ones unless --figures says so.
    figures = args.figures if args.figures is not None else (QUICK_FIGURES if args.quick
                                                             else None)
    if figures is not None:
        figures = check_output_directory(figures, "figures").resolve()
    try:
        done = run_experiments(names, quick=args.quick, figures=figures,
                               progress=not args.no_progress)
    except RuntimeError as exc:
        print(f"simsearch reproduce: {exc}", file=sys.stderr)
        return 1
    for name, seconds, wrote in done:
        print(f"{name:24s} {seconds:6.1f} s   " + "; ".join(w[len("wrote "):] for w in wrote))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="simsearch",
        description="Monte Carlo simulation of research progress: repeated sampling and "
                    "power-law scaling of pass@k, estimates from your own evaluation's "
                    "success counts, sweeps, and the compute cost of research.",
        epilog="Run 'simsearch COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"simsearch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    passk = sub.add_parser(
        "passk", help="simulate aggregate pass@k over many problems",
        description="Simulate repeated sampling: each problem draws p from --dist and one "
                    "geometric first-success time; aggregate pass@k on the --k grid, beside "
                    "the exact expectation.")
    passk.add_argument("--dist", required=True,
                       help='success-probability distribution, e.g. "beta(alpha=0.3, beta=3)"')
    passk.add_argument("--problems", type=_int_at_least(1), default=100_000,
                       help="problems per replicate (default 100000)")
    passk.add_argument("--k", default="1,10,100,1000,10000",
                       help='attempt budgets: "1,10,100" or "logspace:1:1e6:25" '
                            '(default 1,10,100,1000,10000)')
    passk.add_argument("--replicates", type=_int_at_least(1), default=1,
                       help="independent replicates; adds a replicate column (default 1)")
    passk.add_argument("--seed", type=_int_at_least(0), default=None,
                       help="random seed (default: fresh entropy, recorded in the manifest)")
    passk.add_argument("--out", default=None,
                       help="CSV file to write (plus OUT.json manifest); default stdout")
    passk.add_argument("--per-problem", default=None, metavar="PATH",
                       help="also write each problem's p and first-success attempt to PATH "
                            "(plus PATH.json); format by suffix: .npy (one structured array), "
                            ".npz (an array per column), .parquet (needs pyarrow), else CSV")
    passk.add_argument("--overwrite", action="store_true",
                       help="replace existing --out / --per-problem files (default: refuse)")
    passk.add_argument("--threads", type=_int_at_least(1), default=None,
                       help="numba threads (default: all cores); results do not depend on it")
    passk.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    passk.set_defaults(run=_run_passk)

    # The fitting modules (SciPy) are imported by the fit and backtest handlers only, so that
    # `simsearch --help` and passk do not pay for them; names are checked there.
    fit = sub.add_parser(
        "fit", help="predict pass@k and fit the distribution of p from per-problem counts",
        description="Predict pass@k beyond the attempts sampled with --method (default: the "
                    "method the real-data and simulated backtests favour), and fit the "
                    "distribution of per-problem success probabilities by maximum likelihood "
                    "(exponent = its left tail; unsolvable fraction from a zero-inflated Beta).")
    fit.add_argument("counts", help="CSV with successes and attempts columns, or a 0/1 .npy "
                                    "matrix (problems x attempts)")
    fit.add_argument("--method", default=None,
                     help="prediction method (default: the one the backtests favour, see the "
                          "README); an unknown name lists the registered ones")
    fit.add_argument("--dist", default="beta",
                     help="family of the distribution of p: beta, kumaraswamy, zi-beta, "
                          "zi-kumaraswamy, scaled-beta, beta-mixture, or all (the smallest "
                          "AIC; default beta)")
    fit.add_argument("--fit-scale", action="store_true",
                     help="also fit a scale (p = scale x X), by quadrature")
    fit.add_argument("--by", default=None, metavar="COLUMN",
                     help="fit each group of rows with the same COLUMN (e.g. model) apart")
    fit.add_argument("--pool", action="store_true",
                     help="with --by: also fit the groups jointly, sharing problem difficulty")
    fit.add_argument("--bootstrap", type=_int_at_least(0), default=None, metavar="B",
                     help="bootstrap replicates over problems for 95%% intervals: 0 or >= 20 "
                          "(default 100, or 20 with --dist all or --fit-scale)")
    fit.add_argument("--predict", default=None, metavar="K",
                     help='k to predict pass@k at, e.g. "1000,10000" (may exceed attempts; '
                          "default 10x and 100x the largest number of attempts)")
    fit.add_argument("--target", type=float, default=None,
                     help="also report the attempts needed to reach this pass@k")
    fit.add_argument("--json", action="store_true", help="print one JSON object")
    fit.add_argument("--seed", type=_int_at_least(0), default=0,
                     help="bootstrap seed (default 0)")
    fit.add_argument("--workers", type=_int_at_least(1), default=1,
                     help="processes for the bootstrap; results do not depend on it")
    fit.add_argument("--successes-column", default="successes")
    fit.add_argument("--attempts-column", default="attempts")
    fit.set_defaults(run=_run_fit)

    backtest = sub.add_parser(
        "backtest", help="backtest the prediction methods on counts with many attempts",
        description="From counts with at least --to attempts per problem, draw the counts of "
                    "the first --from attempts exactly (hypergeometric; from a 0/1 .npy matrix, "
                    "its first columns), predict pass@TO with each method and compare with "
                    "the observed pass@TO; prints a table, --out writes every prediction.")
    backtest.add_argument("counts", help="CSV with successes and attempts columns, or a 0/1 "
                                         ".npy matrix (problems x attempts)")
    backtest.add_argument("--from", dest="n_from", type=_int_at_least(1), required=True,
                          metavar="N1", help="attempts per problem the methods see")
    backtest.add_argument("--to", dest="n_to", type=_int_at_least(2), required=True,
                          metavar="N2", help="k of the pass@k to predict (<= attempts)")
    backtest.add_argument("--methods", default="all",
                          help="comma-separated method names, or all (default); an unknown "
                               "name lists the registered ones")
    backtest.add_argument("--seeds", type=_int_at_least(1), default=10,
                          help="subsamples per group (default 10)")
    backtest.add_argument("--seed", type=_int_at_least(0), default=0, help="seed (default 0)")
    backtest.add_argument("--by", default=None, metavar="COLUMN",
                          help="backtest each group of rows with the same COLUMN (e.g. model)")
    backtest.add_argument("--bootstrap", type=_int_at_least(0), default=0, metavar="B",
                          help="bootstrap replicates for each prediction's interval: 0 or >= 20")
    backtest.add_argument("--confidence", type=float, default=0.9,
                          help="interval level for coverage (default 0.9)")
    backtest.add_argument("--out", default=None,
                          help="CSV of every prediction (plus OUT.json manifest)")
    backtest.add_argument("--successes-column", default="successes")
    backtest.add_argument("--attempts-column", default="attempts")
    backtest.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    backtest.add_argument("--pool", action="store_true",
                          help="with --by: also score the joint fit of the groups (pooled-irt)")
    backtest.set_defaults(run=_run_backtest)

    sweep = sub.add_parser(
        "sweep", help="run a parameter sweep described by a TOML file",
        description="Run every point of a sweep (a grid or a random design over dotted keys "
                    "of a base config), locally or on a Dask cluster; finished points survive "
                    "interruption and --resume runs only the missing ones.")
    sweep.add_argument("sweep", help="sweep file (TOML)")
    sweep.add_argument("--out", required=True, help="output directory")
    sweep.add_argument("--workers", type=_int_at_least(1), default=None,
                       help="local processes (default: all cores); results do not depend on it")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Dask scheduler address, e.g. tcp://host:8786 (needs simsearch[dask])")
    sweep.add_argument("--resume", action="store_true", help="finish a sweep in --out")
    sweep.add_argument("--max-points", type=_int_at_least(1), default=None, metavar="N",
                       help="refuse sweeps of more points than this (default 100000)")
    sweep.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sweep.add_argument("--figures", default=None, metavar="DIR",
                       help="random designs: draw the tornado figure of sensitivity.csv to "
                            "DIR/tornado.png and .pdf")
    sweep.set_defaults(run=_run_sweep)

    labs = sub.add_parser(
        "labs", help="simulate research labs searching a pool of ideas",
        description="Simulate labs spending compute budgets on ideas of heavy-tailed "
                    "difficulty (a TOML config: [pool], [[lab]] with optional automation, "
                    "[limits], seed, replicates, sharing, periods); write the summary, "
                    "periods, wins, doublings and explosion tables (CSV, or --format) and "
                    "manifest.json.")
    labs.add_argument("config", help="labs config (TOML); see experiments/configs/")
    labs.add_argument("--out", required=True,
                      help="output directory (created, with its parents, if missing)")
    labs.add_argument("--overwrite", action="store_true",
                      help="replace the results in a directory that already holds some")
    labs.add_argument("--replicates", type=_int_at_least(1), default=None,
                      help="override the config's replicates")
    labs.add_argument("--seed", type=_int_at_least(0), default=None,
                      help="override the config's seed")
    labs.add_argument("--estimate", action="store_true",
                      help="fit r, Jones's lambda and phi and the decline of research "
                           "productivity, with bootstrap intervals (writes estimates.csv)")
    labs.add_argument("--bootstrap", type=_int_at_least(1), default=200, metavar="B",
                      help="bootstrap resamples of the replicates for --estimate (default 200)")
    labs.add_argument("--no-wins", action="store_true",
                      help="skip the wins table (one row per win; large for big pools)")
    labs.add_argument("--format", choices=DIRECTORY_TABLE_FORMATS, default="csv",
                      help="table files: csv (default), npz (numpy, one array per column) or "
                           "parquet (needs pyarrow); simsearch.labs.read_labs reads any back")
    labs.add_argument("--threads", type=_int_at_least(1), default=None,
                      help="numba threads (default: all cores); results do not depend on it")
    labs.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    labs.set_defaults(run=_run_labs)

    reproduce = sub.add_parser(
        "reproduce", help="run every experiment script and regenerate the figures",
        description="Run the experiment scripts in experiments/ (a source checkout is needed) "
                    "and print where each figure went.")
    reproduce.add_argument("--quick", action="store_true",
                           help="small versions of every experiment (under two minutes)")
    reproduce.add_argument("--only", action="append", metavar="NAME",
                           help="run only these experiments (repeat or comma-separate)")
    reproduce.add_argument("--figures", default=None, metavar="DIR",
                           help="write figures here (default: figures/ of the checkout; with "
                                "--quick, ./figures-quick)")
    reproduce.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    reproduce.set_defaults(run=_run_reproduce)
    records_command.add_parser(sub)
    from . import plan as plan_command
    plan_command.add_parser(sub)
    return parser


def _raise_terminated(signum, frame):
    raise Terminated()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simsearch`` console script; returns the exit status.

    0 on success; 2 with one line on stderr for bad input or a file that cannot be read or
    written (nothing is left half-written); 130 on SIGINT and 143 on SIGTERM.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `simsearch`: what it can do, not an error
        parser.print_help()
        return 0
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return args.run(args)
    except SimsearchError as exc:
        print(f"simsearch {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Terminated:
        print("simsearch: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("simsearch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # The file system refused a read or write the checks could not foresee (disk full, a
        # file removed meanwhile): one line, and the atomic writes left nothing half-written.
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"simsearch {args.command}: error: cannot use{where}: "
              f"{exc.strerror or _one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"simsearch {args.command}: error: out of memory; use a smaller run",
              file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
