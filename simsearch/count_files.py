"""Reading per-problem success counts from files: a CSV or a 0/1 ``.npy`` matrix.

Errors name the file, the line or column, and what is allowed; nothing here prints or exits.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from .counts import validate_counts
from .errors import SimsearchError


def _integer_cell(path: str, line: int, column: str, text: str, low: int) -> int:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and value >= low):
        raise SimsearchError(f"{path} line {line}: {column} must be an integer >= {low} "
                             f"(got {text!r})")
    return int(value)


def read_counts_csv(path: str | os.PathLike, successes_column: str = "successes",
                    attempts_column: str = "attempts") -> tuple[np.ndarray, np.ndarray]:
    """Successes and attempts per problem from a CSV with a header row.

    Other columns (``problem``, labels, ...) are ignored.
    """
    name = str(path)
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames
            if not header:
                raise SimsearchError(f"{name}: file is empty; expected a header with "
                                     f"{successes_column!r} and {attempts_column!r}")
            for column in (successes_column, attempts_column):
                if column not in header:
                    raise SimsearchError(f"{name}: no column {column!r} (columns: "
                                         f"{', '.join(header)})")
            succ, att = [], []
            for row in reader:
                line = reader.line_num
                s_text, a_text = row[successes_column], row[attempts_column]
                if s_text is None or a_text is None:
                    raise SimsearchError(f"{name} line {line}: too few fields")
                s = _integer_cell(name, line, successes_column, s_text.strip(), 0)
                a = _integer_cell(name, line, attempts_column, a_text.strip(), 1)
                if s > a:
                    raise SimsearchError(f"{name} line {line}: {successes_column} ({s}) > "
                                         f"{attempts_column} ({a})")
                succ.append(s)
                att.append(a)
    except FileNotFoundError:
        raise SimsearchError(f"{name}: no such file") from None
    except UnicodeDecodeError:
        raise SimsearchError(f"{name}: not a text CSV file") from None
    except csv.Error as exc:
        raise SimsearchError(f"{name}: malformed CSV ({exc})") from None
    if not succ:
        raise SimsearchError(f"{name}: no data rows after the header")
    return validate_counts(succ, att)


def read_counts_npy(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Successes and attempts from a 0/1 matrix of shape (problems, attempts)."""
    name = str(path)
    try:
        matrix = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise SimsearchError(f"{name}: no such file") from None
    except (ValueError, OSError) as exc:
        raise SimsearchError(f"{name}: not a readable .npy array ({exc})") from None
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise SimsearchError(f"{name}: expected a non-empty 2-d 0/1 matrix (problems x "
                             f"attempts), got shape {matrix.shape}")
    bad = ~np.isin(matrix, (0, 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise SimsearchError(f"{name}: entries must be 0 or 1 (problem {i + 1}, attempt "
                             f"{j + 1} is {matrix[i, j]!r})")
    successes = matrix.sum(axis=1).astype(np.int64)
    return validate_counts(successes, np.full(successes.size, matrix.shape[1]))


def read_counts(path: str | os.PathLike, successes_column: str = "successes",
                attempts_column: str = "attempts") -> tuple[np.ndarray, np.ndarray]:
    """Read counts from ``.npy`` (0/1 matrix) or CSV, chosen by the file's suffix."""
    if Path(path).suffix.lower() == ".npy":
        return read_counts_npy(path)
    return read_counts_csv(path, successes_column, attempts_column)
