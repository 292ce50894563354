"""Tables in and out by file suffix: tidy CSV, ``.npy``, ``.npz`` and Parquet, each writer beside
its reader.

* :func:`table_data` turns columns into what :func:`~simsearch.io.output.write_with_manifest`
  writes (text chunks, ``.npy`` chunks, or a :class:`~simsearch.io.output.FileWriter`);
  :func:`read_table` reads any of them back into columns.
* :func:`table_stream` does the same for a table that arrives block by block, in memory that does
  not grow with rows (``passk --per-problem``).
* CSV is tidy: one header row, numbers in their shortest round-trip repr, booleans ``true`` /
  ``false``, missing values empty, so ``pandas.read_csv`` reads it as is.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
import shutil
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..errors import SimsearchError
from .output import FileWriter


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
            raise SimsearchError(f"{field}: writing Parquet ({os.fspath(path)!r}) needs pyarrow: "
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
        raise SimsearchError(f"table: cannot read {os.fspath(path)!r} ({exc})") from None
    if not rows:
        raise SimsearchError(f"table: {os.fspath(path)!r} is empty (no header)")
    header, body = rows[0], rows[1:]
    columns = list(zip(*body)) if body else [()] * len(header)
    return {name: _csv_column(cells) for name, cells in zip(header, columns)}


def _plain(column: np.ndarray) -> np.ndarray:
    """A column read from Parquet with strings as a numpy str array (pyarrow gives objects)."""
    return column.astype(str) if column.dtype == object else column
