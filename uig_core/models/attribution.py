"""Splitting a recommendation's score over the user's history: the model's own reasons.

For a model whose score is a sum over the user's history items (EASE, ItemKNN, RP3beta, the graph filters:
``score(x) = Σ_j score(x_j e_j)``), scoring one pseudo-user per history item — that item alone, with its weight —
gives each item's exact part of every score. :func:`additive_parts` does that; the parts add up to the score, so
removing the top part's item from the history lowers the score by exactly that part (``bench/explain.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["additive_parts", "single_item_rows", "MAX_HISTORY"]

#: Most history items split over (the heaviest users' oldest, weakest edges are left out beyond it).
MAX_HISTORY = 500


def single_item_rows(row: sp.csr_matrix, n_items: int, limit: int = MAX_HISTORY) -> tuple[np.ndarray, sp.csr_matrix]:
    """The history columns of one user's row and one pseudo-user row per history item (its weight alone).

    Beyond ``limit`` items only the ``limit`` heaviest are kept.
    """
    cols, vals = np.asarray(row.indices, dtype=np.int64), np.asarray(row.data, dtype=np.float32)
    if len(cols) > limit:
        keep = np.sort(np.argsort(-vals, kind="stable")[:limit])
        cols, vals = cols[keep], vals[keep]
    pseudo = sp.csr_matrix((vals, cols, np.arange(len(cols) + 1)), shape=(len(cols), n_items))
    return cols, pseudo


def additive_parts(model: Any, user: int, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(history, parts)`` of ``Recommender.contributions`` for an additive model.

    ``model`` is any fitted :class:`~uig_core.models.base.Recommender` (untyped: this module sits below it).
    """
    history, pseudo = single_item_rows(model.interactions_[user], model.n_items_)
    if not len(history):
        return history, np.zeros((len(items), 0), dtype=np.float32)
    scores = model.score_history(pseudo, items)
    assert scores is not None, f"{type(model).__name__} is additive but cannot score a history"
    return history, np.asarray(scores, dtype=np.float32).T
