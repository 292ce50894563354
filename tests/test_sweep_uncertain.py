"""Random designs with uncertain inputs: marginals, truncation, rank correlations, bad specs."""

import math

import numpy as np
import pytest
from scipy import stats

from conftest import P_MIN, Z_TOL
from simsearch.cli import main
from simsearch.errors import SimsearchError
from simsearch.sweep import plan_sweep
from simsearch.sweep.uncertain import random_design

N = 4000
Z80, Z90 = stats.norm.ppf(0.9), stats.norm.ppf(0.95)


def _design(random: dict, seed: int = 11) -> dict:
    """The design's points by axis: the sampler alone (axes a-d are keys of no kind's config,
    which plan_sweep would refuse before any point runs)."""
    axes, points = random_design({"count": N, **random}, seed, "sweep", lambda count: None)
    return {axis: np.array([p[axis] for p in points]) for axis in axes}


def _truncated(dist, low, high):
    """CDF of ``dist`` (scipy frozen) conditioned on [low, high], built from scipy alone."""
    lo, hi = dist.cdf(low), dist.cdf(high)
    return lambda x: np.clip((dist.cdf(x) - lo) / (hi - lo), 0, 1)


# Each spec with its distribution built independently from scipy.stats.
MARGINALS = [
    ({"uniform": [2.0, 5.0]}, stats.uniform(2.0, 3.0).cdf),
    ({"loguniform": [0.01, 10.0]}, stats.loguniform(0.01, 10.0).cdf),
    ({"normal": {"mean": 1.0, "sd": 0.5}}, stats.norm(1.0, 0.5).cdf),
    ({"normal": {"p10": 1.0, "p90": 2.0}}, stats.norm(1.5, 0.5 / Z80).cdf),
    ({"normal": {"p5": -1.0, "p95": 3.0}}, stats.norm(1.0, 2.0 / Z90).cdf),
    ({"lognormal": {"mu": 0.2, "sigma": 0.7}}, stats.lognorm(0.7, scale=math.exp(0.2)).cdf),
    # Davidson and Houlden's r = 1.2 (0.4 to 3.6), as a 90% interval
    ({"lognormal": {"p5": 0.4, "p95": 3.6}},
     stats.lognorm(math.log(9) / (2 * Z90), scale=1.2).cdf),
    ({"lognormal": {"p10": 0.4, "p90": 3.6}},
     stats.lognorm(math.log(9) / (2 * Z80), scale=1.2).cdf),
    ({"lognormal": {"mean": 2.0, "sd": 1.0}},
     stats.lognorm(math.sqrt(math.log(1.25)), scale=2.0 / math.sqrt(1.25)).cdf),
    ({"normal": {"mean": 0.3, "sd": 0.2}, "low": 0.0},
     stats.truncnorm((0.0 - 0.3) / 0.2, np.inf, loc=0.3, scale=0.2).cdf),
    ({"normal": {"mean": 0.0, "sd": 1.0}, "low": 1.5, "high": 2.5},
     stats.truncnorm(1.5, 2.5).cdf),
    ({"lognormal": {"p5": 0.4, "p95": 3.6}, "low": 0.5, "high": 2.0},
     _truncated(stats.lognorm(math.log(9) / (2 * Z90), scale=1.2), 0.5, 2.0)),
]


@pytest.mark.parametrize("spec,cdf", MARGINALS, ids=[str(s) for s, _ in MARGINALS])
def test_marginals_pass_a_ks_test_and_respect_their_bounds(spec, cdf):
    values = _design({"a": spec})["a"]
    assert stats.kstest(values, cdf).pvalue > P_MIN
    low = spec.get("low", spec.get("uniform", spec.get("loguniform", [-np.inf]))[0])
    high = spec.get("high", (spec.get("uniform") or spec.get("loguniform") or [0, np.inf])[1])
    assert values.min() >= low and values.max() <= high


def test_integers_round_and_choice():
    d = _design({"a": {"integers": [3, 7]}, "b": {"choice": ["x", "y"]},
                 "c": {"lognormal": {"mu": 3.0, "sigma": 0.5}, "round": True}})
    counts = np.bincount(d["a"].astype(int), minlength=8)[3:]
    assert stats.chisquare(counts).pvalue > P_MIN and set(d["a"]) == {3, 4, 5, 6, 7}
    assert set(d["b"]) == {"x", "y"}
    assert all(isinstance(v, int) for v in d["c"].tolist())


@pytest.mark.parametrize("rho", [0.7, -0.4])
def test_rank_correlations_match_within_monte_carlo_error(rho):
    d = _design({"a": {"lognormal": {"p5": 0.4, "p95": 3.6}},
                 "b": {"normal": {"mean": 0.3, "sd": 0.2}, "low": 0.0},
                 "c": {"uniform": [0.0, 1.0]}, "d": {"loguniform": [1.0, 100.0]},
                 "correlation": {"a": {"b": rho, "d": 0.3}}})
    se = 1 / math.sqrt(N - 1)
    assert abs(stats.spearmanr(d["a"], d["b"]).statistic - rho) < Z_TOL * se
    assert abs(stats.spearmanr(d["a"], d["d"]).statistic - 0.3) < Z_TOL * se
    assert abs(stats.spearmanr(d["b"], d["c"]).statistic) < Z_TOL * se
    # the marginals survive the copula
    assert stats.kstest(d["a"], stats.lognorm(math.log(9) / (2 * Z90), scale=1.2).cdf
                        ).pvalue > P_MIN
    assert d["b"].min() >= 0.0


def test_design_is_reproducible_and_old_forms_keep_their_points():
    random = {"a": {"uniform": [0.0, 1.0]}, "b": {"loguniform": [1.0, 10.0]},
              "c": {"normal": {"mean": 0, "sd": 1}}, "correlation": {"a": {"c": 0.5}}}
    first, again = _design(random), _design(random)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    # without correlations, uniform and loguniform draw exactly as before the copula existed
    rng = np.random.default_rng(np.random.SeedSequence(11).spawn(N + 1)[-1])
    old = _design({"a": {"uniform": [0.0, 1.0]}, "b": {"loguniform": [1.0, 10.0]}})
    assert np.array_equal(old["a"], rng.uniform(0.0, 1.0, N))
    assert np.array_equal(old["b"], np.exp(rng.uniform(0.0, math.log(10.0), N)))


BAD = [
    ({"a": {"normal": [0, 1]}}, "random.a: normal needs a table"),
    ({"a": {"normal": {"mean": 0, "sd": -1}}}, "random.a: normal: sd must be > 0"),
    ({"a": {"lognormal": {"p5": 0.0, "p95": 3.6}}}, "random.a: lognormal: p5 must be > 0"),
    ({"a": {"normal": {"p10": 2, "p90": 1}}}, "random.a: normal: p10 must be < p90"),
    ({"a": {"normal": {"p10": 1, "p95": 2}}}, "random.a: normal needs a table"),
    ({"a": {"normal": {"mean": 0, "sd": 1}, "low": 50}}, "leave no probability"),
    ({"a": {"uniform": [0, 1], "low": 0.5}}, "random.a: uniform's [low, high] is its range"),
    ({"a": {"gamma": [1, 2]}}, "random.a: give one of uniform"),
    ({"a": {"normal": {"mean": 0, "sd": 1}, "colour": 1}}, "unknown key 'colour'"),
    ({"a": {"uniform": [0, 1]}, "correlation": {"a": {"z": 0.5}}},
     "random.correlation: 'z' is not an input"),
    ({"a": {"uniform": [0, 1]}, "b": {"uniform": [0, 1]}, "correlation": {"a": {"b": 1.0}}},
     "'a' ~ 'b' must be a number in (-1, 1)"),
    ({"a": {"uniform": [0, 1]}, "b": {"choice": [1, 2]}, "correlation": {"a": {"b": 0.5}}},
     "'b' is a choice"),
    ({"a": {"uniform": [0, 1]}, "b": {"uniform": [0, 1]},
      "correlation": {"a": {"b": 0.5}, "b": {"a": 0.5}}}, "given twice"),
    ({"a": {"uniform": [0, 1]}, "b": {"uniform": [0, 1]}, "c": {"uniform": [0, 1]},
      "correlation": {"a": {"b": 0.5, "c": 0.5}, "b": {"c": -0.9}}},
     "not positive definite) at 'b' ~ 'c' = -0.9"),
]


@pytest.mark.parametrize("random,message", BAD, ids=[m for _, m in BAD])
def test_bad_specs_give_one_line_naming_the_key(random, message):
    with pytest.raises(SimsearchError) as info:
        plan_sweep({"base": {"a": 1, "b": 1, "c": 1}, "random": {"count": 10, **random}})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_spec_on_the_command_line_exits_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('base = {problems = 100, k = "1,10", dist = {name = "point", p = 0.5}}\n'
                    '[random]\ncount = 3\n"dist.p" = { normal = { mean = 0.5, sd = 0 } }\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "random.dist.p: normal: sd must be > 0" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
