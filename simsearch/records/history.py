"""Histories of research wins: one row per win, read from CSV and checked.

A history is a sequence of wins at times ``t_0 <= t_1 <= ... <= t_n``, with the progress
``y_i`` made up to each (``y_0 = 0`` at the first row, the starting point). Progress is the log
of the record's improvement over the first row (``--record``; ``log(R_0 / R_i)`` when lower is
better) or the cumulative gain since the first row (``--gain``; the first row's own gain is the
starting point and does not count).

The time axis is either calendar time (ISO dates, measured in years since the first row) or a
number (cumulative effort, an attempt counter). With ``--effort`` the effort spent per win is
cumulated into the time axis, and kept per win for Pandey's test.
"""

from __future__ import annotations

import csv
import math
import re
from datetime import date
from typing import NamedTuple

import numpy as np

from ..errors import SimsearchError, require

#: Days per year for calendar axes (years since the first row).
DAYS_PER_YEAR = 365.25


class History(NamedTuple):
    """A checked history of wins, sorted by time.

    Attributes
    ----------
    time : ndarray
        The model's time axis per row: years since the first row (dates), the number as given,
        or cumulative effort (with ``effort``).
    progress : ndarray
        Progress up to each row; 0 at the first row, strictly increasing.
    effort : ndarray or None
        Effort spent on each win (row 0: the starting point's), or None.
    start : float
        The first row's record (``record`` histories) or 0 (``gain`` histories).
    kind : str
        "record" or "gain".
    lower_is_better : bool
        For records: a smaller record is better (e.g. minutes to train).
    calendar : bool
        The time axis is calendar time (ISO dates); ``origin`` is then the first row's date.
    origin : str or None
        ISO date of the first row (calendar axes).
    warnings : tuple of str
        What was dropped or reordered while reading.
    observed_until : float or None
        End of observation on the model axis, when later than the last win: the last row's
        time (a row that did not improve the record still says nothing better was found by
        then), or a time the user gives. A long stretch without a new record is evidence of a
        low rate of records, which fits and forecasts use. None: the last win's time.
    """

    time: np.ndarray
    progress: np.ndarray
    effort: np.ndarray | None
    start: float
    kind: str
    lower_is_better: bool
    calendar: bool
    origin: str | None
    warnings: tuple
    observed_until: float | None = None

    @property
    def end(self) -> float:
        """End of observation on the model axis: :attr:`observed_until`, or the last win."""
        last = float(self.time[-1])
        return last if self.observed_until is None else max(float(self.observed_until), last)

    @property
    def wins(self) -> int:
        """Wins after the starting row."""
        return int(self.progress.size - 1)

    def value(self, progress):
        """The record (or cumulative gain) at the given progress (inf or 0 past float range:
        see :meth:`log_value` and :meth:`value_or_none`)."""
        progress = np.asarray(progress, dtype=float)
        if self.kind == "gain":
            return progress
        with np.errstate(over="ignore", under="ignore"):
            return self.start * np.exp(-progress if self.lower_is_better else progress)

    def log_value(self, progress):
        """The natural log of the record at the given progress (records only): exact where
        the record itself is beyond float range."""
        progress = np.asarray(progress, dtype=float)
        return math.log(self.start) + (-progress if self.lower_is_better else progress)

    def value_or_none(self, progress) -> float | None:
        """The record (or gain) at one progress as a float, or None where it is not one: the
        progress is unbounded, or the record is beyond float range (its log above ~709.78 or
        below ~-708.4, where exp overflows or loses digits)."""
        progress = float(progress)
        if not math.isfinite(progress):
            return None
        if self.kind == "gain":
            return progress
        log = float(self.log_value(progress))
        return math.exp(log) if -708.0 < log < 709.78 else None

    def format_value(self, progress) -> str:
        """One progress as the user reads it: the record, ``e^X`` (X its natural log) beyond
        float range, ``unbounded`` where the progress is infinite."""
        value = self.value_or_none(progress)
        if value is not None:
            return f"{value:.5g}"
        if not math.isfinite(float(progress)):
            return "unbounded"
        return f"e^{float(self.log_value(progress)):.6g}"

    def progress_of(self, value):
        """Inverse of :meth:`value`."""
        value = np.asarray(value, dtype=float)
        if self.kind == "gain":
            return value
        ratio = np.log(value / self.start)
        return -ratio if self.lower_is_better else ratio

    def progress_at(self, when) -> np.ndarray:
        """The observed progress at each time: that of the last win at or before it."""
        idx = np.searchsorted(self.time, np.asarray(when, dtype=float), side="right") - 1
        return self.progress[np.maximum(idx, 0)]

    def before(self, when: float) -> "History":
        """The history of the rows strictly before time ``when``, observed until ``when``."""
        keep = int(np.searchsorted(self.time, when, side="left"))
        effort = None if self.effort is None else self.effort[:keep]
        return self._replace(time=self.time[:keep], progress=self.progress[:keep], effort=effort,
                             observed_until=float(when))

    def parse_time(self, text: str, field: str = "at") -> float:
        """A time given on the command line (an ISO date on calendar axes) on the model axis."""
        # With --effort the axis is cumulative effort even when the time column holds dates;
        # a date there needs saying why it is refused.
        require(self.calendar or self.effort is None or _parse_date(text) is None,
                f"{field}: with --effort the time axis is cumulative effort (it ends at "
                f"{self.end:g}): give --{field} as cumulative effort, not a date (got {text!r})")
        return parse_time(text, self.origin if self.calendar else None, field)

    def format_time(self, t: float) -> str:
        """A model-axis time as the user writes it (an ISO date on calendar axes)."""
        if self.calendar:
            ordinal = date.fromisoformat(self.origin).toordinal()
            return date.fromordinal(int(round(ordinal + t * DAYS_PER_YEAR))).isoformat()
        return f"{t:g}"


#: An ISO date in the extended format (YYYY-MM-DD), optionally followed by a time. Python's
#: fromisoformat also takes the basic format (YYYYMMDD), which would read a number such as a
#: Unix timestamp (1600071732.9) as a date.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\d])")


def _parse_date(text: str) -> date | None:
    text = text.strip()
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_time(text: str, origin: str | None, field: str = "at") -> float:
    """``text`` on the model's time axis: years since ``origin`` if it is a date, else a number."""
    if origin is not None:
        day = _parse_date(text)
        require(day is not None, f"{field}: expected an ISO date such as 2026-01-31 "
                                 f"(got {text!r})")
        return (day.toordinal() - date.fromisoformat(origin).toordinal()) / DAYS_PER_YEAR
    try:
        value = float(text)
    except ValueError:
        raise SimsearchError(f"{field}: expected a number on the history's time axis "
                             f"(got {text!r})") from None
    require(math.isfinite(value), f"{field}: must be finite (got {text!r})")
    return value


def _parse_where(where) -> list[tuple[str, str]]:
    pairs = []
    for item in where or ():
        name, sep, value = item.partition("=")
        require(bool(sep) and bool(name.strip()),
                f"where: expected COLUMN=VALUE (got {item!r})")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _column(rows, header, name, field):
    # One header cell holding a ';' or a tab: a file in another dialect, read as one column.
    hint = next((f" (the file looks separated by {sep!r}; give a comma-separated file)"
                 for sep in (";", "\t") if len(header) == 1 and sep in header[0]), "")
    require(name in header, f"{field}: no column {name!r} in the history; columns: "
                            f"{', '.join(header)}{hint}")
    return [row[name].strip() for row in rows]


#: Cells that mean "no value" (lower case): empty, and what pandas, R and spreadsheets write.
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})


def _missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def _numbers(cells, name, field, lines, positive=False):
    """The cells as floats; errors name the line of the file (``lines``), not the index among
    the rows left after ``--where`` and drops."""
    out = np.empty(len(cells))
    for i, cell in enumerate(cells):
        require(not _missing(cell), f"{field}: column {name!r} line {lines[i]} is missing "
                                    f"(got {cell!r})")
        try:
            out[i] = float(cell)
        except ValueError:
            raise SimsearchError(f"{field}: column {name!r} line {lines[i]} is not a number "
                                 f"(got {cell!r})") from None
        bad = not math.isfinite(out[i]) or (positive and out[i] <= 0)
        require(not bad, f"{field}: column {name!r} line {lines[i]} must be a finite number"
                         f"{' > 0' if positive else ''} (got {cell!r})")
    return out


def _drop_missing(rows, lines, cells, name, field, warnings):
    """Rows whose ``name`` cell is missing dropped, with a warning (a history with holes is
    common: pandas writes NaN as an empty cell, R as NA)."""
    gone = [_missing(c) for c in cells]
    if not any(gone):
        return rows, lines, cells
    warnings.append(f"{field}: dropped {sum(gone)} rows with a missing {name!r} (empty or NA)")
    keep = [not g for g in gone]
    rows = [r for r, k in zip(rows, keep) if k]
    require(len(rows) > 0, f"{field}: every row has a missing {name!r}")
    return rows, [n for n, k in zip(lines, keep) if k], [c for c, k in zip(cells, keep) if k]


def read_history(path, *, time: str, record: str | None = None, gain: str | None = None,
                 lower_is_better: bool = False, effort: str | None = None,
                 where=None, until: str | None = None) -> History:
    """Read and check a history of wins from a CSV file (one row per win).

    Parameters
    ----------
    path : path
        CSV with a header row.
    time : str
        Time column: ISO dates or numbers.
    record, gain : str
        Exactly one: the record after each win, or the size of each win.
    lower_is_better : bool
        The record improves downwards (only with ``record``).
    effort : str, optional
        Effort spent per win; cumulated into the time axis.
    where : list of "COLUMN=VALUE"
        Keep only the rows matching every condition.
    until : str, optional
        End of observation (an ISO date on date axes, else a number on the time axis), at or
        after the last row: nothing better was found between the last row and it. Default:
        the last row's time, whether or not that row improved the record. Not with
        ``effort`` (the axis then ends with the effort of the last row).

    Returns
    -------
    History

    Raises
    ------
    SimsearchError
        One line naming the field (and the file's line): a missing column or file, a cell
        that is not a number or date, a missing effort, fewer than three wins left. Unsorted
        rows are sorted, and rows with a missing time or measure (empty, NA, NaN: see
        :data:`MISSING`) and records that do not improve are dropped, each with a warning.
    """
    require((record is None) != (gain is None), "record: give exactly one of --record and --gain")
    require(not (lower_is_better and gain is not None),
            "lower-is-better: applies to --record histories only")
    header, rows, lines = _read_rows(path, where)
    warnings = []

    # Rows without a time or a measure say nothing: dropped, with a warning each.
    time_cells = _column(rows, header, time, "time")
    rows, lines, time_cells = _drop_missing(rows, lines, time_cells, time, "time", warnings)
    measure_name = record if record is not None else gain
    measure = "record" if record is not None else "gain"
    cells = _column(rows, header, measure_name, measure)
    rows, lines, cells = _drop_missing(rows, lines, cells, measure_name, measure, warnings)
    time_cells = _column(rows, header, time, "time")
    days = [_parse_date(c) for c in time_cells]
    calendar = any(d is not None for d in days)
    if calendar:
        bad = next((i for i, d in enumerate(days) if d is None), None)
        require(bad is None, f"time: column {time!r} line {lines[bad or 0]} is not an ISO "
                             f"date like the others (got {time_cells[bad or 0]!r})")
        raw_time = np.array([d.toordinal() for d in days], dtype=float)
    else:
        for cell, line in zip(time_cells, lines):
            try:
                float(cell)
            except ValueError:
                raise SimsearchError(f"time: column {time!r} line {line} is neither an ISO "
                                     f"date (such as 2026-01-31) nor a number (got {cell!r})"
                                     ) from None
        raw_time = _numbers(time_cells, time, "time", lines)
    values = _numbers(cells, measure_name, measure, lines, positive=record is not None)
    per_win = None if effort is None else _numbers(_column(rows, header, effort, "effort"),
                                                   effort, "effort", lines)
    if per_win is not None:
        require(bool(np.all(per_win >= 0)), f"effort: column {effort!r} must be >= 0")

    order = np.argsort(raw_time, kind="stable")
    if np.any(order != np.arange(order.size)):
        warnings.append(f"time: rows were not in time order; sorted by {time!r}")
        raw_time, values = raw_time[order], values[order]
        per_win = None if per_win is None else per_win[order]
    if np.any(np.diff(raw_time) == 0):
        warnings.append(f"time: {int(np.sum(np.diff(raw_time) == 0))} rows share a time with "
                        f"the row before (kept: several wins on one day)")

    keep, progress, start = _progress(values, record is not None, lower_is_better, warnings)
    last_raw = float(raw_time[-1])  # the last row, improving or not: observation ends there
    raw_time = raw_time[keep]
    if per_win is not None:
        # Effort of dropped rows still counts: it was spent before the next win.
        spent = np.cumsum(per_win)
        per_win = np.diff(np.r_[0.0, spent[keep]])
        axis = spent[keep]
        require(bool(axis[0] > 0), "effort: the first row's effort must be > 0 (the time axis "
                                   "is cumulative effort)")
    elif calendar:
        axis = (raw_time - raw_time[0]) / DAYS_PER_YEAR
    else:
        axis = raw_time
    observed = _observation_end(until, last_raw, raw_time[0], axis, calendar,
                                spent=None if per_win is None else spent)
    hint = ("; most rows do not improve the record: is --lower-is-better missing or wrong?"
            if record is not None and (~keep).sum() > keep.sum() else "")
    require(progress.size >= 4, f"history: {progress.size - 1} wins after the first row; "
                                f"at least 3 are needed{hint}")
    origin = date.fromordinal(int(raw_time[0])).isoformat() if calendar and per_win is None else None
    return History(time=np.asarray(axis, dtype=float), progress=progress, effort=per_win,
                   start=start, kind="record" if record is not None else "gain",
                   lower_is_better=lower_is_better, calendar=origin is not None, origin=origin,
                   warnings=tuple(warnings), observed_until=observed)


def _read_rows(path, where) -> tuple[list[str], list[dict], list[int]]:
    """The header, the rows (stripped cells) of a CSV file filtered by ``where``, and each
    row's line in the file (for errors)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or ()]
            rows, lines = [], []
            for row in reader:
                rows.append({(k or "").strip(): (v or "") for k, v in row.items()})
                lines.append(reader.line_num)  # the file's line (quoted newlines counted)
    except FileNotFoundError:
        raise SimsearchError(f"history: no such file {str(path)!r}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SimsearchError(f"history: {str(path)!r} is not a readable CSV file ({exc})") from None
    require(bool(header), f"history: {str(path)!r} is empty (no header row)")
    for name, value in _parse_where(where):
        cells = _column(rows, header, name, "where")
        lines = [n for n, cell in zip(lines, cells) if cell == value]
        rows = [row for row, cell in zip(rows, cells) if cell == value]
    require(len(rows) > 0, "history: no rows" + (" match --where" if where else ""))
    return header, rows, lines


def _progress(values, is_record: bool, lower_is_better: bool, warnings: list):
    """(rows kept, progress per kept row, start) from records or gains in time order: a
    record row is kept when it improves on the best before it, a gain row when it is > 0."""
    if is_record:
        level = (-1.0 if lower_is_better else 1.0) * np.log(values)
        best = np.maximum.accumulate(level)
        keep = np.r_[True, level[1:] > best[:-1]]
        if not keep.all():
            warnings.append(f"record: dropped {int((~keep).sum())} rows that do not improve on "
                            f"the record before them")
        return keep, level[keep] - level[0], float(values[0])
    keep = np.r_[True, values[1:] > 0]
    if not keep.all():
        warnings.append(f"gain: dropped {int((~keep).sum())} rows with a gain <= 0 (not wins)")
    return keep, np.r_[0.0, np.cumsum(values[1:][keep[1:]])], 0.0


def _observation_end(until, last_raw: float, first_raw: float, axis, calendar: bool,
                     spent) -> float | None:
    """The end of observation on the model axis (None: the last win), from the last row (or
    the cumulative effort of every row) or from ``until``."""
    last = (last_raw - first_raw) / DAYS_PER_YEAR if calendar else last_raw
    if spent is not None:
        require(until is None, "until: not with --effort (the time axis is cumulative effort, "
                               "which ends with the effort of the last row)")
        end = float(spent[-1])
    elif until is None:
        end = last
    else:
        origin = date.fromordinal(int(first_raw)).isoformat() if calendar else None
        end = parse_time(until, origin, "until")
        shown = date.fromordinal(int(last_raw)).isoformat() if calendar else f"{last_raw:g}"
        require(end >= last, f"until: must be at or after the history's last row ({shown}) "
                             f"(got {until!r})")
    return end if end > float(axis[-1]) else None
