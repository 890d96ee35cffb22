"""The breadth-first neighbourhood of one node (the "hops" view), and the edges induced among any node set.

The walk touches a handful of nodes through the lazy :class:`~uig_core.graph.adjacency.GraphIndex`; the edge types
and what their weights mean are in :mod:`uig_core.graph.nodes`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.graph.adjacency import PROFILE_EDGE_MIN, GraphIndex, graph_index
from uig_core.graph.nodes import (
    DEFAULT_EDGE_TYPES,
    EDGE_COLUMNS,
    EDGE_TYPES,
    NODE_TYPES,
    edge_title,
    node_frame,
    node_id,
    pair_key,
    resolve_center,
)

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["neighborhood", "induced_edges", "check_params"]

log = logging.getLogger(__name__)


def _strongest(kind: str, rows: np.ndarray, strength: np.ndarray, limit: int) -> list[tuple[str, int, float]]:
    """The ``limit`` strongest of one node's neighbours: no others can survive the walk's cut (see neighborhood)."""
    if len(rows) > limit:
        keep = np.lexsort((rows, -strength))[:limit]
        rows, strength = rows[keep], strength[keep]
    return [(kind, int(j), float(w)) for j, w in zip(rows, strength, strict=True)]


def _neighbours(
    idx: GraphIndex, kind: str, i: int, types: tuple[set[str], set[str]], min_weight: float, limit: int
) -> Iterable[tuple[str, int, float]]:
    """``(type, index, strength)`` of a node's strongest neighbours (at most ``limit`` of each type)."""
    node_types, edge_types = types
    if kind == "user":
        if "user-item" in edge_types and "item" in node_types:
            cols, raw = idx.user_items(i)
            yield from _strongest("item", cols, idx.strength(raw), limit)
        if "user-interest" in edge_types and "interest" in node_types:
            prof = np.asarray(idx.bundle.profiles[i])
            for c in np.flatnonzero(prof >= PROFILE_EDGE_MIN):
                yield "interest", int(idx.interest_ids[c]), float(prof[c])
        links = idx.bundle.user_links if "user-user" in edge_types and "user" in node_types else None
        if links is not None:
            rows, sims, _ = links.of(i)
            yield from (("user", int(r), float(w)) for r, w in zip(rows, sims, strict=True))
    elif kind == "item":
        if "user-item" in edge_types and "user" in node_types:
            rows, raw = idx.item_users(i)
            yield from _strongest("user", rows, idx.strength(raw), limit)
        t = int(idx.item_interest[i])
        if "item-interest" in edge_types and "interest" in node_types and t in idx.col_of:
            yield "interest", t, 1.0
    else:
        if "item-interest" in edge_types and "item" in node_types:
            yield from (("item", int(j), 1.0) for j in idx.items_of.get(i, ())[:limit])
        if "user-interest" in edge_types and "user" in node_types:
            hold = idx.interest_users(i, min_weight)
            share = np.asarray(idx.bundle.profiles[hold, idx.col_of[i]], dtype=np.float32)
            yield from _strongest("user", hold, share, limit)
        if "interest-interest" in edge_types and "interest" in node_types:
            yield from (("interest", t, w) for t, w in idx.links[0].get(i, ()))


def _admit(cands: dict[tuple[str, int], float], budget: int) -> list[tuple[str, int]]:
    """The ``budget`` strongest candidates, taken in turn across node types so no type crowds out the others."""
    by_type: dict[str, list[tuple[float, int]]] = {}
    for (kind, i), w in cands.items():
        by_type.setdefault(kind, []).append((w, i))
    ranked = []
    for kind, lst in by_type.items():
        lst.sort(key=lambda x: (-x[0], x[1]))
        ranked += [(rank, -w, NODE_TYPES.index(kind), i, kind) for rank, (w, i) in enumerate(lst)]
    ranked.sort()
    return [(kind, i) for *_, i, kind in ranked[:budget]]


def check_params(depth: int, max_nodes: int, min_weight: float, node_types: set[str], edge_types: set[str]) -> None:
    """Raise :class:`ConfigError` naming the parameter, its value and the allowed range."""
    if not isinstance(depth, (int, np.integer)) or not 1 <= depth <= 3:
        raise ConfigError(f"The 'depth' parameter of neighborhood must be an int in [1, 3]. Got {depth!r} instead.")
    if not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1:
        raise ConfigError(f"The 'max_nodes' parameter must be an int in [1, inf). Got {max_nodes!r} instead.")
    if not 0.0 <= float(min_weight) <= 1.0:
        raise ConfigError(
            f"The 'min_weight' parameter must be in [0, 1] (edge strengths are normalised). Got {min_weight!r} instead."
        )
    if bad := node_types - set(NODE_TYPES):
        raise ConfigError(f"unknown node type(s) {sorted(bad)}; choose from {', '.join(NODE_TYPES)}.")
    if bad := edge_types - set(EDGE_TYPES):
        raise ConfigError(f"unknown edge type(s) {sorted(bad)}; choose from {', '.join(EDGE_TYPES)}.")


def neighborhood(
    bundle: Bundle,
    center: str,
    *,
    depth: int = 1,
    node_types: Iterable[str] = NODE_TYPES,
    edge_types: Iterable[str] = DEFAULT_EDGE_TYPES,
    min_weight: float = 0.0,
    max_nodes: int = 150,
    max_edges: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The neighbourhood of one node, walked breadth-first up to ``depth`` hops.

    At each hop the new neighbours are ranked by the strength of their strongest edge to the nodes already
    taken; when ``max_nodes`` would be exceeded only the strongest are kept (taken in turn across node types).
    The edges returned are all allowed edges among the kept nodes with ``weight >= min_weight``; beyond
    ``max_edges`` (default ``4 * max_nodes``) the weakest are dropped, but every node keeps its strongest edge.

    Args:
        bundle: A loaded :class:`~uig_core.build.bundle.Bundle`.
        center: ``user:ID``, ``item:ID``, ``interest:ID`` or a bare ID (item, then user, then interest).
        depth: Hops from the center, 1 to 3.
        node_types: Node types to show (the center is always shown).
        edge_types: Edge types to walk and show (see the module table).
        min_weight: Edges weaker than this normalised strength in [0, 1] are ignored.
        max_nodes: Most nodes, the center included.
        max_edges: Most edges.

    Returns:
        ``(nodes, edges)``: nodes ``id, type, key, label, title, size, color, hop`` (center first, ``hop`` 0) and
        edges ``source, target, type, weight, raw, title``. ``label``/``title`` are cleaned plain text.

    Raises:
        UnknownId: The center does not exist.
        ConfigError: A parameter is out of range.
    """
    node_types, edge_types = set(node_types), set(edge_types)
    check_params(depth, max_nodes, min_weight, node_types, edge_types)
    idx = graph_index(bundle)
    center_key = resolve_center(bundle, center)
    hop_of: dict[tuple[str, int], int] = {center_key: 0}
    frontier = [center_key]
    capped = False  # whether max_nodes left out nodes the walk reached (the page says so)
    for hop in range(1, int(depth) + 1):
        budget = int(max_nodes) - len(hop_of)
        if budget <= 0 or not frontier:
            capped = capped or bool(frontier)
            break
        cands: dict[tuple[str, int], float] = {}
        for kind, i in frontier:
            # nodes already taken may fill part of a neighbour list: keep enough that `budget` new ones remain
            limit = budget + len(hop_of)
            for nk, j, w in _neighbours(idx, kind, i, (node_types, edge_types), min_weight, limit):
                key = (nk, j)
                if w >= min_weight and key not in hop_of and w > cands.get(key, -1.0):
                    cands[key] = w
        frontier = _admit(cands, budget)
        capped = capped or len(cands) > len(frontier)
        hop_of.update({k: hop for k in frontier})
    edges = induced_edges(idx, hop_of, edge_types, min_weight)
    n_edges = len(edges)
    edges = _cap_edges(edges, int(max_edges) if max_edges else 4 * int(max_nodes), node_id(idx, *center_key))
    nodes = node_frame(idx, hop_of)
    nodes.attrs["capped"], edges.attrs["edges_cut"] = capped, n_edges - len(edges)
    return nodes, edges


def induced_edges(
    idx: GraphIndex, hop_of: dict[tuple[str, int], int], edge_types: set[str], min_weight: float
) -> pd.DataFrame:
    """Every allowed edge among the nodes of ``hop_of`` with ``weight >= min_weight`` (:data:`EDGE_COLUMNS`)."""
    users = np.array(sorted(i for k, i in hop_of if k == "user"), dtype=np.int64)
    items = np.array(sorted(i for k, i in hop_of if k == "item"), dtype=np.int64)
    ints = np.array(sorted(i for k, i in hop_of if k == "interest"), dtype=np.int64)
    rows: list[tuple[str, str, str, float, float]] = []
    if "user-item" in edge_types and len(users) and len(items):
        s = idx.bundle.interactions[users][:, items].tocoo()
        ids = {int(u): idx.user_id(u) for u in users}
        for r, c, w, x in zip(s.row, s.col, idx.strength(s.data), s.data, strict=True):
            rows.append(
                (f"user:{ids[int(users[r])]}", f"item:{idx.item_ids[items[c]]}", "user-item", float(w), float(x))
            )
    if "item-interest" in edge_types and len(items) and len(ints):
        tset = set(ints.tolist())
        for j in items:
            t = int(idx.item_interest[j])
            if t in tset:
                rows.append((f"item:{idx.item_ids[j]}", f"interest:{t}", "item-interest", 1.0, 1.0))
    if "user-interest" in edge_types and len(users) and len(ints):
        cols = np.array([idx.col_of[t] for t in ints])
        sub = np.asarray(idx.bundle.profiles[users])[:, cols]
        for r, c in zip(*np.nonzero(sub >= PROFILE_EDGE_MIN), strict=True):
            w = float(sub[r, c])
            rows.append((f"user:{idx.user_id(users[r])}", f"interest:{ints[c]}", "user-interest", w, w))
    if "user-user" in edge_types and len(users) > 1 and idx.bundle.user_links is not None:
        rows.extend(_user_user_edges(idx, users))
    if "interest-interest" in edge_types and len(ints) > 1:
        tset = set(ints.tolist())
        for s_ in ints:
            for t, w in idx.links[0].get(int(s_), ()):
                if t in tset and s_ < t:
                    rows.append((f"interest:{s_}", f"interest:{t}", "interest-interest", float(w), float(w)))
    frame = pd.DataFrame(rows, columns=["source", "target", "type", "weight", "raw"])
    frame = frame[frame["weight"] >= min_weight].reset_index(drop=True)
    frame["title"] = [edge_title(t, w, x) for t, w, x in zip(frame["type"], frame["weight"], frame["raw"], strict=True)]
    ii = (frame["type"] == "interest-interest").to_numpy()
    if ii.any():
        lift = [
            idx.links[1].get(pair_key(a, b), np.nan)
            for a, b in zip(frame["source"][ii], frame["target"][ii], strict=True)
        ]
        frame.loc[ii, "title"] = [
            f"{t}\nlift {v:.2f} (above 1: more users hold both than chance)" if np.isfinite(v) else t
            for t, v in zip(frame["title"][ii], lift, strict=True)
        ]
    return frame[EDGE_COLUMNS]


def _user_user_edges(idx: GraphIndex, users: np.ndarray) -> list[tuple[str, str, str, float, float]]:
    """The stored user–user edges among ``users``, once per pair (the stronger direction)."""
    links, kept, best = idx.bundle.user_links, set(users.tolist()), {}
    for u in users:
        rows, sims, _ = links.of(int(u))
        for v, w in zip(rows.tolist(), sims.tolist(), strict=True):
            if v in kept and v != u:
                key = (min(int(u), v), max(int(u), v))
                best[key] = max(best.get(key, 0.0), float(w))
    return [
        (f"user:{idx.user_id(a)}", f"user:{idx.user_id(b)}", "user-user", w, w) for (a, b), w in sorted(best.items())
    ]


def _cap_edges(edges: pd.DataFrame, max_edges: int, center: str) -> pd.DataFrame:
    if len(edges) <= max_edges:
        return edges.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)
    order = edges.sort_values("weight", ascending=False, kind="stable")
    keep: set[int] = set()
    seen: set[str] = {center}
    for pos, s, t in zip(order.index, order["source"], order["target"], strict=True):
        if s not in seen or t not in seen:  # every node keeps its strongest edge
            keep.add(pos)
            seen.update((s, t))
    for pos in order.index:
        if len(keep) >= max_edges:
            break
        keep.add(pos)
    return order.loc[[p for p in order.index if p in keep]].reset_index(drop=True)
