"""Where to spend the next samples: an allocation of B more attempts that sharpens pass@K.

The prediction the planner improves is the *conditional* pass@K of the sampled problems: a
problem already solved within K attempts counts 1; an unsolved problem with n_i attempts counts
P(solved within K | none of n_i) = 1 - S(K) / S(n_i), where S(k) = 1 - pass@k is the survival of
the population fitted by a registered method (the default of ``simsearch fit``; any problem is
a draw from the population, so given its n_i failures its chance of K failures is the ratio).
Problems with n_i >= K count their unbiased pass@K estimate.

Its error has two parts:

* process variance: each unsolved problem's outcome at K is a Bernoulli with mean pi_i; sum of
  pi_i (1 - pi_i) / T^2. m more attempts on problem i solve it (variance 0) with probability
  1 - r, r = S(n+m) / S(n), else leave it at pi' = 1 - S(K) / S(n+m). The preposterior variance
  falls by a^2 (1/r - 1), a = S(K) / S(n): closed form, concave in m for the heavy-tailed
  survivals of real data, so the greedy allocation in batches is near optimal.
* model variance: the spread over bootstrap refits (:func:`.bootstrap.bootstrap_fits`) of the
  conditional prediction, each problem weighted by its chance r_i to stay unsolved after the
  plan and evaluated at n_i + m_i. The refit itself also improves with more data; that gain is
  not counted, so the model part of the promise is conservative.

A problem solved already gains nothing (its count at K is known): the stopping rule. Each
problem is capped at K - n_i (and at ``cap`` if given). The promise is
``sqrt(2/pi) * sd`` for the mean absolute error (a normal error).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
from scipy import special

from ..errors import SimsearchError, require
from .counts import CountTable
from ..kernels.unbiased import unbiased_pass_at_k
from ..seeding import child, seed_sequence
from .bootstrap import bootstrap_fits
from .methods import DEFAULT_METHOD, FittedMethod, get_method

__all__ = ["DEFAULT_REPLICATES", "STRATEGIES", "ErrorForecast", "GroupPlan", "Plan", "Replay",
           "ReplayResult", "caps_for", "conditional_pass_at_k", "hard_first_allocation", "plan",
           "plan_groups", "replay_plan", "replay_plan_groups", "round_budgets",
           "uniform_allocation"]

#: Greedy batches per round: each batch gives ceil(budget / GREEDY_STEPS) attempts to one problem.
GREEDY_STEPS = 400
#: Bootstrap refits for the model part of the error.
DEFAULT_REPLICATES = 40
#: Normal mean absolute error per standard deviation.
MEAN_ABS_PER_SD = math.sqrt(2.0 / math.pi)


class ErrorForecast(NamedTuple):
    """Forecast error of the conditional pass@K after an allocation (fractions of problems)."""

    sd: float
    mean_abs: float
    process_sd: float
    model_sd: float

    def as_dict(self) -> dict:
        return {"sd": self.sd, "mean_abs": self.mean_abs, "process_sd": self.process_sd,
                "model_sd": self.model_sd}


class Plan(NamedTuple):
    """A sampling plan.

    Attributes
    ----------
    allocation : ndarray of int
        Extra attempts per problem (input order); sums to ``min(budget, sum of caps)`` (the
        first batch's budget for a sequential plan without outcomes).
    rounds : list of ndarray
        The allocation of each round (one entry for a one-shot plan).
    predicted : float
        Conditional pass@K before the plan.
    expected_error, uniform_error : ErrorForecast
        Promised error after the plan, and after spending the same budget uniformly.
    uniform_attempts_to_match : int or None
        Total attempts uniform spending needs to promise the plan's error, to within a quarter
        of the number of problems (None: not within the caps).
    final_predicted : float or None
        Conditional pass@K after the last round (when ``outcomes`` returned the results).
    final_population : float or None
        The method's population pass@K fitted on the final counts (the plain prediction, for
        comparison).
    """

    allocation: np.ndarray
    rounds: list
    predicted: float
    expected_error: ErrorForecast
    uniform_error: ErrorForecast
    uniform_attempts_to_match: int | None
    final_predicted: float | None = None
    final_population: float | None = None


class _State(NamedTuple):
    """The fit the allocation rests on: central survival at K and at each n_i, and draws."""

    fitted: FittedMethod
    draws: list


class _Groups(NamedTuple):
    """Several groups (models) planned together, their problems concatenated in group order:
    each group's fit (``states``) and number of problems (``sizes``)."""

    states: list
    sizes: np.ndarray

    def split(self, values) -> list:
        """``values`` over all problems as one array per group."""
        return np.split(np.asarray(values), np.cumsum(self.sizes)[:-1])


def _survival(fitted: FittedMethod, k) -> np.ndarray:
    return np.clip(1.0 - fitted.predict_pass_at_k(np.maximum(np.asarray(k, float), 1.0)),
                   0.0, 1.0)


def conditional_pass_at_k(fitted: FittedMethod, successes, attempts, k: int) -> np.ndarray:
    """Each problem's expected indicator of being solved within ``k`` attempts (see module)."""
    c = np.asarray(successes, dtype=np.int64)
    n = np.asarray(attempts, dtype=np.int64)
    out = np.ones(c.size)
    beyond = n >= k
    if beyond.any():
        out[beyond] = unbiased_pass_at_k(c[beyond], n[beyond], np.array([k]))[:, 0]
    open_ = (c == 0) & ~beyond
    if open_.any():
        s_n = _survival(fitted, n[open_])
        s_k = _survival(fitted, k)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[open_] = np.where(s_n > 0, 1.0 - np.clip(s_k / s_n, 0.0, 1.0), 1.0)
    return out


def _fit(successes, attempts, method: str, replicates: int, seed,
         design: str = "auto") -> _State:
    """The fit the plan rests on. The design is read from the counts' shape as ``simsearch
    fit`` reads it (a batch or stop-after-success file is not an exchangeable sample), so the
    plan predicts what fit predicts."""
    table = CountTable.from_counts(successes, attempts)
    m = get_method(method)
    with np.errstate(all="ignore"):
        fitted = m.fit(table, None, design)
    draws = [] if replicates == 0 else [
        f for f in bootstrap_fits(m, table, replicates, seed=seed, design=design)
        if f is not None]
    return _State(fitted, draws)


def check_fittable(successes, attempts, method: str) -> None:
    """Raise the fit's :class:`SimsearchError` when a group's counts cannot carry a plan (no
    success at all, too few problems, ...): one fit of ``method``, no bootstrap."""
    table = CountTable.from_counts(successes, attempts)
    with np.errstate(all="ignore"):
        get_method(method).fit(table)


def first_success_law(successes: int, attempts: int) -> np.ndarray:
    """P(first success at position j), j = 1..attempts, in a uniformly random order of a batch
    with ``successes`` successes: P(first > j) = C(attempts - j, s) / C(attempts, s)."""
    j = np.arange(attempts + 1, dtype=float)
    rest = attempts - j
    with np.errstate(invalid="ignore"):
        log_tail = (special.gammaln(rest + 1) - special.gammaln(rest - successes + 1)
                    - special.gammaln(attempts + 1) + special.gammaln(attempts - successes + 1))
    tail = np.where(rest >= successes, np.exp(log_tail), 0.0)
    return tail[:-1] - tail[1:]


class _History:
    """What came back so far: counts, and where each problem's first success can lie.

    Once attempts follow outcomes (more for the unsolved), the counts are no longer an
    exchangeable sample: a problem picked because its first n failed would lend its later
    successes to pass@k at k < n. The record is then a censored first-success design, which the
    curve fits handle: problem i is solved at T_i, or censored at n_i. T_i is known in law only
    (each batch's order is uniformly random), so each solved problem enters as the pairs
    (1, offset + j) weighted by P(first success at j) in the first batch that had one: the
    average over every order, with no imputation noise.
    """

    def __init__(self, successes, attempts):
        self.c = np.asarray(successes, dtype=np.int64).copy()
        self.n = np.asarray(attempts, dtype=np.int64).copy()
        # The first batch with a success: attempts before it, its size and its successes.
        solved = self.c > 0
        self.offset = np.zeros(self.c.size, dtype=np.int64)
        self.size = np.where(solved, self.n, 0)
        self.hits = self.c.copy()
        self.adaptive = False

    def add(self, extra, new) -> None:
        fresh = (self.hits == 0) & (new > 0)
        self.offset[fresh] = self.n[fresh]
        self.size[fresh] = extra[fresh]
        self.hits[fresh] = new[fresh]
        self.adaptive |= bool(np.any(extra != extra[0]))
        self.c += new
        self.n += extra

    def table(self) -> CountTable:
        """The first-success record as weighted (1, T) and censored (0, n) pairs."""
        times, weights = [], []
        for i in np.flatnonzero(self.hits > 0):
            law = first_success_law(int(self.hits[i]), int(self.size[i]))
            keep = law > 1e-12
            times.append(self.offset[i] + 1 + np.flatnonzero(keep))
            weights.append(law[keep] / law[keep].sum())
        censored = self.n[self.hits == 0]
        times.append(censored)
        weights.append(np.ones(censored.size))
        t, w = np.concatenate(times), np.concatenate(weights)
        c = np.concatenate([np.ones(t.size - censored.size, dtype=np.int64),
                            np.zeros(censored.size, dtype=np.int64)])
        pairs, inverse = np.unique(np.stack([c, t], axis=1), axis=0, return_inverse=True)
        return CountTable.of_pairs(pairs[:, 0], pairs[:, 1],
                                   np.bincount(inverse.ravel(), weights=w))

    def fit(self, method: str, replicates: int, seed) -> _State:
        if not self.adaptive:
            return _fit(self.c, self.n, method, replicates, seed)
        with np.errstate(all="ignore"):
            fitted = get_method(method).fit(self.table(), None, "first-success")
        return _State(fitted, [])


def _open(successes, attempts, k) -> np.ndarray:
    return (np.asarray(successes) == 0) & (np.asarray(attempts) < k)


def forecast(state: _State, successes, attempts, extra, k: int) -> ErrorForecast:
    """Promised error of the conditional pass@K once ``extra`` attempts come back."""
    c, n = np.asarray(successes), np.asarray(attempts)
    m = np.asarray(extra, dtype=np.int64)
    t = c.size
    open_ = _open(c, n, k)
    if not open_.any():
        return ErrorForecast(0.0, 0.0, 0.0, 0.0)
    n0, n1 = n[open_], n[open_] + m[open_]
    s_k = _survival(state.fitted, k)[0]
    s_n0, s_n1 = _survival(state.fitted, n0), _survival(state.fitted, n1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stay = np.where(s_n0 > 0, np.clip(s_n1 / s_n0, 0.0, 1.0), 0.0)
        left = np.where(s_n1 > 0, np.clip(s_k / s_n1, 0.0, 1.0), 1.0)  # P(unsolved at K)
    process = float(np.sum(stay * left * (1.0 - left))) / t**2
    model = 0.0
    if len(state.draws) >= 2:
        values = []
        for fit in state.draws:
            sk, sn = _survival(fit, k)[0], _survival(fit, n1)
            with np.errstate(divide="ignore", invalid="ignore"):
                pi = np.where(sn > 0, 1.0 - np.clip(sk / sn, 0.0, 1.0), 1.0)
            values.append(np.sum(stay * pi) / t)
        model = float(np.var(values, ddof=1))
    sd = math.sqrt(process + model)
    return ErrorForecast(sd, MEAN_ABS_PER_SD * sd, math.sqrt(process), math.sqrt(model))


def caps_for(attempts, k: int, cap: int | None = None) -> np.ndarray:
    """Most extra attempts each problem may get: K - n_i (beyond K nothing changes pass@K),
    and at most ``cap``."""
    room = np.maximum(k - np.asarray(attempts, dtype=np.int64), 0)
    return room if cap is None else np.minimum(room, int(cap))


def _spread(budget: int, room: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``budget`` attempts in proportion to ``weights`` within ``room`` (largest remainders;
    what a full problem cannot take goes to the others)."""
    out = np.zeros(room.size, dtype=np.int64)
    budget = int(min(budget, room.sum()))
    while budget > 0:
        free = (room - out) > 0
        w = np.where(free, weights, 0.0)
        if w.sum() <= 0:
            w = free.astype(float)
        share = budget * w / w.sum()
        take = np.minimum(np.floor(share).astype(np.int64), room - out)
        rest = budget - take.sum()
        if rest > 0:
            order = np.argsort(-(share - np.floor(share)), kind="stable")
            for i in order:
                if rest == 0:
                    break
                if free[i] and out[i] + take[i] < room[i]:
                    take[i] += 1
                    rest -= 1
        out += take
        budget -= int(take.sum())
    return out


def uniform_allocation(budget: int, room: np.ndarray) -> np.ndarray:
    """The same extra attempts for every problem (within its room)."""
    return _spread(budget, room, np.ones(room.size))


def hard_first_allocation(successes, budget: int, room: np.ndarray) -> np.ndarray:
    """"Hard problems first" (our reading of Kazdan et al. 2025's dynamic sampling): attempts in
    proportion to 1 / (c_i + 1), so the unsolved get the most."""
    return _spread(budget, room, 1.0 / (np.asarray(successes, dtype=float) + 1.0))


def greedy_allocation(state: _State, successes, attempts, budget: int, k: int,
                      room: np.ndarray) -> np.ndarray:
    """Batches to the problem whose preposterior process variance falls most per attempt;
    whatever no open problem can use is spread uniformly (it buys nothing)."""
    c, n = np.asarray(successes), np.asarray(attempts, dtype=np.int64)
    out = np.zeros(c.size, dtype=np.int64)
    budget = int(min(budget, room.sum()))
    open_ = np.flatnonzero(_open(c, n, k) & (room > 0))
    step = max(1, math.ceil(budget / GREEDY_STEPS))
    if open_.size:
        s_k = _survival(state.fitted, k)[0]
        s_n = _survival(state.fitted, n[open_])
        m = np.zeros(open_.size, dtype=np.int64)
        r = room[open_]

        def reduction(extra):
            s_new = _survival(state.fitted, n[open_] + extra)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where((s_n > 0) & (s_new > 0),
                                 s_k**2 / s_n * (1.0 / s_new - 1.0 / s_n), 0.0)
            return np.nan_to_num(value)

        done = reduction(m)
        spent = 0
        while spent < budget:
            size = np.minimum(min(step, budget - spent), r - m)
            gain = np.where(size > 0, (reduction(m + size) - done) / np.maximum(size, 1), -1.0)
            best = int(np.argmax(gain))
            if gain[best] <= 0:
                break
            m[best] += size[best]
            spent += int(size[best])
            done[best] = reduction(m)[best]
        out[open_] = m
    rest = budget - int(out.sum())
    if rest > 0:
        out += uniform_allocation(rest, room - out)
    return out


#: Allocation strategies the planner and its backtest compare, registered once: name ->
#: allocation(state, successes, attempts, budget, k, room) of one round.
STRATEGIES: dict[str, Callable[..., np.ndarray]] = {
    "planned": greedy_allocation,
    "uniform": lambda state, c, n, budget, k, room: uniform_allocation(budget, room),
    "hard-first": lambda state, c, n, budget, k, room: hard_first_allocation(c, budget, room),
}


def check_strategy(strategy: str) -> None:
    """Refuse a name that is not in :data:`STRATEGIES`, listing the registered ones."""
    if strategy not in STRATEGIES:
        raise SimsearchError(f"strategy: unknown {strategy!r}; expected one of "
                             f"{', '.join(STRATEGIES)}")


def allocate(strategy: str, state: _State, successes, attempts, budget: int, k: int,
             room: np.ndarray) -> np.ndarray:
    """One round's allocation by a registered strategy."""
    check_strategy(strategy)
    return STRATEGIES[strategy](state, successes, attempts, budget, k, room)


def round_budgets(budget: int, rounds: int) -> list[int]:
    """``budget`` split over ``rounds`` batches as evenly as possible (earlier ones larger)."""
    base, extra = divmod(int(budget), int(rounds))
    return [base + (1 if r < extra else 0) for r in range(rounds)]


def _allocate_groups(strategy: str, cells: _Groups, successes, attempts, budget: int, k: int,
                     room: np.ndarray) -> np.ndarray:
    """One round's allocation over several groups: each group gets the share of ``budget``
    uniform spending would give its problems, allocated within the group by ``strategy``.
    A group with no open problem (every one solved or at K) gets a share only of what the
    others cannot take: nothing there changes its pass@K.

    Not one greedy over every (group, problem): its objective (the process variance) would
    starve the groups whose problems are slow to resolve, whose error is mostly the model
    term it does not count; in replays on Pythia/MATH (7 models, 10 seeds) that split erred
    1.27x uniform spending against 1.11x for this one (docs/notes/planner.md)."""
    cs, ns, rooms = cells.split(successes), cells.split(attempts), cells.split(room)
    open_ = [np.any(_open(cg, ng, k) & (rg > 0)) for cg, ng, rg in zip(cs, ns, rooms)]
    first = uniform_allocation(budget, np.concatenate([
        rg if is_open else np.zeros_like(rg) for rg, is_open in zip(rooms, open_)]))
    spread = first + uniform_allocation(budget - int(first.sum()), room - first)
    shares = [int(a.sum()) for a in cells.split(spread)]
    return np.concatenate([allocate(strategy, state, cg, ng, share, k, rg) for state, cg, ng,
                           share, rg in zip(cells.states, cs, ns, shares, rooms)])


def _forecasts(cells: _Groups, successes, attempts, extra, k: int) -> list:
    """Each group's promised error once ``extra`` attempts come back."""
    return [forecast(state, c, n, m, k) for state, c, n, m in
            zip(cells.states, cells.split(successes), cells.split(attempts), cells.split(extra))]


def _variance(forecasts) -> float:
    return sum(f.sd**2 for f in forecasts)


def _match_uniform(cells: _Groups, c, n, k, room, target_variance) -> int | None:
    """Smallest total uniform budget whose promised variance (summed over the groups) is at
    most ``target_variance``."""
    def variance(budget):
        return _variance(_forecasts(cells, c, n, uniform_allocation(budget, room), k))

    hi = int(room.sum())
    if variance(hi) > target_variance * (1 + 1e-9):
        return None
    if variance(0) <= target_variance * (1 + 1e-9):
        return 0
    lo = 0  # too few; hi is enough: bisect to within a quarter of the problems
    while hi - lo > max(1, c.size // 4):
        mid = (lo + hi) // 2
        if variance(mid) <= target_variance:
            hi = mid
        else:
            lo = mid
    return hi


def check_plan_inputs(successes, attempts, budget, predict_k, rounds, cap) -> None:
    require(int(budget) == budget and budget >= 0, f"budget: must be an integer >= 0 (got "
                                                   f"{budget!r})")
    require(int(predict_k) == predict_k and predict_k >= 2,
            f"predict: must be an integer >= 2 (got {predict_k!r})")
    require(int(rounds) == rounds and rounds >= 1, f"rounds: must be an integer >= 1 (got "
                                                   f"{rounds!r})")
    require(cap is None or (int(cap) == cap and cap >= 0),
            f"cap: must be an integer >= 0 (got {cap!r})")


class GroupPlan(NamedTuple):
    """A sampling plan over several groups (models) at once: the fields of :class:`Plan`, each
    a dict from group name to that group's value, except ``uniform_attempts_to_match`` (the
    total uniform budget, over every group's problems, whose promised variance summed over the
    groups is at most the plan's; None: not within the caps)."""

    allocation: dict
    rounds: list
    predicted: dict
    expected_error: dict
    uniform_error: dict
    uniform_attempts_to_match: int | None
    final_predicted: dict | None = None
    final_population: dict | None = None


def plan_groups(groups: dict, budget: int, predict_k: int, *, rounds: int = 1,
                outcomes: Callable[[dict], dict] | None = None, cap: int | None = None,
                method: str = DEFAULT_METHOD, strategy: str = "planned",
                replicates: int = DEFAULT_REPLICATES, seed=0) -> GroupPlan:
    """Allocate ``budget`` more attempts over the problems of several groups (models).

    Each group's pass@``predict_k`` is predicted from its own fit (as ``simsearch fit --by``
    does). Each group gets the share of the budget that uniform spending would give its
    problems, and ``strategy`` allocates it within the group; uniform spending gives every
    problem of every group the same extra attempts.

    Parameters
    ----------
    groups : dict
        Group name -> (successes, attempts), per-problem counts so far.
    budget, predict_k, rounds, cap, method, strategy, replicates
        As in :func:`plan`; ``budget`` is the total over all groups.
    outcomes : callable, optional
        ``outcomes({name: extra})`` returns ``{name: successes}`` among each round's new
        attempts.
    seed : int or SeedSequence
        Group g's round r fits with child key (g, r) of ``SeedSequence(seed)``.

    Returns
    -------
    GroupPlan
    """
    require(len(groups) >= 1, "groups: need at least one group of counts")
    check_strategy(strategy)
    names = list(groups)
    parts = [(np.asarray(c, dtype=np.int64), np.asarray(n, dtype=np.int64))
             for c, n in groups.values()]
    c = np.concatenate([p[0] for p in parts])
    n = np.concatenate([p[1] for p in parts])
    check_plan_inputs(c, n, budget, predict_k, rounds, cap)
    k = int(predict_k)
    root = seed_sequence(seed)
    sizes = np.array([p[0].size for p in parts])
    cells = _Groups([_fit(cg, ng, method, replicates, child(root, g, 0))
                     for g, (cg, ng) in enumerate(parts)], sizes)

    def by_name(values):
        return dict(zip(names, values))

    def each(values):
        return by_name(cells.split(values))

    room = caps_for(n, k, cap)
    predicted = [float(np.mean(conditional_pass_at_k(state.fitted, cg, ng, k)))
                 for state, (cg, ng) in zip(cells.states, parts)]
    # The promise covers the whole budget as if spent now (later rounds can only adapt).
    whole = _allocate_groups(strategy, cells, c, n, budget, k, room)
    promised = _forecasts(cells, c, n, whole, k)
    uniform = _forecasts(cells, c, n, uniform_allocation(budget, room), k)
    match = _match_uniform(cells, c, n, k, room, _variance(promised))
    per_round, total = [], np.zeros(c.size, dtype=np.int64)
    # Without outcomes only the first batch can be planned: the caller samples it and plans
    # again on the new counts with the remaining budget and rounds - 1 (what the CLI does).
    batches = round_budgets(budget, rounds)[:rounds if outcomes is not None else 1]
    histories = [_History(cg, ng) for cg, ng in parts]
    for r, b in enumerate(batches):
        if r > 0:
            cells = cells._replace(states=[h.fit(method, 0, child(root, g, r))
                                           for g, h in enumerate(histories)])
        extra = whole if rounds == 1 else _allocate_groups(strategy, cells, c, n, b, k,
                                                           room - total)
        per_round.append(each(extra))
        total += extra
        if outcomes is not None:
            returned = outcomes(each(extra))
            require(isinstance(returned, dict), "outcomes: must return a dict from group name "
                                                "to successes per problem")
            for name, h, m in zip(names, histories, cells.split(extra)):
                new = np.asarray(returned.get(name, ()), dtype=np.int64)
                require(new.shape == m.shape and np.all((new >= 0) & (new <= m)),
                        "outcomes: must return, per problem, successes between 0 and the "
                        "attempts allocated")
                h.add(m, new)
            c = np.concatenate([h.c for h in histories])
            n = np.concatenate([h.n for h in histories])
    final = population = None
    if outcomes is not None:
        fits = [h.fit(method, 0, child(root, g, rounds)).fitted
                for g, h in enumerate(histories)]
        final = by_name(float(np.mean(conditional_pass_at_k(f, h.c, h.n, k)))
                        for f, h in zip(fits, histories))
        population = by_name(float(f.predict_pass_at_k(k)[0]) for f in fits)
    return GroupPlan(each(total), per_round, by_name(predicted), by_name(promised),
                     by_name(uniform), match, final, population)


def plan(successes, attempts, budget: int, predict_k: int, *, rounds: int = 1,
         outcomes: Callable[[np.ndarray], np.ndarray] | None = None, cap: int | None = None,
         method: str = DEFAULT_METHOD, strategy: str = "planned",
         replicates: int = DEFAULT_REPLICATES, seed=0) -> Plan:
    """Allocate ``budget`` more attempts to sharpen the predicted pass@``predict_k``.

    Parameters
    ----------
    successes, attempts : array_like of int
        Per-problem counts so far.
    budget : int
        Extra attempts to spend in total.
    predict_k : int
        The K of the pass@K to predict.
    rounds : int
        Batches; ``outcomes(allocation)`` returns the successes among each round's new
        attempts, and the next round is planned on the updated counts. Without ``outcomes`` a
        sequential plan gives its first batch (``budget / rounds`` attempts) only.
    cap : int, optional
        Most extra attempts per problem (besides K - n_i).
    method : str
        Registered prediction method the population survival comes from.
    strategy : str
        One of :data:`STRATEGIES` (the others are the baselines of the backtest).
    replicates : int
        Bootstrap refits for the model part of the promised error (0: process part only).
    seed : int or SeedSequence
        Round r fits with child key (0, r) of ``SeedSequence(seed)``.

    Returns
    -------
    Plan
    """
    one = plan_groups({"": (successes, attempts)}, budget, predict_k, rounds=rounds,
                      outcomes=None if outcomes is None else
                      (lambda extra: {"": outcomes(extra[""])}),
                      cap=cap, method=method, strategy=strategy, replicates=replicates,
                      seed=seed)
    return Plan(one.allocation[""], [r[""] for r in one.rounds], one.predicted[""],
                one.expected_error[""], one.uniform_error[""], one.uniform_attempts_to_match,
                None if one.final_predicted is None else one.final_predicted[""],
                None if one.final_population is None else one.final_population[""])


# --- replay: backtesting an allocation on evaluations that hold many more attempts ------------


class Replay:
    """Draws attempts without replacement from each problem's full record of outcomes.

    The full record holds ``successes`` of ``attempts`` per problem; every order of its attempts
    is equally likely, so the successes among the next m attempts are hypergeometric in what
    remains. Drawing the first n and then m more is the same, in law, as drawing n + m at once.
    """

    def __init__(self, successes, attempts, rng: np.random.Generator):
        self.good = np.asarray(successes, dtype=np.int64).copy()
        self.bad = np.asarray(attempts, dtype=np.int64) - self.good
        self.rng = rng

    def draw(self, extra) -> np.ndarray:
        """Successes among the next ``extra`` attempts of each problem."""
        extra = np.asarray(extra, dtype=np.int64)
        require(np.all(extra <= self.good + self.bad),
                "replay: more attempts requested than the record holds")
        got = self.rng.hypergeometric(self.good, self.bad, extra)
        self.good -= got
        self.bad -= extra - got
        return got


class ReplayResult(NamedTuple):
    """One replayed plan: realised and promised errors of pass@K."""

    strategy: str
    rounds: int
    seed: int
    total_attempts: int
    predicted: float
    population: float
    observed: float
    promised_mean_abs: float


def _replay_groups(groups: dict, draw_seeds: list, n_from: int, budget: int, k: int,
                   strategy: str, rounds: int, seed: int, plan_seed, method: str,
                   replicates: int) -> dict:
    """Replay :func:`plan_groups` on full records: group g's first ``n_from`` attempts and every
    later round are drawn from its record with ``draw_seeds[g]``; the plan runs with
    ``plan_seed``. Group name -> its :class:`ReplayResult`."""
    replays, first, observed = {}, {}, {}
    for (name, (c, n)), draw_seed in zip(groups.items(), draw_seeds):
        full_c, full_n = np.asarray(c, dtype=np.int64), np.asarray(n, dtype=np.int64)
        observed[name] = float(np.mean(unbiased_pass_at_k(full_c, full_n, np.array([k]))))
        replays[name] = Replay(full_c, full_n, np.random.default_rng(draw_seed))
        first[name] = (replays[name].draw(np.full(full_c.size, n_from)),
                       np.full(full_c.size, n_from))
    result = plan_groups(first, budget, k, rounds=rounds,
                         outcomes=lambda extra: {g: replays[g].draw(m) for g, m in extra.items()},
                         method=method, strategy=strategy, replicates=replicates,
                         seed=plan_seed)
    return {name: ReplayResult(strategy, rounds, seed, int(result.allocation[name].sum()),
                               result.final_predicted[name], result.final_population[name],
                               observed[name], result.expected_error[name].mean_abs)
            for name in groups}


def replay_plan(successes, attempts, n_from: int, budget: int, k: int, strategy: str,
                rounds: int, seed: int, *, method: str = DEFAULT_METHOD,
                replicates: int = DEFAULT_REPLICATES, root=0) -> ReplayResult:
    """Draw ``n_from`` attempts per problem, plan ``budget`` more by ``strategy``, replay the
    plan and compare the final conditional pass@K with the record's pass@K.

    Seed s draws from child (s, 0) of ``SeedSequence(root)`` and bootstraps with (s, 1).
    """
    base = seed_sequence(root)
    return _replay_groups({"": (successes, attempts)}, [child(base, seed, 0)], n_from, budget,
                          k, strategy, rounds, seed, child(base, seed, 1), method,
                          replicates)[""]


def replay_plan_groups(groups: dict, n_from: int, budget: int, k: int, strategy: str,
                       rounds: int, seed: int, *, method: str = DEFAULT_METHOD,
                       replicates: int = DEFAULT_REPLICATES, root=0) -> dict:
    """:func:`replay_plan` for several groups' records planned together (:func:`plan_groups`,
    one ``budget`` over all of them): group name -> its :class:`ReplayResult`.

    Seed s draws group g's record from child (s, 0, g) of ``SeedSequence(root)`` and plans
    with (s, 1).
    """
    base = seed_sequence(root)
    return _replay_groups(groups, [child(base, seed, 0, g) for g in range(len(groups))],
                          n_from, budget, k, strategy, rounds, seed, child(base, seed, 1),
                          method, replicates)
