"""Draw a problem's success probability p inside numba from a compiled distribution table.

A distribution compiles (:func:`simsearch.kernels.inputs.kernel_table`) to a
:data:`~simsearch.kernels.inputs.Difficulty` bundle of four arrays:
``kinds[m]`` (family codes), ``params[m, N_PARAMS]`` (per-draw constants), ``cum_weights[m]``
and ``data`` (the values of empirical components). A mixture is just a table with several rows.
"""

import math

from .inputs import KIND_BETA, KIND_KUMARASWAMY, KIND_LOGITNORMAL, KIND_LOGUNIFORM, KIND_POINT
from .jit import njit
from .rng import beta_prepared, standard_normal, uniform, uniform_open0


@njit(cache=True, inline="always")
def draw_p(s, kinds, params, cum_weights, data):
    """One draw of p with random state ``s``."""
    j = 0
    m = kinds.shape[0]
    if m > 1:
        u = uniform(s)
        while j < m - 1 and u >= cum_weights[j]:
            j += 1
    kind = kinds[j]
    q = params[j]
    if kind == KIND_BETA:
        return q[7] * beta_prepared(s, q[0], q[1], q[2], q[3], q[4], q[5], q[6])
    if kind == KIND_KUMARASWAMY:
        # Inverse CDF (q = 1/a, 1/b, scale), arranged so that no 1 - (nearly 1) is formed.
        inner = -math.expm1(math.log(uniform_open0(s)) * q[1])
        if inner <= 0.0:
            return 0.0
        return q[2] * math.exp(math.log(inner) * q[0])
    if kind == KIND_LOGITNORMAL:
        x = q[0] + q[1] * standard_normal(s)
        return 1.0 / (1.0 + math.exp(-x))
    if kind == KIND_LOGUNIFORM:
        return math.exp(q[0] + uniform(s) * q[1])
    if kind == KIND_POINT:
        return q[0]
    # KIND_EMPIRICAL: q = offset, length
    length = int(q[1])
    return data[int(q[0]) + min(int(uniform(s) * length), length - 1)]
