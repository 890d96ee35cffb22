"""Language-feature GCN: item nodes start from a learned projection of their sentence-transformers embeddings.

Layer 0 of an item is ``id_embedding[i] + W · text_embedding[i]``; users start from ID embeddings; then LightGCN
propagation. An item with few or no interactions still sits next to items with similar text, so it gets a
sensible score (the cold-item slice of the evaluation measures exactly this).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from uig_core.errors import ConfigError
from uig_core.models._gcn import GraphRecommender, fast_conv
from uig_core.models._params import Interval

__all__ = ["LMGCN", "lm_gcn_module"]


@cache
def lm_gcn_module() -> type:
    """The torch module class (built lazily so importing this file does not import torch)."""
    import torch
    from torch_geometric.nn.conv import LGConv

    conv_cls = fast_conv(LGConv)

    class LMGCNNet(torch.nn.Module):
        def __init__(self, n_users: int, n_items: int, dim: int, layers: int, features: Any,
                     id_scale: float) -> None:
            super().__init__()
            self.n_users = n_users
            self.layers = layers
            self.register_buffer("features", features)
            self.embedding = torch.nn.Embedding(n_users + n_items, dim)
            torch.nn.init.normal_(self.embedding.weight, std=0.1)
            with torch.no_grad():
                self.embedding.weight[n_users:] *= id_scale
            self.proj = torch.nn.Linear(features.shape[1], dim, bias=False)
            self.conv = conv_cls(normalize=False)

        def ego(self) -> Any:
            e = self.embedding.weight
            items = e[self.n_users :] + self.proj(self.features)
            return torch.cat([e[: self.n_users], items], dim=0)

        def forward(self, adj: Any) -> tuple[Any, Any]:
            h = self.ego()
            acc = h
            for _ in range(self.layers):
                h = self.conv(h, adj)
                acc = acc + h
            out = acc / (self.layers + 1)
            return out[: self.n_users], out[self.n_users :]

        def ego_norm(self, u: Any, i: Any) -> Any:
            e = self.embedding.weight
            return e[u].pow(2).sum() + e[self.n_users + i].pow(2).sum()

    return LMGCNNet


class LMGCN(GraphRecommender):
    """LightGCN whose item nodes start from projected text embeddings (needs ``item_features``).

    Args:
        id_scale: Initial scale of the item ID embeddings relative to the users' (small: text leads).
        Others: as :class:`~uig_core.models._gcn.GraphRecommender`.
    """

    name = "lm_gcn"
    _constraints = {**GraphRecommender._constraints, "id_scale": Interval(float, 0, None)}

    def __init__(
        self,
        *,
        factors: int = 64,
        layers: int = 2,
        epochs: int = 30,
        batch_size: int = 8192,
        learning_rate: float = 0.01,
        l2: float = 1e-4,
        loss: str = "softmax",
        negatives: int = 256,
        temperature: float = 0.1,
        use_weights: bool = False,
        validation: float = 0.1,
        patience: int = 4,
        random_state: int = 0,
        id_scale: float = 0.1,
    ) -> None:
        super().__init__(
            factors=factors, layers=layers, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            l2=l2, loss=loss, negatives=negatives, temperature=temperature, use_weights=use_weights,
            validation=validation, patience=patience, random_state=random_state,
        )
        self.id_scale = id_scale

    def _encoder(self, n_users: int, n_items: int, item_features: np.ndarray | None) -> Any:
        import torch

        if item_features is None:
            raise ConfigError(
                "lm_gcn needs item_features (the items' sentence-transformers embeddings, shape (n_items, d)); "
                "pass them to fit() or use 'lightgcn' for an ID-only model."
            )
        return lm_gcn_module()(n_users, n_items, self.factors, self.layers, torch.from_numpy(item_features),
                               self.id_scale)
