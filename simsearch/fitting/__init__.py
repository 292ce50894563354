"""Predicting pass@k from per-problem success counts, and backtesting the predictions.

* :mod:`.curve`: the observed pass@k curve for any sampling design.
* :mod:`.methods`: the registry of prediction methods (curve fits and likelihood fits).
* :mod:`.bootstrap`: prediction intervals that rerun a method on resampled problems.
* :mod:`.backtest`: predict pass@N2 from the first N1 attempts and compare with the truth.
* :mod:`.pooled`: a joint item-response fit of several models on the same problems.
"""

from .backtest import Backtest, format_summary, run_backtest, subsample_counts
from .bootstrap import bootstrap_fits, prediction_interval
from .methods import (DEFAULT_METHOD, METHODS, FittedMethod, Method, attempts_for, get_method,
                      observed_curve, parse_methods)

__all__ = ["Backtest", "DEFAULT_METHOD", "FittedMethod", "METHODS", "Method", "attempts_for",
           "bootstrap_fits", "format_summary", "get_method", "observed_curve", "parse_methods",
           "prediction_interval", "run_backtest", "subsample_counts"]
