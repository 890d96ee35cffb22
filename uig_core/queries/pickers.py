"""Lookups behind the dashboard's pickers: users and items matching a query, labels, categories.

Everything here reads a loaded :class:`~uig_core.build.bundle.Bundle` and returns plain lists, so the pages only
render. Titles and ids come from uploaded logs: they are returned as plain text, never as markup.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError

__all__ = ["USER_ORDERS", "user_column", "find_users", "find_items", "item_labels", "categories"]

log = logging.getLogger(__name__)

USER_ORDERS = {
    "id": "by id",
    "activity": "most active first",
    "spend": "top spenders first",
    "drift": "strongest interest drift first",
    "anomaly": "most anomalous first",
}
_RANK_COLUMNS = {
    "activity": ("n_events",),
    "spend": ("spend",),
    "drift": ("drift_score", "drift"),
    "anomaly": ("anomaly_score", "anomaly", "risk_score"),
}


def user_column(bundle: Bundle, *candidates: str) -> str | None:
    """The first of ``candidates`` that is a column of ``bundle.users`` (builds differ in what they hold)."""
    return next((c for c in candidates if c in bundle.users), None)


def find_users(
    bundle: Bundle, query: str = "", *, order: str = "id", limit: int = 500, include: str | None = None
) -> list[str]:
    """User ids matching ``query`` (case-insensitive), at most ``limit`` of them, for a picker.

    The exact id comes first, then ids starting with ``query``, then ids containing it; each group in ``order``.
    The order of all users is computed once per bundle, and matching is one vectorised pass over the ids, so a
    keystroke costs milliseconds even with millions of users (the picker lists ``limit`` ids, never all).

    Args:
        bundle: The build.
        query: Part of a user id; empty matches every user.
        order: One of :data:`USER_ORDERS`.
        limit: At most this many ids.
        include: An id to keep in the list even when it does not match (the current choice).
    """
    if order not in USER_ORDERS:
        raise ConfigError(f"user order {order!r} is unknown; use one of {', '.join(USER_ORDERS)}.")
    ids = bundle.memo("user_ids_arrow", lambda: _arrow(bundle.users["user_id"]))
    perm = bundle.memo(("user_order", order), lambda: _user_order(bundle, order, ids))
    rows = _ranked_matches(bundle, ("user", order), ids, perm, query, limit)
    out = [str(u) for u in ids.take(pa.array(rows)).to_pylist()] if len(rows) else []
    if include and include not in out and include in bundle.user_index:
        out.insert(0, include)
    return out


def _arrow(values: pd.Series) -> pa.Array:
    """A column as one pyarrow string array (no copy for the Arrow-backed strings pandas reads from Parquet)."""
    return pa.array(values.astype("string")).cast(pa.large_string())


def _user_order(bundle: Bundle, order: str, ids: pa.Array) -> np.ndarray:
    """Rows of every user in ``order``: a rank column descending (ties by row), or the ids ascending."""
    col = user_column(bundle, *_RANK_COLUMNS.get(order, ()))
    if col is not None:
        values = pd.to_numeric(bundle.users[col], errors="coerce").fillna(-np.inf).to_numpy()
        return np.argsort(-values, kind="stable")
    return np.asarray(pc.sort_indices(ids), dtype=np.int64)  # code-point order, stable


def _ranked_matches(
    bundle: Bundle,
    key: tuple[str, ...],
    ids: pa.Array,
    perm: np.ndarray,
    query: str,
    limit: int,
    also: pa.Array | None = None,
) -> np.ndarray:
    """The first ``limit`` rows matching ``query``: exact id, then id prefix, then substring.

    The substring may also be in ``also`` (e.g. titles); each group is in the order of ``perm``; ``key`` names
    the ids and the order for the bundle's memos.
    """
    kind = key[0]
    q = str(query or "").strip().lower()
    if not q:
        return perm[:limit]
    lower = bundle.memo((kind, "lower_ids"), lambda: pc.utf8_lower(ids))
    hit = pc.match_substring(lower, q)
    if also is not None:
        lower_also = bundle.memo((kind, "lower_also"), lambda: pc.utf8_lower(also))
        hit = pc.or_(hit, pc.fill_null(pc.match_substring(lower_also, q), False))
    rows = np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool))
    if len(rows) == 0:
        return rows
    found = lower.take(pa.array(rows))
    group = 2 - np.asarray(pc.starts_with(found, q).to_numpy(zero_copy_only=False), dtype=np.int64)
    group -= np.asarray(pc.equal(found, q).to_numpy(zero_copy_only=False), dtype=np.int64)
    rank = bundle.memo((*key, "rank"), lambda: _inverse(perm))
    key = group * len(perm) + rank[rows]
    if len(key) > limit:
        part = np.argpartition(key, limit - 1)[:limit]
        rows, key = rows[part], key[part]
    return rows[np.argsort(key, kind="stable")]


def _inverse(perm: np.ndarray) -> np.ndarray:
    rank = np.empty(len(perm), dtype=np.int64)
    rank[perm] = np.arange(len(perm))
    return rank


def find_items(bundle: Bundle, query: str = "", *, limit: int = 500, include: str | None = None) -> list[str]:
    """Item ids whose id or title contains ``query`` (case-insensitive), most-interacted first.

    The exact id and ids starting with ``query`` come first.
    """
    items = bundle.items
    ids = bundle.memo("item_ids_arrow", lambda: _arrow(items["item_id"]))
    titles = bundle.memo("item_titles_arrow", lambda: _arrow(items["title"]))
    perm = bundle.memo("item_order", lambda: _item_order(items))
    rows = _ranked_matches(bundle, ("item",), ids, perm, query, limit, also=titles)
    out = [str(i) for i in ids.take(pa.array(rows)).to_pylist()] if len(rows) else []
    if include and include not in out and include in bundle.item_index:
        out.insert(0, include)
    return out


def _item_order(items: pd.DataFrame) -> np.ndarray:
    pop_col = "n_users" if "n_users" in items else "n_events"
    pop = pd.to_numeric(items[pop_col], errors="coerce").fillna(0).to_numpy()
    return np.argsort(-pop, kind="stable")


def item_labels(bundle: Bundle, item_ids: list[str], width: int = 70) -> dict[str, str]:
    """``item_id → "item_id · title"`` (title cut to ``width`` characters) for picker labels."""
    rows = bundle.item_index.get_indexer(item_ids)
    titles = bundle.items["title"]
    out = {}
    for item, r in zip(item_ids, rows, strict=True):
        title = "" if r < 0 or pd.isna(titles.iat[r]) else str(titles.iat[r])
        title = title if len(title) <= width else title[: width - 1] + "…"
        out[item] = f"{item} · {title}" if title and title != item else str(item)
    return out


def categories(bundle: Bundle) -> list[str]:
    """Item categories of the build, most common first."""
    if "category" not in bundle.items:
        return []

    def compute() -> list[str]:
        counts = bundle.items["category"].astype("string").dropna().value_counts()
        return [str(c) for c in counts.index if str(c)]

    return list(bundle.memo("categories", compute))
