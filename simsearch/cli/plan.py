"""``simsearch plan``: where to spend the next attempts to sharpen the predicted pass@K."""

from __future__ import annotations

import argparse
import json
import math
import sys

from ..errors import SimsearchError
from .common import read_count_file, warn_pooled, warn_unattempted


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``plan`` on the CLI's subparsers."""
    plan = subparsers.add_parser(
        "plan", help="allocate a budget of more attempts to sharpen a pass@K prediction",
        description="Allocate BUDGET more attempts over the problems of COUNTS (CSV with "
                    "problem, successes, attempts) to minimise the expected error of the "
                    "predicted pass@K; prints the promised error of the plan and of uniform "
                    "spending. With --rounds R it gives the first of R batches: sample it, then "
                    "rerun on the new counts with the remaining budget and --rounds R-1. With "
                    "--by COLUMN one budget covers every group (e.g. model): each gets the "
                    "share uniform spending would give its problems, planned within it.")
    plan.add_argument("counts", help="counts CSV (problem, successes, attempts) or .npy")
    plan.add_argument("--by", default=None, metavar="COLUMN",
                      help="plan several groups of rows (e.g. models, one fit each) at once: "
                           "one budget over every group's problems")
    plan.add_argument("--budget", type=int, required=True, help="extra attempts in total")
    plan.add_argument("--predict", type=int, required=True, metavar="K",
                      help="the K of the pass@K to predict")
    plan.add_argument("--rounds", type=int, default=1, help="batches (default 1)")
    plan.add_argument("--cap", type=int, default=None,
                      help="most extra attempts per problem (always at most K - n_i)")
    plan.add_argument("--method", default=None,
                      help="prediction method (default: the default of simsearch fit)")
    plan.add_argument("--strategy", default="planned",
                      help="allocation: planned (default: greedy on the preposterior "
                           "variance), uniform, or hard-first (attempts in proportion to "
                           "1/(successes + 1))")
    plan.add_argument("--bootstrap", type=int, default=None,
                      help="bootstrap refits for the model part of the error (default 40)")
    plan.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    plan.add_argument("--successes-column", default="successes")
    plan.add_argument("--attempts-column", default="attempts")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument("--out", default=None, metavar="FILE",
                      help="write the allocation as CSV problem,attempts (with --by: COLUMN,"
                           "problem,attempts) and a FILE.json manifest")
    plan.set_defaults(run=run)
    return plan


def _finite(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) \
        else value


def run(args) -> int:
    """Plan, print (text or JSON), and write the allocation when ``--out`` is given."""
    import numpy as np

    from ..fitting.count_files import read_counts_npy
    from ..errors import require
    from ..fitting.methods import DEFAULT_METHOD, get_method
    from ..fitting.planner import (DEFAULT_REPLICATES, check_fittable, check_plan_inputs,
                                    check_strategy, plan_groups)
    from ..io.output import check_writable, manifest, write_with_manifest
    from ..io.tables import csv_text

    method = get_method(args.method or DEFAULT_METHOD).name
    replicates = DEFAULT_REPLICATES if args.bootstrap is None else args.bootstrap
    require(replicates >= 0, f"bootstrap: must be an integer >= 0 (got {replicates})")
    check_strategy(args.strategy)
    if args.out is not None:
        check_writable(args.out, "out", with_manifest=True)
    counts_file = read_count_file(args, args.by, problem=True)  # None for a .npy matrix
    if args.by:
        groups = counts_file.groups(args.by)
    elif counts_file is not None:
        groups = {"": counts_file.counts()}
    else:
        groups = {"": read_counts_npy(args.counts)}
    for successes, attempts in groups.values():
        check_plan_inputs(successes, attempts, args.budget, args.predict, args.rounds, args.cap)
    # Each group's problem column as written (row numbers when there is none, and for .npy).
    labels = (counts_file.problem_labels(args.by) if counts_file is not None
              else {"": [str(i) for i in range(groups[""][0].size)]})
    for name, problems in labels.items():
        require(len(set(problems)) == len(problems),
                f"problem: each problem must appear once per {args.by} (repeated in "
                f"{name!r})" if args.by else
                "problem: each problem must appear once (plan several models with --by "
                "COLUMN)")
    # With --by, a group that cannot be fitted (a model that solved nothing) is left out and
    # named, and the budget goes to the others: one such model must not cost the whole plan.
    refused = {}
    if args.by:
        for name, (successes, attempts) in groups.items():
            try:
                check_fittable(successes, attempts, method)
            except SimsearchError as exc:
                refused[name] = " ".join(str(exc).split())
        if len(refused) == len(groups):
            name, reason = next(iter(refused.items()))
            raise SimsearchError(f"{args.by} {name!r}: {reason}" if len(refused) == 1 else
                                 f"by: no {args.by} could be fitted (first, {name!r}: "
                                 f"{reason})")
        groups = {g: v for g, v in groups.items() if g not in refused}
        labels = {g: v for g, v in labels.items() if g not in refused}
    result = plan_groups(groups, args.budget, args.predict, rounds=args.rounds, cap=args.cap,
                         method=method, strategy=args.strategy, replicates=replicates,
                         seed=args.seed)
    if not args.by:  # after the plan: a refusal is one line, never a warning and the error
        warn_pooled(args, "plan", "pass --by {column} to plan every group at once", counts_file)
    warn_unattempted(args, "plan", counts_file)
    config = {"counts": str(args.counts), "by": args.by, "budget": args.budget,
              "predict": args.predict, "rounds": args.rounds, "cap": args.cap,
              "method": method, "strategy": args.strategy, "bootstrap": replicates,
              "seed": args.seed}
    meta = manifest("plan", config, args.seed)

    def shaped(values: dict):
        """Per group with --by; the single group's value without."""
        return values if args.by else values[""]

    report = {
        **({"by": args.by} if args.by else {}),
        "allocation": shaped({g: {p: int(a) for p, a in zip(labels[g], result.allocation[g])}
                              for g in groups}),
        "expected_error": shaped({g: e.as_dict() for g, e in result.expected_error.items()}),
        "uniform_error": shaped({g: e.as_dict() for g, e in result.uniform_error.items()}),
        "uniform_attempts_to_match": _finite(result.uniform_attempts_to_match),
        "predicted": shaped(result.predicted),
        **({"not_planned": refused} if args.by else {}),
        "batch": 1, "rounds": args.rounds,
        "manifest": meta,
    }
    if args.out is not None:
        columns = {"problem": [p for g in groups for p in labels[g]],
                   "attempts": [int(a) for g in groups for a in result.allocation[g]]}
        if args.by:
            columns = {args.by: [g for g in groups for _ in labels[g]], **columns}
        write_with_manifest(args.out, csv_text(columns),
                            {**meta, "expected_error": report["expected_error"],
                             "uniform_error": report["uniform_error"],
                             "uniform_attempts_to_match": report["uniform_attempts_to_match"],
                             **({"not_planned": refused} if args.by else {})})
    for name, reason in refused.items():
        print(f"simsearch plan: warning: {args.by} {name!r} not planned: {reason}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
        return 0
    spent = sum(int(a.sum()) for a in result.allocation.values())
    touched = sum(int((a > 0).sum()) for a in result.allocation.values())
    problems = sum(len(v) for v in labels.values())
    print(f"plan: {spent} more attempts over {touched} of {problems} problems"
          + (f" in {len(groups)} groups by {args.by}" if args.by else "")
          + (f" (batch 1 of {args.rounds})" if args.rounds > 1 else ""))
    for g in groups:
        e, u = result.expected_error[g], result.uniform_error[g]
        head = f"{args.by} = {g}: " if args.by else ""
        print(f"{head}predicted pass@{args.predict} now: {result.predicted[g]:.4f}"
              + (f"; {int(result.allocation[g].sum())} attempts" if args.by else ""))
        print(f"{head}promised error (sd): plan {e.sd:.4f} (process {e.process_sd:.4f}, "
              f"model {e.model_sd:.4f}); uniform {u.sd:.4f}")
    for name, reason in refused.items():
        print(f"{args.by} = {name}: not planned: {reason}")
    if not any(np.any((c == 0) & (n < args.predict)) for c, n in groups.values()):
        # The planner still spends the budget (it buys nothing): say why its promise is 0.
        print(f"note: no problem is open at K = {args.predict} (each is solved or has K "
              f"attempts): pass@{args.predict} is known, more attempts cannot change it")
    match = result.uniform_attempts_to_match
    print("uniform spending matches the plan's error with "
          + (f"{match} attempts" if match is not None else "no budget within the caps")
          + (" over all groups (the sum of their variances)" if args.by else ""))
    if args.out is not None:
        print(f"wrote {args.out} and its manifest")
    return 0
