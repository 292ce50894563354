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
DOUBLING_COLUMNS = ("replicate", "lab", "doubling", "multiplier", "time", "interval")
EXPLOSION_COLUMNS = ("replicate", "lab", "capped", "cap_time", "doublings", "last_doubling",
                     "last_interval", "block_ratio", "accelerating")
#: Doublings compared by the explosion summary: the last K intervals, and the last K doublings'
#: time against the K before.
SHRINK_WINDOW = 3


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
        names = np.array(self.lab_names, dtype=object)
        return {"replicate": rep[keep], "lab": names[lab[keep]], "doubling": k[keep],
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
        names = np.array(self.lab_names, dtype=object)
        return {"replicate": rep.ravel(), "lab": names[lab.ravel()],
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
        out = {"lab": np.array(self.lab_names, dtype=object), "replicates": np.full(n_labs, r),
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
        tables = {"summary": self.summary_table, "periods": self.periods_table,
                  "wins": self.wins_table, "doublings": self.doublings_table,
                  "explosion": self.explosion_table}
        require(table in tables, f"table: must be one of {', '.join(tables)} (got {table!r})")
        columns = dict(tables[table]())
        for name, values in columns.items():
            if getattr(values, "dtype", None) == object and name != "lab":
                blank = values == ""
                columns[name] = (np.where(blank, np.nan, values).astype(np.float64)
                                 if blank.any() else values.astype(np.int64))
        return to_pandas(columns)
