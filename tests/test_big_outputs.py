"""Per-problem output in every format (CSV, .npy, .npz, Parquet), chosen by suffix and written
with its manifest; empirical distributions read from a file, recorded by path and SHA-256."""

import csv
import hashlib
import json

import numpy as np
import pytest

from simsearch import Empirical, simulate_pass_at_k
from test_cli import _run
from simsearch.errors import SimsearchError
from simsearch.output import npy_chunks, read_manifest, table_data
from simsearch.spec import parse_distribution

PASSK = ["passk", "--dist", "beta(alpha=0.3, beta=3)", "--problems", "1500", "--k", "1,10,100",
         "--replicates", "2", "--seed", "4", "--no-progress"]


def _reference():
    return simulate_pass_at_k("beta(alpha=0.3, beta=3)", [1, 10, 100], 1500, replicates=2,
                              seed=4, per_problem=True).per_problem_table()


def _read(path):
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = np.load(path)
        return {name: array[name] for name in array.dtype.names}
    if suffix == ".npz":
        with np.load(path) as z:
            return {name: z[name] for name in z.files}
    if suffix == ".parquet":
        pq = pytest.importorskip("pyarrow.parquet")
        table = pq.read_table(path)
        return {name: table.column(name).to_numpy() for name in table.column_names}
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {name: np.array([float(r[name]) for r in rows]) for name in rows[0]}


@pytest.mark.parametrize("name", ["pp.csv", "pp.npy", "pp.npz", "pp.parquet", "pp.NPY"])
def test_per_problem_formats_hold_the_same_table(tmp_path, capsys, name):
    if name.endswith("parquet"):
        pytest.importorskip("pyarrow")
    path = tmp_path / name
    code, _, err = _run([*PASSK, "--per-problem", str(path)], capsys)
    assert code == 0, err
    got, want = _read(path), _reference()
    assert list(got) == ["replicate", "problem", "p", "first_success"]
    for column in want:
        np.testing.assert_array_equal(np.asarray(got[column], dtype=float),
                                      want[column].astype(float))
    meta = read_manifest(path)  # the recorded SHA-256 matches the file
    assert meta["per_problem_format"] == name.split(".")[-1].lower()
    assert meta["config"]["seed"] == 4


def test_npy_chunks_match_numpy_save_byte_for_byte(tmp_path):
    columns = {"a": np.arange(10, dtype=np.int64), "b": np.linspace(0, 1, 10)}
    rows = np.empty(10, dtype=[("a", "<i8"), ("b", "<f8")])
    rows["a"], rows["b"] = columns["a"], columns["b"]
    np.save(tmp_path / "ref.npy", rows)
    text = b"".join(bytes(c) for c in npy_chunks(columns, rows_per_chunk=3))
    assert text == (tmp_path / "ref.npy").read_bytes()


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    code, out, err = _run([*PASSK, "--per-problem", str(tmp_path / "pp.parquet"),
                           "--out", str(tmp_path / "a.csv")], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "simsearch[parquet]" in err and "per-problem" in err
    assert list(tmp_path.iterdir()) == []  # refused before any work
    with pytest.raises(SimsearchError, match="pyarrow"):
        table_data(tmp_path / "x.parquet", {"a": [1]})


def test_per_problem_table_needs_per_problem_draws():
    res = simulate_pass_at_k("point(p=0.5)", 1, 10, seed=1)
    with pytest.raises(SimsearchError, match="per_problem=True"):
        res.per_problem_table()


# --- empirical distributions from a file ------------------------------------------------------


def test_empirical_file_matches_inline_values(tmp_path, monkeypatch):
    values = np.array([0.0, 0.02, 0.5, 1.0, 0.125])
    np.save(tmp_path / "v.npy", values)
    (tmp_path / "v.csv").write_text("p\n" + "\n".join(repr(float(v)) for v in values) + "\n")
    monkeypatch.chdir(tmp_path)  # relative names resolve against the current directory
    inline = simulate_pass_at_k(Empirical(values), [1, 10], 3000, seed=2)
    for name in ("v.npy", "v.csv"):
        dist = parse_distribution(f"empirical(file='{name}')")
        np.testing.assert_array_equal(dist.values, values)
        assert dist.spec == f"empirical(file={str(tmp_path / name)!r})"
        assert parse_distribution(dist.spec) == dist  # the spec reads back from anywhere
        sha = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert dist.input_files == [{"path": str(tmp_path / name), "sha256": sha}]
        res = simulate_pass_at_k(dist, [1, 10], 3000, seed=2)
        np.testing.assert_array_equal(res.fail_counts, inline.fail_counts)


def test_passk_manifest_records_the_values_file(tmp_path, capsys, monkeypatch):
    np.save(tmp_path / "v.npy", np.array([0.1, 0.3]))
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["passk", "--dist", "mixture(0.5*empirical(file='v.npy'), "
                         "0.5*beta(alpha=1, beta=1))", "--problems", "100", "--seed", "1",
                         "--out", "a.csv", "--no-progress"], capsys)
    assert code == 0, err
    meta = json.loads((tmp_path / "a.csv.json").read_text())
    sha = hashlib.sha256((tmp_path / "v.npy").read_bytes()).hexdigest()
    assert meta["input_files"] == [{"path": str(tmp_path / "v.npy"), "sha256": sha}]


@pytest.mark.parametrize("content, spec, message", [
    (None, "empirical(file='missing.npy')", "not found"),
    (b"not an array", "empirical(file='x.npy')", "not a readable .npy array"),
    (np.array([0.5, 1.5]), "empirical(file='x.npy')", "value number 2 is 1.5"),
    (np.array([[0.1, 0.2], [0.3, 0.4]]), "empirical(file='x.npy')", "one column"),
    ("0.1\n0.2\nabc\n", "empirical(file='x.csv')", "line 3: 'abc' is not a number"),
    ("p,q\n0.1,0.2\n", "empirical(file='x.csv')", "one column"),
    ("p\n", "empirical(file='x.csv')", "at least one number"),
    ("0.1\n", "empirical(file='x.txt')", "must end in .npy or .csv"),
    (None, "empirical(file=3)", "quoted file name"),
    (None, "empirical()", "exactly one of"),
])
def test_bad_values_file_is_one_line(tmp_path, capsys, monkeypatch, content, spec, message):
    monkeypatch.chdir(tmp_path)
    name = spec.split("'")[1] if "'" in spec else None
    if isinstance(content, np.ndarray):
        np.save(tmp_path / name, content)
    elif isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)
    elif content is not None:
        (tmp_path / name).write_text(content)
    code, out, err = _run(["passk", "--dist", spec, "--problems", "10", "--out", "a.csv"],
                          capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "a.csv").exists()
