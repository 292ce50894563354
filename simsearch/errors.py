"""The exception for bad input, and the checks that raise it."""

from __future__ import annotations

import math

import numpy as np


class SimsearchError(ValueError):
    """Invalid input: a parameter out of range, a malformed spec, file or grid.

    The message is one line that names the offending field and what is allowed; the CLI prints it
    and exits with status 2.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the CLI's handler.

    A subclass of :class:`KeyboardInterrupt`, so every cleanup written for Ctrl-C (stopping
    workers, removing temporary files, keeping finished work) runs for SIGTERM too; the CLI
    exits 143 instead of 130.
    """


def require(condition: bool, message: str) -> None:
    """Raise :class:`SimsearchError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise SimsearchError(message)


def as_count(name: str, value, low: int = 1) -> int:
    """An integer >= ``low`` (accepts 4e5 but not 4.5, NaN or True)."""
    ok = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, bool)
    if isinstance(value, (int, np.integer)) and ok:
        ok = value >= low
    else:
        ok = ok and math.isfinite(value) and value == int(value) and value >= low
    require(ok, f"{name}: must be an integer >= {low} (got {value!r})")
    return int(value)


def as_count_array(name: str, values, low: int = 0, item: str = "problem") -> np.ndarray:
    """A 1-d int64 array of integers >= ``low``; the message names the first bad ``item``."""
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise SimsearchError(f"{name}: must be integers >= {low}") from None
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr == np.round(arr)) & (arr >= low)))
    if bad.size:
        raise SimsearchError(f"{name}: must be integers >= {low} "
                             f"({item} {bad[0] + 1} has {float(arr[bad[0]])!r})")
    return arr.astype(np.int64)
