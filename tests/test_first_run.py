"""The first run says it is compiling; warm runs say nothing; bare ``simsearch`` and ``--help``
read as plain text."""

import os
import subprocess
import sys
import textwrap

import pytest

from simsearch.cli import first_run
from simsearch.cli import build_parser, main

TINY = textwrap.dedent("""
    import sys
    from numba import njit
    from simsearch.cli.first_run import needs_compiling

    @njit(cache=True)
    def twice(x):
        return 2 * x

    before = needs_compiling(twice)
    twice(1.0)
    print(before, needs_compiling(twice))
""")


def test_cold_cache_is_detected_and_a_warm_one_is_not(tmp_path):
    script = tmp_path / "tiny_kernel.py"
    script.write_text(TINY)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           env=env, timeout=300, cwd=tmp_path) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout.split() == ["True", "False"]   # cold: compiles, then in memory
    assert runs[1].stdout.split() == ["False", "False"]  # a new process: loads from the cache


def test_passk_announces_compiling_only_when_needed(monkeypatch, capsys, tmp_path):
    # More problems than a process draws interpreted (those need no kernel, and no notice).
    argv = ["passk", "--dist", "point(p=0.5)", "--problems", "30000", "--k", "1", "--seed", "1",
            "--no-progress"]
    monkeypatch.setattr(first_run, "needs_compiling", lambda *d: True)
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count(first_run.MESSAGE) == 1
    monkeypatch.undo()
    assert main(argv) == 0  # compiled now, in this process
    assert first_run.MESSAGE not in capsys.readouterr().err


def test_a_notice_never_breaks_a_run():
    assert first_run.needs_compiling(object()) is False


def test_bare_simsearch_prints_the_commands(capsys):
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    for command in ("passk", "fit", "sweep", "labs", "reproduce"):
        assert command in out


def _helps():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    yield "simsearch", parser.format_help()
    for name in ("passk", "sweep", "reproduce"):
        yield name, sub.choices[name].format_help()


@pytest.mark.parametrize("name, text", list(_helps()))
def test_help_has_no_rest_markup(name, text):
    for markup in ("``", ":func:", ":class:", ":meth:", ":mod:"):
        assert markup not in text, f"{name} --help shows {markup}"
