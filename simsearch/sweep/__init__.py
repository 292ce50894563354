"""Parameter sweeps: many simulations over a grid or a random design, resumable and reproducible.

A sweep file (TOML) names a kind, a base config, the axes (dotted keys into the config; list
items by index or, for tables with a ``name``, by name: ``lab.frontier.budget``), replicates, a
seed and the statistics to keep. Point i is seeded with ``SeedSequence(seed).spawn(N)[i]``, so
its result never depends on which worker ran it, in what order, or how many there were.

The package, one idea per module:

* :mod:`.plan` — the sweep file as a :class:`SweepPlan`: grid axes, dotted keys;
* :mod:`.uncertain` — random designs: uniform, loguniform, normal, lognormal (by bounds,
  mean and sd or an 80% or 90% interval, truncated), integers, choice; rank correlations;
* :mod:`.kinds` — the registry of sweep kinds (``passk``, ``labs``) and their statistics;
* :mod:`.run` — local processes or Dask, resume, the output directory;
* :mod:`.report` — summary quantiles, rank sensitivity, the tornado figure, the grid figures.

On disk, in the output directory:

* ``points/NNNNNN.csv`` — one file per finished point (its replicate rows), written atomically,
  after ``points/NNNNNN.point.csv`` (its point-level row, for kinds that have one);
  ``points/NNNNNN.failed.json`` for a point that failed while it ran (its parameters are checked
  before the sweep starts). These are the
  sweep's durable state: a killed sweep keeps every finished point, and ``resume`` runs only
  the missing ones.
* ``results.csv`` — all finished rows sorted by point and replicate (and row key: ``lab``), one
  column per axis and per statistic; rebuilt atomically as points arrive and at the end.
* ``points.csv`` — one row per finished point: its axes and point-level statistics with their
  intervals (labs: r, lambda, phi, ...), when any were asked for.
* ``summary.csv`` — at the end: per statistic (and lab), rows, finite values, mean and the 5,
  10, 50, 90 and 95% quantiles over the finite values.
* ``sensitivity.csv`` — at the end of a random design: Spearman rank correlation of each
  input with each statistic (and lab).
* ``manifest.json`` — the sweep file, seed, version, start and end times, per-point status, and
  the SHA-256 of every table above.

The names below are imported on first use, so that a worker process, which imports only
:mod:`.worker` and its kind, does not load the planning, running and reporting modules.
"""

from ..runtime import lazy_names

#: Public name -> the submodule that defines it.
_EXPORTS = {**dict.fromkeys(("KINDS", "PointResult", "get_kind"), ".kinds"),
            "evaluate_passk": ".kinds.passk",
            **dict.fromkeys(("MAX_POINTS", "GridPoints", "SweepPlan", "load_sweep", "plan_sweep",
                             "point_config"), ".plan"),
            **dict.fromkeys(("grid_figure", "sensitivity_table", "summary_table",
                             "tornado_figure"), ".report"),
            **dict.fromkeys(("IncompleteSweepWarning", "SweepAborted", "SweepSummary",
                             "run_point", "run_sweep"), ".run")}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_names(globals(), _EXPORTS)


def __dir__():
    return __all__
