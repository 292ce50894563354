"""A sweep's summary.csv and sensitivity.csv: numbers, manifest, and the tornado option."""

import json
import math

import numpy as np
from scipy import stats

from simsearch.cli import main
from simsearch.io.output import read_manifest
from simsearch.io.tables import csv_text
from simsearch.sweep import SweepSummary, sensitivity_table, summary_table

SWEEP = """seed = 4
replicates = 2
statistics = ["exponent", "pass_at_k@10"]
[base]
problems = 300
k = "1,10,100"
dist = {{ name = "beta", alpha = 0.3, beta = 3.0 }}
{design}
"""
RANDOM = '[random]\ncount = 8\n"dist.alpha" = { lognormal = { p10 = 0.2, p90 = 0.8 } }\n' \
         '"dist.beta" = { uniform = [1.0, 5.0] }\n'
GRID = '[axes]\n"dist.alpha" = [0.2, 0.5]\n'


def test_summary_and_sensitivity_numbers():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=50)
    y = np.where(np.arange(50) % 7 == 0, math.nan, x + rng.normal(0, 0.1, 50))
    y[3] = math.inf
    text = csv_text({"point": np.arange(50), "a": x, "s": y,
                     "lab": np.array(["u", "v"] * 25, dtype=object)})
    summary = summary_table([(text, ("s",), ("lab",))], ("lab",))
    assert summary["lab"] == ["u", "v"] and summary["rows"] == [25, 25]
    for k, lab in enumerate(("u", "v")):
        values = y[k::2][np.isfinite(y[k::2])]
        assert summary["finite"][k] == values.size
        assert summary["mean"][k] == values.mean()
        assert [summary[f"p{q}"][k] for q in (5, 10, 50, 90, 95)] == list(
            np.percentile(values, [5, 10, 50, 90, 95]))
    sens = sensitivity_table([(text, ("s",), ("lab",))], ("a",), ("lab",))
    for k in range(2):
        keep = ~np.isnan(y[k::2])
        assert sens["spearman"][k] == stats.spearmanr(x[k::2][keep], y[k::2][keep]).statistic
        assert sens["n"][k] == keep.sum()


def test_a_random_sweep_writes_summary_and_sensitivity_in_its_manifest(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SWEEP.format(design=RANDOM))
    figures = tmp_path / "figs"
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--no-progress", "--figures", str(figures)]) == 0
    meta = read_manifest(tmp_path / "o")  # every table matches its SHA-256
    assert set(meta["files"]) == {"results.csv", "summary.csv", "sensitivity.csv"}
    summary = SweepSummary.read(tmp_path / "o")
    results, table = summary.to_pandas(), summary.to_pandas("summary")
    assert list(table["statistic"]) == ["exponent", "pass_at_k@10"]
    assert table["p50"][0] == np.percentile(results["exponent"].dropna(), 50)
    sens = summary.to_pandas("sensitivity")
    assert len(sens) == 4 and set(sens["input"]) == {"dist.alpha", "dist.beta"}
    assert (figures / "tornado.png").exists() and (figures / "tornado.pdf").exists()


def test_a_grid_has_no_sensitivity_and_draws_each_statistic_with_figures(tmp_path, capsys):
    """Issue 22: --figures refused grids; it draws each statistic against the first axis."""
    path = tmp_path / "s.toml"
    path.write_text(SWEEP.format(design=GRID.replace("[0.2, 0.5]", "[0.05, 0.2, 0.8]")
                                 + '"dist.beta" = [1.0, 3.0]\n'))
    figures = tmp_path / "figs" / "grid"  # parents made, as for --out
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--no-progress", "--figures", str(figures)]) == 0
    assert "wrote grid_exponent, grid_pass_at_k_10 (.png and .pdf)" in capsys.readouterr().err
    files = json.loads((tmp_path / "o" / "manifest.json").read_text())["files"]
    assert set(files) == {"results.csv", "summary.csv"}
    assert sorted(p.name for p in figures.iterdir()) == [
        "grid_exponent.pdf", "grid_exponent.png", "grid_pass_at_k_10.pdf",
        "grid_pass_at_k_10.png"]
    assert all(p.stat().st_size > 1000 for p in figures.iterdir())


def test_grid_figure_draws_replicate_means_per_line_on_a_log_axis():
    import matplotlib

    matplotlib.use("Agg")
    from simsearch.sweep import grid_figure

    x = [0.05, 0.05, 0.2, 0.2, 0.8, 0.8] * 2
    beta = ["1.0"] * 6 + ["3.0"] * 6
    values = [1.0, 3.0, 2.0, 2.0, 5.0, "nan", 0.5, 0.5, "nan", "nan", 4.0, 6.0]
    fig = grid_figure({"a": x, "b": beta, "s": values}, ["a", "b"], "s", unit="periods")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "s (periods)"
    lines = [c for c in ax.containers]
    assert [c.get_label() for c in lines] == ["b = 1.0", "b = 3.0"]
    first, second = (c.lines[0] for c in lines)
    assert list(first.get_xdata()) == [0.05, 0.2, 0.8]
    assert list(first.get_ydata()) == [2.0, 2.0, 5.0]  # NaN replicates left out of the mean
    assert list(second.get_xdata()) == [0.05, 0.8]  # no finite value at 0.2: no point
    assert list(second.get_ydata()) == [0.5, 5.0]
    assert ax.get_legend().get_title().get_text() == "mean of 2 replicates \u00b1 1.96 s.e."
    linear = grid_figure({"a": [1, 2, 3], "s": [1.0, 2.0, 3.0]}, ["a"], "s").axes[0]
    assert linear.get_xscale() == "linear"
    empty = grid_figure({"a": ["greedy", "patient"], "s": ["nan", "nan"]}, ["a"], "s").axes[0]
    assert [t.get_text() for t in empty.get_xticklabels()] == ["greedy", "patient"]
    assert "no finite value of s" in empty.texts[0].get_text()
