"""A slow, attempt-by-attempt reference for the labs kernel, covering every feature.

It shares only the random streams with the kernel, taken from the same xoshiro states in the
same order: the pool's p and log-value draws (initial ideas, then the replenishment draws after
each win), each lab's first-success times T (drawn in idea order when the pool is filled, then
when a replenished idea reaches the lab), each lab's stream ideas (p, log value, T) for an endless
pool, and the publication draws. Everything else, which attempt goes where (round-robin,
patience(m), greedy), when periods end, who learns what, which ideas join which pool, is simulated
one attempt at a time in plain Python, so it checks the kernel's event logic (heaps, Fenwick
counts, closed-form blocks and greedy switches, catch-up before spillover) independently.

Compute is booked the way the kernel books it, so that the two agree to the last bit: within a
period, a lab's spending is (spending when its cost per attempt last changed) + (attempts since)
x (current cost).
"""

from __future__ import annotations

import math

import numpy as np

from simsearch.kernels.draws import draw_p, kernel_table
from simsearch.kernels.first_success import first_success_time
from simsearch.kernels.labs import draw_log_value
from simsearch.kernels.rng import spawn_states, uniform
from simsearch.labs.engine import _beta_prior
from simsearch.seeding import seed_sequence


def _greedy_key(log_value, failures, prior_a, prior_b):
    """Minus the log of the posterior expected prize v a0 / (a0 + b0 + f) (smaller goes first)."""
    return -(log_value + math.log(prior_a) - math.log(prior_a + prior_b + failures))


class _Lab:
    """One lab's state, attempt by attempt."""

    def __init__(self, lab, stream):
        self.lab = lab
        self.stream = stream          # the lab's own xoshiro state
        self.budget = lab.budget
        self.period = 0
        self.spent_base = 0.0         # spending in this period before the last cost change
        self.total_base = 0.0         # cumulative spending before the last cost change
        self.attempts = 0             # attempts since the last cost change
        self.log_mult = 0.0
        self.wins = 0
        self.done = False
        # Finite pool: ideas in pool order, failures per idea, first-success times per idea.
        self.pool = set()
        self.fails = {}
        self.need = {}
        self.current = -1             # rounds: the idea of the current block
        self.used = 0                 # rounds: attempts made in the current block
        # Endless stream: the current idea (p, log value, T), attempts on it, ideas drawn.
        self.idea = None
        self.tried = 0

    def cost(self):
        return self.lab.cost * math.exp(self.lab.elasticity * self.log_mult)

    def spent(self):
        return self.spent_base + self.attempts * self.cost()

    def total(self):
        return self.total_base + self.attempts * self.cost()

    def gain(self, log_value, combine_max):
        """A win's value reaches the lab; its cost per attempt may change, so rebase first."""
        c = self.cost()
        self.spent_base += self.attempts * c
        self.total_base += self.attempts * c
        self.attempts = 0
        self.log_mult = max(self.log_mult, log_value) if combine_max \
            else self.log_mult + log_value

    def end_period(self, growth):
        self.total_base = self.total()
        self.spent_base = 0.0
        self.attempts = 0
        self.period += 1
        self.budget *= 1.0 + growth

    def add_idea(self, idea, p):
        self.pool.add(idea)
        self.fails[idea] = 0
        self.need[idea] = first_success_time(self.stream, p)

    def draw_stream_idea(self, kinds, params, cum_weights, data, value_kernel):
        p = draw_p(self.stream, kinds, params, cum_weights, data)
        lv = draw_log_value(self.stream, *value_kernel)
        self.idea = (p, lv, first_success_time(self.stream, p))
        self.used = 0
        self.tried += 1

    def target(self, lv, prior):
        """The idea the lab's next attempt goes to (finite pools)."""
        if self.lab.policy == "greedy":
            return min(self.pool, key=lambda i: (_greedy_key(lv[i], self.fails[i], *prior), i))
        if self.current in self.pool and self.used < self.lab.patience:
            return self.current
        after = [i for i in self.pool if i > self.current]
        return min(after) if after else min(self.pool)


def reference_replicate(config, seed, replicate=0, replicates=1):
    """Simulate one replicate of ``config`` attempt by attempt.

    Returns
    -------
    wins : dict of lists, one entry per win in time order: lab, idea (-1 for a stream), compute,
        time, p, log_value, attempts, log_multiplier, published
    periods : dict of arrays of shape (labs, periods): compute, cumulative_compute,
        log_multiplier, wins, pool_remaining (-1 for a stream), ideas_tried (-1 for a pool)
    dropped : int
        Replenished ideas that did not fit in ``pool.max_ideas``.
    """
    pool_cfg = config.pool
    finite = pool_cfg.ideas is not None
    n_labs = len(config.labs)
    child = seed_sequence(seed).spawn(replicates)[replicate]
    states = spawn_states(child, n_labs + 2)
    pool_stream, share_stream = states[0], states[n_labs + 1]
    kinds, params, cum_weights, data = kernel_table(pool_cfg.difficulty)
    value_kernel = pool_cfg.value.kernel if pool_cfg.value is not None else (0, 1.0, 0.0)
    prior = _beta_prior(pool_cfg.difficulty)
    combine_max = pool_cfg.combine == "max"
    capacity = pool_cfg.max_ideas if pool_cfg.max_ideas is not None else math.inf

    labs = [_Lab(lab, states[1 + i]) for i, lab in enumerate(config.labs)]
    p, lv = [], []

    def new_idea():
        p.append(draw_p(pool_stream, kinds, params, cum_weights, data))
        lv.append(draw_log_value(pool_stream, *value_kernel))
        return len(p) - 1

    if finite:
        for _ in range(pool_cfg.ideas):
            new_idea()
        for state in labs:
            for idea in range(pool_cfg.ideas):
                state.add_idea(idea, p[idea])
    else:
        for state in labs:
            state.draw_stream_idea(kinds, params, cum_weights, data, value_kernel)

    shape = (n_labs, config.periods)
    periods = {name: np.zeros(shape) for name in
               ("compute", "cumulative_compute", "log_multiplier", "wins", "pool_remaining",
                "ideas_tried")}
    wins = {name: [] for name in ("lab", "idea", "compute", "time", "p", "log_value",
                                  "attempts", "log_multiplier", "published")}
    dropped = 0
    whole, frac = math.floor(pool_cfg.replenish), pool_cfg.replenish - math.floor(
        pool_cfg.replenish)

    while True:
        # Each lab's next event (time, class, lab): class 0 an attempt that fails, 1 a win, 2 the
        # end of the lab's period.
        events = []
        for index, state in enumerate(labs):
            if state.done:
                continue
            c = state.cost()
            end = state.spent_base + (state.attempts + 1) * c
            if (not finite or state.pool) and end <= state.budget:
                if finite:
                    idea = state.target(lv, prior)
                    wins_now = state.fails[idea] + 1 == state.need[idea]
                else:
                    wins_now = state.used + 1 == state.idea[2]
                events.append((state.period + end / state.budget, 1 if wins_now else 0, index))
            else:
                events.append((state.period + 1.0, 2, index))
        if not events:
            break
        t, klass, index = min(events)
        state = labs[index]
        if klass == 2:
            row = state.period
            periods["compute"][index, row] = state.spent()
            periods["cumulative_compute"][index, row] = state.total()
            periods["log_multiplier"][index, row] = state.log_mult
            periods["wins"][index, row] = state.wins
            periods["pool_remaining"][index, row] = len(state.pool) if finite else -1
            periods["ideas_tried"][index, row] = \
                -1 if finite else state.tried - (state.used == 0)
            state.end_period(state.lab.growth)
            state.done = state.period >= config.periods
            continue

        state.attempts += 1
        if finite:
            idea = state.target(lv, prior)
            state.fails[idea] += 1
            if state.lab.policy != "greedy":
                same_block = idea == state.current and state.used < state.lab.patience
                state.used = state.used + 1 if same_block else 1
                state.current = idea
        else:
            state.used += 1
            if klass == 0 and state.used == state.lab.patience:
                state.draw_stream_idea(kinds, params, cum_weights, data, value_kernel)
        if klass == 0:
            continue

        # A win.
        if finite:
            win_p, win_lv, win_t = p[idea], lv[idea], state.need[idea]
            state.pool.discard(idea)
            state.used = 0
        else:
            idea = -1
            win_p, win_lv, win_t = state.idea
            state.draw_stream_idea(kinds, params, cum_weights, data, value_kernel)
        state.gain(win_lv, combine_max)
        state.wins += 1
        published = bool(uniform(share_stream) < config.sharing)
        for name, value in (("lab", index), ("idea", idea), ("compute", state.total()),
                            ("time", t), ("p", win_p), ("log_value", win_lv),
                            ("attempts", win_t), ("log_multiplier", state.log_mult),
                            ("published", published)):
            wins[name].append(value)
        if published:
            for other_index, other in enumerate(labs):
                if other_index == index or other.done:
                    continue
                if finite:
                    if idea not in other.pool:
                        continue
                    other.pool.discard(idea)
                    if other.current == idea:
                        other.used = 0
                other.gain(win_lv, combine_max)
        if finite and pool_cfg.replenish > 0:
            extra = whole + (1 if frac > 0 and uniform(pool_stream) < frac else 0)
            for _ in range(extra):
                if len(p) >= capacity:
                    dropped += 1
                    continue
                new = new_idea()
                for other_index, other in enumerate(labs):
                    if (other_index == index or published) and not other.done:
                        other.add_idea(new, p[new])
    return wins, periods, dropped


DIFFICULTIES = ("beta(alpha=0.6, beta=1.5)", "beta(alpha=0.3, beta=3)", "beta(alpha=2, beta=2)",
                "point(p=0.15)")
VALUES = (None, "fixed(v=1.05)", "lognormal(mu=0.05, sigma=0.3)", "pareto(alpha=1.5)")


def random_config(rng):
    """A small random labs config (a TOML document) exercising any mix of features: every
    policy, replenishment, ``max_ideas``, endless streams, sharing, growth, costs, elasticity."""
    endless = rng.random() < 0.25
    labs = []
    for i in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 2 if endless else 3))
        policy = ("round-robin", f"patience(m={int(rng.integers(2, 6))})", "greedy")[kind]
        lab = {"name": f"lab{i}", "policy": policy,
               "budget": float(rng.choice([8.0, 12.5, 20.0, 30.0, 45.25, 17.3]))}
        if rng.random() < 0.4:
            lab["growth"] = float(rng.choice([0.1, 0.25, 0.5]))
        cost = float(rng.choice([1.0, 0.5, 1.5, 0.7, 2.0]))
        if rng.random() < 0.3:
            lab["cost"] = {"base": cost, "elasticity": float(rng.choice([0.3, 0.7, 1.0]))}
        else:
            lab["cost"] = cost
        labs.append(lab)
    pool = {"ideas": "inf" if endless else int(rng.integers(3, 50)),
            "difficulty": str(rng.choice(DIFFICULTIES))}
    value = VALUES[int(rng.integers(0, len(VALUES)))]
    if value is not None:
        pool["value"] = value
    if rng.random() < 0.3:
        pool["combine"] = "max"
    if not endless:
        pool["replenish"] = float(rng.choice([0.0, 0.0, 0.5, 1.0, 1.7]))
        if rng.random() < 0.3:
            pool["max_ideas"] = pool["ideas"] + int(rng.integers(0, 15))
    return {"seed": int(rng.integers(0, 2**31)), "replicates": 2,
            "periods": int(rng.integers(2, 7)), "sharing": float(rng.choice([0.0, 0.5, 1.0])),
            "pool": pool, "lab": labs}


def features(doc):
    """The features a config document exercises, for coverage checks."""
    pool, labs = doc["pool"], doc["lab"]
    out = {f"sharing {doc['sharing']:g}"}
    out |= {lab["policy"].split("(")[0] for lab in labs}
    out.add("endless" if pool["ideas"] == "inf" else "finite")
    if pool.get("replenish", 0) > 0:
        out.add("replenish")
    if "max_ideas" in pool:
        out.add("max_ideas")
    if any(lab.get("growth", 0) > 0 for lab in labs):
        out.add("growth")
    if any(isinstance(lab["cost"], dict) for lab in labs):
        out.add("elasticity")
    if any(lab["cost"] != 1.0 for lab in labs):
        out.add("costs")
    if len(labs) > 1:
        out.add("several labs")
    return out


ALL_FEATURES = {"sharing 0", "sharing 0.5", "sharing 1", "round-robin", "patience", "greedy",
                "endless", "finite", "replenish", "max_ideas", "growth", "elasticity", "costs",
                "several labs"}


def assert_matches_reference(config, seed=None, replicates=None):
    """Every win and period record of ``simulate_labs`` equals the reference's, bit for bit."""
    from simsearch.labs import simulate_labs

    seed = config.seed if seed is None else seed
    replicates = config.replicates if replicates is None else replicates
    result = simulate_labs(config, replicates=replicates, seed=seed)
    for r in range(replicates):
        ref_wins, ref_periods, ref_dropped = reference_replicate(config, seed, r, replicates)
        sel = result.wins["replicate"] == r
        for name, values in ref_wins.items():
            np.testing.assert_array_equal(result.wins[name][sel], np.array(values),
                                          err_msg=f"replicate {r}, wins.{name}")
        for name, values in ref_periods.items():
            np.testing.assert_array_equal(result.periods[name][r], values,
                                          err_msg=f"replicate {r}, periods.{name}")
        assert result.dropped[r] == ref_dropped, (r, result.dropped[r], ref_dropped)
    return result
