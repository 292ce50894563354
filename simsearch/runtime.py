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

#: Settings for any simsearch command-line process.
COMMAND_LINE = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1"}
#: Settings for worker processes, which share the cores with each other.
WORKER = {**COMMAND_LINE, "NUMBA_NUM_THREADS": "1"}


def thread_environment(*, worker: bool = False) -> dict[str, str]:
    """The environment variables of the policy, without those the user has set already."""
    policy = WORKER if worker else COMMAND_LINE
    return {key: value for key, value in policy.items() if key not in os.environ}


def apply_thread_policy(*, worker: bool = False) -> dict[str, str]:
    """Set the policy in this process's environment (effective only before numpy is imported).

    Returns
    -------
    dict
        The variables that were set.
    """
    settings = thread_environment(worker=worker)
    os.environ.update(settings)
    return settings

