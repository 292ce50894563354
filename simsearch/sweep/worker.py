"""A sweep's worker processes: started once per sweep, warm for every point it sends them.

A worker is a fresh interpreter (``python -P -c LAUNCH``, not a multiprocessing spawn, which
would start multiprocessing's resource tracker, a process that outlives the sweep, and import
the parent's ``__main__`` again) joined to the sweep by a socket pair. It receives the parent's
``sys.path``, imports the sweep's kind and loads its kernels, says :data:`READY`, then runs
batches of points, sending each point's outcome back as soon as it is done, so the parent
records it at once (a killed sweep keeps every point a worker finished). It exits when the parent closes its end.

This module imports neither numpy nor numba at the top: the thread policy must be in the
environment before numba and OpenBLAS start their thread pools (the parent puts it in the
worker's environment, see :func:`worker_command`).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
import warnings

from ..runtime import thread_environment

_PARENT_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
#: The first message of a worker whose imports are done.
READY = "ready"
#: What a worker process runs: SIGINT ignored first (Ctrl-C in a terminal reaches the whole
#: process group; the sweep stops its workers itself), then the parent's sys.path, then serve.
_LAUNCH = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
           "from multiprocessing.connection import Connection; "
           "conn = Connection(int(sys.argv[1])); sys.path[:] = conn.recv(); "
           "from simsearch.sweep.worker import serve; serve(conn, int(sys.argv[2]), sys.argv[3])")


def worker_command(fd: int, kind: str) -> tuple[list[str], dict[str, str]]:
    """Command line and environment of a worker reached through file descriptor ``fd``: the
    worker thread policy (one numba and one BLAS thread: the workers use every core between
    them), where the user has not set the variables."""
    env = {**os.environ, **thread_environment(worker=True)}
    return [sys.executable, "-P", "-c", _LAUNCH, str(fd), str(os.getpid()), kind], env


def _die_with_parent(parent: int) -> None:
    """End this worker as soon as its parent ends, even by SIGKILL: the kernel's parent-death
    signal on Linux, and everywhere a thread that polls the parent's pid (a worker in the
    middle of a point would not notice its connection closing)."""
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


def setup_worker(parent: int) -> None:
    """Tie a worker process to its sweep: it dies with the sweep, leaves Ctrl-C to the sweep
    (which stops the workers itself), and runs numba on one thread (workers already use every
    core between them; results do not depend on the thread count)."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import numba

    # numba read NUMBA_NUM_THREADS when it was imported; read it again now, before the pool
    # starts: a compile re-reads it and refuses a pool of another size ("Cannot set
    # NUMBA_NUM_THREADS ... once the threads have been launched").
    numba.core.config.reload_config()
    numba.set_num_threads(1)


def run_point(kind: str, config: dict, statistics, replicates: int, seed,
              options: dict | None = None):
    """One sweep point, in a worker (or in the sweep's own process with one worker):
    ``("done", PointResult)`` or ``("failed", message)``; never raises for a point that cannot
    run, so one bad point cannot stop a sweep."""
    import numpy as np

    from ..errors import SimsearchError
    from .kinds import get_kind

    try:
        with warnings.catch_warnings():
            # A point whose statistic is undefined (no slope to fit) records NaN; numpy's
            # warnings about it would only repeat that on the terminal, once per point.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", np.exceptions.RankWarning)
            return "done", get_kind(kind).evaluate(config, statistics, replicates, seed,
                                                   options or {})
    except SimsearchError as exc:
        return "failed", " ".join(str(exc).split())
    except Exception as exc:  # noqa: BLE001 - recorded per point, the sweep goes on
        return "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def serve(conn, parent: int, kind: str) -> None:
    """A worker's life: set up, import the kind and load its kernels, :data:`READY`, then for
    each batch received (a list of ``(index, run_point arguments)``) send
    ``(index, run_point(...))`` per point.

    Ends when the parent closes the connection, without the interpreter's teardown (numba's
    takes a few hundred milliseconds, and everything this process did has been sent).
    """
    setup_worker(parent)
    from .kinds import get_kind

    try:
        get_kind(kind).warm()  # the kind imported and its kernels loaded, before READY
    except Exception:  # noqa: BLE001 - only a head start: the first point reports the error
        pass
    conn.send(READY)
    try:
        while True:
            for index, args in conn.recv():
                conn.send((index, run_point(*args)))
    except (EOFError, OSError):  # the parent closed its end (or is gone)
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
