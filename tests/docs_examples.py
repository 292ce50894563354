"""Run the commands shown in the README and the docs, and check the output shown beside them.

A runnable example is a ``console`` code block right after a ``<!-- runnable -->`` line (an HTML
comment: invisible on GitHub and in the built docs). Lines starting with ``$ `` are commands; the
lines after a command, up to the next command or the end of the block, are what it prints as
shown (standard output and error as one stream, as a terminal shows them, without the one-time
"compiling kernels" notice). Examples run in order, per file, in one scratch directory per file that holds links to
the checkout's ``experiments``, ``data`` and ``docs``, so that a page's later commands see the
files its earlier ones wrote, and nothing is written into the checkout.

``python tests/docs_examples.py`` checks every example; ``--update`` rewrites the shown output
with what the commands print now (after a deliberate change of output: review the diff).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The pages whose runnable examples are checked.
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md")
                               if "_build" not in p.parts and "notes" not in p.parts)]
MARKER = "<!-- runnable -->"
LINKED = ("experiments", "data", "docs")
#: Printed on a cold numba cache only, so never part of the output shown.
COMPILE_NOTICE = "simsearch: compiling kernels"
TIMEOUT = 120


@dataclass
class Command:
    line: int          # index of the "$ " line in the page
    end: int           # index one past its shown output
    command: str
    shown: list[str]


def find_commands(lines: list[str]) -> list[Command]:
    """Every command of every runnable block of a page, with the output shown after it."""
    commands = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == MARKER and i + 1 < len(lines) and \
                lines[i + 1].startswith("```console"):
            j = i + 2
            current = None
            while not lines[j].startswith("```"):
                if lines[j].startswith("$ "):
                    if current:
                        current.end = j
                        commands.append(current)
                    current = Command(j, j + 1, lines[j][2:], [])
                elif current:
                    current.shown.append(lines[j])
                j += 1
            if current:
                current.end = j
                commands.append(current)
            i = j
        i += 1
    return commands


def scratch_directory() -> tempfile.TemporaryDirectory:
    scratch = tempfile.TemporaryDirectory(prefix="simsearch-docs-")
    for name in LINKED:
        if (ROOT / name).exists():
            os.symlink(ROOT / name, Path(scratch.name) / name)
    return scratch


def command_env() -> dict:
    """The environment a command runs in: this Python's ``simsearch`` first on the path."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                COLUMNS="100", PYTHONUNBUFFERED="1")  # unbuffered: the two streams in order


def run(command: str, cwd: str) -> list[str]:
    """What the command prints, as lines; a non-zero exit is an error naming it."""
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=command_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"`{command}` exited {done.returncode}: {done.stdout.strip()}")
    return [re.sub(r"\s+$", "", line) for line in done.stdout.split("\n")
            if line.strip() and not line.startswith(COMPILE_NOTICE)]


def check_page(page: str, update: bool = False) -> list[str]:
    """Run a page's examples; the mismatches (or, with ``update``, rewrite the page)."""
    path = ROOT / page
    lines = path.read_text().split("\n")
    commands = find_commands(lines)
    if not commands:
        return []
    problems = []
    with scratch_directory() as cwd:
        outputs = [run(c.command, cwd) for c in commands]
    for command, got in zip(commands, outputs):
        if got != [line.rstrip() for line in command.shown]:
            problems.append(f"{page}:{command.line + 1}: `{command.command}` printed\n"
                            + "\n".join(got) + "\nbut the page shows\n"
                            + "\n".join(command.shown))
    if update and problems:
        for command, got in reversed(list(zip(commands, outputs))):
            lines[command.line + 1:command.end] = got
        path.write_text("\n".join(lines))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true",
                        help="rewrite the shown output with the current output")
    parser.add_argument("pages", nargs="*", default=PAGES, help="pages (default: all)")
    args = parser.parse_args(argv)
    problems = [p for page in args.pages for p in check_page(page, args.update)]
    for problem in problems:
        print(problem, end="\n\n")
    if args.update:
        print(f"updated {len(problems)} example(s)")
        return 0
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
