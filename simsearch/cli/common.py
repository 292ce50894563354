"""What every command shares: the one-line-error parser, integer options, threads, and the
warning that a counts file holds several groups."""

from __future__ import annotations

import argparse
import math
import sys

from ..errors import SimsearchError


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(low: int):
    """An argparse type: an integer >= ``low`` (``1e6`` accepted), else a one-line error."""
    def parse(text: str) -> int:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        if not (math.isfinite(value) and value == int(value) and value >= low):
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return int(value)
    return parse


def set_threads(threads: int | None) -> int:
    """Set numba's thread count (results never depend on it); returns the count in use."""
    import numba

    if threads is None:
        return numba.get_num_threads()
    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= threads <= limit:
        raise SimsearchError(f"threads: must be an integer in [1, {limit}] (got {threads})")
    numba.set_num_threads(threads)
    return threads


def warn_pooled(args, command: str, advice: str) -> None:
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


def warn_unattempted(args, command: str) -> None:
    """Say on stderr when rows with 0 successes in 0 attempts were left out of the counts."""
    from ..fitting.count_files import unattempted_lines

    lines = unattempted_lines(args.counts, args.successes_column, args.attempts_column)
    if lines:
        shown = ", ".join(str(line) for line in lines[:5]) + (", ..." if len(lines) > 5 else "")
        print(f"simsearch {command}: warning: {len(lines)} row(s) with 0 "
              f"{args.attempts_column} left out (line {shown}): a problem never sampled says "
              f"nothing about its p", file=sys.stderr)


def warn_repeated(args, command: str) -> None:
    """With --by, say on stderr when a group lists a problem more than once (two result files
    concatenated?): each row is then fitted as a problem of its own."""
    from ..fitting.count_files import repeated_problems

    if not args.by:
        return
    for group, (problem, times) in repeated_problems(
            args.counts, args.by, successes_column=args.successes_column,
            attempts_column=args.attempts_column).items():
        print(f"simsearch {command}: warning: {args.by} {group!r} lists problem {problem!r} "
              f"{times} times (and maybe others); each row is counted as a problem of its own",
              file=sys.stderr)
