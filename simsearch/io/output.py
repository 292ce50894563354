"""The one output layer: every result file is written here, atomically, beside its manifest.

* A file is written to a temporary file in its destination directory and renamed into place, so
  a crash or a bad input never leaves a half-written result. Temporary files are named
  ``.NAME.PID.tmp``; one left by a killed process is removed the next time ``NAME`` is written.
  Directories of results are written by :mod:`simsearch.io.directory`.
* A destination that exists and is not a regular file (a device such as ``/dev/null``, a FIFO, a
  socket, a directory) is refused, never renamed over; a symlink is followed, so its target is
  replaced and the link kept.
* A result and its manifest are replaced as a pair: both are written to temporary files, the old
  manifest is removed, then the data and the manifest are renamed into place with SIGINT and
  SIGTERM held back. The manifest records the data file's SHA-256 (``data_sha256``, or ``files``
  for a directory of results), so a pair split by SIGKILL is detected by :func:`read_manifest`.
* Checks run before any work: :func:`check_writable` for a file (and
  :func:`~simsearch.io.directory.prepare_output_directory` for a directory of results); both
  refuse existing results unless ``overwrite``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import stat
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..errors import SimsearchError

MANIFEST_SUFFIX = ".json"


# --- checks before any work ------------------------------------------------------------------


def _text(path) -> str:
    return os.fspath(path)


def _probe_directory(directory: Path, field: str) -> None:
    """Create and remove a file in ``directory``: the only test that also holds for root, for
    read-only file systems and for /proc."""
    probe = directory / f".simsearch-probe.{os.getpid()}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise SimsearchError(f"{field}: cannot write in directory {str(directory)!r} "
                             f"({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


def _destination(path: str | os.PathLike, field: str) -> Path:
    """The file a write to ``path`` lands on: symlinks followed; refuses non-regular files."""
    text = _text(path)
    if not text:
        raise SimsearchError(f"{field}: give a file name (got an empty path)")
    if text.endswith(("/", os.sep)):
        raise SimsearchError(f"{field}: {text!r} ends with a separator; give a file name")
    target = Path(os.path.realpath(text)) if os.path.islink(text) else Path(text)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise SimsearchError(f"{field}: cannot use {text!r} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise SimsearchError(f"{field}: {text!r} is a directory; give a file name")
    if not stat.S_ISREG(mode):
        raise SimsearchError(f"{field}: {text!r} is not a regular file (a device, FIFO or "
                             f"socket); give a file name")
    return target


def manifest_path(path: str | os.PathLike) -> Path:
    """Where the manifest of data file ``path`` goes: ``path`` + ``.json``."""
    path = Path(path)
    return path.with_name(path.name + MANIFEST_SUFFIX)


def check_disk_space(path: str | os.PathLike, size: float, field: str = "out") -> None:
    """Refuse, before any work, a file of about ``size`` bytes that the file system holding
    ``path`` has no room for (a streamed table's memory is flat, its file is not)."""
    try:
        free = shutil.disk_usage(Path(path).resolve().parent).free
    except OSError:
        return  # check_writable reports an unusable directory
    if size > free:
        raise SimsearchError(f"{field}: the table would take about {size / 2**30:.3g} GiB, more "
                             f"than the {free / 2**30:.3g} GiB free in "
                             f"{str(Path(path).resolve().parent)!r}; use fewer problems or "
                             f"replicates")


def check_writable(path: str | os.PathLike, field: str = "out", *, overwrite: bool = True,
                   with_manifest: bool = False) -> Path:
    """Fail early, before any work, if ``path`` cannot be written.

    Parameters
    ----------
    path : path
        File to be written.
    field : str
        Option name for the message.
    overwrite : bool, default True
        With False, an existing file (or its manifest) is refused: "exists; pass --overwrite".
    with_manifest : bool, default False
        Also check ``path`` + ``.json`` (written by :func:`write_with_manifest`).

    Returns
    -------
    pathlib.Path
        The destination, symlinks followed.
    """
    target = _destination(path, field)
    parent = target.parent
    if not parent.is_dir():
        raise SimsearchError(f"{field}: directory {str(parent)!r} does not exist")
    _probe_directory(parent, field)
    targets = [target] + ([_destination(manifest_path(path), field)] if with_manifest else [])
    if not overwrite:
        for existing in targets:
            if existing.exists():
                raise SimsearchError(f"{field}: {str(existing)!r} exists; pass --overwrite to "
                                     f"replace it")
    return target


def check_distinct(paths: Mapping[str, str | os.PathLike | None]) -> None:
    """Refuse two options naming the same file (or one's manifest): one would be lost.

    ``paths`` maps option names to paths (None: not given); each path also claims its manifest.
    """
    claimed: dict[str, str] = {}
    for field, path in paths.items():
        if path is None:
            continue
        for name in (Path(path), manifest_path(path)):
            key = os.path.realpath(name)
            if key in claimed:
                raise SimsearchError(f"{field}: {_text(path)!r} is also written by "
                                     f"--{claimed[key]}; give different files")
            claimed[key] = field


# --- atomic writing --------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(directory: Path, prefix: str = ".") -> list[Path]:
    """The ``PREFIX*.PID.tmp`` entries (files, or staged directories) in ``directory`` whose
    process no longer runs: what a killed writer left."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    stale = []
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[:-len(".tmp")].rpartition(".")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            stale.append(directory / name)
    return stale


def remove_stale_temporaries(directory: Path, prefix: str = ".") -> None:
    """Remove :func:`stale_temporaries` (a staged directory with everything in it)."""
    for path in stale_temporaries(directory, prefix):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                os.unlink(path)


def _temporary(target: Path) -> Path:
    remove_stale_temporaries(target.parent, f".{target.name}.")
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def _write_temporary(target: Path, data) -> tuple[Path, str]:
    """Write ``data`` to a temporary file beside ``target``; return it and its SHA-256.

    ``data`` is text, bytes, an iterable of text or bytes-like chunks (text is UTF-8), or a
    :class:`FileWriter` for a writer that needs a file name (hashed after it returns).
    """
    tmp = _temporary(target)
    try:
        return tmp, write_file(tmp, data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_file(path: Path, data) -> str:
    """Write ``data`` (as :func:`_write_temporary` takes it) to ``path`` itself, fsynced, and
    return its SHA-256: for a file no reader can see yet (a temporary, or a file inside a
    directory that is renamed into place whole)."""
    if isinstance(data, FileWriter):
        data.write(path)
        return _sha256(path)
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 & ~_umask())
    with os.fdopen(fd, "wb") as fh:
        def write_and_hash(chunk) -> None:
            fh.write(chunk)
            digest.update(chunk)
        if isinstance(data, (str, bytes)):
            write_and_hash(_encoded(data))
        else:
            _overlapped(write_and_hash, map(_encoded, data))
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest()


def _encoded(chunk):
    return chunk.encode("utf-8") if isinstance(chunk, str) else chunk


def _overlapped(consume, chunks: Iterator) -> None:
    """``consume(chunk)`` for every chunk in order, in a second thread while the next chunk is
    being produced (a streamed table: the kernel drawing the next block, rows being filled).

    One chunk at most is in flight: chunk i is consumed while chunk i + 1 is produced, and is
    done before chunk i + 1 is handed over, so a producer may reuse chunk i's memory for chunk
    i + 2. Writing a file and ``hashlib`` release the GIL on large buffers, as the kernel does.
    """
    from concurrent.futures import ThreadPoolExecutor

    # Leaving the with block waits for the chunk in flight, also on an exception or Ctrl-C,
    # so the file is never closed under a write.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="simsearch-write") as pool:
        pending = None
        for chunk in chunks:
            if pending is not None:
                pending.result()  # re-raises a failed write (a full disk) here
            pending = pool.submit(consume, chunk)
        if pending is not None:
            pending.result()


class FileWriter:
    """Data written by a function that takes a file name (``np.savez``, Parquet, ``savefig``).

    Parameters
    ----------
    write : callable
        ``write(path)`` writes the whole file at ``path``; the output layer passes a temporary
        path, then hashes and renames it.
    """

    def __init__(self, write):
        self._write = write

    def write(self, path: Path) -> None:
        self._write(path)
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back while files are renamed into place, so an interrupt
    cannot split a result from its manifest (SIGKILL cannot be held: see the hashes)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _commit(renames: list[tuple[Path, Path]], remove: Sequence[Path] = ()) -> None:
    """Remove ``remove`` (old manifests first), then rename each temporary into place."""
    try:
        with _signals_held():
            for old in remove:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(old)
            for tmp, target in renames:
                os.replace(tmp, target)
    except BaseException:
        for tmp, _ in renames:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for directory in {target.parent for _, target in renames}:
        _fsync_directory(directory)


def atomic_write_chunks(path: str | os.PathLike, chunks: Iterable[str]) -> str:
    """Write the concatenated ``chunks`` to ``path`` through a temporary file and
    ``os.replace``, so the file is either complete or absent. Returns its SHA-256 (hex).

    Raises
    ------
    SimsearchError
        ``path`` exists and is not a regular file, or ends with a separator.
    """
    target = _destination(path, "out")
    tmp, digest = _write_temporary(target, chunks)
    _commit([(tmp, target)])
    return digest


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, field: str = "out") -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that needs a file name (``savefig``);
    renamed onto ``path`` when the block ends without an exception, removed otherwise.

    Example: ``with atomic_path("fig.png") as tmp: fig.savefig(tmp, format="png")``.
    """
    target = _destination(path, field)
    tmp = _temporary(target)
    try:
        yield tmp
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _commit([(tmp, target)])


def atomic_write_text(path: str | os.PathLike, text: str) -> str:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_chunks`)."""
    return atomic_write_chunks(path, (text,))


# --- manifests -------------------------------------------------------------------------------


def finite_or_none(value):
    """JSON has no inf or NaN: they become null (the report's warnings say why)."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _installed_version(package: str) -> str:
    """The package's version: from the module where it is loaded, else from its installed
    metadata (a sweep's own process writes manifests without ever loading numba, whose
    import costs ~0.1 s)."""
    module = sys.modules.get(package)
    if module is not None and hasattr(module, "__version__"):
        return module.__version__
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def manifest(command: str, config: Mapping, seed_entropy, **extra) -> dict:
    """What made a result: command, full config, seed entropy, versions, time."""
    from .. import __version__

    return {
        "command": command,
        "config": dict(config),
        "seed_entropy": seed_entropy,
        "simsearch_version": __version__,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "numba": _installed_version("numba"),
                     "scipy": _installed_version("scipy")},
        "argv": sys.argv,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def _json_chunks(meta: Mapping) -> tuple[str]:
    # allow_nan=False: a manifest is JSON that every reader accepts (no Infinity, no NaN).
    return (json.dumps(meta, indent=2, allow_nan=False, default=str) + "\n",)


def _clean_meta(meta: Mapping) -> dict:
    """Replace non-finite floats (not valid JSON) by their text, recursively."""
    def clean(value):
        if isinstance(value, float) and not np.isfinite(value):
            return repr(value)
        if isinstance(value, Mapping):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value
    return clean(dict(meta))


def write_with_manifest(path: str | os.PathLike, text, meta: Mapping) -> dict:
    """Write ``data`` to ``path`` and ``meta`` to ``path + '.json'``, replaced as a pair.

    Parameters
    ----------
    path : path
        Data file.
    text : str, bytes, iterable of str or bytes, or FileWriter
        The data, or chunks of it (e.g. :func:`csv_chunks`) to stream a large table, or a
        :class:`FileWriter` for a writer that needs a file name.
    meta : mapping
        The manifest (see :func:`manifest`); ``data_file`` and ``data_sha256`` are added.

    Returns
    -------
    dict
        The manifest as written.
    """
    target = _destination(path, "out")
    man = _destination(manifest_path(path), "out")
    data_tmp, digest = _write_temporary(target, text)
    try:
        meta = {**_clean_meta(meta), "data_file": target.name, "data_sha256": digest}
        man_tmp, _ = _write_temporary(man, _json_chunks(meta))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(data_tmp)
        raise
    _commit([(data_tmp, target), (man_tmp, man)], remove=[man])
    return meta


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: str | os.PathLike) -> dict:
    """Read the manifest of a result and check that it describes the data beside it.

    ``path`` is a data file written by :func:`write_with_manifest` or a directory written by
    :func:`~simsearch.io.directory.write_directory`.

    Raises
    ------
    SimsearchError
        Missing or unreadable manifest, or a data file whose SHA-256 differs from the one
        recorded (a pair split by SIGKILL, or a file edited since).
    """
    path = Path(path)
    man = path / "manifest.json" if path.is_dir() else manifest_path(path)
    try:
        meta = json.loads(man.read_text())
    except (OSError, ValueError):
        raise SimsearchError(f"{man}: missing or unreadable manifest") from None
    expected = (meta.get("files", {}) if path.is_dir()
                else {path.name: meta.get("data_sha256")})
    for name, digest in expected.items():
        data = path / name if path.is_dir() else path
        try:
            actual = _sha256(data)
        except OSError:
            raise SimsearchError(f"{data}: missing, though its manifest lists it") from None
        if actual != digest:
            raise SimsearchError(f"{data}: does not match its manifest {man} (SHA-256 "
                                 f"differs); the result is incomplete or was changed")
    return meta
