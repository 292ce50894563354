"""Backtests: predict pass@N2 from the first N1 attempts of each problem, against the truth.

From counts (c_i of n_i >= N2 attempts) the number of successes among the first N1 attempts is
hypergeometric: N1 draws without replacement from n_i attempts of which c_i succeeded (every
order of the attempts is equally likely). From a 0/1 outcome matrix the first N1 columns are
taken as they are. The target is the observed pass@N2 of the same problems: the unbiased
estimator at k = N2 on the full counts (for n_i = N2, the share of problems solved at all).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .counts import pass_at_k_from_counts
from .curve import batch_size, detect_design
from ..errors import SimsearchError, require
from .counts import CountTable
from ..runtime import progress_bar
from ..seeding import child, seed_sequence
from .bootstrap import prediction_interval
from .methods import get_method


def subsample_counts(successes, attempts, n_from: int, rng) -> np.ndarray:
    """Successes among the first ``n_from`` attempts of each problem (hypergeometric)."""
    c = np.asarray(successes, dtype=np.int64)
    n = np.broadcast_to(np.asarray(attempts, dtype=np.int64), c.shape)
    return rng.hypergeometric(c, n - c, n_from)


@dataclass(frozen=True)
class Backtest:
    """Per (group, seed, method) rows and the per-method summary.

    ``rows`` is a tidy table (dict of columns): group, seed, method, n_from, n_to, observed,
    predicted, error (predicted - observed), lo, hi, covered, unsolvable_fraction, note.
    ``covered`` is None where there is no interval (no bootstrap, or a method without one):
    missing, not False; :func:`table_columns` writes it as an empty cell.
    """

    rows: dict
    summary: dict
    n_from: int
    n_to: int
    confidence: float


def _check_groups(groups: dict, n_from: int, n_to: int) -> None:
    require(n_from >= 1, f"from: must be an integer >= 1 (got {n_from})")
    require(n_to > n_from, f"to: must exceed --from ({n_to} <= {n_from})")
    require(groups, "counts: no problems")
    for name, data in groups.items():
        attempts = data[1] if isinstance(data, tuple) else np.full(data.shape[0], data.shape[1])
        low = int(np.min(attempts))
        if low < n_to:
            # A stop-after-success file (an attack run until it works) stops each solved
            # problem early by design: say so, or "a problem with 8" reads like a broken file.
            design = (detect_design(np.asarray(data[0]), np.asarray(attempts))
                      if isinstance(data, tuple) else "exchangeable")
            why = {"exchangeable": ""}.get(design, (
                f"; the counts look sampled until a batch of {batch_size(design)} succeeds"
                if batch_size(design) else "; the counts look sampled until the first "
                "success") + ", where solved problems stop early: a backtest needs every "
                "problem sampled --to times")
            raise SimsearchError(f"to: every problem needs at least {n_to} attempts (group "
                                 f"{name!r} has a problem with {low}){why}")


def run_backtest(groups: dict, n_from: int, n_to: int, methods: list[str], *, seeds: int = 10,
                 seed=0, bootstrap: int = 0, confidence: float = 0.9,
                 interval_methods: list[str] | None = None, progress: bool = False
                 ) -> Backtest:
    """Backtest ``methods`` on each group of problems.

    Parameters
    ----------
    groups : dict
        name -> (successes, attempts) arrays, or name -> 0/1 outcome matrix (problems x
        attempts; its first ``n_from`` columns, once: only seed 0).
    n_from, n_to : int
        Attempts the methods see, and the k to predict (every problem needs n_i >= n_to).
    methods : list of str
        Registered method names.
    seeds : int
        Independent subsamples per group. Seed s of group number g draws its subsample from
        the SeedSequence with spawn key (s, g, 0) under ``seed`` and bootstraps with key
        (s, g, 1), so results depend neither on the order of work nor on the methods run.
    bootstrap : int
        Bootstrap replicates for each prediction's interval (0: none).
    interval_methods : list of str, optional
        Methods to compute intervals for (default: all of ``methods``).
    """
    _check_groups(groups, n_from, n_to)
    require(seeds >= 1, f"seeds: must be an integer >= 1 (got {seeds})")
    resolved = [get_method(m) for m in methods]
    with_interval = set(methods if interval_methods is None else interval_methods)
    cols = {k: [] for k in ("group", "seed", "method", "n_from", "n_to", "observed",
                            "predicted", "error", "lo", "hi", "covered",
                            "unsolvable_fraction", "note")}
    root = seed_sequence(seed)
    # A 0/1 matrix has one "first N1 attempts": it is backtested once, as seed 0.
    plan = [(s, name) for s in range(seeds) for name in groups
            if s == 0 or isinstance(groups[name], tuple)]
    for s, name in progress_bar(plan, progress=progress, desc="backtest", unit="subsample"):
        data = groups[name]
        g = list(groups).index(name)
        rng = np.random.default_rng(child(root, s, g, 0))
        if isinstance(data, tuple):
            c, n = (np.asarray(x, dtype=np.int64) for x in data)
            observed = float(pass_at_k_from_counts(c, n, n_to)[0])
            c_from = subsample_counts(c, n, n_from, rng)
        else:
            matrix = np.asarray(data)
            observed = float(pass_at_k_from_counts(matrix.sum(1), matrix.shape[1], n_to)[0])
            c_from = matrix[:, :n_from].sum(1).astype(np.int64)
        try:
            table = CountTable.from_counts(c_from, np.full(c_from.size, n_from))
        except SimsearchError as exc:
            table, table_error = None, str(exc)
        for method in resolved:
            predicted, lo, hi, pi0, note = np.nan, np.nan, np.nan, np.nan, ""
            if table is None:
                note = table_error
            else:
                try:
                    with np.errstate(all="ignore"):
                        fitted = method.fit(table)
                        predicted = float(fitted.predict_pass_at_k(n_to)[0])
                    pi0 = (np.nan if fitted.unsolvable_fraction is None
                           else fitted.unsolvable_fraction)
                    note = "; ".join(fitted.warnings)
                    if bootstrap and method.name in with_interval:
                        (lo, hi), _ = prediction_interval(
                            method, table, [n_to], bootstrap, confidence=confidence,
                            seed=child(root, s, g, 1))
                        lo, hi = float(lo[0]), float(hi[0])
                except SimsearchError as exc:
                    note = str(exc)
            covered = bool(lo <= observed <= hi) if np.isfinite(lo) else None
            for key, value in (("group", name), ("seed", s), ("method", method.name),
                               ("n_from", n_from), ("n_to", n_to), ("observed", observed),
                               ("predicted", predicted), ("error", predicted - observed),
                               ("lo", lo), ("hi", hi), ("covered", covered),
                               ("unsolvable_fraction", pi0), ("note", note)):
                cols[key].append(value)
    return Backtest(cols, summarise(cols), n_from, n_to, confidence)


def table_columns(rows: dict) -> dict:
    """``rows`` as written to a table: a missing ``covered`` (no interval) as an empty cell,
    which CSV readers such as pandas take for missing, where False would claim a miss."""
    return {**rows, "covered": ["" if c is None else c for c in rows["covered"]]}


def summarise(rows: dict) -> dict:
    """Per method: mean and max |error|, bias, coverage (where intervals exist), failures."""
    method = np.array(rows["method"])
    error = np.array(rows["error"], dtype=float)
    lo = np.array(rows["lo"], dtype=float)
    covered = np.array(rows["covered"], dtype=bool)
    out = {}
    for name in dict.fromkeys(rows["method"]):
        mask = method == name
        e = error[mask]
        ok = np.isfinite(e)
        has_interval = np.isfinite(lo[mask])
        out[name] = {
            "cases": int(mask.sum()),
            "failed": int((~ok).sum()),
            "mean_abs_error": float(np.mean(np.abs(e[ok]))) if ok.any() else float("nan"),
            "max_abs_error": float(np.max(np.abs(e[ok]))) if ok.any() else float("nan"),
            "bias": float(np.mean(e[ok])) if ok.any() else float("nan"),
            "coverage": (float(covered[mask][has_interval].mean()) if has_interval.any()
                         else float("nan")),
            "intervals": int(has_interval.sum()),
        }
    return out


def format_summary(result: Backtest, title: str = "") -> str:
    """The summary as a text table, best mean |error| first."""
    pct = round(100 * result.confidence)
    head = (f"{title}pass@{result.n_to} predicted from {result.n_from} attempts per problem\n"
            f"{'method':16s} {'mean|err|':>9s} {'max|err|':>9s} {'bias':>8s} "
            f"{f'cover{pct}%':>9s} {'failed':>6s}\n")
    lines = []
    for name, s in sorted(result.summary.items(),
                          key=lambda kv: (np.nan_to_num(kv[1]["mean_abs_error"], nan=np.inf))):
        cover = f"{s['coverage']:.2f}" if s["intervals"] else "-"
        lines.append(f"{name:16s} {s['mean_abs_error']:9.4f} {s['max_abs_error']:9.4f} "
                     f"{s['bias']:+8.4f} {cover:>9s} {s['failed']:6d}")
    # Failures are left out of the errors above: say how many and the commonest reason (a
    # subsample with no success at all, for a weak model), or the column is unexplained.
    failed = [note for note, e in zip(result.rows["note"], result.rows["error"])
              if not np.isfinite(e)]
    if failed:
        reason, count = Counter(failed).most_common(1)[0]
        lines.append(f"failed: {len(failed)} of {len(result.rows['error'])} predictions could "
                     f"not be made ({count}: {reason or 'no reason given'}); the errors above "
                     f"leave them out")
    return head + "\n".join(lines) + "\n"
