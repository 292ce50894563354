"""The labs TOML schema: pool, labs, sharing, periods, seed, replicates, limits and loss law.

:func:`labs_config` validates a parsed document into a :class:`LabsConfig` and raises
:class:`~simsearch.errors.SimsearchError` with one line naming the key and the allowed values;
``LabsConfig.as_dict`` writes it back in canonical form for manifests. The model is described in
:mod:`simsearch.labs.engine`.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from ..distributions.families import Distribution
from ..errors import SimsearchError, as_count, require
from ..kernels.labs import COMBINE_MAX, COMBINE_PRODUCT, POLICY_GREEDY, POLICY_ROUNDS
from ..seeding import seed_sequence
from ..distributions.spec import parse_distribution
from .loss import ChinchillaLoss
from ..distributions.values import ValueDistribution, parse_value

COMBINES = {"product": COMBINE_PRODUCT, "max": COMBINE_MAX}
_TOP_KEYS = {"seed", "replicates", "sharing", "periods", "pool", "lab", "loss", "limits"}
_POOL_KEYS = {"ideas", "difficulty", "value", "replenish", "combine", "max_ideas"}
_LAB_KEYS = {"name", "budget", "growth", "cost", "policy", "automation"}
_LIMIT_KEYS = {"multiplier"}
#: Longest automation schedule (one value per period; periods are at most 100,000).
MAX_SCHEDULE = 100_000
#: Largest patience: the kernel holds m as a float64, exact up to 2**53.
MAX_PATIENCE = 2**53
#: Largest log budget of any period: 1e300 leaves float64 room for A^s and compute sums.
_MAX_LOG_BUDGET = math.log(1e300)
_IDEAS_HELP = 'an integer >= 1, or "inf" for an endless stream'


@dataclass(frozen=True)
class Pool:
    """The ideas labs search. ``ideas=None`` is an endless stream (``ideas = "inf"`` in TOML).

    ``max_ideas`` caps the ideas a replicate ever holds (replenished ideas beyond it are dropped
    and counted in ``LabsResult.dropped``); without it the pool grows as needed.
    """

    ideas: int | None
    difficulty: Distribution
    value: ValueDistribution | None = None
    replenish: float = 0.0
    combine: str = "product"
    max_ideas: int | None = None

    @property
    def endless(self) -> bool:
        return self.ideas is None


@dataclass(frozen=True)
class Policy:
    """How a lab orders its attempts over its ideas: one entry of :data:`POLICIES`.

    ``code`` is what the event-driven kernel dispatches on (``POLICY_ROUNDS``: rounds of
    ``quantum`` attempts per unsolved idea; ``POLICY_GREEDY``: the idea with the highest
    posterior chance next); ``parameter`` names the policy's integer parameter (the quantum),
    None for none; ``ranks_ideas`` policies need a finite pool and the Beta prior of the
    difficulty that their posterior index starts from.
    """

    name: str
    code: int
    summary: str
    parameter: str | None = None
    ranks_ideas: bool = False

    def spec(self, value) -> str:
        return f"{self.name}({self.parameter}={value})" if self.parameter else self.name


#: Every policy a lab can follow, by name (``policy = "patience(m=10)"`` in a lab's table).
POLICIES: dict[str, Policy] = {p.name: p for p in (
    Policy("round-robin", POLICY_ROUNDS, "every unsolved idea one attempt per round"),
    Policy("patience", POLICY_ROUNDS, "rounds of up to m attempts in a row per unsolved idea",
           parameter="m"),
    Policy("greedy", POLICY_GREEDY, "the unsolved idea with the highest posterior chance next",
           ranks_ideas=True),
)}


def _policy_help() -> str:
    names = [p.spec(f"<int in [1, {MAX_PATIENCE}]>") for p in POLICIES.values()]
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class Lab:
    """One lab: budget per period (growing by ``growth``), cost per attempt, policy and
    automation.

    ``automation`` is the schedule of s, the share of the lab's research done by the AI it
    improves: in period t the lab spends ``budget * (1 + growth)**t * A**s`` per unit time,
    s = ``automation[min(t, len - 1)]`` (one value: the same in every period).
    """

    name: str
    budget: float
    growth: float = 0.0
    cost: float = 1.0
    elasticity: float = 0.0
    policy: str = "round-robin"
    patience: int = 1
    automation: tuple[float, ...] = (0.0,)

    def automation_at(self, period: int) -> float:
        return self.automation[min(period, len(self.automation) - 1)]

    @property
    def policy_spec(self) -> str:
        return POLICIES[self.policy].spec(self.patience)

    @property
    def policy_code(self) -> int:
        return POLICIES[self.policy].code


@dataclass(frozen=True)
class Limits:
    """Where a lab stops searching: once its multiplier A reaches ``multiplier`` (None: never).

    With feedback A can reach infinity in finite time; the cap turns that into a finite time
    to the cap, recorded per lab and replicate (``LabsResult.limits``)."""

    multiplier: float | None = None


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
    limits: Limits = Limits()

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
        for table, lab in zip(doc["lab"], self.labs):  # the same as before feedback without it
            if lab.automation != (0.0,):
                table["automation"] = (lab.automation[0] if len(lab.automation) == 1
                                       else list(lab.automation))
        if self.limits.multiplier is not None:
            doc["limits"] = {"multiplier": self.limits.multiplier}
        if self.loss is not None:
            doc["loss"] = asdict(self.loss)
        return doc


def _finite(value) -> bool:
    """A finite int or float (TOML integers have no size limit: beyond float range is not)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _number(value, key: str, low: float = -math.inf, high: float = math.inf,
            low_open: bool = False) -> float:
    ok = _finite(value)
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
    """A registered policy's spec -> (name, parameter): ``"round-robin"`` -> (round-robin, 1),
    ``"patience(m=10)"`` (or ``patience(10)``) -> (patience, 10), ``"greedy"`` -> (greedy, 1)."""
    error = SimsearchError(f"{key}: must be one of {_policy_help()} (got {text!r})")
    if not isinstance(text, str):
        raise error
    match = re.fullmatch(r"([a-z-]+)(?:\((?:([a-z]+)=)?(\d{1,20})\))?",
                         text.replace(" ", "").lower())
    if match is None:
        raise error
    name, given, value = match.groups()
    policy = POLICIES.get("round-robin" if name == "roundrobin" else name)
    if (policy is None or (policy.parameter is None) != (value is None)
            or given not in (None, policy.parameter)):
        raise error
    if value is None:
        return policy.name, 1
    if not 1 <= int(value) <= MAX_PATIENCE:
        raise error
    return policy.name, int(value)


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
    automation = _parse_automation(table.get("automation", 0.0), f"{where}.automation")
    return Lab(name.strip(), budget, growth, cost, elasticity, policy, patience, automation)


def _parse_automation(spec, key: str) -> tuple[float, ...]:
    """A number in [0, 1] or a non-empty list of them (one per period, the last one after)."""
    if isinstance(spec, list):
        require(0 < len(spec) <= MAX_SCHEDULE, f"{key}: a schedule needs 1 to {MAX_SCHEDULE:,} "
                f"values in [0, 1] (got {len(spec)})")
        return tuple(_number(v, f"{key}[{i}]", 0, 1) for i, v in enumerate(spec))
    return (_number(spec, key, 0, 1),)


def _parse_limits(table, labs) -> Limits:
    if table is None:
        limits = Limits()
    else:
        require(isinstance(table, dict), "limits: must be a table ([limits])")
        _unknown(table, _LIMIT_KEYS, "limits")
        cap = table.get("multiplier")
        if cap is not None:
            cap = _number(cap, "limits.multiplier", 1, 1e300, low_open=True)
        limits = Limits(cap)
    # Feedback stronger than the cost elasticity can send A to infinity in finite time, after
    # ever more events: such a run needs a cap to end.
    for i, lab in enumerate(labs):
        require(limits.multiplier is not None or max(lab.automation) <= lab.elasticity,
                f"limits.multiplier: needed (a number > 1) when a lab's automation exceeds its "
                f"cost elasticity (lab[{i}]: automation {max(lab.automation):g} > elasticity "
                f"{lab.elasticity:g}; A can explode in finite time)")
    return limits


def _parse_pool(table) -> Pool:
    require(isinstance(table, dict), "pool: missing [pool] table (ideas, difficulty, ...)")
    _unknown(table, _POOL_KEYS, "pool")
    require("ideas" in table, f"pool.ideas: missing; {_IDEAS_HELP}")
    ideas = table["ideas"]
    if ideas == "inf":
        ideas = None
    else:
        ok = _finite(ideas) and ideas == int(ideas) and ideas >= 1
        require(ok, f"pool.ideas: {_IDEAS_HELP} (got {ideas!r})")
        ideas = int(ideas)
        require(ideas <= 50_000_000, f"pool.ideas: at most 50,000,000 (got {ideas})")
    require("difficulty" in table, "pool.difficulty: missing; a distribution spec such as "
            "beta(alpha=0.3, beta=3)")
    try:
        difficulty = parse_distribution(table["difficulty"])
    except SimsearchError as err:
        raise SimsearchError(f"pool.difficulty: {err}") from None
    try:
        value = parse_value(table["value"]) if table.get("value") is not None else None
    except SimsearchError as err:  # a family's own check ("pareto: alpha ...") names no key
        message = str(err)
        raise SimsearchError(message if message.startswith("pool.value:")
                             else f"pool.value: {message}") from None
    replenish = _number(table.get("replenish", 0.0), "pool.replenish", 0)
    combine = table.get("combine", "product")
    require(combine in COMBINES, f"pool.combine: must be one of {', '.join(COMBINES)} "
            f"(got {combine!r})")
    max_ideas = table.get("max_ideas")
    if max_ideas is not None:
        require(ideas is not None, "pool.max_ideas: needs a finite pool (pool.ideas an integer)")
        max_ideas = as_count("pool.max_ideas", max_ideas, 1)
        require(max_ideas >= ideas, f"pool.max_ideas: must be >= pool.ideas = {ideas} "
                f"(got {max_ideas})")
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
        for lab in labs:
            require(not POLICIES[lab.policy].ranks_ideas,
                    f"lab.policy: {lab.policy} needs a finite pool (pool.ideas an integer)")
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
        loss = ChinchillaLoss(**table)
        loss = ChinchillaLoss(**{k: float(v) for k, v in asdict(loss).items()})
    limits = _parse_limits(doc.get("limits"), labs)
    for index, lab in enumerate(labs):
        # The last period's budget, in log space: it must stay a finite float64 with room for
        # A^s and the compute sums (inf budgets made every later period report 0).
        log_last = math.log(lab.budget) + (periods - 1) * math.log1p(lab.growth)
        require(log_last <= _MAX_LOG_BUDGET,
                f"lab[{index}].growth: budget x (1 + growth)^(periods - 1) = "
                f"e^{log_last:.4g} passes the largest budget 1e300; lower growth, budget or "
                f"periods (got growth={lab.growth:g}, periods={periods})")
    return LabsConfig(pool, labs, sharing, periods, seed, replicates, loss, limits)


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
