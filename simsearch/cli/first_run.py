"""The first run: say so while numba compiles kernels that are not in its on-disk cache yet.

A fresh install compiles each kernel once (tens of seconds to minutes on a slow machine) and
caches it; later runs load it in milliseconds. Without a word the first run looks hung, so the
command line calls :func:`announce_compiling` with the kernels it is about to run.
"""

from __future__ import annotations

import sys

MESSAGE = "compiling kernels (first run only; later runs load them from the cache)"


def _cached(dispatcher) -> bool:
    """Whether ``dispatcher`` is compiled in this process or has a usable on-disk entry for
    this machine's target (the index is read, a few kB; nothing is compiled or loaded)."""
    if dispatcher.signatures:
        return True
    cache = getattr(dispatcher, "_cache", None)
    index = cache._cache_file._load_index()  # {} when missing or stale (source changed)
    magic = dispatcher.targetctx.codegen().magic_tuple()
    return any(key[1] == magic for key in index)


def needs_compiling(*dispatchers) -> bool:
    """True when one of the numba ``dispatchers`` will compile on its next call.

    Reads numba's cache index through internal attributes; if they change in a numba release,
    the answer is False (no message) rather than an error.
    """
    try:
        return not all(_cached(d) for d in dispatchers)
    except Exception:  # noqa: BLE001 - a notice must never break a run
        return False


def announce_compiling(*dispatchers, stream=None) -> bool:
    """Print :data:`MESSAGE` on ``stream`` (stderr) when a kernel will compile; returns
    whether it did. For commands: call it just before the first kernel call."""
    if not needs_compiling(*dispatchers):
        return False
    stream = sys.stderr if stream is None else stream
    print(f"simsearch: {MESSAGE}", file=stream, flush=True)
    return True
