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
  Beta(a0, b0) belief, v a0 / (a0 + b0 + f), ties to the lower idea; the idea is tried until its
  index falls below the runner-up's, a number of attempts in closed form, so each switch costs
  one heap operation. When all ideas are worth the same (``fixed`` values), the index orders
  ideas by failures f, then position: exactly rounds of quantum 1 with the round number = f.
  Such a greedy lab keeps its ideas in a rounds structure (water-filling: every idea at the same
  level gets one attempt before any gets two) and only ideas that lag behind it, replenished ones
  catching up from f = 0, in the index heap; they join the rounds as soon as they are level.
  A win then costs O(log N), not one heap event per attempt.
  With distinct values the switches come at almost every attempt once many ideas are near the
  same index, so the lab keeps a *window* instead: the order of its attempts is fixed by the
  ideas' keys alone (a win removes an idea but moves no other key), so every attempt with a
  key below a bound ``whi`` is listed at once, sorted by (key, idea) with a bucket sort, and
  read off in blocks that run to the next win. The bound is set for up to four times as many
  attempts as ideas (from the last window's count of them), so rebuilding the window
  (O(ideas)) costs O(1) per attempt, and each costs one key and a place in the sort instead of
  an event and a heap operation. Ideas that would dominate the window (more than
  ``WINDOW_HOT`` attempts in it and an eighth of the window, ``WINDOW_HOT_SHARE``) and
  replenished ideas that arrive between rebuilds stay in the index heap, compared with the
  window's next attempt.
- *Endless stream*: each idea gets up to m attempts, then the lab moves on to a fresh draw.

Labs spend compute at a rate that is constant within a *segment*: the period's budget, times
A^s when the lab's research is automated to degree s (feedback: the AI it improves does part of
its research), so that a win that changes A starts a new segment at once. Every event has a
time: the segment's start plus the compute spent since, over the rate; without feedback a
segment is a whole period, and the time is the period plus the fraction of its budget spent. A
lab in the middle of an attempt when its rate changes carries the compute already done on it
into the new segment, and one in the middle of an attempt when its period ends carries it into
the next period: a period's budget is spent to the last unit. The loop advances the lab whose next event (a finished block,
usually a win, or its period end) comes first; before a published win changes another lab's pool
or multiplier, that lab is first brought forward to the same time in whole attempts; if the
win takes away the idea its attempt in progress is on, the compute done on that attempt is lost
(booked as spent) and its next attempt starts then. A lab's
spending in a period is kept as (spending when its cost per attempt last changed) + (attempts
since) x (cost), so it does not depend on how attempts were grouped into blocks.

All RNG streams are explicit (pool, one per lab, publication, ties between labs' simultaneous
events) so a replicate's draws do not
depend on threads; a lab's own draws do not depend on the other labs either.

Everything crosses the numba boundary as named tuples of arrays or scalars (``Difficulty``,
``PoolParams``, ``LabParams``, ``WinRecord``, ``PeriodRecord``, ``LimitRecord``); the
per-replicate state lives in ``LAB_STATE`` records (one per lab) and ``IdeaState`` (one entry
per lab and idea).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .draws import draw_p as _draw_p_inlined
from .first_success import first_success_time as _first_success_time_inlined
from .inputs import VALUE_LOGNORMAL, VALUE_PARETO
from .jit import njit
from .rng import standard_exponential, standard_normal, uniform

POLICY_ROUNDS = 0
POLICY_GREEDY = 1

COMBINE_PRODUCT = 0
COMBINE_MAX = 1

#: Where an idea sits in a lab's pool: not there, in the rounds structure, in the greedy heap,
#: in the greedy window.
ABSENT, IN_ROUNDS, IN_INDEX, IN_WINDOW = 0, 1, 2, 3
#: What a lab's next block of attempts is on.
ON_ROUNDS, ON_INDEX, ON_STREAM, ON_WINDOW = 0, 1, 2, 3
#: Greedy window (``PoolParams.window_min``, ``window_hot``): a window lists up to four times as
#: many attempts as ideas, and at least this many (a block reads at most this many); an idea with
#: more attempts than this in it stays in the index heap, its attempts closed-form blocks.
WINDOW_MIN = 1024
WINDOW_HOT = 256
#: An idea goes to the heap only with more than this share of a window's attempts: in the
#: heap its blocks run until the window's next attempt comes first, so an idea that does not
#: dominate the window would cost a heap event per attempt there. (A fixed 256 sent the few
#: most valuable ideas of a heavy-tailed pool to the heap: Pareto(0.8) values, 5e4 ideas, 3e7
#: attempts, one thread, 20 s; with an eighth of the window, 2.9 s, the same wins.)
WINDOW_HOT_SHARE = 0.125
#: Attempts a window must list for its count to set the next window's bound (or window_min, if
#: smaller).
_WINDOW_MEASURED = 256
#: Attempts per coarse bucket of the window's sort (``PoolParams.window_sort_run``): its
#: buckets' write heads and each bucket's own sort stay in cache.
WINDOW_SORT_RUN = 256
#: Entries of the window's table of log(a0 + b0 + f) at most (``PoolParams.window_log_trials``;
#: 1 MiB; keys past it take a logarithm each).
WINDOW_LOG_TRIALS = 2 ** 17

#: A pool too large to be a cap: "no max_ideas".
NO_CAP = 2 ** 62
#: A replicate's win count when it was abandoned on ``stop`` (Ctrl-C), and when it passed its
#: event budget (``max_events``): the caller refuses the run rather than report part of it.
STOPPED = -1
EVENTS_EXCEEDED = -2
LOG2 = math.log(2.0)

PoolParams = namedtuple("PoolParams", [
    "ideas", "endless", "max_ideas", "replenish", "combine", "sharing", "periods",
    "value_kind", "value_a", "value_b", "prior_a", "prior_b", "greedy_rounds", "log_cap",
    "window_min", "window_hot", "window_hot_share", "window_sort_run", "window_log_trials"])
PoolParams.__doc__ = """Scalars shared by all labs of a replicate.

ideas : int64, ideas in the pool at the start (ignored when ``endless``)
endless : bool, an endless stream of fresh ideas instead of a pool
max_ideas : int64, most ideas a replicate may ever hold; replenished ideas beyond it are dropped
    and counted (``NO_CAP`` for no limit: buffers grow instead)
replenish : float64 >= 0, new ideas per win (the fraction adds one more with that probability)
combine : int64, COMBINE_PRODUCT (a win multiplies the multiplier) or COMBINE_MAX (Kortum)
sharing : float64 in [0, 1], probability that a win is published
periods : int64 >= 1
value_kind, value_a, value_b : int64, float64, float64, idea values (:func:`draw_log_value`)
prior_a, prior_b : float64 > 0, greedy labs' Beta belief about p
greedy_rounds : bool, all ideas are worth the same, so greedy labs keep level ideas in rounds
log_cap : float64, a lab stops searching once its log multiplier reaches it (inf: no cap)
window_min, window_hot : int64 >= 1, the greedy window's sizes (:data:`WINDOW_MIN`,
    :data:`WINDOW_HOT`; tests make them tiny to rebuild the window often)
window_hot_share : float64 >= 0, an idea with more than max(window_hot, this share of the
    window's target) attempts in a window goes to the index heap (:data:`WINDOW_HOT_SHARE`)
window_sort_run, window_log_trials : int64 >= 1, the window sort's attempts per coarse bucket
    and most entries of its table of logarithms (:data:`WINDOW_SORT_RUN`,
    :data:`WINDOW_LOG_TRIALS`; tests make them tiny to reach every path of the sort and the
    keys past the table)
"""

LabParams = namedtuple("LabParams", ["budget", "growth", "cost", "elasticity", "policy",
                                     "quantum", "automation"])
LabParams.__doc__ = """One entry per lab, arrays of shape (labs,).

budget : float64 > 0, compute in period 0
growth : float64 > -1, budget growth per period
cost, elasticity : float64, an attempt costs cost * multiplier**elasticity
policy : int64, POLICY_ROUNDS or POLICY_GREEDY
quantum : float64 >= 1, attempts per idea per round (patience m; 1 for round-robin and greedy)
automation : float64 (labs, L), the lab's automation s in period t is
    automation[lab, min(t, L-1)]: it spends budget * multiplier**s per unit time
"""

WinRecord = namedtuple("WinRecord", ["lab", "idea", "compute", "time", "p", "log_value",
                                     "attempts", "log_multiplier", "published"])
WinRecord.__doc__ = """One entry per win in time order, arrays of shape (w,) (or (replicates, w)).

lab int64; idea int64 (-1 for a stream); compute float64 (the lab's cumulative compute at the
win); time float64 (in periods: the period plus the fraction of it elapsed); p, log_value
float64 (the idea's); attempts float64 (the lab's first-success time on it); log_multiplier
float64 (after the win); published bool. Wins beyond w are counted, not stored.
"""

LimitRecord = namedtuple("LimitRecord", ["cap_time", "doubling_time"])
LimitRecord.__doc__ = """When each lab's multiplier reached the cap and each doubling, arrays of
shape (labs,) and (labs, d) (or with a leading replicates axis): cap_time float64 (NaN if never),
doubling_time[lab, k] float64 the first time log multiplier >= (k + 1) log 2 (NaN if never;
doublings beyond d are not recorded)."""

PeriodRecord = namedtuple("PeriodRecord", ["compute", "cumulative_compute", "log_multiplier",
                                           "wins", "pool_remaining", "ideas_tried"])
PeriodRecord.__doc__ = """Each lab at each period's end, arrays of shape (labs, periods) (or
(replicates, labs, periods)): compute in the period, cumulative_compute, log_multiplier, wins
(cumulative, float64), pool_remaining (int64, -1 for a stream), ideas_tried (float64, streams
only, else -1)."""

#: A replicate's per-lab state: a record array of shape (labs,), ``st[lab].field`` (record
#: fields cost no reference counting, unlike arrays read out of a named tuple on every event).
#: period, budget: the current period and its budget. spent_base, total_base, attempts: spending
#: in the period and in total before the cost per attempt last changed, and attempts since.
#: log_mult, wins. round, pos, used (rounds): the current round, the pool position of the current
#: block and attempts already made in it. need, win, on: the lab's next block (attempts, ends in a
#: win, on the rounds structure, the index heap or the stream), valid while fresh. done: past its
#: last period. stream_p, stream_lv, stream_t, tried (streams): the current idea and ideas drawn.
#: seg_start, rate, seg_base, allowance: the current constant-rate segment's start time, its
#: compute per unit time, the period's compute done by its start (attempts in progress
#: included), and the period's spending at which the period ends. capped: A reached the cap, the
#: lab searches no more. doublings: doublings of A recorded so far. carry: compute done before
#: the period began on the attempt in progress then (an attempt spans periods; the period's
#: first segment starts with it done). booked: cumulative compute at the last period's end.
#: wpos, wlen, whi, wsize (greedy window): the next attempt's place, the attempts listed, their
#: bound and the ideas in the window; wlogsum: log of the window ideas' summed value as the last
#: listing measured it, if wmeasured (else the next window is built from an exact pass).
LAB_STATE = np.dtype([
    ("period", np.float64), ("budget", np.float64), ("spent_base", np.float64),
    ("total_base", np.float64), ("attempts", np.float64), ("log_mult", np.float64),
    ("wins", np.float64), ("round", np.float64), ("pos", np.int64), ("used", np.float64),
    ("need", np.float64), ("win", np.bool_), ("on", np.int64), ("fresh", np.bool_),
    ("done", np.bool_), ("stream_p", np.float64), ("stream_lv", np.float64),
    ("stream_t", np.float64), ("tried", np.float64), ("seg_start", np.float64),
    ("rate", np.float64), ("seg_base", np.float64), ("allowance", np.float64),
    ("capped", np.bool_), ("doublings", np.int64), ("carry", np.float64),
    ("booked", np.float64), ("wpos", np.int64), ("wlen", np.int64), ("whi", np.float64),
    ("wsize", np.int64), ("wlogsum", np.float64), ("wmeasured", np.bool_)])

Heap = namedtuple("Heap", ["key", "idea", "where", "size"])
Heap.__doc__ = """A per-lab indexed binary min-heap on (key, idea): key, idea of shape
(labs, width), where (labs, width) the heap slot of each idea (-1 if absent), size (labs,)."""

IdeaState = namedtuple("IdeaState", ["p", "log_value", "need", "last_block", "fails", "member",
                                     "fen", "solve", "index", "wkey", "wattempt",
                                     "log_trials"])
IdeaState.__doc__ = """A replicate's ideas, ``capacity`` wide; width 0 where no lab needs it.

p, log_value (capacity,): each idea's difficulty and log value. need (labs, capacity): each
lab's first-success time. member (labs, capacity) int8: ABSENT, IN_ROUNDS or IN_INDEX.
Rounds structure: last_block (labs, capacity) attempts in an idea's final block, fen (labs,
capacity + 1) a Fenwick tree counting the ideas in it by position, solve a Heap on solve round.
Greedy: fails (labs, capacity) failures so far, index a Heap on minus the log index.
Greedy window (distinct values): wkey, wattempt (labs, 3 capacity + WINDOW_MIN) the coming
attempts in greedy order, by index key and 2 idea + (1 if the attempt is a win); log_trials
log(a0 + b0 + f) for f = 0, 1, ..., the windows' keys without a logarithm each.
"""


# Compile time. numba's inline="always" works on its IR: each call site gets a copy of the
# callee's body to type, and the passes after it (SSA, type inference, lowering) grow faster than
# the size of the function. With draw_p inlined at five sites and the block logic (_refresh ->
# _recompute -> _greedy_block -> ...) at three, one function took ~190 s of CPU to compile. Now
# the draws are compiled once each (below; a call per idea drawn costs nothing measurable),
# _catch_up once (one copy of the block logic beside the event loop's), simulate_replicate only
# inside simulate_replicates, and the replicates run on Python threads rather than a parfor,
# which optimised the whole kernel a second time. The small helpers on the per-event path stay
# inlined: called through numba's calling convention (the named tuples of arrays passed and
# reference counted on every call), the kernel ran 1.2-2x slower.

@njit(cache=True)
def draw_p(s, kinds, params, cum_weights, data):
    """:func:`simsearch.kernels.draws.draw_p`, compiled once for this kernel."""
    return _draw_p_inlined(s, kinds, params, cum_weights, data)


@njit(cache=True)
def first_success_time(s, p):
    """:func:`simsearch.kernels.first_success.first_success_time`, compiled once for this
    kernel."""
    return _first_success_time_inlined(s, p)


@njit(cache=True)
def draw_log_value(s, kind, a, b):
    """log of an idea's value: fixed log(a), lognormal(mu=a, sigma=b), Pareto(alpha=a) (x >= 1)."""
    if kind == VALUE_LOGNORMAL:
        return a + b * standard_normal(s)
    if kind == VALUE_PARETO:
        return standard_exponential(s) / a
    return math.log(a)


# --- Fenwick tree over pool positions (count of ideas below a position) ----------------------

@njit(cache=True, inline="always")
def _fen_add(fen, lab, i, delta):
    i += 1
    n = fen.shape[1] - 1
    while i <= n:
        fen[lab, i] += delta
        i += i & -i


@njit(cache=True, inline="always")
def _fen_below(fen, lab, i):
    """Number of ideas in the lab's rounds at positions < i."""
    total = 0
    while i > 0:
        total += fen[lab, i]
        i -= i & -i
    return total


@njit(cache=True)
def _fen_kth(fen, lab, k):
    """Position of the k-th (1-based) idea in pool order."""
    size = fen.shape[1] - 1
    step = 1
    while step * 2 <= size:
        step *= 2
    pos = 0
    while step > 0:
        nxt = pos + step
        if nxt <= size and fen[lab, nxt] < k:
            pos = nxt
            k -= fen[lab, nxt]
        step >>= 1
    return pos


@njit(cache=True)
def _fen_build(fen, member, lab):
    """Rebuild the lab's tree from membership in O(capacity), over every node."""
    size = fen.shape[1] - 1
    for i in range(1, size + 1):
        fen[lab, i] = 1 if member[lab, i - 1] == IN_ROUNDS else 0
    for i in range(1, size + 1):
        j = i + (i & -i)
        if j <= size:
            fen[lab, j] += fen[lab, i]


# --- Indexed binary min-heap on (key, idea) --------------------------------------------------

@njit(cache=True, inline="always")
def _before(k1, i1, k2, i2):
    return k1 < k2 or (k1 == k2 and i1 < i2)


# The heap functions read the arrays out of the Heap once: every attribute read of a named
# tuple inside a loop costs a reference count increment and decrement.

@njit(cache=True)
def _sift_up(h, lab, j):
    keys, ids, where = h.key, h.idea, h.where
    key, idea = keys[lab, j], ids[lab, j]
    while j > 0:
        parent = (j - 1) >> 1
        if not _before(key, idea, keys[lab, parent], ids[lab, parent]):
            break
        keys[lab, j], ids[lab, j] = keys[lab, parent], ids[lab, parent]
        where[lab, ids[lab, j]] = j
        j = parent
    keys[lab, j], ids[lab, j] = key, idea
    where[lab, idea] = j


@njit(cache=True)
def _sift_down(h, lab, j):
    keys, ids, where = h.key, h.idea, h.where
    n = h.size[lab]
    key, idea = keys[lab, j], ids[lab, j]
    while True:
        c = 2 * j + 1
        if c >= n:
            break
        if c + 1 < n and _before(keys[lab, c + 1], ids[lab, c + 1], keys[lab, c], ids[lab, c]):
            c += 1
        if not _before(keys[lab, c], ids[lab, c], key, idea):
            break
        keys[lab, j], ids[lab, j] = keys[lab, c], ids[lab, c]
        where[lab, ids[lab, j]] = j
        j = c
    keys[lab, j], ids[lab, j] = key, idea
    where[lab, idea] = j


@njit(cache=True, inline="always")
def _heap_push(h, lab, idea, key):
    j = h.size[lab]
    h.size[lab] = j + 1
    h.key[lab, j], h.idea[lab, j] = key, idea
    _sift_up(h, lab, j)


@njit(cache=True, inline="always")
def _heap_remove(h, lab, idea):
    j = h.where[lab, idea]
    last = h.size[lab] - 1
    h.size[lab] = last
    h.where[lab, idea] = -1
    if j != last:
        h.key[lab, j], h.idea[lab, j] = h.key[lab, last], h.idea[lab, last]
        moved = h.idea[lab, j]
        h.where[lab, moved] = j
        _sift_down(h, lab, j)
        if h.where[lab, moved] == j:
            _sift_up(h, lab, j)


@njit(cache=True)
def _heapify(h, lab, n):
    """Make slots 0..n-1 (key and idea set) a heap in O(n)."""
    h.size[lab] = n
    ids, where = h.idea, h.where
    for j in range(n):
        where[lab, ids[lab, j]] = j
    for j in range(n // 2 - 1, -1, -1):
        _sift_down(h, lab, j)


# --- Rounds: ideas tried m at a time in pool order ---------------------------------------------

@njit(cache=True, inline="always")
def _rounds_key(last_block, lab, idea, remaining, entry, m):
    """Solve round of an idea needing ``remaining`` more attempts, first tried in round
    ``entry``; also stores the attempts in its final block."""
    blocks = np.ceil(remaining / m)
    last_block[lab, idea] = remaining - m * (blocks - 1.0)
    return entry + blocks - 1.0


@njit(cache=True)
def _rounds_fill(lab, n, m, s_lab, ideas):
    """Put ideas 0..n-1, none tried yet, in an empty rounds structure at once: O(n)."""
    p, need, member, last_block = ideas.p, ideas.need, ideas.member, ideas.last_block
    keys, ids = ideas.solve.key, ideas.solve.idea
    for idea in range(n):
        t = first_success_time(s_lab, p[idea])
        need[lab, idea] = t
        member[lab, idea] = IN_ROUNDS
        ids[lab, idea] = idea
        keys[lab, idea] = _rounds_key(last_block, lab, idea, t, 0.0, m)
    _fen_build(ideas.fen, member, lab)
    _heapify(ideas.solve, lab, n)


@njit(cache=True, inline="always")
def _rounds_insert(lab, idea, remaining, m, st, ideas):
    """Add an idea needing ``remaining`` more attempts at its pool position: one ahead of the
    lab's position is first tried in the current round, one behind it in the next."""
    entry = st[lab].round + (1.0 if idea < st[lab].pos else 0.0)
    ideas.member[lab, idea] = IN_ROUNDS
    _fen_add(ideas.fen, lab, idea, 1)
    _heap_push(ideas.solve, lab, idea,
               _rounds_key(ideas.last_block, lab, idea, remaining, entry, m))


@njit(cache=True, inline="always")
def _rounds_remove(lab, idea, st, ideas):
    ideas.member[lab, idea] = ABSENT
    _heap_remove(ideas.solve, lab, idea)
    _fen_add(ideas.fen, lab, idea, -1)
    if st[lab].pos == idea:  # attempts already spent on it are sunk
        st[lab].used = 0.0


@njit(cache=True, inline="always")
def _rounds_distance(lab, rnd, x, m, st, ideas):
    """Attempts from the lab's point to the first block at a position >= x in round ``rnd``
    (a point not behind the lab's)."""
    n = ideas.solve.size[lab]
    below_pos = _fen_below(ideas.fen, lab, st[lab].pos)
    if rnd == st[lab].round:
        return m * (_fen_below(ideas.fen, lab, x) - below_pos) - st[lab].used
    return (m * (n - below_pos) - st[lab].used + m * n * (rnd - st[lab].round - 1.0)
            + m * _fen_below(ideas.fen, lab, x))


@njit(cache=True, inline="always")
def _rounds_need(lab, m, st, ideas):
    """Attempts until the lab's next win in rounds; inf when none can come."""
    h = ideas.solve
    if h.size[lab] == 0 or h.key[lab, 0] == math.inf:
        return math.inf
    idea = h.idea[lab, 0]
    return _rounds_distance(lab, h.key[lab, 0], idea, m, st, ideas) + ideas.last_block[lab, idea]


@njit(cache=True, inline="always")
def _rounds_advance(lab, a, m, st, ideas):
    """Move the lab's point on by ``a`` attempts that contain no win."""
    n = ideas.solve.size[lab]
    if n == 0 or a <= 0.0:
        return
    fen = ideas.fen
    below_pos = _fen_below(fen, lab, st[lab].pos)
    total = a + st[lab].used
    rest_of_round = m * (n - below_pos)
    if total < rest_of_round:
        blocks = np.floor(total / m)
        st[lab].pos = _fen_kth(fen, lab, below_pos + int(blocks) + 1)
        st[lab].used = total - blocks * m
        return
    total -= rest_of_round
    per_round = m * n
    full = np.floor(total / per_round)
    total -= full * per_round
    if total == 0.0:
        # Exactly at the end of a round: the lab stays there, just past its last idea, so an
        # idea that joins now is still tried in this round.
        st[lab].round += full
        st[lab].pos = _fen_kth(fen, lab, n) + 1
        st[lab].used = 0.0
        return
    st[lab].round += 1.0 + full
    blocks = np.floor(total / m)
    st[lab].pos = _fen_kth(fen, lab, int(blocks) + 1)
    st[lab].used = total - blocks * m


@njit(cache=True, inline="always")
def _rounds_level(lab, st, ideas):
    """Quantum-1 rounds (greedy labs): move the lab's point onto the next idea to try, the
    first at or after its position, wrapping to the next round, and return it."""
    n = ideas.solve.size[lab]
    below = _fen_below(ideas.fen, lab, st[lab].pos)
    if below == n:
        st[lab].round += 1.0
        below = 0
    st[lab].pos = _fen_kth(ideas.fen, lab, below + 1)
    return st[lab].pos


# --- Greedy: the index heap and its level rounds ------------------------------------------------

@njit(cache=True)
def _greedy_key(log_value, failures, prior_a, prior_b):
    """Minus the log of the posterior expected prize v a0 / (a0 + b0 + f) (smaller goes first)."""
    return _key_after(log_value + math.log(prior_a), failures, prior_a, prior_b)


@njit(cache=True, inline="always")
def _key_after(head, failures, prior_a, prior_b):
    """:func:`_greedy_key` from ``head`` = log v + log a0, for loops over one idea's failures
    (the same bits)."""
    return -(head - math.log(prior_a + prior_b + failures))


@njit(cache=True, inline="always")
def _index_insert(lab, idea, pool, ideas):
    ideas.member[lab, idea] = IN_INDEX
    _heap_push(ideas.index, lab, idea,
               _greedy_key(ideas.log_value[idea], ideas.fails[lab, idea], pool.prior_a,
                           pool.prior_b))


@njit(cache=True, inline="always")
def _index_remove(lab, idea, ideas):
    ideas.member[lab, idea] = ABSENT
    _heap_remove(ideas.index, lab, idea)


@njit(cache=True)
def _greedy_place(lab, idea, pool, st, ideas):
    """Put a greedy lab's idea (f = its failures so far) where it belongs: in the level rounds
    if every idea is worth the same and it is level with them (its next attempt comes in the
    rounds' order), else in the index heap."""
    if pool.greedy_rounds:
        f = ideas.fails[lab, idea]
        joins = False
        if ideas.solve.size[lab] == 0:  # an empty round starts at this idea's level
            st[lab].round, st[lab].pos, st[lab].used = f, idea, 0.0
            joins = True
        else:
            nxt = _rounds_level(lab, st, ideas)
            rnd = st[lab].round
            joins = (f == rnd and idea > nxt) or (f == rnd + 1.0 and idea < nxt)
        if joins:
            _rounds_insert(lab, idea, ideas.need[lab, idea] - f, 1.0, st, ideas)
            return
    _index_insert(lab, idea, pool, ideas)


@njit(cache=True)
def _greedy_fill(lab, n, s_lab, pool, st, ideas):
    """Greedy lab's initial pool: all level (f = 0) in rounds if values are equal, else all in
    the index heap at once (the first block moves them into the window)."""
    if pool.greedy_rounds:
        _rounds_fill(lab, n, 1.0, s_lab, ideas)
        return
    st[lab].whi = -math.inf  # the first block builds the window
    p, lv, need, member = ideas.p, ideas.log_value, ideas.need, ideas.member
    keys, ids = ideas.index.key, ideas.index.idea
    for idea in range(n):
        need[lab, idea] = first_success_time(s_lab, p[idea])
        member[lab, idea] = IN_INDEX
        ids[lab, idea] = idea
        keys[lab, idea] = _greedy_key(lv[idea], 0.0, pool.prior_a, pool.prior_b)
    _heapify(ideas.index, lab, n)


@njit(cache=True, inline="always")
def _behind(log_value, failures, idea, key, other, pool):
    """Does an idea with these failures come after (key, other) in greedy order?"""
    k = _greedy_key(log_value, failures, pool.prior_a, pool.prior_b)
    return k > key or (k == key and idea > other)


@njit(cache=True)
def _attempts_until_behind(log_value, f, idea, key, other, pool, limit):
    """Fewest attempts j >= 1 on an idea with f failures after which its next attempt comes
    after (key, other)'s: (index key after f + j failures, idea) > (key, other); ``limit`` if
    none comes sooner. A closed-form guess, then a galloping and binary search on the exact
    keys (being behind is monotone in j; keys can tie over many j when the prior is tight)."""
    a0, b0 = pool.prior_a, pool.prior_b
    # key(f + j) > key  <=>  a0 + b0 + f + j > exp(key + log v + log a0), up to rounding.
    x = math.exp(key + log_value + math.log(a0)) - a0 - b0 - f
    guess = min(np.floor(x) if x >= 1.0 else 1.0, limit)
    if guess == math.inf:  # an idea worth e^700 times the runner-up, never solved
        return guess
    if _behind(log_value, f + guess, idea, key, other, pool):
        lo, hi, step = guess - 1.0, guess, 1.0  # lo = 0 stands for "not behind yet"
        while lo >= 1.0 and _behind(log_value, f + lo, idea, key, other, pool):
            hi = lo
            step *= 2.0
            lo = max(hi - step, 0.0)
    else:
        lo, hi, step = guess, guess + 1.0, 1.0
        while hi < limit and not _behind(log_value, f + hi, idea, key, other, pool):
            lo = hi
            step *= 2.0
            hi = lo + step
        if hi >= limit:  # none behind below the limit: the search ends at it
            hi = limit
            if hi == math.inf:
                return hi
    while hi - lo > 1.0:
        mid = np.floor(0.5 * (lo + hi))
        if mid <= lo or mid >= hi:  # beyond exact integers
            break
        if _behind(log_value, f + mid, idea, key, other, pool):
            hi = mid
        else:
            lo = mid
    return hi


@njit(cache=True, inline="always")
def _greedy_block(lab, pool, st, ideas):
    """A greedy lab's next block: (attempts, ends in a win, ON_INDEX, ON_ROUNDS or ON_WINDOW).

    The next attempt goes to the smaller of the index heap's top and the level rounds' (or the
    window's) next idea, compared on (index key, idea). The block runs until a win or until
    the other comes first."""
    h, n_rounds = ideas.index, ideas.solve.size[lab]
    a0, b0 = pool.prior_a, pool.prior_b
    window = not pool.greedy_rounds
    level_key, level_idea = math.inf, -1
    if window:
        if h.size[lab] + st[lab].wsize == 0:
            return math.inf, False, ON_INDEX
        level_key, level_idea = _window_level(lab, pool, st, ideas)
    elif n_rounds > 0:
        level_idea = _rounds_level(lab, st, ideas)
        level_key = _greedy_key(ideas.log_value[level_idea], st[lab].round, a0, b0)
    if h.size[lab] > 0 and _before(h.key[lab, 0], h.idea[lab, 0], level_key, level_idea):
        idea = h.idea[lab, 0]
        other_key, other = level_key, level_idea
        for c in (1, 2):
            if c < h.size[lab] and _before(h.key[lab, c], h.idea[lab, c], other_key, other):
                other_key, other = h.key[lab, c], h.idea[lab, c]
        f = ideas.fails[lab, idea]
        remaining = ideas.need[lab, idea] - f
        limit = remaining
        if other >= 0 or other_key < math.inf:  # (whi, -1): the window's bound
            limit = _attempts_until_behind(ideas.log_value[idea], f, idea, other_key, other,
                                           pool, remaining)
        if remaining <= limit:
            return remaining, True, ON_INDEX
        return limit, False, ON_INDEX
    if window:
        top_key, top = math.inf, np.int64(-1)
        if h.size[lab] > 0:
            top_key, top = h.key[lab, 0], h.idea[lab, 0]
        count, win = _window_block(lab, top_key, top, pool, st, ideas)
        return count, win, ON_WINDOW
    if n_rounds == 0:
        return math.inf, False, ON_INDEX
    to_win = _rounds_need(lab, 1.0, st, ideas)
    if h.size[lab] == 0:
        return to_win, True, ON_ROUNDS
    # Equal values: the rounds come before the heap's top idea (f failures) until they reach
    # its place, round f at its position.
    top = h.idea[lab, 0]
    to_top = _rounds_distance(lab, ideas.fails[lab, top], top, 1.0, st, ideas)
    if to_win <= to_top:
        return to_win, True, ON_ROUNDS
    return to_top, False, ON_ROUNDS


@njit(cache=True, inline="always")
def _index_fail(lab, idea, a, pool, ideas):
    """``a`` more failures on the index heap's idea."""
    ideas.fails[lab, idea] += a
    h = ideas.index
    j = h.where[lab, idea]
    h.key[lab, j] = _greedy_key(ideas.log_value[idea], ideas.fails[lab, idea], pool.prior_a,
                                pool.prior_b)
    _sift_down(h, lab, j)


@njit(cache=True)
def _window_build(lab, pool, st, ideas):
    """List the greedy lab's coming attempts below a new bound: every idea of its pool (window
    and heap) gets its attempts with key < whi, in (key, idea) order; an idea with more than
    ``max(pool.window_hot, pool.window_hot_share x target)`` of them, instead, goes (back) to
    the index heap. A change of representation only: the attempts and their order are those
    of the ideas' failure counts."""
    a0, b0 = pool.prior_a, pool.prior_b
    member, fails, need, lv = ideas.member, ideas.fails, ideas.need, ideas.log_value
    wkey, wattempt = ideas.wkey, ideas.wattempt
    log_trials, n_table = ideas.log_trials, float(ideas.log_trials.size)
    h = ideas.index
    n, cap = member.shape[1], wkey.shape[1]
    log_a0 = math.log(a0)
    # The lowest next key and log sum v set the bound. After a window used up (its bound whi
    # finite), no window idea's next key is below whi, so the lowest is at least min(whi, the
    # heap's top), and the last listing measured sum v: the heap's ideas join the window and
    # nothing else is visited. Otherwise (the first window, or one dropped when the pool grew)
    # an exact pass over the ideas finds both; the bound sets only how many attempts a window
    # lists, never which come first, so the two ways give the same attempts in the same order.
    quick = math.isfinite(st[lab].whi) and st[lab].wmeasured
    if quick:
        lo, log_sum, count = st[lab].whi, st[lab].wlogsum, st[lab].wsize + h.size[lab]
        if h.size[lab] > 0:
            lo = min(lo, h.key[lab, 0])
        for j in range(h.size[lab]):
            member[lab, h.idea[lab, j]] = IN_WINDOW
    else:
        lo, lo_idea, count, top, scaled = math.inf, np.int64(-1), 0, -math.inf, 0.0
        for i in range(n):
            if member[lab, i] == IN_WINDOW or member[lab, i] == IN_INDEX:
                k = _key_after(lv[i] + log_a0, fails[lab, i], a0, b0)
                if _before(k, i, lo, lo_idea):
                    lo, lo_idea = k, i
                # sum v as scaled * e^top, rescaled when a larger value comes
                if lv[i] > top:
                    scaled = scaled * math.exp(top - lv[i]) + 1.0
                    top = lv[i]
                else:
                    scaled += math.exp(lv[i] - top)
                count += 1
                member[lab, i] = IN_WINDOW
        log_sum = top + math.log(scaled) if count > 0 else -math.inf
    for j in range(h.size[lab]):
        h.where[lab, h.idea[lab, j]] = -1
    h.size[lab] = 0
    st[lab].wpos, st[lab].wlen, st[lab].wsize = 0, 0, count
    st[lab].fresh = False
    if count == 0:
        st[lab].whi = math.inf
        return
    if not math.isfinite(lo):  # no idea worth anything: the heap's order, by idea
        _window_to_heap(lab, pool, st, ideas)
        return
    # Attempts per unit of the posterior prize's inverse lambda = e^key: a0 v each, so a rise
    # of lambda by target / (a0 sum v) lists about ``target`` attempts. Four per idea where
    # the window has room (it holds target + count: an idea lists at most one more than its
    # share), as each window's pass over the ideas costs about as much as listing attempts
    # (work D of bench_labs.py, one thread: 3.9 s with one per idea, 3.3 s with two, 3.0 s
    # with four, 2.9 s with eight).
    target = float(max(pool.window_min, min(4 * count, cap - count)))
    hot_limit = max(pool.window_hot, int(pool.window_hot_share * target))
    hi = lo + math.log1p(target * math.exp(-(lo + log_a0 + log_sum)))
    if not hi > lo:
        hi = np.nextafter(lo, math.inf)
    hot = np.empty(count, dtype=np.int64)
    while True:
        w, n_hot, full, kmin, kmax = 0, 0, False, math.inf, -math.inf
        for i in range(n):
            if member[lab, i] != IN_WINDOW:
                continue
            f, t, start = fails[lab, i], need[lab, i], w
            head = lv[i] + log_a0
            # Attempts f, f + 1, ... below hi, at most hot_limit (more make the idea hot) and
            # as many as the window has room for (more make it full); the table's keys while
            # f + c is in it. Two loops, the table's then the logarithm's: one loop choosing
            # per attempt made work D's greedy kernel 5% slower (1.86-1.89 s against 1.77-1.80).
            left = t - f
            stop = min(hot_limit, cap - w)
            if left <= stop:
                stop = int(left)
            in_table = int(min(max(n_table - f, 0.0), stop))
            first = int(f) if in_table > 0 else 0
            c = 0
            while c < in_table:
                k = -(head - log_trials[first + c])
                if k >= hi:
                    break
                wkey[lab, w], wattempt[lab, w] = k, 2 * i
                w += 1
                c += 1
            below = c == in_table
            while below and c < stop:
                k = _key_after(head, f + c, a0, b0)
                if k >= hi:
                    below = False
                    break
                wkey[lab, w], wattempt[lab, w] = k, 2 * i
                w += 1
                c += 1
            if c == left:
                wattempt[lab, w - 1] += 1  # its last attempt is its win
            elif below and _key_after(head, f + c, a0, b0) < hi:
                if c == hot_limit:
                    w = start
                    hot[n_hot] = i
                    n_hot += 1
                else:
                    full = True
            if w > start:  # an idea's keys rise with its failures
                kmin = min(kmin, wkey[lab, start])
                kmax = max(kmax, wkey[lab, w - 1])
            if full:
                break
        if not full:
            break
        if hi <= np.nextafter(lo, math.inf):
            # More attempts tie at the lowest key than the window holds (a tight prior).
            _window_to_heap(lab, pool, st, ideas)
            return
        hi = max(lo + 0.5 * (hi - lo) if hi < math.inf else lo + 1.0,
                 np.nextafter(lo, math.inf))  # fewer attempts, again
    for j in range(n_hot):
        i = hot[j]
        _index_insert(lab, i, pool, ideas)
    st[lab].wsize = count - n_hot
    st[lab].wlen, st[lab].whi = w, hi
    # The listing measures sum v: a0 sum v (e^hi - e^lo) attempts lie in [lo, hi). From a few
    # hundred attempts on, that is as good a guide to the next bound as the exact pass.
    st[lab].wmeasured = w >= min(_WINDOW_MEASURED, pool.window_min) and math.isfinite(hi)
    if st[lab].wmeasured:
        st[lab].wlogsum = math.log(w) - log_a0 - hi - math.log(-math.expm1(lo - hi))
    _window_sort(lab, w, kmin, kmax, pool, ideas)


@njit(cache=True)
def _window_to_heap(lab, pool, st, ideas):
    """Every idea of the window into the index heap, for good: the window stays empty with
    the bound at infinity, so it is never rebuilt."""
    for i in range(ideas.member.shape[1]):
        if ideas.member[lab, i] == IN_WINDOW:
            _index_insert(lab, i, pool, ideas)
    st[lab].wpos, st[lab].wlen, st[lab].wsize, st[lab].whi = 0, 0, 0, math.inf


@njit(cache=True)
def _window_sort(lab, w, kmin, kmax, pool, ideas):
    """Sort the window's first ``w`` attempts by key, stably (they were listed by idea, then
    failures: ties keep that order, as the heap's (key, idea) order does).

    Two counting sorts: into about w / window_sort_run coarse buckets of equal key width (one
    write head per bucket), then each coarse bucket, a few hundred attempts in cache, into as
    many fine buckets of its width, and one insertion pass over it (a mergesort if a fine
    bucket is crowded). ``kmin`` <= every key <= ``kmax`` (the listing's bounds). The previous
    sort, one counting sort into w buckets and an insertion sort per bucket, took four times
    as long on 45,000 attempts listed as a window lists them (21 ns an attempt against 5.3)."""
    if w < 2 or kmin == kmax:
        return
    wkey, wattempt = ideas.wkey, ideas.wattempt
    n_coarse = max(1, w // pool.window_sort_run)
    scale = n_coarse / (kmax - kmin)
    if not scale < 1e300:  # keys a few ulps apart near zero: no buckets
        _mergesort_run(wkey[lab, :w], wattempt[lab, :w], 0, w)
        return
    start = np.zeros(n_coarse + 1, dtype=np.int64)
    for j in range(w):
        start[min(int((wkey[lab, j] - kmin) * scale), n_coarse - 1) + 1] += 1
    largest = 0
    for c in range(n_coarse):
        largest = max(largest, start[c + 1])
        start[c + 1] += start[c]
    key, attempt = np.empty(w), np.empty(w, dtype=np.int64)
    fill = start[:n_coarse].copy()
    for j in range(w):
        c = min(int((wkey[lab, j] - kmin) * scale), n_coarse - 1)  # monotone in the key
        d = fill[c]
        fill[c] = d + 1
        key[d], attempt[d] = wkey[lab, j], wattempt[lab, j]
    fine = np.empty(largest + 1, dtype=np.int64)
    slot = np.empty(largest, dtype=np.int64)
    out_key, out_attempt = wkey[lab, :w], wattempt[lab, :w]
    for c in range(n_coarse):
        lo, hi = start[c], start[c + 1]
        m = hi - lo
        fine[:m + 1] = 0
        for j in range(lo, hi):
            # the key's place in its coarse bucket's width: monotone in the key, rounding
            # clipped
            b = min(max(int(((key[j] - kmin) * scale - c) * m), 0), m - 1)
            slot[j - lo] = b
            fine[b + 1] += 1
        crowded = 0
        for b in range(m):
            crowded = max(crowded, fine[b + 1])
            fine[b + 1] += fine[b]
        for j in range(lo, hi):
            b = slot[j - lo]
            d = lo + fine[b]
            fine[b] += 1
            out_key[d], out_attempt[d] = key[j], attempt[j]
        if crowded > 32:  # clustered keys: insertion could take quadratic time
            _mergesort_run(out_key, out_attempt, lo, hi)
            continue
        # In fine-bucket order, only attempts of one fine bucket can be out of order: one
        # insertion pass over the coarse bucket puts them in place.
        for j in range(lo + 1, hi):
            k = out_key[j]
            if out_key[j - 1] <= k:
                continue
            a = out_attempt[j]
            d = j
            while d > lo and out_key[d - 1] > k:
                out_key[d], out_attempt[d] = out_key[d - 1], out_attempt[d - 1]
                d -= 1
            out_key[d], out_attempt[d] = k, a


@njit(cache=True)
def _mergesort_run(key, attempt, lo, hi):
    """Sort ``key[lo:hi]`` (and its attempts) stably."""
    order = np.argsort(key[lo:hi], kind="mergesort")
    k, a = key[lo:hi][order], attempt[lo:hi][order]
    key[lo:hi], attempt[lo:hi] = k, a


@njit(cache=True)
def _window_next(lab, st, ideas):
    """(key, idea) of the window's next attempt, dropping attempts on ideas gone from the pool;
    (whi, -1) when it is used up (the window's ideas come next at or after whi)."""
    j, end = st[lab].wpos, st[lab].wlen
    while j < end and ideas.member[lab, ideas.wattempt[lab, j] >> 1] != IN_WINDOW:
        j += 1
    st[lab].wpos = j
    if j == end:
        return st[lab].whi, np.int64(-1)
    return ideas.wkey[lab, j], ideas.wattempt[lab, j] >> 1


@njit(cache=True)
def _window_level(lab, pool, st, ideas):
    """(key, idea) of the window's next attempt, the window rebuilt first if it is used up and
    the heap's top does not come first; (whi, -1) if it still has none."""
    key, idea = _window_next(lab, st, ideas)
    h = ideas.index
    if idea < 0 and not (h.size[lab] > 0 and _before(h.key[lab, 0], h.idea[lab, 0], key, idea)):
        if h.size[lab] + st[lab].wsize > 0:
            _window_build(lab, pool, st, ideas)
            key, idea = _window_next(lab, st, ideas)
    return key, idea


@njit(cache=True)
def _window_block(lab, heap_key, heap_idea, pool, st, ideas):
    """Attempts from the window's next until a win (included), until the heap's top comes
    first, until the window is used up, or ``pool.window_min`` attempts."""
    member, wattempt, wkey = ideas.member, ideas.wattempt, ideas.wkey
    count = 0.0
    for j in range(st[lab].wpos, st[lab].wlen):
        i = wattempt[lab, j] >> 1
        if member[lab, i] != IN_WINDOW:
            continue
        if count == pool.window_min or not _before(wkey[lab, j], i, heap_key, heap_idea):
            return count, False
        count += 1.0
        if wattempt[lab, j] & 1:
            return count, True
    return count, False


@njit(cache=True)
def _window_fail(lab, a, st, ideas):
    """``a`` failed attempts off the window's front."""
    member, wattempt, fails = ideas.member, ideas.wattempt, ideas.fails
    j, left = st[lab].wpos, a
    while left > 0.0:
        i = wattempt[lab, j] >> 1
        if member[lab, i] == IN_WINDOW:
            fails[lab, i] += 1.0
            left -= 1.0
        j += 1
    st[lab].wpos = j


@njit(cache=True)
def _window_win(lab, need, st, ideas):
    """The block's ``need - 1`` failures, then its win: the idea, taken out of the pool."""
    _window_fail(lab, need - 1.0, st, ideas)
    _, idea = _window_next(lab, st, ideas)
    st[lab].wpos += 1
    _window_remove(lab, idea, st, ideas)
    return idea


@njit(cache=True, inline="always")
def _window_remove(lab, idea, st, ideas):
    ideas.member[lab, idea] = ABSENT  # its listed attempts are skipped
    st[lab].wsize -= 1


@njit(cache=True, inline="always")
def _pool_size(lab, st, ideas):
    """Ideas in a finite pool's lab that are not solved."""
    return ideas.solve.size[lab] + ideas.index.size[lab] + st[lab].wsize


# --- Endless stream -------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _stream_draw(lab, s_lab, difficulty, pool, st):
    p = draw_p(s_lab, difficulty.kinds, difficulty.params, difficulty.cum_weights,
               difficulty.data)
    st[lab].stream_p = p
    st[lab].stream_lv = draw_log_value(s_lab, pool.value_kind, pool.value_a, pool.value_b)
    st[lab].stream_t = first_success_time(s_lab, p)
    st[lab].used = 0.0
    st[lab].tried += 1.0


# --- A lab's blocks, spending and gains --------------------------------------------------------

@njit(cache=True, inline="always")
def _cost(lab, labs, st):
    return labs.cost[lab] * math.exp(labs.elasticity[lab] * st[lab].log_mult)


@njit(cache=True, inline="always")
def _spent_after(lab, a, c, st):
    """The lab's spending in its period after ``a`` more attempts at cost ``c``."""
    return st[lab].spent_base + (st[lab].attempts + a) * c


@njit(cache=True, inline="always")
def _refresh(lab, pool, labs, st, ideas):
    """Recompute the lab's next block (attempts, ends in a win, on what) if its state changed."""
    if st[lab].fresh:
        return
    _recompute(lab, pool, labs, st, ideas)


@njit(cache=True, inline="always")
def _recompute(lab, pool, labs, st, ideas):
    """The lab's next block, per policy: its stream idea, greedy, or rounds."""
    m = labs.quantum[lab]
    if pool.endless:
        t = st[lab].stream_t
        need, win, on = min(t, m) - st[lab].used, t <= m, ON_STREAM
    elif labs.policy[lab] == POLICY_GREEDY:
        need, win, on = _greedy_block(lab, pool, st, ideas)
    else:
        need, win, on = _rounds_need(lab, m, st, ideas), True, ON_ROUNDS
    st[lab].need, st[lab].win, st[lab].on = need, win, on
    st[lab].fresh = True


@njit(cache=True, inline="always")
def _advance(lab, a, pool, labs, st, ideas):
    """Spend ``a`` attempts that end no block (a < the lab's need)."""
    if a <= 0.0:
        return
    if st[lab].on == ON_STREAM:
        st[lab].used += a
    elif st[lab].on == ON_INDEX:
        _index_fail(lab, ideas.index.idea[lab, 0], a, pool, ideas)
    elif st[lab].on == ON_WINDOW:
        _window_fail(lab, a, st, ideas)
    else:
        _rounds_advance(lab, a, labs.quantum[lab], st, ideas)
    st[lab].fresh = False


@njit(cache=True, inline="always")
def _affordable(lab, until, pool, labs, st, ideas):
    """Whole attempts the lab completes by time ``until`` in its current period, short of
    ending its current block.

    Times are compared exactly as the event loop computes them, seg_start + (spent - seg_base)
    / rate, so an attempt that ends at the same instant as another lab's event counts as done
    by then.
    """
    if st[lab].capped or (not pool.endless
                          and _pool_size(lab, st, ideas) == 0):
        return 0.0
    c = _cost(lab, labs, st)
    start, rate, base, allowance = (st[lab].seg_start, st[lab].rate, st[lab].seg_base,
                                    st[lab].allowance)
    spent = _spent_after(lab, 0.0, c, st)
    within = until < st[lab].period + 1.0
    # A guess from the division, then exact steps on the times and spending as the event loop
    # computes them (the division can round either way).
    a = np.floor((allowance - spent) / c)
    if within:
        a = min(a, np.floor(((until - start) * rate + base - spent) / c) + 1.0)
        while a > 0.0 and start + (_spent_after(lab, a, c, st) - base) / rate > until:
            a -= 1.0
    while a > 0.0 and _spent_after(lab, a, c, st) > allowance:
        a -= 1.0
    a = max(a, 0.0)
    while (a + 1.0 < st[lab].need and _spent_after(lab, a + 1.0, c, st) <= allowance
           and not (within and start + (_spent_after(lab, a + 1.0, c, st) - base) / rate
                    > until)):
        a += 1.0
    if a >= st[lab].need:  # never carry a lab across its own next event
        a = st[lab].need - 1.0
    return max(a, 0.0)


@njit(cache=True)  # not inlined: see "Compile time" above
def _catch_up(lab, until, pool, labs, st, ideas):
    """Spend, at the lab's current cost, the whole attempts it completes by time ``until``."""
    _refresh(lab, pool, labs, st, ideas)
    a = _affordable(lab, until, pool, labs, st, ideas)
    _advance(lab, a, pool, labs, st, ideas)
    st[lab].attempts += a


@njit(cache=True, inline="always")
def _next_idea(lab, pool, labs, st, ideas):
    """The idea of the lab's next attempt (finite pool, not empty), without moving its point:
    rounds go on with the current block's idea if it has attempts left, else the first idea at
    or after the lab's position, wrapping to the next round; a greedy lab takes the index heap's
    top if it comes before the level rounds' next idea (as :func:`_greedy_block`)."""
    if labs.policy[lab] != POLICY_GREEDY and st[lab].used > 0.0:
        return st[lab].pos
    h = ideas.index
    if labs.policy[lab] == POLICY_GREEDY and not pool.greedy_rounds:
        key, idea = _window_level(lab, pool, st, ideas)
        if h.size[lab] > 0 and _before(h.key[lab, 0], h.idea[lab, 0], key, idea):
            return h.idea[lab, 0]
        return idea
    n = ideas.solve.size[lab]
    level_idea, level_key = np.int64(-1), math.inf
    if n > 0:
        below = _fen_below(ideas.fen, lab, st[lab].pos)
        rnd = st[lab].round
        if below == n:
            rnd += 1.0
            below = 0
        level_idea = np.int64(_fen_kth(ideas.fen, lab, below + 1))
        level_key = _greedy_key(ideas.log_value[level_idea], rnd, pool.prior_a, pool.prior_b)
    if (labs.policy[lab] == POLICY_GREEDY and h.size[lab] > 0
            and _before(h.key[lab, 0], h.idea[lab, 0], level_key, level_idea)):
        return h.idea[lab, 0]
    return level_idea


@njit(cache=True)
def _sink_attempt_on(lab, idea, when, pool, labs, st, ideas):
    """A published win takes ``idea`` out of the lab's pool at time ``when`` (the lab already
    brought to it): if the lab is in the middle of an attempt on it, the compute done on that
    attempt is lost, booked as spent, and the lab starts its next attempt afresh at ``when``.
    A lab whose attempt on the idea ended in a failure at that instant has lost the same
    compute, so a lab a hair behind is treated like a tied one (issue 19.2, continuity)."""
    if st[lab].capped:
        return
    c = _cost(lab, labs, st)
    spent = _spent_after(lab, 0.0, c, st)
    if st[lab].seg_start + (spent - st[lab].seg_base) / st[lab].rate >= when:
        return  # its last attempt ended at this instant: nothing in progress
    if _next_idea(lab, pool, labs, st, ideas) != idea:
        return
    sunk = st[lab].seg_base + (when - st[lab].seg_start) * st[lab].rate - spent
    if sunk > 0.0:
        st[lab].spent_base += sunk
        st[lab].total_base += sunk


@njit(cache=True, inline="always")
def _automation(lab, labs, st):
    """The lab's automation s in its current period (the last value of its schedule after it)."""
    sched = labs.automation
    return sched[lab, min(int(st[lab].period), sched.shape[1] - 1)]


@njit(cache=True, inline="always")
def _rate(lab, s, st):
    """Compute per unit time: the period's budget times A^s (exactly the budget when s = 0)."""
    if s == 0.0:
        return st[lab].budget
    return st[lab].budget * math.exp(s * st[lab].log_mult)


@njit(cache=True)
def _gain(lab, log_value, when, winner, pool, labs, st, limits):
    """A win's value reaches the lab at time ``when``: multiplied in, or the best so far
    (Kortum). Its cost per attempt may change, so its spending is rebased first; with
    feedback its rate changes too, so a new segment starts at ``when``, carrying the compute
    done on an attempt in progress (none for the ``winner``, whose attempt just ended)."""
    c = _cost(lab, labs, st)
    st[lab].spent_base += st[lab].attempts * c
    st[lab].total_base += st[lab].attempts * c
    st[lab].attempts = 0.0
    if pool.combine == COMBINE_MAX:
        st[lab].log_mult = max(st[lab].log_mult, log_value)
    else:
        st[lab].log_mult += log_value
    st[lab].fresh = False
    s = _automation(lab, labs, st)
    if s != 0.0:
        done = st[lab].spent_base
        if not winner:
            done = max(st[lab].seg_base + (when - st[lab].seg_start) * st[lab].rate, done)
        st[lab].seg_start = when
        st[lab].seg_base = done
        st[lab].rate = _rate(lab, s, st)
        st[lab].allowance = done + (st[lab].period + 1.0 - when) * st[lab].rate
    _record_limits(lab, when, pool, st, limits)


@njit(cache=True, inline="always")
def _record_limits(lab, when, pool, st, limits):
    """First passages of A through the cap and through each doubling."""
    lm = st[lab].log_mult
    if lm >= pool.log_cap and not st[lab].capped:
        st[lab].capped = True
        limits.cap_time[lab] = when
    k = st[lab].doublings
    width = limits.doubling_time.shape[1]
    while k < width and lm >= (k + 1) * LOG2:
        limits.doubling_time[lab, k] = when
        k += 1
    st[lab].doublings = k


@njit(cache=True)
def _end_period(lab, labs, pool, st, ideas, periods):
    """Record the lab's period and start the next.

    The budget left after the period's last whole attempt is not lost: it is compute done on
    the attempt in progress, carried into the next period (none when the lab has nothing left
    to try). The period's compute is what it spent: its whole attempts, less what the previous
    period had already done on the first of them, plus what it did on the one in progress."""
    c = _cost(lab, labs, st)
    t = int(st[lab].period)
    spent = _spent_after(lab, 0.0, c, st)
    total = st[lab].total_base + st[lab].attempts * c
    if not st[lab].capped and (pool.endless
                               or _pool_size(lab, st, ideas) > 0):
        carry = max(st[lab].allowance - spent, 0.0)
        compute = spent - st[lab].carry + carry
    else:  # nothing left to try: what was carried in and not used is sunk
        carry = 0.0
        compute = max(spent - st[lab].carry, 0.0)
    periods.compute[lab, t] = compute
    periods.cumulative_compute[lab, t] = st[lab].booked + compute
    st[lab].booked += compute
    st[lab].carry = carry
    periods.log_multiplier[lab, t] = st[lab].log_mult
    periods.wins[lab, t] = st[lab].wins
    if pool.endless:
        periods.pool_remaining[lab, t] = -1
        # A stream's current idea counts once its first attempt is made.
        periods.ideas_tried[lab, t] = st[lab].tried - (1.0 if st[lab].used == 0.0 else 0.0)
    else:
        periods.pool_remaining[lab, t] = _pool_size(lab, st, ideas)
        periods.ideas_tried[lab, t] = -1.0
    st[lab].total_base = total
    st[lab].spent_base = 0.0
    st[lab].attempts = 0.0
    st[lab].period += 1.0
    st[lab].budget *= 1.0 + labs.growth[lab]
    _start_period(lab, labs, st)
    if t + 1 >= pool.periods:
        st[lab].done = True


# --- Replicate state -------------------------------------------------------------------------

@njit(cache=True)
def _new_heap(n_labs, width):
    return Heap(np.empty((n_labs, width)), np.empty((n_labs, width), dtype=np.int64),
                np.full((n_labs, width), -1, dtype=np.int64), np.zeros(n_labs, dtype=np.int64))


@njit(cache=True)
def _new_ideas(n_labs, capacity, rounds, greedy, log_trials):
    """Empty idea state ``capacity`` wide; the rounds, greedy or window parts only where used
    (the window where ``log_trials``, its table, is not empty)."""
    window = log_trials.size > 0
    wr = capacity if rounds else 0
    wg = capacity if greedy else 0
    ww = 3 * capacity + WINDOW_MIN if window else 0
    return IdeaState(np.empty(capacity), np.empty(capacity), np.empty((n_labs, capacity)),
                     np.empty((n_labs, wr)), np.zeros((n_labs, wg)),
                     np.zeros((n_labs, capacity), dtype=np.int8),
                     np.zeros((n_labs, wr + 1), dtype=np.int64),
                     _new_heap(n_labs, wr), _new_heap(n_labs, wg), np.empty((n_labs, ww)),
                     np.empty((n_labs, ww), dtype=np.int64), log_trials)


@njit(cache=True)
def _log_trials_table(pool, window):
    """log(a0 + b0 + f) for f = 0, 1, ..., the same bits as the keys' own logarithm (empty
    without a window): up to window_log_trials entries, fewer for a small pool (8 per idea
    and window_min), whose replicates would otherwise spend more time filling the table than
    drawing their ideas."""
    table = np.empty(min(pool.window_log_trials, 8 * pool.ideas + pool.window_min)
                     if window else 0)
    for f in range(table.size):
        table[f] = math.log(pool.prior_a + pool.prior_b + float(f))
    return table


@njit(cache=True)
def _copy_heap(old, new):
    # Loops, not slice assignments: those compile numba's broadcasting checks and their
    # error messages, seconds of compile time.
    n_labs, w = old.key.shape
    for lab in range(n_labs):
        new.size[lab] = old.size[lab]
        for j in range(w):
            new.key[lab, j] = old.key[lab, j]
            new.idea[lab, j] = old.idea[lab, j]
            new.where[lab, j] = old.where[lab, j]


@njit(cache=True)
def _grow(ideas, capacity):
    """The same ideas in buffers ``capacity`` wide (heaps copied, Fenwick trees rebuilt; the
    windows are not copied: the caller marks them used up, to be rebuilt)."""
    n_labs, old = ideas.need.shape[0], ideas.p.shape[0]
    rounds, greedy = ideas.last_block.shape[1] > 0, ideas.fails.shape[1] > 0
    new = _new_ideas(n_labs, capacity, rounds, greedy, ideas.log_trials)
    # Loops, not slice assignments (see _copy_heap).
    for i in range(old):
        new.p[i] = ideas.p[i]
        new.log_value[i] = ideas.log_value[i]
    for lab in range(n_labs):
        for i in range(old):
            new.need[lab, i] = ideas.need[lab, i]
            new.member[lab, i] = ideas.member[lab, i]
            if rounds:
                new.last_block[lab, i] = ideas.last_block[lab, i]
            if greedy:
                new.fails[lab, i] = ideas.fails[lab, i]
        if rounds:
            _fen_build(new.fen, new.member, lab)
    _copy_heap(ideas.solve, new.solve)
    _copy_heap(ideas.index, new.index)
    return new


@njit(cache=True, inline="always")
def _start_period(lab, labs, st):
    """The period's first segment: from its start, at the rate its automation sets, with the
    compute carried on the attempt in progress already done."""
    st[lab].seg_start = st[lab].period
    st[lab].seg_base = st[lab].carry
    st[lab].rate = _rate(lab, _automation(lab, labs, st), st)
    st[lab].allowance = st[lab].carry + st[lab].rate


@njit(cache=True)
def _new_labs(labs):
    st = np.zeros(labs.budget.shape[0], dtype=LAB_STATE)
    for lab in range(st.shape[0]):
        st[lab].budget = labs.budget[lab]
        _start_period(lab, labs, st)
    return st


@njit(cache=True)
def _start_capacity(pool):
    if pool.endless:
        return 0
    if pool.replenish == 0.0:
        return pool.ideas
    return min(pool.max_ideas, pool.ideas + pool.ideas // 2 + 64)


# --- One replicate ------------------------------------------------------------------------------

@njit(cache=True, inline="always")  # into simulate_replicates only: compiled once
def simulate_replicate(s_pool, s_labs, s_share, s_tie, difficulty, pool, labs, wins, periods,
                       limits, stop, max_events):
    """Run one replicate; returns (wins, replenished ideas dropped for ``pool.max_ideas``), or
    wins = ``STOPPED`` if ``stop[0]`` was set before it finished, ``EVENTS_EXCEEDED`` if it
    took more than ``max_events`` events.

    Parameters
    ----------
    s_pool, s_share : uint64 array (4,)
        xoshiro states of the pool's draws (difficulty, value, replenishment) and publication.
    s_tie : uint64 array (4,)
        xoshiro state that breaks ties between labs' simultaneous events.
    s_labs : uint64 array (labs, 4)
        Each lab's own stream: its first-success times and, for an endless pool, its ideas.
    difficulty : Difficulty
    pool : PoolParams
    labs : LabParams
    wins : WinRecord of arrays (w,)
        Filled with the first w wins; later ones are counted, not stored (the caller reruns such
        a replicate with room for all of them).
    periods : PeriodRecord of arrays (labs, periods)
    limits : LimitRecord of arrays (labs,) and (labs, d), filled with NaN
    stop : int64 array (1,)
        Polled every few thousand events: nonzero abandons the replicate (Ctrl-C).
    max_events : int64
        Most events (blocks of attempts and period ends) the replicate may take: a second
        guard behind the engine's estimate of the work (issue 19.3), so that every run ends.
    """
    n_labs = labs.budget.shape[0]
    st = _new_labs(labs)
    greedy = False
    rounds = False
    for lab in range(n_labs):
        if labs.policy[lab] == POLICY_GREEDY:
            greedy = True
            rounds = rounds or pool.greedy_rounds
        else:
            rounds = True
    capacity = _start_capacity(pool)
    ideas = _new_ideas(n_labs, capacity, rounds and not pool.endless,
                       greedy and not pool.endless,
                       _log_trials_table(pool, greedy and not pool.endless
                                         and not pool.greedy_rounds))

    n_total = 0
    if not pool.endless:
        for i in range(pool.ideas):
            ideas.p[i] = draw_p(s_pool, difficulty.kinds, difficulty.params,
                                difficulty.cum_weights, difficulty.data)
            ideas.log_value[i] = draw_log_value(s_pool, pool.value_kind, pool.value_a,
                                                pool.value_b)
        n_total = pool.ideas
        for lab in range(n_labs):
            if labs.policy[lab] == POLICY_GREEDY:
                _greedy_fill(lab, pool.ideas, s_labs[lab], pool, st, ideas)
            else:
                _rounds_fill(lab, pool.ideas, labs.quantum[lab], s_labs[lab], ideas)
    else:
        for lab in range(n_labs):
            _stream_draw(lab, s_labs[lab], difficulty, pool, st)

    n_wins = 0
    dropped = 0
    extra_whole = math.floor(pool.replenish)
    extra_frac = pool.replenish - extra_whole
    events = 0
    # The arrays the event search reads, out of their named tuple once (each read of a named
    # tuple's attribute costs a reference count increment and decrement).
    cost, elasticity = labs.cost, labs.elasticity
    event_time = np.empty(n_labs)
    event_class = np.empty(n_labs, dtype=np.int64)
    while True:
        events += 1
        if events % 4096 == 0 and stop[0] != 0:
            return STOPPED, dropped
        # Next event: earliest time; at one instant, blocks without a win first, then wins,
        # then period ends (so a period's record holds all that happened by its end). Among
        # the labs whose wins are the next event, one drawn uniformly on the tie stream (one
        # draw, only when several tie), so that identical labs are treated alike whatever
        # their positions; other ties keep lab order, which cannot change results (a block
        # without a win or a period end touches only its own lab). (Cost and spending as in
        # _cost and _spent_after.)
        # (np.int64, not the literal -1: a literal lab index would compile every function
        # the lab is passed to twice, once for Literal[int](-1) and once for int64.)
        best, best_time, best_class = np.int64(-1), math.inf, 3
        for lab in range(n_labs):
            if st[lab].done:
                continue
            t, klass = st[lab].period + 1.0, 2
            if not st[lab].capped:
                _refresh(lab, pool, labs, st, ideas)
                c = cost[lab] * math.exp(elasticity[lab] * st[lab].log_mult)
                end = st[lab].spent_base + (st[lab].attempts + st[lab].need) * c
                if end <= st[lab].allowance:
                    t = st[lab].seg_start + (end - st[lab].seg_base) / st[lab].rate
                    klass = 1 if st[lab].win else 0
            event_time[lab], event_class[lab] = t, klass
            if t < best_time or (t == best_time and klass < best_class):
                best, best_time, best_class = lab, t, klass
        if best < 0:
            break
        if events > max_events:  # counted here, so that the loop's last pass is no event
            return EVENTS_EXCEEDED, dropped
        if best_class == 1:
            tied = 0
            for lab in range(best, n_labs):
                if (not st[lab].done and event_time[lab] == best_time
                        and event_class[lab] == 1):
                    tied += 1
            if tied > 1:
                k = int(uniform(s_tie) * tied)
                for lab in range(best, n_labs):
                    if (not st[lab].done and event_time[lab] == best_time
                            and event_class[lab] == 1):
                        if k == 0:
                            best = lab
                            break
                        k -= 1
        lab = best

        if best_class == 2:  # period end: whole attempts, the rest carried on the next one
            _catch_up(lab, best_time, pool, labs, st, ideas)
            _end_period(lab, labs, pool, st, ideas, periods)
            continue

        need, on = st[lab].need, st[lab].on
        st[lab].attempts += need
        st[lab].fresh = False
        if best_class == 0:  # a block ends without a win
            if on == ON_STREAM:
                _stream_draw(lab, s_labs[lab], difficulty, pool, st)
            elif on == ON_ROUNDS:
                _rounds_advance(lab, need, 1.0, st, ideas)
            elif on == ON_WINDOW:
                _window_fail(lab, need, st, ideas)
            else:
                idea = ideas.index.idea[lab, 0]
                _index_fail(lab, idea, need, pool, ideas)
                if pool.greedy_rounds:
                    _index_remove(lab, idea, ideas)
                    _greedy_place(lab, idea, pool, st, ideas)
            continue

        # A win.
        if on == ON_STREAM:
            idea = -1
            win_p, win_lv, win_t = st[lab].stream_p, st[lab].stream_lv, st[lab].stream_t
            _stream_draw(lab, s_labs[lab], difficulty, pool, st)
        else:
            if on == ON_ROUNDS:
                idea = ideas.solve.idea[lab, 0]
                st[lab].round = ideas.solve.key[lab, 0]
                st[lab].pos = idea
                st[lab].used = 0.0
                _rounds_remove(lab, idea, st, ideas)
            elif on == ON_WINDOW:
                idea = _window_win(lab, need, st, ideas)
            else:
                idea = ideas.index.idea[lab, 0]
                _index_remove(lab, idea, ideas)
            win_p, win_lv, win_t = ideas.p[idea], ideas.log_value[idea], ideas.need[lab, idea]
        _gain(lab, win_lv, best_time, True, pool, labs, st, limits)
        st[lab].wins += 1.0
        published = uniform(s_share) < pool.sharing
        if n_wins < wins.lab.shape[0]:
            wins.lab[n_wins] = lab
            wins.idea[n_wins] = idea
            wins.compute[n_wins] = st[lab].total_base
            wins.time[n_wins] = best_time
            wins.p[n_wins] = win_p
            wins.log_value[n_wins] = win_lv
            wins.attempts[n_wins] = win_t
            wins.log_multiplier[n_wins] = st[lab].log_mult
            wins.published[n_wins] = published
        n_wins += 1

        if published:
            for other in range(n_labs):
                if other == lab or st[other].done:
                    continue
                # Bring the other lab to this moment under its old pool and cost first (its
                # pool may lose this idea and gain replenished ones).
                _catch_up(other, best_time, pool, labs, st, ideas)
                if not pool.endless:
                    if ideas.member[other, idea] == ABSENT:
                        continue
                    _sink_attempt_on(other, idea, best_time, pool, labs, st, ideas)
                    if ideas.member[other, idea] == IN_ROUNDS:
                        _rounds_remove(other, idea, st, ideas)
                    elif ideas.member[other, idea] == IN_WINDOW:
                        _window_remove(other, idea, st, ideas)
                    else:
                        _index_remove(other, idea, ideas)
                _gain(other, win_lv, best_time, False, pool, labs, st, limits)

        if not pool.endless and pool.replenish > 0.0:
            extra = extra_whole
            if extra_frac > 0.0 and uniform(s_pool) < extra_frac:
                extra += 1
            for _ in range(int(extra)):
                if n_total >= pool.max_ideas:
                    dropped += 1
                    continue
                if n_total >= ideas.p.shape[0]:
                    ideas = _grow(ideas, min(pool.max_ideas, 2 * ideas.p.shape[0]))
                    for other in range(n_labs):
                        st[other].wpos, st[other].wlen = 0, 0
                        st[other].whi = -math.inf
                        st[other].fresh = False
                new = n_total
                n_total += 1
                ideas.p[new] = draw_p(s_pool, difficulty.kinds, difficulty.params,
                                      difficulty.cum_weights, difficulty.data)
                ideas.log_value[new] = draw_log_value(s_pool, pool.value_kind, pool.value_a,
                                                      pool.value_b)
                for other in range(n_labs):
                    if (other == lab or published) and not st[other].done:
                        ideas.need[other, new] = first_success_time(s_labs[other],
                                                                    ideas.p[new])
                        if labs.policy[other] == POLICY_GREEDY:
                            ideas.fails[other, new] = 0.0
                            _greedy_place(other, new, pool, st, ideas)
                        else:
                            _rounds_insert(other, new, ideas.need[other, new],
                                           labs.quantum[other], st, ideas)
                        st[other].fresh = False
    return n_wins, dropped


@njit(cache=True)
def _replicate_wins(wins, r):
    return WinRecord(wins.lab[r], wins.idea[r], wins.compute[r], wins.time[r], wins.p[r],
                     wins.log_value[r], wins.attempts[r], wins.log_multiplier[r],
                     wins.published[r])


@njit(cache=True)
def _replicate_periods(periods, r):
    return PeriodRecord(periods.compute[r], periods.cumulative_compute[r],
                        periods.log_multiplier[r], periods.wins[r], periods.pool_remaining[r],
                        periods.ideas_tried[r])


@njit(cache=True)
def _replicate_limits(limits, r):
    return LimitRecord(limits.cap_time[r], limits.doubling_time[r])


@njit(cache=True, nogil=True)
def simulate_replicates(states, difficulty, pool, labs, wins, periods, limits, n_wins, dropped,
                        stop, max_events, rows):
    """Run replicates ``rows`` (int64 array of replicate indices) one after another; replicate r
    uses ``states[r]`` (labs + 3, 4): row 0 the pool, rows 1..labs the labs, row labs + 1
    publication, row labs + 2 ties. ``wins`` holds arrays (replicates, w), ``periods``
    (replicates, labs, periods), ``limits`` (replicates, labs) and (replicates, labs, d); ``n_wins`` and
    ``dropped`` (replicates,) get each replicate's win count (``STOPPED`` if abandoned on
    ``stop``, ``EVENTS_EXCEEDED`` past ``max_events`` events) and dropped ideas.

    Releases the GIL: callers run disjoint ``rows`` in several Python threads, and a thread can
    set ``stop`` while it runs. (Threads rather than ``parallel=True``: numba's parfor
    compiles and optimises the whole kernel once more for its wrapper.)"""
    n_labs = labs.budget.shape[0]
    for r in rows:
        n_wins[r], dropped[r] = simulate_replicate(
            states[r, 0], states[r, 1:n_labs + 1], states[r, n_labs + 1], states[r, n_labs + 2],
            difficulty, pool,
            labs, _replicate_wins(wins, r), _replicate_periods(periods, r),
            _replicate_limits(limits, r), stop, max_events)
