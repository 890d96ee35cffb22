"""Item-based k-nearest-neighbours (the classic neighbourhood baseline), sparse so it scales with the catalogue.

Similarities come from a sparse ``XᵀX`` pruned to the top ``neighbors`` per item in bounded blocks
(:func:`~uig_core.models._sparse_knn.topk_product`): memory is ``O(n_items × neighbors)`` plus one block, time is
``Σ_u deg(u)²``. Measured with ``bench/large_models.py`` on 2 cores: 20k items 0.8 CPU-s, 93k items 5.9 CPU-s /
0.6 GB peak RSS, 434k items (the L shop, 13.6 M pairs) 37 CPU-s / 1.5 GB. The dense blocks it replaces
densified all ``n_items²`` scores.

Two weightings:

* ``"cosine"``: ``sim(i, j) = x_i·x_j / (‖x_i‖‖x_j‖ + shrink)``.
* ``"bm25"``: dot products of BM25-weighted item columns (as ``implicit``'s ``BM25Recommender``): heavy users
  count less (IDF), and long item columns are length-normalised.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from uig_core.models._params import Boolean, Interval, Options
from uig_core.models._sparse_knn import topk_product
from uig_core.models.base import Recommender
from uig_core.progress import Progress

__all__ = ["ItemKNN", "bm25_weight"]

log = logging.getLogger(__name__)


def bm25_weight(x: sp.csr_matrix, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """BM25-weight a users × items matrix, items as documents and users as terms.

    ``w_ui = x_ui (k1 + 1) / (k1 · norm_i + x_ui) · idf_u`` with ``idf_u = log(n_items) - log1p(deg(u))`` and
    ``norm_i = (1 - b) + b · len_i / mean(len)``.
    """
    x = x.tocsr().astype(np.float32)
    n_items = x.shape[1]
    deg = np.diff(x.indptr)
    idf = (np.log(n_items) - np.log1p(deg)).astype(np.float32)
    lengths = np.asarray(x.sum(axis=0)).ravel()
    norm = (1.0 - b) + b * lengths / max(float(lengths.mean()), 1e-12)
    rows = np.repeat(np.arange(x.shape[0]), deg)
    out = x.copy()
    out.data = (x.data * (k1 + 1.0) / (k1 * norm[x.indices] + x.data) * idf[rows]).astype(np.float32)
    out.data = np.maximum(out.data, 0.0)  # a user who saw nearly everything has idf ≤ 0: no evidence
    out.eliminate_zeros()
    return out


class ItemKNN(Recommender):
    """Score = sum of the similarities between a candidate and the user's items.

    Args:
        neighbors: Keep this many most similar items per item (None: keep every co-occurring item).
        shrink: Shrinkage added to the cosine denominator (damps similarities built on few co-occurrences).
        use_weights: Use the interaction weights instead of 0/1.
        weighting: ``"cosine"`` or ``"bm25"`` (see the module docstring).
        bm25_k1: BM25 saturation (``weighting="bm25"``).
        bm25_b: BM25 length normalisation (``weighting="bm25"``).

    Attributes:
        similarity_: ``(n_items, n_items)`` CSR; row ``i`` holds the neighbours of item ``i``.
    """

    name = "itemknn"
    additive = True
    _constraints = {
        "neighbors": Interval(int, 1, None, allow_none=True),
        "shrink": Interval(float, 0, None),
        "use_weights": Boolean(),
        "weighting": Options(("cosine", "bm25")),
        "bm25_k1": Interval(float, 0, None, closed="neither"),
        "bm25_b": Interval(float, 0, 1),
    }

    def __init__(
        self,
        *,
        neighbors: int | None = 200,
        shrink: float = 10.0,
        use_weights: bool = False,
        weighting: str = "cosine",
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
    ) -> None:
        self.neighbors = neighbors
        self.shrink = shrink
        self.use_weights = use_weights
        self.weighting = weighting
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b

    def _matrix(self, x: sp.csr_matrix) -> sp.csr_matrix:
        return x if self.use_weights else (x > 0).astype(np.float32)

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        r = self._matrix(x)
        n = r.shape[1]
        keep = n if self.neighbors is None else min(self.neighbors, n)
        if self.weighting == "bm25":
            r = bm25_weight(r, self.bm25_k1, self.bm25_b)
            transform = None
        else:
            norms = np.sqrt(np.asarray(r.multiply(r).sum(axis=0)).ravel()).astype(np.float32)
            shrink = np.float32(self.shrink + 1e-12)

            def transform(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
                return vals / (norms[rows] * norms[cols] + shrink)

        self.similarity_ = topk_product(r.T.tocsr(), r, keep, transform, progress=lambda f, m: progress(0.95 * f, m))

    def _score(self, users: np.ndarray) -> np.ndarray:
        xu = self._matrix(self.interactions_[users])
        # (S xuᵀ)ᵀ, not xu Sᵀ: scipy would convert the whole n_items × neighbors Sᵀ to CSR on every call
        return np.asarray((self.similarity_ @ xu.T.tocsc()).T.toarray(), dtype=np.float32)

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        xu = self._matrix(self._user_rows(self.interactions_, users))
        return np.asarray((xu @ self.similarity_[items].T).todense(), dtype=np.float32)

    def score_history(self, history: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """Scores of ``items`` for arbitrary history rows (additive over the history)."""
        self._check_fitted("score_history")
        xu = self._matrix(sp.csr_matrix(history))
        return np.asarray((xu @ self.similarity_[items].T).todense(), dtype=np.float32)

    def item_column(self, item: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Row ``item`` of the similarity (the score is ``xu @ S[items].T``); None with weighted input."""
        self._check_fitted("item_column")
        if self.use_weights:
            return None
        row = self.similarity_[int(item)]
        return row.indices.astype(np.int64), row.data.astype(np.float64)

    def _item_similarity(self, item: int) -> np.ndarray:
        return np.asarray(self.similarity_[item].todense(), dtype=np.float32).ravel()

    def _state(self) -> dict[str, np.ndarray]:
        s = self.similarity_
        return {"sim.indptr": s.indptr, "sim.indices": s.indices, "sim.data": s.data}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        n = self.n_items_
        self.similarity_ = sp.csr_matrix((state["sim.data"], state["sim.indices"], state["sim.indptr"]), shape=(n, n))
