"""The pool model's log-likelihood (:mod:`simsearch.records.pool`), one pass over the wins.

The fit evaluates it ~10^4 times; the NumPy form costs ~80 us a call for 100 wins, nearly all
of it call overhead, this loop about 2 us.
"""

import math

from .jit import njit


@njit(cache=True)
def pool_log_likelihood(alpha, rho, ideas, g, u, exponential, slope_sum):
    """sum_i log(alpha rho E'(t_i) / (1 + tau_i)) - alpha sum_s R_s log((1 + tau_s+) /
    (1 + tau_s-)), or -inf outside the model.

    ``u``: the axis variable at the start, each win and the end of observation (t - t0 on
    calendar axes, ``exponential``; log(t / t0) on effort axes, where E = e^u - 1 and g = 1).
    ``slope_sum``: sum_i log E'(t_i) on effort axes (ignored on calendar ones, where it is
    g sum_i u_i).
    """
    wins = u.size - 2
    if not (alpha > 0.0 and rho > 0.0 and ideas > wins):
        return -math.inf
    value = wins * math.log(alpha * rho)
    if exponential:
        for i in range(1, wins + 1):
            value += g * u[i]
    else:
        value += slope_sum
    tau, log_prev, e_prev, exposure = 0.0, 0.0, 0.0, 0.0
    for i in range(1, wins + 2):
        if not exponential:
            e = math.expm1(u[i])
        elif abs(g) > 1e-12:
            e = math.expm1(g * u[i]) / g
        else:
            e = u[i]
        remaining = ideas - (i - 1)
        tau += rho * (e - e_prev) / remaining
        log_tau = math.log1p(tau)
        exposure += remaining * (log_tau - log_prev)
        if i <= wins:
            value -= log_tau
        log_prev, e_prev = log_tau, e
    value -= alpha * exposure
    if math.isnan(value) or math.isinf(value):
        return -math.inf
    return value
