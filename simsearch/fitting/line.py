"""The one least-squares line of the package: log(-log pass@k) on log k, and any y on x.

``scipy.stats.linregress``'s arithmetic (``numpy.cov`` with ``bias=1``), so an unweighted fit
is bit-identical to it, without importing ``scipy.stats`` (about 0.45 s); with weights, the
same formulas with ``aweights``. It imports numpy only, so the sweep workers, the records
baselines and the fitting methods all share it at no start-up cost.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class Line(NamedTuple):
    """y = intercept + slope x, and the squared correlation of the points (NaN: no spread)."""

    intercept: float
    slope: float
    r2: float


def least_squares_line(x, y, weights=None) -> Line:
    """Least squares of ``y`` on ``x`` (``weights``: one per point, any positive scale).

    Parameters
    ----------
    x, y : array_like
        At least two points; ``x`` must not be constant.
    weights : array_like, optional
        Weights of the squared residuals; None for ordinary least squares (bit-identical to
        ``scipy.stats.linregress``).

    Returns
    -------
    Line
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ssxm, ssxym, _, ssym = np.cov(x, y, bias=1, aweights=weights).flat
    slope = ssxym / ssxm
    # np.average without weights is np.mean: linregress's own intercept, to the last bit.
    intercept = np.average(y, weights=weights) - slope * np.average(x, weights=weights)
    if ssxm == 0.0 or ssym == 0.0:
        r = math.nan if ssxym == 0 else 0.0
    else:
        r = min(1.0, max(-1.0, ssxym / math.sqrt(ssxm * ssym)))
    return Line(float(intercept), float(slope), r * r)


def power_law_line(k, pass_at_k, weights=None) -> Line | None:
    """The line of log(-log pass@k) on log k over the k with 0 < pass@k < 1 (``weights`` per
    k, those points only); None when fewer than two remain. Its slope is minus the exponent
    b of -log pass@k ~ a k^-b, its intercept log a."""
    k, pass_at_k = np.asarray(k, dtype=float), np.asarray(pass_at_k, dtype=float)
    keep = (pass_at_k > 0) & (pass_at_k < 1)
    if keep.sum() < 2:
        return None
    w = None if weights is None else np.asarray(weights, dtype=float)[keep]
    return least_squares_line(np.log(k[keep]), np.log(-np.log(pass_at_k[keep])), w)
