"""Command-line interface: ``simsearch SUBCOMMAND ...`` (also ``python -m simsearch``).

Input errors print one line, ``simsearch: error: <what is wrong and what is allowed>``, and exit
with status 2 before any output file is created.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from . import __version__
from .errors import SimsearchError
from .output import check_writable, csv_text, manifest, write_with_manifest
from .repeated_sampling import parse_k_grid, simulate_pass_at_k
from .seeding import CHUNK_SIZE
from .spec import parse_distribution


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


def _passk_columns(result) -> dict:
    reps, g = result.fail_counts.shape
    columns = {}
    if reps > 1:
        columns["replicate"] = [r for r in range(reps) for _ in range(g)]
    columns["k"] = list(result.k) * reps
    columns["pass_at_k"] = result.pass_at_k.ravel()
    columns["neg_log_pass_at_k"] = result.neg_log_pass_at_k.ravel()
    columns["expected_pass_at_k"] = list(result.expected_pass_at_k) * reps
    columns["expected_neg_log_pass_at_k"] = list(result.expected_neg_log_pass_at_k) * reps
    columns["stderr"] = result.stderr.ravel()
    return columns


def _run_passk(args) -> int:
    dist = parse_distribution(args.dist)
    k_grid = parse_k_grid(args.k)
    for path, field in ((args.out, "out"), (args.per_problem, "per-problem")):
        if path is not None:
            check_writable(path, field)
    threads = _set_threads(args.threads)
    result = simulate_pass_at_k(dist, k_grid, args.problems, replicates=args.replicates,
                                seed=args.seed, per_problem=args.per_problem is not None,
                                progress=not args.no_progress)
    table = csv_text(_passk_columns(result))
    config = {"dist": dist.spec, "problems": args.problems, "k": [int(k) for k in k_grid],
              "replicates": args.replicates, "seed": args.seed}
    meta = manifest("passk", config, result.seed_entropy, chunk_size=CHUNK_SIZE,
                    threads=threads, tail_exponent=dist.tail_exponent)
    if args.per_problem is not None:
        reps, n = result.p.shape
        per_problem = csv_text({
            "replicate": [r for r in range(reps) for _ in range(n)],
            "problem": list(range(n)) * reps,
            "p": result.p.ravel(),
            "first_success": result.first_success.ravel(),
        })
        write_with_manifest(args.per_problem, per_problem, meta)
    if args.out is None:
        sys.stdout.write(table)
    else:
        write_with_manifest(args.out, table, meta)
        print(f"wrote {args.out} and {args.out}.json", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="simsearch", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"simsearch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
                       help="also write each problem's p and first-success attempt to PATH")
    passk.add_argument("--threads", type=_int_at_least(1), default=None,
                       help="numba threads (default: all cores); results do not depend on it")
    passk.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    passk.set_defaults(run=_run_passk)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simsearch`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SimsearchError as exc:
        print(f"simsearch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simsearch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
