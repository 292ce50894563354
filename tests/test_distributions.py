"""Distributions: sampling, densities, tail exponents and E[(1-p)^k] against independent references."""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, stats

from simsearch import (Beta, Empirical, Kumaraswamy, LogitNormal, LogUniform, Mixture, Point,
                       SimsearchError, parse_distribution)
from simsearch.distributions.families import failure_by_quadrature
from conftest import P_MIN, Z_TOL

CONTINUOUS = [
    Beta(0.3, 3),
    Beta(0.5, 2, scale=0.4),
    Kumaraswamy(0.5, 2),
    Kumaraswamy(0.3, 4, scale=0.2),
    LogitNormal(-2, 1.5),
    LogUniform(1e-5, 0.5),
]
ALL = CONTINUOUS + [
    Point(0.2),
    Empirical([0.0, 0.01, 0.2, 0.5]),
    Mixture([(0.7, Beta(0.3, 3)), (0.3, Point(0.5))]),
    Mixture([(0.5, Kumaraswamy(0.5, 2)), (0.5, LogitNormal(0, 1))]),
]
K_WIDE = np.array([1, 3, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e9])


def _mp_failure(logpdf_mp, lo, hi, k):
    """E[(1-p)^k] = int (1-p)^k f(p) dp by mpmath tanh-sinh at 40 digits, split on the k scale."""
    with mp.workdps(40):
        cuts = [mp.mpf(lo)] + [mp.mpf(c) / k for c in (1e-3, 1e-1, 1, 10, 100)
                               if lo < c / k < hi] + [mp.mpf(hi)]
        f = lambda p: mp.exp(k * mp.log1p(-p) + logpdf_mp(p))  # noqa: E731
        return float(mp.quad(f, cuts))


def _mp_logpdf(dist):
    if isinstance(dist, Beta):
        a, b, s = dist.alpha, dist.beta, dist.scale
        return lambda p: ((a - 1) * mp.log(p / s) + (b - 1) * mp.log1p(-p / s)
                          - mp.log(mp.beta(a, b)) - mp.log(s))
    if isinstance(dist, Kumaraswamy):
        a, b, s = dist.a, dist.b, dist.scale
        return lambda p: (mp.log(a * b / s) + (a - 1) * mp.log(p / s)
                          + (b - 1) * mp.log1p(-(p / s) ** a))
    if isinstance(dist, LogitNormal):
        mu, sg = dist.mu, dist.sigma
        return lambda p: (-((mp.log(p) - mp.log1p(-p) - mu) / sg) ** 2 / 2
                          - mp.log(sg * mp.sqrt(2 * mp.pi)) - mp.log(p) - mp.log1p(-p))
    if isinstance(dist, LogUniform):
        return lambda p: -mp.log(p) - mp.log(mp.log(mp.mpf(dist.high) / dist.low))
    raise TypeError(dist)


@pytest.mark.parametrize("dist", CONTINUOUS, ids=str)
def test_expected_failure_matches_high_precision_quadrature(dist):
    lo, hi = dist.support
    ks = [1, 10, 1e3, 1e6] + ([1e9] if dist.tail_exponent is not None else [])
    ours = dist.expected_failure(np.array(ks))
    for k, value in zip(ks, ours):
        ref = _mp_failure(_mp_logpdf(dist), lo, hi, k)
        assert value == pytest.approx(ref, rel=1e-7, abs=1e-300), k


def test_beta_closed_form_and_quadrature_agree_to_k_1e12():
    dist = Beta(0.3, 3)
    ks = np.concatenate([np.arange(0, 20), np.logspace(1, 12, 45)])
    np.testing.assert_allclose(failure_by_quadrature(dist, ks), dist.expected_failure(ks),
                               rtol=1e-8)
    # and the closed form itself: B(a, b + k) / B(a, b) at small integer k is a finite product
    for k in range(6):
        prod = math.prod((3 + j) / (3.3 + j) for j in range(k))
        assert dist.expected_failure(k) == pytest.approx(prod, rel=1e-13)


@pytest.mark.parametrize("dist", [Beta(0.3, 3), Kumaraswamy(0.5, 2), Beta(0.7, 1, scale=0.3)],
                         ids=str)
def test_tail_exponent_sets_the_asymptotic_slope(dist):
    k = np.array([1e10, 1e12])
    slope = np.diff(np.log(dist.expected_failure(k))) / np.diff(np.log(k))
    assert slope[0] == pytest.approx(-dist.tail_exponent, abs=2e-3)


def test_logitnormal_failure_has_no_power_law():
    # Local slopes of log E[(1-p)^k] keep steepening decade after decade.
    dist = LogitNormal(-2, 1.5)
    k = np.logspace(1, 9, 9)
    slopes = np.diff(np.log(dist.expected_failure(k))) / np.diff(np.log(k))
    assert np.all(np.diff(slopes) < -0.05)
    assert dist.tail_exponent is None


@pytest.mark.parametrize("dist", ALL, ids=str)
def test_numpy_sampler_agrees_with_expected_failure(dist):
    p = dist.sample(200_000, rng=3)
    assert p.shape == (200_000,) and np.all((p >= 0) & (p <= 1))
    for k in (1, 10, 1000):
        x = (1 - p) ** k
        se = x.std(ddof=1) / np.sqrt(x.size)
        assert abs(x.mean() - dist.expected_failure(k)) < Z_TOL * se + 1e-12


@pytest.mark.parametrize("dist", CONTINUOUS + ALL[-1:], ids=str)
def test_sampler_cdf_and_density_are_consistent(dist):
    p = dist.sample(100_000, rng=4)
    assert stats.kstest(p, dist.cdf).pvalue > P_MIN
    lo, hi = getattr(dist, "support", (0.0, 1.0))
    for x in np.quantile(p, [0.1, 0.5, 0.9]):
        mass, _ = integrate.quad(lambda t: float(dist.pdf(t)), lo, x, limit=200)
        assert mass == pytest.approx(float(dist.cdf(x)), rel=1e-6)
    if hasattr(dist, "ppf"):
        q = np.array([1e-6, 0.3, 0.9])
        np.testing.assert_allclose(dist.cdf(dist.ppf(q)), q, rtol=1e-9)


def test_discrete_families_are_exact():
    assert Point(0.2).expected_failure(7) == pytest.approx(0.8**7, rel=1e-14)
    assert Point(1.0).expected_failure(3) == 0.0
    assert Point(0.0).expected_failure(1e12) == 1.0
    emp = Empirical([0.0, 0.5])
    assert emp.expected_failure(2) == pytest.approx((1 + 0.25) / 2)
    with pytest.raises(SimsearchError, match="discrete"):
        Point(0.2).pdf(0.1)


def test_mixture_is_linear_and_takes_the_heaviest_tail():
    a, b = Beta(0.3, 3), Kumaraswamy(0.6, 2)
    mix = Mixture([(0.25, a), (0.75, b)])
    k = np.logspace(0, 8, 9)
    np.testing.assert_allclose(mix.expected_failure(k),
                               0.25 * a.expected_failure(k) + 0.75 * b.expected_failure(k))
    assert mix.tail_exponent == 0.3
    assert Mixture([(1.0, LogitNormal(0, 1))]).tail_exponent is None
    assert Mixture([(0.5, Point(0.0)), (0.5, a)]).tail_exponent == 0.0


def test_expected_failure_keeps_shape_and_rejects_bad_k():
    dist = Beta(0.3, 3)
    assert isinstance(dist.expected_failure(10), float)
    assert dist.expected_failure(np.ones((2, 3))).shape == (2, 3)
    assert dist.expected_failure(0) == 1.0
    for bad in (-1, np.nan, np.inf):
        with pytest.raises(SimsearchError, match="k:"):
            dist.expected_failure(bad)


# --- spec strings -------------------------------------------------------------------------

SPECS = [
    "beta(alpha=0.3, beta=3)",
    "beta(alpha=0.3, beta=3, scale=0.5)",
    "kumaraswamy(a=0.5, b=2, scale=0.4)",
    "logitnormal(mu=-2, sigma=1.5)",
    "loguniform(low=1e-06, high=0.5)",
    "point(p=0.5)",
    "empirical(values=[0.1, 0.02, 0.3])",
    "mixture(0.7*beta(alpha=0.3, beta=3), 0.3*point(p=0.5))",
    "mixture(0.5*mixture(0.5*point(p=0.1), 0.5*point(p=0.2)), 0.5*beta(alpha=1, beta=1))",
]


@pytest.mark.parametrize("spec", SPECS)
def test_spec_round_trips(spec):
    dist = parse_distribution(spec)
    assert dist.spec == spec
    assert parse_distribution(dist.spec) == dist


def test_spec_accepts_positional_and_spacing_variants():
    assert parse_distribution(" beta( 0.3 ,3 ) ") == Beta(0.3, 3)
    assert parse_distribution("kumaraswamy(0.5, b=2)") == Kumaraswamy(0.5, 2)
    assert parse_distribution("mixture(beta(1,1)*0.5, 0.5*point(0))").tail_exponent == 0.0


@pytest.mark.parametrize("hyphenated,registered", [
    ("logit-normal(mu=-2, sigma=1.5)", "logitnormal(mu=-2, sigma=1.5)"),
    (" log-uniform (1e-6, 0.5)", "loguniform(low=1e-06, high=0.5)"),
    ("mixture(0.3*logit-normal(-3, 1), 0.7*beta(alpha=1e-1, beta=2))",
     "mixture(0.3*logitnormal(mu=-3, sigma=1), 0.7*beta(alpha=0.1, beta=2))"),
])
def test_hyphenated_family_names_of_prose_are_aliases(hyphenated, registered):
    """Issue 22: prose and legends say "logit-normal", which Python's grammar reads as a
    subtraction; the spelling is accepted and means the registered family."""
    assert parse_distribution(hyphenated) == parse_distribution(registered)
    assert parse_distribution(hyphenated).spec == registered


def test_hyphens_inside_quoted_file_names_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("my-values(1).npy", np.array([0.1, 0.2]))
    dist = parse_distribution("empirical(file='my-values(1).npy')")
    assert dist.values.tolist() == [0.1, 0.2]


def test_rounded_spec_shortens_numbers_but_not_file_names():
    from simsearch.distributions.spec import rounded_spec

    assert rounded_spec("mixture(0.3923442*point(p=0), 0.6076558*beta(alpha=0.31401, "
                        "beta=3.99512))") == \
        "mixture(0.3923*point(p=0), 0.6077*beta(alpha=0.314, beta=3.995))"
    assert rounded_spec("loguniform(low=1.234567e-06, high=0.5)") == \
        "loguniform(low=1.235e-06, high=0.5)"
    assert rounded_spec("empirical(file='/runs/p0.123456789.npy')") == \
        "empirical(file='/runs/p0.123456789.npy')"


BAD_SPECS = [
    ("betta(alpha=1, beta=2)", "unknown distribution 'betta'"),
    ("logit-gaussian(0, 1)", "dist: unknown distribution 'logit-gaussian'; known: beta, "
                             "empirical, kumaraswamy, logitnormal, loguniform, mixture, point"),
    ("beta(alpha=1)", "missing parameter 'beta'"),
    ("beta(alpha=0, beta=1)", "beta: alpha must be a number in (0, inf)"),
    ("beta(alpha=1, beta=1, scale=1.5)", "beta: scale must be a number in (0, 1]"),
    ("beta(alpha=nan, beta=1)", "alpha must be a number"),
    ("beta(alpha=1, beta=2, gamma=3)", "unknown parameter 'gamma'"),
    ("beta(1, 2, 0.5, 4)", "at most 3 parameters"),
    ("beta(1, alpha=2, beta=3)", "given twice"),
    ("beta(alpha='x', beta=2)", "expected a number"),
    ("beta(alpha=1, beta=2", "cannot parse"),
    ("kumaraswamy(a=-1, b=2)", "kumaraswamy: a must be"),
    ("logitnormal(mu=0, sigma=0)", "logitnormal: sigma must be"),
    ("loguniform(low=0.5, high=0.1)", "low must be < high"),
    ("loguniform(low=0, high=0.1)", "loguniform: low must be"),
    ("point(p=1.5)", "point: p must be a number in [0, 1]"),
    ("empirical(values=[])", "at least one"),
    ("empirical(values=[0.5, 2])", "value number 2 is 2.0"),
    ("mixture(0.5*point(p=0.1), 0.6*point(p=0.2))", "weights must sum to 1"),
    ("mixture(point(p=0.1))", "component 1 must be weight*distribution"),
    ("mixture(-0.5*point(p=0.1), 1.5*point(p=0.2))", "weight of component 1 must be > 0"),
    ("__import__('os')", "unknown distribution '__import__'"),
    ("1 + 2", "expected a call"),
    ("", "expected a distribution spec"),
]


@pytest.mark.parametrize("spec,message", BAD_SPECS)
def test_bad_spec_gives_one_line_naming_the_problem(spec, message):
    with pytest.raises(SimsearchError) as info:
        parse_distribution(spec)
    text = str(info.value)
    assert message in text and "\n" not in text


@pytest.mark.parametrize("family", ["kumaraswamy", "scaled_beta"])
def test_quadrature_is_exact_or_refused(family):
    """Issue 13: E[(1-p)^k] is exact or refused. Over a grid of shapes from 1e-3 to 1e6, every
    value agrees with 50-digit mpmath to 1e-8 relative or is refused with a SimsearchError
    (shapes beyond the limits, or a quadrature that does not converge); none is returned
    inexact. Scale = 1 Beta is closed form and exact everywhere."""
    import warnings

    from simsearch.distributions.families import MAX_QUADRATURE_SHAPE, MAX_QUADRATURE_TAIL_SHAPE
    from simsearch.errors import SimsearchError

    mp.mp.dps = 50
    shapes = [1e-3, 0.1, 0.3, 3.0, 30.0, MAX_QUADRATURE_TAIL_SHAPE, 1e4, MAX_QUADRATURE_SHAPE]
    accurate = 0
    for x in shapes:
        for y in shapes:
            if family == "kumaraswamy":
                dist, ks = Kumaraswamy(x, y), [1, 2]
                a, b = mp.mpf(x), mp.mpf(y)
                moment = [1, b * mp.beta(1 + 1 / a, b), b * mp.beta(1 + 2 / a, b)]
                exact = [1 - moment[1], 1 - 2 * moment[1] + moment[2]]
            else:
                dist, ks = Beta(x, y, scale=0.5), [1, 1000]
                exact = [mp.hyp2f1(-k, x, x + y, 0.5) for k in ks]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    got = dist.expected_failure(np.array(ks, dtype=float))
            except SimsearchError:
                assert x > MAX_QUADRATURE_TAIL_SHAPE or y < 1, dist.spec  # refused only there
                continue
            for g, e in zip(got, exact):
                assert abs(g - float(e)) <= 1e-8 * float(e) + 1e-300, (dist.spec, g, float(e))
            accurate += 1
    assert accurate >= len(shapes) ** 2 // 3
    big = 10 * MAX_QUADRATURE_SHAPE
    for dist in ([Kumaraswamy(big, 3), Kumaraswamy(0.5, big)] if family == "kumaraswamy"
                 else [Beta(big, 3, scale=0.5), Beta(0.3, big, scale=0.5)]):
        with pytest.raises(SimsearchError, match="can no longer be computed accurately"):
            dist.expected_failure(1)
    assert Beta(big, 3).expected_failure(1) == pytest.approx(3 / (big + 3), rel=1e-14)
