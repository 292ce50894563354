"""Labs searching a pool of ideas: configuration, engine, results and returns to research.

Labs with compute budgets try candidate ideas; each idea works with a small, heavy-tailed
probability, so easy ideas are found first and what remains is ever harder. ``simulate_labs``
runs the event-driven kernel (``simsearch.kernels.labs``); ``ReturnsEstimator`` measures the
returns to research (r, Jones's lambda and phi) from its output; ``simsearch.labs.theory``
holds the closed forms they are checked against (round-robin compute, Kortum records).
"""

from .config import LabsConfig, labs_config, load_labs_config
from .engine import LabsInterrupted, check_labs_work, simulate_labs
from .loss import ChinchillaLoss
from .results import LabsResult, LabsTables, read_labs, write_labs
from .returns import QUANTITIES, ReturnsEstimator
from .theory import kortum_theory
from .work import MAX_EVENTS, MAX_MEMORY, WorkEstimate, estimate_work
from ..distributions.values import VALUE_FAMILIES, ValueDistribution, parse_value

__all__ = [
    "ChinchillaLoss", "LabsConfig", "LabsInterrupted", "LabsResult", "LabsTables", "MAX_EVENTS",
    "MAX_MEMORY", "QUANTITIES", "ReturnsEstimator", "VALUE_FAMILIES", "ValueDistribution",
    "WorkEstimate", "check_labs_work", "estimate_work", "kortum_theory", "labs_config",
    "load_labs_config", "parse_value", "read_labs", "simulate_labs", "write_labs",
]
