"""The interpreted first-success draws (simsearch.kernels.interpreted) are the numba kernel's,
bit for bit, and small runs use them without loading numba."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from simsearch import Beta, Empirical, Kumaraswamy, LogitNormal, LogUniform, Mixture, Point
from simsearch.kernels import interpreted
from simsearch.kernels.first_success import first_success_counts
from simsearch.kernels.inputs import Chunks, KGrid, PerProblem, bin_table, kernel_table
from simsearch.sampling import passk
from simsearch.seeding import stream_states


def _log_uniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _random_distribution(rng, depth=0):
    """Any family, with parameters out to the edges the kernel must handle: shapes down to
    0.005 (gammas that underflow), logits down to -40 (p ~ 1e-18), point masses at 0 and 1,
    subnormal p, empirical values of 0 and 1, and mixtures of them."""
    family = rng.integers(0, 7 if depth == 0 else 6)
    scale = float(rng.choice([1.0, rng.uniform(0.01, 1.0)]))
    if family == 0:
        return Beta(_log_uniform(rng, 0.005, 5.0), _log_uniform(rng, 0.01, 20.0), scale)
    if family == 1:
        return Kumaraswamy(_log_uniform(rng, 0.05, 5.0), _log_uniform(rng, 0.1, 20.0), scale)
    if family == 2:
        return LogitNormal(float(rng.uniform(-40.0, 5.0)), float(rng.uniform(0.01, 30.0)))
    if family == 3:
        low = _log_uniform(rng, 1e-15, 0.5)
        return LogUniform(low, float(rng.uniform(1.01 * low, 1.0)))
    if family == 4:
        return Point(float(rng.choice([0.0, 1.0, 1e-300, 1e-17, rng.uniform(0.0, 1.0)])))
    if family == 5:
        values = rng.choice([0.0, 1.0, 1e-12, 0.3, 0.999999], size=rng.integers(1, 6))
        return Empirical(list(values) + list(rng.uniform(0.0, 1.0, rng.integers(0, 5))))
    weights = rng.dirichlet(np.ones(rng.integers(2, 5)))
    return Mixture([(float(w), _random_distribution(rng, depth + 1)) for w in weights])


@pytest.mark.parametrize("seed", range(4))
def test_the_interpreted_draws_are_the_kernels_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    for case in range(150):
        dist = _random_distribution(rng)
        # k from 1 to 2^53, on both sides of the kernel's lookup table (4096).
        k = np.unique(np.concatenate([rng.integers(1, 10 ** rng.integers(1, 16),
                                                   rng.integers(1, 8)),
                                      rng.choice([[1], [2**53], [4096], [4097]])]))
        k = k.astype(float)
        grid = KGrid(k, bin_table(k))
        sizes = rng.integers(0, 300, rng.integers(1, 5)).astype(np.int64)
        states = stream_states(np.random.SeedSequence([seed, case]), sizes.size)
        keep = bool(rng.integers(0, 2))
        offsets = (np.concatenate([[0], np.cumsum(sizes)[:-1]]) if keep
                   else np.zeros(sizes.size)).astype(np.int64)
        rows = int(sizes.sum()) if keep else 0
        table = kernel_table(dist)
        outputs = []
        for kernel in (first_success_counts, interpreted.first_success_counts):
            s, p, t = states.copy(), np.empty(rows), np.empty(rows)
            counts = kernel(Chunks(s, sizes, offsets), table, grid, PerProblem(p, t))
            outputs.append((counts, s, p.view(np.int64), t))
        for compiled, interp in zip(*outputs):
            assert np.array_equal(compiled, interp), (case, dist.spec, k, sizes, keep)


def test_a_small_run_is_drawn_interpreted_until_the_budget_is_spent(monkeypatch):
    monkeypatch.setattr(passk, "_interpreted_problems", 0)
    monkeypatch.setattr(passk, "_compiled_kernel_loaded", lambda: False)
    budget = interpreted.INTERPRETED_MAX_PROBLEMS
    assert passk.runs_interpreted(budget) and not passk.runs_interpreted(budget + 1)
    kernel, _ = passk.first_success_kernel(budget - 10)
    assert kernel is interpreted.first_success_counts
    assert passk.runs_interpreted(10) and not passk.runs_interpreted(11)
    kernel, _ = passk.first_success_kernel(11)
    assert kernel is first_success_counts
    # Once the compiled kernel is loaded, every run uses it.
    monkeypatch.setattr(passk, "_interpreted_problems", 0)
    monkeypatch.setattr(passk, "_compiled_kernel_loaded", lambda: True)
    assert not passk.runs_interpreted(1)


@pytest.mark.parametrize("per_problem", [False, True])
def test_a_run_is_the_same_whichever_kernel_draws_it(monkeypatch, per_problem):
    spec = "mixture(0.3 * point(p=0), 0.7 * beta(alpha=0.3, beta=3))"
    runs, drawn = [], []
    for spent in (0, interpreted.INTERPRETED_MAX_PROBLEMS):  # interpreted, then numba
        monkeypatch.setattr(passk, "_interpreted_problems", spent)
        monkeypatch.setattr(passk, "_compiled_kernel_loaded", lambda: False)
        runs.append(passk.simulate_pass_at_k(spec, [1, 10, 1000, 10**9], 5000, replicates=3,
                                             seed=7, per_problem=per_problem))
        drawn.append(passk._interpreted_problems - spent)
        monkeypatch.undo()
    assert drawn == [15000, 0]
    interp, compiled = runs
    assert np.array_equal(interp.pass_at_k, compiled.pass_at_k)
    if per_problem:
        assert np.array_equal(interp.p, compiled.p)
        assert np.array_equal(interp.first_success, compiled.first_success)


START_UP = textwrap.dedent("""
    import json, sys
    from simsearch.cli import main
    status = main(sys.argv[1:])
    print(json.dumps({"status": status, "numba": "numba" in sys.modules,
                      "scipy.special": "scipy.special" in sys.modules,
                      "tqdm": "tqdm" in sys.modules,
                      "other commands": "simsearch.cli.records" in sys.modules}))
""")


def _fresh(tmp_path, *argv):
    """Run the CLI in a fresh interpreter; its status and what it loaded."""
    result = subprocess.run([sys.executable, "-c", START_UP, *argv], capture_output=True,
                            text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_tiny_passk_loads_no_numba_tqdm_or_other_commands(tmp_path):
    out = tmp_path / "tiny.csv"
    loaded = _fresh(tmp_path, "passk", "--dist", "beta(alpha=0.3, beta=3)", "--problems",
                    "1000", "--k", "1,10,100", "--seed", "1", "--out", str(out), "--no-progress")
    assert loaded == {"status": 0, "numba": False, "scipy.special": False, "tqdm": False,
                      "other commands": False}
    manifest = json.loads((tmp_path / "tiny.csv.json").read_text())
    assert manifest["kernel"] == "interpreted" and manifest["threads"] == 1


def test_a_sweeps_own_process_loads_no_numba(tmp_path):
    # The sweep's own process checks the points and hands them to its workers: it needs
    # neither numba nor scipy.special (the workers load what the points need).
    (tmp_path / "sweep.toml").write_text(textwrap.dedent("""
        kind = "passk"
        seed = 1
        [base]
        problems = 30000
        k = "1,10,100"
        dist = { name = "beta", alpha = 0.3, beta = 3.0 }
        [axes]
        "dist.alpha" = [0.2, 0.4, 0.6]
    """))
    loaded = _fresh(tmp_path, "sweep", str(tmp_path / "sweep.toml"), "--out",
                    str(tmp_path / "out"), "--workers", "2", "--no-progress")
    assert loaded == {"status": 0, "numba": False, "scipy.special": False, "tqdm": False,
                      "other commands": False}
    assert (tmp_path / "out" / "results.csv").read_text().count("\n") == 4


def test_a_warm_sweep_worker_runs_every_point_on_the_kernel(monkeypatch):
    # A worker runs many points: it loads the kernel before its first (the kind's warm()),
    # rather than paying the interpreted draws of the first ones and then loading numba.
    from simsearch.sweep.kinds import get_kind

    monkeypatch.setattr(passk, "_interpreted_problems", 0)
    get_kind("passk").warm()
    assert passk._compiled_kernel_loaded() and not passk.runs_interpreted(1)
