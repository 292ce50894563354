"""The ``passk`` sweep kind: repeated sampling of a problem population, pass@k statistics.

A point's config has ``dist`` (a spec string, or a table ``name = FAMILY`` with its parameters,
whose parameters are then sweepable), ``problems`` and ``k``. Statistics, per replicate:
``exponent`` (power-law fit of the simulated -log pass@k over the k grid), ``local_exponent``
(the slope between the last two k), ``tail_exponent`` (the theory), and ``pass_at_k@K``,
``neg_log_pass_at_k@K``, ``expected_pass_at_k@K`` at a K on the grid.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import SimsearchError, require
from . import PointResult, unknown_statistic

STATISTICS = ("exponent", "local_exponent", "tail_exponent")
AT_K = ("pass_at_k", "neg_log_pass_at_k", "expected_pass_at_k")
DEFAULT_STATISTICS = STATISTICS
ROW_KEYS = ()


def check_statistics(statistics, where: str) -> tuple[str, ...]:
    require(isinstance(statistics, list) and statistics and
            all(isinstance(s, str) for s in statistics),
            f"{where}: statistics must be a non-empty list of names")
    for stat in statistics:
        name, _, k = stat.partition("@")
        if not ((name in STATISTICS and not k) or (name in AT_K and k.isdigit())):
            raise unknown_statistic(stat, f"{', '.join(STATISTICS)}, and {', '.join(AT_K)} "
                                          f"as NAME@K", where)
    return tuple(statistics)


def check_options(doc: dict, where: str) -> dict:
    require("returns" not in doc, f"{where}: returns: only a labs sweep takes [returns]")
    return {}


def check_point(config: dict, statistics, replicates: int, where: str) -> None:
    """Validate one point's config, the statistics against it and its memory, without
    simulating."""
    from ...sampling.grid import check_memory

    try:
        _, _, problems = _point_inputs(config, statistics)
        check_memory(problems, replicates, per_problem=False)
    except SimsearchError as exc:
        raise SimsearchError(f"{where}: {exc}") from None


def point_statistics(statistics) -> tuple[str, ...]:
    return ()


def warm() -> None:
    """Load numba's first-success kernel: a worker's points then all run on it, rather than
    the first of them drawn interpreted (which pays off only for a process of few points)."""
    from ...sampling.passk import load_kernel

    load_kernel()


def _passk_distribution(spec):
    from ...distributions.spec import parse_distribution, spec_of_table

    return parse_distribution(spec_of_table(spec))


def _slope_exponent(k: np.ndarray, pass_at_k: np.ndarray) -> float:
    from ...fitting.line import power_law_line

    line = power_law_line(k, pass_at_k)
    return math.nan if line is None else -line.slope


def _point_inputs(config: dict, statistics):
    """A point's distribution, k grid and number of problems, each checked (one-line errors
    naming the key), and every NAME@K statistic's K checked to be on the grid."""
    from ...errors import as_count
    from ...sampling.grid import as_k_grid, parse_k_grid

    unknown = sorted(set(config) - {"dist", "problems", "k"})
    if unknown:
        raise SimsearchError(f"config: unknown key {unknown[0]!r}; passk takes dist, problems, k")
    require("dist" in config, "config: passk needs dist")
    dist = _passk_distribution(config["dist"])
    k = config.get("k", "1,10,100,1000,10000")
    k_grid = parse_k_grid(k) if isinstance(k, str) else as_k_grid(k)
    problems = as_count("problems", config.get("problems", 100_000))
    for stat in statistics:
        name, _, at = stat.partition("@")
        require(name not in AT_K or int(at) in k_grid,
                f"statistics: {stat}: k = {at} is not on the k grid")
    return dist, k_grid, problems


def evaluate_passk(config: dict, statistics, replicates: int, seed) -> list[dict]:
    """Run one passk point; one dict of statistics per replicate."""
    from ...sampling.passk import simulate_pass_at_k

    dist, k_grid, problems = _point_inputs(config, statistics)
    res = simulate_pass_at_k(dist, k_grid, problems, replicates=replicates, seed=seed)
    rows = []
    for r in range(replicates):
        row = {}
        for stat in statistics:
            name, _, at = stat.partition("@")
            if name == "exponent":
                row[stat] = _slope_exponent(res.k, res.pass_at_k[r])
            elif name == "local_exponent":
                row[stat] = _slope_exponent(res.k[-2:], res.pass_at_k[r, -2:])
            elif name == "tail_exponent":
                b = dist.tail_exponent
                row[stat] = math.nan if b is None else float(b)
            else:
                where = np.flatnonzero(res.k == int(at))
                source = {"pass_at_k": res.pass_at_k[r], "expected_pass_at_k":
                          res.expected_pass_at_k, "neg_log_pass_at_k":
                          res.neg_log_pass_at_k[r]}[name]
                row[stat] = float(source[where[0]])
        rows.append(row)
    return rows


def evaluate(config: dict, statistics, replicates: int, seed, options: dict) -> PointResult:
    # evaluate_passk is looked up at call time, so patching it (simsearch.sweep.kinds.passk.evaluate_passk)
    # reaches the sweep.
    rows = evaluate_passk(config, statistics, replicates, seed)
    return PointResult([{"replicate": r, **row} for r, row in enumerate(rows)])
