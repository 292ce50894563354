"""Reading per-problem success counts from files: a CSV or a 0/1 ``.npy`` matrix.

Errors name the file, the line or column, and what is allowed; nothing here prints or exits.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from .counts import MAX_ATTEMPTS, validate_counts
from ..errors import SimsearchError


def _integer_cell(path: str, line: int, column: str, text: str, low: int) -> int:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and value >= low):
        raise SimsearchError(f"{path} line {line}: {column} must be an integer >= {low} "
                             f"(got {text!r})")
    if value > MAX_ATTEMPTS:
        raise SimsearchError(f"{path} line {line}: {column} must be at most {MAX_ATTEMPTS} "
                             f"(got {text!r})")
    return int(value)


def _open_error(name: str, exc: OSError) -> SimsearchError:
    if isinstance(exc, FileNotFoundError):
        return SimsearchError(f"{name}: no such file")
    if isinstance(exc, IsADirectoryError):
        return SimsearchError(f"{name}: is a directory; give a CSV or .npy file")
    if isinstance(exc, PermissionError):
        return SimsearchError(f"{name}: permission denied")
    return SimsearchError(f"{name}: cannot be read ({exc.strerror or exc})")


def _refuse_duplicate_columns(name: str, header: list[str]) -> None:
    """Two columns with one name make the file ambiguous: which of them holds the counts?"""
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise SimsearchError(f"{name}: column {column!r} appears more than once in the "
                                 f"header; column names must be unique")
        seen.add(column)


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False


def _read_rows(path, columns: tuple[str, ...], unattempted: str = "drop"):
    """Header (BOM and spaces around names tolerated) and the cells of ``columns`` per row.

    ``columns[0]`` and ``columns[1]`` are successes and attempts. A row with 0 successes in 0
    attempts (a problem listed but never sampled: a model stopped early, a run cut short)
    says nothing about its p: ``unattempted="drop"`` leaves it out (the command line says so,
    :func:`unattempted_lines`), ``"keep"`` returns it.
    """
    name = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                raise SimsearchError(f"{name}: file is empty; expected a header with "
                                     f"{columns[0]!r} and {columns[1]!r}")
            _refuse_duplicate_columns(name, header)
            for column in columns:
                if column not in header:
                    raise SimsearchError(f"{name}: no column {column!r} (columns: "
                                         f"{', '.join(header)})")
            index = [header.index(column) for column in columns]
            rows, dropped = [], 0
            for cells in reader:
                if not cells:
                    continue
                if len(cells) <= max(index):
                    raise SimsearchError(f"{name} line {reader.line_num}: too few fields")
                row = [cells[i].strip() for i in index]
                if unattempted == "drop" and _is_zero(row[0]) and _is_zero(row[1]):
                    dropped += 1
                    continue
                rows.append((reader.line_num, row))
    except OSError as exc:
        raise _open_error(name, exc) from None
    except UnicodeDecodeError:
        raise SimsearchError(f"{name}: not a text CSV file") from None
    except csv.Error as exc:
        raise SimsearchError(f"{name}: malformed CSV ({exc})") from None
    if not rows:
        raise SimsearchError(f"{name}: no data rows after the header" if not dropped else
                             f"{name}: every row has 0 {columns[1]}; nothing to fit")
    return rows


def unattempted_lines(path: str | os.PathLike, successes_column: str = "successes",
                      attempts_column: str = "attempts") -> list[int]:
    """Line numbers of the rows with 0 successes in 0 attempts, which the readers leave out
    ([] for a .npy matrix or a file that cannot be read: the reader reports that)."""
    if Path(path).suffix.lower() == ".npy":
        return []
    try:
        rows = _read_rows(path, (successes_column, attempts_column), unattempted="keep")
    except SimsearchError:
        return []
    return [line for line, (s, a) in rows if _is_zero(s) and _is_zero(a)]


def _parse_counts(name, rows, successes_column, attempts_column):
    succ, att = [], []
    for line, (s_text, a_text) in rows:
        s = _integer_cell(name, line, successes_column, s_text, 0)
        a = _integer_cell(name, line, attempts_column, a_text, 1)
        if s > a:
            raise SimsearchError(f"{name} line {line}: {successes_column} ({s}) > "
                                 f"{attempts_column} ({a})")
        succ.append(s)
        att.append(a)
    return validate_counts(succ, att)


def read_counts_csv(path: str | os.PathLike, successes_column: str = "successes",
                    attempts_column: str = "attempts") -> tuple[np.ndarray, np.ndarray]:
    """Successes and attempts per problem from a CSV with a header row.

    Other columns (``problem``, labels, ...) are ignored. A UTF-8 byte-order mark and spaces
    around header names and cells are tolerated.
    """
    rows = _read_rows(path, (successes_column, attempts_column))
    return _parse_counts(str(path), rows, successes_column, attempts_column)


def read_count_groups(path: str | os.PathLike, group_column: str,
                      successes_column: str = "successes", attempts_column: str = "attempts"
                      ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Counts per value of ``group_column`` (e.g. one group per model), in file order."""
    if str(path).lower().endswith(".npy"):
        raise SimsearchError(f"by: {path} is a .npy matrix of one group's outcomes; --by "
                             f"{group_column} needs a counts CSV with that column")
    rows = _read_rows(path, (successes_column, attempts_column, group_column))
    groups: dict[str, list] = {}
    for line, (s_text, a_text, group) in rows:
        groups.setdefault(group, []).append((line, (s_text, a_text)))
    return {g: _parse_counts(str(path), r, successes_column, attempts_column)
            for g, r in groups.items()}


def align_problems(path: str | os.PathLike, groups: dict, group_column: str,
                   problem_column: str = "problem", successes_column: str = "successes",
                   attempts_column: str = "attempts") -> dict:
    """``groups`` (as :func:`read_count_groups` returns them) with each group's problems put in
    the first group's order of ``problem_column``, for fits that pair problem i across groups.

    Files list models in any order (sorted by score, shuffled, one model appended later):
    pairing rows by position would join different problems silently. Without a
    ``problem_column`` the rows are paired by position, as written.

    Raises
    ------
    SimsearchError
        A group repeats a problem, or the groups do not list the same problems.
    """
    name = str(path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = [h.strip() for h in next(csv.reader(fh), [])]
    if problem_column not in header:
        return groups
    rows = _read_rows(path, (successes_column, attempts_column, group_column, problem_column))
    labels: dict[str, list[str]] = {}
    for _, (_, _, group, problem) in rows:
        labels.setdefault(group, []).append(problem)
    first_name = next(iter(groups))
    first = labels[first_name]
    for group, problems in labels.items():
        seen: set[str] = set()
        for problem in problems:
            if problem in seen:
                raise SimsearchError(f"pool: {name}: {group_column} {group!r} lists "
                                     f"{problem_column} {problem!r} more than once; each "
                                     f"problem must appear once per {group_column}")
            seen.add(problem)
    position = {problem: i for i, problem in enumerate(first)}
    aligned = {}
    for group, (c, n) in groups.items():
        problems = labels[group]
        extra = [p for p in problems if p not in position]
        missing = sorted(set(first) - set(problems), key=position.get)
        if extra or missing:
            what = (f"has {problem_column} {extra[0]!r}, which {first_name!r} lacks" if extra
                    else f"lacks {problem_column} {missing[0]!r}, which {first_name!r} has")
            raise SimsearchError(f"pool: every {group_column} must have the same problems to "
                                 f"fit them jointly; {group!r} {what}")
        order = np.argsort([position[p] for p in problems], kind="stable")
        aligned[group] = (np.asarray(c)[order], np.asarray(n)[order])
    return aligned


def repeated_problems(path: str | os.PathLike, group_column: str,
                      problem_column: str = "problem", successes_column: str = "successes",
                      attempts_column: str = "attempts") -> dict[str, tuple[str, int]]:
    """Groups that list a problem more than once: group -> (the first such problem, how many
    times it is listed); {} without a ``problem_column``. The rows read as the counts readers
    read them (a row never sampled left out)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = [h.strip() for h in next(csv.reader(fh), [])]
    if problem_column not in header:
        return {}
    rows = _read_rows(path, (successes_column, attempts_column, group_column, problem_column))
    counts: dict[str, dict[str, int]] = {}
    for _, (_, _, group, problem) in rows:
        seen = counts.setdefault(group, {})
        seen[problem] = seen.get(problem, 0) + 1
    out = {}
    for group, seen in counts.items():
        twice = next((p for p, times in seen.items() if times > 1), None)
        if twice is not None:
            out[group] = (twice, seen[twice])
    return out


def label_columns(path: str | os.PathLike, exclude: tuple[str, ...] = ()) -> dict[str, int]:
    """Columns of a counts CSV that split its rows into groups: column -> number of distinct
    values, for every column outside ``exclude`` whose values repeat but are not all the same
    (a ``model`` column, or a ``problem`` id that occurs once per model). Fewest values first.

    Rows from several groups, pooled, are one population of p that no single model has; the
    command line warns about it.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        _refuse_duplicate_columns(str(path), header)
        values: list[set] = [set() for _ in header]
        rows = 0
        for cells in reader:
            if not cells:
                continue
            rows += 1
            for seen, cell in zip(values, cells):
                seen.add(cell.strip())
    groups = {name: len(seen) for name, seen in zip(header, values)
              if name not in exclude and 1 < len(seen) < rows}
    return dict(sorted(groups.items(), key=lambda item: item[1]))


def read_outcomes_npy(path: str | os.PathLike) -> np.ndarray:
    """A 0/1 outcome matrix of shape (problems, attempts) from ``.npy``, validated."""
    name = str(path)
    try:
        matrix = np.load(path, allow_pickle=False)
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise _open_error(name, exc) from None
        raise SimsearchError(f"{name}: not a readable .npy array ({exc})") from None
    except ValueError as exc:
        raise SimsearchError(f"{name}: not a readable .npy array ({exc})") from None
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise SimsearchError(f"{name}: expected a non-empty 2-d 0/1 matrix (problems x "
                             f"attempts), got shape {matrix.shape}")
    if matrix.shape[1] > MAX_ATTEMPTS:
        raise SimsearchError(f"{name}: at most {MAX_ATTEMPTS} attempts (columns) per problem "
                             f"(got {matrix.shape[1]})")
    bad = ~np.isin(matrix, (0, 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise SimsearchError(f"{name}: entries must be 0 or 1 (problem {i + 1}, attempt "
                             f"{j + 1} is {matrix[i, j]!r})")
    return matrix


def read_counts_npy(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Successes and attempts from a 0/1 matrix of shape (problems, attempts)."""
    matrix = read_outcomes_npy(path)
    successes = matrix.sum(axis=1).astype(np.int64)
    return validate_counts(successes, np.full(successes.size, matrix.shape[1]))


def read_counts(path: str | os.PathLike, successes_column: str = "successes",
                attempts_column: str = "attempts") -> tuple[np.ndarray, np.ndarray]:
    """Read counts from ``.npy`` (0/1 matrix) or CSV, chosen by the file's suffix."""
    if Path(path).suffix.lower() == ".npy":
        return read_counts_npy(path)
    return read_counts_csv(path, successes_column, attempts_column)
