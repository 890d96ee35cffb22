"""Item-based k-nearest-neighbours with cosine similarity (the classic neighbourhood baseline)."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from uig_core.models._params import Boolean, Interval
from uig_core.models.base import Recommender
from uig_core.progress import Progress

__all__ = ["ItemKNN"]

log = logging.getLogger(__name__)

_BLOCK = 1024  # item columns per block: bounds memory to n_items × BLOCK floats


class ItemKNN(Recommender):
    """Score = sum of the cosine similarities between a candidate and the user's items.

    Args:
        neighbors: Keep this many most similar items per item (None: keep all).
        shrink: Shrinkage added to the cosine denominator (damps similarities built on few co-occurrences).
        use_weights: Use the interaction weights instead of 0/1.

    Attributes:
        similarity_: ``(n_items, n_items)`` CSR; row ``i`` holds the neighbours of item ``i``.
    """

    name = "itemknn"
    _constraints = {
        "neighbors": Interval(int, 1, None, allow_none=True),
        "shrink": Interval(float, 0, None),
        "use_weights": Boolean(),
    }

    def __init__(self, *, neighbors: int | None = 200, shrink: float = 10.0, use_weights: bool = False) -> None:
        self.neighbors = neighbors
        self.shrink = shrink
        self.use_weights = use_weights

    def _matrix(self, x: sp.csr_matrix) -> sp.csr_matrix:
        return x if self.use_weights else (x > 0).astype(np.float32)

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        r = self._matrix(x).tocsc()
        n = r.shape[1]
        norms = np.sqrt(np.asarray(r.multiply(r).sum(axis=0)).ravel()).astype(np.float32)
        rt = r.T.tocsr()
        keep = n - 1 if self.neighbors is None else min(self.neighbors, n - 1)
        rows, cols, vals = [], [], []
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            co = np.asarray((rt[start:stop] @ r).todense(), dtype=np.float32)  # (block, n)
            co /= norms[start:stop, None] * norms[None, :] + self.shrink + 1e-12
            co[np.arange(stop - start), np.arange(start, stop)] = 0.0
            if keep < n and keep > 0:
                top = np.argpartition(-co, keep - 1, axis=1)[:, :keep]
            else:
                top = np.tile(np.arange(n), (stop - start, 1))
            v = np.take_along_axis(co, top, axis=1)
            ok = v > 0
            rows.append(np.repeat(np.arange(start, stop), ok.sum(axis=1)))
            cols.append(top[ok])
            vals.append(v[ok])
            progress(stop / n * 0.95, f"item similarities {stop}/{n}")
        self.similarity_ = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n), dtype=np.float32
        )

    def _score(self, users: np.ndarray) -> np.ndarray:
        xu = self._matrix(self.interactions_[users])
        return np.asarray((xu @ self.similarity_.T).todense(), dtype=np.float32)

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        xu = self._matrix(self.interactions_[users])
        return np.asarray((xu @ self.similarity_[items].T).todense(), dtype=np.float32)

    def _item_similarity(self, item: int) -> np.ndarray:
        return np.asarray(self.similarity_[item].todense(), dtype=np.float32).ravel()

    def _state(self) -> dict[str, np.ndarray]:
        s = self.similarity_
        return {"sim.indptr": s.indptr, "sim.indices": s.indices, "sim.data": s.data}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        n = self.n_items_
        self.similarity_ = sp.csr_matrix((state["sim.data"], state["sim.indices"], state["sim.indptr"]), shape=(n, n))
