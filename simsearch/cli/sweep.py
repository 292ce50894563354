"""``simsearch sweep``: run a parameter sweep described by a TOML file."""

from __future__ import annotations

import argparse
import sys

from ..io.directory import check_output_directory
from .common import int_at_least


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``sweep`` on the CLI's subparsers."""
    sweep = subparsers.add_parser(
        "sweep", help="run a parameter sweep described by a TOML file",
        description="Run every point of a sweep (a grid or a random design over dotted keys "
                    "of a base config), locally or on a Dask cluster; finished points survive "
                    "interruption and --resume runs only the missing ones.")
    sweep.add_argument("sweep", help="sweep file (TOML)")
    sweep.add_argument("--out", required=True,
                       help="output directory (created, with its parents, if missing)")
    sweep.add_argument("--workers", type=int_at_least(1), default=None,
                       help="local processes (default: all cores); results do not depend on it")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Dask scheduler address, e.g. tcp://host:8786 (needs simsearch[dask])")
    sweep.add_argument("--resume", action="store_true", help="finish a sweep in --out")
    sweep.add_argument("--max-points", type=int_at_least(1), default=None, metavar="N",
                       help="refuse sweeps of more points than this (default 100000)")
    sweep.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sweep.add_argument("--figures", default=None, metavar="DIR",
                       help="draw figures to DIR (PNG and PDF): a random design's tornado "
                            "of sensitivity.csv (tornado.png), a grid's statistics against its "
                            "first axis, one line per value of the others (grid_STAT.png)")
    sweep.set_defaults(run=run)
    return sweep


def run(args) -> int:
    from ..sweep import SweepAborted, load_sweep, run_sweep

    plan = load_sweep(args.sweep, **({} if args.max_points is None
                                     else {"max_points": args.max_points}))
    if args.figures is not None:
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

        if plan.random:
            _save_tornado(summary.out, Path(args.figures))
        else:
            _save_grid_figures(plan, summary.out, Path(args.figures))
    return 0


def _save(fig, figures, stem: str) -> None:
    """``figures/stem.png`` and ``.pdf``, each written atomically, without timestamps."""
    from ..io.output import atomic_path

    for suffix in ("png", "pdf"):
        with atomic_path(figures / f"{stem}.{suffix}", "figures") as tmp:
            fig.savefig(tmp, format=suffix, dpi=150,
                        metadata={"Software": None} if suffix == "png" else
                        {"CreationDate": None, "Producer": None})


def _read_table(path) -> dict:
    import csv

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {name: [row[name] for row in rows] for name in (rows[0] if rows else [])}


def _figure_stem(statistic: str) -> str:
    """``grid_STAT``: the file name of a grid figure, ``@`` and other signs as ``_``
    (``pass_at_k@1000`` -> ``grid_pass_at_k_1000``)."""
    return "grid_" + "".join(c if c.isalnum() or c in "_-" else "_" for c in statistic)


def _save_grid_figures(plan, out, figures) -> None:
    """One figure per statistic of a grid sweep, from results.csv (per-replicate statistics)
    or points.csv (point-level ones, with their intervals), checked against the manifest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io.output import read_manifest
    from ..sweep import get_kind, grid_figure

    files = read_manifest(out).get("files", {})
    kind = get_kind(plan.kind)
    point_columns = set(kind.point_statistics(plan.statistics))
    units = getattr(kind.module, "UNITS", {})
    confidence = plan.options.get("confidence")
    interval = (f"estimate, {confidence:.0%} bootstrap interval" if confidence else
                "estimate and its interval")
    tables = {name: _read_table(out / name) for name in ("results.csv", "points.csv")
              if name in files}
    if not tables.get("results.csv", {}).get("point"):
        print("simsearch sweep: no finished point, no figure", file=sys.stderr)
        return
    figures.mkdir(parents=True, exist_ok=True)
    stems = []
    for stat in plan.statistics:
        table = tables["points.csv" if stat in point_columns else "results.csv"]
        row_key = next((k for k in kind.ROW_KEYS if k in table), None)
        fig = grid_figure(table, plan.axes, stat, row_key=row_key,
                          unit=units.get(stat.partition("@")[0]), interval_label=interval)
        stems.append(_figure_stem(stat))
        _save(fig, figures, stems[-1])
        plt.close(fig)
    print(f"wrote {', '.join(stems)} (.png and .pdf) to {figures}", file=sys.stderr)


def _save_tornado(out, figures) -> None:
    """figures/tornado.png and .pdf from the sweep's sensitivity.csv (checked first)."""
    import matplotlib

    matplotlib.use("Agg")
    from ..io.output import read_manifest
    from ..sweep import tornado_figure

    read_manifest(out)
    columns = _read_table(out / "sensitivity.csv")
    if not columns:
        print("simsearch sweep: no finished point, no tornado figure", file=sys.stderr)
        return
    figures.mkdir(parents=True, exist_ok=True)
    fig = tornado_figure(columns, row_key="lab" if "lab" in columns else None)
    _save(fig, figures, "tornado")
    print(f"wrote {figures / 'tornado.png'} and .pdf", file=sys.stderr)
