"""The ``simsearch`` command line: one module per command, each a parser and a handler that
calls the library and prints (``simsearch COMMAND --help``).

``python -m simsearch`` and the ``simsearch`` console script both run :func:`main`.
"""

from .app import build_parser, main

__all__ = ["build_parser", "main"]
