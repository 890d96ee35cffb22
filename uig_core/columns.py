"""Fast lookups on long event columns: factorize once, look up the few distinct values, broadcast back.

An event column has hundreds of thousands of rows but few distinct values (event types) or a few thousand
(user and item ids). ``Index.get_indexer`` and ``Series.map`` on an Arrow-backed string column first turn every
row into a Python string while holding the GIL; factorizing in Arrow and looking up only the distinct values is
several times faster and leaves the GIL free for a build's other threads (figures: docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["positions", "map_values"]

log = logging.getLogger(__name__)


def positions(index: pd.Index, values: pd.Series | np.ndarray) -> np.ndarray:
    """``(len(values),)`` int64 position of each value in ``index``; ``-1`` where absent or missing.

    Same result as ``index.get_indexer(values)`` for an index of unique strings.
    """
    codes, uniques = pd.factorize(pd.Series(values) if not isinstance(values, pd.Series) else values)
    if len(uniques) == 0:
        return np.full(len(codes), -1, dtype=np.int64)
    lut = index.get_indexer(uniques)
    return np.where(codes >= 0, lut[codes], -1).astype(np.int64, copy=False)


def map_values(
    values: pd.Series, mapping: Mapping[Any, Any], default: Any = np.nan, *, dtype: Any = np.float64
) -> np.ndarray:
    """``(len(values),)`` array of ``mapping[value]`` per row; ``default`` for missing or unmapped values.

    The result has ``dtype`` (float64 unless asked otherwise). Unlike ``Series.map`` on Arrow strings, the type is
    never re-inferred (``map`` fails when every mapped value is ``""``).
    """
    codes, uniques = pd.factorize(values)
    lut = np.array([mapping.get(u, default) for u in uniques] + [default], dtype=dtype)
    return lut[codes]  # code -1 (missing) picks the trailing default
