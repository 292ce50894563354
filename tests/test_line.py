"""The package's one least-squares line (simsearch.fitting.line), used by the fit methods, the
regression estimator and the sweep's exponent statistic."""

import numpy as np
from scipy import stats

from simsearch.fitting.line import least_squares_line, power_law_line


def test_unweighted_is_linregress_bit_for_bit_and_weighted_is_weighted_least_squares():
    # (r squared to the last bit: scipy's own clipping of r differs across versions)
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 40))
        x = np.sort(rng.uniform(0, 9, n))
        y = rng.normal(1.0 - 0.4 * x, 0.3)
        line, want = least_squares_line(x, y), stats.linregress(x, y)
        assert (line.intercept, line.slope) == (want.intercept, want.slope)
        assert abs(line.r2 - want.rvalue ** 2) <= 4e-16
        w = rng.uniform(0.1, 5.0, n)
        design = np.stack([np.ones(n), x], axis=1) * np.sqrt(w)[:, None]
        (a, b), *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
        weighted = least_squares_line(x, y, w)
        np.testing.assert_allclose([weighted.intercept, weighted.slope], [a, b], rtol=1e-9,
                                   atol=1e-12)
        # the scale of the weights does not matter, equal weights are no weights
        assert np.allclose(least_squares_line(x, y, 7 * w)[:2], weighted[:2], rtol=1e-12)
        assert np.allclose(least_squares_line(x, y, np.full(n, 3.0))[:2], line[:2],
                           rtol=1e-12)


def test_power_law_line_keeps_the_k_with_pass_at_k_inside_zero_one():
    k = np.array([1, 2, 5, 10, 100, 1000], dtype=float)
    p = 1 - np.exp(-0.3 * k ** 0.4)
    p[-1] = 1.0  # saturated: no log(-log)
    line = power_law_line(k, np.r_[0.0, p[1:]])  # and pass@1 = 0: dropped too
    x, y = np.log(k[1:-1]), np.log(-np.log(1 - p[1:-1]))
    assert line is not None and line.slope < 0
    np.testing.assert_allclose(line[:2], stats.linregress(np.log(k[1:-1]),
                                                          np.log(-np.log(p[1:-1])))[1::-1])
    assert np.isfinite(x).all() and np.isfinite(y).all()
    assert power_law_line(k[:2], np.array([0.5, 1.0])) is None  # one point left


def test_the_line_module_loads_neither_scipy_nor_the_fit_methods():
    # The sweep workers' exponent statistic uses it on every point: importing it must not
    # pull SciPy's optimisers, the count kernels or the registry of methods.
    import subprocess
    import sys

    code = ("import sys; import simsearch.fitting.line; "
            "print(sorted(m for m in sys.modules if m.startswith(('scipy', "
            "'simsearch.fitting.methods', 'simsearch.fitting.counts', 'numba'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.strip()
    assert out == "[]"
