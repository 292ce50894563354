"""A slow, attempt-by-attempt reference for the labs kernel (finite pools, no replenishment).

It shares only the random streams with the kernel: the pool's p and log-value draws, each lab's
first-success times T (drawn in idea order when the pool is filled) and the publication draws,
taken from the same xoshiro states in the same order. Everything else, which attempt goes where,
when periods end, who learns what, is simulated one attempt at a time with plain Python, so it
checks the kernel's event logic (heaps, Fenwick counts, closed-form greedy switches, catch-up
before spillover) independently.
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


class _LabState:
    def __init__(self, lab, n_ideas):
        self.lab = lab
        self.budget = lab.budget
        self.period = 0
        self.spent = 0.0
        self.total = 0.0
        self.log_mult = 0.0
        self.wins = 0
        self.pool = set(range(n_ideas))
        self.fails = np.zeros(n_ideas)
        self.current = 0      # rounds: the idea in the current block, by pool position
        self.used = 0         # rounds: attempts already made in the current block
        self.done = False

    def cost(self):
        return self.lab.cost * math.exp(self.lab.elasticity * self.log_mult)

    def next_rounds_idea(self):
        """The idea the next attempt goes to under rounds: the current block's idea if it is
        still in the pool and has attempts left, else the next idea in pool order (wrapping)."""
        if self.current in self.pool and self.used < self.lab.patience:
            return self.current
        after = [i for i in self.pool if i > self.current]
        return min(after) if after else min(self.pool)


def _greedy_key(log_value, failures, prior_a, prior_b):
    return -(log_value + math.log(prior_a) - math.log(prior_a + prior_b + failures))


def reference_replicate(config, seed, replicate=0, replicates=1):
    """Simulate one replicate of ``config`` attempt by attempt.

    Returns
    -------
    wins : list of tuples (lab, idea, compute, log_multiplier, published)
    periods : dict of arrays of shape (labs, periods): compute, cumulative_compute,
        log_multiplier, wins, pool_remaining
    """
    pool_cfg = config.pool
    n_ideas = pool_cfg.ideas
    assert n_ideas is not None and pool_cfg.replenish == 0
    n_labs = len(config.labs)
    child = seed_sequence(seed).spawn(replicates)[replicate]
    states = spawn_states(child, n_labs + 2)
    kinds, params, cum_weights, data = kernel_table(pool_cfg.difficulty)
    v_kind, v_a, v_b = pool_cfg.value.kernel if pool_cfg.value is not None else (0, 1.0, 0.0)
    p = np.empty(n_ideas)
    lv = np.empty(n_ideas)
    for i in range(n_ideas):
        p[i] = draw_p(states[0], kinds, params, cum_weights, data)
        lv[i] = draw_log_value(states[0], v_kind, v_a, v_b)
    need = np.array([[first_success_time(states[1 + lab], p[i]) for i in range(n_ideas)]
                     for lab in range(n_labs)])
    prior_a, prior_b = _beta_prior(pool_cfg.difficulty)

    labs = [_LabState(lab, n_ideas) for lab in config.labs]
    shape = (n_labs, config.periods)
    periods = {name: np.zeros(shape) for name in
               ("compute", "cumulative_compute", "log_multiplier", "wins", "pool_remaining")}
    wins = []

    def target(state, lab_index):
        if state.lab.policy == "greedy":
            return min(state.pool, key=lambda i: (_greedy_key(lv[i], state.fails[i],
                                                              prior_a, prior_b), i))
        return state.next_rounds_idea()

    while True:
        # Each lab's next event: (time, class, lab, idea); class 0 an attempt that fails, 1 a win,
        # 2 the end of the lab's period.
        events = []
        for index, state in enumerate(labs):
            if state.done:
                continue
            c = state.cost()
            if state.pool and state.spent + c <= state.budget:
                idea = target(state, index)
                wins_now = state.fails[idea] + 1 == need[index, idea]
                t = state.period + (state.spent + c) / state.budget
                events.append((t, 1 if wins_now else 0, index, idea))
            else:
                events.append((state.period + 1.0, 2, index, -1))
        if not events:
            break
        t, klass, index, idea = min(events)
        state = labs[index]
        if klass == 2:
            row = state.period
            periods["compute"][index, row] = state.spent
            periods["cumulative_compute"][index, row] = state.total
            periods["log_multiplier"][index, row] = state.log_mult
            periods["wins"][index, row] = state.wins
            periods["pool_remaining"][index, row] = len(state.pool)
            state.period += 1
            state.spent = 0.0
            state.budget *= 1.0 + state.lab.growth
            state.done = state.period >= config.periods
            continue
        c = state.cost()
        state.spent += c
        state.total += c
        state.fails[idea] += 1
        if state.lab.policy != "greedy":
            same_block = idea == state.current and state.used < state.lab.patience
            state.used = state.used + 1 if same_block else 1
            state.current = idea
        if klass == 0:
            continue
        state.pool.discard(idea)
        state.used = 0
        combine_max = pool_cfg.combine == "max"
        state.log_mult = max(state.log_mult, lv[idea]) if combine_max \
            else state.log_mult + lv[idea]
        state.wins += 1
        published = bool(uniform(states[n_labs + 1]) < config.sharing)
        wins.append((index, idea, state.total, state.log_mult, published))
        if published:
            for other_index, other in enumerate(labs):
                if other_index == index or other.done or idea not in other.pool:
                    continue
                other.pool.discard(idea)
                if other.current == idea:
                    other.used = 0
                other.log_mult = max(other.log_mult, lv[idea]) if combine_max \
                    else other.log_mult + lv[idea]
    return wins, periods
