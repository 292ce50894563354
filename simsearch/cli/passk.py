"""``simsearch passk``: simulate aggregate pass@k over many problems."""

from __future__ import annotations

import argparse
import sys

from ..io.output import (check_disk_space, check_distinct, check_writable, manifest,
                         write_with_manifest)
from ..io.tables import check_table_format, csv_text, table_format, table_stream
from ..seeding import CHUNK_SIZE
from .common import int_at_least, set_threads
from .first_run import announce_compiling

#: Bytes per row of the per-problem table (replicate, problem, p, first_success): four 8-byte
#: fields in the binary formats (Parquet compresses, so this bounds it), about 40 characters
#: of CSV. A streamed ``.npz`` spills its columns to temporary files first: twice the room.
_BYTES_PER_ROW = {"npy": 32, "npz": 64, "parquet": 32, "csv": 40}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``passk`` on the CLI's subparsers."""
    passk = subparsers.add_parser(
        "passk", help="simulate aggregate pass@k over many problems",
        description="Simulate repeated sampling: each problem draws p from --dist and one "
                    "geometric first-success time; aggregate pass@k on the --k grid, beside "
                    "the exact expectation.")
    passk.add_argument("--dist", required=True,
                       help='success-probability distribution, e.g. "beta(alpha=0.3, beta=3)"')
    passk.add_argument("--problems", type=int_at_least(1), default=100_000,
                       help="problems per replicate (default 100000)")
    passk.add_argument("--k", default="1,10,100,1000,10000",
                       help='attempt budgets: "1,10,100" or "logspace:1:1e6:25" '
                            '(default 1,10,100,1000,10000)')
    passk.add_argument("--replicates", type=int_at_least(1), default=1,
                       help="independent replicates; adds a replicate column (default 1)")
    passk.add_argument("--seed", type=int_at_least(0), default=None,
                       help="random seed (default: fresh entropy, recorded in the manifest)")
    passk.add_argument("--out", default=None,
                       help="CSV file to write (plus OUT.json manifest); default stdout")
    passk.add_argument("--per-problem", default=None, metavar="PATH",
                       help="also write each problem's p and first-success attempt to PATH "
                            "(plus PATH.json); format by suffix: .npy (one structured array), "
                            ".npz (an array per column), .parquet (needs pyarrow), else CSV")
    passk.add_argument("--overwrite", action="store_true",
                       help="replace existing --out / --per-problem files (default: refuse)")
    passk.add_argument("--threads", type=int_at_least(1), default=None,
                       help="numba threads (default: all cores); results do not depend on it")
    passk.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    passk.set_defaults(run=run)
    return passk


def run(args) -> int:
    # Imported here, not at the top: no other command's parser needs the sampling engine.
    from ..distributions.spec import parse_distribution
    from ..sampling.grid import parse_k_grid
    from ..sampling.passk import runs_interpreted, simulate_pass_at_k, stream_pass_at_k

    dist = parse_distribution(args.dist)
    k_grid = parse_k_grid(args.k)
    outputs = {"out": args.out, "per-problem": args.per_problem}
    for field, path in outputs.items():
        if path is not None:
            check_writable(path, field, overwrite=args.overwrite, with_manifest=True)
    check_distinct(outputs)
    if args.per_problem is not None:
        fmt = check_table_format(args.per_problem, "per-problem")
        check_disk_space(args.per_problem, args.problems * args.replicates
                         * _BYTES_PER_ROW[fmt], "per-problem")
    if runs_interpreted(args.problems * args.replicates):
        # Drawn in plain Python on this thread, numba never loaded (--threads is still
        # checked when given).
        if args.threads is not None:
            set_threads(args.threads)
        threads, kernel = 1, "interpreted"
    else:
        from ..kernels.first_success import first_success_counts

        threads, kernel = set_threads(args.threads), "numba"
        announce_compiling(first_success_counts)
    config = {"dist": dist.spec, "problems": args.problems, "k": [int(k) for k in k_grid],
              "replicates": args.replicates, "seed": args.seed}
    options = dict(replicates=args.replicates, seed=args.seed, progress=not args.no_progress)
    if args.per_problem is None:
        result = simulate_pass_at_k(dist, k_grid, args.problems, **options)
        meta = _manifest(config, result.seed_entropy, threads, kernel, dist)
    else:
        # Streamed: the table is written as the kernel draws it, in memory of one block.
        run = stream_pass_at_k(dist, k_grid, args.problems, **options)
        meta = _manifest(config, run.seed_entropy, threads, kernel, dist)
        write_with_manifest(args.per_problem,
                            table_stream(args.per_problem, run.columns(reuse_buffers=True),
                                         run.n_rows),
                            {**meta, "per_problem_format": table_format(args.per_problem)})
        result = run.result()
    table = csv_text(result.table())
    if args.out is None:
        sys.stdout.write(table)
    else:
        write_with_manifest(args.out, table, meta)
        print(f"wrote {args.out} and {args.out}.json", file=sys.stderr)
    return 0


def _manifest(config: dict, seed_entropy, threads: int, kernel: str, dist) -> dict:
    from ..distributions.spec import input_files_entry

    return manifest("passk", config, seed_entropy, chunk_size=CHUNK_SIZE, threads=threads,
                    kernel=kernel, tail_exponent=dist.tail_exponent, **input_files_entry(dist))
