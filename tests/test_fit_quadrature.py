"""The quadrature likelihood of the Kumaraswamy and scaled families and its gradient, against
the sum over every grid node and against an independent 20-digit reference (mpmath).

Tolerances, from the error terms of simsearch.fitting.quadrature._QuadratureModel:

* windows: each pair's window leaves out at most _TRUNCATION (1e-12) of its full-grid sum
  (certified by the kernel); a score mean moves by at most that share times twice the
  largest |score| on the grid;
* discretisation: the midpoint rule's interior error is below _DISCRETISATION (1e-13) by the
  Poisson summation bound; its end errors are corrected exactly for priors exponential in t
  at the ends, leaving O(h^4) terms below 1e-13 here;
* rounding: the node exponents, of magnitude |log P - log C(n, c)| <= |log P| + log C(n, c),
  carry a few eps of it each, and so does log C(n, c): 16 eps (|log P| + log C(n, c)) in all;
  sums of G positive terms, G eps.
"""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import special

from simsearch import Beta
from simsearch.fitting import likelihoods, quadrature
from simsearch.fitting.counts import CountTable
from simsearch.fitting.estimators import DistributionalEstimator
from simsearch.fitting.quadrature import _QuadratureModel
from simsearch.kernels.compound_binomial import make_pairs
from simsearch.sampling.passk import simulate_counts

EPS = np.finfo(float).eps
QUADRATURE = quadrature._TRUNCATION + quadrature._DISCRETISATION + 1e-13  # + end residual
FAMILIES = [("beta", True), ("kumaraswamy", False), ("kumaraswamy", True)]


def mp_log_pmf(family, c, n, a, b, s, dps=20):
    """log C(n, c) int_0^1 (s x)^c (1 - s x)^(n - c) f(x) dx by tanh-sinh in t = logit(x):
    pieces of four units of t over |t| <= 92, forty more across the integrand's peak (found on
    a float grid), and the prior's mass beyond |t| = 92 (x or 1 - x below 1e-40) in closed
    form, where the binomial factor is constant to 1e-35."""
    with mp.workdps(dps):
        a, b, s = mp.mpf(a), mp.mpf(b), mp.mpf(s)
        edge = mp.mpf(10) ** -40
        t_max = float(mp.log((1 - edge) / edge))
        if family == "beta":
            def log_prior(lx, ly):  # log of density(x) x (1 - x), from log x and log(1 - x)
                return a * lx + b * ly - mp.log(mp.beta(a, b))
            below = mp.betainc(a, b, 0, edge, regularized=True)
            above = mp.betainc(b, a, 0, edge, regularized=True)
        else:
            def log_prior(lx, ly):
                return mp.log(a * b) + a * lx + (b - 1) * mp.log(-mp.expm1(a * lx)) + ly
            below = -mp.expm1(b * mp.log1p(-edge ** a))
            above = (-mp.expm1(a * mp.log1p(-edge))) ** b

        def log_integrand(t):
            lx, ly = -mp.log1p(mp.exp(-t)), -mp.log1p(mp.exp(t))
            return (c * (mp.log(s) + lx) + (n - c) * mp.log((1 - s) + s * mp.exp(ly))
                    + log_prior(lx, ly))

        # Locate the peak in floating point (only to place the pieces).
        t = np.linspace(-t_max, t_max, 40_001)
        lx, ly = -np.logaddexp(0, -t), -np.logaddexp(0, t)
        fa, fb, fs = float(a), float(b), float(s)
        prior = (fa * lx + fb * ly if family == "beta" else
                 fa * lx + (fb - 1) * np.log(-np.expm1(fa * lx)) + ly)
        with np.errstate(divide="ignore"):
            values = (c * (math.log(fs) + lx) + (n - c) * np.logaddexp(math.log1p(-fs) if fs < 1
                                                                       else -np.inf,
                                                                       math.log(fs) + ly)
                      + prior)
        high = t[values > values.max() - 60]
        cuts = np.unique(np.concatenate([np.arange(-t_max, t_max, 4.0), [t_max],
                                         np.linspace(high.min() - 1, high.max() + 1, 41)]))
        cuts = cuts[(cuts >= -t_max) & (cuts <= t_max)]
        shift = mp.mpf(values.max())
        inside = mp.quad(lambda u: mp.exp(log_integrand(u) - shift), [mp.mpf(x) for x in cuts])
        total = (inside * mp.exp(shift) + (below if c == 0 else 0)
                 + s ** c * (1 - s) ** (n - c) * above)
        return mp.log(mp.binomial(n, c)) + mp.log(total)


def random_cases(seed, count):
    """(family, fit_scale, c, n, a, b, scale): c = 0, c = n, n = 1 and n = 1e4, shapes from
    e^-5 to e^3, scales from 1e-3 to 1 - 1e-6."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(count):
        family, fit_scale = FAMILIES[k % len(FAMILIES)]
        n = int(rng.choice([1, 7, 100, 10_000]))
        c = int(rng.choice([0, n, min(1, n), rng.integers(0, n + 1)]))
        a, b = np.exp(rng.uniform(-5, 3, 2))
        scale = float(special.expit(rng.uniform(-7, 14))) if fit_scale else 1.0
        cases.append((family, fit_scale, c, n, a, b, scale))
    return cases


def rounding(log_pmf, c, n):
    return 16 * EPS * (np.abs(log_pmf) + special.gammaln(n + 1.0))


def model_and_theta(family, fit_scale, c, n, a, b, scale, others=()):
    pairs = [(c, n), *others]
    table = CountTable.of_pairs(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]),
                                np.ones(len(pairs)))
    theta = [math.log(a), math.log(b)] + ([special.logit(scale)] if fit_scale else [])
    return _QuadratureModel(table, family, fit_scale), np.array(theta)


def full_grid(model, theta, monkeypatch):
    """The same likelihood with every window widened to the whole grid."""
    with monkeypatch.context() as patch:
        patch.setattr(quadrature, "_TRUNCATION", 1e-300)
        return model.log_pmf_and_gradient(theta)


@pytest.mark.parametrize("seed", range(3))
def test_windows_match_the_full_grid(seed, monkeypatch):
    for case in random_cases(seed, 30):
        c, n = case[2], case[3]
        # Other pairs set a realistic grid (a 1e4-attempt data set) and windows of all sizes.
        model, theta = model_and_theta(*case, others=[(0, 10_000), (5_000, 10_000), (3, 50)])
        log_pmf, grad = model.log_pmf_and_gradient(theta)
        ref, ref_grad = full_grid(model, theta, monkeypatch)
        size = model.log_x.size
        sums = 2 * size * EPS + rounding(ref, model.table.successes, model.table.attempts)
        assert np.all(np.abs(log_pmf - ref) <= quadrature._TRUNCATION + sums), case
        scores = np.abs(model._nodes(theta, True).scores).max(axis=1)
        if model.fit_scale:  # the scale's score is (1 - s)(c - (n - c) x s / (1 - s x))
            scores[2] *= (1 - case[6]) * n
        bound = (quadrature._TRUNCATION + 2 * size * EPS) * 2 * scores + 16 * EPS * np.abs(grad)
        assert np.all(np.abs(grad - ref_grad)[0] <= bound + 1e-15), (case, c, n)


def test_likelihood_matches_mpmath():
    for case in random_cases(10, 12):
        model, theta = model_and_theta(*case)
        log_pmf = model.log_pmf(theta)[0]
        ref = float(mp_log_pmf(case[0], *case[2:]))
        assert abs(log_pmf - ref) <= QUADRATURE + rounding(ref, case[2], case[3]), (
            case, log_pmf - ref)


@pytest.mark.slow  # about 30 s: 21 integrals at 30 digits
def test_gradient_matches_mpmath():
    """Central differences of the 30-digit reference with step 1e-8 (error ~1e-16 x third
    derivative); the model's gradient is exact but for the central differences of the prior's
    mass off the grid (step 1e-5: ~1e-11 of its third derivative), weighted by its share."""
    for case in random_cases(20, 3):
        model, theta = model_and_theta(*case)
        grad = model.log_pmf_and_gradient(theta)[1][0]
        family, _, c, n, a, b, scale = case
        step = mp.mpf(10) ** -8
        with mp.workdps(30):
            for k in range(theta.size):
                def at(sign):
                    th = [mp.mpf(x) for x in theta]
                    th[k] += sign * step
                    return mp_log_pmf(family, c, n, mp.exp(th[0]), mp.exp(th[1]),
                                      1 / (1 + mp.exp(-th[2])) if len(th) == 3 else 1, dps=30)
                ref = float((at(1) - at(-1)) / (2 * step))
                assert abs(grad[k] - ref) <= 1e-8 * (1 + abs(ref)), (case, k, grad[k], ref)


@pytest.mark.parametrize("family,fit_scale", [("kumaraswamy", False), ("beta", True)])
def test_fit_agrees_with_the_full_grid_path_without_gradient(family, fit_scale, monkeypatch):
    """The old path: every pair over every node of the grid (stride 1, no window), gradient
    by finite differences in L-BFGS-B. Both optima agree to within 1% of the standard errors (each parameter's with
    the others held, 1 / sqrt(-d2 logL / d theta_k^2): the smaller, so the stricter)."""
    # A scale below the largest success rate, so that the data identify it.
    sc = simulate_counts(Beta(0.3, 3.0, scale=0.5), 2000, 1000, seed=11)
    table = CountTable.from_counts(sc.successes, sc.attempts)
    new = likelihoods.fit_family(table, family, fit_scale=fit_scale)
    old_model = likelihoods._model(table, family, fit_scale)
    every_node = np.ones_like(table.successes)
    old_model.pairs = make_pairs(table.successes, table.attempts, every_node,
                                 old_model._nodes(new.theta, False))
    old_model.has_gradient = False
    old_model.objective = lambda theta, w: -old_model.log_likelihood(theta, w) / w.sum()
    with monkeypatch.context() as patch:
        patch.setattr(quadrature, "_TRUNCATION", 1e-300)
        old_theta, ok = likelihoods._maximise(old_model, table.weights,
                                              old_model.starts(table))
    assert ok and new.converged
    curvature = np.empty(new.theta.size)  # central differences of the analytic gradient
    for k in range(new.theta.size):
        e = np.zeros(new.theta.size)
        e[k] = 1e-5
        curvature[k] = (old_model.log_pmf_and_gradient(new.theta + e)[1][:, k] @ table.weights
                        - old_model.log_pmf_and_gradient(new.theta - e)[1][:, k]
                        @ table.weights) / 2e-5
    se = 1 / np.sqrt(-curvature)
    assert np.all(np.abs(new.theta - old_theta) <= 0.01 * se), (new.theta, old_theta, se)


def test_quadrature_fit_is_the_same_on_one_and_two_threads(two_threads):
    sc = simulate_counts("beta(alpha=0.3, beta=3)", 1000, 500, seed=3)
    fits = []
    for threads in (1, 2):
        two_threads.set_num_threads(threads)
        est = DistributionalEstimator("beta", fit_scale=True, bootstrap=3, seed=1)
        est.fit(sc.successes, sc.attempts)
        fits.append((est.best_.theta.tolist(), est.log_likelihood_, est.exponent_ci_.tolist()))
    assert fits[0] == fits[1]
