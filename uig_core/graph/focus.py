"""Interest-first neighbourhoods: the interest structure of a user or an item, not a star of every edge.

* a user → the interests of their profile (sized by share) → the items of each interest they touched most
  (``per_interest`` of them; the interest's tooltip says how many more there are);
* an item → its interest, the items its shoppers also took (share of its shoppers in common) and its strongest
  shoppers, with the behaviour edges among them (who buys the similar items);
* an interest → the one-hop neighbourhood of :func:`~uig_core.graph.walk.neighborhood`.

Frames have the columns of :func:`~uig_core.graph.walk.neighborhood`; ``hop`` is the ring of the radial layout.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.graph.adjacency import PROFILE_EDGE_MIN, GraphIndex, graph_index
from uig_core.graph.nodes import EDGE_COLUMNS, edge_title, node_frame, node_id, resolve_center
from uig_core.graph.walk import induced_edges, neighborhood

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["interest_first", "user_interests", "item_context"]

log = logging.getLogger(__name__)

_CO_USERS = 500  # strongest shoppers of an item read for "also taken" (a popular item has many thousands)


def interest_first(bundle: Bundle, center: str, *, per_interest: int = 5, max_interests: int = 10) -> tuple:
    """The interest-first neighbourhood of ``center`` (a user, an item or an interest).

    Args:
        bundle: A loaded build.
        center: ``user:ID``, ``item:ID``, ``interest:ID`` or a bare ID (see
            :func:`~uig_core.graph.nodes.resolve_center`).
        per_interest: Items shown per interest of a user; similar items and shoppers shown around an item.
        max_interests: Most interests of a user shown (the strongest shares).

    Returns:
        ``(nodes, edges)`` frames; ``nodes.attrs["more"]`` maps an interest's node id to how many of the user's
        items in it are not drawn.

    Raises:
        UnknownId: The center does not exist.
        ConfigError: ``per_interest`` or ``max_interests`` is below 1.
    """
    for name, value in (("per_interest", per_interest), ("max_interests", max_interests)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"The {name!r} parameter must be an int in [1, inf). Got {value!r} instead.")
    kind, i = resolve_center(bundle, center)
    if kind == "user":
        return user_interests(bundle, i, per_interest=int(per_interest), max_interests=int(max_interests))
    if kind == "item":
        return item_context(bundle, i, k=int(per_interest) + 3)
    return neighborhood(bundle, f"interest:{i}", depth=1, max_nodes=1 + 4 * int(per_interest))


def user_interests(
    bundle: Bundle, row: int, *, per_interest: int = 5, max_interests: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """User → interests by share → the user's strongest items in each (see :func:`interest_first`)."""
    idx = graph_index(bundle)
    prof = np.asarray(idx.bundle.profiles[row], dtype=np.float64)
    cols = [c for c in np.argsort(-prof, kind="stable") if prof[c] >= PROFILE_EDGE_MIN][:max_interests]
    shares = {int(idx.interest_ids[c]): float(prof[c]) for c in cols}
    items, raw = idx.user_items(row)
    strength = idx.strength(raw)
    of_item = idx.item_interest[items] if len(items) else np.zeros(0, dtype=np.int64)
    hop_of: dict[tuple[str, int], int] = {("user", int(row)): 0}
    hop_of.update({("interest", t): 1 for t in shares})
    more: dict[str, int] = {}
    for t in shares:
        mine = np.flatnonzero(of_item == t)
        mine = mine[np.lexsort((items[mine], -raw[mine]))]
        hop_of.update({("item", int(items[k])): 2 for k in mine[:per_interest]})
        more[f"interest:{t}"] = max(len(mine) - per_interest, 0)
    nodes = node_frame(idx, hop_of)
    edges = induced_edges(idx, hop_of, {"user-interest", "item-interest", "interest-interest"}, 0.0)
    pos = {int(c): k for k, c in enumerate(items)}
    sizes, titles = [], []
    for nid, kind, key, size, title in nodes[["id", "type", "key", "size", "title"]].itertuples(index=False):
        if kind == "interest":
            share, extra = shares[int(key)], more.get(nid, 0)
            sizes.append(16.0 + 24.0 * share / max(shares.values()))  # the largest share is drawn largest
            titles.append(
                f"{title}\n{share:.0%} of this user's profile" + (f" · {extra:,} more of their items" if extra else "")
            )
        elif kind == "item":
            k = pos[idx.row_of("item", key)]
            sizes.append(6.0 + 16.0 * float(strength[k]))
            titles.append(f"{title}\nthis user: {edge_title('user-item', float(strength[k]), float(raw[k]))}")
        else:
            sizes.append(size)
            titles.append(title)
    nodes["size"], nodes["title"] = sizes, titles
    nodes.attrs["more"] = more
    nodes.attrs["capped"] = len(cols) < int((prof >= PROFILE_EDGE_MIN).sum()) or any(more.values())
    return nodes, edges


def item_context(bundle: Bundle, col: int, *, k: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Item → its interest, the ``k`` items its shoppers also took most, its ``k`` strongest shoppers."""
    idx = graph_index(bundle)
    rows, raw = idx.item_users(col)
    order = np.lexsort((rows, -raw))
    shoppers = rows[order[:_CO_USERS]]
    also = _also_taken(idx, shoppers, col, k)
    hop_of: dict[tuple[str, int], int] = {("item", int(col)): 0}
    t = int(idx.item_interest[col])
    if t in idx.col_of:
        hop_of[("interest", t)] = 1
    hop_of.update({("item", j): 1 for j, _ in also})
    hop_of.update({("user", int(u)): 1 for u in rows[order[:k]]})
    nodes = node_frame(idx, hop_of)
    edges = induced_edges(idx, hop_of, {"user-item", "item-interest"}, 0.0)
    center = node_id(idx, "item", col)
    similar = pd.DataFrame(
        [(center, node_id(idx, "item", j), "item-item", s, s, edge_title("item-item", s, s)) for j, s in also],
        columns=EDGE_COLUMNS,
    )
    edges = pd.concat([similar, edges], ignore_index=True) if len(similar) else edges
    nodes.attrs["capped"] = len(rows) > k
    return nodes, edges.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)


def _also_taken(idx: GraphIndex, shoppers: np.ndarray, col: int, k: int) -> list[tuple[int, float]]:
    """The ``k`` items most of ``shoppers`` also touched, with the share of them who did."""
    if not len(shoppers):
        return []
    sub = idx.bundle.interactions[np.sort(shoppers)]
    counts = np.bincount(np.asarray(sub.indices), minlength=idx.shape[1]).astype(np.float64)
    counts[col] = 0
    top = np.lexsort((np.arange(len(counts)), -counts))[:k]
    return [(int(j), float(counts[j] / len(shoppers))) for j in top if counts[j] > 0]
