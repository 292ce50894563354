"""The first-success kernel in plain Python, draw for draw, for runs too small to repay numba.

Importing numba and loading a cached kernel cost a process ~0.25-0.4 s; this loop draws a
problem in ~10-20 us, so below :data:`INTERPRETED_MAX_PROBLEMS` problems it is done first
(a 1,000-problem ``simsearch passk`` needs no numba at all).

It makes the same draws as :func:`simsearch.kernels.first_success.first_success_counts`: the
same xoshiro256** words, the same ziggurat and Marsaglia-Tsang steps and the same floating-point
operations in the same order, through the same C library functions (Python's ``math`` and
numba both call libm's log, exp, log1p and expm1). Counts and per-problem values are
bit-identical, which a seeded test checks on random configurations of every family. The two
places where Python and numba differ are handled: ``math.exp`` raises on overflow where numba
returns inf, and ``math.ceil`` returns an int (and fails on inf) where ``np.ceil`` keeps a float.
"""

import math
from bisect import bisect_left

import numpy as np

from .inputs import (EXP_R, EXP_RATIO, EXP_X, KIND_BETA, KIND_KUMARASWAMY, KIND_LOGITNORMAL,
                     KIND_LOGUNIFORM, KIND_POINT, ZIG_R, ZIG_RATIO, ZIG_X)

#: Most problems (over all replicates) that :mod:`simsearch.sampling.passk` draws here rather
#: than in numba: ~0.3 s of interpreted draws, about what loading numba would cost.
INTERPRETED_MAX_PROBLEMS = 20_000

_MASK = (1 << 64) - 1
_TWO_POW_M53 = 2.0**-53
_ZIG_X, _ZIG_RATIO = ZIG_X.tolist(), ZIG_RATIO.tolist()
_EXP_X, _EXP_RATIO = EXP_X.tolist(), EXP_RATIO.tolist()


def next_u64(s: list) -> int:
    """xoshiro256** on ``s`` (4 ints below 2^64, updated in place): 64 random bits."""
    s0, s1, s2, s3 = s
    x = (s1 * 5) & _MASK
    result = ((((x << 7) | (x >> 57)) & _MASK) * 9) & _MASK
    t = (s1 << 17) & _MASK
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s[0], s[1], s[2], s[3] = s0, s1, s2, ((s3 << 45) | (s3 >> 19)) & _MASK
    return result


def uniform(s: list) -> float:
    return float(next_u64(s) >> 11) * _TWO_POW_M53


def uniform_open0(s: list) -> float:
    return 1.0 - uniform(s)


def standard_normal(s: list) -> float:
    while True:
        word = next_u64(s)
        i = word & 0x7F
        u = 2.0 * (float(word >> 11) * _TWO_POW_M53) - 1.0
        if abs(u) < _ZIG_RATIO[i]:
            return u * _ZIG_X[i]
        if i == 0:
            while True:
                x = math.log(uniform_open0(s)) / ZIG_R
                y = math.log(uniform_open0(s))
                if -2.0 * y >= x * x:
                    return x - ZIG_R if u < 0 else ZIG_R - x
        x = u * _ZIG_X[i]
        f0 = math.exp(-0.5 * (_ZIG_X[i] * _ZIG_X[i] - x * x))
        f1 = math.exp(-0.5 * (_ZIG_X[i + 1] * _ZIG_X[i + 1] - x * x))
        if f1 + uniform(s) * (f0 - f1) < 1.0:
            return x


def standard_exponential(s: list) -> float:
    shift = 0.0
    while True:
        word = next_u64(s)
        i = word & 0xFF
        u = float(word >> 11) * _TWO_POW_M53
        if u < _EXP_RATIO[i]:
            return shift + u * _EXP_X[i]
        if i == 0:
            shift += EXP_R
            continue
        x = u * _EXP_X[i]
        f0 = math.exp(x - _EXP_X[i])
        f1 = math.exp(x - _EXP_X[i + 1])
        if f1 + uniform(s) * (f0 - f1) < 1.0:
            return shift + x


def gamma_prepared(s: list, d: float, c: float, inv_shape: float) -> float:
    boost = 1.0
    if inv_shape > 0.0:
        boost = math.exp(-standard_exponential(s) * inv_shape)
    while True:
        x = standard_normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform_open0(s)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d - d * v + d * math.log(v):
            return d * v * boost


def _exp(x: float) -> float:
    """``math.exp`` with numba's overflow: inf, not an exception."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def draw_p(s: list, kinds: list, params: list, cum_weights: list, data) -> float:
    """:func:`simsearch.kernels.draws.draw_p` on lists (``params`` a list of row tuples)."""
    j = 0
    m = len(kinds)
    if m > 1:
        u = uniform(s)
        while j < m - 1 and u >= cum_weights[j]:
            j += 1
    kind = kinds[j]
    q = params[j]
    if kind == KIND_BETA:
        ga = gamma_prepared(s, q[0], q[1], q[2])
        gb = gamma_prepared(s, q[3], q[4], q[5])
        total = ga + gb
        if total <= 0.0:
            return q[7] * (1.0 if uniform(s) < q[6] else 0.0)
        return q[7] * (ga / total)
    if kind == KIND_KUMARASWAMY:
        inner = -math.expm1(math.log(uniform_open0(s)) * q[1])
        if inner <= 0.0:
            return 0.0
        return q[2] * math.exp(math.log(inner) * q[0])
    if kind == KIND_LOGITNORMAL:
        x = q[0] + q[1] * standard_normal(s)
        return 1.0 / (1.0 + _exp(-x))
    if kind == KIND_LOGUNIFORM:
        return math.exp(q[0] + uniform(s) * q[1])
    if kind == KIND_POINT:
        return q[0]
    length = int(q[1])  # KIND_EMPIRICAL: q = offset, length
    return float(data[int(q[0]) + min(int(uniform(s) * length), length - 1)])


def first_success_time(s: list, p: float) -> float:
    if p >= 1.0:
        return 1.0
    if p <= 0.0:
        return math.inf
    t = standard_exponential(s) / -math.log1p(-p)
    return max(float(math.ceil(t)) if t < math.inf else t, 1.0)


def first_success_counts(chunks, difficulty, grid, per_problem) -> np.ndarray:
    """:func:`simsearch.kernels.first_success.first_success_counts`, the same arguments and
    the same results, interpreted (chunk by chunk, on this thread)."""
    states, sizes, offsets = chunks
    kinds, params, cum_weights, data = difficulty
    k_grid = grid.k.tolist()
    p_out, t_out = per_problem
    keep = p_out.shape[0] > 0
    kinds, cum_weights = kinds.tolist(), cum_weights.tolist()
    rows = [tuple(row) for row in params.tolist()]
    counts = np.zeros((states.shape[0], len(k_grid) + 1), dtype=np.int64)
    for c in range(states.shape[0]):
        s = [int(word) for word in states[c]]
        bins = [0] * (len(k_grid) + 1)
        for i in range(int(offsets[c]), int(offsets[c]) + int(sizes[c])):
            p = draw_p(s, kinds, rows, cum_weights, data)
            t = first_success_time(s, p)
            if keep:
                p_out[i] = p
                t_out[i] = t
            bins[bisect_left(k_grid, t)] += 1
        counts[c] = bins
        states[c] = s  # the kernel advances the chunk's state in place too
    return counts
