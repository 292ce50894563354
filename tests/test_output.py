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
from simsearch.io import output
from simsearch.io.output import atomic_write_text, check_output_directory, check_writable, \
    write_with_manifest

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
        output.prepare_output_directory("")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SimsearchError, match="not a directory"):
        output.prepare_output_directory(tmp_path / "file")
    with pytest.raises(SimsearchError, match="cannot write"):
        output.prepare_output_directory("/proc/labs")
    run = tmp_path / "run"
    assert output.prepare_output_directory(run) == run and not run.exists()
    output.write_directory(run, {"a.csv": "x\n1\n", "b.csv": "y\n2\n"}, {"config": {}})
    with pytest.raises(SimsearchError, match="not empty; pass --overwrite"):
        output.prepare_output_directory(run)
    output.prepare_output_directory(run, overwrite=True)
    meta = output.write_directory(run, {"a.csv": "x\n3\n"}, {"config": {}})
    # the earlier run's b.csv does not stay beside the new manifest
    assert sorted(p.name for p in run.iterdir()) == ["a.csv", "manifest.json"]
    assert output.read_manifest(run) == meta and list(meta["files"]) == ["a.csv"]
    (run / "a.csv").write_text("x\n4\n")
    with pytest.raises(SimsearchError, match="does not match"):
        output.read_manifest(run)


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
