"""Seeds and chunking: how work is cut into independently seeded pieces.

Every random result in simsearch is a function of (seed, config) alone. The seed becomes a
``numpy.random.SeedSequence``; each replicate gets a child, and each fixed-size chunk of a
replicate's problems a grandchild with its own stream. Chunks are cut by size, never by the
number of threads or workers, so any degree of parallelism gives bit-identical results.

Children are always made by :func:`child`, from the parent's entropy and a spawn key: never by
``SeedSequence.spawn``, which advances the parent, so that a ``SeedSequence`` passed twice
gives the same result twice. ``child(seq, i)`` equals the i-th child a fresh ``seq.spawn``
would give, so results are those of spawning.
"""

from __future__ import annotations

import numpy as np

from .errors import SimsearchError

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


def child(seq: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The child of ``seq`` at spawn key ``key`` (one int per generation), ``seq`` untouched.

    ``child(seq, i)`` is ``seq.spawn(n)[i]`` of a fresh ``seq``; ``child(seq, i, j)`` is child j
    of that child.
    """
    return np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key + tuple(int(k) for k in key),
                                  pool_size=seq.pool_size)


def stream_states(seq: np.random.SeedSequence, n_streams: int) -> np.ndarray:
    """xoshiro256** states (:mod:`simsearch.kernels.rng`) of ``child(seq, 0)`` ...
    ``child(seq, n_streams - 1)``: ``uint64`` array of shape ``(n_streams, 4)``, one per row."""
    states = np.empty((n_streams, 4), dtype=np.uint64)
    for i in range(n_streams):
        states[i] = child(seq, i).generate_state(4, dtype=np.uint64)
        if not states[i].any():  # the all-zero state is xoshiro's one fixed point
            states[i, 0] = 1
    return states


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

    Replicate r's chunk c uses row ``r * n_chunks + c``, seeded from ``child(seq, r, c)``.
    """
    return np.concatenate([stream_states(child(seq, r), n_chunks) for r in range(replicates)])
