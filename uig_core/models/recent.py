"""Next-purchase models: what a shopper viewed, favourited or carted and has not bought yet, then the rest.

Both read :class:`~uig_core.evaluation.next_purchase.PairEvents` (``fit(..., events=...)``) and keep only the
*bought* pairs as the seen mask (``interactions_``), so ``recommend(filter_seen=True)`` leaves out what the user
bought and lets viewed and carted items compete, as the next-purchase task asks. Fitted without pair events (the
one-contract ``fit(interactions)``) every training pair counts as bought, and they behave as a discover model.

* ``recent_unbought`` — the baseline of the task: every item the user viewed, favourited or carted and has not
  bought, most recent first, the rest by popularity (buyers per item).
* ``recent_funnel`` — item-kNN similarity to everything the user touched, plus a funnel term for the unbought
  items (how far down the funnel they went and how recently: ``w(event) · 0.5^(age / half_life)``, cart above
  favourite above click above view), its weight ``blend`` chosen by the build on validation.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from uig_core.models._params import Interval
from uig_core.models._sparse_knn import topk_product
from uig_core.models.base import Recommender, check_interactions, check_item_features
from uig_core.progress import Progress

__all__ = ["NextPurchaseModel", "RecentUnbought", "RecentFunnel"]

log = logging.getLogger(__name__)

#: Funnel weight of the strongest event of an unbought pair, by code (view, click, fav, cart).
_FUNNEL_WEIGHT = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 0.0], dtype=np.float32)


def _noop(fraction: float, message: str) -> None:
    """Ignore progress."""


def _csr_state(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {f"{prefix}.indptr": m.indptr, f"{prefix}.indices": m.indices, f"{prefix}.data": m.data}


def _csr_from(state: dict[str, np.ndarray], prefix: str, shape: tuple[int, int]) -> sp.csr_matrix:
    return sp.csr_matrix((state[f"{prefix}.data"], state[f"{prefix}.indices"], state[f"{prefix}.indptr"]), shape=shape)


class NextPurchaseModel(Recommender):
    """Base of the next-purchase models: ``fit`` also takes the pair events; the seen mask is the bought pairs.

    Attributes:
        task: ``"next_purchase"`` (discover models have no such attribute, or ``"discover"``).
        unbought_: ``(n_users, n_items)`` float32 CSR, the score in (1, 2] of each pair seen and not bought.
    """

    task: ClassVar[str] = "next_purchase"

    def fit(
        self,
        interactions: sp.csr_matrix,
        item_features: np.ndarray | None = None,
        *,
        progress: Progress | None = None,
        events: Any = None,
    ) -> NextPurchaseModel:
        """Learn from the training weights and the pair events (see the module docstring).

        Args:
            interactions: ``(n_users, n_items)`` CSR training weights (every positive pair).
            item_features: Unused.
            progress: ``progress(fraction, message)``.
            events: :class:`~uig_core.evaluation.next_purchase.PairEvents` of the same shape (None: every pair
                counts as bought).
        """
        from uig_core.evaluation.next_purchase import PairEvents

        self._validate_params()
        x = check_interactions(interactions)
        check_item_features(item_features, x.shape[1])
        side = (events or PairEvents.all_bought(x)).check(x.shape)
        report = progress or _noop
        report(0.0, f"fitting {self.name}")
        bought = sp.csr_matrix(side.bought, dtype=np.float32)
        bought.eliminate_zeros()
        self.unbought_ = self._unbought_scores(sp.csr_matrix(side.seen_code), sp.csr_matrix(side.seen_age))
        self._fit_rest(x, bought, report)
        self.interactions_ = bought
        self.n_users_, self.n_items_ = x.shape
        report(1.0, f"{self.name} fitted")
        return self

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        self.fit(x, item_features, progress=progress)  # pragma: no cover - fit is overridden

    def _fine_tune(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        """A warm update refits without pair events (an update's Trainer passes them to ``fit`` instead)."""
        self.fit(x, item_features, progress=progress)

    def _unbought_scores(self, code: sp.csr_matrix, age: sp.csr_matrix) -> sp.csr_matrix:
        raise NotImplementedError

    def _fit_rest(self, x: sp.csr_matrix, bought: sp.csr_matrix, progress: Progress) -> None:
        raise NotImplementedError

    def _rest(self, users: np.ndarray) -> np.ndarray:
        """Scores in [0, 1) of every item for ``users`` (the items not viewed before)."""
        raise NotImplementedError

    def _score(self, users: np.ndarray) -> np.ndarray:
        out = np.array(self._rest(users), dtype=np.float32, copy=True)
        seen = self.unbought_[users]
        rows = np.repeat(np.arange(len(users)), np.diff(seen.indptr))
        out[rows, seen.indices] = seen.data
        return out

    def _state(self) -> dict[str, np.ndarray]:
        return _csr_state("unbought", self.unbought_)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.unbought_ = _csr_from(state, "unbought", (self.n_users_, self.n_items_))


class RecentUnbought(NextPurchaseModel):
    """The baseline: viewed, favourited or carted and not bought, most recent first; the rest by buyers.

    Args:
        min_buyers: Items bought by fewer users rank by interactions only (0: none).

    Attributes:
        popularity_: ``(n_items,)`` float32 in [0, 1): buyers per item (ties by interactions), scaled.
    """

    name = "recent_unbought"
    _constraints = {"min_buyers": Interval(int, 0, None)}

    def __init__(self, *, min_buyers: int = 0) -> None:
        self.min_buyers = min_buyers

    def _unbought_scores(self, code: sp.csr_matrix, age: sp.csr_matrix) -> sp.csr_matrix:
        out = age.astype(np.float32)
        out.data = (1.0 + 1.0 / (1.0 + out.data)).astype(np.float32)  # most recent first, all above the rest
        return out

    def _fit_rest(self, x: sp.csr_matrix, bought: sp.csr_matrix, progress: Progress) -> None:
        buyers = np.diff(bought.tocsc().indptr).astype(np.float64)
        buyers[buyers < self.min_buyers] = 0.0
        touched = np.diff((x > 0).tocsc().indptr).astype(np.float64)
        pop = buyers + touched / (touched.max() + 1.0)  # buyers first, interactions break ties
        self.popularity_ = (pop / (pop.max() + 1.0)).astype(np.float32)

    def _rest(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(users), len(self.popularity_)))

    def _state(self) -> dict[str, np.ndarray]:
        return {**super()._state(), "popularity": self.popularity_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        self.popularity_ = state["popularity"]


class RecentFunnel(NextPurchaseModel):
    """Item-kNN over everything the user touched, plus a funnel term for what they touched and did not buy.

    ``score(u, i) = knn(u, i) / max_j knn(u, j) + blend · w(event_ui) · 0.5^(age_ui / half_life) / 4``, the
    second term only for pairs seen and not bought (``w``: view 1, click 2, fav 3, cart 4). ``blend = 0`` is
    plain item-kNN with viewed items allowed; a large ``blend`` puts every unbought item first, ordered by funnel
    depth and recency. The build chooses ``blend`` and ``half_life_days`` from :attr:`param_grid` on its
    validation split (:mod:`uig_core.build.selection`).

    Args:
        blend: Weight of the funnel term.
        half_life_days: Recency half-life of the funnel term, in days.
        neighbors: Item-kNN neighbours kept per item.
        shrink: Item-kNN cosine shrinkage.

    Attributes:
        similarity_: ``(n_items, n_items)`` CSR cosine similarities of the item columns (top ``neighbors``).
        history_: ``(n_users, n_items)`` float32 CSR, 1 for every training pair (what the kNN reads).
        seen_weight_: Funnel weight / 4 of each unbought pair, aligned with ``unbought_.data`` (the ages).
    """

    name = "recent_funnel"
    #: Settings the build's selection tries on validation, in this order (the fit does not depend on them).
    param_grid: ClassVar[dict[str, tuple[float, ...]]] = {
        "half_life_days": (1.0, 7.0, 30.0),
        "blend": (0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 16.0),
    }
    _constraints = {
        "blend": Interval(float, 0, None),
        "half_life_days": Interval(float, 0, None, closed="neither"),
        "neighbors": Interval(int, 1, None),
        "shrink": Interval(float, 0, None),
    }

    def __init__(
        self, *, blend: float = 1.0, half_life_days: float = 7.0, neighbors: int = 200, shrink: float = 10.0
    ) -> None:
        self.blend = blend
        self.half_life_days = half_life_days
        self.neighbors = neighbors
        self.shrink = shrink

    def _unbought_scores(self, code: sp.csr_matrix, age: sp.csr_matrix) -> sp.csr_matrix:
        """The unbought pairs' ages; their funnel weights are kept in ``seen_weight_`` (scored at query time)."""
        self.seen_weight_ = _FUNNEL_WEIGHT[np.clip(code.data.astype(np.int64), 0, 5)] / np.float32(4.0)
        return age.astype(np.float32)

    def _fit_rest(self, x: sp.csr_matrix, bought: sp.csr_matrix, progress: Progress) -> None:
        r = (x > 0).astype(np.float32).tocsr()
        norms = np.sqrt(np.asarray(r.sum(axis=0)).ravel()).astype(np.float32)
        shrink = np.float32(self.shrink + 1e-12)

        def transform(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
            return vals / (norms[rows] * norms[cols] + shrink)

        keep = min(self.neighbors, r.shape[1])
        self.similarity_ = topk_product(r.T.tocsr(), r, keep, transform, progress=lambda f, m: progress(0.9 * f, m))
        self.history_ = r

    def _rest(self, users: np.ndarray) -> np.ndarray:
        xu = self.history_[users]
        raw = np.asarray((self.similarity_ @ xu.T.tocsc()).T.toarray(), dtype=np.float32)
        top = raw.max(axis=1, keepdims=True)
        return raw / (top + np.float32(1e-6))

    def _score(self, users: np.ndarray) -> np.ndarray:
        out = np.array(self._rest(users), dtype=np.float32, copy=True)
        ages = self.unbought_
        for row, u in enumerate(users):
            lo, hi = ages.indptr[u], ages.indptr[u + 1]
            if hi > lo:
                decay = np.power(np.float32(0.5), np.asarray(ages.data[lo:hi]) / np.float32(self.half_life_days))
                out[row, ages.indices[lo:hi]] += np.float32(self.blend) * self.seen_weight_[lo:hi] * decay
        return out

    def grid_top_lists(
        self, users: np.ndarray, hide: sp.csr_matrix, settings: list[dict[str, float]], k: int = 20
    ) -> list[np.ndarray]:
        """Top-k lists under each of ``settings`` from one kNN pass (:mod:`uig_core.models._funnel_grid`).

        Exactly the lists of :func:`~uig_core.evaluation.metrics.top_lists` with the model set to each setting,
        for the cost of about one: the build's validation ranks its whole :attr:`param_grid` with it.
        """
        from uig_core.models._funnel_grid import funnel_grid_tops

        self._check_fitted("grid_top_lists")
        return funnel_grid_tops(self, users, hide, settings, k)

    def contributions(self, user: int, items: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Exact parts over the user's touched items: each one's kNN share, plus an item's own funnel term.

        ``knn(u, i) / top = Σ_h sim[i, h] / top`` over the history ``h`` (``top`` is fixed by the whole history),
        and the funnel term of an unbought item belongs to that item itself, so the parts add up to the score.
        """
        self._check_fitted("contributions")
        u, items = int(user), np.asarray(items, dtype=np.int64)
        history = np.asarray(self.history_[u].indices, dtype=np.int64)
        if len(history) == 0:
            return history, np.zeros((len(items), 0), dtype=np.float32)
        raw = np.asarray((self.similarity_ @ self.history_[u].T.tocsc()).T.toarray(), dtype=np.float32).ravel()
        top = raw.max() + np.float32(1e-6)
        parts = np.asarray(self.similarity_[items][:, history].toarray(), dtype=np.float32) / top
        lo, hi = self.unbought_.indptr[u], self.unbought_.indptr[u + 1]
        where = {int(c): k for k, c in enumerate(history)}
        for j in range(lo, hi):
            col = int(self.unbought_.indices[j])
            age = np.float32(self.unbought_.data[j])
            own = np.float32(self.blend) * self.seen_weight_[j] * np.power(np.float32(0.5), age / self.half_life_days)
            for row in np.flatnonzero(items == col):
                parts[row, where[col]] += own
        return history, parts

    def _state(self) -> dict[str, np.ndarray]:
        return {
            **super()._state(),
            "seen_weight": self.seen_weight_,
            **_csr_state("sim", self.similarity_),
            **_csr_state("hist", self.history_),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        self.seen_weight_ = state["seen_weight"]
        n_users, n_items = self.n_users_, self.n_items_
        self.similarity_ = _csr_from(state, "sim", (n_items, n_items))
        self.history_ = _csr_from(state, "hist", (n_users, n_items))
