"""The one bootstrap interval of the package: percentiles of the replicates' draws.

Numpy only (and the package's one-line errors), so the labs' returns and the pooled fit share
it with the prediction intervals at no start-up cost.
"""

from __future__ import annotations

import numpy as np

from ..errors import require

#: Fewest replicates for which the command line reports an interval.
MIN_REPLICATES = 20


def check_replicates(replicates: int) -> None:
    """0 (no interval) or at least :data:`MIN_REPLICATES`."""
    require(replicates == 0 or replicates >= MIN_REPLICATES,
            f"bootstrap: need 0 or at least {MIN_REPLICATES} replicates for an interval "
            f"(got {replicates})")


def percentile_interval(draws, confidence: float, minimum: int = MIN_REPLICATES) -> np.ndarray:
    """Central ``confidence`` percentile interval over the rows of ``draws`` (replicates x
    values) with no NaN, shape (2, values); NaN when fewer than ``minimum`` such rows.

    Interpolating next to an infinite draw (a target never reached) would give NaN, so with
    any infinite draw the bounds are order statistics (``inverted_cdf``): that draw.
    """
    draws = np.asarray(draws, dtype=float).reshape(len(draws), -1)
    ok = ~np.any(np.isnan(draws), axis=1)
    if ok.sum() < max(minimum, 1):
        return np.full((2, draws.shape[1]), np.nan)
    tail = (1 - confidence) / 2
    method = "linear" if np.all(np.isfinite(draws[ok])) else "inverted_cdf"
    return np.quantile(draws[ok], [tail, 1 - tail], axis=0, method=method)
