"""Writing results: tidy CSV and JSON manifests, atomically.

Every file is written to a temporary file in the destination directory and renamed into place,
so a crash or a bad input never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

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


def check_output_directory(path: str | os.PathLike, field: str = "out") -> Path:
    """Fail early if ``path`` cannot be (or become) a writable directory of results."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SimsearchError(f"{field}: {str(path)!r} exists and is not a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise SimsearchError(f"{field}: directory {str(parent)!r} does not exist")
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK):
        raise SimsearchError(f"{field}: {str(target)!r} is not writable")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_chunks(path: str | os.PathLike, chunks: Iterable[str]) -> None:
    """Write the concatenated ``chunks`` to ``path`` through a temporary file and
    ``os.replace``, so the file is either complete or absent."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        # mkstemp creates the file 0600; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_chunks`)."""
    atomic_write_chunks(path, (text,))


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # shortest text that round-trips; inf, -inf, nan as such
    text = str(value)
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _cells(values) -> list[str]:
    """One column as text; numeric arrays take a fast path that gives what _cell gives."""
    array = values if isinstance(values, np.ndarray) else None
    if array is not None and array.dtype.kind == "b":
        return np.where(array, "true", "false").tolist()
    if array is not None and array.dtype.kind in "iu":
        return list(map(str, array.tolist()))
    if array is not None and array.dtype.kind == "f":
        return list(map(repr, array.astype(float).tolist()))
    return [_cell(v) for v in values]


def csv_chunks(columns: Mapping[str, Sequence], rows_per_chunk: int = 100_000) -> Iterator[str]:
    """Tidy CSV text in chunks of rows (header first), for streaming large tables."""
    names = list(columns)
    lengths = {len(columns[n]) for n in names}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {lengths}")
    n_rows = lengths.pop() if lengths else 0
    yield ",".join(names) + "\n"
    for start in range(0, n_rows, rows_per_chunk):
        stop = min(start + rows_per_chunk, n_rows)
        cells = [_cells(columns[n][start:stop]) for n in names]
        yield "\n".join(map(",".join, zip(*cells))) + "\n"


def csv_text(columns: Mapping[str, Sequence]) -> str:
    """Tidy CSV from equal-length columns; floats round-trip exactly, ``inf`` as ``inf``."""
    return "".join(csv_chunks(columns))


def write_csv(path: str | os.PathLike, columns: Mapping[str, Sequence]) -> None:
    """Stream a tidy CSV to ``path`` atomically."""
    atomic_write_chunks(path, csv_chunks(columns))


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
