"""Users left out of model training: those the anomaly score flags (:attr:`BuildConfig.exclude_anomalous`).

They stay in the workspace, the graph and every page; only the models do not learn from their pairs. The build
and ``uig evaluate`` use the same two functions, so an evaluation measures what the build trains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    from uig_core.config import BuildConfig

__all__ = ["excluded_users", "without_rows"]


def excluded_users(users: pd.DataFrame, config: BuildConfig) -> np.ndarray:
    """Rows of the users left out of model training (:attr:`BuildConfig.exclude_anomalous`), ascending."""
    if not config.exclude_anomalous or "anomaly_score" not in users:
        return np.zeros(0, dtype=np.int64)
    from uig_core.signals.risk import ANOMALY_THRESHOLD

    threshold = ANOMALY_THRESHOLD if config.anomaly_threshold is None else float(config.anomaly_threshold)
    score = pd.to_numeric(users["anomaly_score"], errors="coerce").fillna(0.0).to_numpy()
    return np.flatnonzero(score >= threshold).astype(np.int64)


def without_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with the given rows emptied (same shape: the users keep their rows, with no pairs)."""
    if not len(rows):
        return matrix
    keep = np.ones(matrix.shape[0], dtype=np.float32)
    keep[rows] = 0.0
    out = (sp.diags(keep) @ matrix).tocsr().astype(matrix.dtype)
    out.eliminate_zeros()
    return out
