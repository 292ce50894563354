"""Repeated sampling: pass@k of a population of problems, simulated one draw per problem.

:mod:`.passk` draws each problem's p and its first-success attempt in one geometric draw (the
numba kernels in :mod:`simsearch.kernels.first_success`), so the cost grows with problems, not
attempts; ``stream_pass_at_k`` hands per-problem results over block by block (flat memory);
``simulate_counts`` gives per-problem success counts for a sampling design.
"""

from .passk import (PassAtKResult, PassAtKStream, SimulatedCounts, parse_k_grid,
                    simulate_counts, simulate_pass_at_k, stream_pass_at_k)

__all__ = ["PassAtKResult", "PassAtKStream", "SimulatedCounts", "parse_k_grid",
           "simulate_counts", "simulate_pass_at_k", "stream_pass_at_k"]
