"""Parameter sweeps: reproducible across backends, resumable after SIGKILL, robust to bad points."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from simsearch.cli import main
from test_cli import default_sigint, load_factor
from simsearch.errors import SimsearchError
from simsearch.sweep import (IncompleteSweepWarning, SweepSummary, load_sweep, plan_sweep,
                             run_sweep)

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


def run_on_every_backend(plan, tmp_path):
    """The sweep into tmp_path/one (1 process), two (2 processes) and dask (a local cluster)."""
    run_sweep(plan, tmp_path / "one", workers=1)
    run_sweep(plan, tmp_path / "two", workers=2)
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        run_sweep(plan, tmp_path / "dask", scheduler=cluster.scheduler_address)


def test_results_identical_for_1_and_2_workers_and_a_dask_cluster(tmp_path):
    run_on_every_backend(load_sweep(_sweep_file(tmp_path)), tmp_path)
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
                            cwd=tmp_path, preexec_fn=default_sigint)
    return sweep, proc


def kill_midway(proc, out, points=16):
    """SIGKILL a sweep process once 3 of its points are on disk; check it had not finished."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = list((out / "points").glob("*[0-9].csv")) if (out / "points").exists() else []
        if len(done) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = len(list((out / "points").glob("*[0-9].csv")))
    assert 3 <= finished_before < points, "the sweep should have been killed midway"


def test_sigkill_then_resume_gives_exactly_one_row_per_point_and_replicate(tmp_path):
    out = tmp_path / "killed"
    sweep, proc = _slow_sweep_process(tmp_path, out, workers=1)
    kill_midway(proc, out)
    # Issue 19.8: the killed sweep's table holds only some points, and reading it says so.
    pytest.importorskip("pandas")
    with pytest.warns(IncompleteSweepWarning, match=r"of 16 points have no rows in "
                                                    r"results.csv: \d+ not run"):
        SweepSummary.read(out).to_pandas()
    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "--workers", "2",
                 "--no-progress"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteSweepWarning)
        assert len(SweepSummary.read(out).to_pandas()) == 16 * 2
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
        # the workers are the children running simsearch.sweep.worker; wait for a point
        workers = [c for c in _children(proc.pid) if "simsearch.sweep.worker" in
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


@pytest.mark.parametrize("axes, message", [
    ('"dist.alpha" = [0.3, -1.0, 0.5]\n"dist.beta" = [1.0, 3.0]',
     "point 2 (dist.alpha = -1.0, dist.beta = 1.0): beta: alpha must be a number in (0, inf) "
     "(got -1.0) (2 of the 6 points checked are invalid)"),
    ('"dist.gamma" = [1.0]\n"dist.beta" = [1.0]',
     "point 0 (dist.gamma = 1.0, dist.beta = 1.0): beta: unknown parameter 'gamma'"),
    ('problems = [1000, 1e300]\n"dist.beta" = [1.0]',
     "point 1 (problems = 1e+300, dist.beta = 1.0): problems: 1e+300 problems x 2 "
     "replicate(s) need about"),
    ('"dist.alpha" = [0.3]\n"dist.beta" = ["x"]', "point 0 (dist.alpha = 0.3, dist.beta = 'x'): "
                                                   "beta: beta: expected a number"),
])
def test_an_invalid_point_refuses_the_sweep_before_anything_is_written(tmp_path, capsys, axes,
                                                                      message):
    """Issue 19.5 (main: every bad point failed at run time, exit 1, out/ left with a manifest)."""
    text = GRID.format(problems=1000, alphas="[0.3]")
    head, _, tail = text.partition("[axes]\n")
    (tmp_path / "s.toml").write_text(head + "[axes]\n" + axes + "\n"
                                     + tail.split("\n", 2)[2])
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(out), "--workers", "1",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_a_large_grid_checks_every_axis_value_in_a_real_point():
    """Above CHECKED_POINTS, each value of each axis is checked once (point 0 with that axis
    moved), so a bad value deep in an axis is still found before anything runs."""
    from simsearch.sweep.plan import CHECKED_POINTS

    alphas = [0.1 + 0.001 * i for i in range(60)] + [-1.0]
    doc = {"kind": "passk", "base": {"dist": {"name": "beta", "alpha": 0.3, "beta": 1.0},
                                     "problems": 100},
           "axes": {"dist.alpha": alphas, "dist.beta": [1.0 + i for i in range(40)]}}
    assert len(alphas) * 40 > CHECKED_POINTS
    with pytest.raises(SimsearchError, match=r"point 2400 \(dist.alpha = -1.0, dist.beta = "
                                             r"1.0\): beta: alpha must be"):
        plan_sweep(doc)


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


def test_out_with_missing_parents_is_created_like_labs_out(tmp_path, capsys):
    """Issue 22: ``sweep --out runs/x`` failed when ``runs/`` was missing; one rule with
    ``labs --out``, which creates the parents."""
    path = _sweep_file(tmp_path, problems=1000, alphas="[0.5]")
    out = tmp_path / "runs" / "deep" / "x"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1",
                 "--no-progress"]) == 0
    assert "2 of 2 points done" in capsys.readouterr().err
    assert len((out / "results.csv").read_text().splitlines()) == 1 + 2 * 2


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
    assert not (tmp_path / "o").exists()  # nothing written before the scheduler is reached


# --- issue 13: size, failures, scheduler, paths, signals and workers -----------------------

from simsearch import sweep as sweep_module  # noqa: E402
from simsearch.sweep import kinds as sweep_kinds  # noqa: E402
from simsearch.sweep import run as sweep_run  # noqa: E402
from simsearch.io.output import read_manifest  # noqa: E402


def _doc(axes):
    return {"base": {"dist": {"name": "beta", "alpha": 0.3, "beta": 3.0}, "problems": 100,
                     "k": "1,10"}, "axes": axes}


@pytest.mark.parametrize("axes,count", [
    ({"dist.alpha": {"linspace": [0.1, 1, 1e9]}}, 10**9),
    ({"dist.alpha": {"linspace": [0.1, 1, 1e4]}, "dist.beta": {"linspace": [1, 3, 1e4]}},
     10**8),
])
def test_a_huge_grid_is_refused_at_once_naming_its_size(axes, count):
    limit = sweep_module.MAX_POINTS
    with pytest.raises(SimsearchError, match=f"has {count:,} points, more than the limit of "
                                             f"{limit:,}; pass --max-points {count}"):
        plan_sweep(_doc(axes))


def test_grid_points_are_made_on_demand_in_product_order():
    import itertools
    plan = plan_sweep(_doc({"dist.alpha": {"linspace": [0.1, 1, 1e4]},
                            "dist.beta": {"linspace": [1, 3, 1e4]}}), max_points=10**8)
    assert isinstance(plan.points, sweep_module.GridPoints) and len(plan.points) == 10**8
    alphas, betas = plan.points.values
    assert plan.points[123_456_789 % 10**8] == {"dist.alpha": alphas[2345],
                                                "dist.beta": betas[6789]}
    assert plan.points[-1] == {"dist.alpha": 1.0, "dist.beta": 3.0}
    small = plan_sweep(_doc({"dist.alpha": [0.1, 0.2, 0.3], "problems": [10, 20]}))
    assert list(small.points) == [{"dist.alpha": a, "problems": n} for a, n in
                                  itertools.product([0.1, 0.2, 0.3], [10, 20])]
    assert len(plan.digest) == 64


def test_max_points_flag_overrides_the_limit(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('base = {problems = 100, k = "1,10", dist = {name = "point", p = 0.5}}\n'
                    'axes = {"dist.p" = [0.1, 0.2, 0.3]}\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "a"), "--workers", "1",
                 "--no-progress", "--max-points", "2"]) == 2
    assert "pass --max-points 3" in capsys.readouterr().err and not (tmp_path / "a").exists()
    assert main(["sweep", str(path), "--out", str(tmp_path / "a"), "--workers", "1",
                 "--no-progress", "--max-points", "3"]) == 0


def test_a_point_that_raises_is_failed_and_the_rest_go_on(tmp_path, monkeypatch, capsys):
    """A point that passes the checks but fails while it runs is recorded with its message;
    the sweep goes on, and exits 1 only if every point failed."""
    (tmp_path / "s.toml").write_text(GRID.format(problems=1000, alphas="[0.3, 0.5]"))
    real = sweep_module.evaluate_passk

    def flaky(config, *args):
        if config["dist"]["alpha"] == 0.5:
            raise ZeroDivisionError("boom")
        if config["dist"]["beta"] == 3.0:
            raise SimsearchError("memory: not enough for this point")
        return real(config, *args)

    monkeypatch.setattr(sweep_kinds.passk, "evaluate_passk", flaky)
    summary = run_sweep(load_sweep(tmp_path / "s.toml"), tmp_path / "out", workers=1)
    assert (summary.done, summary.failed) == (1, 3)
    meta = json.loads((tmp_path / "out" / "manifest.json").read_text())
    messages = [p.get("message") for p in meta["points"]]
    assert "ZeroDivisionError: boom" in messages
    assert "memory: not enough for this point" in messages
    assert len((tmp_path / "out" / "results.csv").read_text().splitlines()) == 1 + 2

    monkeypatch.setattr(sweep_kinds.passk, "evaluate_passk",
                        lambda *args: (_ for _ in ()).throw(ZeroDivisionError("boom")))
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "all"),
                 "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "every one of the 4 points failed" in err and len(err.strip().splitlines()) == 1


def test_an_unreachable_scheduler_writes_nothing(tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("dask.distributed")

    def client(*args, **kwargs):  # main: Dask retried the closed port for its whole timeout
        raise AssertionError("a refused TCP port must be reported before Dask waits on it")
    monkeypatch.setattr(distributed, "Client", client)
    path = _sweep_file(tmp_path, problems=1000)
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "scheduler: cannot reach 'tcp://127.0.0.1:1' (connection refused)" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    out.mkdir()
    assert main(["sweep", str(path), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:1", "--no-progress"]) == 2
    assert list(out.iterdir()) == []


def test_a_scheduler_dask_must_reach_itself_says_it_is_waiting(tmp_path, monkeypatch, capsys):
    """Not a TCP address (tls://, inproc://): nothing to probe, so the sweep says it waits."""
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(sweep_run, "_CONNECT_SECONDS", 1)
    path = _sweep_file(tmp_path, problems=1000)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler",
                 "tls://127.0.0.1:1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].endswith("connecting to the scheduler at tls://127.0.0.1:1 (waiting up to "
                           "1 s)")
    assert "scheduler: cannot reach 'tls://127.0.0.1:1'" in err[1]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("where", ["file", "proc", "sweep_is_dir", "empty", "read_only"])
def test_unusable_paths_give_one_line(tmp_path, capsys, where):
    if where == "read_only" and os.geteuid() == 0:
        pytest.skip("root writes into read-only directories (/proc covers an unwritable place)")
    path = _sweep_file(tmp_path, problems=1000)
    (tmp_path / "file").write_text("keep")
    (tmp_path / "ro").mkdir(mode=0o555)
    out = {"file": tmp_path / "file", "proc": "/proc/sweep", "sweep_is_dir": tmp_path / "o",
           "empty": "", "read_only": tmp_path / "ro" / "out"}[where]
    sweep = tmp_path if where == "sweep_is_dir" else path
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["sweep", str(sweep), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "file").read_text() == "keep"


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_workers(proc, out):
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [c for c in _children(proc.pid) if "simsearch.sweep.worker" in
                   Path(f"/proc/{c}/cmdline").read_text(errors="replace")]
        done = list((out / "points").glob("*.csv")) if (out / "points").exists() else []
        if len(workers) == 2 and done:
            return workers
        time.sleep(0.05)
    raise AssertionError("the sweep's workers never started")


def _consistent(out):
    """Every finished point is in results.csv at most once; no temporary file is left."""
    assert list(out.rglob("*.tmp")) == []
    lines = (out / "results.csv").read_text().splitlines()[1:]
    assert len(lines) == len({tuple(x.split(",")[:2]) for x in lines})
    read_manifest(out)  # results.csv is the one the manifest describes


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="needs /proc/PID/task/PID/children")
@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                         (signal.SIGKILL, -9)])
def test_a_signalled_sweep_stops_promptly_and_leaves_no_workers(tmp_path, signum, code):
    out = tmp_path / "out"
    sweep, proc = _slow_sweep_process(tmp_path, out, workers=2)
    workers = _wait_for_workers(proc, out)
    start = time.monotonic()
    proc.send_signal(signum)
    try:
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    took = time.monotonic() - start
    assert proc.returncode == code
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, workers)), "orphaned workers"
    if signum != signal.SIGKILL:
        assert took < 5 * load_factor(), f"took {took:.1f} s to act on the signal"
        _consistent(out)
    print(f"signal {signum}: exit {proc.returncode} after {took:.2f} s")
    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "--workers", "2",
                 "--no-progress"]) == 0
    _consistent(out)


def test_a_sweep_prints_no_runtime_warnings(tmp_path, capsys):
    import warnings

    path = tmp_path / "s.toml"
    path.write_text('statistics = ["exponent", "local_exponent", "pass_at_k@10"]\n'
                    'base = {problems = 200, k = "1,10", dist = {name = "empirical", '
                    'values = [0.5, 1.0]}}\n'
                    'axes = {"dist.values" = [[0.5, 1.0], [0.0, 1.0], [1.0]]}\n')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1",
                     "--no-progress"]) == 0
    assert [str(w.message) for w in caught] == []
    assert "Warning" not in capsys.readouterr().err


def test_a_point_file_cut_short_is_run_again_on_resume(tmp_path):
    # what a crash of the machine can leave: per-point files are renamed into place but,
    # unlike the tables, not fsynced (an fsync costs more than a small point)
    plan = load_sweep(_sweep_file(tmp_path, problems=2000))
    run_sweep(plan, tmp_path / "out", workers=1)
    clean = (tmp_path / "out" / "results.csv").read_bytes()
    points = tmp_path / "out" / "points"
    (points / "000001.csv").write_text("")
    (points / "000002.csv").write_text((points / "000002.csv").read_text()[:-5])
    (points / "000003.csv").unlink()
    (points / "000003.failed.json").write_text('{"point": 3, "mess')
    summary = run_sweep(plan, tmp_path / "out", workers=1, resume=True)
    assert summary.ran == 3 and summary.done == 6
    assert (tmp_path / "out" / "results.csv").read_bytes() == clean


@pytest.mark.slow
def test_workers_compile_kernels_on_a_cold_cache(tmp_path):
    """A fresh install's first sweep: each worker compiles its kernel. numba must start the
    worker's thread pool at the worker's own size, or the compile (which re-reads
    NUMBA_NUM_THREADS) refuses with "Cannot set NUMBA_NUM_THREADS ... once the threads have
    been launched" and every point fails."""
    sweep = _sweep_file(tmp_path, problems=2_000)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("NUMBA_NUM_THREADS", None)
    proc = subprocess.run([sys.executable, "-m", "simsearch", "sweep", str(sweep), "--out",
                           str(tmp_path / "out"), "--workers", "2", "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [p["status"] for p in meta["points"]] == ["done"] * 6, meta["points"]


def test_grid_axes_hold_the_decimals_the_user_meant():
    # np.linspace(0.1, 0.5, 5)[2] is 0.30000000000000004 and np.geomspace(1, 1e6, 7)[2]
    # 100.00000000000004: files and legends showed 17 digits (issue 22). Values with no short
    # decimal within a few ulps (1/3) are kept exactly as computed.
    plan = plan_sweep(_doc({"dist.alpha": {"linspace": [0.1, 0.5, 5]},
                            "problems": {"logspace": [1, 1e6, 7]},
                            "dist.beta": {"linspace": [1, 2, 4]}}))
    alphas, problems, betas = plan.points.values
    assert alphas == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert problems == [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6]
    assert betas == [1.0, 1 + 1 / 3, 1 + 2 / 3, 2.0] == list(np.linspace(1, 2, 4))
    assert [repr(a) for a in alphas] == ["0.1", "0.2", "0.3", "0.4", "0.5"]


def test_rebuilding_the_tables_reads_no_point_file_written_by_this_run(tmp_path, monkeypatch):
    # The tables are rebuilt from the per-point files over and over while a sweep runs; reading
    # every file back each time made a long sweep quadratic (0.5 s per rebuild at 6,000 points).
    # Files of an earlier run, resumed, are read once.
    plan = load_sweep(_sweep_file(tmp_path, problems=200,
                                  alphas="[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]"))
    run_sweep(plan, tmp_path / "first", workers=1)
    monkeypatch.setattr(sweep_run, "_FLUSH_SECONDS", 0.0)  # rebuild after every point
    reads = []
    read_text = Path.read_text

    def counted(path, *args, **kwargs):
        if path.parent.name == "points":
            reads.append(path.name)
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counted)
    out = tmp_path / "again"
    run_sweep(plan, out, workers=1)
    assert reads == []
    for path in (out / "points").glob("00000[01].*"):  # two points to run again on resume
        path.unlink()
    kept = sorted(os.listdir(out / "points"))
    run_sweep(plan, out, workers=1, resume=True)
    assert sorted(reads) == kept  # each once
    for table in ("results.csv", "summary.csv"):
        assert (out / table).read_bytes() == (tmp_path / "first" / table).read_bytes()


def test_the_tables_are_rebuilt_at_most_a_tenth_of_the_time(tmp_path, monkeypatch):
    # a clock that moves one second per reading: each rebuild "takes" a second, so the next
    # comes ten seconds later, not after the fixed two
    plan = load_sweep(_sweep_file(tmp_path, problems=200, alphas=str(
        [round(0.05 * i, 2) for i in range(1, 41)])))  # 40 x 2 points
    clock = iter(range(10**6))
    monkeypatch.setattr(sweep_run, "time", type("Clock", (), {
        "monotonic": staticmethod(lambda: float(next(clock)))}))
    flushes = []
    flush = sweep_run._SweepDirectory.flush
    monkeypatch.setattr(sweep_run._SweepDirectory, "flush",
                        lambda self, ended=False: flushes.append(ended) or flush(self, ended))
    run_sweep(plan, tmp_path / "out", workers=1)
    # the first rebuild before any point and the last after them all; between, one per
    # eleven points (ten seconds of checks, a clock reading each), not one per three
    points = len(plan.points)
    assert points == 80 and len(flushes) == 2 + 1 + (points - 3) // 11
