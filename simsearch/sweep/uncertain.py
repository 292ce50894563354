"""Random designs: uncertain inputs as forecasters state them, rank-correlated by a Gaussian copula.

A ``[random]`` table has ``count``, one entry per input (a dotted key into the base config) and
optionally ``[random.correlation]``::

    [random]
    count = 200
    "lab.0.budget" = { loguniform = [1e3, 1e5] }                 # bounds
    "pool.replenish" = { uniform = [0.0, 0.5] }
    "lab.0.growth" = { normal = { mean = 0.3, sd = 0.1 }, low = 0.0 }      # truncated below
    "value.r" = { lognormal = { p5 = 0.4, p95 = 3.6 } }           # a 90% interval
    "x" = { normal = { p10 = 1.0, p90 = 2.0 } }                   # an 80% interval
    "pool.ideas" = { lognormal = { mu = 8.0, sigma = 0.5 }, round = true }
    "lab.0.policy" = { choice = ["greedy", "round-robin"] }
    "periods" = { integers = [8, 16] }

    [random.correlation]                  # Spearman rank correlations between inputs
    "lab.0.budget" = { "value.r" = 0.5, "lab.0.growth" = -0.3 }

``normal`` takes ``{mean, sd}``, ``{p10, p90}`` or ``{p5, p95}``; ``lognormal`` takes ``{mu,
sigma}`` (of the log), ``{mean, sd}`` (of the value), ``{p10, p90}`` or ``{p5, p95}``. Both
accept ``low`` and ``high`` (truncation: the distribution conditioned on the range) and
``round = true`` (nearest integer). Correlated inputs are drawn as Z ~ N(0, R) with R's entries
the Pearson correlations 2 sin(pi rho / 6) that give Spearman's rho, then each input is its
marginal's quantile at Phi(Z): ranks keep the correlation whatever the marginals.

Everything is drawn from one stream, ``SeedSequence(seed).spawn(count + 1)[-1]``: inputs in
file order (uncorrelated ones one after another, as before correlations existed), then the
correlated ones together, so the design is a function of the sweep file alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import SimsearchError, require
from ..seeding import child


# scipy.special is imported where a normal or lognormal axis needs it, not with the module:
# every sweep's own process and each of its workers imports this module, and scipy.special
# costs ~85 ms of their start-up.
def ndtr(x):
    """Standard normal distribution function (scipy.special.ndtr)."""
    from scipy.special import ndtr as scipy_ndtr

    return scipy_ndtr(x)


def ndtri(u):
    """Standard normal quantile function (scipy.special.ndtri)."""
    from scipy.special import ndtri as scipy_ndtri

    return scipy_ndtri(u)


_SHAPES = {"normal": ({"mean", "sd"}, {"p10", "p90"}, {"p5", "p95"}),
           "lognormal": ({"mu", "sigma"}, {"mean", "sd"}, {"p10", "p90"}, {"p5", "p95"})}
FORMS = ("uniform", "loguniform", "normal", "lognormal", "integers", "choice")


def _real(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


@dataclass(frozen=True)
class Marginal:
    """One uncertain input's distribution.

    ``form`` is one of :data:`FORMS`; ``a, b`` are (low, high) for uniform, loguniform and
    integers, and (mu, sigma) of the normal (of the log, for lognormal); ``low, high`` truncate
    normal and lognormal; ``values`` are choice's options.
    """

    form: str
    a: float = 0.0
    b: float = 1.0
    low: float = -math.inf
    high: float = math.inf
    round: bool = False
    values: tuple = ()

    @property
    def _range(self) -> tuple[float, float]:
        """(F(low), F(high)) of the untruncated normal (of the log for lognormal)."""
        lo, hi = self.low, self.high
        if self.form == "lognormal":
            lo = math.log(lo) if lo > 0 else -math.inf
            hi = math.log(hi) if hi < math.inf else math.inf
        return float(ndtr((lo - self.a) / self.b)), float(ndtr((hi - self.a) / self.b))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles at probabilities ``u`` in [0, 1)."""
        u = np.asarray(u, dtype=float)
        if self.form == "uniform":
            return self.a + (self.b - self.a) * u
        if self.form == "loguniform":
            return np.exp(math.log(self.a) + (math.log(self.b) - math.log(self.a)) * u)
        if self.form == "integers":
            return np.minimum(self.a + np.floor(u * (self.b - self.a + 1)), self.b)
        f_lo, f_hi = self._range
        x = self.a + self.b * ndtri(f_lo + u * (f_hi - f_lo))
        if self.form == "lognormal":
            x = np.exp(x)
        return np.clip(x, self.low, self.high)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Distribution function of the continuous forms (truncation included)."""
        x = np.asarray(x, dtype=float)
        if self.form == "uniform":
            return np.clip((x - self.a) / (self.b - self.a), 0, 1)
        if self.form == "loguniform":
            return np.clip(np.log(x / self.a) / math.log(self.b / self.a), 0, 1)
        y = x
        if self.form == "lognormal":
            with np.errstate(divide="ignore"):
                y = np.log(np.maximum(x, 0))
        f_lo, f_hi = self._range
        return np.clip((ndtr((y - self.a) / self.b) - f_lo) / (f_hi - f_lo), 0, 1)

    def values_at(self, u: np.ndarray) -> list:
        """Design values (Python numbers) at probabilities ``u``."""
        x = self.ppf(u)
        if self.form == "integers" or self.round:
            return [int(v) for v in np.round(x)]
        return [float(v) for v in x]

    def draw(self, rng: np.random.Generator, count: int) -> list:
        """``count`` independent values. uniform, loguniform, integers and choice draw as they
        always have (old designs keep their points); normal and lognormal by inversion."""
        if self.form == "choice":
            return [self.values[i] for i in rng.integers(0, len(self.values), count)]
        if self.form == "integers":
            return [int(v) for v in rng.integers(int(self.a), int(self.b) + 1, count)]
        if self.form == "loguniform":
            return [float(v) for v in np.exp(rng.uniform(math.log(self.a),
                                                         math.log(self.b), count))]
        if self.form == "uniform":
            return [float(v) for v in rng.uniform(self.a, self.b, count)]
        return self.values_at(rng.random(count))


def _normal_parameters(form: str, args: dict, key: str) -> tuple[float, float]:
    """(mu, sigma) of the normal (of the log for lognormal) from one of its parameter sets."""
    shapes = " or ".join("{" + ", ".join(sorted(s, key=lambda k: (k[0] != "m", k))) + "}"
                         for s in _SHAPES[form])
    require(isinstance(args, dict) and set(args) in _SHAPES[form]
            and all(_real(v) for v in args.values()),
            f"{key}: {form} needs a table {shapes} of finite numbers (got {args!r})")
    log = form == "lognormal"
    if "sd" in args or "sigma" in args:
        centre, spread = (args["mu"], args["sigma"]) if "mu" in args else (args["mean"],
                                                                          args["sd"])
        require(spread > 0, f"{key}: {form}: {'sigma' if 'sigma' in args else 'sd'} must be > 0 "
                            f"(got {spread!r})")
        if log and "mean" in args:
            require(centre > 0, f"{key}: lognormal: mean must be > 0 (got {centre!r})")
            s2 = math.log1p((spread / centre) ** 2)
            return math.log(centre) - s2 / 2, math.sqrt(s2)
        return float(centre), float(spread)
    lo_key, hi_key, level = ("p10", "p90", 0.9) if "p10" in args else ("p5", "p95", 0.95)
    z = float(ndtri(level))
    lo, hi = args[lo_key], args[hi_key]
    require(lo < hi, f"{key}: {form}: {lo_key} must be < {hi_key} (got {lo!r}, {hi!r})")
    if log:
        require(lo > 0, f"{key}: lognormal: {lo_key} must be > 0 (got {lo!r})")
        lo, hi = math.log(lo), math.log(hi)
    return (lo + hi) / 2, (hi - lo) / (2 * z)


def parse_marginal(name: str, spec, where: str) -> Marginal:
    """One ``[random]`` entry as a :class:`Marginal`; one-line errors naming the key."""
    key = f"{where}: random.{name}"
    forms = [f for f in FORMS if isinstance(spec, dict) and f in spec]
    require(len(forms) == 1,
            f"{key}: give one of uniform, loguniform, integers = [low, high], "
            f"choice = [...], normal or lognormal = {{...}} (got {spec!r})")
    form, args = forms[0], spec[forms[0]]
    extra = sorted(set(spec) - {form, "low", "high", "round"})
    if extra:
        raise SimsearchError(f"{key}: unknown key {extra[0]!r} beside {form}; allowed: low, "
                             f"high, round")
    if form == "choice":
        require(isinstance(args, list) and args and len(spec) == 1,
                f"{key}: choice needs a non-empty list (and nothing beside it)")
        return Marginal("choice", values=tuple(args))
    if form in ("uniform", "loguniform", "integers"):
        require(len(spec) == 1, f"{key}: {form}'s [low, high] is its range; low, high and "
                                f"round apply to normal and lognormal")
        require(isinstance(args, list) and len(args) == 2 and all(map(_real, args))
                and args[0] < args[1],
                f"{key}: {form} needs [low, high] with finite low < high (got {args!r})")
        if form == "loguniform":
            require(args[0] > 0, f"{key}: loguniform needs low > 0 (got {args[0]!r})")
        if form == "integers":
            require(all(v == int(v) for v in args),
                    f"{key}: integers needs integer bounds (got {args!r})")
        return Marginal(form, float(args[0]), float(args[1]))
    mu, sigma = _normal_parameters(form, args, key)
    low, high = spec.get("low", -math.inf), spec.get("high", math.inf)
    for bound, value in (("low", low), ("high", high)):
        require(isinstance(value, (int, float)) and not isinstance(value, bool)
                and not math.isnan(value), f"{key}: {bound} must be a number (got {value!r})")
    require(low < high, f"{key}: low must be < high (got {low!r}, {high!r})")
    round_ = spec.get("round", False)
    require(isinstance(round_, bool), f"{key}: round must be true or false (got {round_!r})")
    marginal = Marginal(form, mu, sigma, float(low), float(high), round_)
    f_lo, f_hi = marginal._range
    require(f_hi - f_lo > 1e-12, f"{key}: low = {low!r} and high = {high!r} leave no "
                                 f"probability to the {form}")
    return marginal


def _correlation(table, marginals: dict, where: str) -> tuple[list[str], np.ndarray]:
    """The correlated inputs (in file order) and their Pearson matrix for the Gaussian copula,
    from ``[random.correlation]`` (Spearman's rho per pair)."""
    key = f"{where}: random.correlation"
    require(isinstance(table, dict), f"{key}: must be a table of input = {{ other = rho }}")
    pairs = {}
    for a, row in table.items():
        require(isinstance(row, dict) and row,
                f"{key}.{a}: must be a table {{ other input = rank correlation }}")
        for b, rho in row.items():
            for name in (a, b):
                require(name in marginals, f"{key}: {name!r} is not an input of [random]")
                require(marginals[name].form != "choice",
                        f"{key}: {name!r} is a choice; only numeric inputs can be correlated")
            require(a != b, f"{key}: {a!r} is correlated with itself")
            require(_real(rho) and -1 < rho < 1,
                    f"{key}: {a!r} ~ {b!r} must be a number in (-1, 1) (got {rho!r})")
            pair = tuple(sorted((a, b)))
            require(pair not in pairs, f"{key}: {a!r} ~ {b!r} is given twice")
            pairs[pair] = float(rho)
    names = [n for n in marginals if any(n in pair for pair in pairs)]
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    # Pairs enter in file order; the first that leaves no valid correlation matrix is named.
    for (a, b), rho in pairs.items():
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = 2 * math.sin(math.pi * rho / 6)
        if np.linalg.eigvalsh(matrix)[0] <= 1e-10:
            raise SimsearchError(f"{key}: the correlations are inconsistent (their matrix is "
                                 f"not positive definite) at {a!r} ~ {b!r} = {rho:g}; lower "
                                 f"it or the others involving these inputs")
    return names, matrix


def random_design(random, seed: int, where: str,
                  check_size: Callable[[int], None]) -> tuple[tuple[str, ...], tuple[dict, ...]]:
    """The axes and points of a ``[random]`` design (see the module docstring)."""
    count = random.get("count") if isinstance(random, dict) else None
    require(isinstance(count, int) and not isinstance(count, bool) and count >= 1,
            f"{where}: [random] needs count = an integer >= 1")
    axes = tuple(k for k in random if k not in ("count", "correlation"))
    require(axes, f"{where}: [random] needs at least one axis")
    check_size(count)
    marginals = {name: parse_marginal(name, random[name], where) for name in axes}
    correlated, matrix = ([], None) if "correlation" not in random else \
        _correlation(random["correlation"], marginals, where)
    rng = np.random.default_rng(child(np.random.SeedSequence(seed), count))
    values = {name: marginals[name].draw(rng, count) for name in axes
              if name not in correlated}
    if correlated:
        z = rng.standard_normal((count, len(correlated))) @ np.linalg.cholesky(matrix).T
        # Phi(z) can round to 1.0 far in the tail; the quantile functions need u < 1.
        u = np.minimum(ndtr(z), np.nextafter(1.0, 0.0))
        for j, name in enumerate(correlated):
            values[name] = marginals[name].values_at(u[:, j])
    points = tuple(dict(zip(axes, combo)) for combo in zip(*(values[name] for name in axes)))
    return axes, points
