"""The interest overview: the largest interests, grouped into clusters of interests that co-occur.

Clusters are Louvain communities (networkx, seeded) of the interest–interest graph weighted by co-occurrence, so
"Christmas decorations" and "gift wrap" share a colour and sit together; each cluster is named after its largest
interest. Edge width and tooltip carry the co-occurrence (Ochiai) weight and its lift.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.graph.adjacency import graph_index
from uig_core.graph.nodes import node_frame, pair_key
from uig_core.graph.walk import check_params, induced_edges

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["interest_overview", "CLUSTER_COLORS"]

log = logging.getLogger(__name__)

#: Cluster colours (Tableau 10), the largest cluster first; later clusters reuse them.
CLUSTER_COLORS = (
    "#54A24B",
    "#4C78A8",
    "#F58518",
    "#E45756",
    "#72B7B2",
    "#B279A2",
    "#EECA3B",
    "#FF9DA6",
    "#9D755D",
    "#BAB0AC",
)


def interest_overview(
    bundle: Bundle,
    *,
    min_weight: float = 0.0,
    max_nodes: int = 80,
    min_lift: float | None = None,
    max_links: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The interest–interest graph: the ``max_nodes`` largest interests, sized by their number of items.

    Args:
        bundle: A loaded build.
        min_weight: Hide links with a co-occurrence (Ochiai) weight below this.
        max_nodes: Most interests shown.
        min_lift: Hide links whose lift is below this (1: keep only pairs held together more often than chance).
        max_links: Keep only each interest's ``max_links`` strongest links (a link stays when it is among the
            strongest of either end), so a dense overview shows its backbone; None keeps all.

    Returns:
        ``(nodes, edges)`` in the shapes of :func:`~uig_core.graph.walk.neighborhood` (``hop`` is 0 for every
        node), plus node columns ``group`` (the cluster's name) and ``cluster`` (0 = largest); the node colour
        is the cluster's.
    """
    check_params(1, max_nodes, min_weight, set(), set())
    idx = graph_index(bundle)
    ids = [int(t) for t in idx.interests["size"].sort_values(ascending=False).index if int(t) in idx.col_of]
    hop_of = {("interest", t): 0 for t in ids[: int(max_nodes)]}
    left_out = max(len(ids) - int(max_nodes), 0)
    nodes = node_frame(idx, hop_of)
    nodes["size"] = [float(min(10 + 2.5 * np.sqrt(float(idx.interests.loc[int(k), "size"])), 70)) for k in nodes["key"]]
    every = induced_edges(idx, hop_of, {"interest-interest"}, 0.0)
    nodes = _clusters(nodes, every)
    edges = every[every["weight"] >= min_weight].reset_index(drop=True)
    if min_lift is not None and len(edges):
        lift = np.array(
            [idx.links[1].get(pair_key(a, b), np.nan) for a, b in zip(edges["source"], edges["target"], strict=True)]
        )
        edges = edges[~(lift < float(min_lift))].reset_index(drop=True)  # unknown lift (NaN) is kept
    if max_links is not None:
        edges = _backbone(edges, int(max_links))
    colour = dict(zip(nodes["id"], nodes["color"], strict=True))
    cluster = dict(zip(nodes["id"], nodes["cluster"], strict=True))
    edges["color"] = [  # a link inside a cluster takes its colour; links across clusters stay grey
        colour[a] if cluster[a] == cluster[b] else "#bdbdbd"
        for a, b in zip(edges["source"], edges["target"], strict=True)
    ]
    nodes.attrs["left_out"] = left_out  # interests beyond max_nodes (the page says so)
    return nodes, edges


def _clusters(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Louvain communities of the shown interests (every link counts, whatever the view's filters)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(nodes["id"])
    graph.add_weighted_edges_from(zip(edges["source"], edges["target"], edges["weight"].clip(lower=1e-6), strict=True))
    parts = nx.community.louvain_communities(graph, weight="weight", seed=0) if len(nodes) else []
    size = dict(zip(nodes["id"], nodes["size"], strict=True))
    label = dict(zip(nodes["id"], nodes["label"], strict=True))
    # largest cluster first (by the items of its interests), then by its largest interest's id for ties
    parts = sorted(
        (sorted(p, key=lambda i: (-size[i], i)) for p in parts), key=lambda p: (-sum(size[i] for i in p), p[0])
    )
    cluster = {nid: c for c, part in enumerate(parts) for nid in part}
    name = {c: label[part[0]] for c, part in enumerate(parts)}
    out = nodes.copy()
    out["cluster"] = [cluster[i] for i in out["id"]]
    out["group"] = [name[c] for c in out["cluster"]]
    out["color"] = [CLUSTER_COLORS[c % len(CLUSTER_COLORS)] for c in out["cluster"]]
    out["title"] = [f"{t}\ncluster: {g}" for t, g in zip(out["title"], out["group"], strict=True)]
    return out


def _backbone(edges: pd.DataFrame, per_node: int) -> pd.DataFrame:
    """The links among the ``per_node`` strongest of either end (strongest first)."""
    if per_node < 1:
        raise ConfigError(f"The 'max_links' parameter must be an int in [1, inf). Got {per_node!r} instead.")
    order = edges.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)
    ends = pd.DataFrame(
        {"link": np.tile(np.arange(len(order)), 2), "node": np.concatenate([order["source"], order["target"]])}
    ).sort_values("link", kind="stable")  # links are already strongest first
    ends["rank"] = ends.groupby("node").cumcount()
    best = ends.groupby("link")["rank"].min().reindex(range(len(order))).to_numpy()
    return order[best < per_node].reset_index(drop=True)
