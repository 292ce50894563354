"""``simsearch plan``: where to spend the next attempts to sharpen the predicted pass@K."""

from __future__ import annotations

import argparse
import json
import math


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``plan`` on the CLI's subparsers."""
    plan = subparsers.add_parser(
        "plan", help="allocate a budget of more attempts to sharpen a pass@K prediction",
        description="Allocate BUDGET more attempts over the problems of COUNTS (CSV with "
                    "problem, successes, attempts) to minimise the expected error of the "
                    "predicted pass@K; prints the promised error of the plan and of uniform "
                    "spending. With --rounds R it gives the first of R batches: sample it, then "
                    "rerun on the new counts with the remaining budget and --rounds R-1.")
    plan.add_argument("counts", help="counts CSV (problem, successes, attempts) or .npy")
    plan.add_argument("--budget", type=int, required=True, help="extra attempts in total")
    plan.add_argument("--predict", type=int, required=True, metavar="K",
                      help="the K of the pass@K to predict")
    plan.add_argument("--rounds", type=int, default=1, help="batches (default 1)")
    plan.add_argument("--cap", type=int, default=None,
                      help="most extra attempts per problem (always at most K - n_i)")
    plan.add_argument("--method", default=None,
                      help="prediction method (default: the default of simsearch fit)")
    plan.add_argument("--bootstrap", type=int, default=None,
                      help="bootstrap refits for the model part of the error (default 40)")
    plan.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    plan.add_argument("--successes-column", default="successes")
    plan.add_argument("--attempts-column", default="attempts")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument("--out", default=None, metavar="FILE",
                      help="write the allocation as CSV problem,attempts (+ FILE.json manifest)")
    plan.set_defaults(run=run)
    return plan


def _labels(path: str, size: int) -> list[str]:
    """The ``problem`` column as written, or row numbers when there is none (or for .npy)."""
    import pandas as pd

    if str(path).lower().endswith(".npy"):
        return [str(i) for i in range(size)]
    frame = pd.read_csv(path, dtype=str, skipinitialspace=True, encoding="utf-8-sig")
    frame.columns = [c.strip() for c in frame.columns]
    if "problem" not in frame.columns:
        return [str(i) for i in range(size)]
    return [str(v).strip() for v in frame["problem"]]


def _finite(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) \
        else value


def run(args) -> int:
    """Plan, print (text or JSON), and write the allocation when ``--out`` is given."""
    from ..fitting.count_files import read_counts
    from ..errors import require
    from ..fitting.methods import DEFAULT_METHOD, get_method
    from ..fitting.planner import DEFAULT_REPLICATES, check_plan_inputs, plan
    from ..io.output import check_writable, manifest, write_with_manifest
    from ..io.tables import csv_text

    method = get_method(args.method or DEFAULT_METHOD).name
    replicates = DEFAULT_REPLICATES if args.bootstrap is None else args.bootstrap
    require(replicates >= 0, f"bootstrap: must be an integer >= 0 (got {replicates})")
    if args.out is not None:
        check_writable(args.out, "out", with_manifest=True)
    successes, attempts = read_counts(args.counts, args.successes_column, args.attempts_column)
    check_plan_inputs(successes, attempts, args.budget, args.predict, args.rounds, args.cap)
    labels = _labels(args.counts, successes.size)
    require(len(set(labels)) == len(labels), "problem: each problem must appear once "
                                             "(plan one model's counts at a time)")
    result = plan(successes, attempts, args.budget, args.predict, rounds=args.rounds,
                  cap=args.cap, method=method, replicates=replicates, seed=args.seed)
    config = {"counts": str(args.counts), "budget": args.budget, "predict": args.predict,
              "rounds": args.rounds, "cap": args.cap, "method": method,
              "bootstrap": replicates, "seed": args.seed}
    meta = manifest("plan", config, args.seed)
    report = {
        "allocation": {p: int(a) for p, a in zip(labels, result.allocation)},
        "expected_error": result.expected_error.as_dict(),
        "uniform_error": result.uniform_error.as_dict(),
        "uniform_attempts_to_match": _finite(result.uniform_attempts_to_match),
        "predicted": result.predicted,
        "batch": 1, "rounds": args.rounds,
        "manifest": meta,
    }
    if args.out is not None:
        write_with_manifest(args.out, csv_text({"problem": labels,
                                                "attempts": result.allocation.tolist()}),
                            {**meta, "expected_error": report["expected_error"],
                             "uniform_error": report["uniform_error"],
                             "uniform_attempts_to_match": report["uniform_attempts_to_match"]})
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
        return 0
    e, u = result.expected_error, result.uniform_error
    spent = int(result.allocation.sum())
    print(f"plan: {spent} more attempts over {int((result.allocation > 0).sum())} of "
          f"{successes.size} problems" + (f" (batch 1 of {args.rounds})" if args.rounds > 1
                                          else ""))
    print(f"predicted pass@{args.predict} now: {result.predicted:.4f}")
    print(f"promised error (sd): plan {e.sd:.4f} (process {e.process_sd:.4f}, model "
          f"{e.model_sd:.4f}); uniform {u.sd:.4f}")
    match = result.uniform_attempts_to_match
    print("uniform spending matches the plan's error with "
          + (f"{match} attempts" if match is not None else "no budget within the caps"))
    if args.out is not None:
        print(f"wrote {args.out} and its manifest")
    return 0
