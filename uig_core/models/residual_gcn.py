"""The design notes' residual GCN: ``X^(l+1) = X^(l) + D^-1/2 A D^-1/2 X^(l) W^(l)``, final factors ``X^(L)``.

Each layer is PyG's ``GCNConv`` (no bias, no self-loops, no re-normalisation) on the precomputed normalised
adjacency; the identity path keeps the ID embeddings and lets every layer learn a correction.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from uig_core.models._gcn import GraphRecommender, fast_conv

if TYPE_CHECKING:  # torch is imported where it runs, so importing this module stays cheap
    import torch

__all__ = ["ResidualGCN", "residual_gcn_module"]

log = logging.getLogger(__name__)


@cache
def residual_gcn_module() -> type[torch.nn.Module]:
    """The torch module class (built lazily so importing this file does not import torch)."""
    import torch
    from torch_geometric.nn.conv import GCNConv

    conv_cls = fast_conv(GCNConv)

    class ResidualGCNNet(torch.nn.Module):
        def __init__(self, n_users: int, n_items: int, dim: int, layers: int, init: torch.Tensor | None = None) -> None:
            super().__init__()
            self.n_users = n_users
            self.embedding = torch.nn.Embedding(n_users + n_items, dim)
            torch.nn.init.normal_(self.embedding.weight, std=0.1)
            if init is not None:
                with torch.no_grad():
                    self.embedding.weight.copy_(init)
            self.convs = torch.nn.ModuleList(
                conv_cls(dim, dim, bias=False, normalize=False, add_self_loops=False) for _ in range(layers)
            )
            for conv in self.convs:  # start near LightGCN's propagation: W ≈ I / (l + 1) scale
                torch.nn.init.eye_(conv.lin.weight)

        def forward(self, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h = self.embedding.weight
            for conv in self.convs:
                h = h + conv(h, adj)
            return h[: self.n_users], h[self.n_users :]

        def ego_norm(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
            e = self.embedding.weight
            return e[u].pow(2).sum() + e[self.n_users + i].pow(2).sum()

    return ResidualGCNNet


class ResidualGCN(GraphRecommender):
    """Residual GCN with learned per-layer transforms; see :class:`~uig_core.models._gcn.GraphRecommender`."""

    name = "residual_gcn"

    def _encoder(
        self, n_users: int, n_items: int, item_features: np.ndarray | None, init: torch.Tensor | None
    ) -> torch.nn.Module:
        return residual_gcn_module()(n_users, n_items, self.factors, self.layers, init)
