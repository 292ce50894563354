"""Property-based tests of the command line: whatever the arguments, sweep or labs file, counts
CSV or existing files, `simsearch passk`, `sweep`, `labs`, `fit`, `backtest`, `plan` and
`reproduce` either succeed with outputs whose manifest matches them, or exit 2 with exactly one
line on stderr and no file created or changed; never a traceback, never a warning on the
terminal.

The default run uses a small example budget; ``pytest --exhaustive`` runs a larger one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import math
import os
import tempfile
import tomllib
import warnings
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from simsearch.cli import reproduce
from simsearch.io import output
from simsearch.cli import main
from simsearch.sweep import plan_sweep

SMALL = settings(max_examples=100, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])
LARGE = settings(max_examples=1500, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])

# --- strategies ------------------------------------------------------------------------------

def _mostly(valid, invalid, odds: int = 8):
    """``valid`` most of the time, ``invalid`` once in ``odds``: every case has a fair chance
    of getting past the checks, and every check is still reached."""
    # sampled_from shrinks towards its first element: a failing case shrinks towards valid.
    return st.sampled_from([True] * (odds - 1) + [False]).flatmap(
        lambda ok: valid if ok else invalid)


NUMBERS = st.sampled_from(["0", "1", "0.3", "3", "-1", "1e-300", "1e300", "1e400", "nan", "inf",
                           "1" * 400, "2.5", "x", ""])
VALID_DISTS = st.sampled_from([
    "beta(alpha=0.3, beta=3)", "beta(0.5, 2, 0.4)", "kumaraswamy(a=0.5, b=2)",
    "logitnormal(mu=-2, sigma=1.5)", "loguniform(low=1e-6, high=0.5)", "point(p=0.25)",
    "point(p=0)", "point(p=1)", "empirical(values=[0, 0.5, 1])",
    "mixture(0.6*beta(alpha=0.3, beta=3), 0.4*point(p=0.5))", "beta(alpha=1e16, beta=3)",
    "beta(alpha=1e-3, beta=1e6)"])
DISTS = _mostly(VALID_DISTS, st.one_of(
    st.sampled_from(["mixture()", "beta(", "__import__('os')", "",
                     "beta(alpha=0.3, beta=3, gamma=1)", "point(p=[1, 2])"]),
    st.builds(lambda f, a, b: f"{f}({a}, {b})",
              st.sampled_from(["beta", "kumaraswamy", "logitnormal", "loguniform", "point",
                               "nosuch"]), NUMBERS, NUMBERS),
    st.text(max_size=12)))
COUNTS = _mostly(st.integers(1, 300).map(str),
                 st.sampled_from(["0", "-3", "2.5", "1e18", "1e300", "1e400", "nan", "abc", "",
                                  "1" * 400]))
K_GRIDS = _mostly(st.sampled_from(["1,10", "1", "logspace:1:1e6:5", "linspace:1:100:3",
                                   "1,1e15", "9007199254740992"]),
                  st.sampled_from(["0", "", "1,,2", "logspace:1:x:3", "1e400",
                                   "9007199254740993", "logspace:10:1:3", "linspace:1:2:1e7"]))
#: Kinds of path an output option may name; each is made inside the test's directory.
PATH_KINDS = _mostly(st.sampled_from(["new", "existing_csv", "file_link"]),
                     st.sampled_from(["existing_dir", "trailing_slash", "missing_parent", "fifo",
                                      "devnull_link", "proc", "empty", "same_as_out"]), odds=3)


def _make_path(kind: str, root: Path, name: str, out: str | None) -> str:
    """A path of ``kind`` under ``root``, creating what the kind needs (an existing file...)."""
    path = root / name
    if kind == "existing_csv":
        path.write_text("k,pass_at_k\n1,0.5\n")
    elif kind == "existing_dir":
        path.mkdir()
    elif kind == "trailing_slash":
        return str(path) + "/"
    elif kind == "missing_parent":
        return str(root / "missing" / name)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "devnull_link":
        path.symlink_to(os.devnull)
    elif kind == "file_link":
        (root / f"target-{name}").write_text("old\n")
        path.symlink_to(root / f"target-{name}")
    elif kind == "proc":
        return f"/proc/{name}"
    elif kind == "empty":
        return ""
    elif kind == "same_as_out" and out is not None:
        return out
    return str(path)


# --- running main and checking the contract --------------------------------------------------


def _snapshot(root: Path) -> dict:
    """Everything about the files under ``root`` that a run might change."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        state[str(path.relative_to(root))] = (info.st_mode, content,
                                              os.readlink(path) if path.is_symlink() else None)
    return state


def _devnull() -> tuple:
    info = os.stat(os.devnull)
    return info.st_mode, info.st_rdev, info.st_ino


def _run(argv: list[str]) -> tuple[int, str, str]:
    """main(argv) in process; (exit code, stdout, stderr). Any exception fails the test."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own exits
            code = exc.code
    leaked = [f"{w.category.__name__}: {w.message}" for w in caught
              if not issubclass(w.category, DeprecationWarning)]
    assert leaked == [], f"warnings reached the user: {leaked}"
    return code, stdout.getvalue(), stderr.getvalue()


def _assert_refused(code: int, err: str, before: dict, root: Path, devnull: tuple) -> None:
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(lines) == 1 and lines[0].startswith("simsearch") and "error:" in lines[0], err
    assert "Traceback" not in err
    assert _snapshot(root) == before, "a refused run changed files"
    assert _devnull() == devnull


# --- passk -----------------------------------------------------------------------------------


@st.composite
def passk_cases(draw):
    return {"dist": draw(DISTS), "problems": draw(COUNTS), "k": draw(K_GRIDS),
            "replicates": draw(_mostly(st.sampled_from(["1", "2"]),
                                       st.sampled_from(["0", "-1", "1e9x"]))),
            "seed": draw(_mostly(st.sampled_from([None, "0", "7", "1e30"]),
                                 st.sampled_from(["-1", "x"]))),
            "threads": draw(_mostly(st.sampled_from([None, "1"]), st.sampled_from(["0", "999"]))),
            "out": draw(st.none() | PATH_KINDS), "per_problem": draw(st.none() | PATH_KINDS),
            "overwrite": draw(st.booleans())}


def _passk_argv(case: dict, root: Path) -> list[str]:
    argv = ["passk", "--dist", case["dist"], "--problems", case["problems"], "--k", case["k"],
            "--replicates", case["replicates"], "--no-progress"]
    for flag in ("seed", "threads"):
        if case[flag] is not None:
            argv += [f"--{flag}", case[flag]]
    out = None
    if case["out"] is not None:
        out = _make_path(case["out"], root, "out.csv", None)
        argv += ["--out", out]
    if case["per_problem"] is not None:
        argv += ["--per-problem", _make_path(case["per_problem"], root, "pp.csv", out)]
    if case["overwrite"]:
        argv.append("--overwrite")
    return argv


def _option(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def _run_or_refused(argv: list, root: Path):
    """Run ``argv``. A failure must be a refusal (exit 2, one line, nothing changed under
    ``root`` or at /dev/null): then None. A success must print no traceback and leave /dev/null
    alone: then (stdout, stderr, the snapshot of ``root`` taken before the run)."""
    before, devnull = _snapshot(root), _devnull()
    code, out, err = _run(argv)
    if code != 0:
        _assert_refused(code, err, before, root, devnull)
        return None
    assert "Traceback" not in err and _devnull() == devnull
    return out, err, before


def _check_passk(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        argv = _passk_argv(case, root)
        ran = _run_or_refused(argv, root)
        if ran is None:
            return
        out, _, before = ran
        written = {p for p in (_option(argv, "--out"), _option(argv, "--per-problem")) if p}
        for path in written:
            meta = output.read_manifest(path)  # the data is the data the manifest describes
            assert meta["command"] == "passk"
            assert meta["config"]["problems"] == int(float(case["problems"]))
            assert meta["config"]["replicates"] == int(float(case["replicates"]))
        if _option(argv, "--out") is None:
            rows = list(csv.DictReader(out.splitlines()))
            assert rows and "pass_at_k" in rows[0]
        # nothing else changed: only the outputs (or a symlink's target) and their manifests
        after = _snapshot(root)
        changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
        allowed = set()
        for path in written:
            real = Path(os.path.realpath(path))
            for p in (real, real.with_name(real.name + ".json"), Path(path + ".json")):
                with contextlib.suppress(ValueError):
                    allowed.add(str(p.relative_to(root.resolve())))
        assert changed <= allowed, changed - allowed


@SMALL
@given(passk_cases())
def test_passk_property(case):
    _check_passk(case)


@pytest.mark.exhaustive
@LARGE
@given(passk_cases())
def test_passk_property_exhaustive(case):
    _check_passk(case)


# --- sweep -----------------------------------------------------------------------------------

GOOD_VALUES = st.sampled_from([0.3, 1.0, 3.0, 0.5, 2])
BAD_VALUES = st.one_of(st.sampled_from([-1.0, 0.0, 1e300, math.inf, math.nan, -5, 1e9]),
                       st.sampled_from(["beta", "x", "1,10", ""]), st.booleans())
VALUES = _mostly(GOOD_VALUES, BAD_VALUES)


def _toml(value) -> str:
    """TOML text of a value: inline tables, arrays, strings, numbers, booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value == math.inf else
                                                 "-inf" if value == -math.inf else repr(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@st.composite
def sweep_docs(draw):
    name = draw(_mostly(st.just("beta"), st.sampled_from(["kumaraswamy", "point", "mixture",
                                                          "nosuch"])))
    dist = {"name": name, "alpha": draw(VALUES), "beta": draw(VALUES)}
    if draw(st.sampled_from([False] * 7 + [True])):
        dist[draw(st.sampled_from(["a", "p", "scale", "mu"]))] = draw(VALUES)
    base = {"dist": draw(_mostly(st.just(dist), st.sampled_from(["beta(alpha=0.3, beta=3)", 5]))),
            "problems": draw(_mostly(st.sampled_from([50, 200]),
                                     st.sampled_from([0, -1, 1e300, "x", 2.5]))),
            "k": draw(_mostly(st.sampled_from(["1,10", "logspace:1:100:3", [1, 10]]),
                              st.sampled_from(["0", 3, [0]])))}
    if draw(st.sampled_from([False] * 7 + [True])):
        base[draw(st.sampled_from(["colour", "replicates"]))] = 1
    axis_names = _mostly(st.sampled_from(["dist.alpha", "dist.beta", "problems"]),
                         st.sampled_from(["nosuch.key", "k", "dist.name", "dist"]))
    axis_specs = _mostly(
        st.one_of(st.lists(VALUES, min_size=1, max_size=3),
                  st.builds(lambda form, n, r: {form: [0.2, 2, n],
                                                **({"round": True} if r else {})},
                            st.sampled_from(["linspace", "logspace"]), st.sampled_from([1, 2, 3]),
                            st.booleans())),
        st.one_of(st.just([]), BAD_VALUES,
                  st.builds(lambda form, a, n: {form: [a, 2, n]},
                            st.sampled_from(["linspace", "logspace", "geomspace"]),
                            st.sampled_from([-1, 0, 1e300]),
                            st.sampled_from([0, 2.5, 1e9, 1e12, 1e400])),
                  st.just({"linspace": [0.1, 1, 3], "colour": 1})))
    doc: dict = {"base": base}
    if draw(st.sampled_from([True, True, True, False])):
        doc["axes"] = draw(_mostly(st.dictionaries(axis_names, axis_specs, min_size=1,
                                                   max_size=2), st.just({})))
    else:
        doc["random"] = {"count": draw(_mostly(st.sampled_from([1, 2, 3]),
                                               st.sampled_from([0, 1e9, 10**9, "3"]))),
                         **draw(st.dictionaries(axis_names, _mostly(st.sampled_from([
                             {"uniform": [0.1, 2.0]}, {"loguniform": [0.1, 2]},
                             {"choice": [0.2, 0.5]}]), st.sampled_from([
                                 {"integers": [10, 60]}, {"uniform": [2, 1]},
                                 {"loguniform": [0, 1]}, {"choice": []}, {"normal": [0, 1]}])),
                             min_size=1, max_size=2))}
    for key, good, bad in (("replicates", [1, 2], [0, 1.5]), ("seed", [0, 3], [-1, "x"]),
                           ("kind", ["passk"], ["labs"]),
                           ("statistics", [["exponent"], ["pass_at_k@10", "tail_exponent"],
                                           ["local_exponent", "expected_pass_at_k@1"]],
                            [["pass_at_k@7"], [], ["speed"], "exponent"])):
        if draw(st.booleans()):
            doc[key] = draw(_mostly(st.sampled_from(good), st.sampled_from(bad)))
    if draw(st.sampled_from([False] * 15 + [True])):
        doc["colour"] = "blue"
    return doc


@st.composite
def sweep_cases(draw):
    malformed = draw(_mostly(st.none(), st.sampled_from(["[base\n", "x = = 1\n", "\xff\xfe",
                                                         ""]), odds=12))
    return {"doc": draw(sweep_docs()), "malformed": malformed,
            "out": draw(_mostly(st.sampled_from(["new", "empty_dir"]),
                                st.sampled_from(["full_dir", "file", "proc", "empty",
                                                 "missing_parent"]))),
            "sweep": draw(_mostly(st.just("file"), st.sampled_from(["directory", "missing"]),
                                  odds=12)),
            "max_points": draw(_mostly(st.sampled_from([None, "4"]), st.sampled_from(["1", "0"]),
                                       odds=6))}


def _input_and_out(path: Path, malformed, text: str, input_kind: str, out_kind: str):
    """The command's input file ``path`` (``text``, or ``malformed`` bytes), or a directory or
    a missing path in its place, and an ``--out`` of the given kind; an empty and a non-empty
    directory are made beside them."""
    root = path.parent
    if malformed is not None:
        path.write_bytes(malformed.encode("latin-1"))
    else:
        path.write_text(text)
    given = {"file": str(path), "directory": str(root),
             "missing": str(root / "nope.toml")}[input_kind]
    out = {"new": root / "out", "empty_dir": root / "empty", "full_dir": root / "full",
           "missing_parent": root / "no" / "out", "file": path,
           "proc": Path("/proc") / path.stem, "empty": ""}[out_kind]
    (root / "empty").mkdir()
    (root / "full").mkdir()
    (root / "full" / "old.csv").write_text("a\n1\n")
    return given, out


def _check_sweep(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        text = "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in case["doc"].items())
        path = root / "sweep.toml"
        sweep, out = _input_and_out(path, case["malformed"], text, case["sweep"], case["out"])
        argv = ["sweep", sweep, "--out", str(out), "--workers", "1", "--no-progress"]
        if case["max_points"] is not None:
            argv += ["--max-points", case["max_points"]]
        before, devnull = _snapshot(root), _devnull()
        code, _, err = _run(argv)
        if code == 2:
            _assert_refused(code, err, before, root, devnull)
            return
        assert code in (0, 1) and "Traceback" not in err, err
        meta = output.read_manifest(Path(out))  # results.csv is the one it describes
        doc = tomllib.loads(path.read_text())
        plan = plan_sweep(doc, str(path), root, **({"max_points": int(case["max_points"])}
                                                   if case["max_points"] else {}))
        assert meta["digest"] == plan.digest and meta["ended"]
        status = [p["status"] for p in meta["points"]]
        assert len(status) == len(plan.points) and set(status) <= {"done", "failed"}
        # Issue 19.5: every point is checked before anything is written, so none fails later.
        assert "failed" not in status, [p.get("message") for p in meta["points"]]
        # exit 1 only when every point failed
        assert (code == 1) == (status.count("failed") == len(status))
        rows = (Path(out) / "results.csv").read_text().splitlines()[1:]
        assert len(rows) == status.count("done") * plan.replicates
        assert list(Path(out).rglob("*.tmp")) == []
        # nothing outside the output directory changed
        after = _snapshot(root)
        outside = {n for n in set(before) | set(after) if before.get(n) != after.get(n)
                   and not (root / n).resolve().is_relative_to(Path(out).resolve())}
        assert outside == set(), outside


@SMALL
@given(sweep_cases())
def test_sweep_property(case):
    _check_sweep(case)


@pytest.mark.exhaustive
@LARGE
@given(sweep_cases())
def test_sweep_property_exhaustive(case):
    _check_sweep(case)


# --- reproduce (argument handling; the experiment scripts themselves are stubbed) -------------


@st.composite
def reproduce_cases(draw):
    names = _mostly(st.sampled_from([*reproduce.EXPERIMENTS, "kortum,scaling_law"]),
                    st.sampled_from(["nonsense", "", " ", "scaling_law,", ","]))
    return {"only": draw(st.none() | st.lists(names, min_size=1, max_size=2)),
            "figures": draw(_mostly(st.sampled_from([None, "dir", "new"]),
                                    st.sampled_from(["file", "proc", "empty", "missing_parent"]),
                                    odds=3)),
            "quick": draw(st.booleans())}


def _check_reproduce(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "dir").mkdir()
        (root / "file").write_text("keep")
        argv = ["reproduce", "--no-progress"] + (["--quick"] if case["quick"] else [])
        for name in case["only"] or []:
            argv += ["--only", name]
        if case["figures"] is not None:
            argv += ["--figures", {"dir": str(root / "dir"), "new": str(root / "new"),
                                   "file": str(root / "file"), "proc": "/proc/figures",
                                   "empty": "", "missing_parent": str(root / "no" / "f")}[
                                       case["figures"]]]
        calls = []
        before, devnull = _snapshot(root), _devnull()
        with mock.patch.object(reproduce, "run_experiments",
                               lambda names, **kw: calls.append((names, kw)) or []):
            code, _, err = _run(argv)
        if code == 2:
            _assert_refused(code, err, before, root, devnull)
            assert calls == []
            return
        assert code == 0 and len(calls) == 1, err
        names, kw = calls[0]
        assert names and set(names) <= set(reproduce.EXPERIMENTS)
        if case["quick"] and case["figures"] is None:
            assert kw["figures"] == Path.cwd().resolve() / reproduce.QUICK_FIGURES


@SMALL
@given(reproduce_cases())
def test_reproduce_property(case):
    _check_reproduce(case)


@pytest.mark.exhaustive
@LARGE
@given(reproduce_cases())
def test_reproduce_property_exhaustive(case):
    _check_reproduce(case)


# --- labs ------------------------------------------------------------------------------------
# Runs stay tiny (ideas <= 50, budgets <= 200, periods <= 4, replicates <= 3) so a hundred
# examples take seconds once the labs kernel is compiled.

HUGE = int("9" * 400)  # TOML integers have no size limit; tomllib reads them as Python ints


def _sometimes(odds: int = 4):
    """True about once in ``odds``: optional keys are present some of the time."""
    return st.sampled_from([True] + [False] * (odds - 1))


def _ok(valid, invalid):
    """Like ``_mostly``, rarer faults: a labs file has some fifteen fields, and about half the
    generated files should be valid throughout to reach the simulation."""
    return _mostly(valid, invalid, odds=60)


@st.composite
def labs_docs(draw, estimate: bool = False):
    endless = draw(st.sampled_from([False, False, True]))
    pool: dict = {"ideas": "inf" if endless else draw(_ok(
        st.sampled_from([1, 5, 20, 50]),
        st.sampled_from([0, -1, 2.5, "x", HUGE, 50_000_001, 1e400, True, "Inf"])))}
    pool["difficulty"] = draw(_ok(
        st.sampled_from(["beta(alpha=0.3, beta=3)", "point(p=0.2)", "point(p=0)", "point(p=1)",
                         "kumaraswamy(a=0.5, b=2)", "logitnormal(mu=-2, sigma=1.5)"]),
        st.sampled_from(["beta(", "nosuch(1)", 5, "", "point(p=2)", "beta(alpha=nan, beta=1)",
                         "beta(alpha=0.3, beta=1e306)"])))
    # Values multiply effective compute with combine = "product": an endless stream with
    # Pareto values would then grow without bound, so Pareto comes with "max" (Kortum).
    value = draw(st.sampled_from([None, "fixed(v=1.01)", "lognormal(mu=0.0002, sigma=0.0002)",
                                  "pareto(alpha=1.5)"]))
    if value is not None:
        pool["value"] = value
    if value == "pareto(alpha=1.5)":
        pool["combine"] = "max"
    elif draw(_sometimes()):
        pool["combine"] = draw(_ok(st.sampled_from(["product", "max"]),
                                   st.sampled_from(["min", 1])))
    if draw(_sometimes(60)):
        pool["value"] = draw(st.sampled_from(["pareto(alpha=0)", "x", 3, "fixed(v=-1)",
                                              # issue 19.4: values whose logs overflow
                                              "lognormal(mu=1e308, sigma=1)",
                                              "lognormal(mu=0, sigma=1e300)", "fixed(v=1e308)"]))
    if draw(_sometimes()):
        pool["replenish"] = draw(_ok(st.sampled_from([0, 0.0] if endless else [0, 0.3, 0.9]),
                                     st.sampled_from([-1, math.nan, "x", math.inf])))
    if not endless and draw(_sometimes()):
        pool["max_ideas"] = draw(_ok(st.sampled_from([50, 60, 100]),
                                     st.sampled_from([0, 1.5, -1, HUGE, "x"])))
    if draw(_sometimes(60)):
        pool[draw(st.sampled_from(["colour", "idea", "Ideas"]))] = 1

    labs = []
    for i in range(draw(_ok(st.integers(1, 3), st.just(0)))):
        lab: dict = {"name": draw(_ok(st.sampled_from([f"lab{i}", f"L {i}"]),
                                      st.sampled_from(["", "a,b", 3, "lab0"]))),
                     "budget": draw(_ok(st.sampled_from([10, 50.0, 200, 0.5]),
                                        st.sampled_from([0, -1, math.inf, math.nan, "x",
                                                         HUGE, 1e300])))}
        if draw(_sometimes()):
            lab["growth"] = draw(_ok(st.sampled_from([0, 0.25, -0.5]),
                                     st.sampled_from([-1, -2, math.nan, "x", 1.0, 700.0])))
        if draw(_sometimes()):
            lab["cost"] = draw(_ok(
                st.sampled_from([1.0, 2, {"base": 1.0, "elasticity": 0.5}, {"elasticity": 1}]),
                st.sampled_from([0, -1, {"base": 1, "x": 2}, {"elasticity": -1}, "x", 1e-300])))
        if draw(_sometimes(2)):
            policies = ["round-robin", "patience(m=3)", "patience(2)", "Round-Robin"]
            lab["policy"] = draw(_ok(st.sampled_from(policies if endless
                                                     else policies + ["greedy"] * 2),
                                     st.sampled_from(["patience(m=0)", "random", 3, "greedy",
                                                      f"patience(m={HUGE})"])))
        if draw(_sometimes()):  # feedback; without [limits] above the elasticity: refused
            lab["automation"] = draw(_ok(st.sampled_from([0, 0.5, 1, [0, 1]]),
                                         st.sampled_from([1.5, -1, [], "x", [0.5, "x"]])))
        if draw(_sometimes(60)):
            lab["colour"] = "blue"
        labs.append(lab)

    doc: dict = {"pool": pool, "lab": labs}
    if estimate or draw(_sometimes(2)):  # --estimate needs 3 periods or more
        doc["periods"] = draw(_ok(st.integers(3 if estimate else 1, 4),
                                  st.sampled_from([0, 2, 2.5, 100_001, HUGE, "3", 1030])))
    if draw(_sometimes(2)):
        doc["replicates"] = draw(_ok(st.integers(1, 3), st.sampled_from([0, -1, 1.5, "2"])))
    if draw(_sometimes(2)):
        doc["seed"] = draw(_ok(st.sampled_from([0, 7, 2**64]),
                               st.sampled_from([-1, "x", 1.5, HUGE])))
    if draw(_sometimes()):
        doc["sharing"] = draw(_ok(st.sampled_from([0, 0.5, 1]),
                                  st.sampled_from([1.5, -0.1, math.nan, "x"])))
    if draw(_sometimes(6)):
        doc["loss"] = draw(_ok(st.sampled_from([{"training_flop": 1e24}, {}, {"E": 0}]),
                               st.sampled_from([{"training_flop": "x"}, {"nosuch": 1},
                                                {"training_flop": -1}, {"A": 1e400}, 3,
                                                {"alpha": HUGE}])))
    if draw(_sometimes(3)):
        doc["limits"] = draw(_ok(st.sampled_from([{"multiplier": 10}, {"multiplier": 1e3}, {}]),
                                 st.sampled_from([{"multiplier": 1}, {"x": 1}, 3,
                                                  {"multiplier": "x"}])))
    if draw(_sometimes(60)):
        doc["colour"] = "blue"
    return doc


def _toml_document(doc: dict) -> str:
    """TOML text with top-level scalars first, then [pool], [loss] and [[lab]] tables."""
    tables = {k: v for k, v in doc.items() if isinstance(v, dict)}
    lines = [f"{json.dumps(k)} = {_toml(v)}" for k, v in doc.items()
             if k not in tables and k != "lab"]
    for name, table in tables.items():
        lines += [f"[{name}]", *(f"{json.dumps(k)} = {_toml(v)}" for k, v in table.items())]
    for lab in doc.get("lab", []):
        lines += ["[[lab]]", *(f"{json.dumps(k)} = {_toml(v)}" for k, v in lab.items())]
    return "\n".join(lines) + "\n"


@st.composite
def labs_cases(draw):
    estimate = draw(_sometimes(5))
    return {"doc": draw(labs_docs(estimate)), "estimate": estimate,
            "malformed": draw(_ok(st.none(), st.sampled_from(["[pool\n", "x = = 1\n",
                                                              "\xff\xfe", ""]))),
            "config": draw(_ok(st.just("file"), st.sampled_from(["directory", "missing"]))),
            "out": draw(_mostly(st.sampled_from(["new", "empty_dir", "missing_parent"]),
                                st.sampled_from(["full_dir", "full_dir", "file", "proc",
                                                 "empty"]), odds=4)),
            "replicates": draw(st.none() | _ok(st.sampled_from(["1", "3"]),
                                               st.sampled_from(["0", "x", "1e400", "1e12",
                                                                "1000000000"]))),
            "seed": draw(st.none() | _ok(st.sampled_from(["0", "5"]),
                                         st.sampled_from(["-1", "1.5"]))),
            "no_wins": draw(st.booleans()), "overwrite": draw(st.booleans()),
            "bootstrap": draw(st.none() | _ok(st.just("20"), st.sampled_from(["0", "x"])))}


def _check_labs(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "labs.toml"
        config, out = _input_and_out(path, case["malformed"], _toml_document(case["doc"]),
                                     case["config"], case["out"])
        argv = ["labs", config, "--out", str(out), "--threads", "1", "--no-progress"]
        for flag in ("replicates", "seed", "bootstrap"):
            if case[flag] is not None:
                argv += [f"--{flag}", case[flag]]
        for flag in ("no_wins", "overwrite", "estimate"):
            if case[flag]:
                argv.append("--" + flag.replace("_", "-"))
        ran = _run_or_refused(argv, root)
        if ran is None:
            return
        _, _, before = ran
        meta = output.read_manifest(out)  # every table is the one the manifest describes
        doc = tomllib.loads(path.read_text())
        replicates = int(case["replicates"] or doc.get("replicates", 1))
        labs, periods = len(doc["lab"]), int(doc.get("periods", 1))
        assert meta["command"] == "labs" and meta["config"]["replicates"] == replicates
        tables = {p.name: p.read_text().splitlines() for p in Path(out).glob("*.csv")}
        expected = {"summary.csv", "periods.csv", "doublings.csv", "explosion.csv"}
        expected |= set() if case["no_wins"] else {"wins.csv"}
        expected |= {"estimates.csv"} if case["estimate"] else set()
        assert set(meta["files"]) == expected and set(tables) >= expected
        assert len(tables["summary.csv"]) - 1 == replicates * labs
        assert len(tables["periods.csv"]) - 1 == replicates * labs * periods
        if not case["no_wins"]:
            wins = list(csv.DictReader(tables["wins.csv"]))
            assert {int(r["replicate"]) for r in wins} <= set(range(replicates))
        _assert_consistent(tables, periods)
        assert list(Path(out).rglob("*.tmp")) == []
        after = _snapshot(root)
        target = Path(out).resolve()  # --out makes missing parents
        outside = {n for n in set(before) | set(after) if before.get(n) != after.get(n)
                   and not (root / n).resolve().is_relative_to(target)
                   and (root / n).resolve() not in target.parents}
        assert outside == set(), outside


def _assert_consistent(tables: dict, periods: int) -> None:
    """Issue 19: a run that exits 0 reports only what happened: every number finite (a blank
    where a column does not apply), compute >= 0, cumulative compute the running sum of the
    periods' compute, wins cumulative, and the summary equal to the last period."""
    rows = {name: list(csv.DictReader(tables[name])) for name in ("summary.csv", "periods.csv")}
    for name, table in rows.items():
        for row in table:
            for column, cell in row.items():
                if column != "lab" and cell != "":
                    assert math.isfinite(float(cell)), (name, column, cell)
    by_lab: dict = {}
    for row in rows["periods.csv"]:
        by_lab.setdefault((row["replicate"], row["lab"]), []).append(row)
    for row in rows["summary.csv"]:
        history = by_lab[(row["replicate"], row["lab"])]
        assert len(history) == periods
        compute = [float(r["compute"]) for r in history]
        cumulative = [float(r["cumulative_compute"]) for r in history]
        wins = [int(float(r["wins"])) for r in history]
        assert min(compute) >= 0 and wins == sorted(wins) and wins[0] >= 0
        assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in
                   zip(itertools.accumulate(compute), cumulative)), (compute, cumulative)
        assert int(float(row["wins"])) == wins[-1]
        assert math.isclose(float(row["compute"]), cumulative[-1], rel_tol=1e-9)


@SMALL
@given(labs_cases())
def test_labs_property(case):
    _check_labs(case)


@pytest.mark.exhaustive
@LARGE
@given(labs_cases())
def test_labs_property_exhaustive(case):
    _check_labs(case)


@pytest.mark.parametrize("lab", [
    {"budget": HUGE},  # was OverflowError in math.isfinite
    {"budget": 10, "policy": f"patience(m={HUGE})"},  # was OverflowError in the kernel arguments
    {"budget": 10, "policy": f"patience(m={2**53 + 1})"}])
def test_labs_refuses_integers_beyond_float_range(lab):
    """Found by test_labs_property: huge TOML integers were tracebacks, not one line."""
    case = {"doc": {"pool": {"ideas": HUGE, "difficulty": "point(p=0.5)"}, "lab": [lab]},
            "malformed": None, "config": "file", "out": "new", "replicates": None,
            "seed": None, "no_wins": False, "overwrite": False, "estimate": False,
            "bootstrap": None}
    _check_labs(case)  # refused: pool.ideas
    case["doc"]["pool"]["ideas"] = 5
    _check_labs(case)  # refused: the lab


@pytest.mark.parametrize("value", ["fixed(v=-1)", "pareto(alpha=0)", "x", "nosuch(1)"])
def test_labs_value_errors_name_the_key(tmp_path, value):
    """Seen in test_labs_property's refusals: a value family's own check named no key."""
    config = tmp_path / "labs.toml"
    config.write_text(_toml_document({"pool": {"ideas": 5, "difficulty": "point(p=0.5)",
                                               "value": value}, "lab": [{"budget": 10}]}))
    code, _, err = _run(["labs", str(config), "--out", str(tmp_path / "out")])
    assert code == 2 and err.startswith("simsearch labs: error: pool.value: "), err
    assert not (tmp_path / "out").exists()


# --- fit and backtest (per-problem success counts) -------------------------------------------

CELL_FAULTS = ["-1", "2.5", "nan", "", "x", "1e400", "inf", " 3 "]


@st.composite
def counts_files(draw):
    """(text of a counts CSV, or None for a directory path): valid and malformed."""
    kind = draw(_mostly(st.just("rows"), st.sampled_from([
        "empty", "header_only", "one", "zeros", "single_attempt", "huge_attempts", "directory",
        "missing"]), odds=3))
    header = draw(_mostly(st.sampled_from(["successes,attempts", "problem,successes,attempts",
                                           "attempts,successes"]),
                          st.sampled_from(["\ufeffsuccesses,attempts", "successes, attempts",
                                           "succ,attempts", "successes", "attempts"]), odds=12))
    if kind in ("directory", "missing"):
        return kind, None
    if kind == "empty":
        return kind, ""
    n = {"header_only": 0, "one": 1}.get(kind)
    n = draw(st.integers(2, 60)) if n is None else n
    # One attempt count per file, as an evaluation has; now and then one per row.
    same = {"single_attempt": 1, "huge_attempts": draw(st.sampled_from([10**6, 10**18]))}.get(
        kind) or draw(st.sampled_from([10, 50, 200]))
    mixed = draw(_sometimes(6))
    fault = draw(_mostly(st.none(), st.tuples(st.integers(0, max(n - 1, 0)),
                                               st.sampled_from(["successes", "attempts"]),
                                               st.sampled_from(CELL_FAULTS + ["201", "1" * 400]))))
    names = [c.strip().lstrip("\ufeff") for c in header.split(",")]
    rows = []
    for i in range(n):
        a = draw(st.sampled_from([1, 10, 50, 200])) if mixed else same
        s = 0 if kind == "zeros" else draw(st.integers(0, min(a, 200)))
        cells = {"successes": str(s), "attempts": str(a), "problem": f"p{i}"}
        if fault is not None and fault[0] == i:
            cells[fault[1]] = fault[2]
        rows.append(",".join(cells.get(c, "0") for c in names))
    return kind, "\n".join([header, *rows]) + "\n"


def _with_models(text: str | None) -> str | None:
    """The counts file with a ``model`` column: rows alternate between two models."""
    if not text or "\n" not in text.strip():
        return text
    lines = text.strip("\n").split("\n")
    return "\n".join([lines[0] + ",model"]
                     + [f"{row},m{i % 2}" for i, row in enumerate(lines[1:])]) + "\n"


BY = st.none() | _mostly(st.just("model"), st.sampled_from(["nosuch", "problem", ""]))


def _strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name} in the output")
    return json.loads(text, parse_constant=refuse)


def _counts_path(root: Path, kind: str, text: str | None) -> str:
    if kind == "directory":
        return str(root)
    path = root / "counts.csv"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return str(path)


@st.composite
def fit_cases(draw):
    kind, text = draw(counts_files())
    by = draw(BY)
    return {"counts": (kind, _with_models(text)), "json": draw(st.booleans()), "by": by,
            "pool": by is not None and draw(st.booleans()),
            "bootstrap": draw(st.none() | _mostly(st.sampled_from(["0", "20"]),
                                                  st.sampled_from(["-1", "x"]))),
            "predict": draw(st.none() | _mostly(st.sampled_from(["1000", "1,10,100000"]),
                                                st.sampled_from(["0", "x", "1e400", "1e12",
                                                                "1000000000"]))),
            "target": draw(st.none() | _mostly(st.sampled_from(["0.5", "0.9"]),
                                               st.sampled_from(["0", "1", "nan", "x", "-1"])))}


def _check_fit(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        argv = ["fit", _counts_path(root, *case["counts"])]
        for flag in ("bootstrap", "predict", "target", "by"):
            if case[flag] is not None:
                argv += [f"--{flag}", case[flag]]
        if case["pool"]:
            argv.append("--pool")
        if case["json"]:
            argv.append("--json")
        ran = _run_or_refused(argv, root)
        if ran is None:
            return
        out, _, before = ran
        assert _snapshot(root) == before
        if case["json"]:
            report = _strict_json(out)
            reports = report["groups"].values() if case["by"] else [report]
            assert all(r["problems"] >= 1 for r in reports)
        else:
            assert out.strip()


@SMALL
@given(fit_cases())
def test_fit_property(case):
    _check_fit(case)


@pytest.mark.exhaustive
@LARGE
@given(fit_cases())
def test_fit_property_exhaustive(case):
    _check_fit(case)


def _has_command(name: str) -> bool:
    from simsearch.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return name in sub.choices


needs_backtest = pytest.mark.skipif(not _has_command("backtest"),
                                    reason="no simsearch backtest on this branch")


@st.composite
def backtest_cases(draw):
    kind, text = draw(counts_files())
    return {"counts": (kind, _with_models(text)), "by": draw(BY),
            # --from < --to <= attempts (10, 50 or 200 in most files) when valid
            "from": draw(_mostly(st.sampled_from(["1", "2", "4"]),
                                 st.sampled_from(["0", "x", "1e400", "10"]))),
            "to": draw(_mostly(st.sampled_from(["5", "10"]), st.sampled_from(["1", "999999"]))),
            "seeds": draw(_mostly(st.sampled_from(["1", "2"]), st.sampled_from(["0", "-1"]))),
            # Two quick methods: one curve fit, one likelihood fit (all of them is slow).
            "methods": draw(_mostly(st.sampled_from(["line,beta", "wls"]),
                                    st.sampled_from(["nosuch", "", "line,,beta"]))),
            "out": draw(st.none() | PATH_KINDS), "overwrite": False}


def _check_backtest(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        argv = ["backtest", _counts_path(root, *case["counts"]), "--from", case["from"],
                "--to", case["to"], "--no-progress"]
        argv += ["--seeds", case["seeds"], "--methods", case["methods"]]
        if case["by"] is not None:
            argv += ["--by", case["by"]]
        out = None
        if case["out"] is not None:
            out = _make_path(case["out"], root, "bt.csv", None)
            argv += ["--out", out]
        ran = _run_or_refused(argv, root)
        if ran is None:
            return
        _assert_wrote_only(root, ran[2], out, "backtest")


def _assert_wrote_only(root: Path, before: dict, out: str | None, command: str) -> None:
    """Nothing under ``root`` changed but ``out`` (through a link: its target) and its
    manifest, which names ``command``."""
    after = _snapshot(root)
    changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    if out is None:
        assert changed == set()
        return
    assert output.read_manifest(out)["command"] == command
    real = Path(os.path.realpath(out))
    allowed = {str(p.relative_to(root.resolve())) for p in
               (real, real.with_name(real.name + ".json"))
               if p.is_relative_to(root.resolve())}
    allowed |= {str(Path(out + ".json").relative_to(root))}
    assert changed <= allowed, changed - allowed


@needs_backtest
@SMALL
@given(backtest_cases())
def test_backtest_property(case):
    _check_backtest(case)


@needs_backtest
@pytest.mark.exhaustive
@LARGE
@given(backtest_cases())
def test_backtest_property_exhaustive(case):
    _check_backtest(case)


# --- plan ------------------------------------------------------------------------------------


@st.composite
def plan_cases(draw):
    kind, text = draw(counts_files())
    return {"counts": (kind, _with_models(text)), "by": draw(BY), "json": draw(st.booleans()),
            "budget": draw(_mostly(st.sampled_from(["0", "50", "5000"]),
                                   st.sampled_from(["-1", "x", "2.5", "1e400", ""]))),
            "predict": draw(_mostly(st.sampled_from(["1000", "10000"]),
                                    st.sampled_from(["1", "0", "x", "1e400"]))),
            "rounds": draw(st.none() | _mostly(st.sampled_from(["1", "3"]),
                                               st.sampled_from(["0", "-2", "x"]))),
            "cap": draw(st.none() | _mostly(st.sampled_from(["0", "40"]),
                                            st.sampled_from(["-1", "x"]))),
            "bootstrap": draw(_mostly(st.sampled_from(["0", "20"]), st.sampled_from(["-1", "x"]))),
            "strategy": draw(st.none() | _mostly(st.sampled_from(["uniform", "hard-first"]),
                                                 st.sampled_from(["nosuch", ""]))),
            "out": draw(st.none() | PATH_KINDS)}


def _check_plan(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        argv = ["plan", _counts_path(root, *case["counts"]), "--budget", case["budget"],
                "--predict", case["predict"], "--bootstrap", case["bootstrap"]]
        for flag in ("by", "rounds", "cap", "strategy"):
            if case[flag] is not None:
                argv += [f"--{flag}", case[flag]]
        if case["json"]:
            argv.append("--json")
        out = None
        if case["out"] is not None:
            out = _make_path(case["out"], root, "plan.csv", None)
            argv += ["--out", out]
        ran = _run_or_refused(argv, root)
        if ran is None:
            return
        printed, _, before = ran
        if case["json"]:
            report = _strict_json(printed)
            groups = report["allocation"] if case["by"] else {"": report["allocation"]}
            spent = sum(a for alloc in groups.values() for a in alloc.values())
            assert 0 <= spent <= int(case["budget"])
            assert all(a >= 0 for alloc in groups.values() for a in alloc.values())
        _assert_wrote_only(root, before, out, "plan")
        if out is None:
            return
        with open(out, newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert sum(int(r["attempts"]) for r in rows) <= int(case["budget"])


@SMALL
@given(plan_cases())
def test_plan_property(case):
    _check_plan(case)


@pytest.mark.exhaustive
@LARGE
@given(plan_cases())
def test_plan_property_exhaustive(case):
    _check_plan(case)
