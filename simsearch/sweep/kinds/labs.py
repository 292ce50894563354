"""The ``labs`` sweep kind: labs searching a pool of ideas (:func:`simsearch.labs.simulate_labs`).

The base is a labs config (the TOML of ``simsearch labs``), validated by
:func:`~simsearch.labs.labs_config`; axes are dotted keys into it (``lab.0.budget`` or
``lab.frontier.budget``, ``pool.difficulty``, ``sharing``, ``periods``, ...). ``pool.difficulty``
and ``pool.value`` may be tables, ``{ name = "beta", alpha = 0.4, beta = 4.0 }``, so that their
parameters can be axes (``pool.difficulty.alpha``). A point runs
``simulate_labs(config, replicates=replicates, seed=point_seed)``: its config's own ``seed`` and
``replicates`` are replaced by the sweep's.

Statistics per replicate and lab (``results.csv`` has one row per point, replicate and lab, with
a ``lab`` column), where T is a number of periods (1 to ``periods``) or ``end``:

``wins@T``, ``compute@T`` (cumulative), ``log_multiplier@T``, ``pool_remaining@T``
    The lab's record at the end of period T (pool_remaining is NaN for an endless stream).
``doubling_time@T``
    Periods for the lab's multiplier A to double at period T's growth rate, log 2 / (log A_T -
    log A_{T-1}); inf if A did not grow.
``time_to_multiplier@X``
    The time (periods, with the fraction of the period from the wins' exact times) at which the
    lab's A first reaches X; NaN if it never does. It is the time of the win that carries A past
    X: the lab's own, or a published win of another lab spilling over (counted unless the lab
    had won that idea itself; a replenished idea another lab published without this lab ever
    holding it is counted too, as the wins table does not say who held it). A can fall (values
    below 1), so the first crossing may come before a period whose end is above X. When X is a
    doubling the kernel records (X = 2^k up to the cap, or k <= 64), the time is its exact
    first-passage record instead and no wins need be kept: sweeps of time to n doublings stay
    small whatever the number of wins.

Statistics per point (``points.csv``, one row per point, with ``NAME_low`` and ``NAME_high``
bootstrap intervals over the point's replicates): ``r``, ``lambda``, ``phi``, ``r_implied``,
``r_growth``, ``decline`` (of research productivity, Bloom et al.) and ``halving_time``, from
:class:`~simsearch.labs.ReturnsEstimator`, with the ``[returns]`` table of the sweep file
(``bootstrap`` = 200, ``confidence`` = 0.95, ``burn_in``) and a bootstrap seeded by the point's
child number ``replicates`` (children 0 to replicates - 1 seed the replicates).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import SimsearchError, require
from ...labs.returns import QUANTITIES
from ...seeding import child
from . import PointResult, unknown_statistic

AT_PERIOD = ("wins", "compute", "log_multiplier", "pool_remaining", "doubling_time")
AT_MULTIPLIER = ("time_to_multiplier",)
POINT = QUANTITIES  # r, lambda, phi, r_implied, r_growth, decline, halving_time
DEFAULT_STATISTICS = ("wins@end", "compute@end", "log_multiplier@end")
ROW_KEYS = ("lab",)
#: Units of the statistics (by name before '@') that have one, for the axis labels of figures.
UNITS = {"wins": "ideas won", "compute": "budget units", "pool_remaining": "ideas",
         "doubling_time": "periods", "time_to_multiplier": "periods",
         "halving_time": "periods", "decline": "log units per period"}
_RETURNS_DEFAULTS = {"bootstrap": 200, "confidence": 0.95, "burn_in": None}
_KNOWN = (f"{', '.join(POINT)} (per point); {', '.join(AT_PERIOD)} as NAME@T (T a period or "
          f"end); time_to_multiplier@X (X > 1)")


def _period(at: str):
    """T of NAME@T: an int >= 1, or -1 for ``end``; None if malformed."""
    if at == "end":
        return -1
    return int(at) if at.isdigit() and int(at) >= 1 else None


def _threshold(at: str):
    try:
        value = float(at)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 1 else None


def check_statistics(statistics, where: str) -> tuple[str, ...]:
    require(isinstance(statistics, list) and statistics and
            all(isinstance(s, str) for s in statistics),
            f"{where}: statistics must be a non-empty list of names")
    require(len(set(statistics)) == len(statistics),
            f"{where}: statistics: a name is given twice")
    for stat in statistics:
        name, at_sign, at = stat.partition("@")
        ok = ((name in POINT and not at_sign)
              or (name in AT_PERIOD and _period(at) is not None)
              or (name in AT_MULTIPLIER and _threshold(at) is not None))
        if not ok:
            raise unknown_statistic(stat, _KNOWN, where)
    return tuple(statistics)


def check_options(doc: dict, where: str) -> dict:
    """The ``[returns]`` table: bootstrap (int >= 0), confidence in (0, 1), burn_in (int)."""
    table = doc.get("returns", {})
    require(isinstance(table, dict), f"{where}: returns: must be a table ([returns])")
    extra = sorted(set(table) - set(_RETURNS_DEFAULTS))
    require(not extra, f"{where}: returns: unknown key {extra[0] if extra else ''!r}; allowed: "
                       f"{', '.join(_RETURNS_DEFAULTS)}")
    options = {**_RETURNS_DEFAULTS, **table}
    require(isinstance(options["bootstrap"], int) and not isinstance(options["bootstrap"], bool)
            and 0 <= options["bootstrap"] <= 100_000,
            f"{where}: returns.bootstrap: must be an integer in [0, 100000]")
    conf = options["confidence"]
    require(isinstance(conf, (int, float)) and not isinstance(conf, bool) and 0 < conf < 1,
            f"{where}: returns.confidence: must be a number in (0, 1)")
    burn = options["burn_in"]
    require(burn is None or (isinstance(burn, int) and not isinstance(burn, bool) and burn >= 0),
            f"{where}: returns.burn_in: must be an integer >= 0")
    return dict(table)


def labs_point_config(config: dict):
    """A point's config as a :class:`~simsearch.labs.LabsConfig`: ``pool.difficulty`` and
    ``pool.value`` may be tables (:func:`~simsearch.distributions.spec.spec_of_table`)."""
    from ...distributions.spec import spec_of_table
    from ...labs import labs_config

    pool = config.get("pool")
    if isinstance(pool, dict):
        config = {**config, "pool": {
            key: spec_of_table(value, f"pool.{key}")
            if key in ("difficulty", "value") and isinstance(value, dict) else value
            for key, value in pool.items()}}
    return labs_config(config)


def check_point(config: dict, statistics, replicates: int, where: str) -> None:
    """Validate one point's labs config, its NAME@T periods and its work (the limits of
    :func:`~simsearch.labs.check_labs_work`), without simulating."""
    from ...labs import check_labs_work

    try:
        labs = labs_point_config(config)
        for stat in statistics:
            name, _, at = stat.partition("@")
            if name in AT_PERIOD:
                _period_index(stat, at, labs.periods,
                              first=2 if name == "doubling_time" else 1)
        check_labs_work(labs, replicates, record_wins=_records_wins(labs, statistics))
    except SimsearchError as exc:
        raise SimsearchError(f"{where}: {exc}") from None


def point_statistics(statistics) -> tuple[str, ...]:
    return tuple(f"{q}{part}" for q in statistics if q in POINT
                 for part in ("", "_low", "_high"))


def _period_index(stat: str, at: str, periods: int, first: int = 1) -> int:
    t = _period(at)
    t = periods if t == -1 else t
    require(first <= t <= periods, f"statistics: {stat}: needs a period in [{first}, "
                                   f"{periods}] (the config has periods = {periods})")
    return t - 1


#: The kernel's log 2 (simsearch.kernels.labs.LOG2, not imported: that would load numba).
LOG2 = math.log(2.0)


def _recorded_doubling(x: float, width: int) -> int | None:
    """k if the kernel records the first passage of A through ``x`` as its k-th doubling
    (x = 2^k, k <= width, and log x tested exactly as the kernel tests it); else None."""
    k = round(math.log2(x))
    if 1 <= k <= width and 2.0 ** k == x and k * LOG2 == math.log(x):
        return k
    return None


def _crossing_times(result, log_x: float) -> np.ndarray:
    """Time each lab's A first reaches exp(log_x), (replicates, labs); NaN if never (see the
    module docstring). A changes only at wins, and can fall (a value below 1), so the wins are
    replayed in time order, with A set to its recorded value at every period end."""
    per = result.periods["log_multiplier"]
    n_rep, n_labs, n_periods = per.shape
    wins = result.wins
    combine_max = result.config.pool.combine == "max"
    starts = np.searchsorted(wins["replicate"], np.arange(n_rep + 1))
    out = np.full((n_rep, n_labs), math.nan)
    for r in range(n_rep):
        rows = slice(starts[r], starts[r + 1])
        lab, time = wins["lab"][rows], wins["time"][rows]
        idea, value = wins["idea"][rows], wins["log_value"][rows]
        after, published = wins["log_multiplier"][rows], wins["published"][rows]
        for j in range(n_labs):
            out[r, j] = _first_crossing(j, log_x, per[r, j], lab, time, idea, value, after,
                                        published, combine_max)
    return out


def _first_crossing(j, log_x, period_ends, lab, time, idea, value, after, published,
                    combine_max) -> float:
    level, won, k = 0.0, set(), 0
    for t in range(len(period_ends)):
        while k < len(time) and time[k] <= t + 1:  # a win at t + 1 ends period t
            if lab[k] == j:
                level = after[k]
                won.add(int(idea[k]))
            elif published[k] and not (idea[k] >= 0 and int(idea[k]) in won):
                level = max(level, value[k]) if combine_max else level + value[k]
            if level >= log_x:
                return float(time[k])
            k += 1
        level = period_ends[t]
        if level >= log_x:  # by a change no win row shows
            return t + 1.0
    return math.nan


def _replicate_rows(result, statistics) -> list[dict]:
    per = result.periods
    n_rep, n_labs, periods = per["wins"].shape
    columns = {}
    for stat in statistics:
        name, _, at = stat.partition("@")
        if name in POINT:
            continue
        if name == "time_to_multiplier":
            k = _recorded_doubling(float(at), result.doubling_times().shape[2])
            columns[stat] = (_crossing_times(result, math.log(float(at))) if k is None
                             else result.doubling_times()[:, :, k - 1])
            continue
        t = _period_index(stat, at, periods, first=2 if name == "doubling_time" else 1)
        if name == "wins":
            columns[stat] = per["wins"][:, :, t].astype(np.int64)
        elif name == "compute":
            columns[stat] = per["cumulative_compute"][:, :, t]
        elif name == "log_multiplier":
            columns[stat] = per["log_multiplier"][:, :, t]
        elif name == "pool_remaining":
            pool = per["pool_remaining"][:, :, t].astype(float)
            columns[stat] = np.where(pool >= 0, pool, math.nan)
        else:
            growth = per["log_multiplier"][:, :, t] - per["log_multiplier"][:, :, t - 1]
            with np.errstate(divide="ignore"):
                columns[stat] = np.where(growth > 0, math.log(2.0) / growth, math.inf)
    names = result.lab_names
    rows = []
    for r in range(n_rep):
        for j in range(n_labs):
            row = {"replicate": r, "lab": names[j]}
            for stat, values in columns.items():
                value = values[r, j]
                row[stat] = int(value) if values.dtype.kind == "i" else float(value)
            rows.append(row)
    return rows


def _returns_row(result, statistics, options: dict, seed) -> dict:
    from ...labs import ReturnsEstimator

    settings = {**_RETURNS_DEFAULTS, **options}
    fit = ReturnsEstimator(burn_in=settings["burn_in"], bootstrap=settings["bootstrap"],
                           confidence=settings["confidence"],
                           seed=child(seed, result.replicates)).fit(result)
    row = {}
    for q in statistics:
        if q in POINT:
            row[q] = fit.estimates_[q]
            row[f"{q}_low"], row[f"{q}_high"] = fit.intervals_[q]
    return row


def _records_wins(labs, statistics) -> bool:
    """Whether a point must keep its wins: thresholds at a doubling of A come from the
    kernel's own first-passage records; others replay the wins."""
    from ...labs.engine import doubling_width

    width = doubling_width(labs)
    return any(_recorded_doubling(float(s.partition("@")[2]), width) is None
               for s in statistics if s.startswith("time_to_multiplier@"))


def evaluate(config: dict, statistics, replicates: int, seed, options: dict) -> PointResult:
    """Run one labs point; rows per replicate and lab, and the point's returns if asked."""
    from ...labs import simulate_labs

    labs = labs_point_config(config)
    result = simulate_labs(labs, replicates=replicates, seed=seed,
                           record_wins=_records_wins(labs, statistics))
    point = (_returns_row(result, statistics, options, seed)
             if any(q in POINT for q in statistics) else None)
    return PointResult(_replicate_rows(result, statistics), point)
