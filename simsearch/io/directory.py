"""Directories of results (``labs --out``, a sweep's ``--out``): checked before any work,
written as one unit.

:func:`write_directory` stages the new directory beside the old one (``.NAME.PID.tmp``) and
swaps the two in one atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``), so a reader, or a
SIGKILL at any moment, sees the old result whole or the new one whole, never files of two runs.
Files a previous manifest does not list (a user's notes) are carried over by hard link. The
next write removes what a killed writer staged. Where the exchange is not available (another
OS, a mount point, a parent that cannot be written), the directory is updated in place as
:func:`update_directory` does.

:func:`update_directory` replaces the tables and manifest inside an existing directory, the
manifest removed first and written last: for a sweep, whose directory also holds the point
files that make it resumable.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import SimsearchError
from .output import (_clean_meta, _commit, _destination, _fsync_directory, _json_chunks,
                     _probe_directory, _signals_held, _text, _write_temporary,
                     remove_stale_temporaries, write_file)

MANIFEST = "manifest.json"


def check_output_directory(path: str | os.PathLike, field: str = "out", *,
                           parents: bool = False) -> Path:
    """Fail early if ``path`` cannot be (or become) a writable directory of results.

    Does not look at what the directory holds; see :func:`prepare_output_directory`. With
    ``parents``, missing parent directories are allowed (they are made when the directory is);
    the nearest existing ancestor must then be a writable directory.
    """
    text = _text(path)
    if not text:
        raise SimsearchError(f"{field}: give a directory (got an empty path)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise SimsearchError(f"{field}: {text!r} exists and is not a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if parents:
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise SimsearchError(f"{field}: {str(parent)!r} is not a directory")
    if not path.exists() and not parent.is_dir():
        raise SimsearchError(f"{field}: directory {str(parent)!r} does not exist")
    _probe_directory(path if path.exists() else parent, field)
    return path


def prepare_output_directory(path: str | os.PathLike, field: str = "out", *,
                             overwrite: bool = False, create: bool = False,
                             parents: bool = False) -> Path:
    """Check a directory of results before any work: writable, and empty unless ``overwrite``.

    Parameters
    ----------
    path : path
        Output directory; it may not exist yet (its parent must).
    field : str
        Option name for the message.
    overwrite : bool, default False
        Accept a directory that already holds files (``--overwrite``); with
        :func:`write_directory`, the previous result is then replaced whole.
    create : bool, default False
        Create the directory now (otherwise :func:`write_directory` creates it at the end).
    parents : bool, default False
        Allow missing parent directories (made with the directory).

    Returns
    -------
    pathlib.Path
    """
    out = check_output_directory(path, field, parents=parents)
    if out.exists() and not overwrite and any(out.iterdir()):
        raise SimsearchError(f"{field}: {_text(path)!r} is not empty; pass --overwrite to "
                             f"replace its results or choose another directory")
    if create:
        out.mkdir(parents=parents, exist_ok=True)
    return out


def _listed(out: Path, manifest_name: str) -> set[str]:
    """The files the manifest in ``out`` lists (none if it is missing or unreadable)."""
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        return set(json.loads((out / manifest_name).read_text()).get("files", {}))
    return set()


# --- one unit: stage beside, then exchange ---------------------------------------------------

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(staged: Path, out: Path) -> bool:
    """Swap the directories ``staged`` and ``out`` in one system call; False where the system
    or the file system cannot (then nothing moved)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a C library older than glibc 2.28
        return False
    if renameat2(_AT_FDCWD, os.fsencode(staged), _AT_FDCWD, os.fsencode(out),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV, errno.EBUSY,
                errno.EPERM, errno.EACCES):
        return False
    raise OSError(code, os.strerror(code), str(out))


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _carry_over(out: Path, staged: Path, skip: set[str]) -> None:
    """Hard-link into ``staged`` every entry of ``out`` that is not part of a result (``skip``)
    nor a temporary: what a user put beside the tables survives the swap."""
    for entry in os.scandir(out):
        if entry.name in skip or (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        target = staged / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir():
            shutil.copytree(entry.path, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry.path, str(target))


def write_directory(out: str | os.PathLike, files: Mapping[str, str | Iterable[str]],
                    meta: Mapping, manifest_name: str = MANIFEST) -> dict:
    """Write a directory of results as one unit: each of ``files`` (name -> data, as
    :func:`~simsearch.io.output.write_with_manifest` takes it) and a manifest listing them with
    their SHA-256 (``files``).

    The new directory is staged beside ``out`` and exchanged with it atomically (see the module
    docstring), so the previous result (its tables, whatever this run does not write) is
    replaced whole; entries no previous manifest lists are kept. The parents of ``out`` are
    made if missing. Check ``out`` first with :func:`prepare_output_directory`.

    Returns
    -------
    dict
        The manifest as written.
    """
    given = Path(out)
    out = Path(os.path.realpath(given))  # a symlink to the directory stays a symlink
    for name in files:
        _destination(out / name, "out")  # a directory or device in a table's place: refused
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out.parent, f".{out.name}.")
    if out.is_dir():
        remove_stale_temporaries(out)  # left by an in-place write that was killed
    staged = out.parent / f".{out.name}.{os.getpid()}.tmp"
    try:
        staged.mkdir()
    except OSError:  # a parent that cannot be written: the directory itself still can
        return update_directory(given, files, meta, manifest_name)
    try:
        hashes = {name: write_file(staged / name, data) for name, data in files.items()}
        meta = {**_clean_meta(meta), "files": hashes}
        write_file(staged / manifest_name, _json_chunks(meta))
        exists = out.is_dir()
        if exists:
            _carry_over(out, staged, {manifest_name, *hashes, *_listed(out, manifest_name)})
            os.chmod(staged, stat.S_IMODE(os.stat(out).st_mode))
        _fsync_directory(staged)
        with _signals_held():
            if exists:
                swapped = _exchange(staged, out)
            else:
                os.rename(staged, out)
                swapped = True
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    shutil.rmtree(staged, ignore_errors=True)  # the previous result, after an exchange
    if not swapped:
        return update_directory(given, files, meta, manifest_name)
    _fsync_directory(out.parent)
    return meta


# --- in place ----------------------------------------------------------------------------------


def update_directory(out: str | os.PathLike, files: Mapping[str, str | Iterable[str]],
                     meta: Mapping, manifest_name: str = MANIFEST) -> dict:
    """Replace ``files`` and the manifest inside directory ``out``, leaving its other entries.

    The manifest is removed first and renamed into place last (with SIGINT and SIGTERM held
    back), and it records every file's SHA-256, so a result split by SIGKILL has no valid
    manifest (:func:`~simsearch.io.output.read_manifest` says so). Files listed by the previous
    manifest and not written now are removed. Stale temporaries of killed writers are removed.

    Returns
    -------
    dict
        The manifest as written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    man = out / manifest_name
    previous = _listed(out, manifest_name)
    temporaries, hashes = [], {}
    try:
        for name, data in files.items():
            target = _destination(out / name, "out")
            tmp, hashes[name] = _write_temporary(target, data)
            temporaries.append((tmp, target))
        meta = {**_clean_meta(meta), "files": hashes}
        temporaries.append((_write_temporary(man, _json_chunks(meta))[0], man))
    except BaseException:
        for tmp, _ in temporaries:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    stale = [out / name for name in sorted(previous) if name not in hashes and "/" not in name]
    _commit(temporaries, remove=[man, *stale])
    return meta
