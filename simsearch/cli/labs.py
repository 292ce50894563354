"""``simsearch labs``: simulate research labs searching a pool of ideas."""

from __future__ import annotations

import argparse
import sys

from ..errors import SimsearchError, Terminated
from ..io.directory import prepare_output_directory
from ..io.output import manifest
from ..io.tables import DIRECTORY_TABLE_FORMATS, check_table_format
from .common import int_at_least, set_threads
from .first_run import announce_compiling


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``labs`` on the CLI's subparsers."""
    labs = subparsers.add_parser(
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
    labs.add_argument("--replicates", type=int_at_least(1), default=None,
                      help="override the config's replicates")
    labs.add_argument("--seed", type=int_at_least(0), default=None,
                      help="override the config's seed")
    labs.add_argument("--estimate", action="store_true",
                      help="fit r, Jones's lambda and phi and the decline of research "
                           "productivity, with bootstrap intervals (writes estimates.csv)")
    labs.add_argument("--bootstrap", type=int_at_least(1), default=200, metavar="B",
                      help="bootstrap resamples of the replicates for --estimate (default 200)")
    labs.add_argument("--no-wins", action="store_true",
                      help="skip the wins table (one row per win; large for big pools)")
    labs.add_argument("--format", choices=DIRECTORY_TABLE_FORMATS, default="csv",
                      help="table files: csv (default), npz (numpy, one array per column) or "
                           "parquet (needs pyarrow); simsearch.labs.read_labs reads any back")
    labs.add_argument("--max-events", type=int_at_least(1), default=None, metavar="N",
                      help="most kernel events the run may take (default 5e8, a few "
                           "minutes): a run whose work, estimated from the config, passes it "
                           "is refused before it starts, and a replicate far past its own "
                           "estimate is stopped")
    labs.add_argument("--max-memory", type=int_at_least(1), default=None, metavar="GB",
                      help="most gigabytes the result may hold in memory, estimated from "
                           "the config before the run (default 4)")
    labs.add_argument("--threads", type=int_at_least(1), default=None,
                      help="numba threads (default: all cores); results do not depend on it")
    labs.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    labs.set_defaults(run=run)
    return labs


def run(args) -> int:
    from ..kernels.labs import simulate_replicates
    from ..labs import (MAX_EVENTS, MAX_MEMORY, LabsInterrupted, ReturnsEstimator,
                        check_labs_work, kortum_theory, load_labs_config, simulate_labs,
                        write_labs)

    config = load_labs_config(args.config)
    replicates = args.replicates if args.replicates is not None else config.replicates
    limits = {"max_events": MAX_EVENTS if args.max_events is None else args.max_events,
              "max_memory": MAX_MEMORY if args.max_memory is None else args.max_memory * 1e9}
    # Refused before the output directory is made: nothing is written for a run too big.
    check_labs_work(config, replicates, record_wins=not args.no_wins, **limits)
    out = prepare_output_directory(args.out, overwrite=args.overwrite, parents=True)
    fmt = args.format
    check_table_format(f"summary.{fmt}", "format")  # Parquet without pyarrow: refused now
    if args.estimate and config.periods < 3:
        raise SimsearchError(f"periods: --estimate needs at least 3 periods "
                             f"(config has {config.periods})")
    threads = set_threads(args.threads)
    announce_compiling(simulate_replicates)
    seed = args.seed if args.seed is not None else config.seed
    try:
        result = simulate_labs(config, replicates=replicates, seed=seed,
                               record_wins=not args.no_wins, progress=not args.no_progress,
                               **limits)
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
    extra = {"interrupted": True} if interrupted else {}
    estimates = None
    if args.estimate and not interrupted:
        estimator = ReturnsEstimator(bootstrap=args.bootstrap, seed=result.seed_entropy)
        estimator.fit(result)
        theory = kortum_theory(config)
        estimates = estimator.table(theory, typed=fmt != "csv")
        extra["estimates"] = {"bootstrap": args.bootstrap,
                              "burn_in_periods": estimator.burn_in_,
                              "dropped_growth_rates": estimator.n_dropped_}
        print(estimator.report(theory))
    canonical = config.as_dict()
    canonical.update(replicates=result.replicates, seed=seed)
    meta = manifest("labs", canonical, result.seed_entropy, threads=threads,
                    config_file=str(args.config), ideas_dropped=int(result.dropped.sum()),
                    format=fmt, **extra)
    files = write_labs(out, result, meta, fmt=fmt, wins=not args.no_wins, estimates=estimates)
    if interrupted:
        print(f"simsearch labs: {'terminated' if terminated else 'interrupted'}; kept the "
              f"{result.replicates} of {replicates} replicates finished in {out}",
              file=sys.stderr)
        return 143 if terminated else 130
    _print_summary(result)
    print(f"wrote {', '.join(files)} and manifest.json to {out}", file=sys.stderr)
    return 0


def _print_summary(result) -> None:
    per = result.periods
    print(f"{result.replicates} replicates, {result.config.periods} periods; "
          "mean per lab at the end:", file=sys.stderr)
    for j, name in enumerate(result.lab_names):
        wins = per["wins"][:, j, -1].mean()
        compute = per["cumulative_compute"][:, j, -1].mean()
        log_m = per["log_multiplier"][:, j, -1].mean()
        print(f"  {name:16s} wins {wins:10.4g}   compute {compute:10.4g}   "
              f"log multiplier {log_m:8.4g}", file=sys.stderr)
