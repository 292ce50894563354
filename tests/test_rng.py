"""The numba random streams: each variate generator against its exact distribution."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from simsearch.kernels.inputs import beta_constants, gamma_constants
from simsearch.kernels.rng import (beta_prepared, gamma_prepared, standard_exponential,
                                   standard_normal, uniform, uniform_open0)
from conftest import P_MIN
from simsearch.seeding import stream_states

N = 400_000


@njit
def _fill(state, n, which, q):
    out = np.empty(n)
    for i in range(n):
        if which == 0:
            out[i] = uniform(state)
        elif which == 1:
            out[i] = uniform_open0(state)
        elif which == 2:
            out[i] = standard_normal(state)
        elif which == 5:
            out[i] = standard_exponential(state)
        elif which == 3:
            out[i] = gamma_prepared(state, q[0], q[1], q[2])
        else:
            out[i] = beta_prepared(state, q[0], q[1], q[2], q[3], q[4], q[5], q[6])
    return out


def _draw(which, q=(0.0,) * 7, seed=1, n=N):
    state = stream_states(np.random.SeedSequence(seed), 1)[0]
    return _fill(state, n, which, np.asarray(q, dtype=float))


def test_uniforms_cover_their_half_open_intervals():
    u = _draw(0)
    assert u.min() >= 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > P_MIN
    v = _draw(1)
    assert v.min() > 0 and v.max() <= 1


def test_normal_matches_standard_normal_including_tails():
    z = _draw(2, n=2_000_000)
    assert stats.kstest(z, "norm").pvalue > P_MIN
    # The base layer's tail (|z| > 3.44) is sampled separately: check its mass too.
    p_tail = 2 * stats.norm.sf(3.442619855899)
    count = np.sum(np.abs(z) > 3.442619855899)
    se = np.sqrt(z.size * p_tail * (1 - p_tail))
    assert abs(count - z.size * p_tail) < 5 * se


def test_exponential_matches_exact_law_including_the_tail():
    e = _draw(5, n=2_000_000)
    assert e.min() >= 0
    assert stats.kstest(e, "expon").pvalue > P_MIN
    # Beyond R = 7.697 the sampler restarts from R (memorylessness): check that mass, and the
    # mass beyond 2R that needs a second restart, against exp(-x).
    for x in (7.69711747013104972, 11.0):
        p = np.exp(-x)
        count = np.sum(e > x)
        assert abs(count - e.size * p) < 5 * np.sqrt(e.size * p * (1 - p)) + 1


@pytest.mark.parametrize("shape", [0.05, 0.3, 0.999, 1.0, 2.5, 30.0])
def test_gamma_matches_scipy(shape):
    g = _draw(3, gamma_constants(shape))
    assert stats.kstest(g, stats.gamma(shape).cdf).pvalue > P_MIN


@pytest.mark.parametrize("a,b", [(0.3, 3.0), (0.1, 0.5), (2.0, 5.0), (1.0, 1.0)])
def test_beta_matches_scipy(a, b):
    x = _draw(4, beta_constants(a, b))
    assert stats.kstest(x, stats.beta(a, b).cdf).pvalue > P_MIN


def test_beta_left_tail_mass_is_right():
    # The power law lives in the left tail: check P(X < 1e-6) directly, not only via KS.
    a, b = 0.3, 3.0
    x = _draw(4, beta_constants(a, b), n=1_000_000)
    p_small = stats.beta(a, b).cdf(1e-6)
    se = np.sqrt(p_small * (1 - p_small) / x.size)
    assert abs(np.mean(x < 1e-6) - p_small) < 5 * se


def test_streams_are_reproducible_and_distinct():
    a = stream_states(np.random.SeedSequence(7), 3)
    b = stream_states(np.random.SeedSequence(7), 3)
    np.testing.assert_array_equal(a, b)
    assert len({tuple(row) for row in a}) == 3
    x = _fill(a[0].copy(), 1000, 0, np.zeros(7))
    y = _fill(a[1].copy(), 1000, 0, np.zeros(7))
    assert abs(np.corrcoef(x, y)[0, 1]) < 5 / np.sqrt(1000)
    np.testing.assert_array_equal(x, _fill(b[0].copy(), 1000, 0, np.zeros(7)))
