"""``simsearch reproduce``: run the experiment scripts that make every figure.

The scripts live in the source tree's ``experiments/`` (they are the project's record of how
each figure was made, not part of the installed package), so this needs a source checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from ..errors import SimsearchError
from ..runtime import progress_bar
from ..io.directory import check_output_directory

#: Experiment scripts in figure order (figures/README.md numbers them the same way).
EXPERIMENTS = ("scaling_law", "success_distribution", "power_law_or_not",
               "estimator_efficiency", "prediction", "research_cost", "labs_competition",
               "kortum", "sweep_exponent_heatmap", "pandey", "real_data_backtest",
               "labs_uncertainty", "takeoff", "takeoff_monte_carlo", "records",
               "planner")


#: Where ``--quick`` writes without ``--figures``: in the current directory, never over the
#: checkout's full-size figures.
QUICK_FIGURES = "figures-quick"


def experiments_dir() -> Path:
    """``experiments/`` beside the package (editable install) or in the working directory."""
    for candidate in (Path(__file__).resolve().parents[2] / "experiments",
                      Path.cwd() / "experiments"):
        if all((candidate / f"{name}.py").is_file() for name in EXPERIMENTS):
            return candidate
    raise SimsearchError("reproduce: experiments/ not found (the scripts are not part of the "
                         "installed package); run it from the top directory of a source "
                         "checkout of simsearch, or install one with pip install -e .")


def select(only: list[str] | None) -> list[str]:
    if not only:
        return list(EXPERIMENTS)
    unknown = [name for name in only if name not in EXPERIMENTS]
    if unknown:
        raise SimsearchError(f"only: unknown experiment {unknown[0]!r}; known: "
                             f"{', '.join(EXPERIMENTS)}")
    return [name for name in EXPERIMENTS if name in only]


def run_experiments(names: list[str], *, quick: bool, figures: Path | None,
                    progress: bool = True) -> list[tuple[str, float, list[str]]]:
    """Run each script in its own process; returns (name, seconds, written files) per script.

    Raises
    ------
    RuntimeError
        When a script fails; its last output lines are in the message.
    """
    folder = experiments_dir()
    done = []
    for name in progress_bar(names, progress=progress, desc="experiments", unit="script"):
        argv = [sys.executable, str(folder / f"{name}.py")]
        argv += ["--quick"] if quick else []
        argv += ["--figures", str(figures)] if figures is not None else []
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise RuntimeError(f"experiment {name} failed:\n{tail}")
        wrote = [line for line in proc.stdout.splitlines() if line.startswith("wrote ")]
        done.append((name, time.perf_counter() - start, wrote))
    return done


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``reproduce`` on the CLI's subparsers."""
    reproduce = subparsers.add_parser(
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
    reproduce.set_defaults(run=run)
    return reproduce


def run(args) -> int:
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
