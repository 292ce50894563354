"""Closed forms for labs searching ideas: the yardsticks the experiments and tests compare with.

Round-robin on a finite pool (Schaeffer's repeated sampling with ideas for problems). N ideas
with p ~ D, every unsolved idea tried once per round. After j rounds an idea is unsolved with
probability u_j = E[(1-p)^j] (for Beta(alpha, beta) exactly B(alpha, beta+j)/B(alpha, beta)), so
r whole rounds cost N sum_{j<r} u_j attempts and bring N (1 - u_r) wins in expectation. Within a
round every attempt is on an idea that has failed the same number of times, so each wins with
the same expected probability: the expected wins are *exactly* linear in compute between whole
rounds, and :func:`expected_wins` is the expectation at any compute (exact to 1e-6, see
:func:`round_robin_curve`). The compute at the n-th win is its inverse
(:func:`compute_at_win`), the fluid limit of the order statistic.

Kortum's record search (an endless stream, each idea's value X i.i.d. continuous, A the best so
far). Among K draws draw i sets a record with probability 1/i, independently of the others
(Renyi), so the expected number of records is the harmonic number H_K ~ ln K + gamma
(:func:`expected_records`) with variance H_K - H_K^(2): one record per e-fold of draws, and
the draw T_n of the n-th record has E[log T_n] -> n - gamma (:func:`log_record_time_mean`;
exact quantiles from :func:`record_count_pmf`). With Pareto(theta) values E[log A_K] = H_K / theta, so r = 1/theta
(:func:`kortum_theory`), and the best of K has median (1 - 2^(-1/K))^(-1/theta)
(:func:`kortum_median_best`).

Feedback (lab key ``automation`` = s: the lab spends budget x A^s per unit time; attempts cost
c A^e, so attempts per unit time go as A^(s - e)). When does A reach infinity in finite time?

- *Kortum* (endless stream, Pareto(theta) values, ``max``): dA/dt = (1/theta) R0 A^(1 - kappa)
  with kappa = theta - s + e and R0 = p budget / c successes per period at A = 1, so A^kappa
  is linear in t: t_n = theta (2^(n kappa) - 1) / (kappa R0) to the n-th doubling
  (:func:`feedback_doubling_times`). **Explosion iff s - e > theta**, i.e. (s - e) r > 1 with
  r = 1/theta, at t* = theta / ((s - e - theta) R0) (:func:`feedback_blowup_time`,
  :func:`explosion_threshold`). The stochastic model is exactly self-similar after the first
  doubling (the overshoot over 2^n is 2^n x Pareto(theta)): doubling intervals scale by
  2^kappa in distribution, and E[T_n] = 1/R0 + t_n exactly (:func:`kortum_feedback_mean_time`).
- *Product combine, endless stream* (v > 1 fixed, or any values with E[log v] > 0; each idea
  works with probability bounded below): A grows geometrically in wins while the wait per win
  shrinks as A^-(s - e): **explosion iff s > e**, whatever theta
  (:func:`product_feedback_mean_time`).
- *Finite pool without replenishment*: at most N wins, so A stays bounded: **never**.
- *Finite pool with replenishment*: attempts per unit time are bounded unless s > e, so
  **s > e is necessary**; whether it suffices depends on how fast the replenished ideas are
  found (not derived here; simulate with a ``[limits]`` cap).

In every variant s <= e means no explosion: A grows at most as fast as without feedback.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special


class RoundRobinCurve(NamedTuple):
    """Expected state of a round-robin lab after ``rounds`` whole rounds (arrays)."""

    rounds: np.ndarray
    wins: np.ndarray
    compute: np.ndarray
    unsolved: np.ndarray

    def wins_at(self, compute) -> np.ndarray:
        """Expected wins after ``compute`` attempts: linear between whole rounds, from (0, 0)."""
        return np.interp(np.asarray(compute, dtype=float), np.r_[0.0, self.compute],
                         np.r_[0.0, self.wins])

    def compute_at(self, n) -> np.ndarray:
        """Compute at which the expected wins reach ``n`` (NaN beyond the curve)."""
        n = np.asarray(n, dtype=float)
        out = np.interp(n, np.r_[0.0, self.wins], np.r_[0.0, self.compute])
        return np.where(n <= self.wins[-1], out, np.nan)


_EXACT_ROUNDS = 1024
_ROUND_RATIO = 1.002


def round_robin_curve(dist, ideas: int, max_compute: float) -> RoundRobinCurve:
    """Expected (wins, compute, unsolved fraction) after whole rounds, up to the first round
    that costs at least ``max_compute`` attempts or leaves less than 0.001 ideas expected.

    Rounds 1..1024 are all listed and summed exactly; beyond, rounds grow geometrically (ratio
    1.002) and sum_{j<r} u_j is the midpoint rule int u(x) dx taken by the trapezoidal rule on
    that grid, relative error below 1e-6 for the smooth u of a continuous distribution. So the
    curve reaches any compute in a few thousand evaluations of ``expected_failure``, which
    matters for families that need quadrature (loguniform, logitnormal).

    Parameters
    ----------
    dist : simsearch.distributions.Distribution
        Difficulty distribution (needs ``expected_failure``).
    ideas : int
        Pool size N.
    max_compute : float
        Attempts to cover.
    """
    rounds = np.arange(0, _EXACT_ROUNDS + 1, dtype=float)
    failure = dist.expected_failure(rounds)
    compute = ideas * np.r_[0.0, np.cumsum(failure[:-1])]  # attempts after r rounds
    while compute[-1] < max_compute and failure[-1] * ideas >= 1e-3 and rounds[-1] < 1e15:
        step = np.unique(np.round(rounds[-1] * _ROUND_RATIO ** np.arange(1, 2049)))
        u = dist.expected_failure(np.r_[rounds[-1] - 0.5, step - 0.5])
        spent = ideas * np.cumsum(0.5 * (u[1:] + u[:-1]) * np.diff(np.r_[rounds[-1], step]))
        compute = np.r_[compute, compute[-1] + spent]
        failure = np.r_[failure, dist.expected_failure(step)]
        rounds = np.r_[rounds, step]
    keep = min(int(np.searchsorted(compute, max_compute, side="left")) + 1, rounds.size)
    rounds, compute, unsolved = rounds[1:keep], compute[1:keep], failure[1:keep]
    return RoundRobinCurve(rounds, ideas * (1.0 - unsolved), compute, unsolved)


def expected_wins(dist, ideas: int, compute) -> np.ndarray:
    """Expected wins of a round-robin lab after ``compute`` attempts (array-like)."""
    compute = np.asarray(compute, dtype=float)
    return round_robin_curve(dist, ideas, float(np.max(compute, initial=1.0))).wins_at(compute)


def compute_at_win(dist, ideas: int, n, max_compute: float) -> np.ndarray:
    """Compute at which the expected wins reach ``n`` (NaN beyond ``max_compute``): the fluid
    limit of the compute at the n-th win."""
    return round_robin_curve(dist, ideas, max_compute).compute_at(n)


def expected_records(k) -> np.ndarray:
    """Expected number of records among ``k`` i.i.d. continuous draws: H_k."""
    k = np.asarray(k, dtype=float)
    return special.digamma(k + 1.0) + np.euler_gamma


def records_variance(k) -> np.ndarray:
    """Variance of the number of records among ``k`` draws: sum_i (1/i)(1 - 1/i)."""
    k = np.asarray(k, dtype=float)
    return expected_records(k) - (np.pi**2 / 6.0 - special.polygamma(1, k + 1.0))


def record_count_pmf(max_draws: int, max_records: int) -> np.ndarray:
    """P(N_k = m) for k = 0..max_draws and m = 0..max_records, shape (max_draws + 1,
    max_records + 1): N_k, the records among k draws, is a sum of independent Bernoulli(1/i)
    (so P(N_k = m) = |s(k, m)| / k!, Stirling numbers of the first kind)."""
    out = np.zeros((max_draws + 1, max_records + 1))
    out[0, 0] = 1.0
    for k in range(1, max_draws + 1):
        q = 1.0 / k
        out[k] = out[k - 1] * (1.0 - q)
        out[k, 1:] += out[k - 1, :-1] * q
    return out


def record_time_quantile(n: int, q: float, pmf: np.ndarray) -> float:
    """Smallest k with P(T_n <= k) = P(N_k >= n) >= q, from :func:`record_count_pmf` (NaN if
    beyond its draws)."""
    reached = 1.0 - pmf[:, :n].sum(axis=1)
    k = int(np.searchsorted(reached, q - 1e-12))
    return float(k) if k < pmf.shape[0] else math.nan


def _rgamma_taylor(terms: int) -> np.ndarray:
    """Taylor coefficients of 1/Gamma(z) at 0 (an entire function), by the trapezoidal rule
    on the unit circle: 64 points at least, so aliasing (coefficient j + m onto j) stays below
    1e-15."""
    m = max(64, 4 * terms)
    z = np.exp(2j * np.pi * np.arange(m) / m)
    return (np.fft.fft(special.rgamma(z)) / m).real[:terms]


def log_record_time_mean(n: int, exact_draws: int = 20_000) -> float:
    """E[log T_n], T_n the draw that sets the n-th record (T_1 = 1).

    E[log T_n] = sum_k P(N_k < n) log(1 + 1/k): exact (:func:`record_count_pmf`) for
    k < ``exact_draws``; beyond, P(N_k = m) is the z^m coefficient of
    Gamma(k+z)/(Gamma(z) Gamma(k+1)) ~ k^(z-1)/Gamma(z), which integrates in closed form
    against d log k (regularised incomplete gammas). Tends to n - gamma.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    if n == 1:
        return 0.0
    below = record_count_pmf(exact_draws - 1, n - 1)[1:].sum(axis=1)  # P(N_k < n), k >= 1
    k = np.arange(1, exact_draws, dtype=float)
    total = float(below @ np.log1p(1.0 / k))
    # Tail: sum_{k >= K} P(N_k < n) log(1 + 1/k) ~ int_{log K}^inf sum_{m<n} sum_j c_j
    # e^-L L^(m-j) / (m-j)! dL = sum_{m<n} sum_{j<=m} c_j Q(m-j+1, log K).
    c = _rgamma_taylor(n + 1)
    log_k = math.log(exact_draws)  # log(1 + 1/k) is the d log k of [k, k+1)
    tail = sum(c[j] * special.gammaincc(m - j + 1, log_k)
               for m in range(n) for j in range(m + 1))
    return total + tail


def kortum_median_best(draws, theta: float) -> np.ndarray:
    """Exact median of the best of ``draws`` Pareto(theta) values (P(X > x) = x^-theta):
    (1 - 2^(-1/K))^(-1/theta), about (K / ln 2)^(1/theta)."""
    draws = np.asarray(draws, dtype=float)
    return (-np.expm1(-np.log(2.0) / draws)) ** (-1.0 / theta)


def kortum_theory(config) -> dict | None:
    """Kortum's closed forms for a labs config, or None when they do not apply.

    They apply to an endless stream of ideas with Pareto(theta) values combined by ``max``, no
    sharing and costs that do not grow with the multiplier: lambda = 1, phi = 1 - theta and
    r = 1/theta (REFERENCE.md, "Kortum in Jones's terms"); labs may differ in cost (a lab
    paying c per attempt has delta proportional to 1/c, absorbed by the lab intercepts). With
    lambda = 1 the cumulative-input r is Epoch's r. No theory is given for r_growth: it reaches
    1/theta only on the balanced growth path, which a lab whose compute grows by n per period
    approaches as (1 + n)^-t, so over a finite run it lies above 1/theta.
    """
    pool = config.pool
    value = pool.value
    if (pool.ideas is not None or value is None or value.name != "pareto"
            or pool.combine != "max" or config.sharing != 0
            or any(lab.elasticity != 0 for lab in config.labs)):
        return None
    theta = value.alpha
    return {"r": 1.0 / theta, "lambda": 1.0, "phi": 1.0 - theta, "r_implied": 1.0 / theta}


# --- Feedback: research done by the AI it improves ---------------------------------------------

def explosion_threshold(theta: float, elasticity=0.0, combine: str = "max"):
    """The automation s above which A reaches infinity in finite time (the phase boundary).

    Kortum (``combine = "max"``, Pareto(theta) values, endless stream): s* = theta +
    elasticity, i.e. explosion iff (s - e) r > 1 with r = 1/theta. Product combine on an
    endless stream (values with E[log v] > 0): s* = elasticity, whatever theta. Arrays
    broadcast; a threshold above 1 means no automation in [0, 1] explodes.
    """
    if combine not in ("max", "product"):
        raise ValueError(f"combine: must be 'max' or 'product' (got {combine!r})")
    theta = np.asarray(theta, dtype=float)
    elasticity = np.asarray(elasticity, dtype=float)
    return theta + elasticity if combine == "max" else elasticity + 0.0 * theta


def kortum_success_rate(budget: float, p: float, cost: float = 1.0) -> float:
    """R0, successful ideas per period at A = 1: ``budget / cost`` attempts, each an idea that
    works with probability ``p`` (round-robin on an endless stream, one attempt per idea)."""
    return budget * p / cost


def feedback_doubling_times(n, theta: float, automation: float, rate: float,
                            elasticity: float = 0.0, a0: float = 1.0) -> np.ndarray:
    """The ODE dA/dt = (1/theta) R0 A^(1 - theta + s - e): time t_n to reach A0 2^n.

    With kappa = theta - s + e (so A^kappa grows linearly in t),
    t_n = theta A0^kappa (2^(n kappa) - 1) / (kappa R0), and theta n ln 2 / R0 at kappa = 0;
    for kappa < 0, t_n tends to the blow-up time :func:`feedback_blowup_time`. ``rate`` is R0
    (:func:`kortum_success_rate`).
    """
    n = np.asarray(n, dtype=float)
    kappa = theta - automation + elasticity
    if kappa == 0.0:
        return theta * n * math.log(2.0) / rate
    return theta * a0**kappa * np.expm1(n * kappa * math.log(2.0)) / (kappa * rate)


def feedback_blowup_time(theta: float, automation: float, rate: float, elasticity: float = 0.0,
                         a0: float = 1.0) -> float:
    """t* = theta A0^kappa / (-kappa R0), kappa = theta - s + e, when s - e > theta; inf
    otherwise (A then grows without bound but never reaches infinity)."""
    kappa = theta - automation + elasticity
    return theta * a0**kappa / (-kappa * rate) if kappa < 0 else math.inf


def kortum_feedback_mean_time(n, theta: float, automation: float, rate: float,
                              elasticity: float = 0.0) -> np.ndarray:
    """Exact E[T_n], T_n the first time A >= 2^n, in the stochastic Kortum model with
    feedback from A0 = 1: 1/R0 + t_n (:func:`feedback_doubling_times`); for s - e > theta it
    tends to 1/R0 + t* as n grows.

    Why: at state A the wait for the next record is a geometric number of attempts, mean
    A^theta / p, each costing c A^e at compute rate B A^s: mean A^kappa / R0. The states
    visited are A0 = 1 and the records above it, whose logs form a Poisson process of rate
    theta (Pareto records), so E[T_n] = 1/R0 + int_0^(n ln 2) theta e^(kappa u) / R0 du.
    Holds for any p and budget (the exact geometric waits have the same means), up to the
    compute lost at period ends (none within one period).
    """
    return 1.0 / rate + feedback_doubling_times(n, theta, automation, rate, elasticity)


def product_feedback_mean_time(wins, log_value: float, automation: float, rate: float,
                               elasticity: float = 0.0) -> np.ndarray:
    """Exact E[time of the n-th win] on an endless stream with fixed values v (product
    combine, A = v^n after n wins): sum_(j<n) v^(-j (s - e)) / R0, R0 = wins per period at
    A = 1. Finite as n -> infinity (blow-up at R0^-1 / (1 - v^-(s-e))) iff s > e."""
    wins = np.asarray(wins, dtype=float)
    step = -(automation - elasticity) * log_value  # log of the ratio of successive waits
    if step == 0.0:
        return wins / rate
    return np.expm1(wins * step) / (np.expm1(step) * rate)
