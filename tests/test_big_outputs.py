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
from simsearch.io.output import read_manifest
from simsearch.io.tables import npy_chunks, read_table, table_data
from simsearch.distributions.spec import parse_distribution

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


@pytest.fixture
def no_pyarrow(monkeypatch):
    """Imports of pyarrow fail, as where it is not installed."""
    import builtins

    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(tmp_path, capsys, no_pyarrow):
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


# --- labs tables in binary formats -------------------------------------------------------------

LABS_POOL = """
seed = 4
replicates = 3
periods = 5
sharing = 0.5
[pool]
ideas = 200
difficulty = "beta(alpha=0.4, beta=3)"
value = "lognormal(mu=0.02, sigma=0.01)"
[[lab]]
name = "grand \\"é\\""
budget = 300.0
growth = 0.2
policy = "patience(m=3)"
[[lab]]
name = "small"
budget = 100.0
"""
# A stream: no pool to count (blank pool_remaining, idea) and ideas tried instead.
LABS_STREAM = """
seed = 1
replicates = 4
periods = 4
[pool]
ideas = "inf"
difficulty = "point(p=0.5)"
value = "pareto(alpha=2)"
combine = "max"
[[lab]]
name = "a"
budget = 50.0
"""


def _labs_run(tmp_path, capsys, text, fmt, *extra):
    config = tmp_path / "labs.toml"
    config.write_text(text)
    out = tmp_path / fmt
    code, _, err = _run(["labs", str(config), "--out", str(out), "--no-progress", "--format",
                         fmt, *extra], capsys)
    assert code == 0, err
    return out


def _assert_same_columns(got, want):
    assert list(got) == list(want)
    for name in want:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.dtype.kind == w.dtype.kind or {g.dtype.kind, w.dtype.kind} == {"i"}, name
        np.testing.assert_array_equal(g, w, err_msg=name)  # NaN == NaN here; floats exact


@pytest.mark.parametrize("text", [LABS_POOL, LABS_STREAM], ids=["pool", "stream"])
def test_labs_tables_read_back_the_same_in_every_format(tmp_path, capsys, text):
    pytest.importorskip("pyarrow")
    from simsearch.labs import labs_config, read_labs, simulate_labs
    import tomllib

    extra = ["--estimate", "--bootstrap", "5"] if text is LABS_POOL else []
    runs = {fmt: read_labs(_labs_run(tmp_path, capsys, text, fmt, *extra))
            for fmt in ("csv", "npz", "parquet")}
    result = simulate_labs(labs_config(tomllib.loads(text)))
    tables = (["summary", "periods", "wins", "doublings", "explosion"]
              + (["estimates"] if extra else []))
    for fmt, run in runs.items():
        assert run.format == fmt and list(run.files) == tables
        assert run.manifest["format"] == fmt
        assert sorted(run.manifest["files"]) == sorted(f"{t}.{fmt}" for t in tables)
        for table in tables:
            _assert_same_columns(run.table(table), runs["csv"].table(table))
        for table in ("summary", "periods", "wins", "doublings", "explosion"):
            _assert_same_columns(run.table(table), result.table(table, typed=True))
    blank = runs["csv"].table("summary")["pool_remaining" if text is LABS_STREAM else
                                         "ideas_tried"]
    assert np.isnan(blank).all()  # blank cells in the CSV, NaN in the binary tables
    if text is LABS_POOL:
        assert runs["npz"].table("summary")["lab"][0] == 'grand "é"'


def test_labs_binary_tables_are_what_numpy_and_pyarrow_read(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    npz = _labs_run(tmp_path, capsys, LABS_POOL, "npz")
    parquet = _labs_run(tmp_path, capsys, LABS_POOL, "parquet")
    with np.load(npz / "wins.npz", allow_pickle=False) as z:  # no pickled objects
        assert z["lab"].dtype.kind == "U" and z["idea"].dtype == np.int64
        wins = {name: z[name] for name in z.files}
    table = pq.read_table(parquet / "wins.parquet")
    _assert_same_columns({n: np.asarray(table.column(n).to_numpy(zero_copy_only=False),
                                        dtype=wins[n].dtype) for n in table.column_names}, wins)
    for out in (npz, parquet):
        meta = read_manifest(out)  # every file matches the SHA-256 recorded
        for name, digest in meta["files"].items():
            assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_labs_overwrite_in_another_format_removes_the_old_tables(tmp_path, capsys):
    from simsearch.labs import read_labs

    out = _labs_run(tmp_path, capsys, LABS_POOL, "csv")
    config = tmp_path / "labs.toml"
    code, _, err = _run(["labs", str(config), "--out", str(out), "--no-progress", "--format",
                         "npz", "--overwrite", "--no-wins"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["doublings.npz", "explosion.npz",
                                                      "manifest.json", "periods.npz",
                                                      "summary.npz"]
    run = read_labs(out)
    with pytest.raises(SimsearchError, match="holds summary, periods"):
        run.table("wins")


def test_read_labs_refuses_a_changed_file_and_other_directories(tmp_path, capsys):
    from simsearch.labs import read_labs

    out = _labs_run(tmp_path, capsys, LABS_POOL, "npz")
    wins = out / "wins.npz"
    wins.write_bytes(wins.read_bytes()[:-1] + b"x")
    with pytest.raises(SimsearchError, match="does not match its manifest"):
        read_labs(out)
    with pytest.raises(SimsearchError, match="missing or unreadable manifest"):
        read_labs(tmp_path)
    pp = tmp_path / "pp"
    pp.mkdir()
    assert _run([*PASSK, "--per-problem", str(pp / "x.npz"), "--out", str(pp / "a.csv")],
                capsys)[0] == 0
    (pp / "manifest.json").write_text(json.dumps({"command": "passk", "files": {}}))
    with pytest.raises(SimsearchError, match="not the output of simsearch labs"):
        read_labs(pp)


def test_read_labs_on_a_missing_directory_names_the_directory(tmp_path):
    """Issue 22: a missing directory was reported as "DIR.json: missing or unreadable
    manifest", blaming a file the user never named."""
    from simsearch.labs import read_labs

    missing = tmp_path / "labs-run"
    with pytest.raises(SimsearchError) as info:
        read_labs(missing)
    assert str(info.value) == f"{missing}: no such directory"
    (tmp_path / "file").write_text("x")
    with pytest.raises(SimsearchError, match="file: not a directory"):
        read_labs(tmp_path / "file")


def test_labs_parquet_without_pyarrow_is_refused_before_any_work(tmp_path, capsys,
                                                                 no_pyarrow):
    config = tmp_path / "labs.toml"
    config.write_text(LABS_POOL)
    code, out, err = _run(["labs", str(config), "--out", str(tmp_path / "run"),
                           "--format", "parquet"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "format" in err and "simsearch[parquet]" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labs.toml"]
    code, _, err = _run(["labs", str(config), "--out", str(tmp_path / "run"),
                         "--format", "xlsx"], capsys)
    assert code == 2 and "invalid choice: 'xlsx'" in err


def test_read_table_types_csv_columns_as_written(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('i,f,b,s,blank\n1,1.0,true,"a,b",\n-2,inf,false,c,3\n')
    got = read_table(path)
    assert got["i"].dtype == np.int64 and got["f"].dtype == np.float64
    assert got["b"].tolist() == [True, False] and got["s"].tolist() == ["a,b", "c"]
    np.testing.assert_array_equal(got["blank"], [np.nan, 3.0])
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(SimsearchError, match="empty"):
        read_table(tmp_path / "e.csv")
    with pytest.raises(SimsearchError, match="cannot read"):
        read_table(tmp_path / "missing.npz")
