"""simsearch: Monte Carlo simulation of research progress.

Repeated sampling over problems whose success probabilities have a heavy left tail turns
per-problem exponential failure into aggregate power-law scaling (Schaeffer et al. 2025); the
same mechanism makes each further research win cost more compute.
"""

from importlib.metadata import PackageNotFoundError, version as _version

from .distributions import (Beta, Distribution, Empirical, Kumaraswamy, LogitNormal, LogUniform,
                            Mixture, Point)
from .errors import SimsearchError
from .repeated_sampling import (PassAtKResult, SimulatedCounts, parse_k_grid, simulate_counts,
                                simulate_pass_at_k)
from .spec import parse_distribution

try:
    __version__ = _version("simsearch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Beta", "Distribution", "Empirical", "Kumaraswamy", "LogitNormal", "LogUniform", "Mixture",
    "PassAtKResult", "Point", "SimsearchError", "__version__", "parse_distribution",
    "SimulatedCounts", "parse_k_grid", "simulate_counts", "simulate_pass_at_k",
]
