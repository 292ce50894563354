"""numba kernels: small, typed, no validation and no I/O. The Python API in the parent package
checks its input and shapes the output; the kernels trust what they are given."""

import sys


def _defer_numba_blas_probe() -> None:
    """Skip the BLAS probe numba runs when it first loads a kernel (``numba.np.arraymath``
    imports ``scipy.linalg`` to see whether ``np.dot`` can work: ~0.25 s of every start-up).

    No simsearch kernel uses BLAS, and scipy, which provides it, is a dependency; any kernel
    that did use it would still get numba's full check (the wrapper defers to it for every call
    but the probe itself).
    """
    if "numba.np.arraymath" in sys.modules:
        return
    from numba.np import linalg

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
