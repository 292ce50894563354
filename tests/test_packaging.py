"""The package as a user installs it: every subpackage present, a version, thread policy."""

import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import simsearch

SOURCE = Path(__file__).resolve().parents[1] / "simsearch"


def _source_modules():
    for path in sorted(SOURCE.rglob("*.py")):
        if path.name == "__main__.py":  # runs the command line; `python -m simsearch` tests it
            continue
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("module", list(_source_modules()))
def test_every_module_of_the_source_tree_is_importable(module):
    # Under CI the suite runs against the installed wheel, so a module left out of the
    # wheel fails here by name.
    importlib.import_module(module)


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    assert simsearch.__version__ == version("simsearch")
    out = subprocess.run([sys.executable, "-m", "simsearch", "--version"], capture_output=True,
                         text=True, cwd=tempfile.gettempdir(), check=True).stdout
    assert out.strip() == f"simsearch {simsearch.__version__}"


def _without_policy():
    return {key: value for key, value in os.environ.items()
            if key not in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS")}


@pytest.mark.parametrize("module", ["simsearch", "simsearch.cli"])
def test_import_does_not_start_numpy_and_sets_the_thread_policy(module):
    code = (f"import sys, os, {module}; "
            f"assert ('numpy' in sys.modules) == ({module!r} != 'simsearch'); "
            # importlib.metadata (~20 ms) came with numba and tqdm; neither is imported now.
            "assert 'importlib.metadata' not in sys.modules; "
            "assert 'numba' not in sys.modules and 'tqdm' not in sys.modules; "
            "print(os.environ['OMP_WAIT_POLICY'], os.environ['OPENBLAS_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_without_policy(), cwd=tempfile.gettempdir(), check=True).stdout
    assert out.split() == ["PASSIVE", "1"]


def test_import_after_numpy_leaves_blas_alone():
    # numpy's BLAS has started: a BLAS setting would reach only the workers a bootstrap spawns,
    # whose results would then differ from this process's in the last bits.
    code = ("import numpy, os, simsearch; "
            "print(os.environ['OMP_WAIT_POLICY'], os.environ.get('OPENBLAS_NUM_THREADS'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_without_policy(), cwd=tempfile.gettempdir(), check=True).stdout
    assert out.split() == ["PASSIVE", "None"]


@pytest.mark.parametrize("code", [
    "import simsearch, simsearch.cli",
    "import simsearch; simsearch.simulate_pass_at_k(simsearch.Beta(0.3, 3.0), [1, 10], "
    "problems=100, seed=1)",
    "from simsearch.cli import main; main(['passk', '--dist', 'beta(0.3, 3)', '--problems', "
    "'100', '--k', '1,10', '--seed', '1'])",
    "from simsearch.fitting.estimators import RegressionEstimator; import numpy as np; "
    "RegressionEstimator().fit(np.arange(50) % 7, 40)",
])
def test_start_up_paths_do_not_import_scipy_stats_or_asyncio(code):
    # scipy.stats costs ~0.45 s of a command's start-up, asyncio (tqdm.auto) ~60 ms.
    # (importlib.metadata is numba's own: numba.core.entrypoints.)
    code += ("; import sys; print(' '.join(m for m in ('scipy.stats', 'asyncio') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tempfile.gettempdir(), check=True).stdout
    assert out.splitlines()[-1].strip() == ""


def test_simulating_pass_at_k_does_not_load_the_labs_kernels():
    # simsearch.kernels.labs (~0.1 s to import) comes in through the value families.
    code = ("import simsearch, sys; simsearch.simulate_pass_at_k('beta(0.3, 3)', [1], "
            "problems=10, seed=1); print('simsearch.kernels.labs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tempfile.gettempdir(), check=True).stdout
    assert out.splitlines()[-1] == "False"


def test_the_users_own_thread_settings_win():
    env = {**os.environ, "OMP_WAIT_POLICY": "ACTIVE"}
    code = "import os, simsearch.cli; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tempfile.gettempdir(), check=True).stdout
    assert out.strip() == "ACTIVE"


def test_the_inline_line_fit_and_chi_square_tail_equal_scipy_stats_bit_for_bit():
    # What replaced scipy.stats on the start-up path must give the very same numbers.
    import math

    import numpy as np
    from scipy import special, stats

    from simsearch.fitting.estimators import RegressionEstimator

    rng = np.random.default_rng(0)
    for _ in range(300):
        k = np.unique(np.round(np.logspace(0, rng.uniform(1, 4), rng.integers(2, 30))))
        p = np.sort(rng.uniform(0.01, 0.99, size=k.size))
        fit = stats.linregress(np.log(k), np.log(-np.log(p)))
        want = (-fit.slope, math.exp(fit.intercept), fit.rvalue ** 2)
        assert RegressionEstimator._line(k, p) == want
    x, dof = rng.uniform(0, 100, 300), rng.integers(1, 50, 300)
    assert all(special.chdtrc(d, v) == stats.chi2.sf(v, d) for v, d in zip(x, dof))
