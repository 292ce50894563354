"""A sweep's worker processes end with it: nothing it started is left in the process table."""

import os
import subprocess
import sys

import pytest

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
    # A program that runs sweeps in a loop must not collect processes: neither the pool's
    # workers nor the resource tracker that the spawn pool starts (which, left running,
    # stays a child of the program until it exits).
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP)
    script = tmp_path / "run.py"
    script.write_text(_RUN_AND_LIST_CHILDREN)
    out = subprocess.run([sys.executable, str(script), str(sweep), str(tmp_path / "out")],
                         cwd=tmp_path, check=True, capture_output=True, text=True)
    assert (tmp_path / "out" / "results.csv").exists()
    assert out.stdout.strip() == ""
    assert "leaked" not in out.stderr  # the tracker found nothing left to clean up
