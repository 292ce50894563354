"""Sphinx configuration: build with ``python -m sphinx -W -b html docs docs/_build``."""

import importlib
import os
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import simsearch

project = "simsearch"
author = "the simsearch developers"
copyright = "2026, the simsearch developers"
release = simsearch.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinxarg.ext",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "notes", "examples"]
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

html_theme = "pydata_sphinx_theme"
html_title = f"simsearch {release}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
html_static_path: list[str] = []

_INTERSPHINX = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "scipy": "https://docs.scipy.org/doc/scipy",
    "pandas": "https://pandas.pydata.org/docs",
}


def _reachable(url: str) -> bool:
    """Whether the inventory's host answers: an offline build (CI, a laptop on a train) links
    nothing instead of failing ``-W`` on inventories it cannot fetch."""
    if os.environ.get("SIMSEARCH_DOCS_OFFLINE"):
        return False
    try:
        socket.create_connection((urlsplit(url).hostname, 443), timeout=3).close()
    except OSError:
        return False
    return True


intersphinx_mapping = {name: (url, None) for name, url in _INTERSPHINX.items() if _reachable(url)}
intersphinx_timeout = 5

autosummary_generate = True
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

# The API reference lists every public name: each module's ``__all__``, read at build time so
# that a name added to a module appears without editing the docs.
# simsearch.distributions and simsearch.sampling are left out: their public names are the
# top-level package's (documented once, under simsearch).
PUBLIC_MODULES = ["simsearch", "simsearch.fitting", "simsearch.fitting.counts",
                  "simsearch.fitting.estimators",
                  "simsearch.fitting.likelihoods", "simsearch.fitting.planner",
                  "simsearch.fitting.pooled", "simsearch.fitting.pooled_line",
                  "simsearch.fitting.pooled_irt",
                  "simsearch.fitting.report", "simsearch.sweep",
                  "simsearch.labs", "simsearch.labs.theory", "simsearch.io.output", "simsearch.io.tables",
                  "simsearch.io.directory", "simsearch.records", "simsearch.records.pool"]


def _public_names(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name, value in vars(module).items()
                 if not name.startswith("_") and callable(value)
                 and getattr(value, "__module__", None) == module_name]
    return [name for name in sorted(names) if not name.startswith("_")]


def _write_api_pages(here):
    here.mkdir(exist_ok=True)
    for module_name in PUBLIC_MODULES:
        lines = [module_name, "=" * len(module_name), "",
                 f".. automodule:: {module_name}", "    :no-members:", "",
                 f".. currentmodule:: {module_name}", "",
                 ".. autosummary::", "    :toctree: generated", ""]
        lines += [f"    {name}" for name in _public_names(module_name)]
        page = here / f"{module_name}.rst"
        text = "\n".join(lines) + "\n"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)


def _escape_bars(app, what, name, obj, options, lines):
    """Docstrings write absolute values as |x|, which reST reads as a substitution."""
    lines[:] = [re.sub(r"(?<![\\|])\|([^|`]+)\|", r"\\|\1\\|", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)


# Written before autosummary reads the pages (it generates its stubs as the build starts).
_write_api_pages(Path(__file__).parent / "api")
