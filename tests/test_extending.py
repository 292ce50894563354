"""Adding a concept is one entry in its registry, made here from outside the package.

Each test registers a toy (a simulation family, a fit family, a prediction method, an
allocation strategy, an idea-value family, a labs policy, a sweep kind) with one ``monkeypatch.setitem`` and runs it
through the command line, as a user extending simsearch would; the numbers it prints are
checked against the toy's own closed form (the value family and the policy, new settings of
existing kernel kinds, against the built-in setting each equals).
"""

import csv
import io
import json
import math
import textwrap

import numpy as np
import pytest
from scipy import special

from simsearch.cli import main
from simsearch.distributions import FAMILIES, Distribution, Point
from simsearch.distributions.families import KernelComponent
from simsearch.fitting.likelihoods import FIT_FAMILIES, FitFamily
from simsearch.fitting.methods import METHODS, Method, fit_line
from simsearch.kernels.inputs import KIND_POINT
from simsearch.sweep.kinds import KINDS


class TwoPoint(Distribution):
    """Half the problems at p = low, half at p = high."""

    name = "twopoint"
    is_continuous = False

    def __init__(self, low: float, high: float):
        self.low, self.high = float(low), float(high)

    @property
    def spec(self):
        return f"twopoint(low={self.low!r}, high={self.high!r})"

    @property
    def tail_exponent(self):
        return None

    def sample(self, size, rng=None):
        rng = np.random.default_rng(rng)
        return np.where(rng.random(size) < 0.5, self.low, self.high)

    def cdf(self, p):
        p = np.asarray(p, dtype=float)
        return 0.5 * (p >= self.low) + 0.5 * (p >= self.high)

    def _failure(self, k):
        return 0.5 * ((1 - self.low) ** k + (1 - self.high) ** k)

    def kernel_components(self):
        # Drawn by the engine's existing point kind: a mixture of two atoms.
        return [KernelComponent(0.5, KIND_POINT, (self.low, 0.0, 0.0)),
                KernelComponent(0.5, KIND_POINT, (self.high, 0.0, 0.0))]


def test_a_simulation_family_is_one_entry(monkeypatch, capsys):
    monkeypatch.setitem(FAMILIES, "twopoint", TwoPoint)
    problems = 40_000
    assert main(["passk", "--dist", "twopoint(low=0.01, high=0.5)", "--problems",
                 str(problems), "--k", "1,10,100", "--seed", "3", "--no-progress"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    for row in rows:
        k = int(row["k"])
        exact = 1 - 0.5 * (0.99**k + 0.5**k)
        assert float(row["expected_pass_at_k"]) == pytest.approx(exact, rel=1e-12)
        se = math.sqrt(exact * (1 - exact) / problems)
        assert abs(float(row["pass_at_k"]) - exact) < 5 * se


class _FixedP:
    """Every problem has the same p = expit(theta): a binomial likelihood, one parameter."""

    n_params = 1
    has_gradient = False
    bounds = [(-20.0, 20.0)]

    def __init__(self, table):
        self.table = table

    @staticmethod
    def distribution(theta):
        return Point(float(special.expit(theta[0])))

    def log_pmf(self, theta):
        t, log_p, log_q = self.table, -np.logaddexp(0, -theta[0]), -np.logaddexp(0, theta[0])
        return t.log_binom + t.successes * log_p + (t.attempts - t.successes) * log_q

    def log_likelihood(self, theta, weights):
        return float(weights @ self.log_pmf(theta))

    def objective(self, theta, weights):
        return -self.log_likelihood(theta, weights) / weights.sum()

    def starts(self, table):
        rate = (table.weights @ table.successes) / (table.weights @ table.attempts)
        return [np.array([special.logit(rate)])]


def test_a_fit_family_is_one_entry(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(FIT_FAMILIES, "fixed-p", FitFamily(
        "fixed-p", "one p for every problem (binomial)", lambda table, fit_scale: _FixedP(table)))
    rng = np.random.default_rng(0)
    attempts = np.full(400, 50)
    successes = rng.binomial(attempts, 0.2)
    path = tmp_path / "counts.csv"
    path.write_text("successes,attempts\n" + "".join(f"{c},{n}\n" for c, n in
                                                     zip(successes, attempts)))
    assert main(["fit", str(path), "--dist", "fixed-p", "--bootstrap", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["distribution"]["name"] == "point"
    # The binomial MLE of one p is the pooled success rate.
    mle = successes.sum() / attempts.sum()
    assert report["distribution"]["parameters"]["p"] == pytest.approx(mle, rel=1e-5)
    assert list(report["families"]) == ["fixed-p"]


def test_a_prediction_method_is_one_entry(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(METHODS, "line-from-2", Method(
        "line-from-2", "curve", "the line over k >= 2",
        fit_curve=lambda curve: fit_line(curve, lowest_k=2, method="line-from-2")))
    rng = np.random.default_rng(1)
    p = rng.beta(0.3, 3.0, 300)
    attempts = np.full(300, 400)
    path = tmp_path / "counts.csv"
    path.write_text("successes,attempts\n" + "".join(
        f"{c},{n}\n" for c, n in zip(rng.binomial(attempts, p), attempts)))
    assert main(["backtest", str(path), "--from", "20", "--to", "400", "--seeds", "2",
                 "--methods", "line,line-from-2", "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "line-from-2" in table and "\nline " in "\n" + table.split("\n", 1)[1]



def test_an_allocation_strategy_is_one_entry(monkeypatch, tmp_path, capsys):
    from simsearch.fitting.planner import STRATEGIES, uniform_allocation

    # All the budget to the unsolved problems, equally: the toy's allocation is known exactly.
    monkeypatch.setitem(STRATEGIES, "unsolved-only",
                        lambda state, c, n, budget, k, room:
                        uniform_allocation(budget, np.where(np.asarray(c) == 0, room, 0)))
    c = np.array([0, 3, 0, 1, 0, 0, 7, 0])
    path = tmp_path / "counts.csv"
    path.write_text("problem,successes,attempts\n"
                    + "".join(f"q{i},{s},100\n" for i, s in enumerate(c)))
    assert main(["plan", str(path), "--budget", "50", "--predict", "1000", "--strategy",
                 "unsolved-only", "--bootstrap", "0", "--json"]) == 0
    allocation = json.loads(capsys.readouterr().out)["allocation"]
    assert allocation == {f"q{i}": (10 if s == 0 else 0) for i, s in enumerate(c)}

TOY_KIND = '''
"""A toy sweep kind: each replicate reports a uniform draw times the config's scale."""
import numpy as np
from simsearch.errors import SimsearchError
from simsearch.sweep.kinds import PointResult

DEFAULT_STATISTICS = ("value",)
ROW_KEYS = ()

def check_statistics(statistics, where):
    return tuple(statistics)

def check_options(doc, where):
    return {}

def check_point(config, statistics, replicates, where):
    if not config.get("scale", 0) > 0:
        raise SimsearchError(f"{where}: scale: must be > 0")

def point_statistics(statistics):
    return ()

def evaluate(config, statistics, replicates, seed, options):
    draws = np.random.default_rng(seed).random(replicates)
    return PointResult([{"replicate": r, "value": float(config["scale"] * u)}
                        for r, u in enumerate(draws)])
'''


def test_a_sweep_kind_is_one_entry(monkeypatch, tmp_path, capsys):
    (tmp_path / "toy_kind.py").write_text(TOY_KIND)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(KINDS, "toy", "toy_kind")
    sweep = tmp_path / "toy.toml"
    sweep.write_text(textwrap.dedent("""\
        kind = "toy"
        seed = 5
        replicates = 3
        statistics = ["value"]
        [base]
        scale = 1.0
        [axes]
        scale = [1.0, 10.0]
        """))
    out = tmp_path / "out"
    # The kind's check_point runs on every point before anything is written.
    sweep.write_text(sweep.read_text().replace("[1.0, 10.0]", "[1.0, -1.0]"))
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1",
                 "--no-progress"]) == 2
    assert "point 1 (scale = -1.0): scale: must be > 0" in capsys.readouterr().err
    assert not out.exists()
    sweep.write_text(sweep.read_text().replace("[1.0, -1.0]", "[1.0, 10.0]"))
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1",
                 "--no-progress"]) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 6
    children = np.random.SeedSequence(5).spawn(2)
    for point, scale in enumerate([1.0, 10.0]):
        # Point i is seeded with child i of SeedSequence(seed): the sweep's contract.
        want = scale * np.random.default_rng(children[point]).random(3)
        got = [float(r["value"]) for r in rows if int(r["point"]) == point]
        np.testing.assert_array_equal(got, want)


def test_a_labs_policy_is_one_entry(monkeypatch, tmp_path, capsys):
    # A new setting of an existing ordering (rounds of m attempts, as patience is) is one
    # Policy entry: parsing, error messages, the engine and the manifest read it from there.
    from simsearch.kernels.labs import POLICY_ROUNDS
    from simsearch.labs.config import POLICIES, Policy

    monkeypatch.setitem(POLICIES, "stubborn", Policy(
        "stubborn", POLICY_ROUNDS, "m attempts in a row on each unsolved idea", parameter="m"))
    world = textwrap.dedent("""\
        seed = 3
        replicates = 2
        periods = 4
        [pool]
        ideas = 300
        difficulty = "beta(alpha=0.4, beta=4)"
        [[lab]]
        name = "a"
        budget = 500.0
        policy = "POLICY"
        """)
    outputs = {}
    for policy in ("stubborn", "stubborn(m=5)", "patience(m=5)"):
        config = tmp_path / f"{policy}.toml"
        config.write_text(world.replace("POLICY", policy))
        out = tmp_path / policy.replace("(", "_").replace(")", "").replace("=", "")
        code = main(["labs", str(config), "--out", str(out), "--no-progress"])
        captured = capsys.readouterr()
        if policy == "stubborn":  # the parameter is required, and the message lists the entry
            assert code == 2 and "stubborn(m=<int in [1, " in captured.err
            assert not out.exists()
            continue
        assert code == 0, captured.err
        outputs[policy] = ((out / "wins.csv").read_bytes(), json.loads(
            (out / "manifest.json").read_text()))
    wins, manifest = outputs["stubborn(m=5)"]
    assert wins == outputs["patience(m=5)"][0] and wins.count(b"\n") > 10
    assert "stubborn(m=5)" in json.dumps(manifest)


def test_a_value_family_is_one_entry(monkeypatch, tmp_path, capsys):
    # An idea-value family drawn by an existing kernel kind is one VALUE_FAMILIES entry.
    from simsearch.distributions.values import VALUE_FAMILIES, ValueDistribution
    from simsearch.kernels.inputs import VALUE_FIXED

    class Percent(ValueDistribution):
        """Every idea raises the multiplier by ``gain`` percent."""

        name = "percent"

        def __init__(self, gain: float):
            self.gain = float(gain)

        @property
        def spec(self) -> str:
            return f"percent(gain={self.gain!r})"

        @property
        def kernel(self):
            return VALUE_FIXED, 1.0 + self.gain / 100.0, 0.0

    monkeypatch.setitem(VALUE_FAMILIES, "percent", Percent)
    outputs = {}
    for value in ("percent(gain=1)", "fixed(v=1.01)"):
        config = tmp_path / "world.toml"
        config.write_text(textwrap.dedent(f"""\
            seed = 4
            replicates = 2
            periods = 3
            [pool]
            ideas = 200
            difficulty = "beta(alpha=0.4, beta=4)"
            value = "{value}"
            [[lab]]
            name = "a"
            budget = 400.0
            """))
        out = tmp_path / value.split("(")[0]
        assert main(["labs", str(config), "--out", str(out), "--no-progress"]) == 0, \
            capsys.readouterr().err
        outputs[value] = (out / "wins.csv").read_bytes(), (out / "manifest.json").read_text()
    wins, manifest = outputs["percent(gain=1)"]
    assert wins == outputs["fixed(v=1.01)"][0] and wins.count(b"\n") > 10
    assert "percent(gain=1.0)" in manifest
