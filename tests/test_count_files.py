"""Reading counts from CSV and .npy, and the `simsearch fit` command."""

import csv
import json

import numpy as np
import pandas
import pytest

from simsearch.cli import main
from simsearch.fitting.count_files import read_count_groups, read_counts
from simsearch.fitting.likelihoods import FIT_FAMILIES
from simsearch.fitting import DEFAULT_METHOD
from simsearch.errors import SimsearchError
from simsearch import Mixture, Point
from simsearch.sampling.passk import simulate_counts


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
    # Two columns of one name: which holds the counts is ambiguous, so the file is refused.
    (["1,2,10"], "successes,successes,attempts",
     "column 'successes' appears more than once"),
    (["a,1,10,b"], "problem,successes,attempts,problem",
     "column 'problem' appears more than once"),
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


@pytest.mark.parametrize("command", [["fit"], ["backtest", "--from", "2", "--to", "4"],
                                     ["plan", "--budget", "10", "--predict", "100"]])
def test_by_on_a_matrix_is_refused_naming_the_option(tmp_path, capsys, command):
    np.save(tmp_path / "m.npy", (np.random.default_rng(0).random((20, 8)) < 0.3).astype(int))
    assert main([command[0], str(tmp_path / "m.npy"), *command[1:], "--by", "model"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error: by: " in err[0] and "needs a counts CSV" in err[0]


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
    assert set(report["families"]) == set(FIT_FAMILIES)
    assert report["regression"]["exponent"] > report["exponent"]
    assert set(report["predicted_pass_at_k"]) == {"1000", "10000"}
    assert 0 < report["predicted_pass_at_k"]["1000"] < report["predicted_pass_at_k"]["10000"] < 1
    for k, (lo, hi) in report["predicted_pass_at_k_ci"].items():
        assert lo <= report["predicted_pass_at_k"][k] <= hi
    assert report["method"] == DEFAULT_METHOD == report["prediction"]["method"]
    assert report["unsolvable_fraction"]["model"] == "zi-beta"
    assert 0 <= report["unsolvable_fraction"]["estimate"] < 0.2  # Beta truth: no atom at 0
    assert report["warnings"] == [] and report["misfit"] is False
    assert report["target"]["attempts"] > 100
    assert report["manifest"]["config"]["bootstrap"] == 40


def test_fit_human_output(tmp_path, capsys):
    path = _counts_csv(tmp_path)
    assert main(["fit", str(path), "--predict", "1000"]) == 0
    out = capsys.readouterr().out
    assert "distributional exponent" in out and "regression exponent" in out
    assert "predicted pass@1000" in out and f"prediction method: {DEFAULT_METHOD}" in out
    assert "unsolvable fraction" in out


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


def test_fit_refuses_duplicate_columns_with_one_line(tmp_path, capsys):
    path = _write_csv(tmp_path / "dup.csv", ["3,1,10", "0,0,10"], header="successes,successes,attempts")
    assert main(["fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "column 'successes' appears more than once" in err and len(err.strip().splitlines()) == 1


def test_fit_missing_file_and_bad_dist(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    # A bad family is refused before the file is read, in one line naming the field.
    assert main(["fit", str(tmp_path / "nope.csv"), "--dist", "gamma"]) == 2
    assert "dist: unknown family 'gamma'" in capsys.readouterr().err


def test_reads_bom_spaced_headers_and_groups(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffmodel, successes, attempts\nx, 3, 10\ny,0,12\nx,1,10\n".encode())
    c, n = read_counts(path)
    assert c.tolist() == [3, 0, 1] and n.tolist() == [10, 12, 10]
    groups = read_count_groups(path, "model")
    assert list(groups) == ["x", "y"] and groups["x"][0].tolist() == [3, 1]


def _fit(tmp_path, capsys, content, *args):
    path = tmp_path / "c.csv"
    path.write_text(content)
    code = main(["fit", str(path), *args])
    return code, capsys.readouterr()


def _rows(pairs):
    return "problem,successes,attempts\n" + "".join(f"{i},{c},{n}\n"
                                                     for i, (c, n) in enumerate(pairs))


@pytest.mark.parametrize("pairs,message", [
    ([(0, 1), (1, 1), (1, 1), (0, 1)], "every problem has a single attempt"),
    ([(0, 10), (10, 10), (0, 10), (10, 10)], "either no success or all successes"),
    ([(0, 10), (0, 10)], "every problem has 0 successes"),
    ([(3, 10)], "at least two problems"),
    ([(3, 1e18), (1, 10)], "attempts must be at most 10000000"),
    ([(3, 1e9), (1, 10)], "attempts must be at most 10000000"),
    ([(3, 1e300), (1, 10)], "attempts must be at most 10000000"),
])
def test_unidentifiable_or_impossible_data_is_refused(tmp_path, capsys, pairs, message):
    code, out = _fit(tmp_path, capsys, _rows(pairs))
    assert code == 2 and message in out.err and len(out.err.strip().splitlines()) == 1
    assert "-9223372036854775808" not in out.err


def test_fit_of_a_directory_and_too_few_bootstrap_replicates(tmp_path, capsys):
    assert main(["fit", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and len(err.strip().splitlines()) == 1
    code, out = _fit(tmp_path, capsys, _rows([(3, 10), (1, 10), (0, 10)]), "--bootstrap", "1")
    assert code == 2 and "at least 20 replicates" in out.err


def test_one_single_attempt_problem_does_not_block_the_fit(tmp_path, capsys):
    sc = simulate_counts("beta(alpha=0.3, beta=3)", 999, 100, seed=2)
    pairs = [(0, 1)] + list(zip(sc.successes, sc.attempts))
    code, out = _fit(tmp_path, capsys, _rows(pairs), "--json", "--predict", "1000")
    assert code == 0, out.err
    report = json.loads(out.out)
    assert 0 < report["predicted_pass_at_k"]["1000"] < 1


def test_few_solved_problems_and_unreachable_targets_warn_in_text_and_json(tmp_path, capsys):
    pairs = [(1, 100), (3, 100), (1, 100)] + [(0, 100)] * 137
    code, out = _fit(tmp_path, capsys, _rows(pairs), "--json", "--target", "0.9999999999",
                     "--predict", "1000")
    assert code == 0 and out.err == ""
    report = json.loads(out.out)  # strict JSON: no Infinity or NaN
    assert report["target"]["attempts"] is None
    assert any("only 3 problems have any success" in w for w in report["warnings"])
    assert any("target:" in w for w in report["warnings"])
    code, out = _fit(tmp_path, capsys, _rows(pairs), "--target", "0.9999999999")
    assert code == 0 and "warning: only 3 problems have any success" in out.out
    assert out.err == ""  # no RuntimeWarning on the terminal


def test_fitted_specs_are_rounded_on_screen_and_exact_in_json(tmp_path, capsys):
    """Issue 22: the screen showed beta(alpha=0.1405818835557189, ...), 17 digits; it shows
    4 significant digits, and --json keeps the spec that reads back the very same floats."""
    from simsearch import parse_distribution

    sc = simulate_counts("beta(alpha=0.3, beta=3)", 300, 100, seed=3)
    content = _rows(zip(sc.successes, sc.attempts))
    code, out = _fit(tmp_path, capsys, content, "--bootstrap", "0", "--json")
    report = json.loads(out.out)
    assert code == 0
    spec = report["distribution"]["spec"]
    fitted = parse_distribution(spec)
    assert fitted.spec == spec and len(repr(fitted.alpha)) > 8  # a fit, not a round number
    code, out = _fit(tmp_path, capsys, content, "--bootstrap", "0")
    line = next(line for line in out.out.splitlines() if line.startswith("* beta"))
    assert line.endswith(f"beta(alpha={fitted.alpha:.4g}, beta={fitted.beta:.4g})")
    assert spec not in out.out


def test_misfit_is_a_warning_and_a_json_field(tmp_path, capsys):
    sc = simulate_counts(Mixture([(0.5, Point(0.02)), (0.5, Point(0.6))]), 2000, 50, seed=9)
    code, out = _fit(tmp_path, capsys, _rows(zip(sc.successes, sc.attempts)), "--json")
    report = json.loads(out.out)
    assert code == 0 and report["misfit"] is True
    assert any(w.startswith("misfit:") for w in report["warnings"])


def test_backtest_command_writes_a_table_csv_and_manifest(tmp_path, capsys):
    rows = []
    for model, seed in (("a", 1), ("b", 2)):
        sc = simulate_counts("beta(alpha=0.3, beta=3)", 60, 500, seed=seed)
        rows += [f"{model},{c},{n}" for c, n in zip(sc.successes, sc.attempts)]
    path = _write_csv(tmp_path / "m.csv", rows, header="model,successes,attempts")
    out = tmp_path / "bt.csv"
    assert main(["backtest", str(path), "--from", "50", "--to", "500", "--by", "model",
                 "--methods", "line,line-or-floor", "--seeds", "2", "--bootstrap", "20",
                 "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "line-or-floor" in text and "mean|err|" in text
    table = out.read_text().splitlines()
    assert table[0].startswith("group,seed,method") and len(table) == 1 + 2 * 2 * 2
    with open(out, newline="") as fh:
        assert {row["covered"] for row in csv.DictReader(fh)} <= {"true", "false"}
    meta = json.loads((tmp_path / "bt.csv.json").read_text())
    assert meta["command"] == "backtest" and meta["summary"]["line"]["cases"] == 4
    assert main(["backtest", str(path), "--from", "50", "--to", "600"]) == 2
    assert "at least 600 attempts" in capsys.readouterr().err
    assert main(["backtest", str(path), "--from", "50", "--to", "500",
                 "--methods", "nope"]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err


def test_backtest_without_an_interval_writes_covered_as_missing(tmp_path, capsys):
    """Issue 22: with no interval (no bootstrap, or the pooled model, which has none) the
    table said covered=false, a miss; it is an empty cell, which pandas reads as missing."""
    sc = simulate_counts("beta(alpha=0.3, beta=3)", 60, 500, seed=1)
    rows = [f"{m},{c},{n}" for m in ("a", "b") for c, n in zip(sc.successes, sc.attempts)]
    path = _write_csv(tmp_path / "m.csv", rows, header="model,successes,attempts")
    out = tmp_path / "bt.csv"
    assert main(["backtest", str(path), "--from", "50", "--to", "500", "--by", "model",
                 "--pool", "--methods", "line", "--seeds", "1", "--bootstrap", "0",
                 "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    with open(out, newline="") as fh:
        table = list(csv.DictReader(fh))
    assert sorted({row["method"] for row in table}) == ["line", "pooled-irt", "pooled-line"]
    assert [row["covered"] for row in table] == [""] * 6
    assert pandas.read_csv(out)["covered"].isna().all()


def test_pooling_groups_without_by_is_warned_about(tmp_path, capsys):
    rows = []
    for model, seed in (("a", 1), ("b", 2)):
        sc = simulate_counts("beta(alpha=0.3, beta=3)", 60, 500, seed=seed)
        rows += [f"{i},{model},{c},{n}" for i, (c, n) in enumerate(zip(sc.successes,
                                                                         sc.attempts))]
    grouped = _write_csv(tmp_path / "m.csv", rows, header="problem,model,successes,attempts")
    args = ["--from", "50", "--to", "500", "--methods", "line", "--seeds", "1", "--no-progress"]
    assert main(["backtest", str(grouped), *args]) == 0
    err = capsys.readouterr().err
    assert "column 'model' has 2 distinct values" in err and "--by model" in err
    assert main(["backtest", str(grouped), *args, "--by", "model"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["fit", str(grouped)]) == 0
    assert "column 'model' has 2 distinct values" in capsys.readouterr().err
    # The problems are numbered within each model, so plan refuses them pooled; renumbered,
    # it plans them as one population and says so.
    assert main(["plan", str(grouped), "--budget", "100", "--predict", "5000"]) == 2
    assert "--by COLUMN" in capsys.readouterr().err
    renumbered = _write_csv(tmp_path / "r.csv", [f"{i}{r[r.index(','):]}"
                                                 for i, r in enumerate(rows)],
                            header="problem,model,successes,attempts")
    assert main(["plan", str(renumbered), "--budget", "100", "--predict", "5000",
                 "--bootstrap", "0"]) == 0
    assert "column 'model' has 2 distinct values" in capsys.readouterr().err
    # A refusal is one line: the warning waits for a result.
    zeros = _write_csv(tmp_path / "z.csv", [f"{i},{'ab'[i % 2]},0,100" for i in range(6)],
                       header="problem,model,successes,attempts")
    for command, extra in (("fit", []), ("plan", ["--budget", "100", "--predict", "5000"])):
        assert main([command, str(zeros), *extra]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "error:" in err, err
    # One model, problems numbered once each, a constant label: nothing to warn about.
    one = _write_csv(tmp_path / "one.csv", [r.replace(",b,", ",a,") for r in rows[:60]],
                     header="problem,model,successes,attempts")
    assert main(["backtest", str(one), *args]) == 0
    assert "warning" not in capsys.readouterr().err


def test_rows_never_sampled_are_left_out_with_one_warning(tmp_path, capsys):
    # 0 successes in 0 attempts (a model stopped early, a run cut short) says nothing about
    # p: the row is left out, and each command says so in one stderr line.
    sc = simulate_counts("beta(alpha=0.3, beta=3)", 60, 100, seed=2)
    rows = [f"q{i},{c},{n},{m}" for m in ("a", "b") for i, (c, n) in
            enumerate(zip(sc.successes, sc.attempts))]
    header = "problem,successes,attempts,model"
    full = _write_csv(tmp_path / "full.csv", rows, header)
    holes = _write_csv(tmp_path / "holes.csv", rows[:5] + ["q60,0,0,a", "q61, 0 ,0.0,b"]
                       + rows[5:], header)
    assert [x.tolist() for x in read_counts(holes)] == [x.tolist() for x in read_counts(full)]
    assert {g: [x.tolist() for x in v] for g, v in read_count_groups(holes, "model").items()} \
        == {g: [x.tolist() for x in v] for g, v in read_count_groups(full, "model").items()}
    for argv in (["fit", "--bootstrap", "0", "--by", "model"],
                 ["fit", "--bootstrap", "0", "--by", "model", "--pool"],
                 ["backtest", "--from", "20", "--to", "100", "--methods", "line", "--seeds",
                  "1", "--no-progress", "--by", "model", "--pool"],
                 ["plan", "--budget", "100", "--predict", "1000", "--bootstrap", "0", "--by",
                  "model"]):
        assert main([argv[0], str(full), *argv[1:]]) == 0
        expected = capsys.readouterr().out
        assert main([argv[0], str(holes), *argv[1:]]) == 0
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and "2 row(s) with 0 attempts left out (line 7, 8)" in err
        assert out.replace("holes", "full") == expected.replace("holes", "full")
    only = _write_csv(tmp_path / "none.csv", ["q0,0,0"])
    assert main(["fit", str(only)]) == 2
    assert "every row has 0 attempts" in capsys.readouterr().err


def test_backtest_of_a_stop_after_success_file_says_why_it_cannot(tmp_path, capsys):
    # Batches of 8 until the first success, cap 80: solved problems stop early, so there is
    # no pass@80 of every problem's first 80 attempts to score against; the one line says so.
    rows = ["q0,1,8", "q1,0,80", "q2,2,16", "q3,0,80", "q4,1,40", "q5,3,24"]
    path = _write_csv(tmp_path / "attack.csv", rows)
    assert main(["backtest", str(path), "--from", "8", "--to", "80", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "to: every problem needs at least 80 attempts" in err
    assert "sampled until a batch of 8 succeeds" in err


def test_backtest_table_says_why_predictions_failed(tmp_path, capsys):
    # A model that solves nothing in its first 5 attempts cannot be fitted there: the table's
    # "failed" column counts it, and one line under the table gives the commonest reason.
    rng = np.random.default_rng(3)
    rows = [f"q{i},{rng.binomial(200, 0.3)},200,strong" for i in range(30)]
    rows += [f"q{i},{int(i < 2)},200,weak" for i in range(30)]
    path = _write_csv(tmp_path / "two.csv", rows, "problem,successes,attempts,model")
    assert main(["backtest", str(path), "--from", "5", "--to", "200", "--by", "model",
                 "--methods", "line", "--seeds", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("failed: 2 of 4 predictions could not be made "
                                           "(2: successes: every problem has 0 successes")


def test_a_problem_listed_twice_in_a_group_is_fitted_with_a_warning(tmp_path, capsys):
    # Two result files concatenated by mistake list a model's problems twice: each row is
    # fitted as its own problem (fit and backtest go on), and one stderr line says so.
    sc = simulate_counts("beta(alpha=0.3, beta=3)", 40, 100, seed=4)
    rows = [f"q{i},{c},{n},{m}" for m in ("a", "b") for i, (c, n) in
            enumerate(zip(sc.successes, sc.attempts))]
    path = _write_csv(tmp_path / "twice.csv", rows + rows[:3], "problem,successes,attempts,model")
    for argv in (["fit", "--bootstrap", "0"],
                 ["backtest", "--from", "20", "--to", "100", "--methods", "line", "--seeds",
                  "1", "--no-progress"]):
        assert main([argv[0], str(path), *argv[1:], "--by", "model"]) == 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "model 'a' lists problem 'q0' 2 times" in err


def _quirky_file(rng, path):
    """A counts CSV with a random mix of what real files hold: a BOM, CRLF, spaces, quoted
    labels with commas and quotes, unicode, rows never sampled, counts written as 3.0 or +3,
    blank lines, extra columns, a missing final newline."""
    header = ["model", "problem", "successes", "attempts"]
    if rng.random() < 0.5:
        header.append("note")
    order = rng.permutation(len(header))
    header = [header[i] for i in order]
    lines = [",".join(header)]
    models = ["m0", '"big, 7B"', "Ω-1", '"say ""hi"""'][: rng.integers(1, 5)]
    quirks = rng.random() < 0.5  # else only the file-level ones
    for m in models:
        for i in range(int(rng.integers(3, 12))):
            n = int(rng.integers(1, 50))
            c = int(rng.integers(0, n + 1))
            cells = {"model": m, "problem": f"q{i}", "successes": str(c), "attempts": str(n),
                     "note": "x"}
            roll = rng.random() if quirks else 1.0
            if roll < 0.08:
                cells["successes"], cells["attempts"] = "0", "0"  # never sampled
            elif roll < 0.14:
                cells["successes"] = f"{c}.0"
            elif roll < 0.18:
                cells["attempts"] = f"+{n}"
            if quirks and rng.random() < 0.1:
                cells["problem"] = f" q{i} "
            lines.append(",".join(cells[h] for h in header))
            if quirks and rng.random() < 0.05:
                lines.append("")
    newline = "\r\n" if rng.random() < 0.3 else "\n"
    text = newline.join(lines) + (newline if rng.random() < 0.8 else "")
    if rng.random() < 0.3:
        text = "\ufeff" + text
    path.write_bytes(text.encode("utf-8"))


def test_the_fast_reader_reads_every_file_as_the_row_reader_does(tmp_path, monkeypatch):
    # Reference: the csv module row by row (the fast path turned off). Both must give the same
    # counts, groups, labels, line numbers and errors on random quirky files.
    from simsearch.fitting import count_files

    rng = np.random.default_rng(12)
    fast_used = 0

    def read(path, slow):
        if slow:
            monkeypatch.setattr(count_files, "_read_columns_fast", lambda *a: None)
        try:
            f = count_files.CountFile(path, columns=("model",), optional=("problem",))
            groups = f.groups("model")
            return ({g: (c.tolist(), n.tolist()) for g, (c, n) in groups.items()},
                    f.problem_labels("model"), f.unattempted_lines(), f.counts()[0].tolist(),
                    f.repeated_problems("model"),
                    count_files.CountFile(path, labels=True).label_columns(
                        ("successes", "attempts")))
        except SimsearchError as exc:
            return str(exc)
        finally:
            monkeypatch.undo()

    for r in range(60):
        path = tmp_path / f"f{r}.csv"
        _quirky_file(rng, path)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
        index = [header.index(c) for c in ("successes", "attempts", "model", "problem")]
        fast_used += count_files._read_columns_fast(path, header, index, False) is not None
        assert read(path, slow=False) == read(path, slow=True), path.read_text()
    assert 10 <= fast_used <= 50  # both paths were exercised
