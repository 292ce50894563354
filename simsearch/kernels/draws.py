"""Draw a problem's success probability p inside numba from a compiled distribution table.

A distribution compiles (:func:`kernel_table`) to a :data:`Difficulty` bundle of four arrays:
``kinds[m]`` (family codes), ``params[m, N_PARAMS]`` (per-draw constants), ``cum_weights[m]``
and ``data`` (the values of empirical components). A mixture is just a table with several rows.
"""

import math
from collections import namedtuple

import numpy as np

from .codes import (KIND_BETA, KIND_EMPIRICAL, KIND_KUMARASWAMY, KIND_LOGITNORMAL,
                    KIND_LOGUNIFORM, KIND_POINT)
from .jit import njit
from .rng import beta_constants, beta_prepared, standard_normal, uniform, uniform_open0

# Each Distribution names its components with the family codes and their natural parameters;
# kernel_table turns those into the per-draw constants draw_p reads.

#: Columns of the parameter table.
N_PARAMS = 8

Difficulty = namedtuple("Difficulty", ["kinds", "params", "cum_weights", "data"])
Difficulty.__doc__ = """A distribution of p compiled for :func:`draw_p` (:func:`kernel_table`):
kinds (m,) int64, params (m, N_PARAMS) float64, cum_weights (m,) float64, data (d,) float64."""


def _kernel_params(kind: int, params: tuple[float, ...]) -> list[float]:
    """Natural parameters of one component -> its row of the kernel table."""
    if kind == KIND_BETA:
        alpha, beta, scale = params
        return [*beta_constants(alpha, beta), scale]
    if kind == KIND_KUMARASWAMY:
        a, b, scale = params
        return [1.0 / a, 1.0 / b, scale]
    if kind == KIND_LOGUNIFORM:
        low, high = params[:2]
        return [math.log(low), math.log(high) - math.log(low)]
    return list(params)


def kernel_table(dist) -> Difficulty:
    """Compile a :class:`~simsearch.distributions.Distribution` for :func:`draw_p`.

    Returns
    -------
    Difficulty
        ``kinds`` (int64[m], family codes); ``params`` (float64[m, N_PARAMS], per-draw
        constants, e.g. the Marsaglia-Tsang set-up for both gammas of a beta);
        ``cum_weights`` (float64[m], cumulative mixture weights, the last exactly 1);
        ``data`` (float64[d], concatenated values of empirical components, whose rows hold
        offset and length).
    """
    comps = dist.kernel_components()
    kinds = np.array([c.kind for c in comps], dtype=np.int64)
    params = np.zeros((len(comps), N_PARAMS))
    chunks, offset = [], 0
    for i, c in enumerate(comps):
        row = _kernel_params(c.kind, c.params)
        if c.kind == KIND_EMPIRICAL:
            row = [offset, c.data.size]
            chunks.append(np.asarray(c.data, dtype=np.float64))
            offset += c.data.size
        params[i, :len(row)] = row
    cum_weights = np.cumsum([c.weight for c in comps])
    cum_weights[-1] = 1.0
    data = np.concatenate(chunks) if chunks else np.zeros(1)
    return Difficulty(kinds, params, cum_weights, data)


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
