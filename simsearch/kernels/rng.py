"""Counter-free random streams for numba kernels: xoshiro256** seeded from ``SeedSequence``.

Why not numba's own ``np.random``: inside ``prange`` it keeps one hidden state per *thread*, so
results would depend on how many threads ran and how work was scheduled. Here every chunk of
work owns an explicit 4-word state spawned from a ``numpy.random.SeedSequence``; a chunk's
draws are the same whichever thread runs it, so results are bit-identical for any thread count.

The variate generators are standard: xoshiro256** (Blackman & Vigna 2018) for 64-bit words,
53-bit uniforms, ziggurat normals and exponentials, Marsaglia & Tsang (2000) gammas with the
``G(a) = G(a + 1) U^(1/a)`` boost for shapes below one, and beta as a ratio of gammas.
"""

from __future__ import annotations

import math

from .inputs import EXP_R, EXP_RATIO, EXP_X, ZIG_R, ZIG_RATIO, ZIG_X
from .jit import njit, uint64

_ROT_7 = uint64(7)
_ROT_45 = uint64(45)
_SHIFT_17 = uint64(17)
_SHIFT_11 = uint64(11)
_MUL_5 = uint64(5)
_MUL_9 = uint64(9)
_TWO_POW_M53 = 2.0**-53


@njit(inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (uint64(64) - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """Advance state ``s`` (4 ``uint64`` words, updated in place) and return 64 random bits."""
    result = _rotl(s[1] * _MUL_5, _ROT_7) * _MUL_9
    t = s[1] << _SHIFT_17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], _ROT_45)
    return result


@njit(cache=True, inline="always")
def uniform(s):
    """Uniform on [0, 1) with 53 random bits."""
    return float(next_u64(s) >> _SHIFT_11) * _TWO_POW_M53


@njit(cache=True, inline="always")
def uniform_open0(s):
    """Uniform on (0, 1]: safe to take the logarithm of."""
    return 1.0 - uniform(s)


_LOW7 = uint64(0x7F)
_LOW8 = uint64(0xFF)


@njit(cache=True, inline="always")
def standard_normal(s):
    """Standard normal by the ziggurat method (Marsaglia & Tsang 2000; Doornik 2005 layout).

    One 64-bit word gives both the layer (low 7 bits) and the uniform (high 53 bits), so the
    common case costs one word and no transcendental function.
    """
    while True:
        word = next_u64(s)
        i = int(word & _LOW7)
        u = 2.0 * (float(word >> _SHIFT_11) * _TWO_POW_M53) - 1.0
        if abs(u) < ZIG_RATIO[i]:
            return u * ZIG_X[i]
        if i == 0:
            # Base layer beyond R: Marsaglia's exponential tail sampler.
            while True:
                x = math.log(uniform_open0(s)) / ZIG_R
                y = math.log(uniform_open0(s))
                if -2.0 * y >= x * x:
                    return x - ZIG_R if u < 0 else ZIG_R - x
        x = u * ZIG_X[i]
        f0 = math.exp(-0.5 * (ZIG_X[i] * ZIG_X[i] - x * x))
        f1 = math.exp(-0.5 * (ZIG_X[i + 1] * ZIG_X[i + 1] - x * x))
        if f1 + uniform(s) * (f0 - f1) < 1.0:
            return x


@njit(cache=True, inline="always")
def standard_exponential(s):
    """Exponential(1) by the ziggurat method (Marsaglia & Tsang 2000), with no logarithm in the
    common case. Beyond R the tail is R plus a fresh exponential (memorylessness)."""
    shift = 0.0
    while True:
        word = next_u64(s)
        i = int(word & _LOW8)
        u = float(word >> _SHIFT_11) * _TWO_POW_M53
        if u < EXP_RATIO[i]:
            return shift + u * EXP_X[i]
        if i == 0:
            shift += EXP_R
            continue
        x = u * EXP_X[i]
        f0 = math.exp(x - EXP_X[i])
        f1 = math.exp(x - EXP_X[i + 1])
        if f1 + uniform(s) * (f0 - f1) < 1.0:
            return shift + x


@njit(cache=True, inline="always")
def gamma_prepared(s, d, c, inv_shape):
    """Gamma(shape, 1) from :func:`~simsearch.kernels.inputs.gamma_constants` (Marsaglia &
    Tsang 2000).

    Shapes below one draw G(shape + 1) U^(1/shape).
    """
    boost = 1.0
    if inv_shape > 0.0:
        boost = math.exp(-standard_exponential(s) * inv_shape)  # U^(1/shape)
    while True:
        x = standard_normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform_open0(s)
        x2 = x * x
        # Squeeze: accepts ~98% of candidates without a logarithm.
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d - d * v + d * math.log(v):
            return d * v * boost


@njit(cache=True, inline="always")
def beta_prepared(s, da, ca, inva, db, cb, invb, mean):
    """Beta(a, b) as Ga / (Ga + Gb), from :func:`~simsearch.kernels.inputs.beta_constants`."""
    ga = gamma_prepared(s, da, ca, inva)
    gb = gamma_prepared(s, db, cb, invb)
    total = ga + gb
    if total <= 0.0:
        # Both gammas underflowed, which needs tiny shapes; Beta(eps a, eps b) tends to
        # Bernoulli(a / (a + b)) as eps -> 0, so draw from that limit.
        return 1.0 if uniform(s) < mean else 0.0
    return ga / total
