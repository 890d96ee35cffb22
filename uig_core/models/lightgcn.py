"""LightGCN (He et al., SIGIR 2020): ID embeddings smoothed by parameter-free propagation over the graph.

``E^(l+1) = D^-1/2 A D^-1/2 E^(l)``, final factors = mean of ``E^(0..L)``; PyG's ``LGConv`` on a precomputed
normalised adjacency (see :mod:`uig_core.models._gcn` for why training is fast on a CPU).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from uig_core.models._gcn import GraphRecommender, fast_conv

if TYPE_CHECKING:  # torch is imported where it runs, so importing this module stays cheap
    import torch

__all__ = ["LightGCN", "lightgcn_module"]

log = logging.getLogger(__name__)


@cache
def lightgcn_module() -> type[torch.nn.Module]:
    """The torch module class (built lazily so importing this file does not import torch)."""
    import torch
    from torch_geometric.nn.conv import LGConv

    conv_cls = fast_conv(LGConv)

    class LightGCNNet(torch.nn.Module):
        def __init__(self, n_users: int, n_items: int, dim: int, layers: int, init: torch.Tensor | None = None) -> None:
            super().__init__()
            self.n_users = n_users
            self.layers = layers
            self.embedding = torch.nn.Embedding(n_users + n_items, dim)
            torch.nn.init.normal_(self.embedding.weight, std=0.1)
            if init is not None:
                with torch.no_grad():
                    self.embedding.weight.copy_(init)
            self.conv = conv_cls(normalize=False)

        def ego(self) -> torch.Tensor:
            return self.embedding.weight

        def forward(self, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h = self.ego()
            acc = h
            for _ in range(self.layers):
                h = self.conv(h, adj)
                acc = acc + h
            out = acc / (self.layers + 1)
            return out[: self.n_users], out[self.n_users :]

        def ego_norm(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
            e = self.ego()
            return e[u].pow(2).sum() + e[self.n_users + i].pow(2).sum()

    return LightGCNNet


class LightGCN(GraphRecommender):
    """LightGCN with a sampled-softmax (or BPR) loss; see :class:`~uig_core.models._gcn.GraphRecommender`."""

    name = "lightgcn"

    def _encoder(
        self, n_users: int, n_items: int, item_features: np.ndarray | None, init: torch.Tensor | None
    ) -> torch.nn.Module:
        return lightgcn_module()(n_users, n_items, self.factors, self.layers, init)
