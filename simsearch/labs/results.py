"""The outcome of a labs simulation, its tidy tables (wins, periods, summary) and those tables
read back from a ``simsearch labs --out DIR`` directory (:func:`read_labs`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SimsearchError, require
from ..io.frames import to_pandas
from ..io.directory import write_directory
from ..io.output import read_manifest
from ..io.tables import DIRECTORY_TABLE_FORMATS, read_table, table_data, table_format
from .config import LabsConfig

#: The tables of a labs run, each a file NAME.FORMAT in its output directory.
TABLES = ("summary", "periods", "wins", "doublings", "explosion", "estimates")

#: Doublings compared by the explosion summary: the last K intervals, and the last K doublings'
#: time against the K before.
SHRINK_WINDOW = 3


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


def exp_or_missing(logs: np.ndarray, typed: bool) -> np.ndarray:
    """exp of log multipliers or log values, missing where it exceeds the largest float
    (log > ~709.78): blank CSV cells, or NaN when ``typed``; the log column holds the number.
    A cell of inf would say the multiplier is infinite, which is not what happened."""
    with np.errstate(over="ignore"):
        values = np.exp(logs)
    over = np.isinf(values) & np.isfinite(logs)
    if not over.any():
        return values
    if typed:
        return np.where(over, np.nan, values)
    return np.where(over, "", values.astype(object))


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
        One row per win, in time order within a replicate (replicate, lab, win, compute,
        time, p, value, multiplier, attempts, idea, published); ``None`` when
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
    limits : dict of numpy arrays
        ``cap_time`` (replicates, labs): when the lab's multiplier reached ``limits.multiplier``
        (NaN if never); ``doubling_time`` (replicates, labs, d): the first time A >= 2^(k+1)
        (NaN if never), exact event times recorded by the kernel, own and received wins alike.
    """

    config: LabsConfig
    replicates: int
    seed_entropy: int
    wins: dict | None
    periods: dict
    n_wins: np.ndarray
    dropped: np.ndarray
    limits: dict | None = None

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
                 "value": exp_or_missing(w["log_value"], typed),
                 "multiplier": exp_or_missing(w["log_multiplier"], typed),
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
                 "multiplier": exp_or_missing(per["log_multiplier"].ravel(), typed),
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
                 "multiplier": exp_or_missing(per["log_multiplier"][:, :, -1].ravel(), typed),
                 "pool_remaining": blank(pool),
                 "ideas_tried": blank(tried),
                 "ideas_dropped": np.repeat(self.dropped, n_labs)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(
                per["log_multiplier"][:, :, -1].ravel())
        return table

    def doubling_times(self) -> np.ndarray:
        """First time A >= 2^k for k = 1..d, shape (replicates, labs, d), NaN if never."""
        require(self.limits is not None, "doublings: this result has no limit records")
        return self.limits["doubling_time"]

    def doublings_table(self) -> dict:
        """Tidy columns for ``doublings.csv``: one row per replicate, lab and doubling reached.

        ``time`` is exact: the event time (in periods) of the win, the lab's own or one
        published to it, that first brought A to 2^doubling or more; ``interval`` is the time
        since the previous doubling (since 0 for the first). Several doublings at one win share
        its time (interval 0).
        """
        times = self.doubling_times()
        r, n_labs, d = times.shape
        intervals = np.diff(times, axis=2, prepend=0.0)
        rep, lab, k = np.meshgrid(np.arange(r), np.arange(n_labs), np.arange(1, d + 1),
                                  indexing="ij")
        keep = ~np.isnan(times)
        return {"replicate": rep[keep], "lab": self._lab_column(lab[keep]), "doubling": k[keep],
                "multiplier": 2.0 ** k[keep], "time": times[keep],
                "interval": intervals[keep]}

    def explosion_table(self, window: int = SHRINK_WINDOW) -> dict:
        """Tidy columns for ``explosion.csv``: per replicate and lab, did A explode?

        With doublings at times T_1 < ... < T_n (T_0 = 0) and intervals d_k = T_k - T_(k-1):

        - ``capped``: A reached ``limits.multiplier`` (1/0), at ``cap_time`` (blank if not);
        - ``doublings`` n, ``last_doubling`` T_n and ``last_interval`` d_n;
        - ``block_ratio`` = (T_n - T_(n-K)) / (T_(n-K) - T_(n-2K)), K = ``window``: the time
          of the last K doublings over the K before (below 1: doubling faster; in Kortum's
          model with feedback its expectation tends to 2^(K (theta - s + e))); blank when
          n < 2K;
        - ``accelerating``: the last K intervals strictly shrinking, d_(n-K) > ... > d_n, each
          ratio below 1 (0 when n < K + 1).
        """
        require(self.limits is not None, "explosion: this result has no limit records")
        require(isinstance(window, int) and window >= 1,
                f"window: must be an integer >= 1 (got {window!r})")
        times = self.doubling_times()
        r, n_labs, d = times.shape
        count = (~np.isnan(times)).sum(axis=2).reshape(-1)
        flat = np.concatenate([np.zeros((r * n_labs, 1)), times.reshape(r * n_labs, d)], axis=1)
        rows = np.arange(r * n_labs)

        def at(k):  # T_k per row, NaN where k < 0
            return np.where(k >= 0, flat[rows, np.clip(k, 0, d)], np.nan)

        last = at(count)
        last_interval = np.where(count >= 1, last - at(count - 1), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (last - at(count - window)) / (at(count - window) - at(count - 2 * window))
        ratio = np.where((count >= 2 * window) & np.isfinite(ratio), ratio, np.nan)
        intervals = np.diff(flat, axis=1)
        accelerating = np.zeros(r * n_labs, dtype=np.int8)
        for i in np.flatnonzero(count >= window + 1):
            tail = intervals[i, count[i] - window - 1:count[i]]
            accelerating[i] = np.all(tail[1:] < tail[:-1])
        cap_time = self.limits["cap_time"].reshape(-1)
        rep, lab = np.meshgrid(np.arange(r), np.arange(n_labs), indexing="ij")
        return {"replicate": rep.ravel(), "lab": self._lab_column(lab.ravel()),
                "capped": (~np.isnan(cap_time)).astype(np.int8), "cap_time": cap_time,
                "doublings": count, "last_doubling": np.where(count >= 1, last, np.nan),
                "last_interval": last_interval, "block_ratio": ratio,
                "accelerating": accelerating}

    def explosion_summary(self) -> dict:
        """Per lab over replicates: the share that reached the cap and the mean time to it (with
        its standard error, over those that did), the doublings every replicate reached (n), the
        ratio of successive mean doubling intervals (mean d_n / mean d_2)^(1/(n-2)) (in
        Kortum's model with feedback exactly 2^(theta - s + e): below 1 on average
        accelerating; NaN when n < 3), and the share of replicates ``accelerating``."""
        per_rep = self.explosion_table()
        times = self.doubling_times()
        r, n_labs, _ = times.shape
        capped = per_rep["capped"].reshape(r, n_labs).astype(bool)
        cap_time = per_rep["cap_time"].reshape(r, n_labs)
        common = (~np.isnan(times)).sum(axis=2).min(axis=0)
        intervals = np.diff(times, axis=2, prepend=0.0)
        out = {"lab": self._lab_column(np.arange(n_labs)), "replicates": np.full(n_labs, r),
               "capped_share": capped.mean(axis=0), "cap_time_mean": np.full(n_labs, np.nan),
               "cap_time_se": np.full(n_labs, np.nan), "doublings_common": common,
               "interval_ratio": np.full(n_labs, np.nan),
               "accelerating_share": per_rep["accelerating"].reshape(r, n_labs).mean(axis=0)}
        for lab in range(n_labs):
            hit = cap_time[capped[:, lab], lab]
            if hit.size:
                out["cap_time_mean"][lab] = hit.mean()
            if hit.size > 1:
                out["cap_time_se"][lab] = hit.std(ddof=1) / np.sqrt(hit.size)
            n = common[lab]
            if n >= 3:
                first, last = intervals[:, lab, 1].mean(), intervals[:, lab, n - 1].mean()
                if first > 0 and last > 0:
                    out["interval_ratio"][lab] = (last / first) ** (1.0 / (n - 2))
        return out

    def table(self, table: str = "summary", *, typed: bool = False) -> dict:
        """The columns of one tidy table, by name.

        Parameters
        ----------
        table : {"summary", "periods", "wins", "doublings", "explosion"}
            Which table (``summary.csv``, ``periods.csv``, ``wins.csv``, ``doublings.csv``,
            ``explosion.csv``).
        typed : bool, default False
            False: the CSV's cells, blank where a count does not apply (a stream's pool, a
            finite pool's ideas tried, a stream win's idea). True: one numeric or string dtype
            per column, as a binary file (``--format npz`` or ``parquet``) or a DataFrame holds
            it: such a column is float64 with NaN where the count does not apply, int64 when
            it always applies; lab names are strings.
        """
        # doublings and explosion hold numbers only (NaN where nothing happened): typed as is.
        tables = {"summary": self.summary_table, "periods": self.periods_table,
                  "wins": self.wins_table,
                  "doublings": lambda typed: self.doublings_table(),
                  "explosion": lambda typed: self.explosion_table()}
        require(table in tables, f"table: must be one of {', '.join(tables)} (got {table!r})")
        return tables[table](typed=typed)

    def to_pandas(self, table: str = "summary"):
        """One of the tidy tables as a pandas DataFrame, with the CSV's columns.

        Parameters
        ----------
        table : {"summary", "periods", "wins", "doublings", "explosion"}
            Which table (``summary.csv``, ``periods.csv``, ``wins.csv``, ``doublings.csv``,
            ``explosion.csv``).

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


def write_labs(out: str | os.PathLike, result: LabsResult, meta: dict, *, fmt: str = "csv",
               wins: bool = True, estimates: dict | None = None) -> list[str]:
    """Write ``result`` as the output directory of ``simsearch labs`` (what :func:`read_labs`
    reads): the summary, periods, wins (unless ``wins=False``), doublings and explosion
    tables, and ``estimates`` (a table of :meth:`ReturnsEstimator.table`) when given, each as
    ``NAME.FMT``, and ``manifest.json`` (``meta`` plus the tables' SHA-256).

    Tables and manifest are replaced as one unit; tables of a previous run that this one does
    not write (wins after ``wins=False``, estimates, another format's) are removed.

    Returns
    -------
    list of str
        The table files written.
    """
    typed = fmt != "csv"  # binary tables hold NaN where the CSV has a blank cell
    tables = {"summary": result.summary_table(typed=typed),
              "periods": result.periods_table(typed=typed)}
    if wins:
        tables["wins"] = result.wins_table(typed=typed)
    tables["doublings"] = result.doublings_table()
    tables["explosion"] = result.explosion_table()
    if estimates is not None:
        tables["estimates"] = estimates
    files = {f"{name}.{fmt}": table_data(f"{name}.{fmt}", columns)
             for name, columns in tables.items()}
    write_directory(out, files, meta)
    return sorted(files)


def read_labs(directory: str | os.PathLike) -> LabsTables:
    """Open the output directory of ``simsearch labs`` in any ``--format``.

    Every file is checked against the SHA-256 its manifest records before anything is read.

    Raises
    ------
    SimsearchError
        No such directory, no manifest, a file that does not match it, or a directory not
        written by ``simsearch labs``.
    """
    directory = Path(directory)
    # read_manifest takes a path that is not a directory for a data file, and would blame
    # its manifest DIR.json
    if not directory.is_dir():
        raise SimsearchError(f"{directory}: no such directory" if not directory.exists()
                             else f"{directory}: not a directory (give the --out directory "
                                  f"of simsearch labs)")
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
