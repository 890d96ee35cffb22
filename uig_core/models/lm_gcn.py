"""Language-feature GCN: item nodes start from a learned projection of their sentence-transformers embeddings.

Layer 0 of an item is ``id_embedding[i] + W · text_embedding[i]``; users start from ID embeddings; then LightGCN
propagation. An item with few or no interactions still sits next to items with similar text, so it gets a
sensible score (the cold-item slice of the evaluation measures exactly this). The score then adds a title memory
(:mod:`~uig_core.models._text_memory`): how close the item's whitened title is to one the user already chose.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.models._gcn import GraphRecommender, fast_conv, torch_adjacency
from uig_core.models._params import Interval
from uig_core.models._text_memory import text_knn, title_memory, title_memory_of_items, whitened_text
from uig_core.progress import Progress

if TYPE_CHECKING:  # torch is imported where it runs, so importing this module stays cheap
    import torch

__all__ = ["LMGCN", "lm_gcn_module"]

log = logging.getLogger(__name__)


@cache
def lm_gcn_module() -> type[torch.nn.Module]:
    """The torch module class (built lazily so importing this file does not import torch)."""
    import torch
    from torch_geometric.nn.conv import LGConv

    conv_cls = fast_conv(LGConv)

    class LMGCNNet(torch.nn.Module):
        def __init__(
            self,
            n_users: int,
            n_items: int,
            dim: int,
            layers: int,
            features: torch.Tensor,
            id_scale: float,
            init: torch.Tensor | None = None,
            id_dropout: float = 0.0,
        ) -> None:
            super().__init__()
            self.n_users = n_users
            self.layers = layers
            self.register_buffer("features", features)
            self.embedding = torch.nn.Embedding(n_users + n_items, dim)
            torch.nn.init.normal_(self.embedding.weight, std=0.1)
            with torch.no_grad():
                if init is not None:
                    self.embedding.weight.copy_(init)
                self.embedding.weight[n_users:] *= id_scale
            self.proj = torch.nn.Linear(features.shape[1], dim, bias=False)
            torch.nn.init.normal_(self.proj.weight, std=0.01)
            self.conv = conv_cls(normalize=False)
            self.id_dropout = id_dropout

        def ego(self) -> torch.Tensor:
            e = self.embedding.weight
            ids = e[self.n_users :]
            if self.training and self.id_dropout > 0:
                # Drop whole item IDs (DropoutNet-style) so the text projection alone must score well:
                # that is all a cold item has.
                keep = torch.rand(ids.shape[0], 1, device=ids.device) >= self.id_dropout
                ids = ids * keep
            items = ids + self.proj(self.features)
            return torch.cat([e[: self.n_users], items], dim=0)

        def forward(self, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h = self.ego()
            acc = h
            for _ in range(self.layers):
                h = self.conv(h, adj)
                acc = acc + h
            out = acc / (self.layers + 1)
            return out[: self.n_users], out[self.n_users :]

        def ego_norm(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
            e = self.embedding.weight
            return e[u].pow(2).sum() + e[self.n_users + i].pow(2).sum()

    return LMGCNNet


class LMGCN(GraphRecommender):
    """LightGCN whose item nodes start from projected text embeddings (needs ``item_features``).

    Args:
        id_scale: Initial scale of the item ID embeddings relative to the users' (small: text leads).
        id_dropout: Share of item IDs dropped in each training step, so that text alone learns to score.
        text_neighbors: Item–item edges from each item to its most text-similar items (0: none), so that a
            cold item borrows the collaborative signal of its textual neighbours during propagation.
        text_weight: Weight of a text edge (times the cosine) relative to a user–item edge.
        cold_threshold: Items with fewer training interactions than this are scored from text alone: their
            barely trained ID embedding is left out at inference (DropoutNet's recipe; ``id_dropout`` makes the
            text projection learn to stand alone, but did not help on OR). 0 (the default) keeps every ID: with
            positives drawn by recency weight, a new arrival's few recent sales train its ID often, and that ID
            says what sells now.
        text_memory: Weight of the title-memory term added to every score: the item's highest whitened-title
            cosine to one of the user's items (:mod:`~uig_core.models._text_memory`). 0 turns it off.
        text_memory_dims: Principal directions kept when whitening the title embeddings.
        Others: as :class:`~uig_core.models._gcn.GraphRecommender`.

    Defaults were chosen by measurement on three 30-day validation windows before OR-30d's test month
    (``python bench/cold.py --validation --windows 3 --seeds 3``), on cold-only Recall@20 pooled over windows and
    seeds, with overall Recall@20 alongside; the figures are in docs/ARCHITECTURE.md. Text edges
    (``text_neighbors``) scored the same as none within noise and build a slow kNN graph, so they are off. The
    title memory on whitened directions lifts cold items most (raw cosines do clearly worse). Drawing positives
    by their recency weight (``positive_sampling="weight"``, the default of every graph model) raises Recall@20,
    and once cold items keep their IDs (``cold_threshold=0``) their cold-only Recall@20 rises further.
    """

    name = "lm_gcn"
    uses_item_features = True
    _constraints = {
        **GraphRecommender._constraints,
        "id_scale": Interval(float, 0, None),
        "id_dropout": Interval(float, 0, 1, closed="left"),
        "text_neighbors": Interval(int, 0, None),
        "text_weight": Interval(float, 0, None),
        "cold_threshold": Interval(int, 0, None),
        "text_memory": Interval(float, 0, None),
        "text_memory_dims": Interval(int, 1, None),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        layers: int = 2,
        epochs: int = 30,
        batch_size: int = 16384,
        learning_rate: float = 0.01,
        l2: float = 1e-4,
        loss: str = "softmax",
        negatives: int = 256,
        temperature: float = 0.1,
        similarity: str = "cosine",
        use_weights: bool = False,
        validation: float = 0.1,
        patience: int = 4,
        init: str = "svd",
        random_state: int = 0,
        fine_tune_epochs: int = 3,
        positive_sampling: str = "weight",
        id_scale: float = 1.0,
        id_dropout: float = 0.0,
        text_neighbors: int = 0,
        text_weight: float = 3.0,
        cold_threshold: int = 0,
        text_memory: float = 0.5,
        text_memory_dims: int = 128,
    ) -> None:
        super().__init__(
            factors=factors,
            layers=layers,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            l2=l2,
            loss=loss,
            negatives=negatives,
            temperature=temperature,
            similarity=similarity,
            use_weights=use_weights,
            validation=validation,
            patience=patience,
            init=init,
            random_state=random_state,
            fine_tune_epochs=fine_tune_epochs,
            positive_sampling=positive_sampling,
        )
        self.id_scale = id_scale
        self.id_dropout = id_dropout
        self.text_neighbors = text_neighbors
        self.text_weight = text_weight
        self.cold_threshold = cold_threshold
        self.text_memory = text_memory
        self.text_memory_dims = text_memory_dims

    def _check_features(self, item_features: np.ndarray | None) -> None:
        if item_features is None:
            raise ConfigError(
                "lm_gcn needs item_features (the items' sentence-transformers embeddings, shape (n_items, d)); "
                "pass them to fit() or use 'lightgcn' for an ID-only model."
            )

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        self._item_degree = np.diff((x > 0).tocsc().indptr)
        super()._fit(x, item_features, progress)
        self._set_text_memory(item_features)

    def _fine_tune(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        self._item_degree = np.diff((x > 0).tocsc().indptr)
        super()._fine_tune(x, item_features, progress)
        self._set_text_memory(item_features)

    def _set_text_memory(self, item_features: np.ndarray | None) -> None:
        use = self.text_memory > 0 and item_features is not None
        self.text_vectors_ = whitened_text(item_features, self.text_memory_dims) if use else None
        # kept for the reasons: the encoder reads the item vectors when it runs again without an edge
        self.item_features_ = None if item_features is None else np.asarray(item_features, dtype=np.float32)

    def _explain_features(self) -> np.ndarray | bool:
        features = getattr(self, "item_features_", None)
        return False if features is None else features

    def _final_without(
        self, enc: torch.nn.Module, x: sp.csr_matrix, features: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        kept = getattr(self, "_item_degree", None)
        self._item_degree = np.diff((x > 0).tocsc().indptr)  # the cold items of the changed graph
        try:
            return super()._final_without(enc, x, features)
        finally:
            self._item_degree = kept

    def _history_term(self, x: sp.csr_matrix, user: int, items: np.ndarray) -> np.ndarray | float:
        text = getattr(self, "text_vectors_", None)
        if text is None or self.text_memory <= 0:
            return 0.0
        return self.text_memory * title_memory_of_items(text, x, np.asarray([user]), items)[0]

    def _score(self, users: np.ndarray) -> np.ndarray:
        scores = super()._score(users)
        text = getattr(self, "text_vectors_", None)
        if text is not None and self.text_memory > 0:
            scores = scores + self.text_memory * title_memory(text, self.interactions_, users)
        return scores

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        scores = super()._score_items(users, items)
        text = getattr(self, "text_vectors_", None)
        if text is not None and self.text_memory > 0:
            scores = scores + self.text_memory * title_memory_of_items(text, self.interactions_, users, items)
        return scores

    def _state(self) -> dict[str, np.ndarray]:
        out = super()._state()
        if getattr(self, "text_vectors_", None) is not None:
            out["text_vectors"] = self.text_vectors_
        if getattr(self, "item_features_", None) is not None:
            out["item_features"] = self.item_features_
        if getattr(self, "_item_degree", None) is not None:
            out["item_degree"] = np.asarray(self._item_degree, dtype=np.int64)
        return out

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        self.text_vectors_ = state.get("text_vectors")  # absent in models saved before the title memory
        self.item_features_ = state.get("item_features")  # absent before the reasons: no leave-one-out then
        if state.get("item_degree") is not None:
            self._item_degree = state["item_degree"]

    def _final(self, enc: torch.nn.Module, adj: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Final factors; cold items (see ``cold_threshold``) without their ID embedding."""
        import torch

        degree = getattr(self, "_item_degree", None)
        if self.cold_threshold <= 0 or degree is None or not (degree < self.cold_threshold).any():
            return super()._final(enc, adj)
        rows = torch.from_numpy(np.flatnonzero(degree < self.cold_threshold) + enc.n_users)
        rows = rows.to(enc.embedding.weight.device)
        with torch.no_grad():
            kept = enc.embedding.weight[rows].clone()
            enc.embedding.weight[rows] = 0.0
            try:
                return super()._final(enc, adj)
            finally:
                enc.embedding.weight[rows] = kept

    def _adjacency(self, x: sp.csr_matrix, item_features: np.ndarray | None) -> torch.Tensor:
        return torch_adjacency(self._graph_matrix(x), text_knn(item_features, self.text_neighbors, self.text_weight))

    def _encoder(
        self, n_users: int, n_items: int, item_features: np.ndarray | None, init: torch.Tensor | None
    ) -> torch.nn.Module:
        import torch

        return lm_gcn_module()(
            n_users,
            n_items,
            self.factors,
            self.layers,
            torch.from_numpy(item_features),
            self.id_scale,
            init,
            self.id_dropout,
        )
