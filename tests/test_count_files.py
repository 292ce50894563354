"""Reading counts from CSV and .npy, and the `simsearch fit` command."""

import json

import numpy as np
import pytest

from simsearch.cli import main
from simsearch.count_files import read_counts
from simsearch.errors import SimsearchError
from simsearch.repeated_sampling import simulate_counts


def _write_csv(path, rows, header="problem,successes,attempts"):
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def test_reads_csv_with_extra_columns_and_custom_names(tmp_path):
    p = _write_csv(tmp_path / "c.csv", ["a,3,10", "b,0,12"])
    c, n = read_counts(p)
    assert c.tolist() == [3, 0] and n.tolist() == [10, 12]
    q = _write_csv(tmp_path / "d.csv", ["1,4"], header="hits,tries")
    c, n = read_counts(q, successes_column="hits", attempts_column="tries")
    assert c.tolist() == [1] and n.tolist() == [4]


def test_reads_a_binary_matrix(tmp_path):
    m = np.array([[0, 1, 1], [0, 0, 0]], dtype=np.int8)
    np.save(tmp_path / "m.npy", m)
    c, n = read_counts(tmp_path / "m.npy")
    assert c.tolist() == [2, 0] and n.tolist() == [3, 3]


@pytest.mark.parametrize("rows,header,message", [
    ([], "", "file is empty"),
    ([], "problem,successes,attempts", "no data rows"),
    (["1,2"], "successes,tries", "no column 'attempts' (columns: successes, tries)"),
    (["a,x,10"], None, "line 2: successes must be an integer >= 0 (got 'x')"),
    (["a,1,10", "b,nan,10"], None, "line 3: successes must be an integer >= 0 (got 'nan')"),
    (["a,-1,10"], None, "line 2: successes must be an integer >= 0"),
    (["a,1.5,10"], None, "successes must be an integer"),
    (["a,3,0"], None, "line 2: attempts must be an integer >= 1"),
    (["a,11,10"], None, "line 2: successes (11) > attempts (10)"),
    (["a,1"], None, "line 2: too few fields"),
])
def test_bad_csv_names_the_line_or_column(tmp_path, rows, header, message):
    path = tmp_path / "bad.csv"
    if header == "":
        path.write_text("")
    else:
        _write_csv(path, rows, header or "problem,successes,attempts")
    with pytest.raises(SimsearchError) as info:
        read_counts(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_npy(tmp_path):
    np.save(tmp_path / "m.npy", np.array([[0, 2]]))
    with pytest.raises(SimsearchError, match="entries must be 0 or 1"):
        read_counts(tmp_path / "m.npy")
    np.save(tmp_path / "v.npy", np.array([0, 1]))
    with pytest.raises(SimsearchError, match="2-d 0/1 matrix"):
        read_counts(tmp_path / "v.npy")
    (tmp_path / "junk.npy").write_text("not numpy")
    with pytest.raises(SimsearchError, match="not a readable .npy"):
        read_counts(tmp_path / "junk.npy")


def _counts_csv(tmp_path, n_problems=800, attempts=100, seed=1):
    sc = simulate_counts("beta(alpha=0.3, beta=3)", n_problems, attempts, seed=seed)
    rows = [f"{i},{c},{n}" for i, (c, n) in enumerate(zip(sc.successes, sc.attempts))]
    return _write_csv(tmp_path / "counts.csv", rows)


def test_fit_json_contract(tmp_path, capsys):
    path = _counts_csv(tmp_path)
    code = main(["fit", str(path), "--dist", "all", "--bootstrap", "40", "--predict",
                 "1000,10000", "--target", "0.9", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert 0.2 < report["exponent"] < 0.4
    lo, hi = report["exponent_ci"]
    assert lo < report["exponent"] < hi
    assert report["distribution"]["name"] in ("beta", "kumaraswamy")
    assert set(report["families"]) == {"beta", "kumaraswamy"}
    assert report["regression"]["exponent"] > report["exponent"]
    assert set(report["predicted_pass_at_k"]) == {"1000", "10000"}
    assert 0 < report["predicted_pass_at_k"]["1000"] < report["predicted_pass_at_k"]["10000"] < 1
    assert report["target"]["attempts"] > 100
    assert report["manifest"]["config"]["bootstrap"] == 40


def test_fit_human_output(tmp_path, capsys):
    path = _counts_csv(tmp_path)
    assert main(["fit", str(path), "--predict", "1000"]) == 0
    out = capsys.readouterr().out
    assert "distributional exponent" in out and "regression exponent" in out
    assert "predicted pass@1000" in out


@pytest.mark.parametrize("content,args,message", [
    ("problem,successes,attempts\na,0,10\nb,0,10\n", [], "every problem has 0 successes"),
    ("problem,successes,attempts\na,x,10\n", [], "line 2: successes must be an integer"),
    ("problem,successes,attempts\na,1,10\nb,2,10\n", ["--target", "1.5"],
     "target: must be in (0, 1)"),
    ("problem,successes,attempts\na,1,10\nb,2,10\n", ["--predict", "0"], "k: attempts"),
])
def test_fit_bad_input_exits_2_with_one_line(tmp_path, capsys, content, args, message):
    path = tmp_path / "c.csv"
    path.write_text(content)
    assert main(["fit", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_fit_missing_file_and_bad_dist(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["fit", str(tmp_path / "nope.csv"), "--dist", "gamma"])
    assert info.value.code == 2
