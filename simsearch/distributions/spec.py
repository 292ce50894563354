"""Spec strings for distributions: ``beta(alpha=0.3, beta=3)``,
``mixture(0.7*beta(alpha=0.3, beta=3), 0.3*point(p=0.5))``, ``empirical(file='values.npy')``.

Parsed with Python's own expression grammar (``ast``) and a whitelist: only calls of known
family names, numbers, lists of numbers, quoted file names for a family's text parameters and
``weight*component`` inside ``mixture``. Nothing is evaluated.
"""

from __future__ import annotations

import ast
import inspect
import re

from .families import FAMILIES, Distribution, Mixture
from ..errors import SimsearchError

_EXAMPLE = "beta(alpha=0.3, beta=3)"

# A quoted text, group 1 of the patterns below, is left alone: file names may hold hyphens and
# digits.
_QUOTED = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
# Or a hyphenated name called as a family, such as logit-normal(...), which Python's grammar
# would read as a subtraction.
_HYPHENATED_CALL = re.compile(_QUOTED + r"|(?<![\w.])([A-Za-z_]\w*(?:-[A-Za-z_]\w*)+)(?=\s*\()")


def _unknown_family(name: str, families: dict, field: str) -> SimsearchError:
    return SimsearchError(f"{field}: unknown distribution {name!r}; "
                          f"known: {', '.join(sorted(families))}")


def _join_hyphenated_names(spec: str, families: dict, field: str) -> str:
    """``spec`` with each hyphenated family name written as registered, the spelling of prose
    and legends accepted as an alias: ``logit-normal(mu=0, sigma=1)`` is
    ``logitnormal(mu=0, sigma=1)``. A hyphenated name that joins to no family is refused
    here, under the name the user wrote."""
    def join(match: re.Match) -> str:
        if match.group(1) is not None:
            return match.group(1)
        joined = match.group(2).replace("-", "")
        if joined not in families:
            raise _unknown_family(match.group(2), families, field)
        return joined

    return _HYPHENATED_CALL.sub(join, spec)


def _number(node: ast.AST, where: str):
    """A numeric literal (with optional sign) or a list of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(node.operand, where)
        if isinstance(value, list):
            raise SimsearchError(f"{where}: expected a number")
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name) and node.id in ("inf", "nan"):
        return float(node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_number(elt, where) for elt in node.elts]
    raise SimsearchError(f"{where}: expected a number, got {ast.unparse(node)!r}")


def _build(node: ast.AST, families: dict, field: str, example: str):
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise SimsearchError(
            f"{field}: expected a call such as {example}, got {ast.unparse(node)!r}")
    name = node.func.id
    if name not in families:
        raise _unknown_family(name, families, field)
    if name == "mixture" and families is FAMILIES:
        return _build_mixture(node)
    cls = families[name]
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    if len(node.args) > len(params):
        raise SimsearchError(f"{name}: takes at most {len(params)} parameters "
                             f"({', '.join(params)})")
    text = getattr(cls, "text_parameters", ())

    def value(node, param):
        if param in text:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return node.value
            raise SimsearchError(f"{name}: {param} must be a quoted file name, e.g. "
                                 f"{param}='values.npy'")
        return _number(node, f"{name}: {param}")

    kwargs = {params[i]: value(arg, params[i]) for i, arg in enumerate(node.args)}
    for kw in node.keywords:
        if kw.arg is None or kw.arg not in params:
            raise SimsearchError(f"{name}: unknown parameter {kw.arg!r}; "
                                 f"expected {', '.join(params)}")
        if kw.arg in kwargs:
            raise SimsearchError(f"{name}: parameter {kw.arg!r} given twice")
        kwargs[kw.arg] = value(kw.value, kw.arg)
    required = [n for n, p in inspect.signature(cls.__init__).parameters.items()
                if n != "self" and p.default is inspect.Parameter.empty]
    missing = [n for n in required if n not in kwargs]
    if missing:
        raise SimsearchError(f"{name}: missing parameter {missing[0]!r} "
                             f"(parameters: {', '.join(params)})")
    return cls(**kwargs)


def _build_mixture(node: ast.Call) -> Mixture:
    if node.keywords:
        raise SimsearchError("mixture: takes weighted components such as 0.7*beta(...), "
                             "not keywords")
    components = []
    for i, arg in enumerate(node.args, start=1):
        if not (isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mult)):
            raise SimsearchError(f"mixture: component {i} must be weight*distribution, "
                                 f"got {ast.unparse(arg)!r}")
        weight_node, dist_node = arg.left, arg.right
        if isinstance(weight_node, ast.Call):  # allow beta(...)*0.7 as well
            weight_node, dist_node = dist_node, weight_node
        weight = _number(weight_node, f"mixture: weight of component {i}")
        components.append((weight, _build(dist_node, FAMILIES, "dist", _EXAMPLE)))
    return Mixture(components)


def parse_distribution(spec: str | Distribution) -> Distribution:
    """Build a distribution from a spec string (a :class:`Distribution` passes through).

    Parameters
    ----------
    spec : str or Distribution
        For example ``"beta(alpha=0.3, beta=3)"``, ``"kumaraswamy(a=0.5, b=2, scale=0.4)"``,
        ``"mixture(0.7*beta(alpha=0.3, beta=3), 0.3*point(p=0.5))"``. Parameters may be given
        by keyword or in order.

    Returns
    -------
    Distribution

    Raises
    ------
    SimsearchError
        Unknown family, missing, unknown or out-of-range parameter, or malformed text; the
        message is one line naming the problem.
    """
    if isinstance(spec, Distribution):
        return spec
    return parse_spec(spec, FAMILIES, "dist", _EXAMPLE)


_NUMBER_OR_TEXT = re.compile(_QUOTED + r"|(?<![\w.])(\d+\.\d*(?:e[-+]?\d+)?|\d+e[-+]?\d+)")


def rounded_spec(spec: str, digits: int = 4) -> str:
    """``spec`` for the screen: every number with at most ``digits`` significant digits.

    A fitted spec carries the shortest text that reads back the very same floats
    (``beta(alpha=0.1405818835557189, beta=3.1026620680184767)``), which files and ``--json``
    keep; a terminal shows ``beta(alpha=0.1406, beta=3.103)``. Quoted file names are left
    alone.

    Parameters
    ----------
    spec : str
        A spec string, such as :attr:`Distribution.spec`.
    digits : int, default 4
        Significant digits of each number.

    Returns
    -------
    str
    """
    def shorten(match: re.Match) -> str:
        if match.group(1) is not None:
            return match.group(1)
        return f"{float(match.group(2)):.{digits}g}"

    return _NUMBER_OR_TEXT.sub(shorten, spec)


def input_files_entry(dist: Distribution) -> dict:
    """``{"input_files": [{"path", "sha256"}, ...]}`` for a manifest when ``dist`` was read
    from files (``empirical(file=...)``), else ``{}``."""
    files = dist.input_files
    return {"input_files": files} if files else {}


def spec_of_table(spec, field: str = "dist"):
    """A family given as a table (``{ name = "beta", alpha = 0.4, beta = 4 }``, so that a sweep
    can set its parameters one by one) as its spec string; a string is returned as it is.

    Floats are written with ``repr``, so the spec reads back the very same numbers.
    """
    if isinstance(spec, str):
        return spec
    if not (isinstance(spec, dict) and isinstance(spec.get("name"), str)):
        raise SimsearchError(f"{field}: must be a spec string or a table with name = FAMILY and "
                             f"its parameters")
    params = ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "name")
    return f"{spec['name']}({params})"


def parse_spec(spec: str, families: dict, field: str, example: str):
    """Build an object of one of ``families`` from a spec string, through the whitelist.

    Serves difficulty distributions (:func:`parse_distribution`) and value distributions
    (:mod:`simsearch.distributions.values`); ``field`` names the config key in errors and ``example`` shows a
    valid spec.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SimsearchError(f"{field}: expected a distribution spec such as {example}")
    try:
        tree = ast.parse(_join_hyphenated_names(spec.strip(), families, field), mode="eval")
    except SyntaxError:
        raise SimsearchError(f"{field}: cannot parse {spec!r}; expected e.g. {example}") from None
    return _build(tree.body, families, field, example)
