"""Writing results: tidy CSV and JSON manifests, atomically.

Every file is written to a temporary file in the destination directory and renamed into place,
so a crash or a bad input never leaves a half-written result behind.
"""

from __future__ import annotations

import io
import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .errors import SimsearchError


def check_writable(path: str | os.PathLike, field: str = "out") -> Path:
    """Fail early, before any work, if ``path`` cannot be written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise SimsearchError(f"{field}: {str(path)!r} is a directory; give a file name")
    if not parent.is_dir():
        raise SimsearchError(f"{field}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise SimsearchError(f"{field}: directory {str(parent)!r} is not writable")
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if np.isnan(x):
            return "nan"
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)  # shortest text that round-trips: bit-exact on re-reading
    text = str(value)
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(columns: Mapping[str, Sequence]) -> str:
    """Tidy CSV from equal-length columns; floats round-trip exactly, ``inf`` as ``inf``."""
    names = list(columns)
    lengths = {len(columns[n]) for n in names}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {lengths}")
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    for row in zip(*(columns[n] for n in names)):
        buf.write(",".join(_cell(v) for v in row) + "\n")
    return buf.getvalue()


def manifest(command: str, config: Mapping, seed_entropy, **extra) -> dict:
    """What made a result: command, full config, seed entropy, versions, time."""
    from . import __version__
    import numba
    import scipy

    return {
        "command": command,
        "config": dict(config),
        "seed_entropy": seed_entropy,
        "simsearch_version": __version__,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "numba": numba.__version__, "scipy": scipy.__version__},
        "argv": sys.argv,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def write_with_manifest(path: str | os.PathLike, text: str, meta: Mapping) -> None:
    """Write ``text`` to ``path`` and ``meta`` to ``path + '.json'``, both atomically."""
    path = Path(path)
    atomic_write_text(path.with_name(path.name + ".json"), json.dumps(meta, indent=2) + "\n")
    atomic_write_text(path, text)
