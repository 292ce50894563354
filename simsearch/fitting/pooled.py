"""Pooled fits: several models evaluated on the same problems, predicted together.

Every pooled method is one entry of :data:`POOLED_METHODS`: a fit of the (I, J) counts
(problems x models; optionally reweighted problems and a full-data fit to start from), a
prediction of each model's pass@k, and the entries of its report. Everything else here is
shared: the report of ``simsearch fit --by COLUMN --pool``, its bootstrap over problems (one
resample of the problems for every model, since they are the same problems), and the backtest
rows of ``simsearch backtest --by COLUMN --pool``.

- ``pooled-line`` (the default): each model's own line with its exponent pooled across the
  models on their levels (:mod:`simsearch.fitting.pooled_line`).
- ``pooled-irt``: one shared difficulty per problem, an item-response model
  (:mod:`simsearch.fitting.pooled_irt`); it loses to the lines on real data and says so.

Problems are aligned across groups by their order within each group (every group must list
the same problems in the same order; :func:`simsearch.fitting.counts.pooled_counts`).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..errors import SimsearchError
from ..runtime import map_replicates
from ..seeding import child, seed_sequence
from .counts import PooledCounts, pass_at_k_from_counts, pooled_counts
from .interval import percentile_interval
from .pooled_irt import describe_irt, fit_irt, predict_irt
from .pooled_line import describe_pooled_line, fit_pooled_line, predict_pooled_line
from .report import AUTO_BOOTSTRAP, AUTO_BOOTSTRAP_SLOW, solved_floor

__all__ = ["DEFAULT_POOLED_METHOD", "POOLED_METHODS", "PooledMethod", "add_pooled_backtest",
           "bootstrap_pooled", "format_pooled", "get_pooled_method", "pooled_backtest_rows",
           "pooled_report"]


class PooledMethod(NamedTuple):
    """A registered pooled method.

    Attributes
    ----------
    name, summary : str
    fit : callable
        ``fit(counts, problem_weights=None, *, start=None)``; ``start`` is a full-data fit
        that a bootstrap refit starts from.
    predict : callable
        ``predict(fit, k, problem_weights=None)``, each model's pass@k, (J, len(k)).
    describe : callable
        ``describe(fit)``, the report's parameters: a dict with ``model`` (a dict),
        ``models`` (a dict per model) and ``notes`` (a list of str).
    auto_bootstrap : int
        Refits for the interval when none are asked for (fewer where a refit costs more).
    warning : str or None
        What the backtests say against it, carried by every report.
    """

    name: str
    summary: str
    fit: Callable
    predict: Callable
    describe: Callable
    auto_bootstrap: int
    warning: str | None = None


POOLED_METHODS: dict[str, PooledMethod] = {m.name: m for m in (
    PooledMethod("pooled-line", "each model's line of log(-log pass@k) on log k, its exponent "
                                "pooled across the models on their levels (Fay-Herriot)",
                 fit_pooled_line, predict_pooled_line, describe_pooled_line,
                 AUTO_BOOTSTRAP),
    PooledMethod("pooled-irt", "item response, logit p_ij = intercept_j + slope_j t_i, NPMLE "
                               "prior over t_i with an unsolvable atom",
                 fit_irt, predict_irt, describe_irt, AUTO_BOOTSTRAP_SLOW,
                 "in backtests of pass@10000 on Pythia/MATH (7 models, 10 seeds) this joint "
                 "model erred 0.17 / 0.15 in mean |error| from 100 / 1,000 attempts where each "
                 "model's own line erred 0.030 / 0.023 (one shared difficulty per problem does "
                 "not fit real models); prefer pooled-line or the per-group predictions"),
)}
DEFAULT_POOLED_METHOD = "pooled-line"


def get_pooled_method(name: str) -> PooledMethod:
    """The registered pooled method called ``name``."""
    if name not in POOLED_METHODS:
        raise SimsearchError(f"pool: unknown pooled method {name!r}; expected one of "
                             f"{', '.join(POOLED_METHODS)}")
    return POOLED_METHODS[name]


def _refit_replicates(method_name: str, counts: PooledCounts, fit, k, children) -> list:
    """Predictions refitted on one resample of the problems per seed in ``children``."""
    method = POOLED_METHODS[method_name]
    i_count = counts.successes.shape[0]
    out = []
    for seq in children:
        u = np.random.default_rng(seq).multinomial(i_count, np.full(i_count, 1.0 / i_count))
        u = u.astype(float)
        try:
            with np.errstate(all="ignore"):
                refit = method.fit(counts, u, start=fit)
                out.append(method.predict(refit, k, u))
        except SimsearchError:  # no model can be fitted on this resample
            out.append(np.full((len(counts.names), len(k)), np.nan))
    return out


def bootstrap_pooled(counts: PooledCounts, fit, k, replicates: int, *,
                     method: str = DEFAULT_POOLED_METHOD, seed=None, workers: int = 1
                     ) -> np.ndarray:
    """Predictions refitted on ``replicates`` resamples of the problems, (B, J, len(k)).

    Replicate b resamples with ``child(seed, b)`` (the same problems for every model) and
    refits from ``fit``, so results depend neither on the order of work, nor on ``workers``
    (processes to spread the refits over), nor on the caller's sequence."""
    root = seed_sequence(seed)
    children = [child(root, b) for b in range(replicates)]
    k = np.atleast_1d(np.asarray(k, dtype=float))
    return np.array(map_replicates(_refit_replicates, (method, counts, fit, k), children,
                                   workers))


def _per_model_interval(draws: np.ndarray, confidence: float) -> np.ndarray:
    """(2, J, K) percentile intervals, each model over its own replicates (a model left out
    of a resample costs only its own draw there)."""
    return np.stack([percentile_interval(draws[:, j, :], confidence, minimum=1)
                     for j in range(draws.shape[1])], axis=1)


def pooled_report(groups: dict, single_reports: dict, replicates: int, *,
                  method: str = DEFAULT_POOLED_METHOD, seed=0, confidence: float = 0.95,
                  workers: int = 1) -> dict:
    """A pooled fit as a report: per model, pass@k at the single fits' k, with intervals
    from ``replicates`` refits spread over ``workers`` processes."""
    entry = get_pooled_method(method)
    counts = pooled_counts(groups)
    fit = entry.fit(counts)
    # The k of the first group fitted apart (a group the single fit refused has none).
    first = next(r for r in single_reports.values() if "predicted_pass_at_k" in r)
    k = np.array([int(x) for x in first["predicted_pass_at_k"]], dtype=float)
    # Between the share of each model's problems already solved within k (a pooled curve can
    # undershoot it, as the single fits' can: see report.solved_floor) and 1 (a posterior
    # mean rounds to 1 + 2e-16 where every problem is surely solved).
    floor = np.stack([solved_floor(counts.successes[:, j], counts.attempts[:, j], k)
                      for j in range(len(counts.names))])
    predicted = np.clip(entry.predict(fit, k), floor, 1.0)
    intervals = None
    if replicates:
        draws = bootstrap_pooled(counts, fit, k, replicates, method=method, seed=seed,
                                 workers=workers)
        intervals = np.clip(_per_model_interval(draws, confidence), floor[None], 1.0)
    described = entry.describe(fit)
    models = {}
    for j, name in enumerate(counts.names):
        row = dict(described["models"][j])
        row["predicted_pass_at_k"] = {str(int(kk)): float(v) for kk, v in zip(k, predicted[j])}
        if intervals is not None:
            row["predicted_pass_at_k_ci"] = {
                str(int(kk)): [float(intervals[0, j, i]), float(intervals[1, j, i])]
                for i, kk in enumerate(k)}
        models[name] = row
    report = {"method": method, "model": entry.summary, **described["model"],
              "confidence": confidence, "models": models, "notes": described["notes"]}
    if entry.warning:
        report["warning"] = entry.warning
    return report


def format_pooled(pooled: dict) -> str:
    """The lines ``simsearch fit --by COLUMN --pool`` prints for :func:`pooled_report`."""
    lines = [f"== pooled: {pooled['method']} ({pooled['model']})"]
    if "unsolvable_fraction" in pooled:
        lines[0] += f"; unsolvable fraction {pooled['unsolvable_fraction']:.3g}"
    for name, entry in pooled["models"].items():
        if not any(np.isfinite(v) for v in entry["predicted_pass_at_k"].values()):
            lines.append(f"{name}: not pooled (see the notes)")
            continue
        cis = entry.get("predicted_pass_at_k_ci", {})
        values = "  ".join(f"pass@{k} = {v:.4g}" + (f" [{cis[k][0]:.4g}, {cis[k][1]:.4g}]"
                                                      if k in cis else "")
                           for k, v in entry["predicted_pass_at_k"].items())
        if "pooled_exponent" in entry:
            values = (f"exponent {entry['exponent']:.3g} -> {entry['pooled_exponent']:.3g}  "
                      + values)
        lines.append(f"{name}: {values}")
    lines.extend(f"note: {note}" for note in pooled["notes"])
    if pooled.get("warning"):
        lines.append(f"warning: {pooled['warning']}")
    return "\n".join(lines)


def pooled_backtest_rows(groups: dict, n_from: int, n_to: int, *, seeds: int = 10, seed=0,
                         methods=None, bootstrap: int = 0, confidence: float = 0.9) -> dict:
    """Backtest rows (the columns of :class:`simsearch.fitting.backtest.Backtest`) of each
    pooled method (default: all): for each seed, every group's first ``n_from`` attempts are
    the same hypergeometric subsample ``run_backtest`` draws (spawn key (s, g, 0) under
    ``seed``), all groups are fitted jointly, and each group's pass@``n_to`` is predicted;
    with ``bootstrap`` replicates, intervals from the pooled bootstrap (key (s, 0, 2))."""
    from .backtest import subsample_counts

    names = list(groups)
    counts = pooled_counts(groups)
    root = seed_sequence(seed)
    observed = [float(pass_at_k_from_counts(counts.successes[:, j], counts.attempts[:, j],
                                            n_to)[0]) for j in range(len(names))]
    cols = {k: [] for k in ("group", "seed", "method", "n_from", "n_to", "observed",
                            "predicted", "error", "lo", "hi", "covered",
                            "unsolvable_fraction", "note")}
    for s in range(seeds):
        c = np.stack([subsample_counts(counts.successes[:, g], counts.attempts[:, g], n_from,
                                       np.random.default_rng(child(root, s, g, 0)))
                      for g in range(len(names))], axis=1)
        sub = PooledCounts(c, np.full(c.shape, n_from), counts.names)
        for name in methods or POOLED_METHODS:
            entry = get_pooled_method(name)
            predicted = np.full(len(names), np.nan)
            interval = np.full((2, len(names)), np.nan)
            pi0, notes = np.nan, ""
            try:
                with np.errstate(all="ignore"):
                    fit = entry.fit(sub)
                    predicted = entry.predict(fit, [n_to])[:, 0]
                described = entry.describe(fit)
                pi0 = described["model"].get("unsolvable_fraction", np.nan)
                notes = "; ".join(f"{name}: {note}" for note in described["notes"])
                if bootstrap:
                    draws = bootstrap_pooled(sub, fit, [n_to], bootstrap, method=name,
                                             seed=child(root, s, 0, 2))
                    interval = _per_model_interval(draws, confidence)[:, :, 0]
            except SimsearchError as exc:
                notes = str(exc)
            for g, group in enumerate(names):
                lo, hi = float(interval[0, g]), float(interval[1, g])
                covered = bool(lo <= observed[g] <= hi) if np.isfinite(lo) else None
                for key, value in (("group", group), ("seed", s), ("method", name),
                                   ("n_from", n_from), ("n_to", n_to),
                                   ("observed", observed[g]), ("predicted", float(predicted[g])),
                                   ("error", float(predicted[g]) - observed[g]), ("lo", lo),
                                   ("hi", hi), ("covered", covered),
                                   ("unsolvable_fraction", pi0), ("note", notes)):
                    cols[key].append(value)
    return cols


def add_pooled_backtest(result, groups: dict, *, seeds: int, seed=0, methods=None,
                        bootstrap: int = 0):
    """``result`` (a :class:`~simsearch.fitting.backtest.Backtest`) with the pooled methods'
    rows added and the summary recomputed."""
    from .backtest import Backtest, summarise

    extra = pooled_backtest_rows(groups, result.n_from, result.n_to, seeds=seeds, seed=seed,
                                 methods=methods, bootstrap=bootstrap,
                                 confidence=result.confidence)
    rows = {k: list(v) + extra[k] for k, v in result.rows.items()}
    return Backtest(rows, summarise(rows), result.n_from, result.n_to, result.confidence)
