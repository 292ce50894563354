"""How much work a labs run is, estimated from its config before anything runs (issue 19.3).

:func:`estimate_work` bounds, per replicate, the attempts, the kernel's events (one per block of
attempts: a win, a block that ends without one, a period end) and the wins, and the memory the
result takes; :func:`check_work` refuses, with one line naming the estimate and the option that
raises the limit, a run past :data:`MAX_EVENTS` events or :data:`MAX_MEMORY` bytes. The kernel
then stops any replicate that passes its share of the events (:func:`replicate_event_limit`),
so a run whose estimate was wrong still ends.

The estimates are closed forms, upper bounds where the model gives one and expectations where
it only gives those (the ideas a stream needs before a lab's multiplier reaches
``[limits] multiplier``):

- compute: the sum of a lab's budgets over the periods, times ``cap^(s - elasticity)`` when its
  automation s exceeds its cost elasticity (its rate is budget x A^s, an attempt costs
  cost x A^elasticity and A stays at most the cap; A >= 1 is assumed, as for Pareto values and
  ``combine = "max"``);
- attempts: compute / cost;
- wins: at most the attempts; in a finite pool without replenishment at most ideas per lab
  (each lab solves each idea once), with replenishment r < 1 / labs at most
  ideas / (1 - r labs) per lab on average, and at most max_ideas per lab;
- events: a stream lab has one per idea it tries (at most its attempts, and on average
  wins to the cap / P(an idea is solved) when capped); a round-robin or patience lab on a pool
  has one per win; greedy has one per win when all ideas are worth the same (water-filling),
  else up to one per attempt (an upper bound: it reads its attempts off a sorted window in
  blocks that run to the next win, but an idea left to the index heap can interleave with the
  window attempt by attempt); every lab has one per period end;
- memory: the per-period tables (48 bytes per replicate, lab and period), the doubling and cap
  times, and the win rows when they are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import SimsearchError
from ..kernels.inputs import VALUE_FIXED, VALUE_LOGNORMAL, VALUE_PARETO
from .config import POLICIES, LabsConfig

#: Most kernel events a run may take (``max_events``, ``--max-events``): about 5-10 minutes
#: on one core at the kernel's ~1e6 events per second on a stream (measured: 1e7 ideas of an
#: endless stream in 8-13 s), and 3x the largest run of the experiments (1.6e8).
MAX_EVENTS = 500_000_000
#: Most bytes a run's result may hold in memory (``max_memory``, ``--max-memory``).
MAX_MEMORY = 4_000_000_000
#: A replicate may take this many times the events estimated for it before the kernel stops it
#: (estimates of capped runs are means, and replicates vary about them).
EVENT_SLACK = 16.0
#: Bytes per replicate, lab and period of the per-period tables (six 8-byte columns).
_PERIOD_BYTES = 48
#: Bytes of a win row: the kernel's nine columns (``simsearch.labs.engine._WIN_DTYPES``), the
#: replicate and the win number.
WIN_ROW_BYTES = 8 * 7 + 1 + 8 * 3


@dataclass(frozen=True)
class WorkEstimate:
    """Work of a labs run; ``attempts``, ``events`` and ``wins`` are per replicate.

    ``memory`` is the bytes of the result (tables and, if kept, win rows), ``win_rows`` the
    win rows kept (0 without them)."""

    replicates: int
    attempts: float
    events: float
    wins: float
    win_rows: float
    memory: float

    @property
    def total_events(self) -> float:
        return self.events * self.replicates


def _budget_sum(lab, periods: int) -> tuple[float, float]:
    """sum_t budget (1 + growth)^t over the periods and its log (the sum itself is exact for
    constant budgets; validation keeps every budget <= 1e300, so the sum is finite)."""
    g = lab.growth
    if g == 0.0:
        total = lab.budget * periods
        return total, math.log(total)
    x = periods * math.log1p(g)
    # sum = budget ((1 + g)^P - 1) / g, in log space where (1 + g)^P alone would overflow.
    if x < 700:
        total = lab.budget * math.expm1(x) / g
        return total, math.log(total)
    log_total = math.log(lab.budget) + x + math.log(-math.expm1(-x)) - math.log(g)
    return math.exp(log_total), log_total


def _wins_to_cap(config: LabsConfig) -> float:
    """Mean wins a lab needs before its multiplier reaches the cap on its own wins (inf if it
    may never, or without a cap)."""
    cap = config.limits.multiplier
    if cap is None:
        return math.inf
    log_cap = math.log(cap)
    value = config.pool.value
    kind, a, b = value.kernel if value is not None else (VALUE_FIXED, 1.0, 0.0)
    if config.pool.combine == "max":  # the best value so far: wins until one reaches the cap
        if kind == VALUE_PARETO:
            return math.exp(a * log_cap)
        if kind == VALUE_LOGNORMAL:
            tail = 0.5 * math.erfc((log_cap - a) / (b * math.sqrt(2.0))) if b > 0 else \
                float(a >= log_cap)
            return 1.0 / tail if tail > 0 else math.inf
        return 1.0 if math.log(a) >= log_cap else math.inf
    # The product of the values: log A gains E[log v] per win.
    if kind == VALUE_PARETO:
        mean_log = 1.0 / a
    elif kind == VALUE_LOGNORMAL:
        mean_log = a
    else:
        mean_log = math.log(a)
    return math.ceil(log_cap / mean_log) + 1.0 if mean_log > 0 else math.inf


#: Rounds at which :func:`_attempts_to_win` looks up a pool's solved fraction: 1 to 1e30.
_ROUNDS_GRID = 10.0 ** np.arange(0.0, 30.01, 0.05)


def _attempts_to_win(config: LabsConfig, wins: float, m: int) -> float:
    """Attempts after which rounds of ``m`` attempts per unsolved idea have solved ``wins`` of
    the initial pool on average (inf if they never do): ideas x m x k for the fewest rounds k
    of the grid with ideas x (1 - E[(1 - p)^(k m)]) >= wins."""
    ideas = config.pool.ideas
    solved = ideas * (1.0 - np.asarray(config.pool.difficulty.expected_failure(_ROUNDS_GRID * m)))
    enough = np.flatnonzero(solved >= wins)
    return ideas * m * float(_ROUNDS_GRID[enough[0]]) if enough.size else math.inf


def _pool_wins(config: LabsConfig) -> float:
    """Most wins (all labs) a finite pool allows per replicate; inf for a stream."""
    pool, labs = config.pool, len(config.labs)
    if pool.endless:
        return math.inf
    most = math.inf if pool.max_ideas is None else float(pool.max_ideas) * labs
    if pool.replenish == 0:
        return min(most, float(pool.ideas) * labs)
    if pool.replenish * labs < 1:  # W <= labs (ideas + r W) on average
        return min(most, pool.ideas * labs / (1.0 - pool.replenish * labs))
    return most


def estimate_work(config: LabsConfig, replicates: int, record_wins: bool,
                  doublings: int = 64) -> WorkEstimate:
    """Attempts, events and wins per replicate, and the result's memory (see the module).

    Parameters
    ----------
    config : LabsConfig
    replicates : int
    record_wins : bool
        Whether one row per win is kept (counted in the memory).
    doublings : int
        Doubling times recorded per lab (:func:`simsearch.labs.engine.doubling_width`).

    Returns
    -------
    WorkEstimate
    """
    pool, periods = config.pool, config.periods
    cap = config.limits.multiplier
    value_kind = pool.value.kernel[0] if pool.value is not None else VALUE_FIXED
    to_cap = _wins_to_cap(config)
    pool_wins = _pool_wins(config)
    n_labs = len(config.labs)
    attempts = events = wins = 0.0
    for lab in config.labs:
        compute, log_compute = _budget_sum(lab, periods)
        excess = max(lab.automation) - lab.elasticity
        speedup = 0.0  # log of the most A^(s - elasticity) can multiply the attempts by
        if excess > 0 and cap is not None:
            speedup = excess * math.log(cap)
        log_attempts = log_compute + speedup - math.log(lab.cost)
        lab_attempts = (compute * math.exp(speedup) / lab.cost if log_attempts < 700
                        else math.inf)
        m = lab.patience
        if excess > 0 and cap is not None and not pool.endless:
            # Feedback speeds the lab up until A reaches the cap: the attempts its own wins
            # to the cap take on the pool (on average, as if in rounds) bound it sooner.
            lab_attempts = min(lab_attempts, _attempts_to_win(config, to_cap, m))
        if pool.endless:
            solved = 1.0 - float(pool.difficulty.expected_failure(m))  # P(an idea is solved)
            ideas = min(lab_attempts, to_cap / solved if solved > 0 else math.inf)
            lab_attempts = min(lab_attempts, ideas * m)
            lab_wins = min(lab_attempts * solved, to_cap)
            lab_events = ideas
        else:
            lab_wins = min(lab_attempts, pool_wins / n_labs, to_cap)
            if not POLICIES[lab.policy].ranks_ideas:
                lab_events = lab_wins
            elif value_kind == VALUE_FIXED:  # water-filling: wins and catching up
                lab_events = min(lab_attempts, 2.0 * lab_wins * (1.0 + pool.replenish))
            else:
                lab_events = lab_attempts
        attempts += lab_attempts
        events += lab_events + periods
        wins += lab_wins
    wins = min(wins, pool_wins)
    memory = replicates * n_labs * (periods * _PERIOD_BYTES + 8.0 * (1 + doublings)) \
        + 16.0 * replicates
    win_rows = wins * replicates if record_wins else 0.0
    memory += win_rows * WIN_ROW_BYTES
    return WorkEstimate(replicates, attempts, events, wins, win_rows, memory)


def check_work(estimate: WorkEstimate, max_events: float = MAX_EVENTS,
               max_memory: float = MAX_MEMORY) -> None:
    """Refuse a run past ``max_events`` kernel events or ``max_memory`` bytes of result, with
    one line naming the estimate and the option (CLI and Python) that raises the limit."""
    total = estimate.total_events
    if total > max_events:
        raise SimsearchError(
            f"max_events: the run needs about {total:.3g} kernel events "
            f"({estimate.replicates:,} replicates x {estimate.events:.3g}: "
            f"{estimate.attempts:.3g} attempts and {estimate.wins:.3g} wins each), past the "
            f"limit of {max_events:.3g}; raise it (--max-events N, max_events=N) or lower "
            "replicates, budgets, periods or the cap")
    if estimate.memory > max_memory:
        wins = (f", {estimate.win_rows:.3g} win rows (--no-wins, record_wins=False keeps "
                f"none)" if estimate.win_rows else "")
        raise SimsearchError(
            f"max_memory: the result needs about {estimate.memory / 1e9:.3g} GB "
            f"({estimate.replicates:,} replicates{wins}), past the limit of "
            f"{max_memory / 1e9:.3g} GB; raise it (--max-memory GB, max_memory=bytes) or "
            "lower replicates or periods")


def replicate_event_limit(estimate: WorkEstimate, max_events: float = MAX_EVENTS) -> int:
    """Events after which the kernel stops a replicate: ``EVENT_SLACK`` times its estimate or
    its share of ``max_events``, whichever is larger, and never more than ``max_events``."""
    share = max(EVENT_SLACK * estimate.events, max_events / estimate.replicates)
    return int(min(share, max_events, 2.0 ** 62))
