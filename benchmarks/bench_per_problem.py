"""Benchmark: the whole ``simsearch passk --per-problem`` against a plain NumPy peer, in one run.

The peer is a NumPy script that draws the same kind of table (p ~ Beta(0.3, 3), one exponential
per first-success time) chunk by chunk and streams it to a ``.npy`` (header, then chunks of the
structured array) with its SHA-256: what the command does, without simsearch. Each command runs
in a fresh process (warm numba cache) and reports wall time, CPU time (user + system) and peak
resident memory (VmHWM). The ``.npy`` command and its peer run in alternating pairs
(``--repeats``, medians), so both see the same machine load; the other formats run once. The
same command at 1,000 problems gives the memory of simsearch itself (numba and its LLVM
libraries, loaded kernels): what the table adds is the peak minus that.

``--before DIR`` also runs the ``.npy`` command from another checkout (``PYTHONPATH=DIR``) in
each pair, e.g. the main checkout before a change.

Run:  python benchmarks/bench_per_problem.py [--problems N] [--repeats R] [--before DIR]
      [--formats npy,parquet,npz,csv]
Writes benchmarks/results/bench_per_problem.json (cores, Python, load average) beside printing
a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_outputs import NUMPY_STREAM, SPEC, _peak, _write_results  # noqa: E402


def _command(problems: int, path: Path, checkout: str | None = None) -> dict:
    argv = ["simsearch", "passk", "--dist", SPEC, "--problems", str(problems), "--seed", "1",
            "--per-problem", str(path), "--overwrite", "--no-progress", "--out",
            str(path.with_name(path.name + ".summary.csv"))]
    env = None if checkout is None else {**os.environ, "PYTHONPATH": checkout}
    result = _peak(argv, path.parent, env=env)
    path.unlink()
    return result


def _peer(problems: int, path: Path) -> dict:
    result = _peak(["-c", NUMPY_STREAM, str(problems), str(path)], path.parent)
    path.unlink()
    return result


def _median(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="pairs of .npy runs (median)")
    parser.add_argument("--formats", default="parquet,npz,csv",
                        help="other formats, run once each (default parquet,npz,csv)")
    parser.add_argument("--before", default=None, metavar="DIR",
                        help="also run the .npy command from this checkout")
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    checkout = str(Path(__file__).resolve().parent.parent)
    runs: dict[str, list[dict]] = {"numpy": [], "npy": []}
    if args.before:
        runs["before_npy"] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        tmp = Path(tmp)
        # A first run compiles when the cache is cold; it is not counted.
        _command(1000, tmp / "warm.npy", checkout)
        if args.before:
            _command(1000, tmp / "warm.npy", args.before)
        baseline = _command(1000, tmp / "base.npy", checkout)
        for _ in range(args.repeats):
            runs["numpy"].append(_peer(args.problems, tmp / "numpy.npy"))
            runs["npy"].append(_command(args.problems, tmp / "x.npy", checkout))
            if args.before:
                runs["before_npy"].append(_command(args.problems, tmp / "b.npy", args.before))
        for fmt in formats:
            runs[fmt] = [_command(args.problems, tmp / f"x.{fmt}", checkout)]
    median = {name: _median(r) for name, r in runs.items()}
    peer = median["numpy"]
    print(f"--per-problem, {args.problems:.0e} problems; .npy and the NumPy peer: median of "
          f"{args.repeats} pairs; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"{'command':22s} {'wall s':>7s} {'CPU s':>7s} {'peak MiB':>9s} {'table MiB':>10s} "
          f"{'wall/NumPy':>11s} {'CPU/NumPy':>10s}")
    for name, m in median.items():
        table = m["peak_rss_mb"] - (baseline["peak_rss_mb"] if name != "numpy" else 0.0)
        print(f"{name:22s} {m['wall_s']:7.2f} {m['cpu_s']:7.2f} {m['peak_rss_mb']:9.0f} "
              f"{table if name != 'numpy' else float('nan'):10.0f} "
              f"{m['wall_s'] / peer['wall_s']:10.2f}x {m['cpu_s'] / peer['cpu_s']:9.2f}x")
    print(f"simsearch at 1000 problems (numba, LLVM, kernels): {baseline['peak_rss_mb']:.0f} MiB "
          f"peak, {baseline['cpu_s']:.2f} s CPU")
    _write_results("bench_per_problem.json", {
        "problems": args.problems, "repeats": args.repeats, "runs": runs, "median": median,
        "baseline_1000_problems": baseline,
        "wall_over_numpy": {n: m["wall_s"] / peer["wall_s"] for n, m in median.items()},
        "cpu_over_numpy": {n: m["cpu_s"] / peer["cpu_s"] for n, m in median.items()},
        "table_mib": {n: m["peak_rss_mb"] - baseline["peak_rss_mb"]
                      for n, m in median.items() if n != "numpy"}})


if __name__ == "__main__":
    main()
