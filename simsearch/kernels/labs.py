"""Event-driven kernel for labs searching a pool of ideas: one replicate per stream set.

Model (see :mod:`simsearch.labs` for the user-facing contract). Every lab needs T attempts of
its own on an idea of difficulty p, T ~ Geometric(p), drawn once when the idea enters the lab's
pool; a policy decides the order of attempts, so the win sequence follows from the T's without
simulating single attempts:

- *Rounds* (``round-robin`` is quantum m = 1, ``patience(m)`` quantum m): each round gives every
  unsolved idea up to m attempts in pool order. An idea entering in round r0 is solved in round
  r0 + ceil(T/m) - 1, at attempt j* = T - m (ceil(T/m) - 1) of its last block. A min-heap over
  (solve round, position) gives the next win; a Fenwick tree over positions counts the unsolved
  ideas a lab passes on the way, so the attempts between two wins cost O(log N), whatever their
  number.
- *Greedy*: try the idea with the largest posterior expected prize v E[p | f failures] under a
  Beta(a0, b0) belief, a0 / (a0 + b0 + f) v, until its index falls to the runner-up's; the
  number of attempts until then is closed form, so each switch costs one heap operation.
- *Endless stream*: each idea gets up to m attempts, then the lab moves on to a fresh draw.

Labs spend their per-period budget at a constant rate, so every event has a time (period plus
the fraction of its budget spent). The loop advances the lab whose next event (a finished block,
usually a win, or its period end) comes first; before a published win changes another lab's pool
or multiplier, that lab is first brought forward to the same time in whole attempts.

All RNG streams are explicit (pool, one per lab, publication) so a replicate's draws do not
depend on threads; a lab's own draws do not depend on the other labs either.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .draws import draw_p
from .first_success import first_success_time
from .rng import standard_exponential, standard_normal, uniform

POLICY_ROUNDS = 0
POLICY_GREEDY = 1

VALUE_FIXED = 0
VALUE_LOGNORMAL = 1
VALUE_PARETO = 2

COMBINE_PRODUCT = 0
COMBINE_MAX = 1

# Columns of the per-lab float state.
_PERIOD, _SPENT, _BUDGET, _TOTAL, _LOGM, _WINS, _TRIED, _ROUND, _USED, _NEED = range(10)
_CUR_P, _CUR_LV, _CUR_T = 10, 11, 12
_N_FLOAT = 13
# Columns of the per-lab int state: current position, heap size (= pool size), need is fresh,
# next block ends in a win, lab finished.
_POS, _HEAP, _FRESH, _WIN, _DONE = range(5)
_N_INT = 5


@njit(cache=True, inline="always")
def draw_log_value(s, kind, a, b):
    """log of an idea's value: fixed log(a), lognormal(mu=a, sigma=b), Pareto(alpha=a) (x >= 1)."""
    if kind == VALUE_LOGNORMAL:
        return a + b * standard_normal(s)
    if kind == VALUE_PARETO:
        return standard_exponential(s) / a
    return math.log(a)


# --- Fenwick tree over pool positions (count of unsolved ideas below a position) -------------

@njit(cache=True, inline="always")
def _fen_add(fen, lab, i, delta):
    i += 1
    n = fen.shape[1] - 1
    while i <= n:
        fen[lab, i] += delta
        i += i & -i


@njit(cache=True, inline="always")
def _fen_below(fen, lab, i):
    """Number of ideas in the lab's pool at positions < i."""
    total = 0
    while i > 0:
        total += fen[lab, i]
        i -= i & -i
    return total


@njit(cache=True, inline="always")
def _fen_kth(fen, lab, k, top_bit):
    """Position of the k-th (1-based) idea in pool order."""
    pos = 0
    step = top_bit
    while step > 0:
        nxt = pos + step
        if nxt < fen.shape[1] and fen[lab, nxt] < k:
            pos = nxt
            k -= fen[lab, nxt]
        step >>= 1
    return pos


# --- Indexed binary min-heap on (key, idea) --------------------------------------------------

@njit(cache=True, inline="always")
def _before(k1, i1, k2, i2):
    return k1 < k2 or (k1 == k2 and i1 < i2)


@njit(cache=True)
def _sift_up(hkey, hid, where, lab, j):
    key, idea = hkey[lab, j], hid[lab, j]
    while j > 0:
        parent = (j - 1) >> 1
        if not _before(key, idea, hkey[lab, parent], hid[lab, parent]):
            break
        hkey[lab, j], hid[lab, j] = hkey[lab, parent], hid[lab, parent]
        where[lab, hid[lab, j]] = j
        j = parent
    hkey[lab, j], hid[lab, j] = key, idea
    where[lab, idea] = j


@njit(cache=True)
def _sift_down(hkey, hid, where, n, lab, j):
    key, idea = hkey[lab, j], hid[lab, j]
    while True:
        c = 2 * j + 1
        if c >= n:
            break
        if c + 1 < n and _before(hkey[lab, c + 1], hid[lab, c + 1], hkey[lab, c], hid[lab, c]):
            c += 1
        if not _before(hkey[lab, c], hid[lab, c], key, idea):
            break
        hkey[lab, j], hid[lab, j] = hkey[lab, c], hid[lab, c]
        where[lab, hid[lab, j]] = j
        j = c
    hkey[lab, j], hid[lab, j] = key, idea
    where[lab, idea] = j


@njit(cache=True)
def _heap_remove(hkey, hid, where, ist, lab, idea):
    j = where[lab, idea]
    last = ist[lab, _HEAP] - 1
    ist[lab, _HEAP] = last
    where[lab, idea] = -1
    if j != last:
        hkey[lab, j], hid[lab, j] = hkey[lab, last], hid[lab, last]
        moved = hid[lab, j]
        where[lab, moved] = j
        _sift_down(hkey, hid, where, last, lab, j)
        if where[lab, moved] == j:
            _sift_up(hkey, hid, where, lab, j)


# --- Pool membership ------------------------------------------------------------------------

@njit(cache=True)
def _greedy_key(log_value, failures, prior_a, prior_b):
    """Minus the log of the posterior expected prize v a0 / (a0 + b0 + f)."""
    return -(log_value + math.log(prior_a) - math.log(prior_a + prior_b + failures))


@njit(cache=True, inline="always")
def _draw_need(lab, idea, entry, s_lab, p, lv, policy, quantum, prior_a, prior_b, attempts,
               last_block):
    """Draw the lab's first-success time for an idea; returns the idea's heap key (its solve
    round under rounds, entering in round ``entry``; its greedy index otherwise)."""
    t = first_success_time(s_lab, p[idea])
    attempts[lab, idea] = t
    if policy == POLICY_GREEDY:
        return _greedy_key(lv[idea], 0.0, prior_a, prior_b)
    blocks = np.ceil(t / quantum)
    last_block[lab, idea] = t - quantum * (blocks - 1.0)
    return entry + blocks - 1.0


@njit(cache=True)
def _insert(lab, idea, s_lab, p, lv, policy, quantum, prior_a, prior_b,
            fst, ist, attempts, last_block, fails, in_pool, fen, hkey, hid, where):
    # An idea ahead of the lab's position is first tried in the current round.
    entry = fst[lab, _ROUND] + (1.0 if idea < ist[lab, _POS] else 0.0)
    fails[lab, idea] = 0.0
    in_pool[lab, idea] = True
    j = ist[lab, _HEAP]
    ist[lab, _HEAP] = j + 1
    hid[lab, j] = idea
    hkey[lab, j] = _draw_need(lab, idea, entry, s_lab, p, lv, policy, quantum, prior_a,
                              prior_b, attempts, last_block)
    if policy != POLICY_GREEDY:
        _fen_add(fen, lab, idea, 1)
    _sift_up(hkey, hid, where, lab, j)
    ist[lab, _FRESH] = 0


@njit(cache=True)
def _fill_pool(lab, n, s_lab, p, lv, policy, quantum, prior_a, prior_b,
               ist, attempts, last_block, in_pool, fen, hkey, hid, where):
    """Put ideas 0..n-1 in an empty pool at once: O(n) Fenwick build and heapify."""
    for idea in range(n):
        in_pool[lab, idea] = True
        hid[lab, idea] = idea
        where[lab, idea] = idea
        hkey[lab, idea] = _draw_need(lab, idea, 0.0, s_lab, p, lv, policy, quantum, prior_a,
                                     prior_b, attempts, last_block)
    if policy != POLICY_GREEDY:
        size = fen.shape[1] - 1
        for i in range(1, n + 1):
            fen[lab, i] += 1
            j = i + (i & -i)
            if j <= size:
                fen[lab, j] += fen[lab, i]
    ist[lab, _HEAP] = n
    for j in range(n // 2 - 1, -1, -1):
        _sift_down(hkey, hid, where, n, lab, j)
    ist[lab, _FRESH] = 0


@njit(cache=True)
def _remove(lab, idea, policy, fst, ist, in_pool, fen, hkey, hid, where):
    in_pool[lab, idea] = False
    _heap_remove(hkey, hid, where, ist, lab, idea)
    if policy != POLICY_GREEDY:
        _fen_add(fen, lab, idea, -1)
        if ist[lab, _POS] == idea:  # attempts already spent on it are sunk
            fst[lab, _USED] = 0.0
    ist[lab, _FRESH] = 0


# --- Next block of attempts and partial progress, per policy ----------------------------------

@njit(cache=True)
def _rounds_need(lab, quantum, fst, ist, fen, hkey, hid, last_block):
    """Attempts until the lab's next win under rounds; inf when none can come."""
    n = ist[lab, _HEAP]
    if n == 0 or hkey[lab, 0] == math.inf:
        return math.inf
    idea = hid[lab, 0]
    solve_round = hkey[lab, 0]
    rnd, pos, used = fst[lab, _ROUND], ist[lab, _POS], fst[lab, _USED]
    below_pos = _fen_below(fen, lab, pos)
    if solve_round == fst[lab, _ROUND]:
        between = _fen_below(fen, lab, idea) - below_pos
        return quantum * between - used + last_block[lab, idea]
    rest_of_round = quantum * (n - below_pos) - used
    return (rest_of_round + quantum * n * (solve_round - rnd - 1.0)
            + quantum * _fen_below(fen, lab, idea) + last_block[lab, idea])


@njit(cache=True)
def _rounds_advance(lab, a, quantum, fst, ist, fen, top_bit):
    """Move the lab's position on by ``a`` attempts that contain no win."""
    n = ist[lab, _HEAP]
    if n == 0 or a <= 0.0:
        return
    below_pos = _fen_below(fen, lab, ist[lab, _POS])
    total = a + fst[lab, _USED]
    rest_of_round = quantum * (n - below_pos)
    if total < rest_of_round:
        blocks = math.floor(total / quantum)
        ist[lab, _POS] = _fen_kth(fen, lab, below_pos + int(blocks) + 1, top_bit)
    else:
        total -= rest_of_round
        per_round = quantum * n
        full = math.floor(total / per_round)
        fst[lab, _ROUND] += 1.0 + full
        total -= full * per_round
        blocks = math.floor(total / quantum)
        ist[lab, _POS] = _fen_kth(fen, lab, int(blocks) + 1, top_bit)
    fst[lab, _USED] = total - blocks * quantum


@njit(cache=True)
def _greedy_block(lab, fst, ist, hkey, hid, attempts, fails, lv, prior_a, prior_b):
    """Attempts on the top idea until it wins or its index drops to the runner-up's."""
    n = ist[lab, _HEAP]
    if n == 0:
        return math.inf, False
    idea = hid[lab, 0]
    remaining = attempts[lab, idea] - fails[lab, idea]
    limit = math.inf
    if n > 1:
        runner_up = hkey[lab, 1]
        if n > 2 and hkey[lab, 2] < runner_up:
            runner_up = hkey[lab, 2]
        # index(f + j) <= runner-up  <=>  a0 + b0 + f + j >= v a0 / runner-up's index
        switch = math.exp(lv[idea] + math.log(prior_a) + runner_up) - prior_a - prior_b \
            - fails[lab, idea]
        limit = max(1.0, np.ceil(switch))
    if remaining <= limit:
        return remaining, True
    return limit, False


@njit(cache=True)
def _greedy_fail(lab, idea, a, fst, ist, hkey, hid, where, fails, lv, prior_a, prior_b):
    fails[lab, idea] += a
    j = where[lab, idea]
    hkey[lab, j] = _greedy_key(lv[idea], fails[lab, idea], prior_a, prior_b)
    _sift_down(hkey, hid, where, ist[lab, _HEAP], lab, j)
    ist[lab, _FRESH] = 0


@njit(cache=True, inline="always")
def _new_stream_idea(lab, s_lab, kinds, params, cum_weights, data, v_kind, v_a, v_b, fst):
    p = draw_p(s_lab, kinds, params, cum_weights, data)
    fst[lab, _CUR_P] = p
    fst[lab, _CUR_LV] = draw_log_value(s_lab, v_kind, v_a, v_b)
    fst[lab, _CUR_T] = first_success_time(s_lab, p)
    fst[lab, _USED] = 0.0
    fst[lab, _TRIED] += 1.0


@njit(cache=True, inline="always")
def _cost(lab, fst, cost, elasticity):
    return cost[lab] * math.exp(elasticity[lab] * fst[lab, _LOGM])


@njit(cache=True)
def _refresh(lab, finite, policy, quantum, fst, ist, fen, hkey, hid, last_block, attempts,
             fails, lv, prior_a, prior_b):
    """Recompute the lab's next block (attempts, ends in a win) if its state changed."""
    if ist[lab, _FRESH]:
        return
    if not finite:
        t = fst[lab, _CUR_T]
        fst[lab, _NEED] = min(t, quantum) - fst[lab, _USED]
        ist[lab, _WIN] = t <= quantum
    elif policy == POLICY_GREEDY:
        need, win = _greedy_block(lab, fst, ist, hkey, hid, attempts, fails, lv, prior_a, prior_b)
        fst[lab, _NEED] = need
        ist[lab, _WIN] = win
    else:
        fst[lab, _NEED] = _rounds_need(lab, quantum, fst, ist, fen, hkey, hid, last_block)
        ist[lab, _WIN] = 1
    ist[lab, _FRESH] = 1


@njit(cache=True)
def _advance(lab, a, finite, policy, quantum, fst, ist, fen, top_bit, hkey, hid, where, fails,
             lv, prior_a, prior_b):
    """Spend ``a`` attempts that end no block (a < the lab's need)."""
    if a <= 0.0:
        return
    if not finite:
        fst[lab, _USED] += a
    elif policy == POLICY_GREEDY:
        _greedy_fail(lab, hid[lab, 0], a, fst, ist, hkey, hid, where, fails, lv, prior_a, prior_b)
    else:
        _rounds_advance(lab, a, quantum, fst, ist, fen, top_bit)
    ist[lab, _FRESH] = 0


@njit(cache=True)
def _affordable(lab, until, finite, fst, ist, cost, elasticity):
    """Whole attempts the lab completes by time ``until`` in its current period, short of
    ending its current block.

    Times are compared exactly as the event loop computes them, period + spent / budget, so an
    attempt that ends at the same instant as another lab's event counts as done by then.
    """
    if finite and ist[lab, _HEAP] == 0:
        return 0.0
    c = _cost(lab, fst, cost, elasticity)
    period, spent, budget = fst[lab, _PERIOD], fst[lab, _SPENT], fst[lab, _BUDGET]
    a = math.floor((budget - spent) / c)
    if until < period + 1.0:
        a = min(a, math.floor(((until - period) * budget - spent) / c) + 1.0)
        while a > 0.0 and period + (spent + a * c) / budget > until:
            a -= 1.0
    while a > 0.0 and spent + a * c > budget:
        a -= 1.0
    if a >= fst[lab, _NEED]:  # never carry a lab across its own next event
        a = fst[lab, _NEED] - 1.0
    return max(a, 0.0)


@njit(cache=True)
def _catch_up(lab, until, finite, policy, quantum, fst, ist, fen, top_bit, hkey, hid, where,
              last_block, attempts, fails, lv, prior_a, prior_b, cost, elasticity):
    """Spend, at the lab's current cost, the whole attempts it completes by time ``until``."""
    _refresh(lab, finite, policy, quantum, fst, ist, fen, hkey, hid, last_block, attempts,
             fails, lv, prior_a, prior_b)
    a = _affordable(lab, until, finite, fst, ist, cost, elasticity)
    c = _cost(lab, fst, cost, elasticity)
    _advance(lab, a, finite, policy, quantum, fst, ist, fen, top_bit, hkey, hid, where, fails,
             lv, prior_a, prior_b)
    fst[lab, _SPENT] += a * c
    fst[lab, _TOTAL] += a * c


@njit(cache=True, inline="always")
def _gain(lab, log_value, combine, fst):
    """A win's value reaches the lab: multiplied in, or the best so far (Kortum)."""
    if combine == COMBINE_MAX:
        fst[lab, _LOGM] = max(fst[lab, _LOGM], log_value)
    else:
        fst[lab, _LOGM] += log_value


@njit(cache=True)
def simulate_replicate(s_pool, s_labs, s_share, kinds, params, cum_weights, data,
                       v_kind, v_a, v_b, n_ideas, capacity, replenish, combine, sharing, periods,
                       budget, growth, cost, elasticity, policy, quantum, prior_a, prior_b,
                       w_lab, w_idea, w_compute, w_time, w_p, w_log_value, w_attempts,
                       w_log_mult, w_published,
                       pr_compute, pr_total, pr_log_mult, pr_wins, pr_pool, pr_tried):
    """Run one replicate; returns (wins, ideas dropped because the pool was full).

    ``n_ideas < 0`` is an endless stream. Wins beyond the length of the ``w_*`` buffers are
    counted but not stored; the caller reruns such a replicate with room for all of them.
    """
    n_labs = budget.shape[0]
    finite = n_ideas >= 0
    cap = capacity if finite else 1
    p = np.empty(cap)
    lv = np.empty(cap)
    attempts = np.empty((n_labs, cap))
    last_block = np.empty((n_labs, cap))
    fails = np.zeros((n_labs, cap))
    in_pool = np.zeros((n_labs, cap), dtype=np.bool_)
    fen = np.zeros((n_labs, cap + 1), dtype=np.int64)
    hkey = np.empty((n_labs, cap))
    hid = np.empty((n_labs, cap), dtype=np.int64)
    where = np.full((n_labs, cap), -1, dtype=np.int64)
    top_bit = 1
    while top_bit * 2 <= cap:
        top_bit *= 2
    fst = np.zeros((n_labs, _N_FLOAT))
    ist = np.zeros((n_labs, _N_INT), dtype=np.int64)
    for lab in range(n_labs):
        fst[lab, _BUDGET] = budget[lab]
        if periods == 0:
            ist[lab, _DONE] = 1

    n_total = 0
    if finite:
        for i in range(n_ideas):
            p[i] = draw_p(s_pool, kinds, params, cum_weights, data)
            lv[i] = draw_log_value(s_pool, v_kind, v_a, v_b)
        n_total = n_ideas
        for lab in range(n_labs):
            _fill_pool(lab, n_ideas, s_labs[lab], p, lv, policy[lab], quantum[lab], prior_a,
                       prior_b, ist, attempts, last_block, in_pool, fen, hkey, hid, where)
    else:
        for lab in range(n_labs):
            _new_stream_idea(lab, s_labs[lab], kinds, params, cum_weights, data,
                             v_kind, v_a, v_b, fst)

    n_wins = 0
    dropped = 0
    extra_whole = math.floor(replenish)
    extra_frac = replenish - extra_whole
    while True:
        # Next event: earliest time; at one instant, blocks without a win first, then wins,
        # then period ends (so a period's record holds all that happened by its end); then the
        # lowest lab index.
        best, best_time, best_class = -1, math.inf, 3
        for lab in range(n_labs):
            if ist[lab, _DONE]:
                continue
            _refresh(lab, finite, policy[lab], quantum[lab], fst, ist, fen, hkey, hid,
                     last_block, attempts, fails, lv, prior_a, prior_b)
            c = _cost(lab, fst, cost, elasticity)
            end = fst[lab, _SPENT] + fst[lab, _NEED] * c
            if end <= fst[lab, _BUDGET]:
                t = fst[lab, _PERIOD] + end / fst[lab, _BUDGET]
                klass = 1 if ist[lab, _WIN] else 0
            else:
                t = fst[lab, _PERIOD] + 1.0
                klass = 2
            if t < best_time or (t == best_time and klass < best_class):
                best, best_time, best_class = lab, t, klass
        if best < 0:
            break
        best_step = best_class < 2
        lab = best
        pol, m = policy[lab], quantum[lab]
        c = _cost(lab, fst, cost, elasticity)

        if not best_step:  # period end: spend what is left in whole attempts
            _catch_up(lab, best_time, finite, pol, m, fst, ist, fen, top_bit, hkey, hid, where,
                      last_block, attempts, fails, lv, prior_a, prior_b, cost, elasticity)
            t = int(fst[lab, _PERIOD])
            pr_compute[lab, t] = fst[lab, _SPENT]
            pr_total[lab, t] = fst[lab, _TOTAL]
            pr_log_mult[lab, t] = fst[lab, _LOGM]
            pr_wins[lab, t] = fst[lab, _WINS]
            pr_pool[lab, t] = ist[lab, _HEAP] if finite else -1
            # A stream's current idea counts once its first attempt is made.
            pr_tried[lab, t] = fst[lab, _TRIED] - (fst[lab, _USED] == 0.0) if not finite else -1.0
            fst[lab, _PERIOD] += 1.0
            fst[lab, _SPENT] = 0.0
            fst[lab, _BUDGET] *= 1.0 + growth[lab]
            if t + 1 >= periods:
                ist[lab, _DONE] = 1
            continue

        need = fst[lab, _NEED]
        fst[lab, _SPENT] += need * c
        fst[lab, _TOTAL] += need * c
        if not ist[lab, _WIN]:  # a block ends without a win
            if finite:
                _greedy_fail(lab, hid[lab, 0], need, fst, ist, hkey, hid, where, fails,
                             lv, prior_a, prior_b)
            else:
                _new_stream_idea(lab, s_labs[lab], kinds, params, cum_weights, data,
                                 v_kind, v_a, v_b, fst)
                ist[lab, _FRESH] = 0
            continue

        # A win.
        if finite:
            idea = hid[lab, 0]
            win_p, win_lv, win_t = p[idea], lv[idea], attempts[lab, idea]
            if pol != POLICY_GREEDY:
                fst[lab, _ROUND] = hkey[lab, 0]
                ist[lab, _POS] = idea
                fst[lab, _USED] = 0.0
            _remove(lab, idea, pol, fst, ist, in_pool, fen, hkey, hid, where)
        else:
            idea = -1
            win_p, win_lv, win_t = fst[lab, _CUR_P], fst[lab, _CUR_LV], fst[lab, _CUR_T]
            _new_stream_idea(lab, s_labs[lab], kinds, params, cum_weights, data,
                             v_kind, v_a, v_b, fst)
        ist[lab, _FRESH] = 0
        _gain(lab, win_lv, combine, fst)
        fst[lab, _WINS] += 1.0
        published = uniform(s_share) < sharing
        if n_wins < w_lab.shape[0]:
            w_lab[n_wins] = lab
            w_idea[n_wins] = idea
            w_compute[n_wins] = fst[lab, _TOTAL]
            w_time[n_wins] = best_time
            w_p[n_wins] = win_p
            w_log_value[n_wins] = win_lv
            w_attempts[n_wins] = win_t
            w_log_mult[n_wins] = fst[lab, _LOGM]
            w_published[n_wins] = published
        n_wins += 1

        if published:
            for other in range(n_labs):
                if other == lab or ist[other, _DONE]:
                    continue
                # Bring the other lab to this moment under its old pool and cost first.
                _catch_up(other, best_time, finite, policy[other], quantum[other], fst, ist,
                          fen, top_bit, hkey, hid, where, last_block, attempts, fails, lv,
                          prior_a, prior_b, cost, elasticity)
                learns = True
                if finite:
                    learns = in_pool[other, idea]
                    if learns:
                        _remove(other, idea, policy[other], fst, ist, in_pool, fen, hkey, hid,
                                where)
                if learns:
                    _gain(other, win_lv, combine, fst)
                    ist[other, _FRESH] = 0

        if finite and replenish > 0.0:
            extra = extra_whole
            if extra_frac > 0.0 and uniform(s_pool) < extra_frac:
                extra += 1
            for _ in range(int(extra)):
                if n_total >= capacity:
                    dropped += 1
                    continue
                new = n_total
                n_total += 1
                p[new] = draw_p(s_pool, kinds, params, cum_weights, data)
                lv[new] = draw_log_value(s_pool, v_kind, v_a, v_b)
                for other in range(n_labs):
                    if (other == lab or published) and not ist[other, _DONE]:
                        _insert(other, new, s_labs[other], p, lv, policy[other],
                                quantum[other], prior_a, prior_b, fst, ist, attempts,
                                last_block, fails, in_pool, fen, hkey, hid, where)
    return n_wins, dropped


@njit(parallel=True, cache=True)
def simulate_replicates(states, kinds, params, cum_weights, data, v_kind, v_a, v_b, n_ideas,
                        capacity, replenish, combine, sharing, periods, budget, growth, cost,
                        elasticity, policy, quantum, prior_a, prior_b,
                        w_lab, w_idea, w_compute, w_time, w_p, w_log_value, w_attempts,
                        w_log_mult, w_published,
                        pr_compute, pr_total, pr_log_mult, pr_wins, pr_pool, pr_tried,
                        n_wins, dropped):
    """Replicate r uses ``states[r]``: row 0 the pool, rows 1..L the labs, row L+1 publication."""
    n_labs = budget.shape[0]
    for r in prange(states.shape[0]):
        n_wins[r], dropped[r] = simulate_replicate(
            states[r, 0], states[r, 1:n_labs + 1], states[r, n_labs + 1],
            kinds, params, cum_weights, data, v_kind, v_a, v_b, n_ideas, capacity, replenish,
            combine, sharing, periods, budget, growth, cost, elasticity, policy, quantum,
            prior_a, prior_b,
            w_lab[r], w_idea[r], w_compute[r], w_time[r], w_p[r], w_log_value[r],
            w_attempts[r], w_log_mult[r], w_published[r],
            pr_compute[r], pr_total[r], pr_log_mult[r], pr_wins[r], pr_pool[r], pr_tried[r])
