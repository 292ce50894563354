"""Feedback (automation): bit-identity at automation 0, and the closed forms of explosion."""

import copy
import hashlib
import math

import numpy as np
import pytest
from conftest import Z_TOL

from simsearch.errors import SimsearchError
from simsearch.labs import labs_config, simulate_labs, theory

_LOGNORMAL = "lognormal(mu=0.1, sigma=0.5)"
_BETA = "beta(alpha=0.6, beta=1.5)"

#: Seeded configs covering every feature of the engine before feedback existed; their results'
#: digests (GOLDEN_DIGESTS) were taken with the code before it.
GOLDEN_CONFIGS = {
    "rounds, patience, greedy, half shared, replenished": {
        "seed": 11, "replicates": 3, "periods": 6, "sharing": 0.5,
        "pool": {"ideas": 60, "difficulty": _BETA, "value": _LOGNORMAL, "replenish": 1.7},
        "lab": [{"name": "a", "budget": 30.0, "growth": 0.3},
                {"name": "b", "budget": 20.0, "policy": "patience(m=3)", "cost": 0.7},
                {"name": "c", "budget": 25.0, "policy": "greedy"}]},
    "greedy equal values, max_ideas, all shared": {
        "seed": 12, "replicates": 3, "periods": 5, "sharing": 1.0,
        "pool": {"ideas": 40, "difficulty": "beta(alpha=0.3, beta=3)", "replenish": 2.0,
                 "max_ideas": 70},
        "lab": [{"name": "a", "budget": 40.0, "policy": "greedy"},
                {"name": "b", "budget": 15.0, "cost": 0.5}]},
    "elasticity, product, private": {
        "seed": 13, "replicates": 4, "periods": 8, "sharing": 0.0,
        "pool": {"ideas": 200, "difficulty": _BETA, "value": "fixed(v=1.3)"},
        "lab": [{"name": "a", "budget": 50.0, "growth": 0.2,
                 "cost": {"base": 1.0, "elasticity": 0.7}},
                {"name": "b", "budget": 30.0, "policy": "patience(m=4)",
                 "cost": {"base": 0.5, "elasticity": 1.0}}]},
    "elasticity, max, shared, greedy": {
        "seed": 14, "replicates": 3, "periods": 6, "sharing": 0.7,
        "pool": {"ideas": 50, "difficulty": _BETA, "value": _LOGNORMAL, "combine": "max",
                 "replenish": 0.5},
        "lab": [{"name": "a", "budget": 30.0, "cost": {"base": 1.0, "elasticity": 0.5}},
                {"name": "b", "budget": 25.0, "policy": "greedy",
                 "cost": {"base": 1.5, "elasticity": 0.3}}]},
    "Kortum stream": {
        "seed": 15, "replicates": 4, "periods": 10,
        "pool": {"ideas": "inf", "difficulty": "point(p=0.2)", "value": "pareto(alpha=1.5)",
                 "combine": "max"},
        "lab": [{"name": "a", "budget": 50.0},
                {"name": "b", "budget": 10.0, "growth": 0.4}]},
    "stream, patience, shared, elasticity": {
        "seed": 16, "replicates": 3, "periods": 7, "sharing": 0.5,
        "pool": {"ideas": "inf", "difficulty": _BETA, "value": "pareto(alpha=2)"},
        "lab": [{"name": "a", "budget": 30.0, "policy": "patience(m=3)"},
                {"name": "b", "budget": 20.0, "cost": {"base": 1.0, "elasticity": 0.5}}]},
    "round-robin, one lab, many periods": {
        "seed": 17, "replicates": 2, "periods": 40,
        "pool": {"ideas": 300, "difficulty": "beta(alpha=0.4, beta=3)", "replenish": 0.5},
        "lab": [{"name": "a", "budget": 45.25, "growth": 0.1, "cost": 1.5}]},
    "three greedy and rounds, point difficulty": {
        "seed": 18, "replicates": 3, "periods": 5, "sharing": 0.5,
        "pool": {"ideas": 30, "difficulty": "point(p=0.15)", "value": "pareto(alpha=1.5)",
                 "combine": "max", "replenish": 1.0, "max_ideas": 45},
        "lab": [{"name": "a", "budget": 12.5, "policy": "greedy"},
                {"name": "b", "budget": 17.3, "policy": "patience(m=5)", "growth": 0.25},
                {"name": "c", "budget": 8.0, "cost": 2.0}]},
}


def _digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def result_digests(result) -> dict:
    """SHA-256 of every array of the wins and periods tables (and the per-replicate counts)."""
    return {"wins": _digest(result.wins),
            "periods": _digest({**result.periods, "n_wins": result.n_wins,
                                "dropped": result.dropped})}


#: SHA-256 of each config's wins and periods arrays (``result_digests``), taken once with the
#: engine before feedback existed (commit 52b70fb), retaken once when issue 19 made a period's
#: leftover budget carry into the next attempt and simultaneous wins order by a seeded draw, and
#: once more (three configs) when a published win came to sink the compute of another lab's
#: attempt in progress on its idea (issue 19.2, continuity): automation absent or 0 must
#: reproduce them bit for bit.
GOLDEN_DIGESTS = {
    'rounds, patience, greedy, half shared, replenished': {
        "wins": "658b8d608950b72a4f873486788ecbfc191e3bf48ee715eae2fad74c9db0c2a4",
        "periods": "3a062aa090365fbaf0f1046698642ee973f3b9ed4fb59b7534e0d35fb5c0c8bb"},
    'greedy equal values, max_ideas, all shared': {
        "wins": "5a2b7da523c04cbea4ab21026a9de08f4fa2a6b06e34cd0f06488bdf3c9198bb",
        "periods": "4b090d1a106e41e24760ded93e03db388f58c0fa72c405b9909fcfe38c59bd6e"},
    'elasticity, product, private': {
        "wins": "c8b49f5123aa75a00228d997d78a2f025bd2f5ea409fe66cde9ea8f166fd8fd1",
        "periods": "456bb18914f18b110172064ab91e6e88e2011eb3eb35b430b858cbee3868a328"},
    'elasticity, max, shared, greedy': {
        "wins": "1240ce64669b27206330a9e33c7b1cda51a25b4af56a865beddddf7ae07b4ac1",
        "periods": "f40c13bbc2bf0c2624121bb7ead12a97004355129bb5979a5481c925cae1a571"},
    'Kortum stream': {
        "wins": "21477f77b0345878c1ef0676ce9758e9bc5d1eaef09d1837bc6f8600900b4722",
        "periods": "3aa864bca76c97c372ff76ab9256a7f7685c8ce95d39a7c6838664ee0776cad9"},
    'stream, patience, shared, elasticity': {
        "wins": "bdebd9960ef199d58ad4b978858a498f3eeeb849319e2eb5d9a465fb3a549a0a",
        "periods": "616ce3472bf31f83eea752fb300bcacf51f773a53c47dcfc024e7074a930e932"},
    'round-robin, one lab, many periods': {
        "wins": "ec72729e241f46ebda3ec17182a05affb1f49db6436989806ffbd7629caf06ee",
        "periods": "e079cb16722d63c93d735b06f4e249c505003b0093ceef92244e0a4d51d0a7dd"},
    'three greedy and rounds, point difficulty': {
        "wins": "2ca6e7e85cb667a54178067713568ff6d4b0da4778c7947f66226fd05f85c8fc",
        "periods": "513a67b848089e00ee2d15cd6d1d5151bd89e4937347329043ab7bf991658bcb"},
}


def _with_automation(doc: dict, automation) -> dict:
    doc = copy.deepcopy(doc)
    for lab in doc["lab"]:
        lab["automation"] = automation
    return doc


@pytest.mark.parametrize("name", list(GOLDEN_CONFIGS))
@pytest.mark.parametrize("automation", [None, 0, [0.0, 0]])
def test_automation_zero_is_bit_identical_to_the_engine_before_feedback(name, automation):
    doc = GOLDEN_CONFIGS[name]
    if automation is not None:
        doc = _with_automation(doc, automation)
    assert result_digests(simulate_labs(labs_config(doc))) == GOLDEN_DIGESTS[name]


# --- Closed forms of the stochastic model -----------------------------------------------------

def _kortum(theta, automation, cap, *, budget, p, elasticity=0.0, replicates, seed, periods=1):
    """One lab on an endless stream (point difficulty p, Pareto(theta) values, max), automated
    to degree s, stopping at the cap."""
    return labs_config({
        "seed": seed, "replicates": replicates, "periods": periods,
        "pool": {"ideas": "inf", "difficulty": f"point(p={p})",
                 "value": f"pareto(alpha={theta})", "combine": "max"},
        "lab": [{"name": "a", "budget": budget, "automation": automation,
                 "cost": {"base": 1.0, "elasticity": elasticity}}],
        "limits": {"multiplier": cap}})


def _z(sample, expected):
    sample = np.asarray(sample, dtype=float)
    return (sample.mean() - expected) / (sample.std(ddof=1) / math.sqrt(sample.size))


def test_without_feedback_time_to_a_doubling_is_geometric():
    """s = 0: A(t) < x iff no idea among the N(t) tried so far works with a value >= x, so the
    attempts until A >= 2^n are Geometric(q = p 2^(-n theta)) and the time is that over the
    budget (cost 1): P(T_n <= k / B) = 1 - (1 - q)^k."""
    theta, p, budget, n_max = 1.0, 0.5, 4000.0, 6
    config = _kortum(theta, 0.0, 2.0**n_max, budget=budget, p=p, replicates=3000, seed=31)
    times = simulate_labs(config, record_wins=False).doubling_times()[:, 0, :n_max]
    assert not np.isnan(times).any()
    attempts = times * budget
    np.testing.assert_allclose(attempts, np.round(attempts), atol=1e-6)
    for n in range(1, n_max + 1):
        q = p * 2.0 ** (-n * theta)
        assert abs(_z(attempts[:, n - 1], 1.0 / q)) < Z_TOL, n
        for k in (0.5 / q, 1.0 / q, 2.0 / q):  # the CDF at three points
            exact = 1.0 - (1.0 - q) ** math.floor(k)
            seen = np.mean(attempts[:, n - 1] <= k)
            assert abs(seen - exact) < Z_TOL * math.sqrt(exact * (1 - exact) / len(attempts))


# (theta, s, e): kappa = theta - s + e > 0, = 0 (with and without elasticity), < 0.
FEEDBACK_CASES = [(0.5, 0.25, 0.0), (0.5, 0.5, 0.0), (0.5, 0.8, 0.3), (0.5, 0.75, 0.0),
                  (0.5, 1.0, 0.0)]


@pytest.mark.parametrize("theta,s,e", FEEDBACK_CASES)
def test_kortum_doubling_times_follow_the_closed_form(theta, s, e):
    """E[T_n] = 1/R0 + theta (2^(n kappa) - 1) / (kappa R0) exactly (kappa = theta - s + e),
    and successive mean intervals scale by 2^kappa after the first doubling: the paired
    differences d_(k+1) - 2^kappa d_k have mean 0."""
    n_max, p, budget = 12, 0.25, 8000.0
    config = _kortum(theta, s, 2.0**n_max, budget=budget, p=p, elasticity=e,
                     replicates=3000, seed=32)
    times = simulate_labs(config, record_wins=False).doubling_times()[:, 0, :n_max]
    assert not np.isnan(times).any()  # all reached within the period: no censoring
    rate = theory.kortum_success_rate(budget, p)
    exact = theory.kortum_feedback_mean_time(np.arange(1, n_max + 1), theta, s, rate, e)
    z = [_z(times[:, n], exact[n]) for n in range(n_max)]
    assert np.all(np.abs(z) < Z_TOL), z
    kappa = theta - s + e
    intervals = np.diff(times, axis=1, prepend=0.0)
    for k in range(1, n_max - 1):  # d_2 on (the first interval starts from A = 1, not Pareto)
        paired = intervals[:, k + 1] - 2.0**kappa * intervals[:, k]
        assert abs(_z(paired, 0.0)) < Z_TOL, k
    # The ODE's t_n has the same shape: the mean minus 1/R0.
    ode = theory.feedback_doubling_times(np.arange(1, n_max + 1), theta, s, rate, e)
    np.testing.assert_allclose(exact - 1.0 / rate, ode, rtol=1e-12)


@pytest.mark.parametrize("theta,s", [(0.5, 0.25), (0.5, 0.75)])
def test_time_to_the_cap_is_bounded_iff_s_exceeds_theta(theta, s):
    """Blow-up iff s > theta: the mean time to the cap tends to 1/R0 + t* as the cap grows
    when s > theta, and grows as cap^(theta - s) without bound when s < theta."""
    p, budget = 0.25, 4000.0
    rate = theory.kortum_success_rate(budget, p)
    means = []
    for n in (4, 8, 16):
        config = _kortum(theta, s, 2.0**n, budget=budget, p=p, replicates=2000, seed=33 + n)
        cap_time = simulate_labs(config, record_wins=False).limits["cap_time"][:, 0]
        assert not np.isnan(cap_time).any()
        exact = theory.kortum_feedback_mean_time(n, theta, s, rate)
        assert abs(_z(cap_time, exact)) < Z_TOL, (n, cap_time.mean(), exact)
        means.append(cap_time.mean())
    blowup = theory.feedback_blowup_time(theta, s, rate)
    if s > theta:
        assert np.all(np.array(means) < 1.0 / rate + blowup)
        assert theory.explosion_threshold(theta) < s
    else:
        assert blowup == math.inf and theory.explosion_threshold(theta) > s
        assert means[2] > 3 * means[1] > 6 * means[0]  # exactly 31 : 7 : 3 in units 1/R0


def test_product_feedback_doubling_times_are_exact_when_every_idea_works():
    """p = 1, v = 2.01: every attempt wins and doubles A (for the first 138 wins), and the
    k-th attempt takes v^(-(k-1)(s-e)) / R0: the doubling times are a geometric series."""
    s, e, budget = 0.7, 0.2, 1000.0
    config = labs_config({
        "seed": 1, "replicates": 2, "periods": 1,
        "pool": {"ideas": "inf", "difficulty": "point(p=1)", "value": "fixed(v=2.01)",
                 "combine": "product"},
        "lab": [{"name": "a", "budget": budget, "automation": s,
                 "cost": {"base": 1.0, "elasticity": e}}],
        "limits": {"multiplier": 2.0**30}})
    result = simulate_labs(config)
    v = 2.01
    exact = theory.product_feedback_mean_time(np.arange(1, 31), math.log(v), s, budget, e)
    np.testing.assert_allclose(result.doubling_times()[:, 0, :], np.broadcast_to(exact, (2, 30)),
                               rtol=1e-12)
    np.testing.assert_allclose(result.limits["cap_time"][:, 0], exact[-1], rtol=1e-12)
    assert result.n_wins.tolist() == [30, 30]  # the lab stops at the cap
    np.testing.assert_allclose(result.periods["compute"][:, 0, 0],
                               (v ** (e * np.arange(30))).sum(), rtol=1e-12)
    table = result.doublings_table()
    assert len(table["time"]) == 60 and table["doubling"][:3].tolist() == [1, 2, 3]
    np.testing.assert_allclose(table["interval"][:30], np.diff(exact, prepend=0.0), rtol=1e-9)
    explosion = result.explosion_table()
    assert explosion["capped"].tolist() == [1, 1] and explosion["doublings"].tolist() == [30, 30]
    assert explosion["accelerating"].tolist() == [1, 1]
    ratio = v ** (-3 * (s - e))
    np.testing.assert_allclose(explosion["block_ratio"], ratio, rtol=1e-9)
    summary = result.explosion_summary()
    assert summary["capped_share"].tolist() == [1.0]
    np.testing.assert_allclose(summary["interval_ratio"], v ** -(s - e), rtol=1e-9)
    assert math.isclose(theory.explosion_threshold(1.5, e, "product"), e)


def test_compute_is_conserved_when_the_rate_changes():
    """One lab, product of lognormal values (A goes up and down), automation 0.9: the compute
    spent in a period is the integral of budget * A^s over it, less what is left at the
    period's end, which is less than one attempt (and nothing after the cap); wins change the
    rate at their exact times."""
    s, budget = 0.9, 40.0
    config = labs_config({
        "seed": 4, "replicates": 5, "periods": 6,
        "pool": {"ideas": "inf", "difficulty": "point(p=0.3)",
                 "value": "lognormal(mu=0.05, sigma=0.4)"},
        "lab": [{"name": "a", "budget": budget, "growth": 0.2, "automation": s,
                 "cost": {"base": 1.0, "elasticity": 0.5}}],
        "limits": {"multiplier": 1e9}})
    result = simulate_labs(config)
    w, per = result.wins, result.periods
    capped = 0
    for r in range(5):
        times, log_a = w["time"][w["replicate"] == r], w["log_multiplier"][w["replicate"] == r]
        stop = result.limits["cap_time"][r, 0]
        capped += not np.isnan(stop)
        for t in range(6):
            b = budget * 1.2**t
            inside = (times >= t) & (times < t + 1)
            edges = np.r_[t, times[inside], min(t + 1, np.nan_to_num(stop, nan=np.inf))]
            if edges[-1] < edges[0]:
                assert per["compute"][r, 0, t] == 0.0
                continue
            before = log_a[times < t]
            levels = np.r_[before[-1] if before.size else 0.0, log_a[inside]]
            integral = np.sum(np.diff(edges) * b * np.exp(s * levels))
            left = integral - per["compute"][r, 0, t]
            cost_end = math.exp(0.5 * levels[-1])
            assert -1e-9 * integral <= left < cost_end * (1 + 1e-9), (r, t, left, cost_end)
    assert 0 < capped < 5


@pytest.mark.parametrize("patch,message", [
    ({"automation": 1.5}, "lab[0].automation: must be a finite number >= 0 and <= 1"),
    ({"automation": -0.1}, "lab[0].automation"),
    ({"automation": []}, "lab[0].automation: a schedule needs 1 to"),
    ({"automation": [0.2, "x"]}, "lab[0].automation[1]"),
    ({"automation": 0.5}, "limits.multiplier: needed"),
    ({"automation": [0, 0.6], "cost": {"base": 1, "elasticity": 0.5}}, "limits.multiplier"),
])
def test_bad_automation_names_the_key(patch, message):
    doc = {"pool": {"ideas": 10, "difficulty": "point(p=0.5)"},
           "lab": [{"name": "a", "budget": 10.0, **patch}]}
    with pytest.raises(SimsearchError) as err:
        labs_config(doc)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("limits,message", [
    ({"multiplier": 1.0}, "limits.multiplier: must be a finite number > 1"),
    ({"multiplier": "big"}, "limits.multiplier"),
    ({"time": 3}, "limits: unknown key 'time'"),
    (5, "limits: must be a table"),
])
def test_bad_limits_name_the_key(limits, message):
    doc = {"pool": {"ideas": 10, "difficulty": "point(p=0.5)"},
           "lab": [{"name": "a", "budget": 10.0}], "limits": limits}
    with pytest.raises(SimsearchError, match=message):
        labs_config(doc)


def test_automation_and_limits_round_trip_through_the_canonical_form():
    doc = {"pool": {"ideas": 10, "difficulty": "point(p=0.5)"}, "limits": {"multiplier": 8},
           "lab": [{"name": "a", "budget": 10.0, "automation": [0, 0.5]},
                   {"name": "b", "budget": 10.0, "automation": 0.25}]}
    config = labs_config(doc)
    assert config.labs[0].automation_at(0) == 0 and config.labs[0].automation_at(7) == 0.5
    canonical = config.as_dict()
    assert canonical["limits"] == {"multiplier": 8.0}
    assert [lab["automation"] for lab in canonical["lab"]] == [[0.0, 0.5], 0.25]
    assert labs_config(canonical) == config
    plain = labs_config({**doc, "limits": None, "lab": [{"name": "a", "budget": 10.0}]})
    assert "automation" not in plain.as_dict()["lab"][0] and "limits" not in plain.as_dict()


def test_example_automation_config_explodes_only_above_theta():
    """experiments/configs/automation.toml (theta = 0.8, cap 10^4): the fully automated lab
    always reaches the cap, in 1/R0 + t_n on average; the manual one only when one of its 800
    ideas is worth 10^4 or more, with probability 1 - (1 - p 10^(-4 theta))^800."""
    from pathlib import Path

    from simsearch.labs import load_labs_config

    path = Path(__file__).parent.parent / "experiments" / "configs" / "automation.toml"
    config = load_labs_config(path)
    result = simulate_labs(config, replicates=40, record_wins=False)
    summary = result.explosion_summary()
    share = dict(zip(summary["lab"], summary["capped_share"]))
    assert share["automated"] == 1.0
    lucky = 1.0 - (1.0 - 0.2 * 1e4**-0.8) ** 800
    assert abs(share["manual"] - lucky) < Z_TOL * math.sqrt(lucky * (1 - lucky) / 40)
    cap_time = result.limits["cap_time"][:, 2]
    rate = theory.kortum_success_rate(50.0, 0.2)
    n = math.log2(1e4)
    assert abs(_z(cap_time, theory.kortum_feedback_mean_time(n, 0.8, 1.0, rate))) < Z_TOL
