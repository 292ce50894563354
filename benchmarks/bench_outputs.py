"""Benchmark: writing ``simsearch passk --per-problem`` tables, before and after, in one run.

* ``before``   the old writer, reconstructed here (it is no longer in the package): every cell
               formatted one at a time, rows joined, the whole CSV built as one string, then
               written atomically with its manifest.
* ``csv``      the CSV streamed in chunks of rows with vectorised column formatting.
* ``npy``      one structured array (replicate, problem, p, first_success) streamed in chunks.
* ``npz``      one array per column (``numpy.savez``, uncompressed).
* ``parquet``  Parquet through pyarrow (skipped when pyarrow is absent).

Each writes the same simulated table through the output layer (temporary file, SHA-256,
manifest, rename). Then the whole command, ``simsearch passk --per-problem x.npy`` (and
``x.csv``), is timed end to end in a fresh process (warm numba cache), with its peak memory.

Run:  python benchmarks/bench_outputs.py [--quick]   (1e7 problems; --quick: 1e6)
Writes benchmarks/results/bench_outputs.json beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = "beta(alpha=0.3, beta=3)"


def _before(table) -> str:
    """The old per-problem writer: one string, cell by cell."""
    from simsearch.output import _cell

    names = list(table)
    rows = zip(*(table[n].tolist() for n in names))
    return ",".join(names) + "\n" + "".join(",".join(_cell(v) for v in row) + "\n"
                                             for row in rows)


def _timed(write) -> float:
    start = time.perf_counter()
    write()
    return time.perf_counter() - start


def _command(problems: int, path: Path) -> dict:
    """Wall time and peak memory of the whole command in a fresh process."""
    argv = [sys.executable, "-m", "simsearch", "passk", "--dist", SPEC, "--problems",
            str(problems), "--seed", "1", "--per-problem", str(path), "--overwrite",
            "--no-progress", "--out", str(path.with_name("summary.csv"))]
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True, cwd=path.parent)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "cpu_s": (after.ru_utime + after.ru_stime)
            - (before.ru_utime + before.ru_stime), "peak_rss_mb_so_far": after.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e6 problems instead of 1e7")
    args = parser.parse_args()
    problems = 1_000_000 if args.quick else 10_000_000

    from simsearch import simulate_pass_at_k
    from simsearch.output import table_data, write_with_manifest

    result = simulate_pass_at_k(SPEC, [1, 10, 100, 1000, 10000], problems, seed=1,
                                per_problem=True)
    table = result.per_problem_table()
    meta = {"command": "bench_outputs"}
    try:
        import pyarrow  # noqa: F401
        formats = ["csv", "npy", "npz", "parquet"]
    except ImportError:
        formats = ["csv", "npy", "npz"]

    timings, sizes = {}, {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        tmp = Path(tmp)
        path = tmp / "before.csv"
        timings["before"] = _timed(lambda: write_with_manifest(path, _before(table), meta))
        sizes["before"] = path.stat().st_size
        for fmt in formats:
            path = tmp / f"pp.{fmt}"
            timings[fmt] = _timed(lambda: write_with_manifest(path, table_data(path, table),
                                                              meta))
            sizes[fmt] = path.stat().st_size
        assert (tmp / "before.csv").read_bytes() == (tmp / "pp.csv").read_bytes()
        # Whole commands; the first run compiles if the cache is cold and is not counted.
        _command(1000, tmp / "warm.npy")
        command = {fmt: _command(problems, tmp / f"cmd.{fmt}") for fmt in ("npy", "csv")}

    print(f"--per-problem writers, {problems:.0e} problems (one run, same table)")
    print(f"{'format':10s} {'seconds':>9s} {'MB':>8s} {'before/this':>12s}")
    for name, seconds in timings.items():
        print(f"{name:10s} {seconds:9.2f} {sizes[name] / 1e6:8.1f} "
              f"{timings['before'] / seconds:11.1f}x")
    for fmt, c in command.items():
        print(f"simsearch passk --per-problem x.{fmt}: {c['wall_s']:.2f} s wall, "
              f"{c['cpu_s']:.2f} s CPU")
    out = HERE / "results" / "bench_outputs.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({
        "problems": problems, "write_seconds": timings, "bytes": sizes,
        "speedup_vs_before": {k: timings["before"] / v for k, v in timings.items()},
        "command": command, "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
