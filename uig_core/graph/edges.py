"""The user–item–interest graph: weighted behaviour edges and their torch-geometric form.

Edge weights: each positive event scores ``EVENT_WEIGHTS[event] * 0.5 ** (age_days / half_life_days)``; a
(user, item) pair keeps its strongest event; returns and adjustments never form positive edges.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.graph.pairs import pair_matrices
from uig_core.schema import POSITIVE_EVENTS
from uig_core.store.relation import EventRelation

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = [
    "positive_events",
    "interaction_matrix",
    "strongest_event_matrix",
    "graph_counts",
    "to_hetero_data",
    "normalized_adjacency",
    "describe",
]

log = logging.getLogger(__name__)


def positive_events(events: pd.DataFrame) -> pd.DataFrame:
    """Rows that form positive edges (view/click/fav/cart/purchase; never searches, returns or adjustments)."""
    return events[events["event"].isin(POSITIVE_EVENTS)]


def interaction_matrix(
    events: pd.DataFrame | EventRelation,
    user_index: pd.Index,
    item_index: pd.Index,
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 60.0,
    now: pd.Timestamp | None = None,
    binary: bool = False,
) -> sp.csr_matrix:
    """Per (user, item), the strongest recency-decayed event weight, as a CSR matrix.

    This is the ``weight`` of :func:`~uig_core.graph.pairs.pair_matrices` (its docstring has the definition).

    Args:
        events: Canonical events frame or a stored dataset's relation.
        user_index: Row order (user ids); events of other users are ignored.
        item_index: Column order (item ids).
        event_weights: Weight per event type (default :data:`EVENT_WEIGHTS`).
        half_life_days: Recency half-life; ``None`` disables decay.
        now: Reference time for recency (default: the last positive event).
        binary: Return 1.0 for every pair instead of weights.

    Returns:
        ``(len(user_index), len(item_index))`` float32 CSR matrix.
    """
    mat = pair_matrices(
        events, user_index, item_index, event_weights=event_weights, half_life_days=half_life_days, now=now
    ).weight
    if binary:
        mat.data[:] = 1.0
    return mat


def normalized_adjacency(interactions: sp.csr_matrix) -> sp.csr_matrix:
    """Symmetric-normalised bipartite adjacency ``D^-1/2 A D^-1/2`` over users then items."""
    n_users, n_items = interactions.shape
    r = interactions.astype(np.float32)
    adj = sp.bmat([[None, r], [r.T, None]], format="csr")
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.zeros_like(deg)
    inv[deg > 0] = deg[deg > 0] ** -0.5
    d = sp.diags(inv.astype(np.float32))
    return (d @ adj @ d).tocsr().astype(np.float32)


def to_hetero_data(
    interactions: sp.csr_matrix,
    item_interest: np.ndarray,
    profiles: np.ndarray,
    interest_edges: pd.DataFrame,
    *,
    item_features: np.ndarray | None = None,
    min_profile_share: float = 0.05,
) -> HeteroData:
    """The interest graph as a torch-geometric ``HeteroData`` (user, item and interest nodes).

    Args:
        interactions: ``(n_users, n_items)`` weighted behaviour edges.
        item_interest: ``(n_items,)`` coarse interest id of each item.
        profiles: ``(n_users, n_interests)`` user interest shares.
        interest_edges: Frame with ``source, target, weight`` interest co-occurrence edges.
        item_features: Optional ``(n_items, d)`` language-model embeddings stored as ``data['item'].x``.
        min_profile_share: User→interest edges below this share are left out.
    """
    import torch
    from torch_geometric.data import HeteroData

    data = HeteroData()
    n_users, n_items = interactions.shape
    n_interests = profiles.shape[1] if profiles.ndim == 2 else int(item_interest.max()) + 1
    data["user"].num_nodes = n_users
    data["item"].num_nodes = n_items
    data["interest"].num_nodes = n_interests
    if item_features is not None:
        data["item"].x = torch.as_tensor(item_features, dtype=torch.float32)
    coo = interactions.tocoo()
    data["user", "interacts", "item"].edge_index = torch.as_tensor(np.vstack([coo.row, coo.col]), dtype=torch.long)
    data["user", "interacts", "item"].edge_weight = torch.as_tensor(coo.data, dtype=torch.float32)
    items = np.flatnonzero(item_interest >= 0)
    data["item", "belongs_to", "interest"].edge_index = torch.as_tensor(
        np.vstack([items, item_interest[items]]), dtype=torch.long
    )
    u, t = np.nonzero(profiles >= min_profile_share)
    data["user", "interested_in", "interest"].edge_index = torch.as_tensor(np.vstack([u, t]), dtype=torch.long)
    data["user", "interested_in", "interest"].edge_weight = torch.as_tensor(profiles[u, t], dtype=torch.float32)
    if len(interest_edges):
        data["interest", "co_occurs", "interest"].edge_index = torch.as_tensor(
            interest_edges[["source", "target"]].to_numpy().T.astype(np.int64), dtype=torch.long
        )
        data["interest", "co_occurs", "interest"].edge_weight = torch.as_tensor(
            interest_edges["weight"].to_numpy(dtype=np.float32)
        )
    return data


def graph_counts(
    interactions: sp.csr_matrix,
    item_interest: np.ndarray,
    profiles: np.ndarray,
    interest_edges: pd.DataFrame,
    *,
    min_profile_share: float = 0.05,
) -> dict[str, int]:
    """The node and edge counts :func:`describe` gives for :func:`to_hetero_data`, without importing torch.

    Builds report these counts; importing torch-geometric just to count would cost a build seconds.
    """
    n_users, n_items = interactions.shape
    n_interests = profiles.shape[1] if profiles.ndim == 2 else int(item_interest.max()) + 1
    out = {
        "user nodes": n_users,
        "item nodes": n_items,
        "interest nodes": n_interests,
        "user-interacts-item edges": int(interactions.tocoo().nnz),
        "item-belongs_to-interest edges": int((np.asarray(item_interest) >= 0).sum()),
        "user-interested_in-interest edges": int((np.asarray(profiles) >= min_profile_share).sum()),
    }
    if len(interest_edges):
        out["interest-co_occurs-interest edges"] = len(interest_edges)
    return {k: int(v) for k, v in out.items()}


def describe(data: HeteroData) -> dict[str, int]:
    """Node and edge counts of a HeteroData graph, for reports."""
    out = {f"{t} nodes": int(data[t].num_nodes) for t in data.node_types}
    out.update({f"{'-'.join(e)} edges": int(data[e].edge_index.shape[1]) for e in data.edge_types})
    return out


def strongest_event_matrix(
    events: pd.DataFrame | EventRelation, user_index: pd.Index, item_index: pd.Index
) -> sp.csr_matrix:
    """``(n_users, n_items)`` int8 CSR: each pair's strongest positive event as its :data:`EVENT_CODES` code."""
    return pair_matrices(events, user_index, item_index).strongest
