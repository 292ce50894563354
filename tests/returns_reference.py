"""Slow, independent reference of the returns estimates: one resample at a time, each fit by
boolean selection, explicit demeaning per lab and ``numpy.linalg.lstsq`` (the estimator as it
was written before its fits were batched over resamples)."""

import math

import numpy as np


def _demean(columns, groups):
    out = np.asarray(columns, dtype=float).copy()
    for g in np.unique(groups):
        sel = groups == g
        out[sel] -= out[sel].mean(axis=0)
    return out


def _within(y, x, groups):
    yd, xd = _demean(np.column_stack([y, x]), groups).T
    sxx = float(xd @ xd)
    return float(xd @ yd) / sxx if sxx > 1e-12 else math.nan


def _jones(log_g, log_r, a_mid, lab):
    y, x_r, x_a = _demean(np.column_stack([log_g, log_r, a_mid]), lab).T
    if float(x_a @ x_a) <= 1e-12:
        return math.nan, math.nan
    design = np.column_stack([x_r, x_a])
    if float(x_r @ x_r) > 1e-9 and np.linalg.matrix_rank(design) == 2:
        lam, slope = np.linalg.lstsq(design, y, rcond=None)[0]
        return float(lam), 1.0 + float(slope)
    return math.nan, 1.0 + float(x_a @ y) / float(x_a @ x_a)


def fit_aggregates(log_a, compute, cumulative, first):
    """(estimates in QUANTITIES order, growth rates dropped) of one (labs, periods) mean."""
    n_labs, n_periods = log_a.shape
    lab = np.repeat(np.arange(n_labs), n_periods).reshape(n_labs, n_periods)
    period = np.tile(np.arange(n_periods), (n_labs, 1))
    keep = (period >= first) & (cumulative > 0)
    r = _within(log_a[keep], np.log(cumulative[keep]), lab[keep])
    keep = (period >= first) & (compute > 0)
    r_growth = _within(log_a[keep], np.log(compute[keep]), lab[keep])
    growth = np.diff(log_a, axis=1)
    mid = 0.5 * (log_a[:, 1:] + log_a[:, :-1])
    spent = compute[:, 1:]
    usable = (period[:, 1:] >= max(first, 1)) & (spent > 0)
    keep = usable & (growth > 0)
    dropped = int(np.count_nonzero(usable & ~(growth > 0)))
    lam = phi = decline = math.nan
    if np.count_nonzero(keep) >= 3:
        log_g, log_r = np.log(growth[keep]), np.log(spent[keep])
        lam, phi = _jones(log_g, log_r, mid[keep], lab[:, 1:][keep])
        decline = -_within(log_g - log_r, period[:, 1:][keep].astype(float), lab[:, 1:][keep])
    r_implied = lam / (1.0 - phi) if not math.isnan(lam) and phi != 1.0 else math.nan
    halving = math.log(2.0) / decline if decline > 0 else math.inf
    if math.isnan(decline):
        halving = math.nan
    return np.array([r, lam, phi, r_implied, r_growth, decline, halving]), dropped
