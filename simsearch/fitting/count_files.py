"""Reading per-problem success counts from files: a CSV or a 0/1 ``.npy`` matrix.

Errors name the file, the line or column, and what is allowed; nothing here prints or exits.
"""

from __future__ import annotations

import csv
import gc
import math
import operator
import os
import warnings
from pathlib import Path

import numpy as np

from .counts import MAX_ATTEMPTS, validate_counts
from ..errors import SimsearchError, require


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
    if text.isascii() and text.isdigit():  # a plain integer, the common case: no float
        return not text.strip("0")  # conversion per row
    try:
        return float(text) == 0
    except ValueError:
        return False


def _plain_integers(successes: list[str], attempts: list[str]):
    """Both columns as int64 arrays when every cell is a plain integer, else None."""
    try:
        return np.array(successes, dtype=np.int64), np.array(attempts, dtype=np.int64)
    except (ValueError, OverflowError):
        return None


def _read_columns_fast(path, header: list[str], index: list[int], labels: bool):
    """:func:`_read_columns`'s cells and distinct values by NumPy's C reader, or None wherever
    it might differ from the csv module's reading (a blank line, a field over several lines, a
    row of another width, a cell that is not a plain integer in a count column): the caller
    then reads row by row, which also names the line of any error."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        if physical < 2:
            return None
        options = dict(delimiter=",", quotechar='"', comments=None, encoding="utf-8-sig",
                       skiprows=1, ndmin=2)
        text_columns = list(range(len(header))) if labels else index[2:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            counts = np.loadtxt(path, usecols=index[:2], dtype=np.int64, **options)
            if counts.shape[0] != physical - 1:  # blank lines, or fields over several lines
                return None
            texts = (np.loadtxt(path, usecols=text_columns, dtype=str, **options)
                     if text_columns else np.empty((counts.shape[0], 0), dtype=str))
    except (ValueError, OSError, UnicodeDecodeError):
        return None
    c, n = counts[:, 0], counts[:, 1]
    unattempted = (c == 0) & (n == 0)
    valid = (c >= 0) & (c <= n) & (n <= MAX_ATTEMPTS) & ((n >= 1) | unattempted)
    if texts.shape[0] != counts.shape[0] or not valid.all():  # the row reader names the line
        return None
    texts = np.char.strip(texts)
    where = {j: i for i, j in enumerate(text_columns)}
    cells = [c, n] + [texts[:, where[j]].tolist() for j in index[2:]]
    distinct = ([set(texts[:, where[j]].tolist()) for j in range(len(header))] if labels
                else None)
    return cells, distinct


def _read_columns(path, required: tuple[str, ...], optional: tuple[str, ...], labels: bool):
    """(header, kept columns, their cells, each row's line number, the distinct values of every
    column or None) of a CSV; blank lines skipped. The count columns come back as int64
    arrays when every cell is a plain integer (NumPy's reader), else as stripped text like
    the other columns."""
    name = str(path)
    # Millions of small lists and strings, none in a cycle: the cyclic garbage collector
    # would walk them again and again while they are built (a third of the reading time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                raise SimsearchError(f"{name}: file is empty; expected a header with "
                                     f"{required[0]!r} and {required[1]!r}")
            _refuse_duplicate_columns(name, header)
            for column in required:
                if column not in header:
                    raise SimsearchError(f"{name}: no column {column!r} (columns: "
                                         f"{', '.join(header)})")
            kept = required + tuple(c for c in dict.fromkeys(optional)
                                    if c in header and c not in required)
            index = [header.index(column) for column in kept]
            fast = _read_columns_fast(path, header, index, labels)
            if fast is not None:
                cells, distinct = fast
                return header, kept, cells, np.arange(2, len(cells[0]) + 2), distinct
            last = max(index)
            rows = list(reader)
            if reader.line_num == len(rows) + 1 and all(map(last.__lt__, map(len, rows))):
                # One physical line per row and no blank line: row i is on line i + 2.
                lines = np.arange(2, len(rows) + 2)
            else:  # read again, row by row, for the line numbers (and the row that is short)
                fh.seek(0)
                reader = csv.reader(fh)
                next(reader)
                rows, numbers = [], []
                for row in reader:
                    if not row:
                        continue
                    if len(row) <= last:
                        raise SimsearchError(f"{name} line {reader.line_num}: too few fields")
                    numbers.append(reader.line_num)
                    rows.append(row)
                lines = np.array(numbers, dtype=np.int64)
    except OSError as exc:
        raise _open_error(name, exc) from None
    except UnicodeDecodeError:
        raise SimsearchError(f"{name}: not a text CSV file") from None
    except csv.Error as exc:
        raise SimsearchError(f"{name}: malformed CSV ({exc})") from None
    else:
        pick = operator.itemgetter(*index)  # at least two columns: a tuple
        cells = ([list(map(str.strip, column)) for column in zip(*map(pick, rows))] if rows
                 else [[] for _ in kept])
        distinct = None
        if labels:  # values as the other views see them: stripped
            distinct = [set(map(str.strip, (row[j] for row in rows if len(row) > j)))
                        for j in range(len(header))]
    finally:
        if collecting:
            gc.enable()
    return header, kept, cells, lines, distinct


class CountFile:
    """A counts CSV read once, for every question a command asks of it.

    One pass over the file keeps the line number of each data row (blank lines skipped), the
    stripped cells of ``successes_column``, ``attempts_column`` and the ``columns`` asked for
    (``optional`` ones where the header has them), and, with ``labels``, the distinct values
    of every column (:meth:`label_columns`). A row with 0 successes in 0 attempts (a problem
    listed but never sampled: a model stopped early, a run cut short) says nothing about its
    p: the views leave it out (:meth:`unattempted_lines` names them).

    Parameters
    ----------
    path : path-like
        A CSV with a header row; a UTF-8 byte-order mark and spaces around names and cells are
        tolerated.
    successes_column, attempts_column : str
    columns : tuple of str
        Further columns the file must have (e.g. the ``--by`` column).
    optional : tuple of str
        Columns kept where the header has them (e.g. ``problem``).
    labels : bool
        Also count every column's distinct values.
    """

    def __init__(self, path: str | os.PathLike, successes_column: str = "successes",
                 attempts_column: str = "attempts", columns: tuple[str, ...] = (),
                 optional: tuple[str, ...] = (), labels: bool = False):
        self.name = str(path)
        self.successes_column, self.attempts_column = successes_column, attempts_column
        if successes_column == attempts_column:
            raise SimsearchError(f"attempts-column: must differ from successes-column (both "
                                 f"{successes_column!r})")
        required = tuple(dict.fromkeys((successes_column, attempts_column) + tuple(columns)))
        header, kept, cells, lines, distinct = _read_columns(path, required, optional, labels)
        self.header = header
        self._cells = dict(zip(kept, cells))
        self._distinct = distinct
        self._lines = lines
        successes, attempts = cells[0], cells[1]
        # Plain integer cells, the common case, are converted once for the whole file.
        self._integers = _plain_integers(successes, attempts)
        if self._integers is not None:
            c, n = self._integers
            unattempted = (c == 0) & (n == 0)
        else:
            unattempted = np.array([_is_zero(s) and _is_zero(a)
                                    for s, a in zip(successes, attempts)], dtype=bool)
        self._unattempted = unattempted
        self._attempted = np.flatnonzero(~unattempted)
        if not self._attempted.size:
            raise SimsearchError(f"{self.name}: no data rows after the header" if not len(lines)
                                 else f"{self.name}: every row has 0 {attempts_column}; "
                                      f"nothing to fit")

    def has(self, column: str) -> bool:
        """Whether the column was kept (asked for, or optional and in the header)."""
        return column in self._cells

    def _column(self, column: str, rows) -> list[str]:
        cells = self._cells[column]
        return [cells[i] for i in rows]

    def _parse(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """Successes and attempts of ``rows`` (indices of kept rows), checked."""
        s_text = a_text = None
        if self._integers is not None:
            succ, att = self._integers[0][rows], self._integers[1][rows]
        else:
            s_text = self._column(self.successes_column, rows)
            a_text = self._column(self.attempts_column, rows)
            succ = att = None
            pair = _plain_integers(s_text, a_text)
            if pair is not None:
                succ, att = pair
        fast = succ is not None and bool(
            np.all(succ >= 0) and np.all(att >= 1) and np.all(succ <= att)
            and np.all(att <= MAX_ATTEMPTS))
        if not fast:  # the cell-by-cell reading finds the first bad cell and names its line
            if s_text is None:
                s_text = self._column(self.successes_column, rows)
                a_text = self._column(self.attempts_column, rows)
            succ, att = [], []
            for i, s_cell, a_cell in zip(rows, s_text, a_text):
                line = self._lines[i]
                s = _integer_cell(self.name, line, self.successes_column, s_cell, 0)
                a = _integer_cell(self.name, line, self.attempts_column, a_cell, 1)
                if s > a:
                    raise SimsearchError(f"{self.name} line {line}: {self.successes_column} "
                                         f"({s}) > {self.attempts_column} ({a})")
                succ.append(s)
                att.append(a)
        return validate_counts(succ, att)

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Successes and attempts per problem (rows never sampled left out)."""
        return self._parse(self._attempted)

    def _group_rows(self, group_column: str) -> dict[str, np.ndarray]:
        """Row indices of each group's attempted rows, groups in order of first appearance."""
        keys = self._column(group_column, self._attempted)
        number: dict[str, int] = {}
        code = np.array([number.setdefault(key, len(number)) for key in keys], dtype=np.int64)
        order = np.argsort(code, kind="stable")
        parts = np.split(self._attempted[order], np.cumsum(np.bincount(code))[:-1])
        return dict(zip(number, parts))

    def groups(self, group_column: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Counts per value of ``group_column`` (e.g. one group per model), in file order."""
        return {g: self._parse(rows) for g, rows in self._group_rows(group_column).items()}

    def problem_labels(self, group_column: str | None, problem_column: str = "problem"
                       ) -> dict[str, list[str]]:
        """Each group's ``problem_column`` as written (row numbers within the group when the
        file has none), in file order; one group named "" without ``group_column``."""
        grouped = (self._group_rows(group_column) if group_column
                   else {"": self._attempted})
        if not self.has(problem_column):
            return {g: [str(i) for i in range(len(rows))] for g, rows in grouped.items()}
        return {g: self._column(problem_column, rows) for g, rows in grouped.items()}

    def aligned(self, groups: dict, group_column: str, problem_column: str = "problem"
                ) -> dict:
        """``groups`` (as :meth:`groups` returns them) with each group's problems put in the
        first group's order of ``problem_column``, for fits that pair problem i across groups.

        Files list models in any order (sorted by score, shuffled, one model appended later):
        pairing rows by position would join different problems silently. Without a
        ``problem_column`` the rows are paired by position, as written.

        Raises
        ------
        SimsearchError
            A group repeats a problem, or the groups do not list the same problems.
        """
        if not self.has(problem_column):
            return groups
        labels = self.problem_labels(group_column, problem_column)
        first_name = next(iter(groups))
        first = labels[first_name]
        for group, problems in labels.items():
            seen: set[str] = set()
            for problem in problems:
                if problem in seen:
                    raise SimsearchError(f"pool: {self.name}: {group_column} {group!r} lists "
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
                what = (f"has {problem_column} {extra[0]!r}, which {first_name!r} lacks"
                        if extra else
                        f"lacks {problem_column} {missing[0]!r}, which {first_name!r} has")
                raise SimsearchError(f"pool: every {group_column} must have the same problems "
                                     f"to fit them jointly; {group!r} {what}")
            order = np.argsort([position[p] for p in problems], kind="stable")
            aligned[group] = (np.asarray(c)[order], np.asarray(n)[order])
        return aligned

    def repeated_problems(self, group_column: str, problem_column: str = "problem"
                          ) -> dict[str, tuple[str, int]]:
        """Groups that list a problem more than once: group -> (the first such problem, how
        many times it is listed); {} without a ``problem_column``."""
        if not self.has(problem_column):
            return {}
        out = {}
        for group, problems in self.problem_labels(group_column, problem_column).items():
            seen: dict[str, int] = {}
            for problem in problems:
                seen[problem] = seen.get(problem, 0) + 1
            twice = next((p for p, times in seen.items() if times > 1), None)
            if twice is not None:
                out[group] = (twice, seen[twice])
        return out

    def unattempted_lines(self) -> list[int]:
        """Line numbers of the rows with 0 successes in 0 attempts, which the views leave
        out."""
        return [int(line) for line in self._lines[self._unattempted]]

    def label_columns(self, exclude: tuple[str, ...] = ()) -> dict[str, int]:
        """Columns that split the rows into groups: column -> number of distinct values, for
        every column outside ``exclude`` whose values repeat but are not all the same (a
        ``model`` column, or a ``problem`` id that occurs once per model). Fewest values first.
        Needs ``labels=True``.

        Rows from several groups, pooled, are one population of p that no single model has; the
        command line warns about it.
        """
        require(self._distinct is not None, "label_columns: read the file with labels=True")
        rows = len(self._lines)
        groups = {name: len(seen) for name, seen in zip(self.header, self._distinct)
                  if name not in exclude and 1 < len(seen) < rows}
        return dict(sorted(groups.items(), key=lambda item: item[1]))


def read_counts_csv(path: str | os.PathLike, successes_column: str = "successes",
                    attempts_column: str = "attempts") -> tuple[np.ndarray, np.ndarray]:
    """Successes and attempts per problem from a CSV with a header row.

    Other columns (``problem``, labels, ...) are ignored. A UTF-8 byte-order mark and spaces
    around header names and cells are tolerated.
    """
    return CountFile(path, successes_column, attempts_column).counts()


def refuse_npy_by(path, group_column: str) -> None:
    """A ``.npy`` matrix holds one group's outcomes: refuse ``--by`` on it, in one line."""
    if str(path).lower().endswith(".npy"):
        raise SimsearchError(f"by: {path} is a .npy matrix of one group's outcomes; --by "
                             f"{group_column} needs a counts CSV with that column")


def read_count_groups(path: str | os.PathLike, group_column: str,
                      successes_column: str = "successes", attempts_column: str = "attempts"
                      ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Counts per value of ``group_column`` (e.g. one group per model), in file order."""
    refuse_npy_by(path, group_column)
    return CountFile(path, successes_column, attempts_column, (group_column,)).groups(
        group_column)


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
