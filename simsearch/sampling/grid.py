"""What checking a pass@k run needs before it runs: the grid of k, and the memory it will take.

Apart from :mod:`.passk`, which loads the numba kernels, so that a sweep's own process can
check its points (and a report parse its k) without starting numba.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np

from ..errors import SimsearchError, require
from ..seeding import CHUNK_SIZE

#: Largest k: first-success times are float64, exact integers up to 2^53.
MAX_K = 2**53
#: Bytes held per chunk while streams are spawned (SeedSequence objects and states), and per
#: problem when per-problem results are kept (p, first success, and the table's index columns).
_BYTES_PER_CHUNK = 1024
_BYTES_PER_PROBLEM = 48

_GRID_FORM = re.compile(r"^(logspace|linspace):([^:]+):([^:]+):([^:]+)$")


def as_k_grid(k) -> np.ndarray:
    """Validate attempt counts: integers in [1, 2^53]; returns them sorted and unique (int64)."""
    try:
        arr = np.atleast_1d(np.asarray(k, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise SimsearchError(f"k: attempts must be integers >= 1 (got {k!r})") from None
    require(arr.size > 0, "k: give at least one number of attempts")
    bad = ~(np.isfinite(arr) & (arr >= 1) & (arr <= MAX_K) & (arr == np.floor(arr)))
    if bad.any():
        raise SimsearchError(f"k: attempts must be integers in [1, {MAX_K}] "
                             f"(got {float(arr[bad][0]):g})")
    return np.unique(arr.astype(np.int64))


def parse_k_grid(text: str) -> np.ndarray:
    """Parse a k grid: ``"1,10,100"``, ``"logspace:1:1e6:25"`` or ``"linspace:1:1000:10"``.

    ``logspace:a:b:n`` gives n points geometrically spaced from a to b, rounded to integers;
    rounding can merge neighbours at small k, so fewer than n may remain. Values are returned
    sorted and unique.
    """
    text = text.strip()
    match = _GRID_FORM.match(text)
    if match:
        form, lo, hi, n = match.groups()
        try:
            lo_f, hi_f, n_f = float(lo), float(hi), float(n)
        except ValueError:
            raise SimsearchError(f"k: cannot read {text!r}; expected {form}:START:STOP:COUNT "
                                 "with numbers") from None
        require(n_f >= 1 and n_f == int(n_f) and n_f <= 1e6,
                f"k: COUNT in {text!r} must be an integer in [1, 1000000]")
        require(1 <= lo_f <= hi_f <= MAX_K,
                f"k: {form} bounds must satisfy 1 <= START <= STOP <= {MAX_K} (got {text!r})")
        if form == "logspace":
            values = np.logspace(math.log10(lo_f), math.log10(hi_f), int(n_f))
        else:
            values = np.linspace(lo_f, hi_f, int(n_f))
        return as_k_grid(np.round(values))
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise SimsearchError(f"k: cannot read {text!r}; expected comma-separated integers such "
                             "as 1,10,100 or logspace:1:1e6:25") from None
    return as_k_grid(values)


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable on Linux, else physical)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def _approx(n: int) -> str:
    try:
        return f"{n:.3g}"
    except OverflowError:
        return f"{str(n)[0]}e+{len(str(n)) - 1}"


def check_memory(problems: int, replicates: int, per_problem: bool) -> None:
    """Refuse, before any allocation, a run whose memory would exceed what is available.

    Memory grows with the number of chunks (one stream each) and, with ``per_problem``, with
    problems x replicates; the message names the estimate.
    """
    chunks = replicates * -(-problems // CHUNK_SIZE)
    need = chunks * _BYTES_PER_CHUNK + (replicates * problems * _BYTES_PER_PROBLEM
                                        if per_problem else 0)
    have = available_memory()
    if need > 0.8 * have:
        what = " with per-problem results" if per_problem else ""
        raise SimsearchError(
            f"problems: {_approx(problems)} problems x {replicates} replicate(s){what} need about "
            f"{need / 2**30:.3g} GiB of memory, more than the {have / 2**30:.3g} GiB available; "
            f"use fewer problems or replicates")
