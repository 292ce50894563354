"""Research labs searching a pool of ideas: configuration, simulation, result tables.

A *pool* holds N ideas (or an endless stream), each with a difficulty p (any distribution spec
of :mod:`simsearch.distributions`) and a value v (:mod:`simsearch.values`), the factor a win
multiplies the lab's effective compute by. *Labs* spend a compute budget per period, growing
by ``growth`` each period, on attempts costing ``cost * multiplier**elasticity``, in the order
their *policy* sets (what is left of a period's budget short of one attempt is not carried
over):

- ``round-robin``: every round tries each unsolved idea once, so after k rounds an idea is still
  unsolved with probability (1-p)^k (Schaeffer's repeated sampling);
- ``patience(m)``: rounds that give each unsolved idea up to m attempts in a row;
- ``greedy``: always the idea with the largest expected prize v E[p | failures so far], under a
  Beta prior matched to the difficulty distribution's mean and variance.

A win is published with probability ``sharing``: it leaves every lab's pool and its value reaches
every lab that had not found it; otherwise it stays private. ``replenish`` new ideas join the
pool per win (fractional values add one more with that probability), in the winner's pool only
unless published. With ``ideas = "inf"`` every policy tries fresh ideas, up to m attempts each
(m = 1 for round-robin); with Pareto values and ``combine = "max"`` the multiplier is the best
value found so far: Kortum's (1997) model of research as search.

Everything stochastic comes from explicit streams spawned per replicate from the seed, so results
are bit-identical whatever the number of threads.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..distributions import Distribution
from ..errors import SimsearchError, as_count, require
from ..kernels.draws import kernel_table
from ..kernels.labs import (COMBINE_MAX, COMBINE_PRODUCT, POLICY_GREEDY, POLICY_ROUNDS,
                           simulate_replicates)
from ..kernels.rng import spawn_states
from ..seeding import seed_sequence
from ..spec import parse_distribution
from .loss import ChinchillaLoss
from .values import ValueDistribution, parse_value

COMBINES = {"product": COMBINE_PRODUCT, "max": COMBINE_MAX}
_TOP_KEYS = {"seed", "replicates", "sharing", "periods", "pool", "lab", "loss"}
_POOL_KEYS = {"ideas", "difficulty", "value", "replenish", "combine", "max_ideas"}
_LAB_KEYS = {"name", "budget", "growth", "cost", "policy"}
_POLICY_HELP = "round-robin, patience(m=<int >= 1>) or greedy"


@dataclass(frozen=True)
class Pool:
    """The ideas labs search. ``ideas=None`` is an endless stream."""

    ideas: int | None
    difficulty: Distribution
    value: ValueDistribution | None = None
    replenish: float = 0.0
    combine: str = "product"
    max_ideas: int | None = None

    @property
    def capacity(self) -> int:
        """Most ideas a replicate can hold: the initial pool plus replenishment."""
        if self.ideas is None:
            return 0
        if self.max_ideas is not None:
            return self.max_ideas
        if self.replenish == 0:
            return self.ideas
        if self.replenish < 1:  # each win removes at most one idea and adds replenish on average
            return int(math.ceil(self.ideas / (1.0 - self.replenish) * 1.5)) + 64
        return 10 * self.ideas


@dataclass(frozen=True)
class Lab:
    """One lab: budget per period (growing by ``growth``), cost per attempt and policy."""

    name: str
    budget: float
    growth: float = 0.0
    cost: float = 1.0
    elasticity: float = 0.0
    policy: str = "round-robin"
    patience: int = 1

    @property
    def policy_spec(self) -> str:
        return f"patience(m={self.patience})" if self.policy == "patience" else self.policy

    @property
    def policy_code(self) -> int:
        return POLICY_GREEDY if self.policy == "greedy" else POLICY_ROUNDS


@dataclass(frozen=True)
class LabsConfig:
    """A complete labs experiment; build it with :func:`labs_config` or :func:`load_labs_config`."""

    pool: Pool
    labs: tuple[Lab, ...]
    sharing: float = 0.0
    periods: int = 1
    seed: int | None = None
    replicates: int = 1
    loss: ChinchillaLoss | None = None

    def as_dict(self) -> dict:
        """The config in canonical TOML form (specs as strings), for manifests."""
        pool = self.pool
        doc = {"seed": self.seed, "replicates": self.replicates, "periods": self.periods,
               "sharing": self.sharing,
               "pool": {"ideas": "inf" if pool.ideas is None else pool.ideas,
                        "difficulty": pool.difficulty.spec,
                        "value": None if pool.value is None else pool.value.spec,
                        "replenish": pool.replenish, "combine": pool.combine,
                        "max_ideas": pool.max_ideas},
               "lab": [{"name": lab.name, "budget": lab.budget, "growth": lab.growth,
                        "cost": {"base": lab.cost, "elasticity": lab.elasticity},
                        "policy": lab.policy_spec} for lab in self.labs]}
        if self.loss is not None:
            doc["loss"] = asdict(self.loss)
        return doc


def _number(value, key: str, low: float = -math.inf, high: float = math.inf,
            low_open: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        lo = f"> {low:g}" if low_open else f">= {low:g}"
        rng = f"{lo}" + (f" and <= {high:g}" if high < math.inf else "")
        raise SimsearchError(f"{key}: must be a finite number {rng} (got {value!r})")
    return float(value)


def _unknown(table: dict, allowed: set, where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise SimsearchError(f"{where}: unknown key {extra[0]!r}; allowed: "
                             f"{', '.join(sorted(allowed))}")


def parse_policy(text, key: str = "policy") -> tuple[str, int]:
    """``"round-robin"``, ``"patience(m=10)"`` (or ``patience(10)``), ``"greedy"`` -> (name, m)."""
    if not isinstance(text, str):
        raise SimsearchError(f"{key}: must be one of {_POLICY_HELP} (got {text!r})")
    compact = text.replace(" ", "").lower()
    if compact in ("round-robin", "roundrobin"):
        return "round-robin", 1
    if compact == "greedy":
        return "greedy", 1
    match = re.fullmatch(r"patience\((?:m=)?(\d+)\)", compact)
    if match and int(match.group(1)) >= 1:
        return "patience", int(match.group(1))
    raise SimsearchError(f"{key}: must be one of {_POLICY_HELP} (got {text!r})")


def _parse_lab(table, index: int) -> Lab:
    where = f"lab[{index}]"
    require(isinstance(table, dict), f"{where}: must be a table ([[lab]])")
    _unknown(table, _LAB_KEYS, where)
    name = table.get("name", f"lab{index}")
    require(isinstance(name, str) and name.strip() != "" and "," not in name,
            f"{where}.name: must be a non-empty string without commas (got {name!r})")
    require("budget" in table, f"{where}.budget: missing; compute per period, a number > 0")
    budget = _number(table["budget"], f"{where}.budget", 0, low_open=True)
    growth = _number(table.get("growth", 0.0), f"{where}.growth", -1, low_open=True)
    cost_spec = table.get("cost", 1.0)
    if isinstance(cost_spec, dict):
        _unknown(cost_spec, {"base", "elasticity"}, f"{where}.cost")
        cost = _number(cost_spec.get("base", 1.0), f"{where}.cost.base", 0, low_open=True)
        elasticity = _number(cost_spec.get("elasticity", 0.0), f"{where}.cost.elasticity", 0)
    else:
        cost = _number(cost_spec, f"{where}.cost", 0, low_open=True)
        elasticity = 0.0
    policy, patience = parse_policy(table.get("policy", "round-robin"), f"{where}.policy")
    return Lab(name.strip(), budget, growth, cost, elasticity, policy, patience)


def _parse_pool(table) -> Pool:
    require(isinstance(table, dict), "pool: missing [pool] table (ideas, difficulty, ...)")
    _unknown(table, _POOL_KEYS, "pool")
    require("ideas" in table, "pool.ideas: missing; an integer >= 1 or \"inf\"")
    ideas = table["ideas"]
    if ideas == "inf" or (isinstance(ideas, float) and ideas == math.inf):
        ideas = None
    else:
        if isinstance(ideas, float) and ideas.is_integer():
            ideas = int(ideas)
        ideas = as_count("pool.ideas", ideas, 1)
        require(ideas <= 50_000_000, f"pool.ideas: at most 50,000,000 (got {ideas})")
    require("difficulty" in table, "pool.difficulty: missing; a distribution spec such as "
            "beta(alpha=0.3, beta=3)")
    try:
        difficulty = parse_distribution(table["difficulty"])
    except SimsearchError as err:
        raise SimsearchError(f"pool.difficulty: {err}") from None
    value = parse_value(table["value"]) if table.get("value") is not None else None
    replenish = _number(table.get("replenish", 0.0), "pool.replenish", 0)
    combine = table.get("combine", "product")
    require(combine in COMBINES, f"pool.combine: must be one of {', '.join(COMBINES)} "
            f"(got {combine!r})")
    max_ideas = table.get("max_ideas")
    if max_ideas is not None:
        max_ideas = as_count("pool.max_ideas", max_ideas, 1)
        require(ideas is not None and max_ideas >= ideas,
                "pool.max_ideas: must be >= pool.ideas (and needs a finite pool)")
    if ideas is None:
        require(replenish == 0, "pool.replenish: an endless stream (ideas = \"inf\") cannot be "
                "replenished; use 0")
    return Pool(ideas, difficulty, value, replenish, combine, max_ideas)


def labs_config(doc: dict) -> LabsConfig:
    """Validate a parsed TOML document into a :class:`LabsConfig`.

    Raises :class:`~simsearch.errors.SimsearchError` with one line naming the key and the allowed
    values.
    """
    require(isinstance(doc, dict), "config: expected a TOML table")
    _unknown(doc, _TOP_KEYS, "config")
    pool = _parse_pool(doc.get("pool"))
    lab_tables = doc.get("lab")
    require(isinstance(lab_tables, list) and len(lab_tables) > 0,
            "lab: at least one [[lab]] table is needed (name, budget, growth, cost, policy)")
    require(len(lab_tables) <= 64, f"lab: at most 64 labs (got {len(lab_tables)})")
    labs = tuple(_parse_lab(t, i) for i, t in enumerate(lab_tables))
    names = [lab.name for lab in labs]
    require(len(set(names)) == len(names), "lab.name: names must be distinct")
    if pool.ideas is None:
        require(all(lab.policy != "greedy" for lab in labs),
                "lab.policy: greedy needs a finite pool (pool.ideas an integer)")
    sharing = _number(doc.get("sharing", 0.0), "sharing", 0, 1)
    periods = as_count("periods", doc.get("periods", 1), 1)
    require(periods <= 100_000, f"periods: at most 100,000 (got {periods})")
    seed = doc.get("seed")
    if seed is not None:
        seed_sequence(seed)  # validates
    replicates = as_count("replicates", doc.get("replicates", 1), 1)
    loss = None
    if doc.get("loss") is not None:
        table = doc["loss"]
        require(isinstance(table, dict), "loss: must be a table ([loss])")
        _unknown(table, set(ChinchillaLoss.__dataclass_fields__), "loss")
        loss = ChinchillaLoss(**{k: float(v) if isinstance(v, int) and not isinstance(v, bool)
                                 else v for k, v in table.items()})
    return LabsConfig(pool, labs, sharing, periods, seed, replicates, loss)


def load_labs_config(path) -> LabsConfig:
    """Read and validate a labs TOML file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SimsearchError(f"config: file {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SimsearchError(f"config: cannot read {str(path)!r}: {err}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SimsearchError(f"config: {path.name} is not valid TOML: {err}") from None
    return labs_config(doc)


def _beta_prior(dist: Distribution) -> tuple[float, float]:
    """Beta(a0, b0) with the difficulty distribution's mean and variance (greedy labs' belief)."""
    mean = 1.0 - float(dist.expected_failure(1))
    second = float(dist.expected_failure(2)) - 1.0 + 2.0 * mean
    var = second - mean * mean
    if not (0 < mean < 1) or var <= 0:
        return 1.0, 1.0
    total = mean * (1.0 - mean) / var - 1.0
    if total <= 0:
        return 1.0, 1.0
    return mean * total, (1.0 - mean) * total


WIN_COLUMNS = ("replicate", "lab", "win", "compute", "time", "p", "value", "multiplier",
               "attempts", "idea", "published")
SUMMARY_COLUMNS = ("replicate", "lab", "wins", "compute", "multiplier", "pool_remaining",
                   "ideas_tried", "ideas_dropped")
PERIOD_COLUMNS = ("replicate", "lab", "period", "budget", "compute", "cumulative_compute",
                  "multiplier", "log_multiplier", "wins", "pool_remaining", "ideas_tried")


def _blank_if_negative(counts: np.ndarray) -> np.ndarray:
    """Integer counts as CSV cells, empty where -1 marks "does not apply" (streams have no
    pool, finite pools count no ideas tried, stream wins have no idea id)."""
    return np.where(counts >= 0, counts.astype(np.int64).astype(object), "")


@dataclass
class LabsResult:
    """Outcome of :func:`simulate_labs`.

    Attributes
    ----------
    config : LabsConfig
    replicates : int
    seed_entropy : int
        Entropy of the root ``SeedSequence``; rerunning with it reproduces every number.
    wins : dict of numpy arrays or None
        One row per win, in time order within a replicate (see ``WIN_COLUMNS``); ``None`` when
        the simulation was run with ``record_wins=False``.
    periods : dict of numpy arrays of shape (replicates, labs, periods)
        ``compute`` spent in the period, ``cumulative_compute``, ``log_multiplier``, ``wins``
        (cumulative), ``pool_remaining`` (-1 for a stream) and ``ideas_tried`` (streams only,
        else -1), all at the period's end.
    n_wins : numpy.ndarray
        Wins per replicate, all labs.
    dropped : numpy.ndarray
        Replenished ideas per replicate that did not fit in ``pool.max_ideas``.
    """

    config: LabsConfig
    replicates: int
    seed_entropy: int
    wins: dict | None
    periods: dict
    n_wins: np.ndarray
    dropped: np.ndarray

    @property
    def lab_names(self) -> list[str]:
        return [lab.name for lab in self.config.labs]

    def budgets(self) -> np.ndarray:
        """Budget of each lab in each period, shape (labs, periods)."""
        t = np.arange(self.config.periods)
        return np.array([lab.budget * (1.0 + lab.growth) ** t for lab in self.config.labs])

    def wins_table(self) -> dict:
        """Tidy columns for ``wins.csv`` (plus ``loss`` when the config has a loss law)."""
        require(self.wins is not None, "wins: the simulation ran without recording wins")
        w = self.wins
        names = np.array(self.lab_names, dtype=object)
        table = {"replicate": w["replicate"], "lab": names[w["lab"]], "win": w["win"],
                 "compute": w["compute"], "time": w["time"], "p": w["p"],
                 "value": np.exp(w["log_value"]), "multiplier": np.exp(w["log_multiplier"]),
                 "attempts": w["attempts"],
                 "idea": _blank_if_negative(w["idea"]),
                 "published": w["published"].astype(np.int8)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(w["log_multiplier"])
        return table

    def periods_table(self) -> dict:
        """Tidy columns for ``periods.csv``: one row per replicate, lab and period."""
        per = self.periods
        r, n_labs, n_per = per["compute"].shape
        rep, lab, t = np.meshgrid(np.arange(r), np.arange(n_labs), np.arange(n_per), indexing="ij")
        names = np.array(self.lab_names, dtype=object)
        budgets = np.broadcast_to(self.budgets(), (r, n_labs, n_per))
        pool = per["pool_remaining"].ravel()
        tried = per["ideas_tried"].ravel()
        table = {"replicate": rep.ravel(), "lab": names[lab.ravel()], "period": t.ravel(),
                 "budget": budgets.ravel(), "compute": per["compute"].ravel(),
                 "cumulative_compute": per["cumulative_compute"].ravel(),
                 "multiplier": np.exp(per["log_multiplier"].ravel()),
                 "log_multiplier": per["log_multiplier"].ravel(),
                 "wins": per["wins"].ravel().astype(np.int64),
                 "pool_remaining": _blank_if_negative(pool),
                 "ideas_tried": _blank_if_negative(tried)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(per["log_multiplier"].ravel())
        return table

    def summary_table(self) -> dict:
        """Tidy columns for ``summary.csv``: one row per replicate and lab, at the end."""
        per = self.periods
        r, n_labs, _ = per["compute"].shape
        rep, lab = np.meshgrid(np.arange(r), np.arange(n_labs), indexing="ij")
        names = np.array(self.lab_names, dtype=object)
        pool = per["pool_remaining"][:, :, -1].ravel()
        tried = per["ideas_tried"][:, :, -1].ravel()
        table = {"replicate": rep.ravel(), "lab": names[lab.ravel()],
                 "wins": per["wins"][:, :, -1].ravel().astype(np.int64),
                 "compute": per["cumulative_compute"][:, :, -1].ravel(),
                 "multiplier": np.exp(per["log_multiplier"][:, :, -1].ravel()),
                 "pool_remaining": _blank_if_negative(pool),
                 "ideas_tried": _blank_if_negative(tried),
                 "ideas_dropped": np.repeat(self.dropped, n_labs)}
        if self.config.loss is not None:
            table["loss"] = self.config.loss.at_log_multiplier(
                per["log_multiplier"][:, :, -1].ravel())
        return table


_WIN_FIELDS = (("lab", np.int64), ("idea", np.int64), ("compute", np.float64),
               ("time", np.float64), ("p", np.float64), ("log_value", np.float64),
               ("attempts", np.float64), ("log_multiplier", np.float64),
               ("published", np.bool_))
_PERIOD_FIELDS = (("compute", np.float64), ("cumulative_compute", np.float64),
                  ("log_multiplier", np.float64), ("wins", np.float64),
                  ("pool_remaining", np.int64), ("ideas_tried", np.float64))


def _kernel_arguments(config: LabsConfig) -> tuple:
    pool = config.pool
    kinds, params, cum_weights, data = kernel_table(pool.difficulty)
    v_kind, v_a, v_b = pool.value.kernel if pool.value is not None else (0, 1.0, 0.0)
    labs = config.labs
    prior_a, prior_b = _beta_prior(pool.difficulty) \
        if any(lab.policy == "greedy" for lab in labs) else (1.0, 1.0)
    return (kinds, params, cum_weights, data, v_kind, v_a, v_b,
            -1 if pool.ideas is None else pool.ideas, max(pool.capacity, 1), pool.replenish,
            COMBINES[pool.combine], config.sharing, config.periods,
            np.array([lab.budget for lab in labs]), np.array([lab.growth for lab in labs]),
            np.array([lab.cost for lab in labs]), np.array([lab.elasticity for lab in labs]),
            np.array([lab.policy_code for lab in labs], dtype=np.int64),
            np.array([float(lab.patience) for lab in labs]), prior_a, prior_b)


def _run_batch(states, args, n_labs, periods, win_cap):
    r = states.shape[0]
    wins = {name: np.zeros((r, win_cap), dtype=dt) for name, dt in _WIN_FIELDS}
    per = {name: np.zeros((r, n_labs, periods), dtype=dt) for name, dt in _PERIOD_FIELDS}
    n_wins = np.zeros(r, dtype=np.int64)
    dropped = np.zeros(r, dtype=np.int64)
    simulate_replicates(states.copy(), *args, *(wins[name] for name, _ in _WIN_FIELDS),
                        *(per[name] for name, _ in _PERIOD_FIELDS), n_wins, dropped)
    return wins, per, n_wins, dropped


def _win_numbers(replicate: np.ndarray, lab: np.ndarray, n_labs: int) -> np.ndarray:
    """1, 2, ... within each (replicate, lab), rows being in time order within a replicate."""
    key = replicate * n_labs + lab
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    counts = np.diff(np.r_[starts, len(key)])
    rank = np.arange(len(key)) - np.repeat(starts, counts)
    out = np.empty(len(key), dtype=np.int64)
    out[order] = rank + 1
    return out


def simulate_labs(config: LabsConfig, *, replicates: int | None = None, seed=None,
                  record_wins: bool = True, progress: bool = False) -> LabsResult:
    """Simulate ``replicates`` independent runs of a labs experiment.

    Parameters
    ----------
    config : LabsConfig
    replicates : int, optional
        Overrides ``config.replicates``.
    seed : int or numpy.random.SeedSequence, optional
        Overrides ``config.seed``; with neither, fresh entropy (recorded in the result).
    record_wins : bool
        Keep one row per win (``False`` keeps only the per-period tables, for big sweeps).
    progress : bool
        Show a tqdm bar over replicates.

    Returns
    -------
    LabsResult
    """
    replicates = as_count("replicates", config.replicates if replicates is None else replicates)
    seq = seed_sequence(config.seed if seed is None else seed)
    n_labs, periods = len(config.labs), config.periods
    states = np.stack([spawn_states(child, n_labs + 2) for child in seq.spawn(replicates)])
    args = _kernel_arguments(config)
    pool = config.pool
    most = pool.capacity * n_labs if pool.ideas is not None else None
    win_cap = 0 if not record_wins else (min(most, 4096) if most is not None else 4096)

    # Batches bound the memory of the win buffers and drive the progress bar.
    batch = 256
    win_parts, per_parts, n_wins_parts, dropped_parts = [], [], [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=replicates, unit="replicate", desc="labs")
    for start in range(0, replicates, batch):
        stop = min(start + batch, replicates)
        wins, per, n_wins, dropped = _run_batch(states[start:stop], args, n_labs, periods,
                                                win_cap)
        if record_wins and n_wins.max(initial=0) > win_cap:
            # Rerun the batch (same streams, same results) with room for every win.
            win_cap = int(n_wins.max() * 1.25) + 16
            wins, per, n_wins, dropped = _run_batch(states[start:stop], args, n_labs, periods,
                                                    win_cap)
        if record_wins:
            rows = {k: np.concatenate([v[i, :n_wins[i]] for i in range(len(n_wins))])
                    for k, v in wins.items()}
            rows["replicate"] = np.repeat(np.arange(start, stop), n_wins)
            win_parts.append(rows)
        per_parts.append(per)
        n_wins_parts.append(n_wins)
        dropped_parts.append(dropped)
        if bar is not None:
            bar.update(stop - start)
    if bar is not None:
        bar.close()

    wins = None
    if record_wins:
        wins = {k: np.concatenate([part[k] for part in win_parts]) for k in win_parts[0]}
        wins["win"] = _win_numbers(wins["replicate"], wins["lab"], n_labs)
    periods_out = {k: np.concatenate([part[k] for part in per_parts]) for k in per_parts[0]}
    return LabsResult(config, replicates, int(seq.entropy), wins, periods_out,
                      np.concatenate(n_wins_parts), np.concatenate(dropped_parts))
