"""to_pandas(): the same tidy columns as the CSVs, and a clear message without pandas."""

import builtins
import csv
import io

import numpy as np
import pytest

from simsearch import simulate_pass_at_k
from simsearch.cli import main
from simsearch.io.frames import to_pandas
from simsearch.sweep import SweepSummary, load_sweep, run_sweep

SWEEP = """
kind = "passk"
seed = 3
replicates = 2
statistics = ["exponent", "pass_at_k@10"]

[base]
problems = 2000
k = "1,10,100"

[base.dist]
name = "beta"
alpha = 0.3
beta = 3.0

[axes]
"dist.alpha" = [0.3, 0.6]
"""


def _csv(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    return {name: [r[name] for r in rows] for name in rows[0]}


@pytest.mark.parametrize("replicates", [1, 3])
def test_passk_frame_has_the_cli_csv_columns_and_values(capsys, replicates):
    pd = pytest.importorskip("pandas")
    args = dict(k=[1, 10, 100], problems=3000, replicates=replicates, seed=7)
    frame = simulate_pass_at_k("beta(alpha=0.3, beta=3)", **args).to_pandas()
    assert main(["passk", "--dist", "beta(alpha=0.3, beta=3)", "--k", "1,10,100",
                 "--problems", "3000", "--replicates", str(replicates), "--seed", "7",
                 "--no-progress"]) == 0
    table = _csv(capsys.readouterr().out)
    assert list(frame.columns) == list(table)
    assert len(frame) == 3 * replicates
    for name, values in table.items():
        np.testing.assert_array_equal(frame[name].to_numpy(dtype=float),
                                      np.array(values, dtype=float))
    assert frame["k"].dtype == np.int64 and isinstance(frame, pd.DataFrame)


def test_per_problem_frame():
    pytest.importorskip("pandas")
    res = simulate_pass_at_k("point(p=0.5)", [1], 50, replicates=2, seed=1, per_problem=True)
    frame = res.to_pandas(per_problem=True)
    assert list(frame.columns) == ["replicate", "problem", "p", "first_success"]
    assert frame["replicate"].tolist() == [0] * 50 + [1] * 50
    assert frame["problem"].tolist() == list(range(50)) * 2
    assert (frame["p"] == 0.5).all()


def test_sweep_frame_is_results_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "s.toml"
    path.write_text(SWEEP)
    summary = run_sweep(load_sweep(path), tmp_path / "out", workers=1)
    frame = summary.to_pandas()
    expected = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(frame.columns) == ["point", "replicate", "dist.alpha", "exponent",
                                   "pass_at_k@10"]
    pd.testing.assert_frame_equal(frame, expected)
    assert len(frame) == 2 * 2
    again = SweepSummary.read(tmp_path / "out")
    assert (again.points, again.done, again.failed) == (2, 2, 0)
    pd.testing.assert_frame_equal(again.to_pandas(), expected)


def test_without_pandas_the_error_says_how_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    res = simulate_pass_at_k("point(p=0.5)", [1], 10, seed=1)
    with pytest.raises(ImportError, match=r"pip install pandas"):
        res.to_pandas()
    with pytest.raises(ImportError, match=r"pip install pandas"):
        to_pandas({"a": [1, 2]})


def test_to_pandas_refuses_ragged_columns():
    pytest.importorskip("pandas")
    with pytest.raises(ValueError, match="differ in length"):
        to_pandas({"a": [1, 2], "b": [1]})
    assert list(to_pandas({"b": [1.5], "a": ["x"]}).columns) == ["b", "a"]
