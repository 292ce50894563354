"""Repeated sampling: pass@k of a population of problems, simulated one draw per problem.

:mod:`.passk` draws each problem's p and its first-success attempt in one geometric draw (the
numba kernels in :mod:`simsearch.kernels.first_success`), so the cost grows with problems, not
attempts; ``stream_pass_at_k`` hands per-problem results over block by block (flat memory);
``simulate_counts`` gives per-problem success counts for a sampling design.
:mod:`.grid` checks a run before it runs (the k grid, the memory) without loading numba.

The names below are imported on first use, so that importing :mod:`.grid` (a sweep's own
process checking its points) does not load the kernels.
"""

from ..runtime import lazy_names

#: Public name -> the submodule that defines it.
_EXPORTS = {**dict.fromkeys(("PassAtKResult", "PassAtKStream", "SimulatedCounts",
                             "simulate_counts", "simulate_pass_at_k", "stream_pass_at_k"),
                            ".passk"),
            "parse_k_grid": ".grid"}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_names(globals(), _EXPORTS)


def __dir__():
    return __all__
