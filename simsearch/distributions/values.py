"""Value distributions for ideas: the multiplier on effective compute that a win brings.

Spec strings use the same whitelisted grammar as difficulty specs: ``lognormal(mu=0.1,
sigma=0.3)``, ``pareto(alpha=2)`` (P(X > x) = x^-alpha for x >= 1, Kortum's idea values) and
``fixed(v=1.1)``. Values are handled as logarithms throughout, so heavy Pareto tails do not
overflow. ``spec`` writes the shortest text that parses back to the same floats, so a manifest
reproduces the run exactly.
"""

from __future__ import annotations

import math

from .families import _fmt
from ..errors import SimsearchError
from ..kernels.inputs import VALUE_FIXED, VALUE_LOGNORMAL, VALUE_PARETO
from .spec import parse_spec

#: Largest |log value| one idea may have: its value and a win's cost e^(elasticity log A) stay
#: far inside float64 (e^709.78 overflows), so a run can only overflow by adding many wins,
#: which :func:`simsearch.labs.simulate_labs` refuses after the fact.
MAX_LOG_VALUE = 690.0
#: Standard deviations of a lognormal's log value that must fit within MAX_LOG_VALUE: a draw
#: beyond them has probability < 1e-300.
LOGNORMAL_REACH = 38.0


def _positive(family: str, name: str, value, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and math.isfinite(value) \
        and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise SimsearchError(f"{family}: {name} must be a finite number {bound} (got {value!r})")
    return float(value)


class ValueDistribution:
    """Base class: ``kernel`` gives (code, a, b) for the numba draw."""

    name = ""

    @property
    def kernel(self) -> tuple[int, float, float]:
        raise NotImplementedError


class Fixed(ValueDistribution):
    """Every idea is worth the same factor ``v``."""

    name = "fixed"

    def __init__(self, v: float):
        self.v = _positive("fixed", "v", v)
        if abs(math.log(self.v)) > MAX_LOG_VALUE:
            raise SimsearchError(f"fixed: v must be in [e^-{MAX_LOG_VALUE:g}, e^{MAX_LOG_VALUE:g}]"
                                 f" (about 1e-300 to 1e300) (got {v!r})")

    @property
    def spec(self) -> str:
        return f"fixed(v={_fmt(self.v)})"

    @property
    def kernel(self):
        return VALUE_FIXED, self.v, 0.0


class LogNormal(ValueDistribution):
    """log(value) ~ Normal(mu, sigma)."""

    name = "lognormal"

    def __init__(self, mu: float, sigma: float):
        if not (isinstance(mu, (int, float)) and math.isfinite(mu)):
            raise SimsearchError(f"lognormal: mu must be a finite number (got {mu!r})")
        self.mu = float(mu)
        self.sigma = _positive("lognormal", "sigma", sigma, allow_zero=True)
        if abs(self.mu) + LOGNORMAL_REACH * self.sigma > MAX_LOG_VALUE:
            raise SimsearchError(
                f"lognormal: |mu| + {LOGNORMAL_REACH:g} sigma must be at most {MAX_LOG_VALUE:g} "
                f"(a value beyond e^{MAX_LOG_VALUE:g} overflows float64) (got mu={mu!r}, "
                f"sigma={sigma!r})")

    @property
    def spec(self) -> str:
        return f"lognormal(mu={_fmt(self.mu)}, sigma={_fmt(self.sigma)})"

    @property
    def kernel(self):
        return VALUE_LOGNORMAL, self.mu, self.sigma


class Pareto(ValueDistribution):
    """Kortum's idea values: P(X > x) = x^(-alpha), x >= 1, so log X ~ Exponential(alpha)."""

    name = "pareto"

    def __init__(self, alpha: float):
        self.alpha = _positive("pareto", "alpha", alpha)

    @property
    def spec(self) -> str:
        return f"pareto(alpha={_fmt(self.alpha)})"

    @property
    def kernel(self):
        return VALUE_PARETO, self.alpha, 0.0


VALUE_FAMILIES = {cls.name: cls for cls in (Fixed, LogNormal, Pareto)}


def parse_value(spec: str | ValueDistribution, field: str = "pool.value") -> ValueDistribution:
    """Build a value distribution from a spec such as ``pareto(alpha=2)``."""
    if isinstance(spec, ValueDistribution):
        return spec
    return parse_spec(spec, VALUE_FAMILIES, field, "lognormal(mu=0.1, sigma=0.3) or pareto(alpha=2)")
