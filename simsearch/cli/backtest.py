"""``simsearch backtest``: score the prediction methods on counts with many attempts."""

from __future__ import annotations

import argparse
import sys

from ..errors import SimsearchError
from ..io.output import check_writable, finite_or_none, manifest, write_with_manifest
from ..io.tables import csv_text
from .common import int_at_least, read_count_file, warn_pooled, warn_repeated, warn_unattempted


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``backtest`` on the CLI's subparsers."""
    backtest = subparsers.add_parser(
        "backtest", help="backtest the prediction methods on counts with many attempts",
        description="From counts with at least --to attempts per problem, draw the counts of "
                    "the first --from attempts exactly (hypergeometric; from a 0/1 .npy matrix, "
                    "its first columns), predict pass@TO with each method and compare with "
                    "the observed pass@TO; prints a table, --out writes every prediction.")
    backtest.add_argument("counts", help="CSV with successes and attempts columns, or a 0/1 "
                                         ".npy matrix (problems x attempts)")
    backtest.add_argument("--from", dest="n_from", type=int_at_least(1), required=True,
                          metavar="N1", help="attempts per problem the methods see")
    backtest.add_argument("--to", dest="n_to", type=int_at_least(2), required=True,
                          metavar="N2", help="k of the pass@k to predict (<= attempts)")
    backtest.add_argument("--methods", default="all",
                          help="comma-separated method names, or all (default); an unknown "
                               "name lists the registered ones")
    backtest.add_argument("--seeds", type=int_at_least(1), default=10,
                          help="subsamples per group (default 10)")
    backtest.add_argument("--seed", type=int_at_least(0), default=0, help="seed (default 0)")
    backtest.add_argument("--by", default=None, metavar="COLUMN",
                          help="backtest each group of rows with the same COLUMN (e.g. model)")
    backtest.add_argument("--bootstrap", type=int_at_least(0), default=0, metavar="B",
                          help="bootstrap replicates for each prediction's interval: 0 or >= 20")
    backtest.add_argument("--confidence", type=float, default=0.9,
                          help="interval level for coverage (default 0.9)")
    backtest.add_argument("--out", default=None,
                          help="CSV of every prediction (plus OUT.json manifest)")
    backtest.add_argument("--successes-column", default="successes")
    backtest.add_argument("--attempts-column", default="attempts")
    backtest.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    backtest.add_argument("--pool", action="store_true",
                          help="with --by: also score every pooled fit of the groups (pooled-line, "
                               "pooled-irt), with intervals under --bootstrap")
    backtest.set_defaults(run=run)
    return backtest


def run(args) -> int:
    from ..fitting.count_files import read_outcomes_npy
    from ..fitting.backtest import format_summary, run_backtest, table_columns
    from ..fitting.interval import check_replicates
    from ..fitting.methods import parse_methods
    from ..fitting.report import quiet_numerics

    methods = parse_methods(args.methods)
    check_replicates(args.bootstrap)
    if args.pool and not args.by:
        raise SimsearchError("pool: needs --by COLUMN (the groups, e.g. models, to fit jointly)")
    if not 0 < args.confidence < 1:
        raise SimsearchError(f"confidence: must be in (0, 1) (got {args.confidence})")
    if args.out is not None:
        check_writable(args.out, "out", with_manifest=True)
    counts_file = read_count_file(args, args.by)  # None for a .npy matrix
    if args.by:
        groups = counts_file.groups(args.by)
        if args.pool:  # the pooled fits pair problem i across groups
            groups = counts_file.aligned(groups, args.by)
    elif counts_file is None:
        groups = {"all": read_outcomes_npy(args.counts)}
    else:
        groups = {"all": counts_file.counts()}
    with quiet_numerics():
        result = run_backtest(groups, args.n_from, args.n_to, methods, seeds=args.seeds,
                              seed=args.seed, bootstrap=args.bootstrap,
                              confidence=args.confidence, progress=not args.no_progress)
        if args.pool:
            from ..fitting.pooled import add_pooled_backtest

            result = add_pooled_backtest(result, groups, seeds=args.seeds, seed=args.seed,
                                         bootstrap=args.bootstrap)
    if not args.by:  # after the run: a refusal is one line, never a warning and the error
        warn_pooled(args, "backtest", "pass --by {column} to backtest each group apart",
                    counts_file)
    warn_unattempted(args, "backtest", counts_file)
    warn_repeated(args, "backtest", counts_file)
    sys.stdout.write(format_summary(result))
    if args.out is not None:
        meta = manifest("backtest", {
            "counts": str(args.counts), "from": args.n_from, "to": args.n_to,
            "methods": methods, "seeds": args.seeds, "by": args.by, "pool": args.pool,
            "bootstrap": args.bootstrap, "confidence": args.confidence, "seed": args.seed},
            args.seed, summary=finite_or_none(result.summary))
        write_with_manifest(args.out, csv_text(table_columns(result.rows)), meta)
        print(f"wrote {args.out} and {args.out}.json", file=sys.stderr)
    return 0
