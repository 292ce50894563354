"""Benchmark: writing big tables (``simsearch passk --per-problem``, ``simsearch labs`` wins),
CSV against binary formats, in one run.

Per-problem tables, before and after:

* ``before``   the old writer, reconstructed here (it is no longer in the package): every cell
               formatted one at a time, rows joined, the whole CSV built as one string, then
               written atomically with its manifest.
* ``csv``      the CSV streamed in chunks of rows with vectorised column formatting.
* ``npy``      one structured array (replicate, problem, p, first_success) streamed in chunks.
* ``npz``      one array per column (``numpy.savez``, uncompressed).
* ``parquet``  Parquet through pyarrow (skipped when pyarrow is absent).

Each writes the same simulated table through the output layer (temporary file, SHA-256,
manifest, rename). Then the whole command, ``simsearch passk --per-problem x.npy`` (and
``x.csv``), is timed end to end in a fresh process (warm numba cache), with its peak memory,
beside its plain peer: a NumPy script that draws the same table (Beta p, one exponential per
first-success time) in chunks and streams it to a ``.npy`` with its SHA-256. The command
streams the table from the kernel block by block, so its memory does not grow with problems.

Labs tables (``simsearch labs --format``): a run with about 1e7 wins (--quick: 1e6; two labs on
an endless stream of ideas, every other attempt a win). Each format builds the wins table (typed
columns for the binary formats) and writes it through the output layer (``write_directory``:
temporary file, SHA-256, manifest, rename), then reads it back with ``read_labs``. CSV is
the writer of the previous release, unchanged.

Run:  python benchmarks/bench_outputs.py [--quick] [--only passk|labs]
      (1e7 problems and 1e7 wins; --quick: 1e6 and 1e6)
Writes benchmarks/results/bench_outputs.json (bench_outputs_labs.json for the labs part)
beside printing a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = "beta(alpha=0.3, beta=3)"


def _before(table) -> str:
    """The old per-problem writer: one string, cell by cell."""
    from simsearch.io.tables import _cell

    names = list(table)
    rows = zip(*(table[n].tolist() for n in names))
    return ",".join(names) + "\n" + "".join(",".join(_cell(v) for v in row) + "\n"
                                             for row in rows)


def _timed(write) -> float:
    start = time.perf_counter()
    write()
    return time.perf_counter() - start


#: The plain peer of ``passk --per-problem x.npy``: the same table, drawn in chunks by NumPy
#: and streamed to a .npy with its SHA-256 (the output layer hashes what it writes too).
NUMPY_STREAM = """
import hashlib, io, sys
import numpy as np
problems, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(1)
dtype = np.dtype([("replicate", "<i8"), ("problem", "<i8"), ("p", "<f8"),
                  ("first_success", "<f8")])
header = io.BytesIO()
np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(dtype),
                                              "fortran_order": False, "shape": (problems,)})
digest = hashlib.sha256(header.getvalue())
with open(path, "wb") as fh:
    fh.write(header.getvalue())
    for start in range(0, problems, 1 << 19):
        n = min(1 << 19, problems - start)
        rows = np.empty(n, dtype=dtype)
        rows["replicate"] = 0
        rows["problem"] = np.arange(start, start + n)
        p = rng.beta(0.3, 3.0, n)
        rows["p"] = p
        with np.errstate(divide="ignore"):
            rows["first_success"] = np.maximum(np.ceil(rng.standard_exponential(n)
                                                       / -np.log1p(-p)), 1.0)
        fh.write(rows)
        digest.update(rows)
print(digest.hexdigest())
"""


def _peak(argv: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Wall time, CPU time and peak resident memory (MiB) of one fresh process (environment
    ``env``, default this one's)."""
    probe = textwrap.dedent("""
        import resource, runpy, sys, time
        argv, start, code = sys.argv[1:], time.perf_counter(), 0
        try:
            if argv[0] == "-c":
                sys.argv = ["-c", *argv[2:]]
                exec(argv[1])
            else:
                sys.argv = argv
                runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            code = exc.code or 0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # VmHWM: this program's own peak (ru_maxrss keeps the parent's from before exec).
        with open("/proc/self/status") as fh:
            peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
        print("PEAK", time.perf_counter() - start, usage.ru_utime + usage.ru_stime, peak,
              file=sys.stderr)
        sys.exit(code)
        """)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", probe, *argv], check=True,
                          capture_output=True, text=True, cwd=cwd, env=env)
    wall = time.perf_counter() - start
    _, _, cpu, rss = proc.stderr.strip().splitlines()[-1].split()
    return {"wall_s": wall, "cpu_s": float(cpu), "peak_rss_mb": int(rss) / 1024}


def _command(problems: int, path: Path) -> dict:
    """Wall time and peak memory of the whole command in a fresh process."""
    return _peak(["simsearch", "passk", "--dist", SPEC, "--problems", str(problems), "--seed",
                  "1", "--per-problem", str(path), "--overwrite", "--no-progress", "--out",
                  str(path.with_name("summary.csv"))], path.parent)


def _numpy_stream(problems: int, path: Path) -> dict:
    return _peak(["-c", NUMPY_STREAM, str(problems), str(path)], path.parent)


def _write_results(name: str, results: dict) -> None:
    """benchmarks/results/NAME with the machine's cores, Python and load average."""
    out = HERE / "results" / name
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**results, "cpu_count": os.cpu_count(),
                               "python": platform.python_version(),
                               "load_average": os.getloadavg()}, indent=2) + "\n")
    print(f"wrote {out}")


def _formats(*binary) -> list[str]:
    try:
        import pyarrow  # noqa: F401
        return ["csv", *binary, "parquet"]
    except ImportError:
        return ["csv", *binary]


def labs_config(wins: int):
    """Two labs on an endless stream of ideas, p = 1/2: about ``wins`` wins in 10 replicates."""
    from simsearch.labs import labs_config as make

    budget = float(wins // 100)  # 2 labs x 10 periods x 10 replicates, a win per 2 attempts
    return make({"seed": 1, "replicates": 10, "periods": 10,
                 "pool": {"ideas": "inf", "difficulty": "point(p=0.5)"},
                 "lab": [{"name": "frontier", "budget": budget},
                         {"name": "academic", "budget": budget}]})


def labs_main(quick: bool) -> None:
    from simsearch.labs import read_labs, simulate_labs
    from simsearch.io.directory import write_directory
    from simsearch.io.tables import table_data

    result = simulate_labs(labs_config(1_000_000 if quick else 10_000_000))
    rows = len(result.wins["lab"])
    timings, sizes, reads = {}, {}, {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        for fmt in _formats("npz"):
            out = Path(tmp) / fmt
            name = f"wins.{fmt}"

            def write():
                columns = result.wins_table(typed=fmt != "csv")
                write_directory(out, {name: table_data(name, columns)},
                                {"command": "labs", "format": fmt})
            timings[fmt] = _timed(write)
            sizes[fmt] = (out / name).stat().st_size
            reads[fmt] = _timed(lambda: read_labs(out).table("wins"))
    print(f"labs wins table, {rows:.3g} rows (one run, same result)")
    print(f"{'format':10s} {'write s':>8s} {'MB':>8s} {'csv/this':>9s} {'read s':>8s}")
    for fmt, seconds in timings.items():
        print(f"{fmt:10s} {seconds:8.2f} {sizes[fmt] / 1e6:8.1f} "
              f"{timings['csv'] / seconds:8.1f}x {reads[fmt]:8.2f}")
    _write_results("bench_outputs_labs.json", {
        "wins": rows, "write_seconds": timings, "bytes": sizes, "read_seconds": reads,
        "csv_over_format": {k: timings["csv"] / v for k, v in timings.items()}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1e6 problems and wins instead of 1e7")
    parser.add_argument("--only", choices=["passk", "labs"], help="run one part")
    args = parser.parse_args()
    if args.only != "passk":
        labs_main(args.quick)
    if args.only == "labs":
        return
    problems = 1_000_000 if args.quick else 10_000_000

    from simsearch import simulate_pass_at_k
    from simsearch.io.output import write_with_manifest
    from simsearch.io.tables import table_data

    result = simulate_pass_at_k(SPEC, [1, 10, 100, 1000, 10000], problems, seed=1,
                                per_problem=True)
    table = result.per_problem_table()
    meta = {"command": "bench_outputs"}
    formats = _formats("npy", "npz")

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
        small = _command(problems // 10, tmp / "small.npy")
        peer = _numpy_stream(problems, tmp / "numpy.npy")

    print(f"--per-problem writers, {problems:.0e} problems (one run, same table)")
    print(f"{'format':10s} {'seconds':>9s} {'MB':>8s} {'before/this':>12s}")
    for name, seconds in timings.items():
        print(f"{name:10s} {seconds:9.2f} {sizes[name] / 1e6:8.1f} "
              f"{timings['before'] / seconds:11.1f}x")
    for fmt, c in command.items():
        print(f"simsearch passk --per-problem x.{fmt}: {c['wall_s']:.2f} s wall, "
              f"{c['cpu_s']:.2f} s CPU, peak {c['peak_rss_mb']:.0f} MB")
    print(f"NumPy streaming the same .npy:        {peer['wall_s']:.2f} s wall, "
          f"{peer['cpu_s']:.2f} s CPU, peak {peer['peak_rss_mb']:.0f} MB")
    ratio = command["npy"]["wall_s"] / peer["wall_s"]
    growth = command["npy"]["peak_rss_mb"] - small["peak_rss_mb"]
    print(f"simsearch / NumPy wall: {ratio:.2f}x (aim <= 1.2x); peak memory at {problems:.0e} "
          f"minus at {problems // 10:.0e} problems: {growth:+.0f} MB (flat: ~0)")
    _write_results("bench_outputs.json", {
        "problems": problems, "write_seconds": timings, "bytes": sizes,
        "speedup_vs_before": {k: timings["before"] / v for k, v in timings.items()},
        "command": command, "command_tenth": small, "numpy_stream": peer,
        "wall_over_numpy": ratio, "peak_growth_mb": growth})


if __name__ == "__main__":
    main()
