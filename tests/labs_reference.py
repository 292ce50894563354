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
x (current cost). Time runs the way the kernel runs it: at a rate constant within a segment (the
period's budget times A^s with automation s), an attempt ending at seg_start + (spending -
seg_base) / rate; a change of A under feedback starts a new segment that carries the compute
done on the attempt in progress. A published win takes its idea out of every pool at once, and
a lab in the middle of an attempt on it loses the compute done on that attempt. A lab whose
multiplier reached ``limits.multiplier`` makes no
more attempts; the first passages of A through the cap and each doubling are recorded.
"""

from __future__ import annotations

import math

import numpy as np

from simsearch.kernels.draws import draw_p
from simsearch.kernels.inputs import kernel_table
from simsearch.kernels.first_success import first_success_time
from simsearch.kernels.labs import draw_log_value
from simsearch.kernels.rng import uniform
from simsearch.labs.engine import _beta_prior
from simsearch.seeding import seed_sequence, stream_states


def _greedy_key(log_value, failures, prior_a, prior_b):
    """Minus the log of the posterior expected prize v a0 / (a0 + b0 + f) (smaller goes first)."""
    return -(log_value + math.log(prior_a) - math.log(prior_a + prior_b + failures))


class _Lab:
    """One lab's state, attempt by attempt."""

    def __init__(self, lab, stream, doublings):
        self.lab = lab
        self.stream = stream          # the lab's own xoshiro state
        self.budget = lab.budget
        self.period = 0
        self.capped = False
        self.cap_time = math.nan
        self.doubling_time = [math.nan] * doublings
        self.carry = 0.0              # compute done on the attempt in progress at period start
        self.booked = 0.0             # cumulative compute at the last period's end
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
        self.start_period()

    def rate(self):
        """Compute per unit time: the budget times A^s (exactly the budget without feedback)."""
        s = self.lab.automation_at(self.period)
        return self.budget if s == 0.0 else self.budget * math.exp(s * self.log_mult)

    def start_period(self):
        """The period's first segment, from its start: time = seg_start + (spent - seg_base)
        / rate, and the period ends when the spending would pass ``allowance``; the compute
        carried on the attempt in progress counts as done at the start."""
        self.seg_start = float(self.period)
        self.seg_base = self.carry
        self.rate_now = self.rate()
        self.allowance = self.carry + self.rate_now

    def time_at(self, spent):
        return self.seg_start + (spent - self.seg_base) / self.rate_now

    def cost(self):
        return self.lab.cost * math.exp(self.lab.elasticity * self.log_mult)

    def spent(self):
        return self.spent_base + self.attempts * self.cost()

    def total(self):
        return self.total_base + self.attempts * self.cost()

    def gain(self, log_value, combine_max, when, winner, log_cap):
        """A win's value reaches the lab at time ``when``; its cost per attempt may change, so
        rebase first. Under feedback its rate changes: a new segment starts now, carrying the
        compute done on the attempt in progress (none for the winner, its attempt just ended)."""
        c = self.cost()
        self.spent_base += self.attempts * c
        self.total_base += self.attempts * c
        self.attempts = 0
        self.log_mult = max(self.log_mult, log_value) if combine_max \
            else self.log_mult + log_value
        if self.lab.automation_at(self.period) != 0.0:
            done = self.spent_base
            if not winner:
                done = max(self.seg_base + (when - self.seg_start) * self.rate_now, done)
            self.seg_start, self.seg_base = when, done
            self.rate_now = self.rate()
            self.allowance = done + (self.period + 1.0 - when) * self.rate_now
        if self.log_mult >= log_cap and not self.capped:
            self.capped, self.cap_time = True, when
        for k, t in enumerate(self.doubling_time):
            if math.isnan(t) and self.log_mult >= (k + 1) * math.log(2.0):
                self.doubling_time[k] = when

    def sink_attempt_on(self, idea, when, lv, prior):
        """A published win takes ``idea`` out of the pool at ``when``: an attempt in progress
        on it loses the compute done on it (booked as spent); the next starts afresh then."""
        spent = self.spent()
        if self.capped or self.time_at(spent) >= when or self.target(lv, prior) != idea:
            return
        sunk = self.seg_base + (when - self.seg_start) * self.rate_now - spent
        if sunk > 0.0:
            self.spent_base += sunk
            self.total_base += sunk

    def end_period(self, growth):
        self.total_base = self.total()
        self.spent_base = 0.0
        self.attempts = 0
        self.period += 1
        self.budget *= 1.0 + growth
        self.start_period()

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
    limits : dict of arrays: cap_time (labs,), doubling_time (labs, d)
    """
    from simsearch.labs.engine import doubling_width

    pool_cfg = config.pool
    finite = pool_cfg.ideas is not None
    n_labs = len(config.labs)
    child = seed_sequence(seed).spawn(replicates)[replicate]
    states = stream_states(child, n_labs + 3)
    pool_stream, share_stream, tie_stream = states[0], states[n_labs + 1], states[n_labs + 2]
    kinds, params, cum_weights, data = kernel_table(pool_cfg.difficulty)
    value_kernel = pool_cfg.value.kernel if pool_cfg.value is not None else (0, 1.0, 0.0)
    prior = _beta_prior(pool_cfg.difficulty)
    combine_max = pool_cfg.combine == "max"
    capacity = pool_cfg.max_ideas if pool_cfg.max_ideas is not None else math.inf

    log_cap = math.log(config.limits.multiplier) if config.limits.multiplier else math.inf
    labs = [_Lab(lab, states[1 + i], doubling_width(config)) for i, lab in enumerate(config.labs)]
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
            if not state.capped and (not finite or state.pool) and end <= state.allowance:
                if finite:
                    idea = state.target(lv, prior)
                    wins_now = state.fails[idea] + 1 == state.need[idea]
                else:
                    wins_now = state.used + 1 == state.idea[2]
                events.append((state.time_at(end), 1 if wins_now else 0, index))
            else:
                events.append((state.period + 1.0, 2, index))
        if not events:
            break
        # The earliest (time, class); among simultaneous wins, one drawn uniformly (one draw,
        # only when several tie; other ties cannot change results).
        t, klass, index = min(events)
        tied = [i for et, ek, i in events if (et, ek) == (t, klass)]
        if klass == 1 and len(tied) > 1:
            index = tied[int(uniform(tie_stream) * len(tied))]
        state = labs[index]
        if klass == 2:
            row = state.period
            # What is left of the period's budget after its last whole attempt is compute done
            # on the next one (none when the lab has nothing left to try).
            active = not state.capped and (not finite or bool(state.pool))
            carry = max(state.allowance - state.spent(), 0.0) if active else 0.0
            compute = state.spent() - state.carry + carry if active \
                else max(state.spent() - state.carry, 0.0)
            periods["compute"][index, row] = compute
            periods["cumulative_compute"][index, row] = state.booked + compute
            state.booked += compute
            state.carry = carry
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
        state.gain(win_lv, combine_max, t, True, log_cap)
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
                    other.sink_attempt_on(idea, t, lv, prior)
                    other.pool.discard(idea)
                    if other.current == idea:
                        other.used = 0
                other.gain(win_lv, combine_max, t, False, log_cap)
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
    limits = {"cap_time": np.array([state.cap_time for state in labs]),
              "doubling_time": np.array([state.doubling_time for state in labs])}
    return wins, periods, dropped, limits


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
        feedback = rng.random()
        if feedback < 0.3:
            lab["automation"] = float(rng.choice([0.2, 0.5, 0.8, 1.0]))
        elif feedback < 0.45:
            lab["automation"] = [float(v) for v in
                                 rng.choice([0.0, 0.3, 0.6, 1.0], int(rng.integers(1, 5)))]
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
    doc = {"seed": int(rng.integers(0, 2**31)), "replicates": 2,
           "periods": int(rng.integers(2, 7)), "sharing": float(rng.choice([0.0, 0.5, 1.0])),
           "pool": pool, "lab": labs}
    # Caps low enough to be reached in a few periods; needed when automation beats elasticity.
    if rng.random() < 0.3 or any("automation" in lab for lab in labs):
        doc["limits"] = {"multiplier": float(rng.choice([1.5, 3.0, 8.0, 40.0]))}
    return doc


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
    if any(isinstance(lab.get("automation"), float) and lab["automation"] > 0 for lab in labs):
        out.add("automation")
    if any(isinstance(lab.get("automation"), list) for lab in labs):
        out.add("automation schedule")
    if "limits" in doc:
        out.add("cap")
    return out


ALL_FEATURES = {"sharing 0", "sharing 0.5", "sharing 1", "round-robin", "patience", "greedy",
                "endless", "finite", "replenish", "max_ideas", "growth", "elasticity", "costs",
                "several labs", "automation", "automation schedule", "cap"}


def assert_matches_reference(config, seed=None, replicates=None):
    """Every win and period record of ``simulate_labs`` equals the reference's, bit for bit."""
    from simsearch.labs import simulate_labs

    seed = config.seed if seed is None else seed
    replicates = config.replicates if replicates is None else replicates
    result = simulate_labs(config, replicates=replicates, seed=seed)
    for r in range(replicates):
        ref_wins, ref_periods, ref_dropped, ref_limits = reference_replicate(config, seed, r,
                                                                             replicates)
        sel = result.wins["replicate"] == r
        for name, values in ref_wins.items():
            np.testing.assert_array_equal(result.wins[name][sel], np.array(values),
                                          err_msg=f"replicate {r}, wins.{name}")
        for name, values in ref_periods.items():
            np.testing.assert_array_equal(result.periods[name][r], values,
                                          err_msg=f"replicate {r}, periods.{name}")
        assert result.dropped[r] == ref_dropped, (r, result.dropped[r], ref_dropped)
        for name, values in ref_limits.items():
            np.testing.assert_array_equal(result.limits[name][r], values,
                                          err_msg=f"replicate {r}, limits.{name}")
    return result
