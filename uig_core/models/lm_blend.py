"""EASE on the recency graph blended with an item–item graph read from the items' text.

``score(u) = x_u · (B_λ + α · c · S)``: ``B_λ`` are EASE's item–item weights on the recency-weighted graph
(:class:`~uig_core.models.ease.RecencyEASE`), ``S`` links each item to its ``text_neighbors`` nearest items by the
cosine of their *whitened* title embeddings (:func:`~uig_core.models._text_memory.whitened_text`: raw
sentence-transformers cosines mostly say "is a product title"), ``c`` scales ``S`` to the mass of ``B_λ`` (mean
absolute row sum) so that ``α`` means the share of the text term, and ``x_u`` is the user's recency-weighted row.
A buyer of "woodland small blue felt heart" is thus offered its unbought siblings even where nobody bought the
two together yet — the collaborative weights alone know only co-purchases.

λ and α are chosen together on a validation split carved from the training matrix, α = 0 (plain EASE)
included, so the text term stays only where it helps. On a recency-weighted graph the split is *recent*: the
heaviest edges (the latest and strongest, ``event weight × 0.5^(age / half-life)``) are hidden and predicted
from the rest, as the temporal test predicts the next month from the past. A random split rewards the text term
for siblings bought in the same basket and picks both a smaller λ and a larger α than the next month wants
(on OR-30d a random split chose λ = 250 and the largest α tried, where the test NDCG@20 stays at 0.1245–0.1255
for every α). When the weights carry no order (0/1 data) the split falls back to EASE's random
strong-generalisation holdout. Without ``item_features`` the model is EASE with that validation (α = 0).

Measured with ``python bench/meaning.py --datasets or30d demo --models ease_recency lm_blend lm_blend:no-text
lm_blend:shuffled --grid`` (test Recall@20 / NDCG@20; fit CPU-s on the shared 2-core machine under load, the same
run; ``:shuffled`` = the same vectors permuted across items):

================== ============================================= =======================================
model              OR-30d (3,618 items, 231k pairs)              demo (1,425 items, 80k pairs)
================== ============================================= =======================================
ease_recency       0.1214 / 0.1231 · 12.8 CPU-s (λ=250)          0.3407 / 0.1567 · 4.0 CPU-s (λ=2000)
lm_blend           0.1311 / 0.1296 · 11.7 CPU-s (λ=1000, α=0.08)  0.3378 / 0.1551 · 5.4 CPU-s (λ=1000, α=0)
lm_blend:no-text   0.1244 / 0.1266 (λ=500)                       0.3378 / 0.1551 (λ=1000)
lm_blend:shuffled  0.1233 / 0.1259 (λ=500, α=0.04)               0.3378 / 0.1551 (α=0)
lm_gcn (*)         0.1084 / 0.1004 · 275 CPU-s                   –
================== ============================================= =======================================

(*) from ``--datasets or30d --models ease_recency lm_gcn lm_blend`` (same figures for the other two there).
At a fixed λ = 1000 the text term alone lifts OR-30d from 0.1266 / 0.1279 (α = 0) to 0.1311 / 0.1296; on the demo
(synthetic titles) validation turns it off, rightly (α = 0.08 lowers the test figures at every λ).

The score is a sum over the history items, so :meth:`contributions` splits it exactly (``additive``).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.models._params import FloatList, Interval
from uig_core.models._text_memory import text_knn, whitened_text
from uig_core.models._validation import recall_at_k, user_holdout
from uig_core.models.ease import FULL_SEARCH_ITEMS, MAX_ITEMS, RecencyEASE, _gram, ease_weights, search_evaluations
from uig_core.progress import Progress

__all__ = ["LMBlend", "recent_holdout", "search_budget"]

log = logging.getLogger(__name__)

L2_GRID = (100.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0)
TEXT_GRID = (0.02, 0.04, 0.06, 0.08, 0.12, 0.16, 0.24)


def search_budget(n_items: int, grid_size: int) -> int:
    """λ values the search may invert for: EASE's budget, one fewer above its full-search size.

    The text term costs a text graph and a product per α, so on catalogues past
    :data:`~uig_core.models.ease.FULL_SEARCH_ITEMS` one inversion fewer keeps the whole fit near EASE's (OR-30d's
    3,618 items: two searched λ + the final inversion, against EASE's three + one).
    """
    budget = search_evaluations(n_items, grid_size)
    return budget if n_items <= FULL_SEARCH_ITEMS else max(1, budget - 1)


def recent_holdout(x: sp.csr_matrix, fraction: float) -> tuple[sp.csr_matrix, sp.csr_matrix] | None:
    """Hide the heaviest ``fraction`` of the edges (on a recency graph: the latest), or None when weights tie.

    Returns:
        ``(visible, hidden)`` CSR matrices of ``x``'s shape; ``hidden`` (0/1) keeps only users who still have a
        visible edge. None when fewer than half the asked edges are strictly heavier than the rest (0/1 data:
        the weights say nothing about time).
    """
    threshold = np.quantile(x.data, 1.0 - fraction)
    hide = x.data > threshold
    if hide.sum() < 0.5 * fraction * x.nnz:
        return None
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    visible = sp.csr_matrix((x.data[~hide], (rows[~hide], x.indices[~hide])), shape=x.shape, dtype=np.float32)
    keep = hide & (np.diff(visible.indptr) > 0)[rows]
    ones = np.ones(int(keep.sum()), dtype=np.float32)
    hidden = sp.csr_matrix((ones, (rows[keep], x.indices[keep])), shape=x.shape, dtype=np.float32)
    if hidden.nnz == 0:
        return None
    return visible, hidden


class LMBlend(RecencyEASE):
    """Recency EASE plus a whitened-title item graph, blend weight and λ chosen on validation.

    Args:
        l2: EASE's λ; None picks it from ``l2_grid`` on the validation split (hill-climbing from 500, at most
            :func:`search_budget` inversions).
        l2_grid: Candidate λ values.
        text_weight: α, the text term's share of the item–item mass; None picks it from ``text_weight_grid``
            (every value is tried for each λ: a product with the validation rows, no inversion).
        text_weight_grid: Candidate α values > 0; α = 0 (no text) is always tried too, so validation can turn the
            text term off.
        text_neighbors: Text neighbours per item in ``S``.
        text_dims: Principal directions kept when whitening the title embeddings.
        validation: Share of the heaviest edges hidden by the recent validation split.
        use_weights: As :class:`~uig_core.models.ease.EASE` (the recency weights; True).
        max_items: As :class:`~uig_core.models.ease.EASE`.
        random_state: Seed of the fallback random split.

    Attributes:
        l2_: The λ used.
        text_weight_: The α used (0 when there are no item features).
        validation_: ``{"λ/α": Recall@20}`` on the validation split.
        split_: ``"recent"`` or ``"random"`` — which validation split chose them (None when both were given).
        weights_: ``(n_items, n_items)`` float32 ``B_λ + α · c · S``.
    """

    name = "lm_blend"
    uses_item_features = True
    _constraints = {
        **RecencyEASE._constraints,
        "text_weight": Interval(float, 0, None, allow_none=True),
        "text_weight_grid": FloatList(),
        "text_neighbors": Interval(int, 1, None),
        "text_dims": Interval(int, 1, None),
        "validation": Interval(float, 0, 1, closed="neither"),
    }

    def __init__(
        self,
        *,
        l2: float | None = None,
        l2_grid: tuple[float, ...] = L2_GRID,
        text_weight: float | None = None,
        text_weight_grid: tuple[float, ...] = TEXT_GRID,
        text_neighbors: int = 20,
        text_dims: int = 128,
        validation: float = 0.2,
        use_weights: bool = True,
        max_items: int = MAX_ITEMS,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            l2=l2, l2_grid=l2_grid, use_weights=use_weights, max_items=max_items, random_state=random_state
        )
        self.text_weight = text_weight
        self.text_weight_grid = text_weight_grid
        self.text_neighbors = text_neighbors
        self.text_dims = text_dims
        self.validation = validation

    def _text_graph(self, item_features: np.ndarray | None) -> sp.csr_matrix | None:
        if item_features is None:
            log.info("%s: no item features; fitting EASE with the recent validation split (no text term)", self.name)
            return None
        t0 = time.perf_counter()
        graph = text_knn(whitened_text(item_features, self.text_dims), self.text_neighbors, 1.0)
        log.debug(
            "%s: text graph of %d edges in %.2f s",
            self.name,
            0 if graph is None else graph.nnz,
            time.perf_counter() - t0,
        )
        return graph

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        n_items = x.shape[1]
        if n_items > self.max_items:
            raise ConfigError(
                f"lm_blend refuses {n_items:,} items (max_items={self.max_items:,}): like EASE it inverts a dense "
                f"{n_items:,} x {n_items:,} matrix. Use 'p3alpha' or 'itemknn' instead, or raise max_items."
            )
        self._weight_scale = None
        self.split_: str | None = None
        m = self._matrix(x)
        text = self._text_graph(item_features)
        progress(0.1, "text graph ready" if text is not None else "no item text")
        l2, alpha = self.l2, self.text_weight
        if text is None:
            alpha = 0.0
        self.validation_: dict[str, float] = {}
        if l2 is None or alpha is None:
            l2, alpha = self._search(m, text, l2, alpha, progress)
        b = ease_weights(_gram(m), l2)
        self.weights_ = _blend(b, text, alpha)
        self.l2_, self.text_weight_ = float(l2), float(alpha)

    def _search(
        self,
        m: sp.csr_matrix,
        text: sp.csr_matrix | None,
        l2: float | None,
        alpha: float | None,
        progress: Progress,
    ) -> tuple[float, float]:
        """Choose (λ, α) on the validation split: hill-climb λ, try every α at each λ."""
        split = recent_holdout(m, self.validation)
        if split is not None:
            self.split_ = "recent"
            fit_rows, valid = split
            fold_in = fit_rows  # weak generalisation: every user's older edges predict their newer ones
        else:
            self.split_ = "random"
            fit_users, fold_in, valid = user_holdout(m, seed=self.random_state)
            fit_rows = m[fit_users]
        users = np.flatnonzero(np.diff(valid.indptr))
        rows = fold_in[users]
        gram = _gram(fit_rows)
        grid = sorted(float(v) for v in self.l2_grid) if l2 is None else [float(l2)]
        alphas = [0.0, *sorted(float(v) for v in self.text_weight_grid)] if alpha is None else [float(alpha)]
        if text is None:
            alphas = [0.0]
        best: dict[float, tuple[float, float]] = {}  # λ → (recall, α)
        text_part = None if text is None else (rows @ text).toarray()

        def score_of(i: int) -> float:
            lam = grid[i]
            if lam not in best:
                t0 = time.perf_counter()
                b = ease_weights(gram, lam)
                part = np.asarray(rows @ b)
                scale = _text_scale(b, text)
                for a in alphas:
                    s = part if a == 0 or text_part is None else part + (a * scale) * text_part
                    recall = recall_at_k(lambda u, s=s: s[u], rows, valid[users])
                    self.validation_[f"{lam:g}/{a:g}"] = recall
                    if lam not in best or recall > best[lam][0]:
                        best[lam] = (recall, a)
                log.debug(
                    "%s λ=%g: best α=%g, Recall@20 %.4f (%.2f s)",
                    self.name,
                    lam,
                    best[lam][1],
                    best[lam][0],
                    time.perf_counter() - t0,
                )
                progress(min(0.8, 0.1 + 0.2 * len(best)), f"λ={lam:g}: validation Recall@20 {best[lam][0]:.4f}")
            return best[lam][0]

        budget = search_budget(m.shape[1], len(grid))
        i = int(np.argmin([abs(np.log(v / 500.0)) for v in grid]))
        score_of(i)
        if budget > 1 and len(grid) > 1:
            step = 1 if i + 1 < len(grid) and score_of(i + 1) > score_of(i) else -1
            while 0 <= i + step < len(grid) and len(best) < budget and score_of(i + step) > score_of(i):
                i += step
        lam = max(best, key=lambda v: (best[v][0], v))
        log.debug("%s chose λ=%g, α=%g on the %s split", self.name, lam, best[lam][1], self.split_)
        return lam, best[lam][1]

    def _fine_tune(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        """Re-solve with the λ and α chosen at the last full fit (one inversion, no search)."""
        chosen = (getattr(self, "l2_", None), getattr(self, "text_weight_", None))
        if chosen[0] is None or chosen[1] is None:
            self._fit(x, item_features, progress)
            return
        kept = (self.l2, self.text_weight, dict(getattr(self, "validation_", {})), getattr(self, "split_", None))
        self.l2, self.text_weight = chosen
        try:
            self._fit(x, item_features, progress)
        finally:
            self.l2, self.text_weight = kept[0], kept[1]
        self.validation_, self.split_ = kept[2], kept[3]  # the evidence behind λ and α is the last search's

    def _extra(self) -> dict[str, object]:
        return {
            "l2_": self.l2_,
            "text_weight_": self.text_weight_,
            "validation_": dict(self.validation_),
            "split_": getattr(self, "split_", None),
            "weight_scale": self._weight_scale,
        }

    def _set_extra(self, extra: dict[str, object]) -> None:
        self.l2_ = float(extra["l2_"])  # type: ignore[arg-type]
        self.text_weight_ = float(extra["text_weight_"])  # type: ignore[arg-type]
        self.validation_ = dict(extra.get("validation_", {}))  # type: ignore[call-overload]
        self.split_ = extra.get("split_")
        self._weight_scale = extra.get("weight_scale")


def _text_scale(b: np.ndarray, text: sp.csr_matrix | None) -> float:
    """``c``: the mean absolute row sum of ``B`` over that of ``S`` (so α is the text term's share)."""
    if text is None or text.nnz == 0:
        return 0.0
    return float(np.abs(b).sum(axis=1).mean() / max(float(np.asarray(text.sum(axis=1)).mean()), 1e-12))


def _blend(b: np.ndarray, text: sp.csr_matrix | None, alpha: float) -> np.ndarray:
    """``B + α · c · S`` in place of ``B`` (dense float32)."""
    if text is None or alpha <= 0:
        return b
    coo = text.tocoo()  # canonical CSR: no duplicate (row, col), so a fancy-index add is exact
    b[coo.row, coo.col] += np.float32(alpha * _text_scale(b, text)) * coo.data
    return b
