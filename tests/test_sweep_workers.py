"""A sweep's worker processes: warm for every point, reporting each point as it is done, and
ended with the sweep (nothing it started is left in the process table)."""

import subprocess
import sys

import numpy as np
import pytest

from simsearch.seeding import child
from simsearch.sweep import load_sweep, point_config, run_point, run_sweep
from simsearch.sweep.run import _Worker, batch_size
from simsearch.sweep.worker import READY

SWEEP = """
kind = "passk"
seed = 1
replicates = 2
statistics = ["exponent"]

[base]
problems = 2000
k = "1,10,100"

[base.dist]
name = "beta"
alpha = 0.3
beta = 3.0

[axes]
"dist.alpha" = [0.2, 0.5]
"dist.beta" = [1.0, 3.0]
"""


_RUN_AND_LIST_CHILDREN = """
import os, sys
from pathlib import Path
from simsearch.sweep import load_sweep, run_sweep

if __name__ == "__main__":
    run_sweep(load_sweep(sys.argv[1]), sys.argv[2], workers=2)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            print(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\\0", b" ").decode())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_run_sweep_with_two_workers_leaves_no_child_process(tmp_path):
    # A program that runs sweeps in a loop must not collect processes: neither the workers
    # nor multiprocessing's resource tracker, which a spawn pool starts and which, left
    # running, stays a child of the program until it exits (it did before the workers were
    # plain subprocesses).
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP)
    script = tmp_path / "run.py"
    script.write_text(_RUN_AND_LIST_CHILDREN)
    out = subprocess.run([sys.executable, str(script), str(sweep), str(tmp_path / "out")],
                         cwd=tmp_path, check=True, capture_output=True, text=True)
    assert (tmp_path / "out" / "results.csv").exists()
    assert out.stdout.strip() == ""
    assert "leaked" not in out.stderr  # the tracker found nothing left to clean up


def test_batch_size_gives_each_worker_about_four_batches_and_at_most_32_points():
    assert batch_size(6, 2) == 1
    assert batch_size(20, 2) == 3
    assert batch_size(300, 2) == 32
    assert batch_size(10**6, 2) == 32
    assert batch_size(1, 8) == 1


def test_a_worker_reports_each_point_of_a_batch_as_its_own_message(tmp_path):
    # what keeps the resume granularity per point although points travel in batches: a
    # point's outcome reaches the sweep (which writes it at once) before the next one runs
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP)
    plan = load_sweep(sweep)
    root = np.random.SeedSequence(plan.seed)
    tasks = [(i, (plan.kind, point_config(plan, plan.points[i]), plan.statistics,
                  plan.replicates, child(root, i), plan.options)) for i in (2, 0, 3)]
    worker = _Worker(plan.kind)
    try:
        assert worker.conn.recv() == READY
        worker.conn.send(tasks)
        messages = [worker.conn.recv() for _ in tasks]
    finally:
        worker.stop(kill=False)
    assert worker.process.returncode == 0  # closing the connection ends it
    assert [index for index, _ in messages] == [2, 0, 3]
    assert messages == [(i, run_point(*args)) for i, args in tasks]


def test_points_sent_in_batches_give_the_bytes_of_a_one_process_sweep(tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP.replace('"dist.alpha" = [0.2, 0.5]',
                                   '"dist.alpha" = { linspace = [0.1, 2.0, 10] }'))
    plan = load_sweep(sweep)
    assert len(plan.points) == 20 and batch_size(20, 2) == 3
    run_sweep(plan, tmp_path / "one", workers=1)
    run_sweep(plan, tmp_path / "two", workers=2)
    for table in ("results.csv", "summary.csv"):
        assert ((tmp_path / "one" / table).read_bytes()
                == (tmp_path / "two" / table).read_bytes())
