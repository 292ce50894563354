"""The outcome of a labs simulation, its tidy tables (wins, periods, summary) and those tables
read back from a ``simsearch labs --out DIR`` directory (:func:`read_labs`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SimsearchError, require
from ..frames import to_pandas
from ..output import DIRECTORY_TABLE_FORMATS, read_manifest, read_table, table_format
from .config import LabsConfig

#: The tables of a labs run, each a file NAME.FORMAT in its output directory.
TABLES = ("summary", "periods", "wins", "estimates")

WIN_COLUMNS = ("replicate", "lab", "win", "compute", "time", "p", "value", "multiplier",
               "attempts", "idea", "published")
SUMMARY_COLUMNS = ("replicate", "lab", "wins", "compute", "multiplier", "pool_remaining",
                   "ideas_tried", "ideas_dropped")
PERIOD_COLUMNS = ("replicate", "lab", "period", "budget", "compute", "cumulative_compute",
                  "multiplier", "log_multiplier", "wins", "pool_remaining", "ideas_tried")


def _blank_if_negative(counts: np.ndarray) -> np.ndarray:
    """Integer counts as CSV cells, empty where -1 marks "does not apply" (streams have no
    pool, finite pools count no ideas tried, stream wins have no idea id)."""
    return np.where(counts >= 0, counts.astype(np.int64).astype(object), "")


def _nan_if_negative(counts: np.ndarray) -> np.ndarray:
    """The same counts typed, as ``pandas.read_csv`` reads the CSV's column: int64, or float64
    with NaN where any count does not apply."""
    if (counts >= 0).all():
        return counts.astype(np.int64)
    return np.where(counts >= 0, counts, np.nan)


@dataclass
class LabsResult:
    """Outcome of :func:`simulate_labs`.

    Attributes
    ----------
    config : LabsConfig
    replicates : int
    seed_entropy : int
        Entropy of the root ``SeedSequence``; rerunning with it reproduces every number.
    wins : dict of numpy arrays or None
        One row per win, in time order within a replicate (see ``WIN_COLUMNS``); ``None`` when
        the simulation was run with ``record_wins=False``.
    periods : dict of numpy arrays of shape (replicates, labs, periods)
        ``compute`` spent in the period, ``cumulative_compute``, ``log_multiplier``, ``wins``
        (cumulative), ``pool_remaining`` (-1 for a stream) and ``ideas_tried`` (streams only,
        else -1), all at the period's end.
    n_wins : numpy.ndarray
        Wins per replicate, all labs.
    dropped : numpy.ndarray
        Replenished ideas per replicate that did not fit in ``pool.max_ideas`` (always 0
        without it: the pool grows instead).
    """

    config: LabsConfig
    replicates: int
    seed_entropy: int
    wins: dict | None
    periods: dict
    n_wins: np.ndarray
    dropped: np.ndarray

    @property
    def lab_names(self) -> list[str]:
        return [lab.name for lab in self.config.labs]

    def budgets(self) -> np.ndarray:
        """Budget of each lab in each period, shape (labs, periods)."""
        t = np.arange(self.config.periods)
        return np.array([lab.budget * (1.0 + lab.growth) ** t for lab in self.config.labs])

    def _lab_column(self, codes: np.ndarray) -> np.ndarray:
        """Lab names of lab indices ``codes``, as a string array."""
        return np.array(self.lab_names, dtype=str)[codes]

    def wins_table(self, *, typed: bool = False) -> dict:
        """Tidy columns for ``wins.csv`` (plus ``loss`` when the config has a loss law).

        With ``typed``, columns for a binary file or a DataFrame: a count that does not apply
        (a stream win's ``idea``) is NaN rather than a blank cell (see :meth:`table`).
        """
        require(self.wins is not None, "wins: the simulation ran without recording wins")
        w = self.wins
        blank = _nan_if_negative if typed else _blank_if_negative
        table = {"replicate": w["replicate"], "lab": self._lab_column(w["lab"]), "win": w["win"],
                 "compute": w["compute"], "time": w["time"], "p": w["p"],
                 "value": np.exp(w["log_value"]), "multiplier": np.exp(w["log_multiplier"]),
                 "attempts": w["attempts"],
                 "idea": blank(w["idea"]),
                 "published": w["published"].astype(np.int8)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(w["log_multiplier"])
        return table

    def periods_table(self, *, typed: bool = False) -> dict:
        """Tidy columns for ``periods.csv``: one row per replicate, lab and period (``typed``:
        see :meth:`wins_table`)."""
        per = self.periods
        r, n_labs, n_per = per["compute"].shape
        rep, lab, t = np.meshgrid(np.arange(r), np.arange(n_labs), np.arange(n_per), indexing="ij")
        blank = _nan_if_negative if typed else _blank_if_negative
        budgets = np.broadcast_to(self.budgets(), (r, n_labs, n_per))
        pool = per["pool_remaining"].ravel()
        tried = per["ideas_tried"].ravel()
        table = {"replicate": rep.ravel(), "lab": self._lab_column(lab.ravel()),
                 "period": t.ravel(),
                 "budget": budgets.ravel(), "compute": per["compute"].ravel(),
                 "cumulative_compute": per["cumulative_compute"].ravel(),
                 "multiplier": np.exp(per["log_multiplier"].ravel()),
                 "log_multiplier": per["log_multiplier"].ravel(),
                 "wins": per["wins"].ravel().astype(np.int64),
                 "pool_remaining": blank(pool),
                 "ideas_tried": blank(tried)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(per["log_multiplier"].ravel())
        return table

    def summary_table(self, *, typed: bool = False) -> dict:
        """Tidy columns for ``summary.csv``: one row per replicate and lab, at the end
        (``typed``: see :meth:`wins_table`)."""
        per = self.periods
        r, n_labs, _ = per["compute"].shape
        rep, lab = np.meshgrid(np.arange(r), np.arange(n_labs), indexing="ij")
        blank = _nan_if_negative if typed else _blank_if_negative
        pool = per["pool_remaining"][:, :, -1].ravel()
        tried = per["ideas_tried"][:, :, -1].ravel()
        table = {"replicate": rep.ravel(), "lab": self._lab_column(lab.ravel()),
                 "wins": per["wins"][:, :, -1].ravel().astype(np.int64),
                 "compute": per["cumulative_compute"][:, :, -1].ravel(),
                 "multiplier": np.exp(per["log_multiplier"][:, :, -1].ravel()),
                 "pool_remaining": blank(pool),
                 "ideas_tried": blank(tried),
                 "ideas_dropped": np.repeat(self.dropped, n_labs)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(
                per["log_multiplier"][:, :, -1].ravel())
        return table

    def table(self, table: str = "summary", *, typed: bool = False) -> dict:
        """The columns of one tidy table, by name.

        Parameters
        ----------
        table : {"summary", "periods", "wins"}
            Which table (``summary.csv``, ``periods.csv`` or ``wins.csv``).
        typed : bool, default False
            False: the CSV's cells, blank where a count does not apply (a stream's pool, a
            finite pool's ideas tried, a stream win's idea). True: one numeric or string dtype
            per column, as a binary file (``--format npz`` or ``parquet``) or a DataFrame holds
            it: such a column is float64 with NaN where the count does not apply, int64 when
            it always applies; lab names are strings.
        """
        tables = {"summary": self.summary_table, "periods": self.periods_table,
                  "wins": self.wins_table}
        require(table in tables, f"table: must be one of {', '.join(tables)} (got {table!r})")
        return tables[table](typed=typed)

    def to_pandas(self, table: str = "summary"):
        """One of the tidy tables as a pandas DataFrame, with the CSV's columns.

        Parameters
        ----------
        table : {"summary", "periods", "wins"}
            Which table (``summary.csv``, ``periods.csv`` or ``wins.csv``).

        Returns
        -------
        pandas.DataFrame
            Counts that do not apply (blank in the CSV: a stream's pool, a finite pool's ideas
            tried) are missing values, as ``pandas.read_csv`` reads them.
        """
        return to_pandas(self.table(table, typed=True))


@dataclass(frozen=True)
class LabsTables:
    """The tables of a ``simsearch labs --out DIR`` run, read back (see :func:`read_labs`).

    Attributes
    ----------
    directory : pathlib.Path
    manifest : dict
        ``manifest.json``: config, seed, versions, each file's SHA-256.
    format : {"csv", "npz", "parquet"}
    files : dict
        Table name -> file name, for the tables the run wrote (``wins`` unless ``--no-wins``,
        ``estimates`` with ``--estimate``).
    """

    directory: Path
    manifest: dict
    format: str
    files: dict

    def table(self, table: str = "summary") -> dict:
        """One table's columns, in order, as numpy arrays typed as
        :meth:`LabsResult.table` with ``typed=True`` gives them (lab names strings; a count
        that does not apply NaN)."""
        require(table in self.files, f"table: {str(self.directory)!r} holds "
                                     f"{', '.join(self.files)} (got {table!r})")
        return read_table(self.directory / self.files[table])

    def to_pandas(self, table: str = "summary"):
        """One table as a pandas DataFrame, as :meth:`LabsResult.to_pandas` gives it."""
        return to_pandas(self.table(table))


def read_labs(directory: str | os.PathLike) -> LabsTables:
    """Open the output directory of ``simsearch labs`` in any ``--format``.

    Every file is checked against the SHA-256 its manifest records before anything is read.

    Raises
    ------
    SimsearchError
        No manifest, a file that does not match it, or a directory not written by
        ``simsearch labs``.
    """
    directory = Path(directory)
    meta = read_manifest(directory)
    files = {}
    for name in meta.get("files", {}):
        stem, dot, suffix = name.rpartition(".")
        if dot and stem in TABLES and suffix in DIRECTORY_TABLE_FORMATS:
            files[stem] = name
    formats = {table_format(name) for name in files.values()}
    if meta.get("command") != "labs" or len(formats) != 1:
        raise SimsearchError(f"{str(directory)!r}: not the output of simsearch labs (its "
                             f"manifest lists {', '.join(meta.get('files', {})) or 'no files'})")
    return LabsTables(directory, meta, formats.pop(), {t: files[t] for t in TABLES if t in files})
