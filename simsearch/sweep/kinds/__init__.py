"""The registry of sweep kinds: what a sweep's points simulate, and the statistics they report.

Each kind is a module here implementing the same functions (a new kind is one module and one
line in :data:`KINDS`):

``DEFAULT_STATISTICS``
    The statistics of a sweep file that names none.
``check_statistics(names, where) -> tuple``
    Validates the statistic names (one-line error listing those known).
``check_options(doc, where) -> dict``
    The kind's own settings from the sweep document (``{}`` for none).
``check_point(config, statistics, replicates, where)``
    Validates one point's config, the statistics against it and the run's size, without
    running it (one line naming the key); the plan calls it on the points before anything is
    written.
``ROW_KEYS`` and ``point_statistics(statistics) -> tuple``
    The identifier columns of a replicate row beyond ``point`` and ``replicate`` (labs: ``lab``),
    and the columns of the point-level table (``points.csv``; empty for none).
``evaluate(config, statistics, replicates, seed, options) -> PointResult``
    Runs one point from its config and ``SeedSequence``: validates the config (one line naming
    the key) and returns its rows.
``UNITS`` (optional)
    Units of statistics, by the name before ``@`` (``{"doubling_time": "periods"}``), for the
    axis labels of the grid figures; a statistic without one is drawn unlabelled.
``warm()`` (optional)
    Load what the kind's points run on (its kernels) before the first point: a worker calls it
    once, before it says it is ready, since it runs many points.

The module is imported when its kind is first used, so a passk sweep never loads the labs
engine, and a worker receives only the kind's name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import NamedTuple

from ...errors import SimsearchError

#: Every sweep kind: name -> the module implementing it.
KINDS = {"passk": "simsearch.sweep.kinds.passk", "labs": "simsearch.sweep.kinds.labs"}


class PointResult(NamedTuple):
    """One point's outcome: ``rows``, one dict per replicate (and row key), each with
    ``replicate``, the kind's row keys and the per-replicate statistics; ``point``, a dict of
    the point-level columns (``None`` when the kind has none or none were asked for)."""

    rows: list
    point: dict | None = None


@dataclass(frozen=True)
class SweepKind:
    """A registered kind; its functions are read from its module (:data:`KINDS`)."""

    name: str

    @property
    def module(self):
        return importlib.import_module(KINDS[self.name])

    def warm(self) -> None:
        """Import the kind and run its ``warm()``, if it has one."""
        warm = getattr(self.module, "warm", None)
        if warm is not None:
            warm()

    def __getattr__(self, attribute: str):
        # The protocol in the module docstring: every kind module defines these names.
        if attribute.startswith("_"):  # copy and pickle probe dunders before ``name`` is set
            raise AttributeError(attribute)
        return getattr(self.module, attribute)


def get_kind(name: str) -> SweepKind:
    """The kind registered as ``name``."""
    if name not in KINDS:
        raise SimsearchError(f"kind: must be one of {', '.join(KINDS)} (got {name!r})")
    return SweepKind(name)


def unknown_statistic(stat: str, known: str, where: str) -> SimsearchError:
    """The one-line error for a statistic name a kind does not know."""
    return SimsearchError(f"{where}: unknown statistic {stat!r}; known: {known}")
