"""First-success times of repeated sampling: one geometric draw per problem.

A problem with single-attempt success probability p first succeeds at attempt
T = ceil(E / -log1p(-p)) with E ~ Exponential(1) (E = -log U, U uniform on (0, 1]), since
P(T > t) = P(E > -t log1p(-p)) = (1-p)^t: exactly the law of the first success among
Bernoulli(p) attempts. One draw replaces k of them, and pass@k = P(T <= k) for every k at once.

Each chunk of problems owns one random state (a row of ``Chunks.states``) and one row of the
output; ``prange`` spreads chunks over threads, and no result depends on which thread ran which
chunk. Arguments cross the numba boundary as named tuples (``Chunks``, ``Difficulty``, ``KGrid``,
``PerProblem``, built in :mod:`simsearch.kernels.inputs`), as in :mod:`simsearch.kernels.labs`.
"""

import math

import numpy as np

from .draws import draw_p
from .jit import njit, prange
from .rng import standard_exponential


@njit(cache=True, inline="always")
def first_success_time(s, p):
    """Attempt (1, 2, ...) of the first success; ``inf`` when p = 0. Float64: exact below 2^53."""
    if p >= 1.0:
        return 1.0
    if p <= 0.0:
        return math.inf
    # np.ceil keeps a float: math.ceil gives an int64 in numba, which would wrap for p < 1e-19.
    t = np.ceil(standard_exponential(s) / -math.log1p(-p))
    return max(t, 1.0)


@njit(cache=True, inline="always")
def grid_bin(k_grid, t):
    """Number of grid points below t (``np.searchsorted``, side left), for a non-empty grid.

    Branch-free: the loop runs log2(len) times whatever t is and the comparison becomes a
    conditional move, since heavy-tailed times make every branch unpredictable.
    """
    base = 0
    n = k_grid.shape[0]
    while n > 1:
        half = n >> 1
        base = base + half if k_grid[base + half - 1] < t else base
        n -= half
    return base + (1 if k_grid[base] < t else 0)


@njit(parallel=True, cache=True, nogil=True)
def first_success_counts(chunks, difficulty, grid, per_problem):
    """Histogram of first-success times over the bins of ``grid.k``, one row per chunk; also
    each problem's p and time when ``per_problem``'s arrays are not empty.

    Runs without the GIL (it touches no Python object), so a thread writing and hashing the
    previous block of a streamed per-problem table works while it runs.

    ``counts[c, i]`` counts chunk c's problems with ``k[i-1] < T <= k[i]`` (bin 0: T <= k[0];
    bin G: T > k[-1]), so cumulative sums over i give pass@k. With per-problem arrays, chunk c
    fills ``[offsets[c], offsets[c] + sizes[c])``. One kernel serves both uses, so a first run
    compiles it once, and the kept draws are the ones counted.

    Parameters
    ----------
    chunks : Chunks
    difficulty : Difficulty
    grid : KGrid
    per_problem : PerProblem
        ``outcome`` float64: first-success times.
    """
    states, sizes, offsets = chunks
    kinds, params, cum_weights, data = difficulty
    k_grid, table = grid
    p_out, t_out = per_problem
    n_chunks = states.shape[0]
    last = table.shape[0] - 1
    keep = p_out.shape[0] > 0
    counts = np.zeros((n_chunks, k_grid.shape[0] + 1), dtype=np.int64)
    for c in prange(n_chunks):
        s = states[c]
        for i in range(offsets[c], offsets[c] + sizes[c]):
            p = draw_p(s, kinds, params, cum_weights, data)
            t = first_success_time(s, p)
            if keep:
                p_out[i] = p
                t_out[i] = t
            b = table[int(t)] if t <= last else grid_bin(k_grid, t)
            counts[c, b] += 1
    return counts


@njit(cache=True, inline="always")
def _events_within(s, q, n):
    """Events in n attempts when each attempt is an event with probability 1 - exp(-q):
    gaps between events are geometric, so the cost is one draw per event, not per attempt."""
    position = 0.0
    events = 0
    while True:
        position += max(np.ceil(standard_exponential(s) / q), 1.0)
        if position > n:
            return events
        events += 1


@njit(parallel=True, cache=True)
def success_counts(chunks, difficulty, attempts, per_problem):
    """Per-problem p and successes among ``attempts[i]`` attempts: exact Binomial(n, p) draws.

    Counts the rarer outcome (successes when p <= 1/2, else failures) by geometric gaps, so a
    problem costs O(min(c, n - c) + 1) draws.

    Parameters
    ----------
    chunks : Chunks
    difficulty : Difficulty
    attempts : int64 (problems,)
    per_problem : PerProblem
        ``outcome`` int64: success counts.
    """
    states, sizes, offsets = chunks
    kinds, params, cum_weights, data = difficulty
    p_out, c_out = per_problem
    for c in prange(states.shape[0]):
        s = states[c]
        for i in range(offsets[c], offsets[c] + sizes[c]):
            p = draw_p(s, kinds, params, cum_weights, data)
            n = attempts[i]
            p_out[i] = p
            if p <= 0.0:
                c_out[i] = 0
            elif p >= 1.0:
                c_out[i] = n
            elif p <= 0.5:
                c_out[i] = _events_within(s, -math.log1p(-p), n)
            else:
                c_out[i] = n - _events_within(s, -math.log(p), n)
