"""Parameter sweeps: reproducible across backends, resumable after SIGKILL, robust to bad points."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simsearch.cli import main
from simsearch.errors import SimsearchError
from simsearch.sweep import load_sweep, plan_sweep, run_sweep

GRID = """
kind = "passk"
seed = 5
replicates = 2
statistics = ["exponent", "local_exponent", "tail_exponent", "pass_at_k@100"]

[base]
problems = {problems}
k = "1,10,100,1000"

[base.dist]
name = "beta"
alpha = 0.3
beta = 3.0

[axes]
"dist.alpha" = {alphas}
"dist.beta" = [1.0, 3.0]
"""


def _sweep_file(tmp_path, problems=20_000, alphas="[0.2, 0.5, 0.9]", name="sweep.toml"):
    path = tmp_path / name
    path.write_text(GRID.format(problems=problems, alphas=alphas))
    return path


def _sorted_lines(path):
    lines = Path(path).read_text().splitlines()
    return [lines[0]] + sorted(lines[1:])


def test_results_identical_for_1_and_2_workers_and_a_dask_cluster(tmp_path):
    plan = load_sweep(_sweep_file(tmp_path))
    run_sweep(plan, tmp_path / "one", workers=1)
    run_sweep(plan, tmp_path / "two", workers=2)
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        run_sweep(plan, tmp_path / "dask", scheduler=cluster.scheduler_address)
    one = (tmp_path / "one" / "results.csv").read_bytes()
    assert one == (tmp_path / "two" / "results.csv").read_bytes()
    assert one == (tmp_path / "dask" / "results.csv").read_bytes()
    lines = one.decode().splitlines()
    assert lines[0] == ("point,replicate,dist.alpha,dist.beta,exponent,local_exponent,"
                        "tail_exponent,pass_at_k@100")
    assert len(lines) == 1 + 6 * 2
    meta = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert meta["seed"] == 5 and meta["ended"] and meta["simsearch_version"]
    assert [p["status"] for p in meta["points"]] == ["done"] * 6


def _slow_sweep_process(tmp_path, out, workers):
    """A 16-point sweep of ~0.3 s points, running as its own CLI process."""
    sweep = _sweep_file(tmp_path, problems=1_500_000,
                        alphas="[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]")
    proc = subprocess.Popen([sys.executable, "-m", "simsearch", "sweep", str(sweep), "--out",
                             str(out), "--workers", str(workers), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    return sweep, proc


def test_sigkill_then_resume_gives_exactly_one_row_per_point_and_replicate(tmp_path):
    out = tmp_path / "killed"
    sweep, proc = _slow_sweep_process(tmp_path, out, workers=1)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = list((out / "points").glob("*.csv")) if (out / "points").exists() else []
        if len(done) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = len(list((out / "points").glob("*.csv")))
    assert 3 <= finished_before < 16, "the sweep should have been killed midway"
    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "--workers", "2",
                 "--no-progress"]) == 0
    lines = (out / "results.csv").read_text().splitlines()[1:]
    keys = [tuple(line.split(",")[:2]) for line in lines]
    assert len(keys) == len(set(keys)) == 16 * 2
    # and the resumed sweep equals an uninterrupted one
    run_sweep(load_sweep(sweep), tmp_path / "clean", workers=2)
    assert _sorted_lines(out / "results.csv") == _sorted_lines(tmp_path / "clean" /
                                                               "results.csv")


def _children(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="needs /proc/PID/task/PID/children")
def test_a_dying_worker_stops_the_sweep_cleanly_and_resume_finishes(tmp_path):
    out = tmp_path / "out"
    sweep, proc = _slow_sweep_process(tmp_path, out, workers=2)
    deadline = time.monotonic() + 300
    victim = None
    while time.monotonic() < deadline and victim is None and proc.poll() is None:
        done = list((out / "points").glob("*.csv")) if (out / "points").exists() else []
        # the pool's workers are the grandchildren that import simsearch; wait for a point
        workers = [c for c in _children(proc.pid) if "spawn_main" in
                   Path(f"/proc/{c}/cmdline").read_text(errors="replace")]
        if done and workers:
            victim = workers[0]
        time.sleep(0.05)
    assert victim is not None, "no worker process found"
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert "a worker process died" in err and "--resume" in err and "Traceback" not in err
    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "--no-progress"]) == 0
    lines = (out / "results.csv").read_text().splitlines()[1:]
    assert len(lines) == len({tuple(x.split(",")[:2]) for x in lines}) == 16 * 2


def test_invalid_point_is_recorded_and_the_rest_finish(tmp_path):
    plan = load_sweep(_sweep_file(tmp_path, alphas="[0.3, -1.0, 0.5]"))
    summary = run_sweep(plan, tmp_path / "out", workers=1)
    assert (summary.done, summary.failed) == (4, 2)
    meta = json.loads((tmp_path / "out" / "manifest.json").read_text())
    failed = [p for p in meta["points"] if p["status"] == "failed"]
    assert [p["values"]["dist.alpha"] for p in failed] == [-1.0, -1.0]
    assert "beta: alpha must be a number in (0, inf)" in failed[0]["message"]
    lines = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert len(lines) == 1 + 4 * 2


def test_random_design_is_seeded_and_in_bounds():
    doc = {"seed": 3, "base": {"dist": {"name": "beta", "alpha": 0.3, "beta": 3.0},
                               "problems": 1000},
           "random": {"count": 25, "dist.alpha": {"loguniform": [0.05, 2.0]},
                      "problems": {"integers": [100, 200]}}}
    a, b = plan_sweep(doc), plan_sweep(doc)
    assert a.points == b.points and len(a.points) == 25
    assert all(0.05 <= p["dist.alpha"] <= 2.0 and 100 <= p["problems"] <= 200
               for p in a.points)
    assert a.digest == b.digest != plan_sweep({**doc, "seed": 4}).digest


def test_directory_guards(tmp_path):
    plan = load_sweep(_sweep_file(tmp_path, problems=2000))
    run_sweep(plan, tmp_path / "out", workers=1)
    with pytest.raises(SimsearchError, match="already holds a sweep"):
        run_sweep(plan, tmp_path / "out", workers=1)
    other = load_sweep(_sweep_file(tmp_path, problems=3000, name="other.toml"))
    with pytest.raises(SimsearchError, match="holds a different sweep"):
        run_sweep(other, tmp_path / "out", workers=1, resume=True)
    summary = run_sweep(plan, tmp_path / "out", workers=1, resume=True)
    assert summary.ran == 0 and summary.done == 6


BAD = [
    ("kind = \"passk\"\n[base\n", "malformed TOML"),
    ("seed = 1\nbase = {problems = 10}\n", "give exactly one of [axes]"),
    ("colour = 1\nbase = {problems = 10}\naxes = {problems = [1]}\n", "unknown key 'colour'"),
    ("base = {problems = 10}\naxes = {problems = [1]}\nstatistics = [\"speed\"]\n",
     "unknown statistic 'speed'"),
    ("base = {dist = \"beta(0.3, 3)\"}\naxes = {\"dist.alpha\" = [1]}\n",
     "give dist as a table"),
    ("base = {problems = 10}\naxes = {problems = {logspace = [1, 10]}}\n",
     "logspace needs [start, stop, count]"),
    ("base = {problems = 10}\nreplicates = 0\naxes = {problems = [1]}\n",
     "replicates must be an integer >= 1"),
    ("base = \"missing.toml\"\naxes = {problems = [1]}\n", "base config"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m for _, m in BAD])
def test_malformed_sweep_file_exits_2_with_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_scheduler_without_dask_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    path = _sweep_file(tmp_path, problems=1000)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler",
                 "tcp://127.0.0.1:1"]) == 2
    assert "pip install 'simsearch[dask]'" in capsys.readouterr().err
