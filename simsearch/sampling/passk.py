"""Repeated sampling over many problems: simulated aggregate pass@k on any grid of k.

For P problems with p_i ~ D, each problem's first-success time T_i is one geometric draw and
pass_D@k = (1/P) #{i : T_i <= k}. The kernel bins the T_i into the k grid as it draws them, so
memory is O(P / chunk + len(k)), never O(P x k), and k may go to 1e12 at no extra cost.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..distributions.families import TINY_PASS, Distribution
from ..errors import as_count, as_count_array, require
from ..io.frames import to_pandas
from ..kernels import interpreted
from ..kernels.inputs import Chunks, KGrid, PerProblem, bin_table, kernel_table
from ..runtime import progress_bar
from ..seeding import CHUNK_SIZE, chunk_sizes, replicate_chunk_states, seed_sequence
from ..distributions.spec import parse_distribution
from .grid import as_k_grid, check_memory

#: Chunks per thread handed to one kernel call. Between calls the progress bar moves and
#: Ctrl-C or SIGTERM can act, so a call lasts well under 0.1 s (a chunk takes ~6 ms).
_CHUNKS_PER_THREAD_PER_CALL = 4
#: Problems this process has drawn with the interpreted kernel (:func:`first_success_kernel`).
_interpreted_problems = 0


def runs_interpreted(problems: int) -> bool:
    """Whether a run of ``problems`` problems (all replicates) would draw them in plain Python
    (:mod:`simsearch.kernels.interpreted`) rather than load numba.

    Loading numba and its cached kernel costs a process ~0.25-0.4 s, once; the interpreted
    draws cost ~4-10 us a problem, each time. So, as one rents before buying, a process draws
    its first :data:`~simsearch.kernels.interpreted.INTERPRETED_MAX_PROBLEMS` problems (in
    runs no larger) interpreted, unless numba's kernel is loaded already, and loads numba
    after: a single small run (a 1,000-problem ``simsearch passk``) needs no numba at all, and
    a process of many small runs pays at most about what loading numba costs on top.
    """
    return (not _compiled_kernel_loaded()
            and _interpreted_problems + problems <= interpreted.INTERPRETED_MAX_PROBLEMS)


def _compiled_kernel_loaded() -> bool:
    """Whether this process has numba's first-success kernel compiled or loaded (asked
    without importing it, which would load numba)."""
    compiled = sys.modules.get("simsearch.kernels.first_success")
    return compiled is not None and bool(compiled.first_success_counts.signatures)


def load_kernel() -> None:
    """Load (or compile) numba's first-success kernel now, so that every later run uses it:
    for a process about to run many runs (a sweep's worker), where drawing the first ones
    interpreted only delays the load."""
    from ..kernels.first_success import first_success_counts

    k = np.ones(1)
    first_success_counts(Chunks(np.zeros((1, 4), dtype=np.uint64), np.zeros(1, dtype=np.int64),
                                np.zeros(1, dtype=np.int64)),
                         kernel_table(parse_distribution("point(p=0.5)")), KGrid(k, bin_table(k)),
                         PerProblem(np.empty(0), np.empty(0)))


def first_success_kernel(problems: int):
    """(kernel, chunks per call) for a run of ``problems`` problems (all replicates): the
    interpreted draws in one call where :func:`runs_interpreted`, else the numba kernel,
    :data:`_CHUNKS_PER_THREAD_PER_CALL` chunks per thread a call. Both give the same results,
    bit for bit."""
    global _interpreted_problems
    if runs_interpreted(problems):
        _interpreted_problems += problems
        # Every chunk in one call (none is empty, so there are no more chunks than problems).
        return interpreted.first_success_counts, problems
    import numba  # only here: the numba path

    from ..kernels.first_success import first_success_counts

    return first_success_counts, _CHUNKS_PER_THREAD_PER_CALL * numba.get_num_threads()


@dataclass(frozen=True)
class PassAtKResult:
    """Simulated aggregate pass@k, per replicate, beside the exact expectation.

    Attributes
    ----------
    distribution : Distribution
    k : numpy.ndarray
        int64[G], sorted.
    problems, replicates : int
    fail_counts : numpy.ndarray
        int64[R, G]: problems with no success in k attempts.
    expected_failure : numpy.ndarray
        float64[G]: E[(1-p)^k] from the distribution.
    seed_entropy : int
        Entropy of the root ``SeedSequence``; passing it as ``seed`` reproduces the result.
    p, first_success : numpy.ndarray or None
        float64[R, P] per-problem success probability and first-success attempt (``inf`` for
        p = 0), when asked for.
    """

    distribution: Distribution
    k: np.ndarray
    problems: int
    replicates: int
    fail_counts: np.ndarray
    expected_failure: np.ndarray
    seed_entropy: int
    p: np.ndarray | None = None
    first_success: np.ndarray | None = None

    @property
    def fail_at_k(self) -> np.ndarray:
        """Fraction of problems with no success in k attempts, [R, G]."""
        return self.fail_counts / self.problems

    @property
    def pass_at_k(self) -> np.ndarray:
        """Simulated aggregate pass@k, [R, G]: solved problems over problems, one correctly
        rounded division (1 - fail_at_k would print 9093 of 100000 as 0.09092999999999996)."""
        return (self.problems - self.fail_counts) / self.problems

    @property
    def neg_log_pass_at_k(self) -> np.ndarray:
        """-log pass@k, computed from the failure fraction without cancellation; ``inf`` at 0."""
        with np.errstate(divide="ignore"):
            return -np.log1p(-self.fail_at_k)

    @property
    def stderr(self) -> np.ndarray:
        """Monte Carlo standard error of each replicate's pass@k: sqrt(f (1 - f) / P)."""
        f = self.fail_at_k
        return np.sqrt(f * (1.0 - f) / self.problems)

    @property
    def expected_pass_at_k(self) -> np.ndarray:
        """1 - E[(1-p)^k]; where that keeps fewer than 8 digits, the distribution's own
        (:meth:`~simsearch.distributions.families.Distribution.expected_pass_at_k`)."""
        passed = 1.0 - self.expected_failure
        tiny = passed < TINY_PASS
        if tiny.any():
            passed[tiny] = self.distribution.expected_pass_at_k(self.k[tiny].astype(np.float64))
        return passed

    @property
    def expected_neg_log_pass_at_k(self) -> np.ndarray:
        passed = self.expected_pass_at_k
        with np.errstate(divide="ignore"):
            return np.where(passed < TINY_PASS, -np.log(passed),
                            -np.log1p(-self.expected_failure))

    def table(self) -> dict[str, np.ndarray]:
        """The tidy pass@k table (``simsearch passk`` CSV), one row per replicate and k.

        Columns: ``replicate`` (only when there are several), ``k``, ``pass_at_k``,
        ``neg_log_pass_at_k``, ``expected_pass_at_k``, ``expected_neg_log_pass_at_k``,
        ``stderr``.
        """
        reps, g = self.fail_counts.shape
        columns = {}
        if reps > 1:
            columns["replicate"] = np.repeat(np.arange(reps), g)
        columns["k"] = np.tile(self.k, reps)
        columns["pass_at_k"] = self.pass_at_k.ravel()
        columns["neg_log_pass_at_k"] = self.neg_log_pass_at_k.ravel()
        columns["expected_pass_at_k"] = np.tile(self.expected_pass_at_k, reps)
        columns["expected_neg_log_pass_at_k"] = np.tile(self.expected_neg_log_pass_at_k, reps)
        columns["stderr"] = self.stderr.ravel()
        return columns

    def per_problem_table(self) -> dict[str, np.ndarray]:
        """One row per replicate and problem: ``replicate``, ``problem``, ``p`` and
        ``first_success`` (``inf`` for p = 0), as ``simsearch passk --per-problem`` writes.

        Raises
        ------
        SimsearchError
            The result was simulated without ``per_problem=True``.
        """
        require(self.p is not None, "per_problem: this result has no per-problem draws; "
                                    "simulate with per_problem=True")
        reps, n = self.p.shape
        if reps == 1:  # zeros from calloc: no pass over memory until written out
            replicate = np.zeros((1, n), dtype=np.int64)
        else:
            replicate = np.repeat(np.arange(reps), n).reshape(reps, n)
        problem = np.broadcast_to(np.arange(n), (reps, n)).reshape(-1)  # a view for one replicate
        return {"replicate": replicate.reshape(-1), "problem": problem,
                "p": self.p.reshape(-1), "first_success": self.first_success.reshape(-1)}

    def to_pandas(self, per_problem: bool = False):
        """The table as a pandas DataFrame (pandas is optional: ``pip install pandas``).

        Parameters
        ----------
        per_problem : bool, default False
            The per-problem table (:meth:`per_problem_table`) instead of pass@k (:meth:`table`).

        Returns
        -------
        pandas.DataFrame
            The same columns as the CSV ``simsearch passk`` writes.
        """
        return to_pandas(self.per_problem_table() if per_problem else self.table())


def simulate_pass_at_k(dist: Distribution | str, k, problems: int, *, replicates: int = 1,
                       seed=None, per_problem: bool = False,
                       progress: bool = False) -> PassAtKResult:
    """Simulate repeated sampling on ``problems`` problems with p ~ ``dist``.

    Parameters
    ----------
    dist : Distribution or str
        Success-probability distribution or its spec, e.g. ``"beta(alpha=0.3, beta=3)"``.
    k : int or array_like of int
        Attempt budgets, integers in [1, 2^53].
    problems : int
        Problems per replicate.
    replicates : int, default 1
        Independent repetitions of the whole experiment.
    seed : int, numpy.random.SeedSequence or None
        Same seed, same result, bit for bit, whatever the number of threads.
    per_problem : bool, default False
        Also return each problem's p and first-success time (memory O(replicates x problems);
        :func:`stream_pass_at_k` hands them over block by block instead).
    progress : bool, default False
        Show a tqdm bar over problems (hidden when stderr is not a terminal).

    Returns
    -------
    PassAtKResult

    Examples
    --------
    >>> r = simulate_pass_at_k("beta(alpha=0.3, beta=3)", [1, 100, 10_000], 100_000, seed=1)
    >>> r.pass_at_k.shape
    (1, 3)
    """
    run = PassAtKStream(dist, k, problems, replicates=replicates, seed=seed,
                        per_problem=per_problem, progress=progress)
    if not per_problem:
        for _ in run.blocks():
            pass
        return run.result()
    check_memory(run.problems, run.replicates, per_problem=True)
    p = np.empty(run.n_rows)
    t = np.empty(run.n_rows)
    for block in run.blocks(reuse_buffers=True):
        p[block.first_row:block.first_row + block.p.size] = block.p
        t[block.first_row:block.first_row + block.p.size] = block.first_success
    shape = (run.replicates, run.problems)
    return dataclasses.replace(run.result(), p=p.reshape(shape), first_success=t.reshape(shape))


def stream_pass_at_k(dist: Distribution | str, k, problems: int, *, replicates: int = 1,
                     seed=None, progress: bool = False) -> "PassAtKStream":
    """:func:`simulate_pass_at_k` with per-problem results handed over block by block, so
    memory stays flat however many problems there are.

    Iterate :meth:`PassAtKStream.blocks` (or pass :meth:`PassAtKStream.columns` to a table
    writer), then read :meth:`PassAtKStream.result`: the same numbers, bit for bit, as
    ``simulate_pass_at_k(..., per_problem=True)``.

    Examples
    --------
    >>> run = stream_pass_at_k("beta(alpha=0.3, beta=3)", [1, 100], 200_000, seed=1)
    >>> rows = sum(block["p"].size for block in run.columns())
    >>> rows, run.result().pass_at_k.shape
    (200000, (1, 2))
    """
    return PassAtKStream(dist, k, problems, replicates=replicates, seed=seed,
                         per_problem=True, progress=progress)


class Block(NamedTuple):
    """One kernel call's share of a :class:`PassAtKStream`: rows ``first_row ..`` of the
    per-problem table; chunk i of the block is replicate ``replicate[i]``'s problems
    ``first_problem[i] ..`` (``sizes[i]`` of them) at ``offsets[i]`` in ``p`` and
    ``first_success``."""

    first_row: int
    replicate: np.ndarray
    first_problem: np.ndarray
    sizes: np.ndarray
    offsets: np.ndarray
    p: np.ndarray
    first_success: np.ndarray


class PassAtKStream:
    """One simulation, run block by block (see :func:`stream_pass_at_k`).

    Attributes
    ----------
    distribution : Distribution
    k : numpy.ndarray
    problems, replicates, n_rows : int
        ``n_rows`` = problems x replicates, the rows of the per-problem table.
    seed_entropy : int
        Entropy of the root ``SeedSequence``, known before the first block.
    """

    def __init__(self, dist, k, problems, *, replicates=1, seed=None, per_problem=True,
                 progress=False):
        self.distribution = parse_distribution(dist)
        self.k = as_k_grid(k)
        self.problems = as_count("problems", problems)
        self.replicates = as_count("replicates", replicates)
        self.n_rows = self.problems * self.replicates
        self._seq = seed_sequence(seed)
        self.seed_entropy = self._seq.entropy
        self._keep, self._progress = per_problem, progress
        check_memory(self.problems, self.replicates, per_problem=False)
        self._passed = None

    def blocks(self, reuse_buffers: bool = False):
        """Yield one :class:`Block` per kernel call, in row order (its ``p`` and
        ``first_success`` are empty without per-problem results).

        A kernel call covers 4 chunks per numba thread, so per-problem memory is that batch
        (16 bytes per row), whatever the number of problems. With ``reuse_buffers`` every
        block's ``p`` and ``first_success`` are views of one pair of arrays, overwritten by the
        next block: for a reader that copies or writes each block before drawing the next, and
        saves allocating (and faulting in) fresh memory per block.
        """
        sizes = chunk_sizes(self.problems, CHUNK_SIZE)
        n_chunks = sizes.size
        states = replicate_chunk_states(self._seq, self.replicates, n_chunks)
        all_sizes = np.tile(sizes, self.replicates)
        first_problem = np.tile(np.arange(n_chunks, dtype=np.int64) * CHUNK_SIZE,
                                self.replicates)
        difficulty = kernel_table(self.distribution)
        k_float = self.k.astype(np.float64)
        grid = KGrid(k_float, bin_table(k_float))
        # Counts are summed per replicate as each call returns: memory does not grow with
        # chunks x k, nor, block by block, with problems.
        per_rep = np.zeros((self.replicates, self.k.size + 1), dtype=np.int64)
        row = 0
        kernel, step = first_success_kernel(self.n_rows)
        with progress_bar(progress=self._progress, total=self.n_rows, unit="problem",
                          unit_scale=True, desc="pass@k") as bar:
            if reuse_buffers and self._keep:
                most = min(step * CHUNK_SIZE, self.n_rows)
                p_buffer, t_buffer = np.empty(most), np.empty(most)
            for lo in range(0, states.shape[0], step):
                hi = min(lo + step, states.shape[0])
                block_sizes = all_sizes[lo:hi]
                rows = int(block_sizes.sum()) if self._keep else 0
                # Empty per-problem arrays tell the kernel not to keep. Slices of a buffer
                # are C-contiguous too, so the kernel is the one compiled for fresh arrays.
                if reuse_buffers and self._keep:
                    p, t = p_buffer[:rows], t_buffer[:rows]
                else:
                    p, t = np.empty(rows), np.empty(rows)
                offsets = (np.concatenate([[0], np.cumsum(block_sizes)[:-1]]) if self._keep
                           else np.zeros(hi - lo, dtype=np.int64))
                counts = kernel(Chunks(states[lo:hi], block_sizes, offsets), difficulty, grid,
                                PerProblem(p, t))
                replicate = np.arange(lo, hi) // n_chunks
                np.add.at(per_rep, replicate, counts)
                yield Block(row, replicate, first_problem[lo:hi], block_sizes, offsets, p, t)
                row += rows
                bar.update(int(block_sizes.sum()))
        self._passed = np.cumsum(per_rep[:, :-1], axis=1)

    def columns(self, reuse_buffers: bool = False):
        """The per-problem table block by block, as :meth:`PassAtKResult.per_problem_table`
        has it whole: dicts of ``replicate``, ``problem``, ``p``, ``first_success``.

        With ``reuse_buffers`` (see :meth:`blocks`) each dict's arrays are overwritten by the
        next one: memory is one block's, for a reader that is done with a block before it
        asks for the next (as :func:`~simsearch.io.tables.table_stream` is).
        """
        within_chunk = np.arange(CHUNK_SIZE, dtype=np.int64)
        replicate = problem = np.empty(0, dtype=np.int64)
        for block in self.blocks(reuse_buffers):
            rows = block.p.size
            if not reuse_buffers or replicate.size < rows:
                replicate, problem = np.empty(rows, np.int64), np.empty(rows, np.int64)
            # Filled chunk by chunk in place: no np.repeat and arange temporaries per block.
            for r, first, size, start in zip(block.replicate, block.first_problem,
                                             block.sizes, block.offsets):
                replicate[start:start + size] = r
                np.add(within_chunk[:size], first, out=problem[start:start + size])
            yield {"replicate": replicate[:rows], "problem": problem[:rows],
                   "p": block.p, "first_success": block.first_success}

    def result(self) -> PassAtKResult:
        """The aggregate pass@k (without per-problem arrays), once every block has been read."""
        require(self._passed is not None, "result: read every block of the stream first")
        k_float = self.k.astype(np.float64)
        return PassAtKResult(
            distribution=self.distribution, k=self.k, problems=self.problems,
            replicates=self.replicates, fail_counts=self.problems - self._passed,
            expected_failure=self.distribution.expected_failure(k_float),
            seed_entropy=self.seed_entropy)


@dataclass(frozen=True)
class SimulatedCounts:
    """Per-problem success counts, as a real evaluation would report them.

    Attributes
    ----------
    distribution : Distribution
    p : numpy.ndarray
        float64[P], each problem's true success probability.
    successes, attempts : numpy.ndarray
        int64[P]: c_i ~ Binomial(n_i, p_i).
    seed_entropy : int
    """

    distribution: Distribution
    p: np.ndarray
    successes: np.ndarray
    attempts: np.ndarray
    seed_entropy: int


def simulate_counts(dist: Distribution | str, problems: int, attempts, *,
                    seed=None) -> SimulatedCounts:
    """Draw p_i ~ ``dist`` and c_i ~ Binomial(n_i, p_i) for ``problems`` problems.

    Parameters
    ----------
    dist : Distribution or str
    problems : int
    attempts : int or array_like of int
        n_i, one number for all problems or one per problem (each >= 1).
    seed : int, numpy.random.SeedSequence or None

    Returns
    -------
    SimulatedCounts
    """
    from ..kernels.first_success import success_counts  # here: importing it loads numba

    dist = parse_distribution(dist)
    problems = as_count("problems", problems)
    if np.ndim(attempts) == 0:
        n = np.full(problems, as_count("attempts", attempts))
    else:
        n = as_count_array("attempts", attempts, low=1)
        require(n.size == problems, f"attempts: give one number or {problems} (one per "
                                    f"problem), got {n.size}")
    seq = seed_sequence(seed)
    sizes = chunk_sizes(problems, CHUNK_SIZE)
    states = replicate_chunk_states(seq, 1, sizes.size)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    p_out = np.empty(problems)
    c_out = np.empty(problems, dtype=np.int64)
    success_counts(Chunks(states, sizes, offsets), kernel_table(dist), n, PerProblem(p_out, c_out))
    return SimulatedCounts(distribution=dist, p=p_out, successes=c_out, attempts=n,
                           seed_entropy=seq.entropy)
