"""numba as the kernels use it: every kernel module imports ``njit`` (and ``prange``,
``uint64``) from here, so that numba's BLAS probe is deferred before any kernel loads.

numba runs the probe when it first loads a kernel (``numba.np.arraymath`` imports
``scipy.linalg`` to see whether ``np.dot`` can work: ~0.25 s of every start-up). No simsearch
kernel uses BLAS, and scipy, which provides it, is a dependency; any kernel that did use it
would still get numba's full check (the wrapper defers to it for every call but the probe
itself).
"""

import sys

from numba import njit, prange, uint64
from numba.np import linalg

__all__ = ["njit", "prange", "uint64"]


def _defer_numba_blas_probe() -> None:
    if "numba.np.arraymath" in sys.modules:
        return
    check = linalg.ensure_blas
    if getattr(check, "simsearch_deferred", False):
        return

    def ensure_blas():
        probing = sys.modules.get("numba.np.arraymath")
        if probing is not None and not hasattr(probing, "_HAVE_BLAS"):
            return  # the import-time probe: its answer (BLAS available) is known
        check()

    ensure_blas.simsearch_deferred = True
    linalg.ensure_blas = ensure_blas


_defer_numba_blas_probe()
