"""Benchmark: fit plus a 1,000-replicate forecast of a 100-win history (issue 20: under 10 s).

A history of about 100 wins simulated from Kortum's model (theta 2, g 25 a year, 4 years) is
fitted by exact likelihood (the pure model and the depleting-tail one), then forecast at three
horizons with 1,000 replicates: ``records forecast``'s work, for the default (weighted) method,
whose rolling origins inside the history refit both record models and the pool model 8 times
(the pool's maximum likelihood is most of the time), and for the model alone.

Baseline, same run: the model's forecast by plain NumPy stepping, win by win for all
replicates at once (exponential waiting times of the next record, Exp(theta) jumps), which is
how a record process is simulated without the closed-form Gumbel law of the best new draw.

Run:  python benchmarks/bench_records.py
Writes benchmarks/results/bench_records.json beside printing a table.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from simsearch.records import History, fit_kortum, forecast, forecast_progress
from simsearch.records.models import simulate_history

HERE = Path(__file__).resolve().parent
REPLICATES = 1000
TIMES = np.array([4.25, 4.5, 5.0])


def numpy_stepping(fit, times, replicates, rng) -> np.ndarray:
    """Progress at ``times`` by stepping every replicate's record process win by win."""
    theta, c, g = fit.theta, fit.c, fit.g
    u = np.full(replicates, fit.observed_until - fit.t0)
    y = np.full(replicates, fit.last_progress)
    out = np.empty((replicates, times.size))
    done = np.zeros((replicates, times.size), dtype=bool)
    target = times - fit.t0
    while not done.all():
        nxt = np.logaddexp(g * u, np.log(rng.standard_exponential(replicates)) + theta * y - c) / g
        for k, t in enumerate(target):
            passed = ~done[:, k] & (nxt > t)
            out[passed, k] = y[passed]
            done[:, k] |= passed
        u = nxt
        y = y + rng.standard_exponential(replicates) / theta
    return out


def clock(fn, repeat=3):
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    t, y = simulate_history(2.0, 0.0, 25.0, 4.0, np.random.default_rng(1))
    history = History(time=t, progress=y, effort=None, start=10.0, kind="record",
                      lower_is_better=True, calendar=True, origin="2020-01-01", warnings=())
    fit = fit_kortum(t, y, observed_until=4.0)
    timings = {
        "fit_kortum": clock(lambda: fit_kortum(t, y, observed_until=4.0)),
        "fit_depleting": clock(lambda: fit_kortum(t, y, observed_until=4.0, depleting=True)),
        "forecast_kortum_1000": clock(lambda: forecast_progress(
            fit, TIMES, REPLICATES, np.random.default_rng(2))),
        "numpy_stepping_1000": clock(lambda: numpy_stepping(
            fit, TIMES, REPLICATES, np.random.default_rng(2))),
        "fit_and_forecast_model_1000": clock(lambda: forecast(
            history, TIMES, replicates=REPLICATES, method="depleting", observed_until=4.0)),
        "fit_and_forecast_default_1000": clock(lambda: forecast(
            history, TIMES, replicates=REPLICATES, observed_until=4.0), repeat=1),
    }
    results = {"wins": int(y.size - 1), "replicates": REPLICATES, "seconds": timings,
               "stepping_over_closed_form": timings["numpy_stepping_1000"]
               / timings["forecast_kortum_1000"],
               "cpu_count": os.cpu_count(), "python": platform.python_version(),
               "load_average": os.getloadavg()}
    for name, seconds in timings.items():
        print(f"{name:>32} {seconds:9.4f} s")
    print(f"closed-form forecast is {results['stepping_over_closed_form']:.0f}x faster than "
          f"NumPy win-by-win stepping; {results['wins']} wins")
    out = HERE / "results" / "bench_records.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
