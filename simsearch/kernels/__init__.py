"""numba kernels: small, typed, no validation and no I/O. The Python API in the parent package
checks its input and shapes the output; the kernels trust what they are given.

Every kernel module takes numba through :mod:`.jit`; :mod:`.codes` holds the integer codes the
Python side names its families with, and loads no numba.
"""
