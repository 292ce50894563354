"""simsearch: Monte Carlo simulation of research progress.

Repeated sampling over problems whose success probabilities have a heavy left tail turns
per-problem exponential failure into aggregate power-law scaling (Schaeffer et al. 2025); the
same mechanism makes each further research win cost more compute.

The names below are imported on first use, so that ``import simsearch`` does not start numpy,
and importing the package applies the command line's thread policy (:mod:`simsearch.runtime`;
variables the user has set win): a Python program gets the same threads as ``simsearch`` does,
in full when it imports simsearch before numpy, and at least OpenMP's idle policy otherwise
(numba reads it when its first parallel kernel starts the pool).
"""

from .runtime import apply_thread_policy, lazy_names

apply_thread_policy()

# The one place the version is written: pyproject.toml reads it from here (setuptools' static
# ``attr``), so it needs no importlib.metadata (~75 ms) at import.
__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    **dict.fromkeys(("Beta", "Distribution", "Empirical", "Kumaraswamy", "LogitNormal",
                     "LogUniform", "Mixture", "Point"), ".distributions"),
    "SimsearchError": ".errors",
    **dict.fromkeys(("PassAtKResult", "SimulatedCounts", "parse_k_grid", "simulate_counts",
                     "simulate_pass_at_k"), ".sampling"),
    "parse_distribution": ".distributions",
}

__all__ = sorted([*_EXPORTS, "__version__"])
__getattr__ = lazy_names(globals(), _EXPORTS)


def __dir__():
    return __all__
