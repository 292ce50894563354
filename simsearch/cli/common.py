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


def read_count_file(args, by: str | None = None, problem: bool = False):
    """The counts CSV of ``args.counts`` read once (:class:`CountFile`), or None for a
    ``.npy`` matrix: with ``by`` it must have that column; ``problem`` keeps a ``problem``
    column where there is one; without ``by`` it also counts every column's values, for
    :func:`warn_pooled`."""
    from pathlib import Path

    from ..fitting.count_files import CountFile, refuse_npy_by

    if Path(args.counts).suffix.lower() == ".npy":
        if by:
            refuse_npy_by(args.counts, by)
        return None
    return CountFile(args.counts, args.successes_column, args.attempts_column,
                     (by,) if by else (), ("problem",) if problem or by else (),
                     labels=not by)


def warn_pooled(args, command: str, advice: str, counts_file) -> None:
    """Say on stderr when a counts CSV holds several groups (models) that will be pooled."""
    if counts_file is None:
        return
    groups = counts_file.label_columns((args.successes_column, args.attempts_column))
    if groups:
        column, count = next(iter(groups.items()))
        print(f"simsearch {command}: warning: column {column!r} has {count} distinct values; "
              f"all rows are pooled into one population ({advice.format(column=column)})",
              file=sys.stderr)


def warn_unattempted(args, command: str, counts_file) -> None:
    """Say on stderr when rows with 0 successes in 0 attempts were left out of the counts."""
    lines = counts_file.unattempted_lines() if counts_file is not None else []
    if lines:
        shown = ", ".join(str(line) for line in lines[:5]) + (", ..." if len(lines) > 5 else "")
        print(f"simsearch {command}: warning: {len(lines)} row(s) with 0 "
              f"{args.attempts_column} left out (line {shown}): a problem never sampled says "
              f"nothing about its p", file=sys.stderr)


def warn_repeated(args, command: str, counts_file) -> None:
    """With --by, say on stderr when a group lists a problem more than once (two result files
    concatenated?): each row is then fitted as a problem of its own."""
    if not args.by or counts_file is None:
        return
    for group, (problem, times) in counts_file.repeated_problems(args.by).items():
        print(f"simsearch {command}: warning: {args.by} {group!r} lists problem {problem!r} "
              f"{times} times (and maybe others); each row is counted as a problem of its own",
              file=sys.stderr)
