"""What is drawn: distributions of a problem's success probability p, and of an idea's value.

* :mod:`.families`: the families of p (Beta, Kumaraswamy, logit-normal, log-uniform, point,
  empirical, mixtures), each with its exact fail@k ``E[(1 - p)^k]``, and ``FAMILIES``, their
  registry by name.
* :mod:`.values`: the families of an idea's value (fixed, lognormal, Pareto) and
  ``VALUE_FAMILIES``.
* :mod:`.spec`: the ``name(param=value, ...)`` spelling of both, parsed safely.
* :mod:`.gamma_ratio`: Beta's closed form ``B(alpha, beta + k) / B(alpha, beta)`` without
  overflow or cancellation.
"""

from .families import (FAMILIES, Beta, Distribution, Empirical, Kumaraswamy, LogitNormal,
                       LogUniform, Mixture, Point)
from .spec import parse_distribution
from .values import VALUE_FAMILIES, ValueDistribution, parse_value

__all__ = ["FAMILIES", "VALUE_FAMILIES", "Beta", "Distribution", "Empirical", "Kumaraswamy",
           "LogUniform", "LogitNormal", "Mixture", "Point", "ValueDistribution",
           "parse_distribution", "parse_value"]
