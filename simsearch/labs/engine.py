"""Research labs searching a pool of ideas: the simulation (:func:`simulate_labs`).

A *pool* holds N ideas (or an endless stream), each with a difficulty p (any distribution spec
of :mod:`simsearch.distributions`) and a value v (:mod:`simsearch.values`), the factor a win
multiplies the lab's effective compute by. *Labs* spend a compute budget per period, growing
by ``growth`` each period, on attempts costing ``cost * multiplier**elasticity``, in the order
their *policy* sets (what is left of a period's budget short of one attempt is not carried
over):

- ``round-robin``: every round tries each unsolved idea once, so after k rounds an idea is still
  unsolved with probability (1-p)^k (Schaeffer's repeated sampling);
- ``patience(m)``: rounds that give each unsolved idea up to m attempts in a row;
- ``greedy``: always the idea with the largest expected prize v E[p | failures so far], under a
  Beta prior matched to the difficulty distribution's mean and variance.

A win is published with probability ``sharing``: it leaves every lab's pool (a lab in the middle
of an attempt on it loses the compute done on that attempt) and its value reaches every lab that
had not found it; otherwise it stays private. ``replenish`` new ideas join the
pool per win (fractional values add one more with that probability), in the winner's pool only
unless published; the pool grows as needed, up to ``max_ideas`` if set (ideas beyond it are
dropped and counted). With ``ideas = "inf"`` every policy tries fresh ideas, up to m attempts each
(m = 1 for round-robin); with Pareto values and ``combine = "max"`` the multiplier is the best
value found so far: Kortum's (1997) model of research as search.

*Feedback*: a lab with ``automation`` s (a number or a per-period schedule) has its research
partly done by the AI it improves, spending budget x A^s per unit time, re-evaluated the moment
A changes (an attempt in progress keeps the compute spent on it). ``[limits] multiplier`` stops a
lab once A reaches it; the kernel records when, and when A first reached each power of two
(``LabsResult.limits``; :mod:`simsearch.labs.theory` has the explosion conditions).

Everything stochastic comes from explicit streams spawned per replicate from the seed, so results
are bit-identical whatever the number of threads. The config schema is :mod:`.config`, the result
tables :mod:`.results`; this module turns a config into the kernel's typed bundles
(:mod:`simsearch.kernels.labs`) and runs it in batches of replicates.
"""

from __future__ import annotations

import math
import threading
import time

import numba
import numpy as np

from ..distributions.families import Distribution
from ..errors import SimsearchError, as_count, require
from ..kernels.inputs import VALUE_FIXED, Difficulty, kernel_table
from ..kernels.labs import (EVENTS_EXCEEDED, NO_CAP, WINDOW_HOT, WINDOW_HOT_SHARE,
                            WINDOW_LOG_TRIALS, WINDOW_MIN, WINDOW_SORT_RUN, LabParams,
                            LimitRecord, PeriodRecord, PoolParams, WinRecord,
                            simulate_replicates)
from ..seeding import child, seed_sequence, stream_states
from .config import COMBINES, POLICIES, LabsConfig
from .results import LabsResult
from .work import (MAX_EVENTS, MAX_MEMORY, WIN_ROW_BYTES, WorkEstimate, check_work,
                   estimate_work, replicate_event_limit)


def _beta_prior(dist: Distribution) -> tuple[float, float]:
    """Beta(a0, b0) with the difficulty distribution's mean and variance (greedy labs' belief)."""
    mean = 1.0 - float(dist.expected_failure(1))
    second = float(dist.expected_failure(2)) - 1.0 + 2.0 * mean
    var = second - mean * mean
    if not (0 < mean < 1) or var <= 0:
        return 1.0, 1.0
    total = mean * (1.0 - mean) / var - 1.0
    if total <= 0:
        return 1.0, 1.0
    return mean * total, (1.0 - mean) * total


#: Greedy labs keep level ideas in rounds when every idea is worth the same, which needs the
#: index to fall with every failure in floating point: log(a0 + b0 + f) strictly increasing,
#: true for a0 + b0 + f below ~1e14. A tighter prior (a near-point difficulty) ties indices
#: over many failures, and greedy falls back to its index heap.
_TIGHT_PRIOR = 1e12


def _kernel_arguments(config: LabsConfig) -> tuple[Difficulty, PoolParams, LabParams]:
    """The config as the kernel's typed bundles (every field cast, so one compiled kernel
    serves all configs)."""
    pool, labs = config.pool, config.labs
    v_kind, v_a, v_b = pool.value.kernel if pool.value is not None else (VALUE_FIXED, 1.0, 0.0)
    prior_a, prior_b = _beta_prior(pool.difficulty) \
        if any(POLICIES[lab.policy].ranks_ideas for lab in labs) else (1.0, 1.0)
    difficulty = Difficulty(*kernel_table(pool.difficulty))
    pool_params = PoolParams(
        ideas=int(pool.ideas or 0), endless=bool(pool.endless),
        max_ideas=int(NO_CAP if pool.max_ideas is None else pool.max_ideas),
        replenish=float(pool.replenish), combine=int(COMBINES[pool.combine]),
        sharing=float(config.sharing), periods=int(config.periods), value_kind=int(v_kind),
        value_a=float(v_a), value_b=float(v_b), prior_a=float(prior_a), prior_b=float(prior_b),
        greedy_rounds=bool(v_kind == VALUE_FIXED and prior_a + prior_b < _TIGHT_PRIOR),
        log_cap=float(math.log(config.limits.multiplier)
                      if config.limits.multiplier is not None else math.inf),
        window_min=int(WINDOW_MIN), window_hot=int(WINDOW_HOT),
        window_hot_share=float(WINDOW_HOT_SHARE), window_sort_run=int(WINDOW_SORT_RUN),
        window_log_trials=int(WINDOW_LOG_TRIALS))
    # Schedules padded with their last value: period t uses column min(t, width - 1).
    width = max(len(lab.automation) for lab in labs)
    automation = np.array([lab.automation + lab.automation[-1:] * (width - len(lab.automation))
                           for lab in labs], dtype=np.float64)
    lab_params = LabParams(
        budget=np.array([lab.budget for lab in labs], dtype=np.float64),
        growth=np.array([lab.growth for lab in labs], dtype=np.float64),
        cost=np.array([lab.cost for lab in labs], dtype=np.float64),
        elasticity=np.array([lab.elasticity for lab in labs], dtype=np.float64),
        policy=np.array([lab.policy_code for lab in labs], dtype=np.int64),
        quantum=np.array([lab.patience for lab in labs], dtype=np.float64),
        automation=automation)
    return difficulty, pool_params, lab_params


_WIN_DTYPES = WinRecord(lab=np.int64, idea=np.int64, compute=np.float64, time=np.float64,
                        p=np.float64, log_value=np.float64, attempts=np.float64,
                        log_multiplier=np.float64, published=np.bool_)
_PERIOD_DTYPES = PeriodRecord(compute=np.float64, cumulative_compute=np.float64,
                              log_multiplier=np.float64, wins=np.float64,
                              pool_remaining=np.int64, ideas_tried=np.float64)


#: Most win rows a batch's buffers hold before any is run again with more (8 bytes or less
#: each per column, and untouched rows cost no memory).
_BATCH_WIN_ROWS = 2 ** 24
#: Most win rows a run records (about 90 bytes each in memory, more while tables are built);
#: a run that would record more is refused with the estimate (record_wins=False keeps none).
MAX_WIN_ROWS = 20_000_000


def _refuse_win_rows(rows: float) -> None:
    raise SimsearchError(
        f"wins: recording every win needs about {rows:.3g} rows "
        f"({rows * WIN_ROW_BYTES / 1e9:.3g} GB; at most {MAX_WIN_ROWS:,} rows are "
        "kept); run without wins (--no-wins, record_wins=False), with fewer replicates or "
        "a smaller budget")


def _check_win_rows(rows: int, done: int, replicates: int, batch_rows: int) -> None:
    """Refuse, before allocating, a run whose win rows (``rows`` in the first ``done``
    replicates, projected to all) or next batch buffer would exceed ``MAX_WIN_ROWS``."""
    projected = rows * replicates / done
    if max(projected, batch_rows) > MAX_WIN_ROWS:
        _refuse_win_rows(projected)


def check_labs_work(config: LabsConfig, replicates: int | None = None, *,
                    record_wins: bool = True, max_events: float = MAX_EVENTS,
                    max_memory: float = MAX_MEMORY) -> WorkEstimate:
    """Estimate a run's work from its config (:mod:`simsearch.labs.work`) and refuse, before
    anything runs, one past ``max_events`` kernel events, ``max_memory`` bytes of result or,
    when wins are kept, ``MAX_WIN_ROWS`` win rows (issue 19.3).

    Returns
    -------
    WorkEstimate
        The estimate (:func:`simulate_labs` gives each replicate an event budget from it).

    Raises
    ------
    SimsearchError
        One line naming the estimate and the option that raises the limit.
    """
    replicates = as_count("replicates", config.replicates if replicates is None else replicates)
    require(max_events >= 1, f"max_events: must be a number >= 1 (got {max_events!r})")
    require(max_memory > 0, f"max_memory: must be a number of bytes > 0 (got {max_memory!r})")
    estimate = estimate_work(config, replicates, record_wins, doubling_width(config))
    check_work(estimate, max_events, max_memory)
    if estimate.win_rows > MAX_WIN_ROWS:
        _refuse_win_rows(estimate.win_rows)
    return estimate


class LabsInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`simulate_labs`. ``result`` holds the replicates finished before it,
    0 to k-1 (exactly what a run with ``replicates=k`` gives), or None if none finished."""

    def __init__(self, result: LabsResult | None):
        super().__init__("interrupted")
        self.result = result


def _call_interruptibly(kernel, calls, *, stop: np.ndarray) -> None:
    """Run a GIL-releasing kernel once per argument tuple of ``calls``, each in its own thread,
    so Ctrl-C reaches Python at once; on Ctrl-C set ``stop`` (the kernel polls it every few
    thousand events), wait for the threads and re-raise."""
    failure = []

    def run(args):
        try:
            kernel(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    threads = [threading.Thread(target=run, args=(args,), name=f"simsearch-labs-{i}",
                                daemon=True) for i, args in enumerate(calls)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    except KeyboardInterrupt:
        stop[0] = 1
        for thread in threads:
            thread.join()
        raise
    if failure:
        raise failure[0]


def doubling_width(config: LabsConfig) -> int:
    """Doublings of A recorded per lab: up to the cap (at most 1024), else the first 64."""
    cap = config.limits.multiplier
    return min(int(math.floor(math.log2(cap))), 1024) if cap is not None else 64


def _run_batch(states, args, n_labs, periods, win_cap, stop=None, doublings=64,
               max_events=2**62):
    """Run replicates with their stream states; (wins, periods, n_wins, dropped, limits): dicts
    of arrays (replicates, win_cap) and (replicates, labs, periods), arrays (replicates,) and
    a dict of cap_time (replicates, labs) and doubling_time (replicates, labs, doublings).
    A replicate that takes more than ``max_events`` events is stopped (its n_wins is
    ``EVENTS_EXCEEDED``).

    The replicates are dealt out to ``numba.get_num_threads()`` threads (thread i runs
    replicates i, i + threads, ...); each replicate has its own streams and output rows, so
    results do not depend on the number of threads."""
    r = states.shape[0]
    wins = WinRecord(*(np.zeros((r, win_cap), dtype=dt) for dt in _WIN_DTYPES))
    per = PeriodRecord(*(np.zeros((r, n_labs, periods), dtype=dt) for dt in _PERIOD_DTYPES))
    limits = LimitRecord(np.full((r, n_labs), np.nan), np.full((r, n_labs, doublings), np.nan))
    n_wins = np.zeros(r, dtype=np.int64)
    dropped = np.zeros(r, dtype=np.int64)
    stop = np.zeros(1, dtype=np.int64) if stop is None else stop
    states = states.copy()
    n_threads = max(1, min(numba.get_num_threads(), r))
    calls = [(states, *args, wins, per, limits, n_wins, dropped, stop, np.int64(max_events),
              np.arange(i, r, n_threads, dtype=np.int64)) for i in range(n_threads)]
    _call_interruptibly(simulate_replicates, calls, stop=stop)
    return wins._asdict(), per._asdict(), n_wins, dropped, limits._asdict()


def _replicate_states(seq, first: int, stop: int, n_streams: int) -> np.ndarray:
    """Stream states (stop - first, n_streams, 4) of replicates first..stop-1, replicate r's
    from ``child(seq, r)``; made batch by batch, so a run of many replicates starts at once
    and Ctrl-C is never stuck in seeding."""
    return np.stack([stream_states(child(seq, r), n_streams) for r in range(first, stop)])


def _win_numbers(replicate: np.ndarray, lab: np.ndarray, n_labs: int) -> np.ndarray:
    """1, 2, ... within each (replicate, lab), rows being in time order within a replicate."""
    key = replicate * n_labs + lab
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    counts = np.diff(np.r_[starts, len(key)])
    rank = np.arange(len(key)) - np.repeat(starts, counts)
    out = np.empty(len(key), dtype=np.int64)
    out[order] = rank + 1
    return out


def simulate_labs(config: LabsConfig, *, replicates: int | None = None, seed=None,
                  record_wins: bool = True, progress: bool = False,
                  max_events: float = MAX_EVENTS, max_memory: float = MAX_MEMORY) -> LabsResult:
    """Simulate ``replicates`` independent runs of a labs experiment.

    Parameters
    ----------
    config : LabsConfig
    replicates : int, optional
        Overrides ``config.replicates``.
    seed : int or numpy.random.SeedSequence, optional
        Overrides ``config.seed``; with neither, fresh entropy (recorded in the result).
    record_wins : bool
        Keep one row per win (``False`` keeps only the per-period tables, for big sweeps).
    progress : bool
        Show a tqdm bar over replicates.
    max_events, max_memory : float
        Limits on the run's work, estimated from the config before it starts
        (:func:`check_labs_work`): kernel events over all replicates, and bytes of the result.
        A replicate that passes ``EVENT_SLACK`` times its estimated events (or its share of
        ``max_events``, if more) is stopped and the run refused, so every run ends.

    Returns
    -------
    LabsResult

    Raises
    ------
    LabsInterrupted
        On Ctrl-C (within a fraction of a second), with the replicates finished before it.
    SimsearchError
        If the estimated work passes ``max_events`` or ``max_memory``, a replicate passes its
        event budget, or recording every win would exceed ``MAX_WIN_ROWS`` rows.
    """
    replicates = as_count("replicates", config.replicates if replicates is None else replicates)
    estimate = check_labs_work(config, replicates, record_wins=record_wins,
                               max_events=max_events, max_memory=max_memory)
    event_limit = replicate_event_limit(estimate, max_events)
    seq = seed_sequence(config.seed if seed is None else seed)
    n_labs, periods = len(config.labs), config.periods
    args = _kernel_arguments(config)
    pool = config.pool
    # Room for the wins estimated (zeroed buffers cost no memory until written), so that a
    # replicate with many wins is rarely run twice; a pool without replenishment has at most
    # ideas x labs wins.
    win_cap = int(max(4096, min(estimate.wins + 16, 2.0 ** 40))) if record_wins else 0
    if not pool.endless and pool.replenish == 0:
        win_cap = min(win_cap, pool.ideas * n_labs)

    # Batches bound the memory of the win buffers and drive the progress bar: one replicate per
    # thread at first, larger while batches take under half a second.
    batch = max(1, numba.get_num_threads())
    win_parts, per_parts, n_wins_parts, dropped_parts = [], [], [], []
    doublings = doubling_width(config)
    recorded = done = 0
    stop = np.zeros(1, dtype=np.int64)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=replicates, unit="replicate", desc="labs")
    try:
        while done < replicates:
            end = min(done + batch, replicates)
            began = time.perf_counter()
            states = _replicate_states(seq, done, end, n_labs + 3)
            cap = min(win_cap, max(4096, _BATCH_WIN_ROWS // (end - done)))
            wins, per, n_wins, dropped, limits = _run_batch(states, args, n_labs, periods,
                                                            cap, stop, doublings, event_limit)
            _check_events(n_wins, done, event_limit, estimate)
            if record_wins and n_wins.max(initial=0) > cap:
                # Rerun the batch (same streams, same results) with room for every win.
                cap = int(n_wins.max() * 1.25) + 16
                win_cap = max(win_cap, cap)
                _check_win_rows(recorded + int(n_wins.sum()), end, replicates,
                                (end - done) * cap)
                wins, per, n_wins, dropped, limits = _run_batch(states, args, n_labs, periods,
                                                                cap, stop, doublings,
                                                                event_limit)
            if record_wins:
                rows = {k: np.concatenate([v[i, :n_wins[i]] for i in range(len(n_wins))])
                        for k, v in wins.items()}
                rows["replicate"] = np.repeat(np.arange(done, end), n_wins)
                win_parts.append(rows)
                recorded += int(n_wins.sum())
            per_parts.append({**per, **limits})
            n_wins_parts.append(n_wins)
            dropped_parts.append(dropped)
            if bar is not None:
                bar.update(end - done)
            done = end
            if time.perf_counter() - began < 0.5:
                batch = min(2 * batch, 256)
    except KeyboardInterrupt:
        partial = None
        if done > 0:
            partial = _assemble(config, done, seq, win_parts, per_parts, n_wins_parts,
                                dropped_parts, record_wins)
        raise LabsInterrupted(partial) from None
    finally:
        if bar is not None:
            bar.close()
    result = _assemble(config, replicates, seq, win_parts, per_parts, n_wins_parts,
                       dropped_parts, record_wins)
    _refuse_overflow(result)
    return result


def _check_events(n_wins: np.ndarray, first: int, event_limit: int,
                  estimate: WorkEstimate) -> None:
    """Refuse the run if a replicate of the batch (replicates first, ...) passed its event
    budget: the estimate was wrong, and the run could have gone on for much longer."""
    over = np.flatnonzero(n_wins == EVENTS_EXCEEDED)
    if over.size:
        raise SimsearchError(
            f"max_events: replicate {first + int(over[0])} passed {event_limit:,} events "
            f"(estimated {estimate.events:.3g} per replicate) and was stopped; raise the limit "
            "(--max-events, max_events=) or lower budgets, periods or the cap")


def _refuse_overflow(result) -> None:
    """Refuse a result holding a number that is not what happened: compute or a log
    multiplier past float64's range (issue 19.4). Values and budgets are checked up front;
    only many wins can carry A this far, and ``limits.multiplier`` stops labs before it."""
    per = result.periods
    if not all(np.isfinite(per[k]).all() for k in ("compute", "cumulative_compute",
                                                    "log_multiplier")):
        raise SimsearchError(
            "limits.multiplier: a lab's compute or multiplier passed float64's range, so it "
            "cannot be reported; set [limits] multiplier = 1e300 or less to stop labs there")


def _assemble(config, replicates, seq, win_parts, per_parts, n_wins_parts, dropped_parts,
              record_wins) -> LabsResult:
    """One result from the batches' parts, cut to the first ``replicates`` (Ctrl-C can land
    between the parts of a batch)."""
    wins = None
    if record_wins:
        wins = {k: np.concatenate([part[k] for part in win_parts]) for k in win_parts[0]}
        keep = wins["replicate"] < replicates
        wins = {k: v[keep] for k, v in wins.items()}
        wins["win"] = _win_numbers(wins["replicate"], wins["lab"], len(config.labs))
    periods_out = {k: np.concatenate([part[k] for part in per_parts])[:replicates]
                   for k in per_parts[0]}
    limits = {k: periods_out.pop(k) for k in LimitRecord._fields}
    return LabsResult(config, replicates, int(seq.entropy), wins, periods_out,
                      np.concatenate(n_wins_parts)[:replicates],
                      np.concatenate(dropped_parts)[:replicates], limits)
