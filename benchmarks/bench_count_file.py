"""Benchmark: reading a counts CSV by group (``CountFile``) against pandas, in the same process.

A file as evaluation harnesses write it: ``model,problem,successes,attempts``, 10 models x 10^5
problems (10^6 rows). simsearch reads it once with Python's csv module (every cell checked;
an error names its line) and splits it into per-model integer arrays; the peer is
``pandas.read_csv`` (C parser, no line-level checks) and a ``groupby`` into the same arrays.
Both produce the same arrays (checked). Median of paired runs.

Run:  python benchmarks/bench_count_file.py [--models N] [--problems N] [--runs N]
Writes benchmarks/results/bench_count_file.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simsearch.fitting.count_files import CountFile

HERE = Path(__file__).resolve().parent


def write_file(path: Path, models: int, problems: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        fh.write("model,problem,successes,attempts\n")
        for m in range(models):
            c = rng.binomial(100, rng.beta(0.3, 3.0, problems))
            fh.write("".join(f"m{m},q{i},{c[i]},100\n" for i in range(problems)))


def simsearch_read(path: Path) -> dict:
    return CountFile(path, columns=("model",), optional=("problem",)).groups("model")


def pandas_read(path: Path) -> dict:
    frame = pd.read_csv(path)
    return {name: (g["successes"].to_numpy(np.int64), g["attempts"].to_numpy(np.int64))
            for name, g in frame.groupby("model", sort=False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counts.csv"
        write_file(path, args.models, args.problems)
        ours, peer = simsearch_read(path), pandas_read(path)
        assert list(ours) == list(peer) and all(
            np.array_equal(ours[g][0], peer[g][0]) and np.array_equal(ours[g][1], peer[g][1])
            for g in ours), "the two readers must give the same counts"
        times = {"simsearch": [], "pandas": []}
        for _ in range(args.runs):
            for name, read in (("simsearch", simsearch_read), ("pandas", pandas_read)):
                t0 = time.perf_counter()
                read(path)
                times[name].append(time.perf_counter() - t0)
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["simsearch"] / median["pandas"]
    rows = args.models * args.problems
    print(f"{rows:,} rows ({args.models} models x {args.problems:,} problems), "
          f"median of {args.runs}")
    print(f"{'reader':12s} {'seconds':>8s} {'vs pandas':>10s}")
    print(f"{'simsearch':12s} {median['simsearch']:8.2f} {ratio:9.2f}x")
    print(f"{'pandas':12s} {median['pandas']:8.2f} {1.0:9.2f}x")
    out = HERE / "results" / "bench_count_file.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "models": args.models, "problems": args.problems,
                               "seconds": times, "median": median, "ratio": ratio,
                               "machine": platform.platform(), "cpus": os.cpu_count()},
                              indent=2) + "\n")


if __name__ == "__main__":
    main()
