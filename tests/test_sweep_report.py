"""A sweep's summary.csv and sensitivity.csv: numbers, manifest, and the tornado option."""

import json
import math

import numpy as np
from scipy import stats

from simsearch.cli import main
from simsearch.io.output import csv_text, read_manifest
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


def test_a_grid_has_no_sensitivity_and_refuses_figures_before_running(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SWEEP.format(design=GRID))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--no-progress",
                 "--figures", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "figures: the tornado figure needs a random design" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() and not (tmp_path / "f").exists()
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--no-progress"]) == 0
    files = json.loads((tmp_path / "o" / "manifest.json").read_text())["files"]
    assert set(files) == {"results.csv", "summary.csv"}
