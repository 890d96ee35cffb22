"""Positions for a graph view, computed before drawing so the page shows a still, fitted picture.

vis-network's force layout never settles on a dense star and leaves nodes off-screen; here every node gets fixed
``x, y`` (canvas pixels at zoom 1) and the page draws them with physics off, then fits the view:

* a neighbourhood is laid out as a radial tree: the center in the middle, each hop on a ring, every node in the
  angular slot of the node it was reached through (an interest's items fan out behind the interest);
* the interest overview is a weighted spring layout (networkx, seeded) started from its clusters placed on a
  circle, so interests that co-occur sit together;
* then label boxes are pushed apart until no two collide (a few vectorised passes), so labels stay readable.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from uig_core.graph.nodes import display_width, shown_label

__all__ = ["place", "label_boxes", "overlaps"]

log = logging.getLogger(__name__)

#: Canvas pixels per display column of a 13 px label, and a label line's height.
CHAR_W, LINE_H = 7.2, 18.0
_RING_GAP = (240.0, 200.0, 180.0)
_SLOT = 30.0  # least arc length between two nodes on a ring
_ASPECT = 1.5  # width / height of the overview's layout (the page's canvas is about 980 x 700)
_DENSITY = 0.3  # share of the overview's area its label boxes cover before they are pushed apart
_FAN = 2 * math.pi / 3  # widest angle the children of one node spread over


def place(nodes: pd.DataFrame, edges: pd.DataFrame, *, labelled: set[str] | None = None) -> pd.DataFrame:
    """``nodes`` with ``x`` and ``y`` columns: a radial tree around hop 0, or a spring layout when all are hop 0.

    Args:
        nodes: A node frame (``id``, ``hop``, ``size``, ``label``; ``group`` clusters the overview when present).
        edges: Its edge frame (``source``, ``target``, ``weight``).
        labelled: Ids whose label is drawn (their boxes must not collide); default all.

    Returns:
        A copy of ``nodes`` with float ``x``, ``y`` (deterministic for the same frames).
    """
    out = nodes.copy()
    if out.empty:
        return out.assign(x=pd.Series(dtype=float), y=pd.Series(dtype=float))
    hops = out["hop"].to_numpy()
    w, h = label_boxes(out, labelled)
    xy = _spring(out, edges, w * h) if (hops == 0).all() and len(out) > 1 else _radial(out, edges, (w + h) / 2)
    fixed = np.zeros(len(out), dtype=bool) if (hops == 0).all() else hops == 0
    xy = _separate(xy, w, h, fixed)
    out["x"], out["y"] = np.round(xy[:, 0], 1), np.round(xy[:, 1], 1)
    return out


def label_boxes(nodes: pd.DataFrame, labelled: set[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Width and height (canvas pixels) of each node with its label below it."""
    size = nodes["size"].to_numpy(dtype=float)
    shown = np.array([labelled is None or i in labelled for i in nodes["id"]], dtype=bool)
    overview = bool((nodes["hop"] == 0).all()) if "hop" in nodes else False
    kinds = nodes["type"] if "type" in nodes else pd.Series("interest", index=nodes.index)
    texts = [shown_label(k, t, overview=overview) for k, t in zip(kinds, nodes["label"], strict=True)]
    width = np.array([label_width(t) for t in texts], dtype=float) * shown
    return np.maximum(2 * size, width) + 6.0, 2 * size + np.where(shown, LINE_H, 0.0) + 4.0


def label_width(text: str) -> float:
    """Approximate width in pixels of a 13-15 px sans-serif label (capitals and wide characters are wider)."""
    upper = sum(ch.isupper() for ch in text)
    return CHAR_W * display_width(text) + 2.4 * upper


def overlaps(xy: np.ndarray, w: np.ndarray, h: np.ndarray) -> int:
    """How many pairs of boxes (centred at ``xy``) overlap."""
    dx, dy = _gaps(xy, w, h)
    return int(np.triu((dx > 0.5) & (dy > 0.5), 1).sum())


def _gaps(xy: np.ndarray, w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx = (w[:, None] + w[None, :]) / 2 - np.abs(xy[:, None, 0] - xy[None, :, 0])
    dy = (h[:, None] + h[None, :]) / 2 - np.abs(xy[:, None, 1] - xy[None, :, 1])
    return dx, dy


def _separate(xy: np.ndarray, w: np.ndarray, h: np.ndarray, fixed: np.ndarray, passes: int = 150) -> np.ndarray:
    """Push overlapping boxes apart along the axis of least overlap until none overlap (or ``passes`` run out)."""
    xy = xy.astype(float).copy()
    n = len(xy)
    if n < 2 or n > 1500:  # quadratic; larger views keep their layout
        return xy
    jitter = np.random.default_rng(0).normal(0, 1e-3, size=xy.shape)
    xy += jitter  # coincident nodes need a direction
    move = (~fixed).astype(float)
    for _ in range(passes):
        dx, dy = _gaps(xy, w, h)
        hit = (dx > 0) & (dy > 0)
        np.fill_diagonal(hit, False)
        if not hit.any():
            break
        sx = np.sign(xy[:, None, 0] - xy[None, :, 0])
        sy = np.sign(xy[:, None, 1] - xy[None, :, 1])
        along_x = hit & (dx <= dy)
        along_y = hit & (dx > dy)
        share = move[:, None] / np.maximum(move[:, None] + move[None, :], 1e-9)  # fixed nodes do not move
        xy[:, 0] += (np.where(along_x, sx * (dx + 1) * share, 0.0)).sum(axis=1) * 0.5
        xy[:, 1] += (np.where(along_y, sy * (dy + 1) * share, 0.0)).sum(axis=1) * 0.5
    return xy


# ---------------------------------------------------------------------------------------------- radial tree
def _parents(nodes: pd.DataFrame, edges: pd.DataFrame) -> list[int]:
    """Per node, the row of the node it hangs from: its strongest edge to a lower hop (the center's is -1)."""
    row = {nid: k for k, nid in enumerate(nodes["id"])}
    hop = nodes["hop"].to_numpy()
    root = int(np.argmin(hop))
    best: dict[int, tuple[float, int]] = {}
    for s, t, w in zip(edges["source"], edges["target"], edges["weight"], strict=True):
        a, b = row.get(s), row.get(t)
        if a is None or b is None or hop[a] == hop[b]:
            continue
        child, parent = (a, b) if hop[a] > hop[b] else (b, a)
        if float(w) > best.get(child, (-1.0, -1))[0]:
            best[child] = (float(w), parent)
    return [-1 if k == root else best.get(k, (0.0, root))[1] for k in range(len(nodes))]


def _radial(nodes: pd.DataFrame, edges: pd.DataFrame, arc: np.ndarray) -> np.ndarray:
    """Radial tree positions; ``arc`` is the arc length each node needs on its ring (its label box)."""
    parent = _parents(nodes, edges)
    n = len(nodes)
    children: dict[int, list[int]] = {k: [] for k in range(-1, n)}
    for k, p in enumerate(parent):
        children[p].append(k)
    hop = np.zeros(n, dtype=int)
    leaves = np.ones(n)
    order = _depth_first(children)
    for k in order:  # hops along the tree, whatever the frame says
        hop[k] = 0 if parent[k] < 0 else hop[parent[k]] + 1
    for k in reversed(order):
        if children[k]:
            leaves[k] = sum(leaves[c] for c in children[k])
    radius, need = [0.0], np.bincount(hop, weights=np.maximum(arc, _SLOT), minlength=hop.max() + 1)
    for h in range(1, hop.max() + 1):
        gap = _RING_GAP[min(h - 1, len(_RING_GAP) - 1)]
        radius.append(max(radius[-1] + gap, need[h] / (2 * math.pi)))
    xy = np.zeros((n, 2))
    span: dict[int, tuple[float, float]] = {}
    for k in order:
        lo, hi = span.get(k, (0.0, 2 * math.pi))
        if parent[k] >= 0:
            a = (lo + hi) / 2
            xy[k] = radius[hop[k]] * math.cos(a), radius[hop[k]] * math.sin(a)
            if hi - lo > _FAN:  # a lone interest's items fan out behind it, not around the center
                lo, hi = a - _FAN / 2, a + _FAN / 2
        start = lo
        total = max(sum(leaves[c] for c in children[k]), 1.0)
        for c in children[k]:
            width = (hi - lo) * leaves[c] / total
            span[c] = (start, start + width)
            start += width
    return xy


def _depth_first(children: dict[int, list[int]]) -> list[int]:
    order, stack = [], list(reversed(children[-1]))
    while stack:
        k = stack.pop()
        order.append(k)
        stack.extend(reversed(children[k]))
    return order


# ---------------------------------------------------------------------------------------------- spring
def _spring(nodes: pd.DataFrame, edges: pd.DataFrame, area: np.ndarray) -> np.ndarray:
    """Seeded spring layout from clusters on a circle, scaled so label boxes fill about a quarter of the area."""
    import networkx as nx

    ids = list(nodes["id"])
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    for s, t, w in zip(edges["source"], edges["target"], edges["weight"], strict=True):
        if s in graph and t in graph and s != t:
            graph.add_edge(s, t, weight=max(float(w), 1e-3))
    groups = nodes["group"].tolist() if "group" in nodes else [0] * len(ids)
    keys = list(dict.fromkeys(groups))
    start = {}
    for k, (nid, g) in enumerate(zip(ids, groups, strict=True)):
        a = 2 * math.pi * keys.index(g) / max(len(keys), 1)
        start[nid] = (math.cos(a) + 0.05 * math.cos(k), math.sin(a) + 0.05 * math.sin(k))
    pos = nx.spring_layout(graph, pos=start, weight="weight", seed=0, iterations=150, k=1.6 / math.sqrt(len(ids)))
    xy = np.array([pos[i] for i in ids], dtype=float)
    xy -= xy.mean(axis=0)
    xy[:, 0] *= _ASPECT  # canvases are wide: use the width
    extent = float(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1])) or 1.0
    return xy * math.sqrt(float(area.sum()) / _DENSITY / extent)
