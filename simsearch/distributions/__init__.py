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

from ..runtime import lazy_names
from .families import (FAMILIES, Beta, Distribution, Empirical, Kumaraswamy, LogitNormal,
                       LogUniform, Mixture, Point)
from .spec import parse_distribution

#: Imported on first use: the value families load the labs kernels' codes, which a passk run
#: never needs (~0.1 s of its start-up).
_LAZY = dict.fromkeys(("VALUE_FAMILIES", "ValueDistribution", "parse_value"), ".values")

__all__ = ["FAMILIES", "VALUE_FAMILIES", "Beta", "Distribution", "Empirical", "Kumaraswamy",
           "LogUniform", "LogitNormal", "Mixture", "Point", "ValueDistribution",
           "parse_distribution", "parse_value"]
__getattr__ = lazy_names(globals(), _LAZY)
