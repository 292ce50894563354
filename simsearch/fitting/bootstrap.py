"""Bootstrap prediction intervals for any registered method.

Each replicate resamples the problems (a multinomial reweighting of the distinct (c, n) pairs)
and reruns the whole method on them, including any choice the method makes (``line-or-floor``
retests its floor in every replicate), so the interval carries the sampling of problems, the
sampling of attempts (each resampled problem brings its own counts) and model choice.
"""

from __future__ import annotations

import numpy as np

from ..errors import SimsearchError, require
from .counts import CountTable
from .likelihoods import _bootstrap_weights
from ..seeding import child, seed_sequence
from .interval import check_replicates, percentile_interval
from .methods import FittedMethod, Method

def bootstrap_fits(method: Method, table: CountTable, replicates: int, *, seed=None,
                   design: str = "auto") -> list[FittedMethod | None]:
    """The method refitted on each resample of the problems (None where it failed).

    Replicate b uses ``child(seed, b)``.
    """
    root = seed_sequence(seed)
    children = [child(root, b) for b in range(replicates)]
    fits: list[FittedMethod | None] = []
    with np.errstate(all="ignore"):
        for w in _bootstrap_weights(table, children):
            try:
                fits.append(method.fit(table, w, design))
            except (SimsearchError, np.linalg.LinAlgError, ValueError):
                fits.append(None)
    return fits


def span_alternatives(interval: np.ndarray, fitted: FittedMethod | None, k) -> np.ndarray:
    """Widen a (2, len(k)) interval to contain the predictions of ``fitted.alternatives``
    (models the data cannot rule out), so that intervals carry the choice between them."""
    interval = np.array(interval, dtype=float)
    if fitted is None or not np.all(np.isfinite(interval)):
        return interval
    for alternative in fitted.alternatives:
        value = alternative.predict_pass_at_k(k)
        interval[0] = np.minimum(interval[0], value)
        interval[1] = np.maximum(interval[1], value)
    return interval


def prediction_interval(method: Method, table: CountTable, k, replicates: int, *,
                        confidence: float = 0.95, seed=None, design: str = "auto"):
    """Percentile interval of the predicted pass@k, shape (2, len(k)), widened to span the
    full-data fit's alternatives, and the share of replicates that failed to fit."""
    check_replicates(replicates)
    require(replicates > 0, "bootstrap: need replicates for an interval")
    require(0 < confidence < 1, f"confidence: must be in (0, 1) (got {confidence!r})")
    k = np.atleast_1d(np.asarray(k, dtype=float))
    fits = bootstrap_fits(method, table, replicates, seed=seed, design=design)
    draws = np.array([f.predict_pass_at_k(k) if f is not None else np.full(k.size, np.nan)
                      for f in fits])
    failed = float(np.mean([f is None for f in fits]))
    try:
        with np.errstate(all="ignore"):
            full = method.fit(table, None, design)
    except (SimsearchError, np.linalg.LinAlgError, ValueError):
        full = None
    return span_alternatives(percentile_interval(draws, confidence), full, k), failed
