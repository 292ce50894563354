"""Running a sweep: per-point seeds, local processes or Dask, resume, and the output directory.

Point i is seeded with ``SeedSequence(seed).spawn(N)[i]``, so its result never depends on which
worker ran it, in what order, or how many there were. The directory's layout is described in
:mod:`simsearch.sweep`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing.connection import Connection, wait
from pathlib import Path

import numpy as np

from ..errors import SimsearchError
from ..io.frames import require_pandas
from ..io.directory import check_output_directory, update_directory
from ..io.output import manifest, read_manifest
from ..io.tables import csv_text
from ..runtime import progress_bar
from ..seeding import child
from .kinds import get_kind
from .plan import SweepPlan, point_config
from .report import sensitivity_table, summary_table
from .worker import READY, run_point, worker_command

#: The tables are rebuilt this often while a sweep runs, and at least ten times as long apart
#: as the last rebuild took: rebuilding is linear in the points finished, so a fixed interval
#: would make a long sweep quadratic.
_FLUSH_SECONDS = 2.0
_FLUSH_SHARE = 10.0
_CONNECT_SECONDS = 30
#: A TCP scheduler address is probed this long first, so that a wrong port or host is reported
#: at once instead of after Dask's whole connect timeout.
_PROBE_SECONDS = 5.0


# --- running -------------------------------------------------------------------------------


class _SweepDirectory:
    """The output directory: per-point files, results.csv and manifest.json.

    Constructing it only checks; nothing is written before :meth:`create`.
    """

    def __init__(self, plan: SweepPlan, out: Path, resume: bool):
        self.plan, self.out = plan, check_output_directory(out, "out", parents=True)
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
        # (index, point table?) -> a point file's rows without its header: what this process
        # wrote, or read once, so rebuilding the tables reads no file twice.
        self._rows: dict[tuple[int, bool], str] = {}
        kind = get_kind(plan.kind)
        self.row_keys = tuple(kind.ROW_KEYS)
        self.point_columns = tuple(kind.point_statistics(plan.statistics))
        self.replicate_statistics = tuple(s for s in plan.statistics
                                          if s not in self.point_columns)

    def create(self) -> None:
        self.points_dir.mkdir(parents=True, exist_ok=True)

    def _write(self, path: Path, text: str) -> None:
        """A point's file: written beside it and renamed into place, so a killed sweep leaves
        it whole or absent. Not fsynced, unlike the tables (an fsync costs milliseconds, more
        than a small point): a file cut short by a crash of the machine is caught by
        :meth:`repair` and its point run again."""
        tmp = path.with_name(f".{path.name}.tmp")  # only this process writes points
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:  # Ctrl-C included: no temporary is left behind
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _whole(self, index: int, point: bool) -> bool:
        """Is the point's file whole? Its rows are kept for the tables if so."""
        try:
            text = self._path(index, point=point).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        head, _, rows = text.partition("\n")
        if not text.endswith("\n") or head != ",".join(self._header(point)):
            return False
        self._rows[index, point] = rows
        return True

    def repair(self) -> None:
        """Before resuming: a point whose files are not whole (a machine crash after their
        rename, before the data reached the disk) is removed, to be run again."""
        for index, state in self.finished().items():
            tables = (False, True) if self.point_columns else (False,)
            if state == "done" and not all(self._whole(index, point) for point in tables):
                for point in tables:
                    self._rows.pop((index, point), None)
                    with contextlib.suppress(FileNotFoundError):
                        self._path(index, point=point).unlink()
            if state == "failed":
                try:
                    json.loads(self._path(index, failed=True).read_text())
                except (OSError, ValueError):
                    self._path(index, failed=True).unlink()

    def _header(self, point: bool) -> list[str]:
        if point:
            return ["point", *self.plan.axes, *self.point_columns]
        return ["point", "replicate", *self.row_keys, *self.plan.axes,
                *self.replicate_statistics]

    def _path(self, index: int, failed: bool = False, point: bool = False) -> Path:
        suffix = "failed.json" if failed else "point.csv" if point else "csv"
        return self.points_dir / f"{index:06d}.{suffix}"

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
        """Write a point's files; ``NNNNNN.csv`` last, as it is what marks the point done."""
        if outcome != "done":
            self._write(self._path(index, failed=True),
                              json.dumps({"point": index, "message": payload}) + "\n")
            return
        values = self.plan.points[index]
        if self.point_columns:
            columns = {"point": [index], **{axis: [values[axis]] for axis in self.plan.axes},
                       **{c: [payload.point[c]] for c in self.point_columns}}
            self._write_rows(index, True, csv_text(columns))
        rows = payload.rows
        columns = {"point": [index] * len(rows), "replicate": [row["replicate"] for row in rows],
                   **{key: [row[key] for row in rows] for key in self.row_keys}}
        for axis in self.plan.axes:
            columns[axis] = [values[axis]] * len(rows)
        for stat in self.replicate_statistics:
            columns[stat] = [row[stat] for row in rows]
        self._write_rows(index, False, csv_text(columns))

    def _write_rows(self, index: int, point: bool, text: str) -> None:
        self._write(self._path(index, point=point), text)
        self._rows[index, point] = text.partition("\n")[2]

    def _table(self, done: list[int], point: bool, header: list[str]) -> str:
        """The per-point files of ``done`` points as one CSV (their header once)."""
        body = []
        for i in done:
            rows = self._rows.get((i, point))
            if rows is None:  # a point of an earlier run, resumed: its file is read once
                rows = self._rows[i, point] = (
                    self._path(i, point=point).read_text().partition("\n")[2])
            body.append(rows)
        return ",".join(header) + "\n" + "".join(body)

    def flush(self, ended: bool = False) -> dict[int, str]:
        """Rebuild results.csv (points.csv) and manifest.json from the per-point files; at the
        end, summary.csv (and sensitivity.csv for a random design) too."""
        status = self.finished()
        done = sorted(i for i, s in status.items() if s == "done")
        files = {"results.csv": self._table(done, False, self._header(False))}
        if self.point_columns:
            files["points.csv"] = self._table(done, True, self._header(True))
        if ended:
            tables = [(files["results.csv"], self.replicate_statistics, self.row_keys)]
            if self.point_columns:
                estimates = [c for c in self.point_columns if not c.endswith(("_low", "_high"))]
                tables.append((files["points.csv"], estimates, ()))
            files["summary.csv"] = csv_text(summary_table(tables, self.row_keys))
            if self.plan.random:
                files["sensitivity.csv"] = csv_text(sensitivity_table(tables, self.plan.axes,
                                                                      self.row_keys))
        points = []
        for i, values in enumerate(self.plan.points):
            entry = {"point": i, "values": values, "status": status.get(i, "pending")}
            if entry["status"] == "failed":
                entry["message"] = json.loads(self._path(i, True).read_text())["message"]
            points.append(entry)
        meta = manifest("sweep", {"kind": self.plan.kind, "base": self.plan.base,
                                  "axes": list(self.plan.axes),
                                  "replicates": self.plan.replicates,
                                  "statistics": list(self.plan.statistics),
                                  **({"options": self.plan.options} if self.plan.options
                                     else {})},
                        self.plan.seed, sweep_file=self.plan.source, digest=self.plan.digest,
                        seed=self.plan.seed, started=self.started,
                        ended=(datetime.now(timezone.utc).isoformat(timespec="seconds")
                               if ended else None),
                        points=points)
        # The tables and manifest.json replaced together; the manifest holds their SHA-256.
        update_directory(self.out, files, meta)
        return status


class IncompleteSweepWarning(UserWarning):
    """A sweep's table read before every point finished: it holds only the finished points."""


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

    def to_pandas(self, table: str = "results"):
        """One of the sweep's tables as a pandas DataFrame.

        Parameters
        ----------
        table : {"results", "points", "summary", "sensitivity"}
            ``results.csv`` (default): one row per finished point and replicate (and lab, for
            labs), columns ``point``, ``replicate``, the kind's row keys, one per axis and one
            per statistic; ``points.csv`` (point-level statistics), ``summary.csv`` or
            ``sensitivity.csv`` (see :mod:`simsearch.sweep`).

        The files are checked against the SHA-256 in the manifest first. pandas is optional
        (``pip install pandas``).
        """
        pandas = require_pandas()
        files = read_manifest(self.out).get("files", {})
        name = f"{table}.csv"
        if name not in files:
            raise SimsearchError(f"table: {self.out} has no {name} (it has "
                                 f"{', '.join(sorted(files))})")
        pending = self.points - self.done - self.failed
        if self.done < self.points:
            warnings.warn(
                f"{self.out}: {self.points - self.done} of {self.points} points have no rows "
                f"in {name}: {pending} not run (finish with --resume), {self.failed} failed "
                f"(their messages are in manifest.json)", IncompleteSweepWarning, stacklevel=2)
        return pandas.read_csv(self.out / name)


def _tasks(plan: SweepPlan, todo):
    """(index, run_point arguments) for each point in ``todo``, made as they are consumed.

    Point i's seed is ``child(SeedSequence(seed), i)``: ``SeedSequence(seed).spawn(N)[i]``.
    """
    root = np.random.SeedSequence(plan.seed)
    for i in todo:
        seed = child(root, i)
        yield i, (plan.kind, point_config(plan, plan.points[i]), plan.statistics,
                  plan.replicates, seed, plan.options)


#: The most points sent to a worker in one message.
_MAX_BATCH = 32
#: How long a worker told to stop may take to exit before it is killed.
_EXIT_SECONDS = 5.0


def batch_size(points: int, workers: int) -> int:
    """Points per message to a worker: about four batches per worker, so that the last ones
    even out the workers' loads, and at most :data:`_MAX_BATCH`. A batch saves messages, not
    resume granularity: a worker reports each point as soon as it is done."""
    return max(1, min(_MAX_BATCH, math.ceil(points / (4 * workers))))


class _Worker:
    """A worker process (:mod:`simsearch.sweep.worker`) and this process's end of its socket.

    ``ready`` once it has imported the kind and loaded its kernels; ``running`` counts points
    sent and not yet reported."""

    def __init__(self, kind: str):
        ours, theirs = socket.socketpair()
        command, env = worker_command(theirs.fileno(), kind)
        try:
            self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                            pass_fds=[theirs.fileno()])
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send(sys.path)
        self.ready, self.running = False, 0

    def stop(self, kill: bool) -> None:
        """Close the connection (an idle worker exits at once) and reap the process; ``kill``
        it first when it may be busy (a point running, or still importing)."""
        self.conn.close()
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=_EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _pool_results(tasks, count: int, kind: str, workers: int):
    """(index, outcome) of each task, from ``workers`` worker processes (fewer if there are
    fewer points), each reporting every point as soon as it is done.

    A worker gets a batch of :func:`batch_size` points once it is ready and again whenever
    fewer than that are left in its hands, so it never waits for its next point and a message
    carries many tiny points.
    """
    size = batch_size(count, workers)
    pool: list[_Worker] = []
    try:
        for _ in range(min(workers, count)):
            pool.append(_Worker(kind))
        by_conn = {worker.conn: worker for worker in pool}
        tasks, left = iter(tasks), True
        while left or any(worker.running for worker in pool):
            for worker in pool:
                if left and worker.ready and worker.running < size:
                    batch = list(itertools.islice(tasks, size))
                    left = len(batch) == size
                    if batch:
                        worker.conn.send(batch)
                        worker.running += len(batch)
            # A short wait keeps Ctrl-C and SIGTERM prompt.
            for conn in wait(list(by_conn), timeout=0.2):
                worker = by_conn[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    raise SweepAborted("a worker process died; every finished point is kept: "
                                       "run again with --resume to finish") from None
                if message == READY:
                    worker.ready = True
                else:
                    worker.running -= 1
                    yield message
    except BaseException:  # Ctrl-C, SIGTERM, a dead worker, or the caller stopping early
        for worker in pool:
            worker.stop(kill=True)
        raise
    for worker in pool:  # every point reported: idle workers, or some never ready
        worker.stop(kill=not worker.ready)


def _local_results(tasks, count: int, kind: str, workers: int):
    if workers <= 1 or count <= 1:
        for index, args in tasks:
            yield index, run_point(*args)
        return
    yield from _pool_results(tasks, count, kind, workers)


def _dask_client(address: str):
    """Connect to the scheduler (before anything is written)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise SimsearchError("scheduler: running on a Dask cluster needs the dask extra: "
                             "pip install 'simsearch[dask]'") from None
    _probe_scheduler(address)
    try:
        return Client(address, timeout=_CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        # TypeError: a tls:// address without a security context (Dask's own message)
        raise SimsearchError(f"scheduler: cannot reach {address!r} "
                             f"({' '.join(str(exc).split())})") from None


def _probe_scheduler(address: str) -> None:
    """Open and close a TCP connection to a ``tcp://host:port`` (or ``host:port``) scheduler
    within :data:`_PROBE_SECONDS`; other protocols (tls, inproc, ucx) are left to Dask, with a
    line saying how long it may wait."""
    scheme, sep, rest = address.rpartition("://")
    host, colon, port = rest.rpartition(":")
    if (sep and scheme != "tcp") or not colon or not port.isdigit():
        print(f"simsearch sweep: connecting to the scheduler at {address} (waiting up to "
              f"{_CONNECT_SECONDS} s)", file=sys.stderr)
        return
    try:
        socket.create_connection((host.strip("[]") or "localhost", int(port)),
                                 timeout=_PROBE_SECONDS).close()
    except socket.timeout:
        raise SimsearchError(f"scheduler: {address!r} did not answer within "
                             f"{_PROBE_SECONDS:g} s") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SimsearchError(f"scheduler: cannot reach {address!r} ({reason.lower()})"
                             ) from None


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
        Output directory (created, with its parents, if missing, as ``labs --out`` does).
    workers : int, optional
        Local processes (default: the number of cores; 1, or a single point to run, runs in
        this process). Each starts once and stays warm for the sweep, receiving points in
        batches and reporting each point as soon as it is done; they end with the sweep,
        however it ends.
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
    directory.repair()
    before = directory.finished()
    todo = [i for i in range(len(plan.points)) if i not in before]
    tasks = _tasks(plan, todo)
    if workers is None:
        workers = os.cpu_count() or 1
    results = (_dask_results(tasks, client) if client
               else _local_results(tasks, len(todo), plan.kind, workers))
    directory.flush()
    last, interval = time.monotonic(), _FLUSH_SECONDS
    try:
        with progress_bar(progress=progress, total=len(plan.points), initial=len(before),
                          unit="point", desc="sweep") as bar:
            for index, (outcome, payload) in results:
                directory.record(index, outcome, payload)
                bar.update(1)
                if time.monotonic() - last > interval:
                    start = time.monotonic()
                    directory.flush()
                    last = time.monotonic()
                    interval = max(_FLUSH_SECONDS, _FLUSH_SHARE * (last - start))
    finally:
        results.close()
        status = directory.flush(ended=True)
    done = sum(s == "done" for s in status.values())
    return SweepSummary(len(plan.points), done, len(status) - done, len(todo), Path(out))
