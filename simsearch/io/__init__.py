"""Files in and out: atomic outputs with manifests, table formats, frames.

* :mod:`.output`: every file simsearch writes goes through here, written to a temporary name
  and renamed, with a ``manifest.json`` (command, seed, version, SHA-256 of each table).
* :mod:`.tables`: tables by file suffix (tidy CSV, ``.npy``, ``.npz``, Parquet), each writer
  beside its reader, whole or streamed block by block.
* :mod:`.directory`: directories of results, checked before any work and replaced as one
  unit (staged beside, then exchanged atomically).
* :mod:`.frames`: results as pandas DataFrames (pandas imported only when asked for).

This package imports nothing heavy at start-up: each module is imported where it is used.
"""
