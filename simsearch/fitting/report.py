"""The report of ``simsearch fit``, as a library product: :func:`fit_report` builds it,
:meth:`FitReport.to_dict` gives its JSON form and :meth:`FitReport.format` the text the CLI
prints.

It answers a user's questions about their evaluation: pass@k at larger budgets (the chosen
prediction method, with a bootstrap interval widened to span what the data cannot rule out),
the attempts needed for a target, the fitted law of p (its exponent and AIC per family), the
unsolvable fraction, the plain log-log regression, goodness of fit, and warnings in words.
"""

from __future__ import annotations

import contextlib
import math
import warnings as _warnings
from dataclasses import dataclass

import numpy as np

from ..errors import SimsearchError
from ..distributions.families import Distribution
from ..distributions.spec import rounded_spec
from ..io.output import finite_or_none
from ..sampling.grid import as_k_grid, parse_k_grid
from .bootstrap import bootstrap_fits, span_alternatives
from .interval import MIN_REPLICATES, check_replicates, percentile_interval
from .counts import CountTable, validate_counts
from .estimators import DistributionalEstimator, RegressionEstimator
from .likelihoods import check_family
from .methods import DEFAULT_METHOD, attempts_for, get_method

#: Bootstrap replicates when none are asked for (about a second on 128 problems), and with the
#: quadrature families (``dist="all"``, ``fit_scale``), which cost more.
AUTO_BOOTSTRAP, AUTO_BOOTSTRAP_SLOW = 100, 20


def check_options(method: str | None, dist: str) -> str:
    """The canonical name of ``method`` (default :data:`DEFAULT_METHOD`), after checking it and
    ``dist`` (one line naming the registered ones when unknown)."""
    check_family(dist)
    return get_method(method or DEFAULT_METHOD).name


def auto_bootstrap(dist: str, fit_scale: bool) -> int:
    """Bootstrap replicates sized to take seconds: fewer for the quadrature families."""
    return AUTO_BOOTSTRAP_SLOW if dist == "all" or fit_scale else AUTO_BOOTSTRAP


@contextlib.contextmanager
def quiet_numerics():
    """Fits try parameters where logs and ratios overflow or divide by zero and then move on;
    what goes wrong for good is a warning in the report, not a RuntimeWarning on the terminal."""
    with _warnings.catch_warnings(), np.errstate(all="ignore"):
        _warnings.simplefilter("ignore", RuntimeWarning)
        yield


def check_identifiable(successes, attempts) -> None:
    """Refuse data from which no model of p can be identified (one line, exit 2)."""
    if np.all(attempts == 1):
        raise SimsearchError("attempts: every problem has a single attempt; pass@k beyond k = 1 "
                             "and the exponent are not identified (sample more attempts)")
    if np.all((successes == 0) | (successes == attempts)):
        raise SimsearchError("successes: every problem has either no success or all successes; "
                             "the distribution of p between 0 and 1 is not identified")


@dataclass(frozen=True)
class FitReport:
    """What ``simsearch fit`` reports on one set of counts.

    Attributes
    ----------
    data : dict
        The report: ``problems``, ``attempts``, ``method``, ``prediction`` (the method's
        exponent and parameters), ``predicted_pass_at_k`` and its ``_ci``, ``target``,
        ``exponent`` and ``distribution`` (the fitted law of p), ``families``,
        ``unsolvable_fraction``, ``regression``, ``goodness_of_fit``, ``read_exponent`` and
        ``warnings``. Numbers may be inf or NaN; :meth:`to_dict` makes them JSON's null.
    """

    data: dict

    def __getitem__(self, key):
        return self.data[key]

    def to_dict(self) -> dict:
        """The report with every non-finite number as None (JSON has no inf or NaN)."""
        return finite_or_none(self.data)

    def format(self) -> str:
        """The report as the lines ``simsearch fit`` prints."""
        def interval(values):
            return f"  95% CI [{values[0]:.4g}, {values[1]:.4g}]" if values else ""

        def number(value):
            return "none" if value is None else f"{value:.4g}"

        r = self.data
        pred, u, reg, gof = (r["prediction"], r["unsolvable_fraction"], r["regression"],
                             r["goodness_of_fit"])
        lines = [f"problems {r['problems']}, attempts {r['attempts']['min']}.."
                 f"{r['attempts']['max']}, {r['zero_success_problems']} with no success",
                 f"prediction method: {pred['method']} ({pred['summary']})"]
        for k, v in r["predicted_pass_at_k"].items():
            ci = (r.get("predicted_pass_at_k_ci") or {}).get(k)
            lines.append(f"predicted pass@{k} = {v:.4g}{interval(ci)}")
        if "target" in r:
            t = r["target"]
            lines.append(f"attempts for pass@k >= {t['pass_at_k']}: {number(t['attempts'])}"
                         f"{interval(t['attempts_ci'])}")
        lines.append("distribution of p (the per-problem law; explains, does not predict):")
        for name, f in r["families"].items():
            mark = "*" if f["spec"] == r["distribution"]["spec"] else " "
            lines.append(f"{mark} {name:14s} exponent {number(f['exponent'])}   "
                         f"AIC {f['aic']:.6g}   {rounded_spec(f['spec'])}")
        lines.append(f"distributional exponent {number(r['exponent'])}"
                     f"{interval(r['exponent_ci'])}")
        lines.append(f"unsolvable fraction ({u['model']}) {number(u['estimate'])}"
                     f"{interval(u['ci'])}")
        if reg is not None:
            lines.append(f"regression exponent     {reg['exponent']:.4g}"
                         f"{interval(reg['exponent_ci'])}   (log-log fit of pass@k, k = "
                         f"{reg['k_range'][0]}..{reg['k_range'][1]}, R^2 {reg['r2']:.4f})")
        line = f"fit: max |observed - fitted pass@k| = {gof['max_abs_pass_at_k_gap']:.3g}"
        if "chi_square" in gof:
            line += (f"; chi-square {gof['chi_square']:.4g} on {gof['chi_square_dof']} dof, "
                     f"p = {gof['chi_square_p_value']:.3g}")
        lines += [line, f"read: {r['read_exponent']}"]
        lines += [f"warning: {warning}" for warning in r["warnings"]]
        return "\n".join(lines)


@quiet_numerics()
def fit_report(successes, attempts, *, method: str | None = None, dist: str = "beta",
               fit_scale: bool = False, bootstrap: int | None = None, predict=None,
               target: float | None = None, seed: int = 0, workers: int = 1) -> FitReport:
    """Fit per-problem counts and report predictions, the law of p and their uncertainty.

    ``simsearch fit COUNTS`` prints ``fit_report(...).format()`` (``--json``: ``to_dict()``).

    Parameters
    ----------
    successes, attempts : array_like of int
        Successes and attempts of each problem.
    method : str, optional
        Prediction method (:data:`simsearch.fitting.METHODS`); default the one the backtests
        favour (:data:`simsearch.fitting.DEFAULT_METHOD`).
    dist : str
        Family of the law of p (:data:`simsearch.fitting.likelihoods.FIT_FAMILIES`) or ``"all"``
        (the smallest AIC).
    fit_scale : bool
        Also fit a scale (p = scale x X), by quadrature.
    bootstrap : int, optional
        Replicates over problems for 95% intervals, 0 or >= 20; default
        :func:`auto_bootstrap`.
    predict : str or array_like of int, optional
        k to predict pass@k at ("1000,10000" or integers); default 10x and 100x the largest
        number of attempts.
    target : float, optional
        Also report the attempts needed to reach this pass@k, in (0, 1).
    seed : int
        Bootstrap seed.
    workers : int
        Processes for the distribution's bootstrap; results do not depend on it.

    Returns
    -------
    FitReport
    """
    method = get_method(check_options(method, dist))
    if bootstrap is None:
        bootstrap = auto_bootstrap(dist, fit_scale)
    successes, attempts = validate_counts(successes, attempts)
    # Without --predict: 10x and 100x the largest number of attempts (the usual question).
    predict = (np.array([10, 100], dtype=np.int64) * int(attempts.max()) if predict is None
               else parse_k_grid(predict) if isinstance(predict, str) else as_k_grid(predict))
    if target is not None and not 0 < target < 1:
        raise SimsearchError(f"target: must be in (0, 1) (got {target})")
    check_replicates(bootstrap)
    table = CountTable.from_counts(successes, attempts)
    check_identifiable(successes, attempts)
    warnings: list[str] = []
    solved = int(np.sum(successes > 0))
    if solved < 10:
        warnings.append(f"only {solved} problems have any success: the exponent and every "
                        "extrapolation rest on them; treat the numbers as rough")

    fitted, boots = _prediction(method, table, bootstrap, seed, warnings)
    dist_est, gof, misfit, unsolvable = _law_of_p(table, successes, attempts, dist, fit_scale,
                                                  bootstrap, seed, workers, warnings)
    regression = _regression(successes, attempts, bootstrap, seed, warnings)
    report = {
        "problems": int(successes.size),
        "attempts": {"min": int(attempts.min()), "max": int(attempts.max())},
        "zero_success_problems": int(np.sum(successes == 0)),
        "method": method.name,
        "prediction": {"method": method.name, "summary": method.summary,
                       "exponent": fitted.exponent, "parameters": fitted.parameters,
                       "unsolvable_fraction": fitted.unsolvable_fraction},
        **_law_entries(dist_est),
        "unsolvable_fraction": unsolvable,
        "regression": regression,
        "predicted_pass_at_k": {str(int(k)): float(v) for k, v in
                                zip(predict, fitted.predict_pass_at_k(predict))},
        "goodness_of_fit": gof,
        "misfit": misfit,
    }
    if fitted.parameters.get("floor", 0.0) > 0 and predict.size:
        k_far = int(predict[-1])
        line = get_method("line").fit(table).predict_pass_at_k(k_far)[0]
        warnings.append(f"floor: pass@k is predicted to saturate at "
                        f"{1 - fitted.unsolvable_fraction:.3g}; attempts up to "
                        f"{int(attempts.max())} cannot tell unsolvable problems from very hard "
                        f"ones, and without the floor pass@{k_far} would be {line:.3g}")
    if bootstrap and predict.size:
        report["predicted_pass_at_k_ci"] = _prediction_intervals(boots, fitted, predict)
    _keep_solved_floor(report, successes, attempts, method.name, warnings)
    if target is not None:
        report["target"] = _target(fitted, boots, target, method.name, warnings)
    report["read_exponent"] = (
        f"prediction.exponent ({fitted.exponent:.4g}, {method.name}) is the exponent of the "
        "pass@k extrapolation; 'exponent' is the left tail of the fitted law of p, which "
        "explains the counts but does not predict")
    report["warnings"] = warnings
    return FitReport(report)


def solved_floor(successes, attempts, k) -> np.ndarray:
    """The share of problems already solved within ``k`` attempts, for each k: a problem with
    a success among its first n_i <= k attempts is solved at k whatever its p, so the pass@k
    of these problems is at least this."""
    c, n = np.asarray(successes), np.asarray(attempts)
    k = np.atleast_1d(np.asarray(k))
    return np.mean((c[:, None] > 0) & (n[:, None] <= k[None, :]), axis=0)


def _keep_solved_floor(report: dict, successes, attempts, name: str, warnings: list) -> None:
    """Raise a predicted pass@k (and its interval) that falls below :func:`solved_floor`: a
    curve fitted to a few problems can undershoot the problems it has already seen solved
    (3 problems all solved within 10^4 attempts: the line said pass@10^5 = 0.988)."""
    predicted = report["predicted_pass_at_k"]
    floors = solved_floor(successes, attempts, [int(k) for k in predicted])
    intervals = report.get("predicted_pass_at_k_ci") or {}
    for (k, value), floor in zip(list(predicted.items()), floors):
        if value < floor:
            warnings.append(f"pass@{k}: the {name} curve predicts {value:.4g}, below the share "
                            f"of problems already solved within {k} attempts ({floor:.4g}); "
                            f"reported as {floor:.4g}")
            predicted[k] = float(floor)
        if intervals.get(k) is not None:
            intervals[k] = [max(float(v), float(floor)) for v in intervals[k]]


def _prediction(method, table, bootstrap, seed, warnings: list) -> tuple:
    """The chosen method's fit (the default is what the backtests favour) and its bootstrap
    refits (None where one failed)."""
    fitted = method.fit(table)
    warnings += fitted.warnings
    boots = bootstrap_fits(method, table, bootstrap, seed=seed) if bootstrap else []
    good = [f for f in boots if f is not None]
    if boots and len(good) < 0.9 * len(boots):
        # percentile_interval gives none from fewer than MIN_REPLICATES refits: say so, or
        # the missing interval is unexplained.
        rest = ("intervals use the rest" if len(good) >= MIN_REPLICATES else
                f"the {len(good)} left are too few for an interval (need {MIN_REPLICATES})")
        warnings.append(f"{method.name}: {len(boots) - len(good)} of {len(boots)} bootstrap "
                        f"replicates could not be fitted; {rest}")
    return fitted, boots


def _interval(boots, values_of) -> list | None:
    """95% percentile interval of ``values_of(fit)`` over the bootstrap refits."""
    if not boots:
        return None
    draws = np.array([values_of(f) if f is not None else np.nan for f in boots])
    lo, hi = percentile_interval(draws, 0.95)
    return [float(lo[0]), float(hi[0])] if np.isfinite(lo[0]) else None


def _prediction_intervals(boots, fitted, predict) -> dict:
    """Intervals of pass@k at each k, widened to span the predictions of models the data
    cannot rule out (a floor's line)."""
    cis = {}
    for k in predict:
        ci = _interval(boots, lambda f, k=k: f.predict_pass_at_k(k)[0])
        cis[str(int(k))] = (None if ci is None else
                            [float(v[0]) for v in span_alternatives(
                                np.array(ci)[:, None], fitted, [k])])
    return cis


def _target(fitted, boots, target: float, name: str, warnings: list) -> dict:
    """Attempts needed for pass@k = ``target``, with an interval that spans the alternatives'
    attempts too, as pass@k's does."""
    needed = attempts_for(fitted, target)
    if not math.isfinite(needed):
        warnings.append(f"target: the {name} prediction does not reach pass@k = "
                        f"{target} within 1e15 attempts; attempts reported as null")
    attempts_ci = _interval(boots, lambda f: attempts_for(f, target))
    if attempts_ci is not None:
        for alternative in fitted.alternatives:
            other = attempts_for(alternative, target)
            attempts_ci = [min(attempts_ci[0], other), max(attempts_ci[1], other)]
    return {"pass_at_k": target, "attempts": needed, "attempts_ci": attempts_ci}


def _plain(value):
    """Parameters as plain data: a component law (a mixture's) as its spec and parameters, so
    the report is JSON (the spec reads back the very same law)."""
    if isinstance(value, Distribution):
        return {"spec": value.spec, "parameters": _plain(value.parameters)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _law_entries(dist_est) -> dict:
    """The report's entries on the fitted law of p, in the report's order."""
    best = dist_est.distribution_
    return {
        "exponent": dist_est.exponent_,
        "exponent_ci": (None if dist_est.exponent_ci_ is None
                        else [float(v) for v in dist_est.exponent_ci_]),
        "confidence": 0.95,
        "distribution": {"name": best.name, "spec": best.spec,
                         "parameters": _plain(best.parameters),
                         "role": "per-problem law of p (not the prediction method)"},
        "log_likelihood": dist_est.log_likelihood_,
        "aic": dist_est.aic_,
        "families": {name: {"spec": f.distribution.spec, "exponent": f.exponent,
                            "log_likelihood": f.log_likelihood, "aic": f.aic,
                            "converged": f.converged, "at_bound": f.at_bound}
                     for name, f in dist_est.fits_.items()},
    }


def _law_of_p(table, successes, attempts, dist, fit_scale, bootstrap, seed, workers,
              warnings: list) -> tuple:
    """The fitted law of p (what explains the counts), its goodness of fit and the unsolvable
    fraction of a zero-inflated Beta."""
    dist_est = DistributionalEstimator(family=dist, fit_scale=fit_scale,
                                       bootstrap=bootstrap, seed=seed,
                                       workers=workers).fit(successes, attempts)
    if dist_est.best_.at_bound:
        warnings.append(f"distribution: the {dist_est.best_.family} fit has a parameter on "
                        "its bound; the data do not identify it, so its exponent is not "
                        "meaningful")
    gof = dist_est.goodness_of_fit()
    misfit = gof.get("chi_square_p_value", 1.0) < 1e-3
    if misfit:
        warnings.append(f"misfit: the {dist_est.best_.family} distribution does not reproduce "
                        f"the histogram of successes (chi-square p = "
                        f"{gof['chi_square_p_value']:.2g}); its exponent and law are suspect")
    zi_beta = get_method("zi-beta")
    unsolvable = {"model": "zi-beta", "estimate": zi_beta.fit(table).unsolvable_fraction,
                  "ci": None}
    if bootstrap:
        draws = [np.nan if f is None else f.unsolvable_fraction
                 for f in bootstrap_fits(zi_beta, table, bootstrap, seed=seed)]
        lo, hi = percentile_interval(np.array(draws), 0.95)
        # Widened to hold the estimate: with the atom at its lower bound (~1e-6, no
        # unsolvable share) the refits' optimiser noise can put the whole interval beside it.
        estimate = unsolvable["estimate"]
        if not np.isnan(lo[0]) and estimate is not None and math.isfinite(estimate):
            lo, hi = np.minimum(lo, estimate), np.maximum(hi, estimate)
        unsolvable["ci"] = None if np.isnan(lo[0]) else [float(lo[0]), float(hi[0])]

    return dist_est, gof, misfit, unsolvable


def _regression(successes, attempts, bootstrap, seed, warnings: list) -> dict | None:
    """The plain log-log regression, a side estimate: when it cannot be fitted, None (and a
    warning) and the report goes on."""
    try:
        reg = RegressionEstimator(bootstrap=bootstrap, seed=seed).fit(successes, attempts)
        return {"exponent": reg.exponent_,
                      "exponent_ci": None if reg.exponent_ci_ is None
                      else [float(v) for v in reg.exponent_ci_],
                      "prefactor": reg.prefactor_, "r2": reg.r2_,
                      "k_range": [int(reg.k_.min()), int(reg.k_.max())],
                      "k_points": int(reg.k_.size)}
    except SimsearchError as exc:
        warnings.append(f"regression not reported: {exc}")
        return None

