"""Predicting pass@k from per-problem success counts, and backtesting the predictions.

* :mod:`.curve`: the observed pass@k curve for any sampling design.
* :mod:`.line`: the one least-squares line (numpy only).
* :mod:`.methods`: the registry of prediction methods (curve fits and likelihood fits).
* :mod:`.bootstrap`: prediction intervals that rerun a method on resampled problems.
* :mod:`.backtest`: predict pass@N2 from the first N1 attempts and compare with the truth.
* :mod:`.pooled`: the registry of pooled fits of several models on the same problems
  (:mod:`.pooled_line`, the default; :mod:`.pooled_irt`), their report, bootstrap and
  backtest rows.

The names below are imported on first use, so that ``simsearch.fitting.line`` (which the sweep
workers' exponent statistic uses) does not pull SciPy's optimisers and the count kernels in.
"""

from ..runtime import lazy_names

#: Public name -> the submodule that defines it.
_WHERE = {"Backtest": ".backtest", "format_summary": ".backtest", "run_backtest": ".backtest",
          "subsample_counts": ".backtest", "bootstrap_fits": ".bootstrap",
          "prediction_interval": ".bootstrap", "DEFAULT_METHOD": ".methods",
          "METHODS": ".methods", "FittedMethod": ".methods", "Method": ".methods",
          "attempts_for": ".methods", "get_method": ".methods", "observed_curve": ".methods",
          "parse_methods": ".methods"}

__all__ = sorted(_WHERE)
__getattr__ = lazy_names(globals(), _WHERE)


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
