"""simsearch: Monte Carlo simulation of research progress.

Repeated sampling over problems whose success probabilities have a heavy left tail turns
per-problem exponential failure into aggregate power-law scaling (Schaeffer et al. 2025); the
same mechanism makes each further research win cost more compute.

The names below are imported on first use, so that ``import simsearch`` does not start numpy:
the command line sets its thread policy (:mod:`simsearch.runtime`) before numpy is loaded.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("simsearch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

#: Public name -> the module that defines it.
_EXPORTS = {
    **dict.fromkeys(("Beta", "Distribution", "Empirical", "Kumaraswamy", "LogitNormal",
                     "LogUniform", "Mixture", "Point"), "distributions"),
    "SimsearchError": "errors",
    **dict.fromkeys(("PassAtKResult", "SimulatedCounts", "parse_k_grid", "simulate_counts",
                     "simulate_pass_at_k"), "repeated_sampling"),
    "parse_distribution": "spec",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simsearch' has no attribute {name!r}")


def __dir__():
    return __all__
