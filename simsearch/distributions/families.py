"""Distributions of a problem's single-attempt success probability p.

Each family can sample p, evaluate its density and CDF, report its left-tail exponent b (the
density behaves like p^(b-1) near 0; ``None`` where it has no power-law left tail), and compute
the expected single-problem failure E[(1 - p)^k] for any k >= 0. That expectation is the exact
aggregate fail@k over infinitely many problems: pass_D@k = 1 - E[(1 - p)^k] (Schaeffer et al.
2025, "How Do Large Language Monkeys Get Their Power (Laws)?").

E[(1 - p)^k] is closed form for Beta (B(alpha, beta + k) / B(alpha, beta)), points and empirical
distributions, and otherwise computed by adaptive quadrature on the scale s = log(k p), where
(1 - p)^k ~ exp(-e^s) has the same shape for every k; that keeps it accurate, with no underflow
or cancellation, from k = 1 to k = 1e12.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import math
import os
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import SimsearchError, require
from .gamma_ratio import beta_failure, log_beta_failure
from ..kernels.inputs import (KIND_BETA, KIND_EMPIRICAL, KIND_KUMARASWAMY, KIND_LOGITNORMAL,
                             KIND_LOGUNIFORM, KIND_POINT)


# Below p = _HEAD / k, (1 - p)^k differs from 1 by less than _HEAD, so that part of the integral
# is the CDF there, to relative accuracy _HEAD.
_HEAD = 1e-12
_QUAD_EPSREL = 1e-10
_POINT_MARGIN = 1e-6
#: Below this pass@k, 1 - E[(1-p)^k] has lost 8 or more digits: it is taken from log E instead.
TINY_PASS = 1e-8
#: Largest shape parameters for which E[(1-p)^k] is computed by quadrature: within them it agrees
#: with 50-digit mpmath to 1e-8 relative or better (tests/test_distributions.py); beyond, the
#: density is too concentrated for the quadrature and the value is refused, not returned
#: inexact. The left-tail shape (alpha, a) concentrates p near the top of its support sooner.
MAX_QUADRATURE_TAIL_SHAPE = 100.0
MAX_QUADRATURE_SHAPE = 1e6


@dataclass(frozen=True)
class KernelComponent:
    """One mixture component: family code and natural parameters, for the numba sampler."""

    weight: float
    kind: int
    params: tuple[float, float, float]
    data: np.ndarray | None = None


def _special():
    """``scipy.special``, imported on first use: closed-form runs never pay its 0.25 s import."""
    from scipy import special

    return special


def _fmt(x: float) -> str:
    """Shortest round-tripping text for a float, without a trailing '.0'."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _check_param(family: str, name: str, value, low: float, high: float,
                 low_open: bool, high_open: bool) -> float:
    """Validate one numeric parameter against an interval; return it as float."""
    interval = f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:24] + "..."
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise SimsearchError(
            f"{family}: {name} must be a number in {interval} (got {shown})") from None
    ok = math.isfinite(x) or (not high_open and x == high == math.inf)
    ok = ok and (x > low if low_open else x >= low) and (x < high if high_open else x <= high)
    require(ok, f"{family}: {name} must be a number in {interval} (got {shown})")
    return x


def _as_k(k) -> tuple[np.ndarray, bool]:
    """Validate a scalar or array of attempt counts k >= 0; return (float array, was_scalar)."""
    arr = np.asarray(k, dtype=float)
    require(arr.size == 0 or (np.all(np.isfinite(arr)) and np.all(arr >= 0)),
            "k: attempts must be finite numbers >= 0")
    return np.atleast_1d(arr), arr.ndim == 0


class Distribution(ABC):
    """A distribution of the single-attempt success probability p on [0, 1].

    Subclasses are immutable; parameters are validated on construction and a bad one raises
    :class:`~simsearch.errors.SimsearchError` naming it.
    """

    #: Name used in spec strings, e.g. ``"beta"``.
    name: str = ""

    @property
    @abstractmethod
    def spec(self) -> str:
        """Canonical spec string; :func:`simsearch.distributions.spec.parse_distribution` reads it back."""

    @property
    @abstractmethod
    def tail_exponent(self) -> float | None:
        """Left-tail exponent b with density ~ p^(b-1) near 0, or ``None`` (no power-law tail).

        With a power-law tail, E[(1-p)^k] ~ C Gamma(b) k^(-b) as k -> infinity, so
        -log pass@k falls as a power law with exponent b.
        """

    @abstractmethod
    def sample(self, size: int, rng=None) -> np.ndarray:
        """Draw ``size`` values of p with a NumPy generator (or seed) ``rng``.

        This is the plain-NumPy sampler; the engine draws p inside its numba kernel instead.
        """

    @abstractmethod
    def cdf(self, p) -> np.ndarray:
        """P(p' <= p)."""

    @abstractmethod
    def _failure(self, k: np.ndarray) -> np.ndarray:
        """E[(1-p)^k] for a validated 1-d float array k."""

    @abstractmethod
    def kernel_components(self) -> list[KernelComponent]:
        """Flat list of weighted components for the numba sampler."""

    is_continuous: bool = True
    #: Parameters given as text (a file name) rather than numbers, in spec strings.
    text_parameters: tuple[str, ...] = ()

    @property
    def input_files(self) -> list[dict]:
        """Files the distribution was read from: ``{"path", "sha256"}`` each (for manifests)."""
        return []

    def pdf(self, p) -> np.ndarray:
        """Density of p (continuous families only)."""
        return np.exp(self.logpdf(p))

    def logpdf(self, p) -> np.ndarray:
        """Log density of p; ``-inf`` outside the support."""
        raise SimsearchError(f"{self.spec} is discrete: it has no density")

    def expected_failure(self, k):
        """E[(1 - p)^k]: the probability that a random problem fails all k attempts.

        Parameters
        ----------
        k : float or array_like
            Attempt counts, k >= 0 (need not be integers).

        Returns
        -------
        float or numpy.ndarray
            Same shape as ``k``.
        """
        arr, scalar = _as_k(k)
        out = self._failure(arr)
        return float(out[0]) if scalar else out.reshape(np.shape(k))

    def expected_pass_at_k(self, k):
        """pass_D@k = 1 - E[(1 - p)^k], the exact aggregate over infinitely many problems.

        Where 1 - E would keep fewer than 8 digits (pass@k below 1e-8), it is
        -expm1(log E) from the family's own log failure, so a tiny pass@k (Beta(0.3, 1e306):
        about 3e-307) is not rounded to 0.
        """
        arr, scalar = _as_k(k)
        passed = 1.0 - self._failure(arr)
        tiny = passed < TINY_PASS
        if tiny.any():
            passed[tiny] = -np.expm1(self._log_failure(arr[tiny]))
        return float(passed[0]) if scalar else passed.reshape(np.shape(k))

    def _log_failure(self, k: np.ndarray) -> np.ndarray:
        """log E[(1-p)^k]; a family that can give it without rounding E to 1 first overrides
        this (Beta)."""
        with np.errstate(divide="ignore"):
            return np.log(self._failure(k))

    @property
    def parameters(self) -> dict:
        """Constructor parameters by name, e.g. ``{"alpha": 0.3, "beta": 3.0, "scale": 1.0}``."""
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        return self.spec

    def __eq__(self, other) -> bool:
        return isinstance(other, Distribution) and self.spec == other.spec

    def __hash__(self) -> int:
        return hash(self.spec)


def failure_by_quadrature(dist: "ContinuousDistribution", k) -> np.ndarray:
    """E[(1 - p)^k] by adaptive quadrature, for any continuous family.

    Integrates exp(k log1p(-p) + log f(p) + log p) over s = log(k p), where the failure factor is
    ~exp(-e^s) whatever k is, with break points at s = 0 and at the distribution's quantiles. The
    range p < 1e-12 / k, where (1 - p)^k = 1 to 12 digits, contributes its probability mass, the
    CDF, directly; that removes the slowly decaying left tail from the integral.

    Parameters
    ----------
    dist : ContinuousDistribution
    k : array_like
        Attempt counts >= 0.

    Returns
    -------
    numpy.ndarray
        One value per k.
    """
    from scipy import integrate  # on first use: 0.4 s of start-up that closed forms never need

    ks, _ = _as_k(k)
    for name, limit in dist.quadrature_limits.items():
        value = getattr(dist, name)
        require(value <= limit,
                f"{dist.name}: {name} = {_fmt(value)} is beyond {_fmt(limit)}, where "
                f"E[(1-p)^k] can no longer be computed accurately; use {name} <= {_fmt(limit)}")
    lo_support, hi_support = dist.support
    quantiles = dist.ppf(np.array([1e-9, 1e-4, 0.01, 0.5, 0.99, 1 - 1e-4]))
    out = np.empty(ks.size)
    for i, kk in enumerate(ks):
        if kk == 0:
            out[i] = 1.0
            continue
        p_cut = _HEAD / kk
        head = float(dist.cdf(p_cut)) if p_cut > lo_support else 0.0
        p_lo = max(p_cut, lo_support)
        if p_lo >= hi_support:
            out[i] = head
            continue
        s_lo, s_hi = math.log(kk * p_lo), math.log(kk * hi_support)
        logpdf = dist._logpdf_inside

        def integrand(s, kk=kk):
            p = math.exp(s) / kk
            if p >= hi_support:  # rounding past the top of the support, where f may be inf
                return 0.0
            return math.exp(kk * math.log1p(-p) + float(logpdf(p)) + s - math.log(kk))

        points = {0.0, *(math.log(kk * q) for q in quantiles if q > 0)}
        # A break point within rounding of an end (a quantile equal to the top of the support
        # when the density piles up there, beta < 1) leaves a sliver the quadrature cannot
        # resolve beside an integrable singularity: keep only points clear of the ends.
        points = sorted(x for x in points if s_lo + _POINT_MARGIN < x < s_hi - _POINT_MARGIN)
        with warnings.catch_warnings(), np.errstate(divide="ignore"):
            # log1p(-1) = -inf at the top of the support is a density of 0 there, not an
            # error; a quadrature that cannot converge is refused below, not warned about.
            warnings.simplefilter("error", integrate.IntegrationWarning)
            try:
                value, _ = integrate.quad(integrand, s_lo, s_hi, points=points or None,
                                          epsabs=0.0, epsrel=_QUAD_EPSREL, limit=500)
            except integrate.IntegrationWarning:
                value = math.nan
        require(math.isfinite(value), f"{dist.spec}: E[(1-p)^k] at k = {_fmt(kk)} did not "
                                      f"converge; use parameters nearer 1")
        out[i] = head + value
    return np.clip(out, 0.0, 1.0)


class ContinuousDistribution(Distribution):
    """A family with a density on ``support``; E[(1-p)^k] by quadrature unless overridden."""

    #: (low, high) bounds of p.
    support: tuple[float, float] = (0.0, 1.0)
    #: Parameter name -> largest value for which E[(1-p)^k] by quadrature is accurate.
    quadrature_limits: dict = {}

    @abstractmethod
    def ppf(self, q) -> np.ndarray:
        """Quantile function."""

    @abstractmethod
    def _logpdf_inside(self, p):
        """Log density at points strictly inside the support (scalars or arrays)."""

    def logpdf(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        out = np.full(p.shape, -np.inf)
        inside = (p > self.support[0]) & (p < self.support[1])
        with np.errstate(divide="ignore"):
            out[inside] = self._logpdf_inside(p[inside])
        return out

    def _failure(self, k: np.ndarray) -> np.ndarray:
        return failure_by_quadrature(self, k)


class Beta(ContinuousDistribution):
    """Schaeffer's scaled Beta: p = scale * X with X ~ Beta(alpha, beta).

    Left-tail exponent b = alpha. For scale = 1, E[(1-p)^k] = B(alpha, beta + k) / B(alpha, beta)
    exactly (see :mod:`simsearch.distributions.gamma_ratio`); for scale < 1 it is 2F1(-k, alpha; alpha + beta; scale),
    evaluated by quadrature.
    """

    name = "beta"
    # Used only with scale < 1; scale = 1 is closed form, exact for any alpha and beta.
    quadrature_limits = {"alpha": MAX_QUADRATURE_TAIL_SHAPE, "beta": MAX_QUADRATURE_SHAPE}

    def __init__(self, alpha: float, beta: float, scale: float = 1.0):
        self.alpha = _check_param("beta", "alpha", alpha, 0, math.inf, True, True)
        self.beta = _check_param("beta", "beta", beta, 0, math.inf, True, True)
        self.scale = _check_param("beta", "scale", scale, 0, 1, True, False)
        self.support = (0.0, self.scale)

    @property
    def _log_norm(self) -> float:
        """log(scale B(alpha, beta)), by betaln: lgamma(a) + lgamma(b) - lgamma(a + b)
        overflows past a shape of ~2.6e305 (1e306 is valid) and loses every digit long
        before. Computed on use, so that making a Beta does not import scipy."""
        return float(_special().betaln(self.alpha, self.beta)) + math.log(self.scale)

    @property
    def spec(self) -> str:
        extra = "" if self.scale == 1 else f", scale={_fmt(self.scale)}"
        return f"beta(alpha={_fmt(self.alpha)}, beta={_fmt(self.beta)}{extra})"

    @property
    def tail_exponent(self) -> float:
        return self.alpha

    def sample(self, size, rng=None):
        return self.scale * np.random.default_rng(rng).beta(self.alpha, self.beta, size)

    def cdf(self, p):
        return _special().betainc(self.alpha, self.beta, np.clip(np.asarray(p) / self.scale, 0, 1))

    def ppf(self, q):
        return self.scale * _special().betaincinv(self.alpha, self.beta, q)

    def _logpdf_inside(self, p):
        x = p / self.scale
        return (self.alpha - 1) * np.log(x) + (self.beta - 1) * np.log1p(-x) - self._log_norm

    def _failure(self, k):
        if self.scale != 1:
            return super()._failure(k)
        return beta_failure(self.alpha, self.beta, k)

    def _log_failure(self, k):
        if self.scale != 1:
            return super()._log_failure(k)
        return log_beta_failure(self.alpha, self.beta, k)

    def kernel_components(self):
        return [KernelComponent(1.0, KIND_BETA, (self.alpha, self.beta, self.scale))]


class Kumaraswamy(ContinuousDistribution):
    """p = scale * X with X ~ Kumaraswamy(a, b): density a b x^(a-1) (1 - x^a)^(b-1).

    Left-tail exponent a. Sampled by the inverse CDF x = (1 - (1 - U)^(1/b))^(1/a).
    """

    name = "kumaraswamy"
    quadrature_limits = {"a": MAX_QUADRATURE_TAIL_SHAPE, "b": MAX_QUADRATURE_SHAPE}

    def __init__(self, a: float, b: float, scale: float = 1.0):
        self.a = _check_param("kumaraswamy", "a", a, 0, math.inf, True, True)
        self.b = _check_param("kumaraswamy", "b", b, 0, math.inf, True, True)
        self.scale = _check_param("kumaraswamy", "scale", scale, 0, 1, True, False)
        self.support = (0.0, self.scale)
        self._log_norm = math.log(self.a * self.b / self.scale)

    @property
    def spec(self) -> str:
        extra = "" if self.scale == 1 else f", scale={_fmt(self.scale)}"
        return f"kumaraswamy(a={_fmt(self.a)}, b={_fmt(self.b)}{extra})"

    @property
    def tail_exponent(self) -> float:
        return self.a

    def sample(self, size, rng=None):
        u = np.random.default_rng(rng).random(size)
        return self.ppf(u)

    def cdf(self, p):
        x = np.clip(np.asarray(p, dtype=float) / self.scale, 0, 1)
        return -np.expm1(self.b * np.log1p(-(x**self.a)))

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        return self.scale * (-np.expm1(np.log1p(-q) / self.b)) ** (1 / self.a)

    def _logpdf_inside(self, p):
        x = p / self.scale
        return self._log_norm + (self.a - 1) * np.log(x) + (self.b - 1) * np.log1p(-(x**self.a))

    def kernel_components(self):
        return [KernelComponent(1.0, KIND_KUMARASWAMY, (self.a, self.b, self.scale))]


class LogitNormal(ContinuousDistribution):
    """logit(p) ~ Normal(mu, sigma).

    Its density vanishes faster than any power of p at 0, so it has no power-law left tail:
    aggregate -log pass@k keeps steepening on log-log axes instead of settling to a slope.
    """

    name = "logitnormal"

    def __init__(self, mu: float, sigma: float):
        self.mu = _check_param("logitnormal", "mu", mu, -math.inf, math.inf, True, True)
        self.sigma = _check_param("logitnormal", "sigma", sigma, 0, math.inf, True, True)
        self._log_norm = math.log(self.sigma * math.sqrt(2 * math.pi))

    @property
    def spec(self) -> str:
        return f"logitnormal(mu={_fmt(self.mu)}, sigma={_fmt(self.sigma)})"

    @property
    def tail_exponent(self) -> None:
        return None

    def sample(self, size, rng=None):
        z = np.random.default_rng(rng).standard_normal(size)
        return _special().expit(self.mu + self.sigma * z)

    def cdf(self, p):
        special = _special()
        z = (special.logit(np.asarray(p, dtype=float)) - self.mu) / self.sigma
        return special.ndtr(z)

    def ppf(self, q):
        special = _special()
        return special.expit(self.mu + self.sigma * special.ndtri(q))

    def _logpdf_inside(self, p):
        log_p, log_q = np.log(p), np.log1p(-p)
        z = (log_p - log_q - self.mu) / self.sigma
        return -0.5 * z * z - self._log_norm - log_p - log_q

    def kernel_components(self):
        return [KernelComponent(1.0, KIND_LOGITNORMAL, (self.mu, self.sigma, 0.0))]


class LogUniform(ContinuousDistribution):
    """log p uniform on [log low, log high]: density 1 / (p log(high / low)).

    Within its range the density is ~p^(-1), but it is bounded away from 0, so for k >> 1 / low
    the failure decays as (1 - low)^k: no power law asymptotically (``tail_exponent`` is None).
    """

    name = "loguniform"

    def __init__(self, low: float, high: float):
        self.low = _check_param("loguniform", "low", low, 0, 1, True, False)
        self.high = _check_param("loguniform", "high", high, 0, 1, True, False)
        require(self.low < self.high,
                f"loguniform: low must be < high (got low={low!r}, high={high!r})")
        self.support = (self.low, self.high)
        self._log_width = math.log(self.high / self.low)

    @property
    def spec(self) -> str:
        return f"loguniform(low={_fmt(self.low)}, high={_fmt(self.high)})"

    @property
    def tail_exponent(self) -> None:
        return None

    def sample(self, size, rng=None):
        u = np.random.default_rng(rng).random(size)
        return self.ppf(u)

    def cdf(self, p):
        p = np.clip(np.asarray(p, dtype=float), self.low, self.high)
        return np.log(p / self.low) / self._log_width

    def ppf(self, q):
        return self.low * np.exp(np.asarray(q, dtype=float) * self._log_width)

    def _logpdf_inside(self, p):
        return -np.log(p) - math.log(self._log_width)

    def kernel_components(self):
        return [KernelComponent(1.0, KIND_LOGUNIFORM, (self.low, self.high, 0.0))]


class Point(Distribution):
    """Every problem has the same p: failure (1 - p)^k, exponential in k."""

    name = "point"
    is_continuous = False

    def __init__(self, p: float):
        self.p = _check_param("point", "p", p, 0, 1, False, False)

    @property
    def spec(self) -> str:
        return f"point(p={_fmt(self.p)})"

    @property
    def tail_exponent(self) -> float | None:
        # An atom at p = 0 never succeeds: its failure stays 1, a k^0 tail.
        return 0.0 if self.p == 0 else None

    def sample(self, size, rng=None):
        return np.full(size, self.p)

    def cdf(self, p):
        return (np.asarray(p, dtype=float) >= self.p).astype(float)

    def _failure(self, k):
        with np.errstate(invalid="ignore"):
            out = np.exp(k * math.log1p(-self.p)) if self.p < 1 else np.zeros_like(k)
        return np.where(k == 0, 1.0, out)

    def kernel_components(self):
        return [KernelComponent(1.0, KIND_POINT, (self.p, 0.0, 0.0))]


def _read_values_file(file) -> tuple[np.ndarray, str, str]:
    """Values of p from a ``.npy`` array or a one-column ``.csv``: (values, absolute path,
    SHA-256 of the bytes read). Errors are one line naming the file."""
    try:
        text = os.fspath(file)
    except TypeError:
        raise SimsearchError(f"empirical: file must be a path, got {file!r}") from None
    path = os.path.abspath(text)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".npy", ".csv"):
        raise SimsearchError(f"empirical: file {text!r} must end in .npy or .csv")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise SimsearchError(f"empirical: file {text!r} not found (looked for {path})") from None
    except OSError as exc:
        raise SimsearchError(f"empirical: cannot read file {text!r} "
                             f"({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if suffix == ".npy":
        try:
            arr = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise SimsearchError(f"empirical: file {text!r} is not a readable .npy array "
                                 f"({' '.join(str(exc).split())})") from None
        if arr.ndim > 2 or (arr.ndim == 2 and 1 not in arr.shape) or arr.dtype.kind not in "iuf":
            raise SimsearchError(f"empirical: file {text!r} must hold one column of numbers "
                                 f"(got shape {arr.shape}, dtype {arr.dtype})")
        return arr.astype(float).ravel(), path, digest
    return _csv_column(data, text), path, digest


def _csv_column(data: bytes, text: str) -> np.ndarray:
    """One column of numbers from CSV bytes; a first line that is not a number is a header."""
    try:
        lines = data.decode("utf-8").split()
    except UnicodeDecodeError:
        raise SimsearchError(f"empirical: file {text!r} is not UTF-8 text") from None
    if any("," in line for line in lines):
        raise SimsearchError(f"empirical: file {text!r} must hold one column (found a comma)")
    start = 0
    if lines:
        try:
            float(lines[0])
        except ValueError:
            start = 1  # a header
    try:
        return np.array(lines[start:], dtype=float)
    except ValueError:
        for number, line in enumerate(lines[start:], start=start + 1):
            try:
                float(line)
            except ValueError:
                raise SimsearchError(f"empirical: file {text!r}, line {number}: {line[:40]!r} "
                                     f"is not a number") from None
        raise


class Empirical(Distribution):
    """p drawn uniformly from observed values (a bootstrap of per-problem success rates).

    Parameters
    ----------
    values : sequence of float, optional
        The values, each in [0, 1].
    file : str or path, optional
        Instead of ``values``: a ``.npy`` array or a one-column ``.csv`` (an optional header
        line) holding them, resolved against the current directory. The spec then names the
        file by its absolute path and :attr:`input_files` records its SHA-256, so a run's
        manifest says exactly which values it drew from.
    """

    name = "empirical"
    is_continuous = False
    text_parameters = ("file",)

    def __init__(self, values: Sequence[float] | None = None, file=None):
        if (values is None) == (file is None):
            raise SimsearchError("empirical: give exactly one of values=[...] or "
                                 "file='values.npy' (.npy or one-column .csv)")
        self.file, self.file_sha256 = None, None
        where = "values"
        if file is not None:
            arr, self.file, self.file_sha256 = _read_values_file(file)
            where = f"file {self.file!r}"
        else:
            try:
                arr = np.asarray(values, dtype=float).ravel()
            except (TypeError, ValueError):
                raise SimsearchError("empirical: values must be numbers in [0, 1]") from None
        require(arr.size > 0, f"empirical: {where} must hold at least one number in [0, 1]")
        bad = np.flatnonzero(~((arr >= 0) & (arr <= 1)))
        if bad.size:
            raise SimsearchError(f"empirical: {where} must hold numbers in [0, 1] "
                                 f"(value number {bad[0] + 1} is {float(arr[bad[0]])!r})")
        self.values = arr
        self.values.flags.writeable = False
        self._sorted = np.sort(arr)

    @property
    def spec(self) -> str:
        if self.file is not None:
            return f"empirical(file={self.file!r})"
        return f"empirical(values=[{', '.join(_fmt(v) for v in self.values)}])"

    @property
    def input_files(self) -> list[dict]:
        if self.file is None:
            return []
        return [{"path": self.file, "sha256": self.file_sha256}]

    @property
    def tail_exponent(self) -> float | None:
        return 0.0 if self._sorted[0] == 0 else None

    def sample(self, size, rng=None):
        return np.random.default_rng(rng).choice(self.values, size)

    def cdf(self, p):
        p = np.asarray(p, dtype=float)
        return np.searchsorted(self._sorted, p, side="right") / self._sorted.size

    def _failure(self, k):
        with np.errstate(divide="ignore"):  # a value of 1 fails with probability 0 = exp(-inf)
            log_q = np.log1p(-self.values)
        out = np.empty(k.size)
        with np.errstate(invalid="ignore"):
            for i, kk in enumerate(k):
                out[i] = 1.0 if kk == 0 else np.exp(kk * log_q).mean()
        return out

    def kernel_components(self):
        return [KernelComponent(1.0, KIND_EMPIRICAL, (0.0, float(self.values.size), 0.0),
                                self.values)]


class Mixture(Distribution):
    """A weighted mixture: with probability w_i, p is drawn from component i.

    The tail exponent is the smallest among the components that have one: the heaviest left
    tail dominates E[(1-p)^k] at large k.

    Parameters
    ----------
    components : sequence of (weight, Distribution)
        Positive weights summing to 1.
    """

    name = "mixture"

    def __init__(self, components: Sequence[tuple[float, Distribution]]):
        comps = tuple((float(w), d) for w, d in components)
        require(len(comps) > 0, "mixture: needs at least one weighted component")
        for i, (w, d) in enumerate(comps):
            require(isinstance(d, Distribution),
                    f"mixture: component {i + 1} is not a distribution")
            require(math.isfinite(w) and w > 0,
                    f"mixture: weight of component {i + 1} must be > 0 (got {w!r})")
        total = sum(w for w, _ in comps)
        require(abs(total - 1) <= 1e-9, f"mixture: weights must sum to 1 (got {total!r})")
        self.components = comps

    @property
    def is_continuous(self) -> bool:  # type: ignore[override]
        return all(d.is_continuous for _, d in self.components)

    @property
    def spec(self) -> str:
        return "mixture(" + ", ".join(f"{_fmt(w)}*{d.spec}" for w, d in self.components) + ")"

    @property
    def tail_exponent(self) -> float | None:
        exps = [d.tail_exponent for _, d in self.components if d.tail_exponent is not None]
        return min(exps) if exps else None

    def sample(self, size, rng=None):
        rng = np.random.default_rng(rng)
        weights = np.array([w for w, _ in self.components])
        which = rng.choice(len(weights), size=size, p=weights / weights.sum())
        out = np.empty(size)
        for j, (_, d) in enumerate(self.components):
            mask = which == j
            out[mask] = d.sample(int(mask.sum()), rng)
        return out

    def cdf(self, p):
        return sum(w * d.cdf(p) for w, d in self.components)

    def logpdf(self, p):
        if not self.is_continuous:
            return super().logpdf(p)
        with np.errstate(divide="ignore"):
            return np.log(sum(w * d.pdf(p) for w, d in self.components))

    def _failure(self, k):
        return sum(w * d._failure(k) for w, d in self.components)

    @property
    def input_files(self) -> list[dict]:
        return [f for _, d in self.components for f in d.input_files]

    def kernel_components(self):
        return [KernelComponent(w * c.weight, c.kind, c.params, c.data)
                for w, d in self.components for c in d.kernel_components()]


#: Families by spec name.
FAMILIES: dict[str, type[Distribution]] = {
    cls.name: cls for cls in (Beta, Kumaraswamy, LogitNormal, LogUniform, Point, Empirical, Mixture)
}

