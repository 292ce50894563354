"""What a finished sweep says: quantiles of each statistic, rank sensitivity to each input, and
a tornado figure of it. Pure functions of tables; the caller reads and writes the files."""

from __future__ import annotations

import csv
import io
import math
import warnings

import numpy as np

QUANTILES = (5, 10, 50, 90, 95)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _number(cell: str) -> float:
    try:
        return float(cell)
    except (TypeError, ValueError):
        return math.nan


def _groups(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, list[dict]]:
    """Rows by their values of ``keys`` (labs: one group per lab), in order of appearance."""
    out: dict[tuple, list[dict]] = {}
    for row in rows:
        out.setdefault(tuple(row[k] for k in keys), []).append(row)
    return out


def summary_table(tables, row_keys: tuple[str, ...] = ()) -> dict:
    """Per statistic (and row key, e.g. lab): rows, finite values, their mean and quantiles.

    Parameters
    ----------
    tables : list of (csv_text, statistics, keys)
        ``results.csv`` with its per-replicate statistics and row keys, and ``points.csv`` with
        its point-level estimates and no keys (their row key cells are left blank).
    row_keys : tuple of str
        The kind's row keys: columns of the summary beside ``statistic``.

    Returns
    -------
    dict
        Columns ``statistic``, the row keys, ``rows``, ``finite``, ``mean``, ``p5``, ``p10``,
        ``p50``, ``p90``, ``p95``; mean and quantiles over the finite values (NaN if none).
    """
    out = {"statistic": [], **{k: [] for k in row_keys}, "rows": [], "finite": [], "mean": [],
           **{f"p{q}": [] for q in QUANTILES}}
    for text, statistics, keys in tables:
        groups = _groups(_rows(text), keys)
        for stat in statistics:
            for group, rows in groups.items():
                values = np.array([_number(row[stat]) for row in rows])
                finite = values[np.isfinite(values)]
                out["statistic"].append(stat)
                for k in row_keys:
                    out[k].append(group[keys.index(k)] if k in keys else "")
                out["rows"].append(len(values))
                out["finite"].append(int(finite.size))
                out["mean"].append(float(finite.mean()) if finite.size else math.nan)
                cuts = np.percentile(finite, QUANTILES) if finite.size else [math.nan] * 5
                for q, v in zip(QUANTILES, cuts):
                    out[f"p{q}"].append(float(v))
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of the pairs where both are numbers (ties get mean ranks;
    infinities rank as the extremes); NaN with fewer than 3 pairs or a constant side."""
    from scipy.stats import spearmanr

    keep = ~(np.isnan(x) | np.isnan(y))
    if keep.sum() < 3:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant input: NaN says it
        return float(spearmanr(x[keep], y[keep]).statistic)


def sensitivity_table(tables, inputs: tuple[str, ...], row_keys: tuple[str, ...] = ()) -> dict:
    """Spearman rank correlation of each numeric input with each statistic (per row key).

    ``tables`` as for :func:`summary_table`; an input whose values are not all numbers (a
    choice of names) is left out. Columns ``input``, ``statistic``, the row keys,
    ``spearman`` and ``n`` (the pairs it used).
    """
    out = {"input": [], "statistic": [], **{k: [] for k in row_keys}, "spearman": [], "n": []}
    for text, statistics, keys in tables:
        groups = _groups(_rows(text), keys)
        for name in inputs:
            for stat in statistics:
                for group, rows in groups.items():
                    x = np.array([_number(row[name]) for row in rows])
                    if np.isnan(x).any():
                        continue
                    y = np.array([_number(row[stat]) for row in rows])
                    out["input"].append(name)
                    out["statistic"].append(stat)
                    for k in row_keys:
                        out[k].append(group[keys.index(k)] if k in keys else "")
                    out["spearman"].append(spearman(x, y))
                    out["n"].append(int((~np.isnan(y)).sum()))
    return out


def tornado_figure(sensitivity: dict, statistics=None, row_key: str | None = None):
    """Tornado figure of a sensitivity table: one panel per statistic, one bar per input
    (largest |rank correlation| at the top), one colour per row key value (lab).

    Parameters
    ----------
    sensitivity : dict
        Columns of :func:`sensitivity_table` (or of ``sensitivity.csv`` read back).
    statistics : list of str, optional
        The panels (default: every statistic in the table).
    row_key : str, optional
        The column whose values get their own bars and legend entries (labs: ``"lab"``).

    Returns
    -------
    matplotlib.figure.Figure
        The shaded band is +-1.96 / sqrt(n - 1), where a rank correlation of zero would fall
        95% of the time.
    """
    import matplotlib.pyplot as plt

    stats = list(dict.fromkeys(sensitivity["statistic"])) if statistics is None \
        else list(statistics)
    n_rows = len(sensitivity["statistic"])
    groups = (list(dict.fromkeys(sensitivity[row_key])) if row_key else [""])
    n_inputs = len(set(sensitivity["input"]))
    ncols = 2 if len(stats) > 1 else 1
    nrows = math.ceil(len(stats) / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(6.0 * ncols, nrows * (1.2 + 0.45 * n_inputs)))
    for ax in axes.flat[len(stats):]:
        ax.set_visible(False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, stat in zip(axes.flat, stats):
        rows = [i for i in range(n_rows) if sensitivity["statistic"][i] == stat]
        inputs = list(dict.fromkeys(sensitivity["input"][i] for i in rows))
        strength = {name: max((abs(float(sensitivity["spearman"][i])) for i in rows
                               if sensitivity["input"][i] == name
                               and math.isfinite(float(sensitivity["spearman"][i]))),
                              default=0.0) for name in inputs}
        inputs.sort(key=lambda name: strength[name])
        present = [g for g in groups if not row_key
                   or any(sensitivity[row_key][i] == g for i in rows)]
        height = 0.8 / len(present)
        for k, group in enumerate(present):
            g = groups.index(group)  # a lab keeps its colour in every panel
            values = []
            for name in inputs:
                match = [float(sensitivity["spearman"][i]) for i in rows
                         if sensitivity["input"][i] == name
                         and (not row_key or sensitivity[row_key][i] == group)]
                values.append(match[0] if match else math.nan)
            y = np.arange(len(inputs)) - 0.4 + height * (k + 0.5)
            ax.barh(y, values, height=height, color=colours[g % len(colours)],
                    label=(f"{row_key} {group}" if row_key and group else "rank correlation"))
        n = max((int(sensitivity["n"][i]) for i in rows), default=0)
        if n > 2:
            band = 1.96 / math.sqrt(n - 1)
            ax.axvspan(-band, band, color="0.85", zorder=0, label="95% band of no effect")
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(np.arange(len(inputs)), inputs)
        ax.set_xlim(-1, 1)
        ax.set_xlabel(f"Spearman rank correlation with {stat}")
        ax.set_ylabel("input")
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def _line_label(key: tuple, names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {value}" if name == "lab" else f"{name} = {value}"
                     for name, value in zip(names, key))


def grid_figure(table: dict, axes, statistic: str, *, row_key: str | None = None,
                unit: str | None = None, interval_label: str = "estimate and its interval"):
    """One statistic of a grid sweep against its first axis: one line per value of the other
    axes (and of the row key: per lab), in the order of the table.

    Parameters
    ----------
    table : dict
        Columns of ``results.csv`` (one row per point and replicate: each line shows the mean
        over replicates with +-1.96 standard errors) or of ``points.csv`` (one row per point
        with ``STATISTIC_low`` and ``STATISTIC_high``: each line shows the estimate and that
        interval). Cells may be text, as read back from the CSV.
    axes : sequence of str
        The sweep's axes, the first one on the x axis.
    statistic : str
        The column drawn.
    row_key : str, optional
        A column whose values get their own lines (labs: ``"lab"``).
    unit : str, optional
        The statistic's unit, for the y label.
    interval_label : str
        The legend's title for a table of point-level estimates (what the interval is).

    Returns
    -------
    matplotlib.figure.Figure
        The x axis is logarithmic when the first axis's values are all positive and span more
        than a factor of 10; non-numeric values (a policy name) are categories. A statistic
        with no finite value says so in the panel instead of drawing nothing.
    """
    import matplotlib.pyplot as plt

    axes = list(axes)
    n_rows = len(table[statistic])
    line_names = tuple(axes[1:]) + ((row_key,) if row_key else ())
    x_cells = [str(v) for v in table[axes[0]]]
    x_numbers = np.array([_number(v) for v in x_cells])
    numeric = bool(np.isfinite(x_numbers).all())
    categories = list(dict.fromkeys(x_cells))
    x_of = (dict(zip(x_cells, x_numbers)) if numeric
            else {c: float(i) for i, c in enumerate(categories)})
    interval = f"{statistic}_low" in table
    lines: dict[tuple, dict[str, list]] = {}
    for i in range(n_rows):
        key = tuple(str(table[name][i]) for name in line_names)
        lines.setdefault(key, {}).setdefault(x_cells[i], []).append(i)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    markers = "osD^vP*X"
    replicates = 0
    drawn = False
    for n, (key, by_x) in enumerate(lines.items()):
        xs, centre, low, high, count = _line_points(table, statistic, by_x, x_of, interval)
        replicates = max(replicates, count)
        if not xs:
            continue
        drawn = True
        ax.errorbar(xs, centre, yerr=[low, high], marker=markers[n % len(markers)],
                    markersize=5, capsize=3, linewidth=1.5,
                    label=_line_label(key, line_names) if line_names else statistic)
    _grid_x_axis(ax, x_numbers, categories, numeric)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(statistic + (f" ({unit})" if unit else ""))
    if drawn:
        how = (interval_label if interval else
               f"mean of {replicates} replicates \u00b1 1.96 s.e." if replicates > 1 else
               "one replicate")
        ax.legend(title=how, fontsize="medium", title_fontsize="medium", loc="best")
    else:
        ax.text(0.5, 0.5, f"no finite value of {statistic}\nat any point of the grid",
                transform=ax.transAxes, ha="center", va="center", fontsize="large")
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


def _line_points(table: dict, statistic: str, by_x: dict, x_of: dict, interval: bool):
    """One line of :func:`grid_figure`: (x, centre, lower and upper error bar lengths, most
    replicates at a point). A point-level table gives each point's estimate and interval; a
    replicate-level one the mean of the finite replicates +-1.96 standard errors."""
    xs, centre, low, high = [], [], [], []
    replicates = 0
    for cell in sorted(by_x, key=lambda c: x_of[c]):
        rows = by_x[cell]
        values = np.array([_number(table[statistic][i]) for i in rows])
        if interval:
            if not np.isfinite(values[0]):
                continue
            lo = _number(table[f"{statistic}_low"][rows[0]])
            hi = _number(table[f"{statistic}_high"][rows[0]])
            xs.append(x_of[cell]), centre.append(values[0])
            low.append(values[0] - lo if math.isfinite(lo) else 0.0)
            high.append(hi - values[0] if math.isfinite(hi) else 0.0)
            continue
        finite = values[np.isfinite(values)]
        replicates = max(replicates, values.size)
        if finite.size == 0:
            continue
        half = (1.96 * finite.std(ddof=1) / math.sqrt(finite.size) if finite.size > 1
                else 0.0)
        xs.append(x_of[cell]), centre.append(float(finite.mean()))
        low.append(half), high.append(half)
    return xs, centre, low, high, replicates


def _grid_x_axis(ax, x_numbers: np.ndarray, categories: list, numeric: bool) -> None:
    """Logarithmic when the values are positive and span more than a factor of 10; a tick at
    each value (up to 12, labelled as written); categories for non-numeric values."""
    if numeric and (x_numbers > 0).all() and x_numbers.max() > 10 * x_numbers.min():
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(range(len(categories)), categories)
    elif len(categories) <= 12:
        from matplotlib.ticker import NullFormatter

        ticks = sorted(set(x_numbers.tolist()))
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
