"""Shared test helpers.

Statistical tests use fixed seeds, so each is deterministic; the tolerances come from Monte Carlo
standard errors (Z_TOL standard errors, a false-alarm rate of ~6e-7 per comparison for a fresh
seed) or from test significance levels (P_MIN), never from eyeballing one run.
"""

import os
from pathlib import Path

from simsearch.runtime import apply_thread_policy

# The command line's thread policy, set before numpy starts OpenBLAS: with threaded OpenBLAS,
# L-BFGS-B in the fit tests ran 10-60x slower while other processes shared the cores.
apply_thread_policy()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import simsearch  # noqa: E402


def pytest_report_header(config):
    return f"simsearch {simsearch.__version__} from {Path(simsearch.__file__).parent}"


def pytest_sessionstart(session):
    """Under CI the suite must test the installed wheel, not the source tree beside it."""
    if os.environ.get("SIMSEARCH_REQUIRE_INSTALLED"):
        location = Path(simsearch.__file__).resolve()
        if "site-packages" not in location.parts:
            raise pytest.UsageError(f"simsearch imported from {location}, not from an installed "
                                    "wheel (run pytest, not python -m pytest, from the checkout)")

#: Allowed deviation in standard errors.
Z_TOL = 5.0
#: Smallest acceptable p-value for a goodness-of-fit test at a fixed seed.
P_MIN = 1e-4


def chi2_pvalue_discrete(sample_a, sample_b, bins):
    """Two-sample chi-square homogeneity test of two discrete samples over ``bins`` edges."""
    from scipy import stats

    ca, _ = np.histogram(sample_a, bins=bins)
    cb, _ = np.histogram(sample_b, bins=bins)
    keep = (ca + cb) > 0
    return stats.chi2_contingency(np.vstack([ca[keep], cb[keep]]))[1]


@pytest.fixture
def two_threads():
    """Skip on a machine where numba cannot run two threads."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 numba threads")
    before = numba.get_num_threads()
    yield numba
    numba.set_num_threads(before)


def pytest_addoption(parser):
    parser.addoption("--exhaustive", action="store_true",
                     help="also run the large-budget property tests (marked exhaustive)")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``exhaustive`` run only with ``--exhaustive`` (the default run keeps the
    small property budget; ``slow`` tests are unaffected and still run by default)."""
    if config.getoption("--exhaustive"):
        return
    skip = pytest.mark.skip(reason="large property budget: run with --exhaustive")
    for item in items:
        if "exhaustive" in item.keywords:
            item.add_marker(skip)
