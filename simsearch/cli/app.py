"""Command-line interface: ``simsearch COMMAND ...`` (also ``python -m simsearch``).

Input errors print one line, ``simsearch: error: <what is wrong and what is allowed>``, and exit
with status 2 before any output file is created.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

from ..runtime import apply_thread_policy

apply_thread_policy()  # before numpy starts OpenBLAS and numba its OpenMP pool

from .. import __version__  # noqa: E402
from ..errors import SimsearchError, Terminated  # noqa: E402
from .common import Parser  # noqa: E402

#: The commands, in the order ``simsearch --help`` lists them: each is the module
#: ``simsearch.cli.NAME``, whose ``add_parser(subparsers)`` registers it with a parser whose
#: default ``run(args) -> int`` handles it.
COMMANDS = ("passk", "fit", "backtest", "sweep", "labs", "reproduce", "records", "plan")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command, or ``only`` the one named (what
    :func:`main` builds to run a command, so that it imports no other command's module)."""
    parser = Parser(
        prog="simsearch",
        description="Monte Carlo simulation of research progress: repeated sampling and "
                    "power-law scaling of pass@k, estimates from your own evaluation's "
                    "success counts, sweeps, and the compute cost of research.",
        epilog="Run 'simsearch COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"simsearch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f".{name}", __package__).add_parser(sub)
    return parser


def _raise_terminated(signum, frame):
    raise Terminated()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simsearch`` console script; returns the exit status.

    0 on success; 2 with one line on stderr for bad input or a file that cannot be read or
    written (nothing is left half-written); 130 on SIGINT and 143 on SIGTERM.
    """
    words = sys.argv[1:] if argv is None else argv
    # The command is the first word when one is named there (options come after it); for
    # anything else (--help, --version, a typo) the parser of every command answers.
    parser = build_parser(words[0] if words and words[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:  # bare `simsearch`: what it can do, not an error
        parser.print_help()
        return 0
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return args.run(args)
    except SimsearchError as exc:
        print(f"simsearch {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Terminated:
        print("simsearch: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("simsearch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # The file system refused a read or write the checks could not foresee (disk full, a
        # file removed meanwhile): one line, and the atomic writes left nothing half-written.
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"simsearch {args.command}: error: cannot use{where}: "
              f"{exc.strerror or _one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"simsearch {args.command}: error: out of memory; use a smaller run",
              file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
