"""EASE: the closed-form shallow autoencoder (Steck, WWW 2019), the strongest honest linear baseline.

``B = I - P · diagMat(1 / diag(P))`` with ``P = (XᵀX + λI)⁻¹``, computed in float32. The L2 strength λ is chosen
on a validation split carved from the training matrix (a grid that includes 500) unless given.

Cost: one dense ``n_items³`` Cholesky inversion per λ tried plus one for the final fit, ``4·n_items²`` bytes per
copy. The λ search is therefore bounded: the full hill-climb (≤ 6 inversions) only up to :data:`FULL_SEARCH_ITEMS`
items, then fewer grid points as ``(FULL_SEARCH_ITEMS / n)³`` shrinks (two at 4k items, one from ~4.3k), and the
catalogue limit is :data:`MAX_ITEMS`. Measured whole fits of ``ease_recency`` on the S shop cut to its most popular
items (~94k users, ~0.5 M pairs; 2 shared cores, faster of one or two runs, wall / CPU-s): 2k items 2.6 / 3.2 s, 3k
4.1 / 5.4 s, 4k 4.8 / 6.6 s, 5k 4.2 / 6.3 s, 6k 8.3 / 11.5 s (a single inversion: ~1 s at 3k, ~2 s at 4k, ~4.5 s at
6k). Before the bound, 5k items took 27.5 s (4 inversions, under load); 20k took 508 s. So the limit is 5,000 items;
larger catalogues go to the sparse models (``default_model_for`` in ``uig_core.models``).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.models._params import Boolean, FloatList, Interval
from uig_core.models._validation import recall_at_k, user_holdout
from uig_core.models.base import Recommender
from uig_core.progress import Progress

__all__ = ["EASE", "RecencyEASE", "ease_weights"]

log = logging.getLogger(__name__)

DEFAULT_GRID = (50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0)
#: Up to this many items the λ search may try every grid value (each inversion ≲ 1 s).
FULL_SEARCH_ITEMS = 3_000
#: Default catalogue limit: a fit (a bounded search + the final inversion) stays under ~10 s on 2 cores.
MAX_ITEMS = 5_000


def search_evaluations(n_items: int, grid_size: int) -> int:
    """How many λ values the search may invert for: all up to ``FULL_SEARCH_ITEMS``, then ∝ ``n⁻³`` (≥ 1)."""
    if n_items <= FULL_SEARCH_ITEMS:
        return grid_size
    return max(1, min(grid_size, int(grid_size * (FULL_SEARCH_ITEMS / n_items) ** 3)))


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """Item-item weights ``B`` (zero diagonal) from a Gram matrix ``XᵀX`` (float32, not modified)."""
    from scipy.linalg import lapack

    g = np.array(gram, dtype=np.float32, copy=True, order="F")
    g[np.diag_indices_from(g)] += np.float32(l2)
    # Cholesky inverse: faster than a general inverse and exact for this symmetric positive definite matrix.
    chol, info = lapack.spotrf(g, lower=1, overwrite_a=1)
    if info == 0:
        p, info = lapack.spotri(chol, lower=1, overwrite_c=1)
    if info != 0:  # numerically not positive definite in float32: fall back to a general inverse
        g = np.array(gram, dtype=np.float32, copy=True)
        g[np.diag_indices_from(g)] += np.float32(l2)
        p = np.linalg.inv(g)
        b = p / (-np.diag(p))[None, :]
        np.fill_diagonal(b, 0.0)
        return b.astype(np.float32, copy=False)
    # spotri filled the lower triangle of a Fortran-ordered array: mirror it in blocks of 256 columns (each
    # block's transpose stays in cache, so this beats a column-by-column copy and, by far,
    # np.tril(p) + np.tril(p, -1).T, which builds masks and two full copies).
    n = p.shape[0]
    for j0 in range(0, n, 256):
        j1 = min(j0 + 256, n)
        block = p[j0:j1, j0:j1]
        block[...] = np.tril(block) + np.tril(block, -1).T
        p[j0:j1, j1:] = p[j1:, j0:j1].T
    p = p.T  # P is symmetric: its transpose is the same matrix, C-contiguous (what sparse @ dense wants)
    p /= (-np.diag(p).copy())[None, :]
    np.fill_diagonal(p, 0.0)
    return p


def _gram(m: sp.csr_matrix) -> np.ndarray:
    """Dense float32 ``mᵀm``; ``mᵀ`` is made CSR first (CSC @ CSR is slower in scipy)."""
    return (m.T.tocsr() @ m).toarray().astype(np.float32, copy=False)


class EASE(Recommender):
    """Embarrassingly shallow autoencoder over items.

    Args:
        l2: L2 strength λ; None picks it from ``l2_grid`` on a validation split carved from the training data
            (strong generalisation: 20% of the users held out, 20% of their items hidden; hill-climbing from 500).
        l2_grid: Candidate λ values.
        use_weights: Build the Gram matrix from the interaction weights instead of 0/1.
        max_items: Refuse catalogues larger than this (B is a dense ``n_items²`` matrix inverted in ``n_items³``;
            see the module docstring for the measured times).
        random_state: Seed of the validation split.

    Attributes:
        l2_: The λ used.
        validation_: ``{λ: Recall@20}`` on the validation split (empty when ``l2`` was given).
        weights_: ``(n_items, n_items)`` float32 item-item weights.
    """

    name = "ease"
    additive = True
    _constraints = {
        "l2": Interval(float, 0, None, closed="neither", allow_none=True),
        "l2_grid": FloatList(),
        "use_weights": Boolean(),
        "max_items": Interval(int, 1, None),
        "random_state": Interval(int, 0, None),
    }

    def __init__(
        self,
        *,
        l2: float | None = None,
        l2_grid: tuple[float, ...] = DEFAULT_GRID,
        use_weights: bool = False,
        max_items: int = MAX_ITEMS,
        random_state: int = 0,
    ) -> None:
        self.l2 = l2
        self.l2_grid = l2_grid
        self.use_weights = use_weights
        self.max_items = max_items
        self.random_state = random_state

    def _matrix(self, x: sp.csr_matrix) -> sp.csr_matrix:
        if not self.use_weights:
            return (x > 0).astype(np.float32)
        # Scale weights to unit root-mean-square so that λ means the same as for 0/1 data.
        if getattr(self, "_weight_scale", None) is None:
            self._weight_scale = float(np.sqrt(np.mean(np.square(x.data, dtype=np.float64)))) or 1.0
        out = x.copy()
        out.data = (out.data / self._weight_scale).astype(np.float32)
        return out

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        n_items = x.shape[1]
        if n_items > self.max_items:
            gb = 4 * n_items**2 * 3 / 1e9
            raise ConfigError(
                f"EASE refuses {n_items:,} items (max_items={self.max_items:,}): it inverts a dense "
                f"{n_items:,} x {n_items:,} matrix (~{gb:.1f} GB of memory, n³ time). "
                "Use 'itemknn' or 'ials' (sparse, scale with the catalogue) instead, or raise max_items."
            )
        self._weight_scale = None
        m = self._matrix(x)
        self.validation_ = {}
        l2 = self.l2
        if l2 is None:
            # Strong generalisation (the EASE paper's protocol): B is learned without the validation users,
            # whose visible items are folded in to predict their hidden ones.
            fit_users, fold_in, valid = user_holdout(m, seed=self.random_state)
            part = m[fit_users]
            gram = _gram(part)
            grid = sorted(float(v) for v in self.l2_grid)

            def score_of(i: int) -> float:
                lam = grid[i]
                if lam not in self.validation_:
                    t0 = time.perf_counter()
                    b = ease_weights(gram, lam)
                    self.validation_[lam] = recall_at_k(lambda u: np.asarray(fold_in[u] @ b), fold_in, valid)
                    log.debug(
                        "%s λ=%g: validation Recall@20 %.4f (%.2f s)",
                        self.name,
                        lam,
                        self.validation_[lam],
                        time.perf_counter() - t0,
                    )
                    progress(
                        min(0.8, 0.2 * len(self.validation_)),
                        f"λ={lam:g}: validation Recall@20 {self.validation_[lam]:.4f}",
                    )
                return self.validation_[lam]

            # Hill-climb on the sorted grid from the value nearest 500 (validation recall is unimodal in λ):
            # a few inversions instead of one per grid value, and fewer still on large catalogues.
            budget = search_evaluations(n_items, len(grid))
            i = int(np.argmin([abs(np.log(v / 500.0)) for v in grid]))
            score_of(i)
            if budget > 1:
                step = 1 if i + 1 < len(grid) and score_of(i + 1) > score_of(i) else -1
                while 0 <= i + step < len(grid) and len(self.validation_) < budget and score_of(i + step) > score_of(i):
                    i += step
            l2 = max(self.validation_, key=lambda lam: (self.validation_[lam], lam))
            log.debug("%s chose λ=%g after %d of %d grid values", self.name, l2, len(self.validation_), len(grid))
        gram = _gram(m)
        self.weights_ = ease_weights(gram, l2)
        self.l2_ = float(l2)

    def _fine_tune(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        """Re-solve with the λ chosen at the last full fit: one inversion instead of a validation search."""
        chosen = getattr(self, "l2_", None)
        if self.l2 is not None or chosen is None:
            self._fit(x, item_features, progress)
            return
        validation = getattr(self, "validation_", {})
        self.l2 = chosen
        try:
            self._fit(x, item_features, progress)
        finally:
            self.l2 = None
        self.validation_ = validation  # the evidence behind λ still comes from the last search

    def _reindex(self, user_map: np.ndarray, item_map: np.ndarray) -> None:
        self.__dict__.pop("weights_", None)  # item-item weights are re-solved on the new catalogue

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self._matrix(self.interactions_[users]) @ self.weights_, dtype=np.float32)

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        x = self._user_rows(self.interactions_, users)
        return np.asarray(self._matrix(x) @ self.weights_[:, items], dtype=np.float32)

    def score_history(self, history: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """Scores of ``items`` for arbitrary history rows (EASE is additive over the history)."""
        self._check_fitted("score_history")
        return np.asarray(self._matrix(sp.csr_matrix(history)) @ self.weights_[:, items], dtype=np.float32)

    def _item_similarity(self, item: int) -> np.ndarray:
        return self.weights_[item].copy()

    def _extra(self) -> dict[str, object]:
        return {
            "l2_": self.l2_,
            "validation_": {str(k): v for k, v in self.validation_.items()},
            "weight_scale": self._weight_scale,
        }

    def _set_extra(self, extra: dict[str, object]) -> None:
        self.l2_ = float(extra["l2_"])  # type: ignore[arg-type]
        self._weight_scale = extra.get("weight_scale")
        self.validation_ = {float(k): v for k, v in dict(extra.get("validation_", {})).items()}  # type: ignore[call-overload]

    def _state(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights"]


class RecencyEASE(EASE):
    """EASE on the recency-weighted graph: the Gram matrix and the user vectors use the edge weights.

    With edges weighted by recency (the build's ``event weight × 0.5^(age / half-life)``), co-occurrences of
    recent purchases dominate ``XᵀX``: the item graph follows what sells *now* (seasonal shops) and each user's
    recent items speak loudest. Weights are scaled to unit RMS, so the λ grid means the same as for EASE.
    """

    name = "ease_recency"

    def __init__(
        self,
        *,
        l2: float | None = None,
        l2_grid: tuple[float, ...] = DEFAULT_GRID,
        use_weights: bool = True,
        max_items: int = MAX_ITEMS,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            l2=l2, l2_grid=l2_grid, use_weights=use_weights, max_items=max_items, random_state=random_state
        )
