"""Most-popular baseline: every user gets the items with the most interactions (optionally weighted)."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from uig_core.models._params import Boolean
from uig_core.models.base import Recommender
from uig_core.progress import Progress

__all__ = ["Popularity"]

log = logging.getLogger(__name__)


class Popularity(Recommender):
    """Rank items by how many users interacted with them.

    Args:
        use_weights: Sum the interaction weights (e.g. recency-decayed) instead of counting users.

    Attributes:
        item_popularity_: ``(n_items,)`` float32 popularity used as the score of every user.
    """

    name = "popularity"
    _constraints = {"use_weights": Boolean()}

    def __init__(self, *, use_weights: bool = False) -> None:
        self.use_weights = use_weights

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        vals = x if self.use_weights else (x > 0).astype(np.float32)
        self.item_popularity_ = np.asarray(vals.sum(axis=0), dtype=np.float32).ravel()

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_popularity_, (len(users), len(self.item_popularity_)))

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_popularity_[items], (len(users), len(items)))

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_popularity": self.item_popularity_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_popularity_ = state["item_popularity"]
