"""What the kernels are given, built without numba: the family codes, the named-tuple bundles
that cross the numba boundary, a distribution compiled to its table, and the constant tables of
the variate generators.

Nothing here loads numba, so that parsing or checking a run (a sweep's own process validating
its points) and the interpreted first-success draws (:mod:`.interpreted`, for runs too small
to repay loading numba) need none of it.
"""

import math
from collections import namedtuple

import numpy as np

# Family codes of p, read by :func:`simsearch.kernels.draws.draw_p`. Each Distribution names
# its components with these and their natural parameters; kernel_table turns those into the
# per-draw constants draw_p reads.
KIND_BETA = 0
KIND_KUMARASWAMY = 1
KIND_LOGITNORMAL = 2
KIND_LOGUNIFORM = 3
KIND_POINT = 4
KIND_EMPIRICAL = 5

# Family codes of an idea's value, read by the labs kernels.
VALUE_FIXED = 0
VALUE_LOGNORMAL = 1
VALUE_PARETO = 2

Chunks = namedtuple("Chunks", ["states", "sizes", "offsets"])
Chunks.__doc__ = """Independently seeded chunks of problems: ``states`` (chunks, 4) uint64 stream
states, ``sizes`` (chunks,) int64 problems per chunk, ``offsets`` (chunks,) int64 first index
of each chunk in the per-problem arrays (zeros when none are kept)."""

KGrid = namedtuple("KGrid", ["k", "table"])
KGrid.__doc__ = """Attempt budgets to bin first-success times by: ``k`` (G,) float64 ascending,
``table`` its :func:`bin_table`."""

PerProblem = namedtuple("PerProblem", ["p", "outcome"])
PerProblem.__doc__ = """Per-problem outputs, filled in place: ``p`` (problems,) float64, and
``outcome`` (problems,): the first-success time (float64) or the success count (int64).
Empty arrays: nothing is kept."""

#: First-success times up to this many attempts are binned by table lookup.
BIN_TABLE_SIZE = 4096


def bin_table(k_grid: np.ndarray) -> np.ndarray:
    """``table[t] = grid_bin(k_grid, t)`` for t = 0..BIN_TABLE_SIZE (a 16 KiB, L1-resident
    table; :func:`simsearch.kernels.first_success.grid_bin`): most first-success times are
    small, and a lookup beats a mispredicted search."""
    return np.searchsorted(k_grid, np.arange(BIN_TABLE_SIZE + 1)).astype(np.int32)


def _ziggurat_tables(density, inverse, layers: int, r: float,
                     area: float) -> tuple[np.ndarray, np.ndarray]:
    """Layer edges x_i and ratios x_{i+1} / x_i of a ziggurat (Doornik 2005 layout).

    x_0 = area / f(R) is the width of the base strip's rectangle-equivalent, x_1 = R, and each
    further layer has the same area; ``inverse`` is the inverse of the decreasing ``density``.
    """
    x = np.empty(layers + 1)
    x[0] = area / density(r)
    x[1] = r
    x[layers] = 0.0
    for i in range(2, layers):
        x[i] = inverse(area / x[i - 1] + density(x[i - 1]))
    return x, x[1:] / x[:-1]


#: The normal ziggurat (128 layers) and the exponential one (256): edges, ratios, and R.
ZIG_R = 3.442619855899
ZIG_X, ZIG_RATIO = _ziggurat_tables(lambda x: math.exp(-0.5 * x * x),
                                    lambda y: math.sqrt(-2.0 * math.log(y)),
                                    128, ZIG_R, 9.91256303526217e-3)
EXP_R = 7.69711747013104972
EXP_X, EXP_RATIO = _ziggurat_tables(lambda x: math.exp(-x), lambda y: -math.log(y),
                                    256, EXP_R, 3.949659822581572e-3)


def gamma_constants(shape: float) -> tuple[float, float, float]:
    """Marsaglia-Tsang set-up for Gamma(shape): (d, c, 1/shape or 0 when shape >= 1).

    Computed once per distribution rather than once per draw; that halves the cost of a draw.
    """
    inv_shape = 1.0 / shape if shape < 1.0 else 0.0
    d = (shape + 1.0 if shape < 1.0 else shape) - 1.0 / 3.0
    return d, 1.0 / math.sqrt(9.0 * d), inv_shape


def beta_constants(a: float, b: float) -> tuple[float, ...]:
    """Set-up for :func:`simsearch.kernels.rng.beta_prepared`: both gammas' constants and the
    mean a / (a + b)."""
    return (*gamma_constants(a), *gamma_constants(b), a / (a + b))


#: Columns of the parameter table.
N_PARAMS = 8

Difficulty = namedtuple("Difficulty", ["kinds", "params", "cum_weights", "data"])
Difficulty.__doc__ = """A distribution of p compiled for :func:`~simsearch.kernels.draws.draw_p`
(:func:`kernel_table`): kinds (m,) int64, params (m, N_PARAMS) float64, cum_weights (m,)
float64, data (d,) float64."""


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
    """Compile a :class:`~simsearch.distributions.Distribution` for
    :func:`~simsearch.kernels.draws.draw_p`.

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
