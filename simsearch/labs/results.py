"""The outcome of a labs simulation and its tidy tables (wins, periods, summary)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import require
from ..frames import to_pandas
from .config import LabsConfig

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

    def wins_table(self) -> dict:
        """Tidy columns for ``wins.csv`` (plus ``loss`` when the config has a loss law)."""
        require(self.wins is not None, "wins: the simulation ran without recording wins")
        w = self.wins
        names = np.array(self.lab_names, dtype=object)
        table = {"replicate": w["replicate"], "lab": names[w["lab"]], "win": w["win"],
                 "compute": w["compute"], "time": w["time"], "p": w["p"],
                 "value": np.exp(w["log_value"]), "multiplier": np.exp(w["log_multiplier"]),
                 "attempts": w["attempts"],
                 "idea": _blank_if_negative(w["idea"]),
                 "published": w["published"].astype(np.int8)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(w["log_multiplier"])
        return table

    def periods_table(self) -> dict:
        """Tidy columns for ``periods.csv``: one row per replicate, lab and period."""
        per = self.periods
        r, n_labs, n_per = per["compute"].shape
        rep, lab, t = np.meshgrid(np.arange(r), np.arange(n_labs), np.arange(n_per), indexing="ij")
        names = np.array(self.lab_names, dtype=object)
        budgets = np.broadcast_to(self.budgets(), (r, n_labs, n_per))
        pool = per["pool_remaining"].ravel()
        tried = per["ideas_tried"].ravel()
        table = {"replicate": rep.ravel(), "lab": names[lab.ravel()], "period": t.ravel(),
                 "budget": budgets.ravel(), "compute": per["compute"].ravel(),
                 "cumulative_compute": per["cumulative_compute"].ravel(),
                 "multiplier": np.exp(per["log_multiplier"].ravel()),
                 "log_multiplier": per["log_multiplier"].ravel(),
                 "wins": per["wins"].ravel().astype(np.int64),
                 "pool_remaining": _blank_if_negative(pool),
                 "ideas_tried": _blank_if_negative(tried)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(per["log_multiplier"].ravel())
        return table

    def summary_table(self) -> dict:
        """Tidy columns for ``summary.csv``: one row per replicate and lab, at the end."""
        per = self.periods
        r, n_labs, _ = per["compute"].shape
        rep, lab = np.meshgrid(np.arange(r), np.arange(n_labs), indexing="ij")
        names = np.array(self.lab_names, dtype=object)
        pool = per["pool_remaining"][:, :, -1].ravel()
        tried = per["ideas_tried"][:, :, -1].ravel()
        table = {"replicate": rep.ravel(), "lab": names[lab.ravel()],
                 "wins": per["wins"][:, :, -1].ravel().astype(np.int64),
                 "compute": per["cumulative_compute"][:, :, -1].ravel(),
                 "multiplier": np.exp(per["log_multiplier"][:, :, -1].ravel()),
                 "pool_remaining": _blank_if_negative(pool),
                 "ideas_tried": _blank_if_negative(tried),
                 "ideas_dropped": np.repeat(self.dropped, n_labs)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(
                per["log_multiplier"][:, :, -1].ravel())
        return table

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
        tables = {"summary": self.summary_table, "periods": self.periods_table,
                  "wins": self.wins_table}
        require(table in tables, f"table: must be one of {', '.join(tables)} (got {table!r})")
        columns = dict(tables[table]())
        for name, values in columns.items():
            if getattr(values, "dtype", None) == object and name != "lab":
                blank = values == ""
                columns[name] = (np.where(blank, np.nan, values).astype(np.float64)
                                 if blank.any() else values.astype(np.int64))
        return to_pandas(columns)
