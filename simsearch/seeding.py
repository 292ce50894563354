"""Seeds and chunking: how work is cut into independently seeded pieces.

Every random result in simsearch is a function of (seed, config) alone. The seed becomes a
``numpy.random.SeedSequence``; each replicate gets a spawned child, and each fixed-size chunk of a
replicate's problems a grandchild with its own stream. Chunks are cut by size, never by the
number of threads or workers, so any degree of parallelism gives bit-identical results.
"""

from __future__ import annotations

import numpy as np

from .errors import SimsearchError
from .kernels.rng import spawn_states

#: Problems per independently seeded chunk. Part of the definition of the random streams:
#: changing it changes every result (recorded in manifests).
CHUNK_SIZE = 1 << 16


def seed_sequence(seed) -> np.random.SeedSequence:
    """A ``SeedSequence`` from an int >= 0, ``None`` (fresh OS entropy) or a ``SeedSequence``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SimsearchError(f"seed: must be an integer >= 0 (got {seed!r})")
    return np.random.SeedSequence(int(seed))


def chunk_sizes(n: int, chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """Sizes of the consecutive chunks that cover ``n`` items: full chunks, then the remainder."""
    full, rest = divmod(n, chunk_size)
    sizes = np.full(full + (rest > 0), chunk_size, dtype=np.int64)
    if rest:
        sizes[-1] = rest
    return sizes


def replicate_chunk_states(seq: np.random.SeedSequence, replicates: int,
                           n_chunks: int) -> np.ndarray:
    """Stream states for every (replicate, chunk), shape ``(replicates * n_chunks, 4)``.

    Replicate r's chunk c uses row ``r * n_chunks + c``, seeded from
    ``seq.spawn(replicates)[r].spawn(n_chunks)[c]``.
    """
    children = seq.spawn(replicates)
    return np.concatenate([spawn_states(child, n_chunks) for child in children])
