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

import copy
import hashlib
import io
import itertools
import json
import math
import os
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .distributions import FAMILIES, Mixture
from .errors import SimsearchError, require
from .output import atomic_write_text, csv_text, manifest

KINDS = ("passk",)
PASSK_STATISTICS = ("exponent", "local_exponent", "tail_exponent")
PASSK_AT_K = ("pass_at_k", "neg_log_pass_at_k", "expected_pass_at_k")
_FLUSH_SECONDS = 2.0


@dataclass(frozen=True)
class SweepPlan:
    """Everything that defines a sweep's results (and nothing that does not)."""

    kind: str
    base: dict
    axes: tuple[str, ...]
    points: tuple[dict, ...]
    replicates: int
    seed: int
    statistics: tuple[str, ...]
    source: str

    @property
    def digest(self) -> str:
        """Fingerprint of the plan; ``resume`` refuses a directory made by another plan."""
        canonical = json.dumps([self.kind, self.base, self.axes, self.points, self.replicates,
                                self.seed, self.statistics], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- reading a sweep file ------------------------------------------------------------------


def _axis_values(name: str, spec, where: str) -> list:
    """Grid values of one axis: a list, or {linspace|logspace = [start, stop, count]}."""
    if isinstance(spec, list):
        require(len(spec) > 0, f"{where}: axis {name!r} has no values")
        return spec
    if isinstance(spec, dict):
        forms = [f for f in ("linspace", "logspace") if f in spec]
        extra = set(spec) - {"linspace", "logspace", "round"}
        require(len(forms) == 1 and not extra,
                f"{where}: axis {name!r} must be a list or a table with linspace or logspace "
                f"= [start, stop, count] (and optional round = true)")
        args = spec[forms[0]]
        ok = (isinstance(args, list) and len(args) == 3
              and all(isinstance(v, (int, float)) for v in args)
              and args[2] == int(args[2]) and args[2] >= 1)
        require(ok, f"{where}: axis {name!r}: {forms[0]} needs [start, stop, count]")
        start, stop, count = float(args[0]), float(args[1]), int(args[2])
        if forms[0] == "logspace":
            require(start > 0 and stop > 0, f"{where}: axis {name!r}: logspace needs start "
                                             f"and stop > 0")
            values = np.geomspace(start, stop, count)
        else:
            values = np.linspace(start, stop, count)
        if spec.get("round"):
            return [int(v) for v in np.round(values)]
        return [float(v) for v in values]
    raise SimsearchError(f"{where}: axis {name!r} must be a list or a linspace/logspace table")


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


def plan_sweep(doc: dict, where: str = "sweep", base_dir: Path = Path(".")) -> SweepPlan:
    """Turn a parsed sweep document into a :class:`SweepPlan` (see the module docstring)."""
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
        values = [_axis_values(name, grid[name], where) for name in axes]
        points = tuple(dict(zip(axes, combo)) for combo in itertools.product(*values))
    else:
        count = random.get("count") if isinstance(random, dict) else None
        require(isinstance(count, int) and count >= 1,
                f"{where}: [random] needs count = an integer >= 1")
        axes = tuple(k for k in random if k != "count")
        require(axes, f"{where}: [random] needs at least one axis")
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(count + 1)[-1])
        values = [_random_values(name, random[name], count, rng, where) for name in axes]
        points = tuple(dict(zip(axes, combo)) for combo in zip(*values))
    for name in axes:
        _set_dotted(copy.deepcopy(base), name, None, where)  # the key path must exist
    return SweepPlan(kind, base, axes, points, replicates, seed, statistics, where)


def load_sweep(path: str | os.PathLike) -> SweepPlan:
    """Read and check a sweep file; errors name the file and the key."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SimsearchError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SimsearchError(f"{path}: not a text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SimsearchError(f"{path}: malformed TOML ({exc})") from None
    return plan_sweep(doc, str(path), path.parent)


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
    """Worker entry point: ``("done", rows)`` or ``("failed", message)``; never raises for
    invalid parameters, so one bad point cannot stop a sweep."""
    try:
        return "done", evaluate_passk(config, statistics, replicates, seed)
    except SimsearchError as exc:
        return "failed", str(exc)


def _single_threaded_worker() -> None:
    # Workers already use every core between them; numba threads inside each would
    # oversubscribe. (Results do not depend on the thread count.)
    import numba
    numba.set_num_threads(1)


# --- running -------------------------------------------------------------------------------


class _SweepDirectory:
    """The output directory: per-point files, results.csv and manifest.json."""

    def __init__(self, plan: SweepPlan, out: Path, resume: bool):
        self.plan, self.out = plan, out
        self.points_dir = out / "points"
        manifest_path = out / "manifest.json"
        if manifest_path.exists():
            if not resume:
                raise SimsearchError(f"out: {str(out)!r} already holds a sweep; pass --resume "
                                     f"to finish it or choose another directory")
            try:
                previous = json.loads(manifest_path.read_text())
            except (OSError, json.JSONDecodeError):
                raise SimsearchError(f"out: {manifest_path} is unreadable") from None
            if previous.get("digest") != plan.digest:
                raise SimsearchError(f"out: {str(out)!r} holds a different sweep (its plan does "
                                     f"not match {plan.source}); choose another directory")
        elif out.exists() and any(out.iterdir()) and not resume:
            raise SimsearchError(f"out: {str(out)!r} exists and is not empty")
        self.points_dir.mkdir(parents=True, exist_ok=True)
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def _path(self, index: int, failed: bool = False) -> Path:
        return self.points_dir / (f"{index:06d}.failed.json" if failed else f"{index:06d}.csv")

    def finished(self) -> dict[int, str]:
        """Index -> "done" or "failed" for every point already on disk."""
        status = {}
        for i in range(len(self.plan.points)):
            if self._path(i).exists():
                status[i] = "done"
            elif self._path(i, failed=True).exists():
                status[i] = "failed"
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
        atomic_write_text(self.out / "results.csv", header + body.getvalue())
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
        atomic_write_text(self.out / "manifest.json", json.dumps(meta, indent=2) + "\n")
        return status


class SweepAborted(RuntimeError):
    """The sweep stopped before every point ran (a worker died); finished points are kept."""


@dataclass(frozen=True)
class SweepSummary:
    points: int
    done: int
    failed: int
    ran: int
    out: Path


def _tasks(plan: SweepPlan, todo):
    seeds = np.random.SeedSequence(plan.seed).spawn(len(plan.points))
    return [(i, (plan.kind, point_config(plan, plan.points[i]), plan.statistics,
                 plan.replicates, seeds[i])) for i in todo]


def _local_results(tasks, workers: int):
    if workers <= 1:
        for index, args in tasks:
            yield index, run_point(*args)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                             initializer=_single_threaded_worker) as pool:
        futures = {pool.submit(run_point, *args): index for index, args in tasks}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BrokenProcessPool:
            raise SweepAborted("a worker process died; every finished point is kept: run "
                               "again with --resume to finish") from None
        finally:
            for future in futures:
                future.cancel()


def _dask_results(tasks, address: str):
    try:
        from dask.distributed import Client, as_completed as dask_completed
    except ImportError:
        raise SimsearchError("scheduler: running on a Dask cluster needs the dask extra: "
                             "pip install 'simsearch[dask]'") from None
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise SimsearchError(f"scheduler: cannot reach {address!r} ({exc})") from None
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
        Local processes (default: the number of cores; 1 runs in this process).
    scheduler : str, optional
        Address of a Dask distributed scheduler, e.g. ``tcp://host:8786``; replaces the
        local processes.
    resume : bool
        Continue a sweep in ``out``, running only the points not yet on disk.
    progress : bool
        tqdm bar over points with rate and ETA.
    """
    directory = _SweepDirectory(plan, Path(out), resume)
    before = directory.finished()
    todo = [i for i in range(len(plan.points)) if i not in before]
    tasks = _tasks(plan, todo)
    if workers is None:
        workers = os.cpu_count() or 1
    results = (_dask_results(tasks, scheduler) if scheduler
               else _local_results(tasks, workers))
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
        status = directory.flush(ended=True)
    done = sum(s == "done" for s in status.values())
    return SweepSummary(len(plan.points), done, len(status) - done, len(todo), Path(out))
