"""A sweep's worker processes: the thread policy first, then the set-up that ties a worker to
its sweep.

This module imports neither numpy nor numba at the top: :func:`start_worker` runs in a fresh
process, and the policy must be in the environment before numba and OpenBLAS start their
thread pools.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

from ..runtime import apply_thread_policy

_PARENT_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def start_worker(parent: int) -> None:
    """Initializer of a sweep's worker processes: the worker thread policy (one numba and one
    BLAS thread: the workers use every core between them), then :func:`setup_worker`."""
    apply_thread_policy(worker=True)
    setup_worker(parent)


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


def setup_worker(parent: int) -> None:
    """Set up a worker process (after :func:`start_worker` has applied the
    worker thread policy): it dies with the sweep, leaves Ctrl-C to the sweep (which stops the
    workers itself), and runs numba on one thread (workers already use every core between
    them; results do not depend on the thread count)."""
    import numba

    # numba read NUMBA_NUM_THREADS when it was imported; if that was before the policy, read
    # it again now, before the pool starts: a compile re-reads it and refuses a pool of another
    # size ("Cannot set NUMBA_NUM_THREADS ... once the threads have been launched").
    numba.core.config.reload_config()
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    numba.set_num_threads(1)
