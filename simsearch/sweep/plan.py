"""Reading a sweep file into a :class:`SweepPlan`: kind, base config, grid or random design,
replicates, seed and statistics; and setting a point's values into the base (dotted keys)."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import SimsearchError, require
from .kinds import KINDS, get_kind
from .uncertain import random_design

#: Default limit on a sweep's points (``--max-points`` raises it): a typo such as a count of
#: 1e9 is refused at once instead of planning until memory runs out.
MAX_POINTS = 100_000

#: Points validated (the kind's ``check_point``) before anything is written: all of a sweep up
#: to this size. A larger grid checks every value of every axis in a real point of the grid
#: (point 0 with one axis moved); a larger random design checks its first points. A check
#: costs ~1 ms, so planning stays within a second or two.
CHECKED_POINTS = 1_000


@dataclass(frozen=True)
class SweepPlan:
    """Everything that defines a sweep's results (and nothing that does not).

    ``options`` holds the kind's own settings (the labs kind's ``[returns]`` table); it enters
    the digest only when given, so plans written before it existed keep their digest.
    """

    kind: str
    base: dict
    axes: tuple[str, ...]
    points: Sequence[dict]
    replicates: int
    seed: int
    statistics: tuple[str, ...]
    source: str
    options: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Fingerprint of the plan; ``resume`` refuses a directory made by another plan."""
        design = (self.points.design if isinstance(self.points, GridPoints)
                  else list(self.points))
        parts = [self.kind, self.base, self.axes, design, self.replicates, self.seed,
                 self.statistics] + ([self.options] if self.options else [])
        canonical = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def random(self) -> bool:
        """True for a random design (its points are a sample, so sensitivity applies)."""
        return not isinstance(self.points, GridPoints)


class GridPoints(Sequence):
    """The points of a grid, made on demand: point i is the i-th combination of the axes'
    values in ``itertools.product`` order (last axis fastest), so planning never holds more
    than the axes' values, whatever the number of points."""

    def __init__(self, axes: tuple[str, ...], values: tuple[list, ...]):
        self.axes, self.values = axes, values
        self._len = math.prod(len(v) for v in values)

    @property
    def design(self) -> dict:
        return {"grid": {axis: list(v) for axis, v in zip(self.axes, self.values)}}

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        chosen = []
        for values in reversed(self.values):
            index, r = divmod(index, len(values))
            chosen.append(values[r])
        return dict(zip(self.axes, reversed(chosen)))

    def __eq__(self, other) -> bool:
        return (isinstance(other, GridPoints) and self.axes == other.axes
                and self.values == other.values)

    def __hash__(self) -> int:
        return hash(self.axes)


def _axis(name: str, spec, where: str) -> tuple[int, Callable[[], list]]:
    """One grid axis: its number of values, and how to make them (a list, or
    {linspace|logspace = [start, stop, count]}); counted before anything is made."""
    if isinstance(spec, list):
        require(len(spec) > 0, f"{where}: axis {name!r} has no values")
        return len(spec), lambda: spec
    if isinstance(spec, dict):
        forms = [f for f in ("linspace", "logspace") if f in spec]
        extra = set(spec) - {"linspace", "logspace", "round"}
        require(len(forms) == 1 and not extra,
                f"{where}: axis {name!r} must be a list or a table with linspace or logspace "
                f"= [start, stop, count] (and optional round = true)")
        args = spec[forms[0]]
        ok = (isinstance(args, list) and len(args) == 3
              and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      and math.isfinite(v) for v in args)
              and args[2] == int(args[2]) and args[2] >= 1)
        require(ok, f"{where}: axis {name!r}: {forms[0]} needs [start, stop, count] with "
                    f"finite numbers and an integer count >= 1")
        start, stop, count = float(args[0]), float(args[1]), int(args[2])
        if forms[0] == "logspace":
            require(start > 0 and stop > 0, f"{where}: axis {name!r}: logspace needs start "
                                             f"and stop > 0")

        def make() -> list:
            values = (np.geomspace(start, stop, count) if forms[0] == "logspace"
                      else np.linspace(start, stop, count))
            if spec.get("round"):
                return [int(v) for v in np.round(values)]
            return [_meant(float(v)) for v in values]
        return count, make
    raise SimsearchError(f"{where}: axis {name!r} must be a list or a linspace/logspace table")


def _meant(value: float, ulps: int = 4) -> float:
    """The shortest decimal within a few ulps of a computed grid value: ``linspace``'s
    0.30000000000000004 is the 0.3 the user meant, and is what points, files and legends show.
    A value with no short decimal that near (1/3) is kept as computed."""
    tolerance = ulps * float(np.spacing(abs(value)))
    for digits in range(1, 16):  # 16 or 17 digits are no shorter than the value itself
        near = float(f"{value:.{digits}g}")
        if abs(near - value) <= tolerance:
            return near
    return value


def _check_size(points: int, max_points: int, where: str) -> None:
    require(points <= max_points,
            f"{where}: the sweep has {points:,} points, more than the limit of {max_points:,}; "
            f"pass --max-points {points} to run it anyway")


def _read_base(base, where: str, base_dir: Path) -> dict:
    """The base config: an inline table, or a TOML file named relative to the sweep file."""
    if isinstance(base, str):
        path = (base_dir / base)
        try:
            base = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SimsearchError(f"{where}: base config {str(path)!r} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SimsearchError(f"{where}: cannot read base config {str(path)!r} "
                                 f"({getattr(exc, 'strerror', None) or 'not a text file'})"
                                 ) from None
        except tomllib.TOMLDecodeError as exc:
            raise SimsearchError(f"{path}: malformed TOML ({exc})") from None
    require(isinstance(base, dict), f"{where}: base must be a table or a path to a TOML file")
    return base


def plan_sweep(doc: dict, where: str = "sweep", base_dir: Path = Path("."),
               max_points: int = MAX_POINTS) -> SweepPlan:
    """Turn a parsed sweep document into a :class:`SweepPlan` (see :mod:`simsearch.sweep`).

    A sweep of more than ``max_points`` points is refused before anything is made; grid
    points are made on demand (:class:`GridPoints`).
    """
    known = {"kind", "base", "axes", "random", "replicates", "seed", "statistics", "returns"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise SimsearchError(f"{where}: unknown key {unknown[0]!r}; expected "
                             f"{', '.join(sorted(known))}")
    kind_name = doc.get("kind", "passk")
    require(kind_name in KINDS,
            f"{where}: kind must be one of {', '.join(KINDS)} (got {kind_name!r})")
    kind = get_kind(kind_name)
    base = _read_base(doc.get("base"), where, base_dir)
    replicates = doc.get("replicates", 1)
    require(isinstance(replicates, int) and replicates >= 1,
            f"{where}: replicates must be an integer >= 1 (got {replicates!r})")
    seed = doc.get("seed", 0)
    require(isinstance(seed, int) and seed >= 0,
            f"{where}: seed must be an integer >= 0 (got {seed!r})")
    statistics = kind.check_statistics(doc.get("statistics", list(kind.DEFAULT_STATISTICS)),
                                       where)
    options = kind.check_options(doc, where)
    grid, random = doc.get("axes"), doc.get("random")
    require((grid is None) != (random is None),
            f"{where}: give exactly one of [axes] (a grid) or [random] (a random design)")
    if grid is not None:
        require(isinstance(grid, dict) and grid, f"{where}: [axes] needs at least one axis")
        axes = tuple(grid)
        forms = [_axis(name, grid[name], where) for name in axes]
        _check_size(math.prod(count for count, _ in forms), max_points, where)
        points = GridPoints(axes, tuple(make() for _, make in forms))
    else:
        axes, points = random_design(random, seed, where,
                                     lambda count: _check_size(count, max_points, where))
    for name in axes:
        _set_dotted(copy.deepcopy(base), name, None, where)  # the key path must exist
        inner = [other for other in axes if other.startswith(name + ".")]
        if inner:
            raise SimsearchError(f"{where}: axes {name!r} and {inner[0]!r} overlap: one sets a "
                                 f"key inside the other; sweep one of them")
    plan = SweepPlan(kind_name, base, axes, points, replicates, seed, statistics, where,
                     options)
    _check_points(plan, kind)
    return plan


def _checked_points(points: Sequence[dict]) -> list[int]:
    """The indices of the points :func:`_check_points` validates (see :data:`CHECKED_POINTS`)."""
    if len(points) <= CHECKED_POINTS:
        return list(range(len(points)))
    if not isinstance(points, GridPoints):
        return list(range(CHECKED_POINTS))
    indices, stride = {0}, 1
    for values in reversed(points.values):  # the last axis varies fastest
        indices.update(j * stride for j in range(len(values)))
        stride *= len(values)
    indices = sorted(indices)
    return indices[::math.ceil(len(indices) / CHECKED_POINTS)]


def _check_points(plan: SweepPlan, kind) -> None:
    """Refuse the plan if a point's config is invalid, before any point runs or anything is
    written: one line naming the first bad point, its axis values and the key at fault."""
    first, bad = None, 0
    checked = _checked_points(plan.points)
    for i in checked:
        values = plan.points[i]
        shown = ", ".join(f"{axis} = {value!r}" for axis, value in values.items())
        try:
            kind.check_point(point_config(plan, values), plan.statistics, plan.replicates,
                             f"{plan.source}: point {i} ({shown})")
        except SimsearchError as exc:
            first, bad = first or str(exc), bad + 1
    if first is not None:
        others = (f" ({bad} of the {len(checked)} points checked are invalid)" if bad > 1
                  else "")
        raise SimsearchError(" ".join(first.split()) + others)


def load_sweep(path: str | os.PathLike, max_points: int = MAX_POINTS) -> SweepPlan:
    """Read and check a sweep file; errors name the file and the key."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SimsearchError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SimsearchError(f"{path}: is a directory; give a sweep file (TOML)") from None
    except OSError as exc:
        raise SimsearchError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise SimsearchError(f"{path}: not a text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SimsearchError(f"{path}: malformed TOML ({exc})") from None
    return plan_sweep(doc, str(path), path.parent, max_points)


def _list_item(node: list, part: str):
    """Index of the item ``part`` names in a list: its position (``lab.0``), or the one table
    whose ``name`` is ``part`` (``lab.frontier``); None if neither."""
    if part.isdigit():
        return int(part) if int(part) < len(node) else None
    named = [i for i, item in enumerate(node) if isinstance(item, dict)
             and item.get("name") == part]
    return named[0] if len(named) == 1 else None


def _set_dotted(config: dict, key: str, value, where: str) -> None:
    """Set ``config[a][b]...`` for key ``a.b...``; list items by index (``lab.0.budget``) or,
    for a list of tables, by their ``name`` (``lab.frontier.budget``)."""
    parts = key.split(".")
    node = config
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        index = _list_item(node, part) if isinstance(node, list) else None
        if index is not None:
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict) and (last or part in node):
            if last:
                node[part] = value
            else:
                node = node[part]
        else:
            hint = (" (give dist as a table, e.g. [base.dist] name = \"beta\", alpha = 0.3, "
                    "to sweep its parameters)" if isinstance(node, str) else "")
            raise SimsearchError(f"{where}: axis {key!r}: the base config has no "
                                 f"{'.'.join(parts[:i + 1])!r}{hint}")


def point_config(plan: SweepPlan, values: dict) -> dict:
    """The base config with one point's axis values set."""
    config = copy.deepcopy(plan.base)
    for key, value in values.items():
        _set_dotted(config, key, value, plan.source)
    return config
