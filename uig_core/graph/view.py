r"""Neighbourhoods of the user–item–interest graph, as node and edge frames.

Five edge types join three node types:

==================  ===========================  ==========================================================
edge type           raw weight                   ``weight`` (the [0, 1] strength used by filters and caps)
==================  ===========================  ==========================================================
user-item           decayed behaviour weight     percentile rank among all user–item weights of the build
item-interest       membership (1)               1
user-interest       the user's profile share     the share (edges below :data:`PROFILE_EDGE_MIN` are absent)
interest-interest   co-occurrence (Ochiai)       the Ochiai weight
user-user           cosine of the user vectors   the cosine (the build's stored links; on request only)
==================  ===========================  ==========================================================

Titles and names come from uploaded logs: :func:`clean_text` drops control characters and caps their length
here; :mod:`uig_core.graph.html` draws the frames as an offline page and says how the text stays inert there.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError, UnknownId
from uig_core.graph.adjacency import PROFILE_EDGE_MIN, GraphIndex, graph_index

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = [
    "NODE_TYPES",
    "EDGE_TYPES",
    "DEFAULT_EDGE_TYPES",
    "NODE_COLORS",
    "PROFILE_EDGE_MIN",
    "neighborhood",
    "interest_overview",
    "default_center",
    "choice_labels",
    "resolve_center",
    "clean_text",
]

log = logging.getLogger(__name__)

NODE_TYPES: tuple[str, ...] = ("user", "item", "interest")
EDGE_TYPES: tuple[str, ...] = ("user-item", "item-interest", "user-interest", "interest-interest", "user-user")
#: Edge types a view walks unless asked otherwise (user–user edges are on request: they crowd a neighbourhood).
DEFAULT_EDGE_TYPES: tuple[str, ...] = EDGE_TYPES[:4]
NODE_COLORS: dict[str, str] = {"user": "#4C78A8", "item": "#F58518", "interest": "#54A24B"}
_ENDS = {
    "user-item": ("user", "item"),
    "item-interest": ("item", "interest"),
    "user-interest": ("user", "interest"),
    "interest-interest": ("interest", "interest"),
    "user-user": ("user", "user"),
}
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]")
NODE_COLUMNS = ["id", "type", "key", "label", "title", "size", "color", "hop"]
EDGE_COLUMNS = ["source", "target", "type", "weight", "raw", "title"]


# ---------------------------------------------------------------------------------------------- text
def clean_text(value: Any, limit: int = 80) -> str:
    """Untrusted text made printable: control characters dropped, whitespace collapsed, capped at ``limit``.

    ``limit`` counts display columns: a wide character (Chinese, Japanese, Korean, full-width forms) takes two, so
    a label of 14 Chinese characters fits where 28 Latin letters do.
    """
    try:
        missing = value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # list-likes are not missing
        missing = False
    text = "" if missing else str(value)[: 4 * limit + 64]  # a 200k-character title costs no more than a short one
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) <= limit // 2:  # fits even if every character is wide
        return text
    ends = list(accumulate(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text))
    if ends[-1] <= limit:
        return text
    cut = bisect_right(ends, max(1, limit - 1))  # characters that fit beside the ellipsis
    return text[: max(1, cut)] + "…"


# ---------------------------------------------------------------------------------------------- resolving
def resolve_center(bundle: Bundle, center: str) -> tuple[str, int]:
    """Turn ``user:ID``, ``item:ID``, ``interest:ID`` (id or exact name) or a bare ID into ``(type, index)``.

    A bare ID resolves as an item, then a user, then an interest. The index is the row for users and items and
    the interest id for interests.

    Raises:
        UnknownId: Nothing of that id exists (the message says what was tried).
    """
    idx = graph_index(bundle)
    text = str(center).strip()
    kind, _, key = text.partition(":")
    if kind not in NODE_TYPES or not key:
        kind, key = "", text
    tried = [kind] if kind else list(("item", "user", "interest"))
    for t in tried:
        if t in ("item", "user"):
            pos = idx.row_of(t, key)
            if pos >= 0:
                return t, int(pos)
        else:
            found = _find_interest(idx, key)
            if found is not None:
                return "interest", found
    what = f"{kind} {key!r}" if kind else f"{key!r} (tried item, user and interest ids)"
    raise UnknownId(
        f"{what} is not in dataset {bundle.meta.get('dataset', '?')!r}; write user:ID, item:ID or "
        f"interest:ID (an interest id or its exact name), or search for it first."
    )


def _names(idx: GraphIndex) -> dict[int, str]:
    return {int(t): clean_text(n, 60) for t, n in zip(idx.interests.index, idx.interests["name"], strict=True)}


def _find_interest(idx: GraphIndex, key: str) -> int | None:
    if re.fullmatch(r"-?\d+", key) and int(key) in idx.col_of:
        return int(key)
    lowered = key.casefold()
    for t, name in _names(idx).items():
        if name.casefold() == lowered and t in idx.col_of:
            return t
    return None


def _node_id(idx: GraphIndex, kind: str, i: int) -> str:
    if kind == "user":
        return f"user:{idx.user_id(i)}"
    if kind == "item":
        return f"item:{idx.item_ids[i]}"
    return f"interest:{i}"


def default_center(bundle: Bundle) -> str:
    """A readable starting point: the user with the most purchases (bots never buy), else the busiest item."""
    users = graph_index(bundle).users
    for col in ("n_purchase", "spend", "orders"):
        if col in users and len(users) and float(users[col].max()) > 0:
            return f"user:{users['user_id'].astype(str).iat[int(np.argmax(users[col].to_numpy()))]}"
    idx = graph_index(bundle)
    if idx.shape[1]:
        indptr, _ = bundle.item_users
        return f"item:{idx.item_ids[int(np.argmax(np.diff(np.asarray(indptr))))]}"
    sizes = idx.interests["size"]
    return f"interest:{int(sizes.idxmax())}"


def choice_labels(frame: pd.DataFrame) -> dict[str, str]:
    """``id -> "type key · label"`` for select boxes: unique per node, since ids are unique per type."""
    out = {}
    for node_id, kind, key, label in zip(frame["id"], frame["type"], frame["key"], frame["label"], strict=True):
        key = clean_text(key, 40)
        out[str(node_id)] = f"{kind} {key}" + (f" · {label}" if label and label != key else "")
    return out


# ---------------------------------------------------------------------------------------------- walking
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


def _check(depth: int, max_nodes: int, min_weight: float, node_types: set[str], edge_types: set[str]) -> None:
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
    _check(depth, max_nodes, min_weight, node_types, edge_types)
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
    edges = _induced_edges(idx, hop_of, edge_types, min_weight)
    n_edges = len(edges)
    edges = _cap_edges(edges, int(max_edges) if max_edges else 4 * int(max_nodes), _node_id(idx, *center_key))
    nodes = _node_frame(idx, hop_of)
    nodes.attrs["capped"], edges.attrs["edges_cut"] = capped, n_edges - len(edges)
    return nodes, edges


def _induced_edges(
    idx: GraphIndex, hop_of: dict[tuple[str, int], int], edge_types: set[str], min_weight: float
) -> pd.DataFrame:
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
    frame["title"] = [
        _edge_title(t, w, x) for t, w, x in zip(frame["type"], frame["weight"], frame["raw"], strict=True)
    ]
    ii = (frame["type"] == "interest-interest").to_numpy()
    if ii.any():
        lift = [
            idx.links[1].get(_pair(a, b), np.nan) for a, b in zip(frame["source"][ii], frame["target"][ii], strict=True)
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


def _pair(a: str, b: str) -> tuple[int, int]:
    x, y = int(a.split(":", 1)[1]), int(b.split(":", 1)[1])
    return min(x, y), max(x, y)


def _edge_title(kind: str, weight: float, raw: float) -> str:
    if kind == "user-item":
        return f"behaviour weight {raw:.2f} (stronger than {weight:.0%} of user–item edges)"
    if kind == "user-interest":
        return f"{raw:.0%} of the user's interest profile"
    if kind == "interest-interest":
        return f"co-occurrence {raw:.2f} (Ochiai)"
    if kind == "user-user":
        return f"similar users (cosine {raw:.2f} of their user vectors)"
    return "item belongs to this interest"


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


def _user_node(idx: GraphIndex, names: dict[int, str], i: int) -> tuple[str, str, float]:
    u = idx.users.iloc[i]
    prof = np.asarray(idx.bundle.profiles[i])
    likes = ", ".join(
        f"{names.get(int(idx.interest_ids[c]), '?')} {prof[c]:.0%}" for c in np.argsort(-prof)[:3] if prof[c] > 0
    )
    key = idx.user_id(i)
    title = (
        f"user {clean_text(key, 60)}\n{_num(u.get('n_events')):,.0f} events · "
        f"{_num(u.get('n_purchase')):,.0f} purchases · spend {_num(u.get('spend')):,.2f}"
        + (f"\ninterests: {likes}" if likes else "")
    )
    return clean_text(key, 30), title, 8 + 2 * np.log1p(_num(u.get("n_events")))


def _item_node(idx: GraphIndex, names: dict[int, str], i: int) -> tuple[str, str, float]:
    it = idx.bundle.items.iloc[i]
    cat = clean_text(it.get("category"), 60)
    title = (
        f"item {clean_text(idx.item_ids[i], 60)}\n{clean_text(idx.titles[i], 200)}"
        + (f"\ncategory: {cat}" if cat else "")
        + f"\ninterest: {names.get(int(idx.item_interest[i]), 'none')}\n{_num(it.get('n_users')):,.0f} users"
    )
    return clean_text(idx.titles[i], 28), title, 6 + 2 * np.log1p(_num(it.get("n_users")))


def _interest_node(idx: GraphIndex, names: dict[int, str], i: int) -> tuple[str, str, float]:
    row = idx.interests.loc[i]
    label = names.get(i, str(i))
    raw_tops = row.get("top_titles")
    tops = [clean_text(x, 50) for x in (list(raw_tops) if raw_tops is not None else [])[:3]]
    title = f"interest {i}: {label}\n{int(row['size']):,} items · {idx.holders(i):,} users" + (
        f"\ne.g. {'; '.join(tops)}" if tops else ""
    )
    return label, title, 12 + 1.5 * np.sqrt(float(row["size"]))


_NODE_TEXT = {"user": _user_node, "item": _item_node, "interest": _interest_node}


def _node_frame(idx: GraphIndex, hop_of: dict[tuple[str, int], int]) -> pd.DataFrame:
    names = _names(idx)
    rows = []
    for (kind, i), hop in hop_of.items():
        label, title, size = _NODE_TEXT[kind](idx, names, i)
        rows.append(
            {
                "id": _node_id(idx, kind, i),
                "type": kind,
                "key": idx.user_id(i) if kind == "user" else str(idx.item_ids[i]) if kind == "item" else str(i),
                "label": label,
                "title": title,
                "size": float(min(size * (1.6 if hop == 0 else 1.0), 70)),
                "color": NODE_COLORS[kind],
                "hop": hop,
            }
        )
    return pd.DataFrame(rows, columns=NODE_COLUMNS)


def _num(value: Any) -> float:
    """A finite float, 0 for missing values."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return out if np.isfinite(out) else 0.0


def interest_overview(
    bundle: Bundle, *, min_weight: float = 0.0, max_nodes: int = 80, min_lift: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The interest–interest graph: the ``max_nodes`` largest interests, sized by their number of items.

    Args:
        bundle: A loaded build.
        min_weight: Hide links with a co-occurrence (Ochiai) weight below this.
        max_nodes: Most interests shown.
        min_lift: Hide links whose lift is below this (1: keep only pairs held together more often than chance).

    Returns:
        ``(nodes, edges)`` in the shapes of :func:`neighborhood` (``hop`` is 0 for every node).
    """
    _check(1, max_nodes, min_weight, set(), set())
    idx = graph_index(bundle)
    ids = [int(t) for t in idx.interests["size"].sort_values(ascending=False).index if int(t) in idx.col_of]
    hop_of = {("interest", t): 0 for t in ids[: int(max_nodes)]}
    left_out = max(len(ids) - int(max_nodes), 0)
    nodes = _node_frame(idx, hop_of)
    nodes["size"] = [float(min(10 + 2.5 * np.sqrt(float(idx.interests.loc[int(k), "size"])), 70)) for k in nodes["key"]]
    edges = _induced_edges(idx, hop_of, {"interest-interest"}, min_weight)
    if min_lift is not None and len(edges):
        lift = np.array(
            [idx.links[1].get(_pair(a, b), np.nan) for a, b in zip(edges["source"], edges["target"], strict=True)]
        )
        edges = edges[~(lift < float(min_lift))].reset_index(drop=True)  # unknown lift (NaN) is kept
    nodes.attrs["left_out"] = left_out  # interests beyond max_nodes (the page says so)
    return nodes, edges
