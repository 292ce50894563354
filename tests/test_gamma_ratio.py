"""log Gamma(x + a) - log Gamma(x) and the Beta failure law against 50-digit arithmetic."""

import mpmath as mp
import numpy as np
import pytest

from simsearch.distributions.gamma_ratio import beta_failure, log_gamma_ratio


@pytest.mark.parametrize("a", [0.01, 0.3, 1.0, 2.5, 10.0, 100.0])
def test_log_gamma_ratio_matches_mpmath(a):
    x = np.concatenate([[0.01, 0.5, 1.0, 9.99, 10.0, 10.01], np.logspace(1.5, 15, 12)])
    got = log_gamma_ratio(x, a)
    with mp.workdps(50):
        want = [float(mp.loggamma(mp.mpf(v) + a) - mp.loggamma(mp.mpf(v))) for v in x]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("alpha,beta", [(0.3, 3.0), (0.01, 0.1), (10.0, 0.01), (2.5, 0.5)])
def test_beta_failure_matches_mpmath_to_k_1e15(alpha, beta):
    k = np.array([0, 1, 5, 100, 1e4, 1e8, 1e12, 1e15])
    with mp.workdps(50):
        want = [float(mp.beta(alpha, beta + mp.mpf(kk)) / mp.beta(alpha, beta)) for kk in k]
    np.testing.assert_allclose(beta_failure(alpha, beta, k), want, rtol=1e-12)


@pytest.mark.parametrize("alpha,beta,k", [(0.3, 1e306, 1.0), (0.3, 1e306, 1e6), (0.3, 1e12, 1.0),
                                          (0.3, 1e12, 1e4), (2.5, 1e9, 3.0), (5.0, 1e10, 2.0),
                                          (0.3, 1e8, 0.1), (0.3, 3.0, 10.0)])
def test_a_tiny_beta_pass_at_k_keeps_its_digits(alpha, beta, k):
    """Issue 19.4: for Beta(0.3, 1e306) pass@1 is 3e-307 (main: 0, as 1 - E[(1-p)^k] with E
    rounded to 1, and -log pass@k inf). Checked against 700-digit arithmetic."""
    from simsearch import Beta

    with mp.workdps(700):
        a, b, kk = mp.mpf(alpha), mp.mpf(beta), mp.mpf(k)
        log_fail = mp.loggamma(b + kk) - mp.loggamma(a + b + kk) - mp.loggamma(b) \
            + mp.loggamma(a + b)
        want = float(-mp.expm1(log_fail))
    got = Beta(alpha, beta).expected_pass_at_k(k)
    assert got == pytest.approx(want, rel=1e-13)
    assert np.isfinite(-np.log(got))
