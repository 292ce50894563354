"""Thread policy: how simsearch's processes use threads, chosen on purpose.

On a machine with few cores, idle threads that spin-wait cost more than the work. numba's
default threading layer here is OpenMP (libgomp), whose idle threads spin between parallel
regions; OpenBLAS starts one spinning thread per core although simsearch's only BLAS work is
L-BFGS-B on a handful of parameters. So:

* the command line asks OpenMP to sleep when idle (``OMP_WAIT_POLICY=PASSIVE``) and OpenBLAS
  for one thread; numba keeps one thread per core for the engine's parallel loops;
* a worker process (sweeps) gets one numba thread and one BLAS thread: the workers already
  use every core between them.

Results never depend on any of this: random streams belong to replicates and chunks, not threads.
The environment is read when numba and OpenBLAS start their pools, so a policy must be applied
before numpy is imported (``python -m simsearch`` and the console script do so); an explicit
setting in the user's environment always wins.
"""

from __future__ import annotations

import os
import sys

#: Settings for any simsearch command-line process.
COMMAND_LINE = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1"}
#: Settings for worker processes, which share the cores with each other.
WORKER = {**COMMAND_LINE, "NUMBA_NUM_THREADS": "1"}
#: Read once, when numpy loads its BLAS.
BLAS_SETTINGS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_environment(*, worker: bool = False) -> dict[str, str]:
    """The environment variables of the policy, without those the user has set already."""
    policy = WORKER if worker else COMMAND_LINE
    return {key: value for key, value in policy.items() if key not in os.environ}


def apply_thread_policy(*, worker: bool = False) -> dict[str, str]:
    """Set the policy in this process's environment.

    Once numpy is imported its BLAS has started, and the BLAS settings are left out: they would
    reach only the processes this one spawns (a bootstrap's workers), whose BLAS would then run
    with other threads than this process's and sum in another order, so their results would
    differ from this process's in the last bits.

    Returns
    -------
    dict
        The variables that were set.
    """
    settings = thread_environment(worker=worker)
    if "numpy" in sys.modules:
        settings = {k: v for k, v in settings.items() if k not in BLAS_SETTINGS}
    os.environ.update(settings)
    return settings


def lazy_names(namespace: dict, exports: dict):
    """A package's module ``__getattr__`` that imports its public names on first use (PEP 562),
    so that importing the package does not import what each name needs.

    ``namespace`` is the package's ``globals()``; ``exports`` maps a public name to the
    submodule defining it, relative to the package (``".passk"``). A name, once imported, is
    kept in the namespace, so ``__getattr__`` runs once per name.
    """
    from importlib import import_module

    package = namespace["__name__"]

    def __getattr__(name):
        if name in exports:
            value = getattr(import_module(exports[name], package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


class _NoBar:
    """What a hidden progress bar does: iterate, and take updates to ignore."""

    def __init__(self, iterable=None):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(iterable=None, *, progress: bool, **options):
    """A tqdm bar over ``iterable`` (or updated by hand) when ``progress`` is true, hidden
    when stderr is not a terminal; otherwise a stand-in that only iterates.

    tqdm itself is imported only for a bar: its import, with the ``importlib.metadata`` its
    version reads, costs ~25 ms of every start-up that shows none (plain ``tqdm``, not
    ``tqdm.auto``, which imports asyncio, ~60 ms more, for notebook bars).
    """
    if not progress:
        return _NoBar(iterable)
    from tqdm import tqdm

    return tqdm(iterable, disable=None, **options)


def map_replicates(work, args: tuple, children: list, workers: int) -> list:
    """``work(*args, children)`` for a list of replicates' seeds, spread over processes.

    ``work`` returns one result per seed in ``children``; the seeds are split into ``workers``
    consecutive parts, each part runs in its own process, and the results come back in the
    order of ``children``. Each replicate's result depends on its seed only, so the output is
    the same for any ``workers``; one worker (or fewer than two replicates per worker) runs
    in this process.
    """
    if workers <= 1 or len(children) < 2 * workers:
        return list(work(*args, children))
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    import numpy as np

    parts = np.array_split(np.arange(len(children)), workers)
    # "spawn": a forked child would inherit numba's thread pool in an unusable state.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(work, *args, [children[i] for i in part]) for part in parts]
        return [result for future in futures for result in future.result()]
