"""Benchmark: a tiny ``simsearch passk`` (1000 problems) against a NumPy script doing the same
sampling (Beta p, first success by geometric draw, pass@k by bincount), each a fresh process.

What a user feels for small jobs is start-up: imports and loading cached kernels. Runs are
paired (simsearch then NumPy, alternately) so the machine's load hits both alike; the ratio of
medians is printed. Warm numba cache (one untimed run first). Also prints the slowest imports
of the passk path from ``python -X importtime``.

A third process, one call of a trivial cached numba kernel, is the floor of any program whose
work runs in numba: the ratio to it says what simsearch adds on top of numba's own start-up.

Run:  python benchmarks/bench_startup.py [--runs N]
Writes benchmarks/results/bench_startup.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSK = [sys.executable, "-m", "simsearch", "passk", "--dist", "beta(alpha=0.3, beta=3)",
         "--problems", "1000", "--k", "1,10,100,1000", "--seed", "11", "--no-progress"]
NUMPY_SCRIPT = r"""
import numpy as np
rng = np.random.default_rng(11)
k = np.array([1, 10, 100, 1000])
p = rng.beta(0.3, 3.0, size=1000)
first = rng.geometric(p)
counts = np.bincount(np.searchsorted(k, first), minlength=k.size + 1)
passk = np.cumsum(counts)[:-1] / p.size
print("k,pass_at_k")
for kk, v in zip(k, passk):
    print(f"{kk},{v}")
"""
PEER = [sys.executable, "-c", NUMPY_SCRIPT]
#: numba's own floor: one call of a trivial cached kernel in a fresh process. Importing numba
#: and loading any cached kernel (numba refreshes its typing and target registries on the
#: first load) cost this much whatever the kernel, so no numba program starts faster.
TRIVIAL_KERNEL = """from numba import njit


@njit(cache=True)
def plus_one(x):
    return x + 1.0
"""


def _run(cmd) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process; CPU is what a loaded machine
    inflates least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _slowest_imports(top: int) -> list[tuple[str, float]]:
    err = subprocess.run([sys.executable, "-X", "importtime", *PASSK[1:]], check=True,
                         capture_output=True, text=True, cwd=tempfile.gettempdir()).stderr
    rows = []
    for line in err.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line[len("import time:"):].split("|")
            if not name.startswith("  "):  # top-level imports only: children sum into these
                rows.append((name.strip(), int(cumulative) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    floor_dir = tempfile.mkdtemp(prefix="simsearch-numba-floor-")
    Path(floor_dir, "trivial_kernel.py").write_text(TRIVIAL_KERNEL)
    floor = [sys.executable, "-c", f"import sys; sys.path.insert(0, {floor_dir!r}); "
                                   "import trivial_kernel; trivial_kernel.plus_one(1.0)"]
    _run(PASSK)  # warm the numba caches
    _run(floor)
    ours, peer, numba_floor = [], [], []
    for _ in range(args.runs):
        ours.append(_run(PASSK))
        peer.append(_run(PEER))
        numba_floor.append(_run(floor))
    med = {name: [statistics.median(r[i] for r in runs) for i in (0, 1)]
           for name, runs in (("ours", ours), ("peer", peer), ("floor", numba_floor))}
    ratio = [med["ours"][i] / med["peer"][i] for i in (0, 1)]
    floor_ratio = [med["floor"][i] / med["peer"][i] for i in (0, 1)]
    over_floor = [med["ours"][i] / med["floor"][i] for i in (0, 1)]
    imports = _slowest_imports(8)
    print(f"tiny passk (1000 problems), {args.runs} paired runs, medians (seconds)")
    print(f"  {'':18s} {'wall':>7s} {'CPU':>7s}")
    print(f"  simsearch passk    {med['ours'][0]:7.3f} {med['ours'][1]:7.3f}")
    print(f"  NumPy script       {med['peer'][0]:7.3f} {med['peer'][1]:7.3f}")
    print(f"  numba floor        {med['floor'][0]:7.3f} {med['floor'][1]:7.3f}"
          "   (one call of a trivial cached kernel)")
    print(f"  simsearch / NumPy  {ratio[0]:6.2f}x {ratio[1]:6.2f}x   (bar <= 3x, goal <= 2x)")
    print(f"  floor / NumPy      {floor_ratio[0]:6.2f}x {floor_ratio[1]:6.2f}x")
    print(f"  simsearch / floor  {over_floor[0]:6.2f}x {over_floor[1]:6.2f}x   "
          "(what simsearch adds to numba's start-up)")
    print("slowest top-level imports of passk (cumulative seconds):")
    for name, seconds in imports:
        print(f"  {name:40s} {seconds:.3f}")
    out = {"runs": args.runs, "simsearch_wall_cpu_s": ours, "numpy_wall_cpu_s": peer,
           "numba_floor_wall_cpu_s": numba_floor,
           "ratio_wall": ratio[0], "ratio_cpu": ratio[1],
           "floor_ratio_wall": floor_ratio[0], "floor_ratio_cpu": floor_ratio[1],
           "over_floor_wall": over_floor[0], "over_floor_cpu": over_floor[1],
           "imports": imports, "cores": os.cpu_count(), "python": platform.python_version(),
           "load_average": os.getloadavg()}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_startup.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
