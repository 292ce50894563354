"""``simsearch fit``: predict pass@k and fit the distribution of p from per-problem counts.

The fitting modules (SciPy) are imported by the handler only, so that ``simsearch --help`` and
``passk`` do not pay for them; names are checked there, not by the parser.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import SimsearchError
from ..io.output import finite_or_none, manifest
from .common import int_at_least, read_count_file, warn_pooled, warn_repeated, warn_unattempted


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``fit`` on the CLI's subparsers."""
    fit = subparsers.add_parser(
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
                     help="family of the distribution of p (default beta), or all (the "
                          "smallest AIC); an unknown name lists the registered ones")
    fit.add_argument("--fit-scale", action="store_true",
                     help="also fit a scale (p = scale x X), by quadrature")
    fit.add_argument("--by", default=None, metavar="COLUMN",
                     help="fit each group of rows with the same COLUMN (e.g. model) apart")
    fit.add_argument("--pool", action="store_true",
                     help="with --by: also fit the groups jointly (problems shared)")
    fit.add_argument("--pool-method", default=None, metavar="NAME",
                     help="the pooled fit of --pool (default pooled-line: each group's line "
                          "with its exponent pooled; pooled-irt: shared difficulty)")
    fit.add_argument("--bootstrap", type=int_at_least(0), default=None, metavar="B",
                     help="bootstrap replicates over problems for 95%% intervals: 0 or >= 20 "
                          "(default 100, or 20 with --dist all or --fit-scale)")
    fit.add_argument("--predict", default=None, metavar="K",
                     help='k to predict pass@k at, e.g. "1000,10000" (may exceed attempts; '
                          "default 10x and 100x the largest number of attempts)")
    fit.add_argument("--target", type=float, default=None,
                     help="also report the attempts needed to reach this pass@k")
    fit.add_argument("--json", action="store_true", help="print one JSON object")
    fit.add_argument("--seed", type=int_at_least(0), default=0,
                     help="bootstrap seed (default 0)")
    fit.add_argument("--workers", type=int_at_least(1), default=1,
                     help="processes for the bootstrap; results do not depend on it")
    fit.add_argument("--successes-column", default="successes")
    fit.add_argument("--attempts-column", default="attempts")
    fit.set_defaults(run=run)
    return fit


def run(args) -> int:
    from ..fitting.count_files import read_counts_npy
    from ..fitting.report import auto_bootstrap, check_options, fit_report, quiet_numerics

    # Names are checked before the counts are read: a typo costs nothing.
    args.method = check_options(args.method, args.dist)
    auto = args.bootstrap is None
    if auto:
        args.bootstrap = auto_bootstrap(args.dist, args.fit_scale)
    config = {"counts": str(args.counts), "method": args.method, "dist": args.dist,
              "fit_scale": args.fit_scale, "bootstrap": args.bootstrap, "predict": args.predict,
              "target": args.target, "seed": args.seed, "by": args.by, "pool": args.pool,
              "pool_method": args.pool_method}
    if args.pool and not args.by:
        raise SimsearchError("pool: needs --by COLUMN (the groups, e.g. models, to fit jointly)")
    if args.pool_method is not None and not args.pool:
        raise SimsearchError("pool-method: needs --pool (and --by COLUMN)")
    if args.pool:
        from ..fitting.pooled import DEFAULT_POOLED_METHOD, get_pooled_method

        args.pool_method = get_pooled_method(args.pool_method or DEFAULT_POOLED_METHOD).name
        config["pool_method"] = args.pool_method
    options = dict(method=args.method, dist=args.dist, fit_scale=args.fit_scale,
                   bootstrap=args.bootstrap, predict=args.predict, target=args.target,
                   seed=args.seed, workers=args.workers)
    counts_file = read_count_file(args, args.by)  # None for a .npy matrix
    if args.by:
        groups = counts_file.groups(args.by)
        if args.pool:  # before the fits: a refusal costs nothing
            groups = counts_file.aligned(groups, args.by)
        # Each group's report is exactly its separate single fit (same seed, same defaults).
        # A group the fit refuses (a small model that solved nothing) is reported as such and
        # the others go on: one such model must not cost the whole file's report.
        reports, refused = {}, {}
        for name, (c, n) in groups.items():
            try:
                reports[name] = fit_report(c, n, **options)
            except SimsearchError as exc:
                refused[name] = " ".join(str(exc).split())
        if not reports:
            name, reason = next(iter(refused.items()))
            raise SimsearchError(f"{args.by} {name!r}: {reason}" if len(refused) == 1 else
                                 f"by: no {args.by} could be fitted (first, {name!r}: {reason})")
        report = {"by": args.by, "groups": {
            name: reports[name].data if name in reports else {"error": refused[name]}
            for name in groups}}
        text = "\n".join(f"== {args.by} = {name}\n" + (reports[name].format() if name in reports
                                                       else f"not fitted: {refused[name]}")
                         for name in groups)
        for name, reason in refused.items():
            print(f"simsearch fit: warning: {args.by} {name!r} not fitted: {reason}",
                  file=sys.stderr)
        if args.pool:
            from ..fitting.pooled import format_pooled, get_pooled_method, pooled_report

            replicates = (get_pooled_method(args.pool_method).auto_bootstrap if auto
                          else args.bootstrap)
            with quiet_numerics():
                report["pooled"] = pooled_report(
                    groups, report["groups"], replicates, method=args.pool_method,
                    seed=args.seed, workers=args.workers)
            text += "\n" + format_pooled(report["pooled"])
    else:
        successes, attempts = (counts_file.counts() if counts_file is not None
                               else read_counts_npy(args.counts))
        single = fit_report(successes, attempts, **options)
        # After the fit: a refusal is one line, never a warning and then the error.
        warn_pooled(args, "fit", "pass --by {column} to fit each group apart", counts_file)
        report, text = dict(single.data), single.format()
    warn_unattempted(args, "fit", counts_file)
    warn_repeated(args, "fit", counts_file)
    report["manifest"] = manifest("fit", config, args.seed)
    print(json.dumps(finite_or_none(report), indent=2, allow_nan=False) if args.json else text)
    return 0
