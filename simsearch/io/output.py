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
import csv
import hashlib
import io
import itertools
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


# --- tidy CSV --------------------------------------------------------------------------------


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


# --- tables by suffix: CSV, .npy, .npz, Parquet ----------------------------------------------

#: Binary table formats by file suffix; any other suffix is written as CSV.
BINARY_TABLE_SUFFIXES = (".npy", ".npz", ".parquet")
#: Formats of a directory of tables (``simsearch labs --format``): CSVs, or one ``.npz`` (an
#: array per column) or Parquet file per table.
DIRECTORY_TABLE_FORMATS = ("csv", "npz", "parquet")
PARQUET_HINT = "pip install 'simsearch[parquet]' (or pip install pyarrow)"


def table_format(path: str | os.PathLike) -> str:
    """``"npy"``, ``"npz"``, ``"parquet"`` or ``"csv"`` (any other suffix), from ``path``."""
    suffix = Path(path).suffix.lower()
    return suffix[1:] if suffix in BINARY_TABLE_SUFFIXES else "csv"


def check_table_format(path: str | os.PathLike, field: str = "out") -> str:
    """The format ``path`` will be written in; refuses Parquet, before any work, without pyarrow."""
    fmt = table_format(path)
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise SimsearchError(f"{field}: writing Parquet ({_text(path)!r}) needs pyarrow: "
                                 f"{PARQUET_HINT}") from None
    return fmt


def _arrays(columns: Mapping[str, Sequence]) -> dict[str, np.ndarray]:
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    lengths = {a.shape[0] for a in arrays.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {lengths}")
    return arrays


#: Rows of a ``.npy`` table per written chunk (2 MiB of four 8-byte columns): what is held
#: beside the columns, twice (one chunk being written while the next is filled).
NPY_ROWS_PER_CHUNK = 1 << 16


def npy_chunks(columns: Mapping[str, Sequence],
               rows_per_chunk: int = NPY_ROWS_PER_CHUNK) -> Iterator[bytes | np.ndarray]:
    """A ``.npy`` file of one structured array (a field per column), in chunks of rows.

    ``numpy.load(path)["p"]`` reads a column back; nothing larger than a chunk is built. A
    chunk's memory is reused two chunks later (see :func:`write_file`'s overlapped writes).
    """
    arrays = _arrays(columns)
    dtype = np.dtype([(name, a.dtype) for name, a in arrays.items()])
    n_rows = next(iter(arrays.values())).shape[0] if arrays else 0
    yield _npy_header(dtype, n_rows)
    yield from _npy_rows(arrays, _row_buffers(dtype, rows_per_chunk))


def _npy_header(dtype: np.dtype, n_rows: int) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {
        "descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
        "shape": (n_rows,)})
    return header.getvalue()


def _row_buffers(dtype: np.dtype, rows_per_chunk: int) -> Iterator[np.ndarray]:
    """Two structured buffers of ``rows_per_chunk`` rows, in turn: one is written (in the
    writer's thread) while the other is filled."""
    return itertools.cycle([np.empty(rows_per_chunk, dtype=dtype) for _ in range(2)])


def _npy_rows(arrays: Mapping[str, np.ndarray],
              buffers: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    n_rows = next(iter(arrays.values())).shape[0] if arrays else 0
    start = 0
    while start < n_rows:
        rows = next(buffers)
        rows = rows[:min(rows.shape[0], n_rows - start)]
        for name, a in arrays.items():
            rows[name] = a[start:start + rows.shape[0]]
        start += rows.shape[0]
        yield rows  # written and hashed through the buffer protocol, not copied to bytes


def _npz_writer(columns: Mapping[str, Sequence]) -> FileWriter:
    def write(path: Path) -> None:
        with open(path, "wb") as fh:  # a file object: np.savez would append .npz to a name
            np.savez(fh, **_arrays(columns))
    return FileWriter(write)


def _parquet_writer(columns: Mapping[str, Sequence]) -> FileWriter:
    def write(path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table(_arrays(columns)), path)
    return FileWriter(write)


def table_stream(path: str | os.PathLike, blocks: Iterable[Mapping[str, np.ndarray]],
                 n_rows: int):
    """:func:`table_data` for a table that arrives block by block (dicts of equal-length
    columns, the same columns in each, ``n_rows`` rows in all), written as the blocks arrive
    in memory that does not grow with rows.

    Each block is copied, formatted or written before the next one is drawn, so the blocks
    may share buffers (``PassAtKStream.columns(reuse_buffers=True)``). ``.npy``, CSV and
    Parquet are byte for byte what :func:`table_data` writes of the whole table, and are
    hashed as they are written; ``.npz`` holds the same arrays (see :func:`_npz_stream`).
    """
    fmt = check_table_format(path)
    if fmt == "npy":
        return _npy_stream(iter(blocks), n_rows)
    if fmt == "csv":
        return _csv_stream(blocks)
    if fmt == "parquet":
        return _parquet_stream(iter(blocks))
    return _npz_stream(blocks)


def _npy_stream(blocks: Iterator[Mapping[str, np.ndarray]], n_rows: int) -> Iterator:
    arrays = _arrays(next(blocks))
    dtype = np.dtype([(name, a.dtype) for name, a in arrays.items()])
    buffers = _row_buffers(dtype, NPY_ROWS_PER_CHUNK)
    yield _npy_header(dtype, n_rows)
    written = 0
    while arrays is not None:
        written += next(iter(arrays.values())).shape[0]
        yield from _npy_rows(arrays, buffers)
        # Dropped before the next block is drawn: its buffers may be the next block's.
        arrays = None
        arrays = next(map(_arrays, blocks), None)
    if written != n_rows:  # the header promised n_rows: a short file would not load
        raise ValueError(f"table_stream: {written} rows arrived, the header says {n_rows}")


#: Rows per Parquet row group: pyarrow's default for a whole table, so a streamed file is
#: byte for byte the whole table's (and does not depend on how the stream was cut).
PARQUET_ROW_GROUP = 1 << 20


class _Collected:
    """A write-only file for pyarrow that keeps what is written until :meth:`take` (pyarrow
    writes Parquet front to back, so the bytes can be streamed and hashed as they come)."""

    closed = False

    def __init__(self):
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))  # pyarrow hands over bytes: no copy
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def take(self) -> list[bytes]:
        parts, self._parts = self._parts, []
        return parts


def _parquet_stream(blocks: Iterator[Mapping[str, np.ndarray]]) -> Iterator[bytes]:
    """Parquet bytes as row groups of :data:`PARQUET_ROW_GROUP` rows fill: rows wait (copied,
    since blocks may share buffers) until a row group is full, so memory is one row group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = _Collected()
    writer = None
    pending: list[dict[str, np.ndarray]] = []
    held = 0

    def write_group(rows: int) -> None:
        """One row group of the first ``rows`` rows waiting, as pieces (no concatenation)."""
        nonlocal held
        group, taken = [], 0
        while taken < rows:
            piece = pending.pop(0)
            size = len(next(iter(piece.values())))
            if taken + size > rows:  # split: the rest waits for the next row group
                pending.insert(0, {n: a[rows - taken:] for n, a in piece.items()})
                piece = {n: a[:rows - taken] for n, a in piece.items()}
                size = rows - taken
            group.append(piece)
            taken += size
        writer.write_table(pa.table({n: pa.chunked_array([piece[n] for piece in group])
                                     for n in group[0]}), row_group_size=PARQUET_ROW_GROUP)
        held -= rows

    for block in blocks:
        arrays = _arrays(block)
        if writer is None:
            writer = pq.ParquetWriter(sink, pa.table(arrays).schema)
        pending.append({n: a.copy() for n, a in arrays.items()})
        held += next(iter(arrays.values())).shape[0]
        arrays = block = None
        while held >= PARQUET_ROW_GROUP:
            write_group(PARQUET_ROW_GROUP)
        yield from sink.take()
    if writer is None:
        raise ValueError("table_stream: no block arrived")
    if held:
        write_group(held)
    writer.close()
    yield from sink.take()


def _npz_stream(blocks: Iterable[Mapping[str, np.ndarray]]) -> FileWriter:
    """A ``.npz`` (an uncompressed ``.npy`` member per column, as ``numpy.savez`` writes) from
    a stream, in flat memory.

    Zip members follow one another, while a stream delivers every column at once: each column
    is spilled to an anonymous temporary file beside the result, then copied into its member.
    That costs a second write of the data (and the disk room for it, for a moment), not
    memory. The members are byte for byte ``numpy.save`` of each column; the zip's entries carry
    the time of writing, as ``numpy.savez``'s do. The file is hashed after it is written, as
    for ``numpy.savez``: zipfile goes back to each member's header to set its CRC and size.
    """
    def write(path: Path) -> None:
        import tempfile
        import zipfile

        with contextlib.ExitStack() as spills:
            columns: dict[str, tuple] = {}
            n_rows = 0
            for block in blocks:
                arrays = _arrays(block)
                for name, a in arrays.items():
                    if name not in columns:
                        columns[name] = (spills.enter_context(
                            tempfile.TemporaryFile(dir=path.parent, prefix=f".{path.name}.")),
                            a.dtype)
                    columns[name][0].write(np.ascontiguousarray(a, dtype=columns[name][1]))
                n_rows += next(iter(arrays.values())).shape[0]
            with open(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED,
                                                         allowZip64=True) as archive:
                for name, (spill, dtype) in columns.items():
                    spill.seek(0)
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        member.write(_npy_header(dtype, n_rows))
                        shutil.copyfileobj(spill, member, 1 << 20)
    return FileWriter(write)


def _csv_stream(blocks: Iterable[Mapping[str, np.ndarray]]) -> Iterator[str]:
    for i, block in enumerate(blocks):
        chunks = csv_chunks(block)
        if i:
            next(chunks)  # the header, written once
        yield from chunks


def table_data(path: str | os.PathLike, columns: Mapping[str, Sequence]):
    """The data of table ``columns`` in the format ``path``'s suffix names, for
    :func:`write_with_manifest`: streamed CSV text or ``.npy`` bytes, or a writer of a
    ``.npz`` (one array per column) or Parquet file."""
    fmt = check_table_format(path)
    if fmt == "npy":
        return npy_chunks(columns)
    if fmt == "npz":
        return _npz_writer(columns)
    if fmt == "parquet":
        return _parquet_writer(columns)
    return csv_chunks(columns)


def _csv_column(cells: Sequence[str]) -> np.ndarray:
    """One CSV column typed as :func:`csv_chunks` wrote it: int64, bool (true/false), float64
    (blank cells NaN, as ``pandas.read_csv`` reads them) or strings."""
    text = np.array(cells, dtype=str)
    with contextlib.suppress(ValueError):
        return text.astype(np.int64)
    if text.size and np.isin(text, ("true", "false")).all():
        return text == "true"
    with contextlib.suppress(ValueError):
        return np.where(text == "", "nan", text).astype(np.float64)
    return text


def read_table(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read back a table written through :func:`table_data`, by its suffix: the columns in
    order, each a numpy array (a CSV's blank cells in numeric columns are NaN).

    Raises
    ------
    SimsearchError
        The file is missing or unreadable, or Parquet without pyarrow.
    """
    fmt = check_table_format(path, "table")
    try:
        if fmt == "npy":
            rows = np.load(path, allow_pickle=False)
            return {name: rows[name] for name in rows.dtype.names}
        if fmt == "npz":
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            return {name: _plain(table.column(name).to_numpy(zero_copy_only=False))
                    for name in table.column_names}
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, ValueError) as exc:
        raise SimsearchError(f"table: cannot read {_text(path)!r} ({exc})") from None
    if not rows:
        raise SimsearchError(f"table: {_text(path)!r} is empty (no header)")
    header, body = rows[0], rows[1:]
    columns = list(zip(*body)) if body else [()] * len(header)
    return {name: _csv_column(cells) for name, cells in zip(header, columns)}


def _plain(column: np.ndarray) -> np.ndarray:
    """A column read from Parquet with strings as a numpy str array (pyarrow gives objects)."""
    return column.astype(str) if column.dtype == object else column


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


def manifest(command: str, config: Mapping, seed_entropy, **extra) -> dict:
    """What made a result: command, full config, seed entropy, versions, time."""
    from .. import __version__
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
