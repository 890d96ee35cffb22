r"""Node and edge vocabulary of the graph views: types, colours, cleaned text, ids, and the node frame.

Five edge types of the build join three node types; the interest-first views add one derived type:

==================  ===========================  ==========================================================
edge type           raw weight                   ``weight`` (the [0, 1] strength used by filters and caps)
==================  ===========================  ==========================================================
user-item           decayed behaviour weight     percentile rank among all user–item weights of the build
item-interest       membership (1)               1
user-interest       the user's profile share     the share (edges below :data:`PROFILE_EDGE_MIN` are absent)
interest-interest   co-occurrence (Ochiai)       the Ochiai weight
user-user           cosine of the user vectors   the cosine (the build's stored links; on request only)
item-item           shoppers in common           share of the center item's shoppers who also took the other
==================  ===========================  ==========================================================

Titles and names come from uploaded logs: :func:`clean_text` drops control characters and caps their length
here; :mod:`uig_core.graph.html` draws the frames and says how the text stays inert there.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.errors import UnknownId
from uig_core.graph.adjacency import PROFILE_EDGE_MIN, GraphIndex, graph_index
from uig_core.graph.kinds import DEFAULT_EDGE_TYPES, EDGE_TYPES, NODE_TYPES

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = [
    "NODE_TYPES",
    "EDGE_TYPES",
    "DEFAULT_EDGE_TYPES",
    "NODE_COLORS",
    "NODE_COLUMNS",
    "EDGE_COLUMNS",
    "PROFILE_EDGE_MIN",
    "clean_text",
    "resolve_center",
    "node_id",
    "default_center",
    "choice_labels",
    "node_frame",
    "edge_title",
]

log = logging.getLogger(__name__)

NODE_COLORS: dict[str, str] = {"user": "#4C78A8", "item": "#F58518", "interest": "#54A24B"}
NODE_COLUMNS = ["id", "type", "key", "label", "title", "size", "color", "hop"]
EDGE_COLUMNS = ["source", "target", "type", "weight", "raw", "title"]
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]")


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


def shown_label(kind: str, label: Any, *, overview: bool = False) -> str:
    """The label drawn under a node: items 28 columns, others 32, 24 in the overview (the tooltip keeps all)."""
    return clean_text(label, 28 if kind == "item" else 24 if overview else 32)


def display_width(text: str) -> int:
    """Display columns of ``text`` (wide characters count two), for label boxes."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


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


def interest_names(idx: GraphIndex) -> dict[int, str]:
    """Interest id → cleaned name."""
    return {int(t): clean_text(n, 60) for t, n in zip(idx.interests.index, idx.interests["name"], strict=True)}


def _find_interest(idx: GraphIndex, key: str) -> int | None:
    if re.fullmatch(r"-?\d+", key) and int(key) in idx.col_of:
        return int(key)
    lowered = key.casefold()
    for t, name in interest_names(idx).items():
        if name.casefold() == lowered and t in idx.col_of:
            return t
    return None


def node_id(idx: GraphIndex, kind: str, i: int) -> str:
    """The view id (``user:ID``, ``item:ID``, ``interest:ID``) of a node given by type and index."""
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
    for nid, kind, key, label in zip(frame["id"], frame["type"], frame["key"], frame["label"], strict=True):
        key = clean_text(key, 40)
        out[str(nid)] = f"{kind} {key}" + (f" · {label}" if label and label != key else "")
    return out


# ---------------------------------------------------------------------------------------------- node text
def _user_node(idx: GraphIndex, names: dict[int, str], i: int) -> tuple[str, str, float]:
    u = idx.users.iloc[i]
    prof = np.asarray(idx.bundle.profiles[i])
    likes = ", ".join(
        f"{names.get(int(idx.interest_ids[c]), '?')} {prof[c]:.0%}" for c in np.argsort(-prof)[:3] if prof[c] > 0
    )
    key = idx.user_id(i)
    title = (
        f"user {clean_text(key, 60)}\n{num(u.get('n_events')):,.0f} events · "
        f"{num(u.get('n_purchase')):,.0f} purchases · spend {num(u.get('spend')):,.2f}"
        + (f"\ninterests: {likes}" if likes else "")
    )
    return clean_text(key, 30), title, 8 + 2 * np.log1p(num(u.get("n_events")))


def _item_node(idx: GraphIndex, names: dict[int, str], i: int) -> tuple[str, str, float]:
    it = idx.bundle.items.iloc[i]
    cat = clean_text(it.get("category"), 60)
    title = (
        f"item {clean_text(idx.item_ids[i], 60)}\n{clean_text(idx.titles[i], 200)}"
        + (f"\ncategory: {cat}" if cat else "")
        + f"\ninterest: {names.get(int(idx.item_interest[i]), 'none')}\n{num(it.get('n_users')):,.0f} users"
    )
    return clean_text(idx.titles[i], 28), title, 6 + 2 * np.log1p(num(it.get("n_users")))


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


def node_frame(idx: GraphIndex, hop_of: dict[tuple[str, int], int]) -> pd.DataFrame:
    """The node frame (:data:`NODE_COLUMNS`) of ``(type, index) -> hop``, in the dict's order."""
    names = interest_names(idx)
    rows = []
    for (kind, i), hop in hop_of.items():
        label, title, size = _NODE_TEXT[kind](idx, names, i)
        rows.append(
            {
                "id": node_id(idx, kind, i),
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


def edge_title(kind: str, weight: float, raw: float) -> str:
    """The tooltip of an edge: what its weight means, in words."""
    if kind == "user-item":
        return f"behaviour weight {raw:.2f} (stronger than {weight:.0%} of user–item edges)"
    if kind == "user-interest":
        return f"{raw:.0%} of the user's interest profile"
    if kind == "interest-interest":
        return f"co-occurrence {raw:.2f} (Ochiai)"
    if kind == "user-user":
        return f"similar users (cosine {raw:.2f} of their user vectors)"
    if kind == "item-item":
        return f"{raw:.0%} of the center item's shoppers also took this one"
    return "item belongs to this interest"


def pair_key(a: str, b: str) -> tuple[int, int]:
    """The sorted interest-id pair of two ``interest:ID`` node ids (the key of the lift table)."""
    x, y = int(a.split(":", 1)[1]), int(b.split(":", 1)[1])
    return min(x, y), max(x, y)


def num(value: Any) -> float:
    """A finite float, 0 for missing values."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return out if np.isfinite(out) else 0.0
