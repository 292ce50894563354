"""The commands shown in the README and the docs run, and print what the pages show.

The runner is ``tests/docs_examples.py`` (``python tests/docs_examples.py --update`` refreshes
the shown output after a deliberate change).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docs_examples  # noqa: E402

PAGES = [page for page in docs_examples.PAGES
         if docs_examples.find_commands((docs_examples.ROOT / page).read_text().split("\n"))]


def test_the_runner_reports_stale_output_and_update_rewrites_it(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("text\n<!-- runnable -->\n```console\n$ echo one; echo two >&2\nstale\n"
                    "$ printf 'x\\n'\nx\n```\n\n```console\n$ echo not runnable\n```\n")
    monkeypatch.setattr(docs_examples, "ROOT", tmp_path)
    problems = docs_examples.check_page("page.md")
    assert len(problems) == 1 and "`echo one; echo two >&2` printed\none\ntwo" in problems[0]
    docs_examples.check_page("page.md", update=True)
    assert page.read_text() == ("text\n<!-- runnable -->\n```console\n$ echo one; echo two >&2\n"
                                "one\ntwo\n$ printf 'x\\n'\nx\n```\n\n```console\n"
                                "$ echo not runnable\n```\n")
    assert docs_examples.check_page("page.md") == []


def test_a_failing_command_is_an_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "page.md").write_text("<!-- runnable -->\n```console\n$ exit 3\n```\n")
    monkeypatch.setattr(docs_examples, "ROOT", tmp_path)
    with pytest.raises(RuntimeError, match="`exit 3` exited 3"):
        docs_examples.check_page("page.md")


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_show_what_their_commands_print(page):
    problems = docs_examples.check_page(page)
    assert not problems, "\n\n".join(problems) + "\n\n(python tests/docs_examples.py --update)"


def test_the_readme_main_job_can_be_run_twice(tmp_path):
    """The fresh-machine command of the README, run twice from one directory, succeeds twice."""
    readme = (docs_examples.ROOT / "README.md").read_text()
    main_job = re.search(r"&& (simsearch passk [^\n]*)", readme).group(1)
    assert "--overwrite" in main_job
    for _ in range(2):
        done = subprocess.run(["bash", "-c", main_job], cwd=tmp_path, capture_output=True,
                              text=True, env=docs_examples.command_env())
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "passk.csv").is_file()
