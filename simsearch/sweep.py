"""Parameter sweeps: many simulations over a grid or a random design, resumable and reproducible.

A sweep file (TOML) names a base config, the axes (dotted keys into the config), replicates,
a seed and the statistics to keep. Point i is seeded with ``SeedSequence(seed).spawn(N)[i]``,
so its result never depends on which worker ran it, in what order, or how many there were.

On disk, in the output directory:

* ``points/NNNNNN.csv`` — one file per finished point (its replicate rows), written atomically;
  ``points/NNNNNN.failed.json`` for a point whose parameters were invalid. These are the
  sweep's durable state: a killed sweep keeps every finished point, and ``resume`` runs only
  the missing ones.
* ``results.csv`` — all finished rows sorted by point and replicate, one column per axis and
  per statistic; rebuilt atomically as points arrive and at the end.
* ``manifest.json`` — the sweep file, seed, version, start and end times, per-point status.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import hashlib
import io
import json
import math
import os
import signal
import sys
import threading
import time
import tomllib
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from .distributions import FAMILIES, Mixture
from .errors import SimsearchError, require
from .frames import require_pandas
from .output import (atomic_write_text, check_output_directory, csv_text, manifest,
                     read_manifest, write_directory)
from .runtime import apply_thread_policy

KINDS = ("passk",)
PASSK_STATISTICS = ("exponent", "local_exponent", "tail_exponent")
PASSK_AT_K = ("pass_at_k", "neg_log_pass_at_k", "expected_pass_at_k")
_FLUSH_SECONDS = 2.0
#: Default limit on a sweep's points (``--max-points`` raises it): a typo such as a count of
#: 1e9 is refused at once instead of planning until memory runs out.
MAX_POINTS = 100_000
_CONNECT_SECONDS = 30
_PARENT_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class SweepPlan:
    """Everything that defines a sweep's results (and nothing that does not)."""

    kind: str
    base: dict
    axes: tuple[str, ...]
    points: Sequence[dict]
    replicates: int
    seed: int
    statistics: tuple[str, ...]
    source: str

    @property
    def digest(self) -> str:
        """Fingerprint of the plan; ``resume`` refuses a directory made by another plan."""
        design = (self.points.design if isinstance(self.points, GridPoints)
                  else list(self.points))
        canonical = json.dumps([self.kind, self.base, self.axes, design, self.replicates,
                                self.seed, self.statistics], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


class GridPoints(Sequence):
    """The points of a grid, made on demand: point i is the i-th combination of the axes'
    values in ``itertools.product`` order (last axis fastest), so planning never holds more
    than the axes' values, whatever the number of points."""

    def __init__(self, axes: tuple[str, ...], values: tuple[list, ...]):
        self.axes, self.values = axes, values
        self._len = math.prod(len(v) for v in values)

    @property
    def design(self) -> dict:
        return {"grid": {axis: list(v) for axis, v in zip(self.axes, self.values)}}

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        chosen = []
        for values in reversed(self.values):
            index, r = divmod(index, len(values))
            chosen.append(values[r])
        return dict(zip(self.axes, reversed(chosen)))

    def __eq__(self, other) -> bool:
        return (isinstance(other, GridPoints) and self.axes == other.axes
                and self.values == other.values)

    def __hash__(self) -> int:
        return hash(self.axes)


# --- reading a sweep file ------------------------------------------------------------------


def _axis(name: str, spec, where: str) -> tuple[int, Callable[[], list]]:
    """One grid axis: its number of values, and how to make them (a list, or
    {linspace|logspace = [start, stop, count]}); counted before anything is made."""
    if isinstance(spec, list):
        require(len(spec) > 0, f"{where}: axis {name!r} has no values")
        return len(spec), lambda: spec
    if isinstance(spec, dict):
        forms = [f for f in ("linspace", "logspace") if f in spec]
        extra = set(spec) - {"linspace", "logspace", "round"}
        require(len(forms) == 1 and not extra,
                f"{where}: axis {name!r} must be a list or a table with linspace or logspace "
                f"= [start, stop, count] (and optional round = true)")
        args = spec[forms[0]]
        ok = (isinstance(args, list) and len(args) == 3
              and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      and math.isfinite(v) for v in args)
              and args[2] == int(args[2]) and args[2] >= 1)
        require(ok, f"{where}: axis {name!r}: {forms[0]} needs [start, stop, count] with "
                    f"finite numbers and an integer count >= 1")
        start, stop, count = float(args[0]), float(args[1]), int(args[2])
        if forms[0] == "logspace":
            require(start > 0 and stop > 0, f"{where}: axis {name!r}: logspace needs start "
                                             f"and stop > 0")

        def make() -> list:
            values = (np.geomspace(start, stop, count) if forms[0] == "logspace"
                      else np.linspace(start, stop, count))
            if spec.get("round"):
                return [int(v) for v in np.round(values)]
            return [float(v) for v in values]
        return count, make
    raise SimsearchError(f"{where}: axis {name!r} must be a list or a linspace/logspace table")


def _check_size(points: int, max_points: int, where: str) -> None:
    require(points <= max_points,
            f"{where}: the sweep has {points:,} points, more than the limit of {max_points:,}; "
            f"pass --max-points {points} to run it anyway")


def _random_values(name: str, spec, count: int, rng, where: str) -> list:
    """Random-design values: {uniform|loguniform|integers = [lo, hi]} or {choice = [...]}."""
    require(isinstance(spec, dict) and len(spec) == 1,
            f"{where}: random axis {name!r} must be one of uniform, loguniform, integers "
            f"= [low, high] or choice = [...]")
    (form, args), = spec.items()
    if form == "choice":
        require(isinstance(args, list) and args, f"{where}: {name!r}: choice needs a list")
        return [args[i] for i in rng.integers(0, len(args), count)]
    require(form in ("uniform", "loguniform", "integers") and isinstance(args, list)
            and len(args) == 2 and all(isinstance(v, (int, float)) for v in args)
            and args[0] < args[1],
            f"{where}: random axis {name!r}: {form} needs [low, high] with low < high")
    lo, hi = args
    if form == "integers":
        return [int(v) for v in rng.integers(int(lo), int(hi) + 1, count)]
    if form == "loguniform":
        require(lo > 0, f"{where}: {name!r}: loguniform needs low > 0")
        return [float(v) for v in np.exp(rng.uniform(math.log(lo), math.log(hi), count))]
    return [float(v) for v in rng.uniform(lo, hi, count)]


def _check_statistics(kind: str, statistics, where: str) -> tuple[str, ...]:
    require(isinstance(statistics, list) and statistics and
            all(isinstance(s, str) for s in statistics),
            f"{where}: statistics must be a non-empty list of names")
    for stat in statistics:
        name, _, k = stat.partition("@")
        ok = (name in PASSK_STATISTICS and not k) or (name in PASSK_AT_K and k.isdigit())
        require(ok, f"{where}: unknown statistic {stat!r}; known: "
                    f"{', '.join(PASSK_STATISTICS)}, and {', '.join(PASSK_AT_K)} as NAME@K")
    return tuple(statistics)


def plan_sweep(doc: dict, where: str = "sweep", base_dir: Path = Path("."),
               max_points: int = MAX_POINTS) -> SweepPlan:
    """Turn a parsed sweep document into a :class:`SweepPlan` (see the module docstring).

    A sweep of more than ``max_points`` points is refused before anything is made; grid
    points are made on demand (:class:`GridPoints`).
    """
    known = {"kind", "base", "axes", "random", "replicates", "seed", "statistics"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise SimsearchError(f"{where}: unknown key {unknown[0]!r}; expected "
                             f"{', '.join(sorted(known))}")
    kind = doc.get("kind", "passk")
    require(kind in KINDS, f"{where}: kind must be one of {', '.join(KINDS)} (got {kind!r})")
    base = doc.get("base")
    if isinstance(base, str):
        path = (base_dir / base)
        try:
            base = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SimsearchError(f"{where}: base config {str(path)!r} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SimsearchError(f"{where}: cannot read base config {str(path)!r} "
                                 f"({getattr(exc, 'strerror', None) or 'not a text file'})"
                                 ) from None
        except tomllib.TOMLDecodeError as exc:
            raise SimsearchError(f"{path}: malformed TOML ({exc})") from None
    require(isinstance(base, dict), f"{where}: base must be a table or a path to a TOML file")
    replicates = doc.get("replicates", 1)
    require(isinstance(replicates, int) and replicates >= 1,
            f"{where}: replicates must be an integer >= 1 (got {replicates!r})")
    seed = doc.get("seed", 0)
    require(isinstance(seed, int) and seed >= 0,
            f"{where}: seed must be an integer >= 0 (got {seed!r})")
    statistics = _check_statistics(kind, doc.get("statistics", list(PASSK_STATISTICS)), where)
    grid, random = doc.get("axes"), doc.get("random")
    require((grid is None) != (random is None),
            f"{where}: give exactly one of [axes] (a grid) or [random] (a random design)")
    if grid is not None:
        require(isinstance(grid, dict) and grid, f"{where}: [axes] needs at least one axis")
        axes = tuple(grid)
        forms = [_axis(name, grid[name], where) for name in axes]
        _check_size(math.prod(count for count, _ in forms), max_points, where)
        points = GridPoints(axes, tuple(make() for _, make in forms))
    else:
        count = random.get("count") if isinstance(random, dict) else None
        require(isinstance(count, int) and count >= 1,
                f"{where}: [random] needs count = an integer >= 1")
        axes = tuple(k for k in random if k != "count")
        require(axes, f"{where}: [random] needs at least one axis")
        _check_size(count, max_points, where)
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(count + 1)[-1])
        values = [_random_values(name, random[name], count, rng, where) for name in axes]
        points = tuple(dict(zip(axes, combo)) for combo in zip(*values))
    for name in axes:
        _set_dotted(copy.deepcopy(base), name, None, where)  # the key path must exist
        inner = [other for other in axes if other.startswith(name + ".")]
        if inner:
            raise SimsearchError(f"{where}: axes {name!r} and {inner[0]!r} overlap: one sets a "
                                 f"key inside the other; sweep one of them")
    return SweepPlan(kind, base, axes, points, replicates, seed, statistics, where)


def load_sweep(path: str | os.PathLike, max_points: int = MAX_POINTS) -> SweepPlan:
    """Read and check a sweep file; errors name the file and the key."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SimsearchError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SimsearchError(f"{path}: is a directory; give a sweep file (TOML)") from None
    except OSError as exc:
        raise SimsearchError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise SimsearchError(f"{path}: not a text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SimsearchError(f"{path}: malformed TOML ({exc})") from None
    return plan_sweep(doc, str(path), path.parent, max_points)


def _set_dotted(config: dict, key: str, value, where: str) -> None:
    """Set ``config[a][b]...`` for key ``a.b...``; list items by index (``lab.0.budget``)."""
    parts = key.split(".")
    node = config
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict) and (last or part in node):
            if last:
                node[part] = value
            else:
                node = node[part]
        else:
            hint = (" (give dist as a table, e.g. [base.dist] name = \"beta\", alpha = 0.3, "
                    "to sweep its parameters)" if isinstance(node, str) else "")
            raise SimsearchError(f"{where}: axis {key!r}: the base config has no "
                                 f"{'.'.join(parts[:i + 1])!r}{hint}")


def point_config(plan: SweepPlan, values: dict) -> dict:
    """The base config with one point's axis values set."""
    config = copy.deepcopy(plan.base)
    for key, value in values.items():
        _set_dotted(config, key, value, plan.source)
    return config


# --- evaluating one point ------------------------------------------------------------------


def _passk_distribution(spec):
    if isinstance(spec, str):
        from .spec import parse_distribution
        return parse_distribution(spec)
    require(isinstance(spec, dict) and isinstance(spec.get("name"), str),
            "dist: must be a spec string or a table with name = FAMILY and its parameters")
    params = {k: v for k, v in spec.items() if k != "name"}
    cls = FAMILIES.get(spec["name"])
    require(cls is not None and cls is not Mixture,
            f"dist: unknown family {spec['name']!r} for a table; known: "
            f"{', '.join(sorted(set(FAMILIES) - {'mixture'}))}")
    try:
        return cls(**params)
    except TypeError:
        raise SimsearchError(f"{spec['name']}: parameters {sorted(params)} do not match "
                             f"its signature") from None


def _slope_exponent(k: np.ndarray, pass_at_k: np.ndarray) -> float:
    keep = (pass_at_k > 0) & (pass_at_k < 1)
    if keep.sum() < 2:
        return math.nan
    x, y = np.log(k[keep]), np.log(-np.log(pass_at_k[keep]))
    return float(-np.polyfit(x, y, 1)[0])


def evaluate_passk(config: dict, statistics, replicates: int, seed) -> list[dict]:
    """Run one passk point; one dict of statistics per replicate."""
    from .repeated_sampling import as_k_grid, parse_k_grid, simulate_pass_at_k

    unknown = sorted(set(config) - {"dist", "problems", "k"})
    if unknown:
        raise SimsearchError(f"config: unknown key {unknown[0]!r}; passk takes dist, problems, k")
    require("dist" in config, "config: passk needs dist")
    dist = _passk_distribution(config["dist"])
    k = config.get("k", "1,10,100,1000,10000")
    k_grid = parse_k_grid(k) if isinstance(k, str) else as_k_grid(k)
    res = simulate_pass_at_k(dist, k_grid, config.get("problems", 100_000),
                             replicates=replicates, seed=seed)
    rows = []
    for r in range(replicates):
        row = {}
        for stat in statistics:
            name, _, at = stat.partition("@")
            if name == "exponent":
                row[stat] = _slope_exponent(res.k, res.pass_at_k[r])
            elif name == "local_exponent":
                row[stat] = _slope_exponent(res.k[-2:], res.pass_at_k[r, -2:])
            elif name == "tail_exponent":
                b = dist.tail_exponent
                row[stat] = math.nan if b is None else float(b)
            else:
                where = np.flatnonzero(res.k == int(at))
                require(where.size == 1, f"statistics: {stat}: k = {at} is not on the k grid")
                source = {"pass_at_k": res.pass_at_k[r], "expected_pass_at_k":
                          res.expected_pass_at_k, "neg_log_pass_at_k":
                          res.neg_log_pass_at_k[r]}[name]
                row[stat] = float(source[where[0]])
        rows.append(row)
    return rows


def run_point(kind: str, config: dict, statistics, replicates: int, seed):
    """Worker entry point: ``("done", rows)`` or ``("failed", message)``; never raises for a
    point that cannot run, so one bad point cannot stop a sweep."""
    try:
        with warnings.catch_warnings():
            # A point whose statistic is undefined (no slope to fit) records NaN; numpy's
            # warnings about it would only repeat that on the terminal, once per point.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", np.exceptions.RankWarning)
            return "done", evaluate_passk(config, statistics, replicates, seed)
    except SimsearchError as exc:
        return "failed", " ".join(str(exc).split())
    except Exception as exc:  # noqa: BLE001 - recorded per point, the sweep goes on
        return "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _die_with_parent(parent: int) -> None:
    """End this worker as soon as its parent ends, even by SIGKILL: the kernel's parent-death
    signal on Linux, and everywhere a thread that polls the parent's pid."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the signal was set
        os._exit(1)
    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _worker_init(parent: int) -> None:
    """Set up a worker process: it dies with the sweep, leaves Ctrl-C to the sweep (which
    stops the workers itself), and runs numba on one thread (workers already use every core
    between them; results do not depend on the thread count), with the worker thread policy of
    :mod:`simsearch.runtime` (the OpenMP pool starts at the first parallel call, after this)."""
    import numba

    apply_thread_policy(worker=True)
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    numba.set_num_threads(1)


# --- running -------------------------------------------------------------------------------


class _SweepDirectory:
    """The output directory: per-point files, results.csv and manifest.json.

    Constructing it only checks; nothing is written before :meth:`create`.
    """

    def __init__(self, plan: SweepPlan, out: Path, resume: bool):
        self.plan, self.out = plan, check_output_directory(out, "out")
        self.points_dir = out / "points"
        manifest_path = out / "manifest.json"
        if manifest_path.exists():
            if not resume:
                raise SimsearchError(f"out: {str(out)!r} already holds a sweep; pass --resume "
                                     f"to finish it or choose another directory")
            try:
                previous = json.loads(manifest_path.read_text())
            except (OSError, ValueError):
                raise SimsearchError(f"out: {manifest_path} is unreadable") from None
            if not isinstance(previous, dict) or previous.get("digest") != plan.digest:
                raise SimsearchError(f"out: {str(out)!r} holds a different sweep (its plan does "
                                     f"not match {plan.source}); choose another directory")
        elif out.exists() and any(out.iterdir()) and not resume:
            raise SimsearchError(f"out: {str(out)!r} exists and is not empty")
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def create(self) -> None:
        self.points_dir.mkdir(parents=True, exist_ok=True)

    def _path(self, index: int, failed: bool = False) -> Path:
        return self.points_dir / (f"{index:06d}.failed.json" if failed else f"{index:06d}.csv")

    def finished(self) -> dict[int, str]:
        """Index -> "done" or "failed" for every point already on disk."""
        status = {}
        try:
            names = os.listdir(self.points_dir)
        except FileNotFoundError:
            return status
        n = len(self.plan.points)
        for name in names:
            stem, dot, suffix = name.partition(".")
            if not stem.isdigit() or int(stem) >= n or len(stem) < 6:
                continue
            if suffix == "csv":
                status[int(stem)] = "done"
            elif suffix == "failed.json":
                status.setdefault(int(stem), "failed")
        return status

    def record(self, index: int, outcome: str, payload) -> None:
        if outcome == "done":
            values = self.plan.points[index]
            columns = {"point": [index] * len(payload),
                       "replicate": list(range(len(payload)))}
            for axis in self.plan.axes:
                columns[axis] = [values[axis]] * len(payload)
            for stat in self.plan.statistics:
                columns[stat] = [row[stat] for row in payload]
            atomic_write_text(self._path(index), csv_text(columns))
        else:
            atomic_write_text(self._path(index, failed=True),
                              json.dumps({"point": index, "message": payload}) + "\n")

    def flush(self, ended: bool = False) -> dict[int, str]:
        """Rebuild results.csv and manifest.json from the per-point files."""
        status = self.finished()
        header, body = None, io.StringIO()
        for i in sorted(i for i, s in status.items() if s == "done"):
            lines = self._path(i).read_text().splitlines(keepends=True)
            header = header or lines[0]
            body.writelines(lines[1:])
        if header is None:
            header = ",".join(["point", "replicate", *self.plan.axes,
                               *self.plan.statistics]) + "\n"
        points = []
        for i, values in enumerate(self.plan.points):
            entry = {"point": i, "values": values, "status": status.get(i, "pending")}
            if entry["status"] == "failed":
                entry["message"] = json.loads(self._path(i, True).read_text())["message"]
            points.append(entry)
        meta = manifest("sweep", {"kind": self.plan.kind, "base": self.plan.base,
                                  "axes": list(self.plan.axes),
                                  "replicates": self.plan.replicates,
                                  "statistics": list(self.plan.statistics)},
                        self.plan.seed, sweep_file=self.plan.source, digest=self.plan.digest,
                        seed=self.plan.seed, started=self.started,
                        ended=(datetime.now(timezone.utc).isoformat(timespec="seconds")
                               if ended else None),
                        points=points)
        # results.csv and manifest.json replaced as a pair; the manifest holds its SHA-256.
        write_directory(self.out, {"results.csv": header + body.getvalue()}, meta)
        return status


class SweepAborted(RuntimeError):
    """The sweep stopped before every point ran (a worker died); finished points are kept."""


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep did, and where its results are.

    Attributes
    ----------
    points, done, failed : int
        Points in the plan, finished, and failed (their messages are in the manifest).
    ran : int
        Points run by this call (the rest were on disk already).
    out : pathlib.Path
        The output directory (``results.csv``, ``manifest.json``, ``points/``).
    """

    points: int
    done: int
    failed: int
    ran: int
    out: Path

    @classmethod
    def read(cls, out: str | os.PathLike) -> "SweepSummary":
        """The summary of the sweep in directory ``out`` (``ran`` is 0), from its manifest."""
        meta = read_manifest(Path(out))
        status = [point.get("status") for point in meta.get("points", [])]
        return cls(len(status), status.count("done"), status.count("failed"), 0, Path(out))

    def to_pandas(self):
        """``results.csv`` as a pandas DataFrame: one row per finished point and replicate,
        columns ``point``, ``replicate``, one per axis and one per statistic.

        The file is checked against the SHA-256 in its manifest first. pandas is optional
        (``pip install pandas``).
        """
        pandas = require_pandas()
        read_manifest(self.out)
        return pandas.read_csv(self.out / "results.csv")


def _tasks(plan: SweepPlan, todo):
    """(index, run_point arguments) for each point in ``todo``, made as they are consumed.

    Point i's seed is ``SeedSequence(seed).spawn(N)[i]``, built directly from its spawn key.
    """
    for i in todo:
        seed = np.random.SeedSequence(plan.seed, spawn_key=(i,))
        yield i, (plan.kind, point_config(plan, plan.points[i]), plan.statistics,
                  plan.replicates, seed)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes now rather than wait for their points to finish."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.join(timeout=1.0)


def _local_results(tasks, workers: int):
    if workers <= 1:
        for index, args in tasks:
            yield index, run_point(*args)
        return
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    pending: dict = {}
    tasks = iter(tasks)

    def submit() -> None:
        # A few points per worker in flight: memory stays flat however many points there are.
        while len(pending) < 2 * workers:
            item = next(tasks, None)
            if item is None:
                return
            index, args = item
            pending[pool.submit(run_point, *args)] = index

    try:
        submit()
        while pending:
            # Short waits keep Ctrl-C and SIGTERM prompt.
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                yield index, future.result()
            submit()
    except BrokenProcessPool:  # from result() or from submit(), whichever sees it first
        _stop_workers(pool)
        raise SweepAborted("a worker process died; every finished point is kept: run again "
                           "with --resume to finish") from None
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def _dask_client(address: str):
    """Connect to the scheduler (before anything is written)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise SimsearchError("scheduler: running on a Dask cluster needs the dask extra: "
                             "pip install 'simsearch[dask]'") from None
    try:
        return Client(address, timeout=_CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SimsearchError(f"scheduler: cannot reach {address!r} "
                             f"({' '.join(str(exc).split())})") from None


def _dask_results(tasks, client):
    from dask.distributed import as_completed as dask_completed

    with client:
        futures = {client.submit(run_point, *args, pure=False): index for index, args in tasks}
        for future in dask_completed(futures):
            yield futures[future], future.result()


def run_sweep(plan: SweepPlan, out: str | os.PathLike, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False,
              progress: bool = False) -> SweepSummary:
    """Run (or, with ``resume``, finish) a sweep into directory ``out``.

    Parameters
    ----------
    plan : SweepPlan
        From :func:`load_sweep` or :func:`plan_sweep`.
    out : path
        Output directory (created).
    workers : int, optional
        Local processes (default: the number of cores; 1 runs in this process). They end with
        the sweep, however it ends.
    scheduler : str, optional
        Address of a Dask distributed scheduler, e.g. ``tcp://host:8786``; replaces the
        local processes. It is reached before anything is written.
    resume : bool
        Continue a sweep in ``out``, running only the points not yet on disk.
    progress : bool
        tqdm bar over points with rate and ETA.

    Returns
    -------
    SweepSummary
        A point that raised is counted in ``failed``, with its message in the manifest.
    """
    directory = _SweepDirectory(plan, Path(out), resume)
    client = _dask_client(scheduler) if scheduler else None
    directory.create()
    before = directory.finished()
    todo = [i for i in range(len(plan.points)) if i not in before]
    tasks = _tasks(plan, todo)
    if workers is None:
        workers = os.cpu_count() or 1
    results = _dask_results(tasks, client) if client else _local_results(tasks, workers)
    directory.flush()
    last = time.monotonic()
    try:
        with tqdm(total=len(plan.points), initial=len(before), unit="point", desc="sweep",
                  disable=None if progress else True) as bar:
            for index, (outcome, payload) in results:
                directory.record(index, outcome, payload)
                bar.update(1)
                if time.monotonic() - last > _FLUSH_SECONDS:
                    directory.flush()
                    last = time.monotonic()
    finally:
        results.close()
        status = directory.flush(ended=True)
    done = sum(s == "done" for s in status.values())
    return SweepSummary(len(plan.points), done, len(status) - done, len(todo), Path(out))
