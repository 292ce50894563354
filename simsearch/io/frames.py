"""pandas DataFrames from tidy tables, for every result object's ``to_pandas()``.

A result builds its table once, as columns (name -> equal-length sequence), and both its CSV and
its DataFrame come from them, so the two always have the same columns. pandas is optional: it
is imported only here, when a DataFrame is asked for.
"""

from __future__ import annotations

from typing import Mapping, Sequence

PANDAS_HINT = "pip install pandas"


def require_pandas():
    """The ``pandas`` module, or an ImportError saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"to_pandas() needs pandas, which is not installed: "
                          f"{PANDAS_HINT}") from None
    return pandas


def to_pandas(columns: Mapping[str, Sequence]):
    """A DataFrame with one column per entry of ``columns``, in order.

    Parameters
    ----------
    columns : mapping of str to sequence
        Equal-length columns, as written to the tidy CSV (e.g. ``PassAtKResult.table()``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ImportError
        pandas is not installed (the message says ``pip install pandas``).
    ValueError
        The columns differ in length.
    """
    pandas = require_pandas()
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    return pandas.DataFrame(dict(columns))
