"""Real histories of research wins: read them, fit Kortum's record model and the labs engine's
pool of ideas by exact likelihood, forecast them, and backtest the forecasts on rolling origins
(``simsearch records``)."""

from .backtest import Backtest, run_backtest
from .forecasts import METHODS, Forecast, forecast, model_summary, pandey_test
from .history import History, read_history
from .models import KortumFit, fit_kortum, forecast_progress, simulate_history
from .pool import PoolFit, fit_pool, forecast_pool

__all__ = ["Backtest", "Forecast", "History", "KortumFit", "METHODS", "PoolFit", "fit_kortum",
           "fit_pool", "forecast", "forecast_pool", "forecast_progress", "model_summary",
           "pandey_test", "read_history", "run_backtest", "simulate_history"]
