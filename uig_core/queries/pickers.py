"""Lookups behind the dashboard's pickers: users and items matching a query, labels, categories.

Everything here reads a loaded :class:`~uig_core.build.bundle.Bundle` and returns plain lists, so the pages only
render. Titles and ids come from uploaded logs: they are returned as plain text, never as markup.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError

__all__ = ["USER_ORDERS", "user_column", "find_users", "find_items", "find_nodes", "item_labels", "categories"]

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
    rows = _match_groups(bundle, ("user", order), ids, perm, query, limit)[0]
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


def _match_groups(
    bundle: Bundle,
    key: tuple[str, ...],
    ids: pa.Array,
    perm: np.ndarray,
    query: str,
    limit: int,
    also: pa.Array | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows matching ``query`` and their relevance group, at most ``limit``, best first.

    Groups: 0 the exact id (or exact text of ``also``, e.g. a title), 1 an id starting with the query, 2 a word
    of ``also`` starting with it, 3 the query anywhere in either. Within a group rows keep the order of ``perm``
    (activity, popularity); ``key`` names the ids and the order for the bundle's memos.
    """
    kind = key[0]
    q = str(query or "").strip().lower()
    if not q:
        rows = perm[:limit]
        return rows, np.zeros(len(rows), dtype=np.int64)
    lower = bundle.memo((kind, "lower_ids"), lambda: pc.utf8_lower(ids))
    hit = pc.match_substring(lower, q)
    if also is not None:
        lower_also = bundle.memo((kind, "lower_also"), lambda: pc.utf8_lower(also))
        hit = pc.or_(hit, pc.fill_null(pc.match_substring(lower_also, q), False))
    rows = np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool))
    if len(rows) == 0:
        return rows, rows
    found = lower.take(pa.array(rows))
    group = np.full(len(rows), 3, dtype=np.int64)
    if also is not None:
        text = lower_also.take(pa.array(rows))
        word = pc.fill_null(pc.match_substring_regex(text, r"(^|[^\w])" + re.escape(q)), False)
        group[_flags(word)] = 2
        group[_flags(pc.fill_null(pc.equal(text, q), False))] = 0
    group[_flags(pc.starts_with(found, q)) & (group > 1)] = 1
    group[_flags(pc.equal(found, q))] = 0
    rank = bundle.memo((*key, "rank"), lambda: _inverse(perm))
    order = group * len(perm) + rank[rows]
    if len(order) > limit:
        part = np.argpartition(order, limit - 1)[:limit]
        rows, order = rows[part], order[part]
    best = np.argsort(order, kind="stable")
    return rows[best], order[best] // len(perm)


def _flags(mask: pa.Array) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


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
    rows = _match_groups(bundle, ("item",), ids, perm, query, limit, also=titles)[0]
    out = [str(i) for i in ids.take(pa.array(rows)).to_pylist()] if len(rows) else []
    if include and include not in out and include in bundle.item_index:
        out.insert(0, include)
    return out


def _item_order(items: pd.DataFrame) -> np.ndarray:
    pop_col = "n_users" if "n_users" in items else "n_events"
    pop = pd.to_numeric(items[pop_col], errors="coerce").fillna(0).to_numpy()
    return np.argsort(-pop, kind="stable")


def find_nodes(bundle: Bundle, query: str, *, limit: int = 100) -> pd.DataFrame:
    """Graph nodes (users, items, interests) matching ``query``, most relevant first, for the graph's search box.

    Relevance as in :func:`_match_groups`: an exact id, title or interest name first, then ids starting with the
    query, then titles and names with a word starting with it, then the query anywhere; within a group the more
    active users, the more popular items and the larger interests first. An empty query lists the largest
    interests.

    Returns:
        Frame ``id, type, key, label`` (``id`` is ``type:ID``, ready for the graph view); at most ``limit`` rows.
    """
    from uig_core.graph.view import clean_text

    found: list[tuple[int, int, str, str, str]] = []  # (group, position in its type, type, key, label)
    if str(query or "").strip():
        users, items = bundle.users, bundle.items
        ids = bundle.memo("user_ids_arrow", lambda: _arrow(users["user_id"]))
        perm = bundle.memo(("user_order", "activity"), lambda: _user_order(bundle, "activity", ids))
        rows, group = _match_groups(bundle, ("user", "activity"), ids, perm, query, limit)
        for i, (r, g) in enumerate(zip(rows, group, strict=True)):
            found.append((int(g), i, "user", str(ids[int(r)]), clean_text(ids[int(r)], 60)))
        item_ids = bundle.memo("item_ids_arrow", lambda: _arrow(items["item_id"]))
        titles = bundle.memo("item_titles_arrow", lambda: _arrow(items["title"]))
        perm = bundle.memo("item_order", lambda: _item_order(items))
        rows, group = _match_groups(bundle, ("item",), item_ids, perm, query, limit, also=titles)
        for i, (r, g) in enumerate(zip(rows, group, strict=True)):
            found.append((int(g), i, "item", str(item_ids[int(r)]), clean_text(items["title"].iat[int(r)], 60)))
    found += _interest_matches(bundle, query, limit)
    found.sort(key=lambda f: (f[0], f[1], ("interest", "item", "user").index(f[2])))
    rows_out = [(f"{t}:{key}", t, key, label) for _, _, t, key, label in found[:limit]]
    return pd.DataFrame(rows_out, columns=["id", "type", "key", "label"])


def _interest_matches(bundle: Bundle, query: str, limit: int) -> list[tuple[int, int, str, str, str]]:
    """Interests whose id or name matches ``query`` (every interest when it is empty), largest first."""
    from uig_core.graph.view import clean_text

    table = bundle.interests
    if "level" in table:
        table = table[table["level"] == "coarse"]
    shown = {int(t) for t in np.asarray(bundle.profile_columns, dtype=np.int64)}
    table = table[table["interest_id"].astype(int).isin(shown)]
    if "size" in table:
        table = table.sort_values("size", ascending=False, kind="stable")
    q = str(query or "").strip().lower()
    out = []
    for pos, (t, name) in enumerate(zip(table["interest_id"].astype(int), table["name"].astype(str), strict=True)):
        low = name.lower()
        if not q:
            group = 0
        elif low == q or q == str(t):
            group = 0
        elif re.search(r"(^|[^\w])" + re.escape(q), low):
            group = 2
        elif q in low:
            group = 3
        else:
            continue
        out.append((group, pos, "interest", str(t), clean_text(name, 60)))
    return out[:limit]


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
