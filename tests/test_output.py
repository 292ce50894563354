"""The output layer: non-regular targets refused, results and manifests replaced as a pair,
no temporary file outliving a killed writer, output directories checked before any work."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from test_cli import _run
from simsearch.errors import SimsearchError
from simsearch.io import directory, output
from simsearch.io.directory import check_output_directory
from simsearch.io.output import atomic_write_text, check_writable, write_with_manifest

PASSK = ["passk", "--dist", "beta(alpha=0.3, beta=3)", "--problems", "2000", "--k", "1,10",
         "--seed", "1", "--no-progress"]


def _snapshot(directory):
    return {p.relative_to(directory): (p.is_symlink(), p.lstat().st_mode,
                                       p.read_bytes() if p.is_file() and not p.is_symlink()
                                       else None)
            for p in sorted(directory.rglob("*"))}


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_not_renamed_over(tmp_path, fifo, capsys):
    before = _snapshot(tmp_path)
    code, _, err = _run([*PASSK, "--out", str(fifo)], capsys)
    assert code == 2 and "is not a regular file" in err and len(err.splitlines()) == 1
    assert _snapshot(tmp_path) == before
    with pytest.raises(SimsearchError, match="not a regular file"):
        atomic_write_text(fifo, "x")
    with pytest.raises(SimsearchError, match="not a regular file"):
        write_with_manifest(fifo, "x", {})
    assert _snapshot(tmp_path) == before


def test_a_symlink_to_a_device_is_refused_and_the_device_untouched(tmp_path, capsys):
    link = tmp_path / "null.csv"
    link.symlink_to(os.devnull)
    device = os.stat(os.devnull)
    code, _, err = _run([*PASSK, "--out", str(link), "--overwrite"], capsys)
    assert code == 2 and "is not a regular file" in err
    with pytest.raises(SimsearchError, match="not a regular file"):
        atomic_write_text(link, "x")
    assert link.is_symlink() and os.stat(os.devnull) == device
    assert not os.path.exists(os.devnull + ".json") or os.path.isfile(os.devnull + ".json")


def test_a_symlink_to_a_file_keeps_the_link_and_replaces_the_target(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    atomic_write_text(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"


def test_pair_carries_the_data_hash_and_readers_detect_a_split_pair(tmp_path):
    path = tmp_path / "r.csv"
    meta = write_with_manifest(path, "a,b\n1,2\n", {"config": {"x": 1}})
    assert output.read_manifest(path) == meta and meta["data_file"] == "r.csv"
    # what SIGKILL between the two renames would leave: the old data beside a new manifest
    path.write_text("a,b\n3,4\n")
    with pytest.raises(SimsearchError, match="does not match its manifest"):
        output.read_manifest(path)
    (tmp_path / "r.csv.json").unlink()
    with pytest.raises(SimsearchError, match="missing or unreadable manifest"):
        output.read_manifest(path)


KILLED_WRITER = textwrap.dedent("""
    import os, sys
    from simsearch.io import output
    real = output._commit
    def die(renames, remove=()):
        if renames[0][1].name == "r.csv":
            os._exit(9)  # as SIGKILL: temporaries written, nothing renamed
        real(renames, remove)
    output._commit = die
    output.write_with_manifest(sys.argv[1], "new\\n", {"run": 2})
""")


def test_sigkill_mid_write_leaves_the_old_pair_intact_and_the_rewrite_cleans_up(tmp_path):
    path = tmp_path / "r.csv"
    write_with_manifest(path, "old\n", {"run": 1})
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], cwd=tmp_path)
    assert proc.returncode == 9
    assert output.read_manifest(path)["run"] == 1 and path.read_text() == "old\n"
    assert len(list(tmp_path.glob(".*.tmp"))) == 2  # what the dead writer left
    write_with_manifest(path, "new\n", {"run": 3})
    assert output.read_manifest(path)["run"] == 3
    assert list(tmp_path.glob(".*.tmp")) == []


def test_passk_refuses_to_overwrite_without_the_flag(tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert _run([*PASSK, "--out", str(out)], capsys)[0] == 0
    before = _snapshot(tmp_path)
    code, _, err = _run([*PASSK, "--out", str(out)], capsys)
    assert code == 2 and "exists; pass --overwrite" in err and len(err.splitlines()) == 1
    assert _snapshot(tmp_path) == before
    (tmp_path / "q.csv.json").write_text("{}")  # a manifest alone also counts
    code, _, err = _run([*PASSK, "--out", str(tmp_path / "q.csv")], capsys)
    assert code == 2 and "q.csv.json' exists" in err
    assert _run([*PASSK, "--out", str(out), "--seed", "2", "--overwrite"], capsys)[0] == 0
    assert output.read_manifest(out)["config"]["seed"] == 2


@pytest.mark.parametrize("per_problem", ["p.csv", "p.csv.json"])
def test_passk_refuses_one_file_for_two_outputs(tmp_path, capsys, per_problem):
    code, _, err = _run([*PASSK, "--out", str(tmp_path / "p.csv"), "--per-problem",
                         str(tmp_path / per_problem)], capsys)
    assert code == 2 and "also written by --out" in err
    assert list(tmp_path.iterdir()) == []


def test_passk_refuses_a_trailing_separator(tmp_path, capsys):
    code, _, err = _run([*PASSK, "--out", str(tmp_path / "trailing") + "/"], capsys)
    assert code == 2 and "ends with a separator" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["/proc/x.csv", "/proc/self/nope/x.csv"])
def test_passk_refuses_an_unwritable_place_in_one_line(path, capsys):
    code, _, err = _run([*PASSK, "--out", path], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err


def test_output_directory_helpers(tmp_path):
    with pytest.raises(SimsearchError, match="empty path"):
        check_output_directory("")
    with pytest.raises(SimsearchError, match="empty path"):
        directory.prepare_output_directory("")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SimsearchError, match="not a directory"):
        directory.prepare_output_directory(tmp_path / "file")
    with pytest.raises(SimsearchError, match="cannot write"):
        directory.prepare_output_directory("/proc/labs")
    run = tmp_path / "run"
    assert directory.prepare_output_directory(run) == run and not run.exists()
    directory.write_directory(run, {"a.csv": "x\n1\n", "b.csv": "y\n2\n"}, {"config": {}})
    with pytest.raises(SimsearchError, match="not empty; pass --overwrite"):
        directory.prepare_output_directory(run)
    directory.prepare_output_directory(run, overwrite=True)
    (run / "notes.txt").write_text("mine\n")  # not a table of the result: kept
    (run / "mine").mkdir()
    (run / "mine" / "x.txt").write_text("also mine\n")
    meta = directory.write_directory(run, {"a.csv": "x\n3\n"}, {"config": {}})
    # the earlier run's b.csv does not stay beside the new manifest; the user's files do
    assert sorted(p.name for p in run.iterdir()) == ["a.csv", "manifest.json", "mine",
                                                     "notes.txt"]
    assert (run / "notes.txt").read_text() == "mine\n"
    assert (run / "mine" / "x.txt").read_text() == "also mine\n"
    assert output.read_manifest(run) == meta and list(meta["files"]) == ["a.csv"]
    (run / "a.csv").write_text("x\n4\n")
    with pytest.raises(SimsearchError, match="does not match"):
        output.read_manifest(run)
    # a symlink to the directory stays a link; its target is replaced
    link = tmp_path / "link"
    link.symlink_to(run)
    directory.write_directory(link, {"a.csv": "x\n5\n"}, {"config": {}})
    assert link.is_symlink() and (run / "a.csv").read_text() == "x\n5\n"
    assert list(tmp_path.glob(".*.tmp")) == []


#: Writes the old result, then the new one with a SIGKILL-like exit (os._exit) at the N-th
#: call of any step that moves or removes files (a rename, the exchange, a link, a removal,
#: a file written, an fsync): fault injection at every step.
FAULTY_WRITER = textwrap.dedent("""
    import os, shutil, sys
    from pathlib import Path
    from simsearch.io import directory
    out, n = Path(sys.argv[1]), int(sys.argv[2])
    calls = [0]

    def fault(module, name):
        real = getattr(module, name)
        def wrapper(*args, **kwargs):
            calls[0] += 1
            if calls[0] == n:
                os._exit(9)
            return real(*args, **kwargs)
        setattr(module, name, wrapper)

    for name in ("rename", "replace", "link", "unlink", "symlink"):
        fault(os, name)
    fault(shutil, "rmtree")
    for name in ("_exchange", "write_file", "_fsync_directory"):
        fault(directory, name)
    directory.write_directory(out, {"a.csv": "new a\\n", "c.csv": "new c\\n"}, {"run": "new"})
    print(calls[0])
""")


def test_a_directory_is_replaced_as_one_unit_under_a_kill_at_every_step(tmp_path):
    """Issue 19.7 (main: a kill between renames left new periods/summary beside old doublings
    and no manifest). Whatever step the writer dies at, the directory holds the old result
    whole or the new one whole, and the next write removes what the dead writer left."""
    old = {"a.csv": "old a\n", "b.csv": "old b\n", "wins.csv": "old wins\n"}
    new = {"a.csv": "new a\n", "c.csv": "new c\n"}
    step, outcomes = 0, set()
    while True:
        step += 1
        root = tmp_path / f"kill{step}"
        out = root / "labs"
        directory.write_directory(out, old, {"run": "old"})
        (out / "notes.txt").write_text("mine\n")
        proc = subprocess.run([sys.executable, "-c", FAULTY_WRITER, str(out), str(step)],
                              capture_output=True, text=True)
        assert proc.returncode in (0, 9), proc.stderr
        meta = output.read_manifest(out)  # never a split result
        tables = {name: (out / name).read_text() for name in meta["files"]}
        assert (meta["run"], tables) in (("old", old), ("new", new)), (step, meta["run"])
        assert (out / "notes.txt").read_text() == "mine\n"
        outcomes.add(meta["run"])
        directory.write_directory(out, new, {"run": "again"})
        leftovers = [p for p in (*root.iterdir(), *out.iterdir()) if p.name.endswith(".tmp")]
        assert leftovers == [], (step, leftovers)
        if proc.returncode == 0:
            break
    assert outcomes == {"old", "new"} and step > 5, (outcomes, step)


def test_a_kill_during_an_in_place_update_leaves_no_valid_split_and_is_cleaned(tmp_path):
    """update_directory (a sweep's tables beside its point files): a kill between renames
    leaves no manifest (detected); the next update removes the dead writer's temporaries."""
    out = tmp_path / "sweep"
    directory.update_directory(out, {"results.csv": "old\n"}, {"run": "old"})
    script = FAULTY_WRITER.replace("directory.write_directory", "directory.update_directory")
    for step in range(1, 6):
        proc = subprocess.run([sys.executable, "-c", script, str(out), str(step)],
                              capture_output=True, text=True)
        assert proc.returncode in (0, 9), proc.stderr
        try:
            meta = output.read_manifest(out)
        except SimsearchError as exc:  # the manifest goes first, so a split has none
            assert "missing or unreadable manifest" in str(exc)
        else:
            assert all((out / n).exists() for n in meta["files"])
        directory.update_directory(out, {"results.csv": "again\n"}, {"run": "again"})
        assert list(out.glob(".*.tmp")) == []


def test_check_writable_and_distinct(tmp_path):
    with pytest.raises(SimsearchError, match="empty path"):
        check_writable("")
    with pytest.raises(SimsearchError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(SimsearchError, match="does not exist"):
        check_writable(tmp_path / "no" / "x.csv")
    output.check_distinct({"out": tmp_path / "a", "per-problem": None})
    with pytest.raises(SimsearchError, match="also written by --out"):
        output.check_distinct({"out": tmp_path / "a", "per-problem": tmp_path / "x" / ".." / "a"})


def test_manifest_is_strict_json(tmp_path):
    meta = write_with_manifest(tmp_path / "r.csv", "x\n", {"target": float("inf"),
                                                           "nested": [float("nan")]})
    text = (tmp_path / "r.csv.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    assert meta["target"] == "inf" and meta["nested"] == ["nan"]
