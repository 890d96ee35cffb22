"""Lookups behind the dashboard's pickers: users and items matching a query, labels, categories.

Everything here reads a loaded :class:`~uig_core.build.bundle.Bundle` and returns plain lists, so the pages only
render. Titles and ids come from uploaded logs: they are returned as plain text, never as markup.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

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
    """User ids matching ``query`` (case-insensitive substring), ordered for a picker.

    Args:
        bundle: The build.
        query: Part of a user id; empty matches every user.
        order: One of :data:`USER_ORDERS`.
        limit: At most this many ids.
        include: An id to keep in the list even when it does not match (the current choice).
    """
    if order not in USER_ORDERS:
        raise ConfigError(f"user order {order!r} is unknown; use one of {', '.join(USER_ORDERS)}.")
    ids = bundle.user_index
    if query:
        mask = ids.str.contains(str(query).strip(), case=False, regex=False)
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    else:
        rows = np.arange(len(ids))
    col = user_column(bundle, *_RANK_COLUMNS.get(order, ()))
    if col is not None:
        values = pd.to_numeric(bundle.users[col], errors="coerce").fillna(-np.inf).to_numpy()[rows]
        rows = rows[np.argsort(-values, kind="stable")]
    else:
        rows = rows[np.argsort(ids.to_numpy()[rows], kind="stable")]
    out = [str(u) for u in ids.to_numpy()[rows[:limit]]]
    if include and include not in out and include in bundle.user_index:
        out.insert(0, include)
    return out


def find_items(bundle: Bundle, query: str = "", *, limit: int = 500, include: str | None = None) -> list[str]:
    """Item ids whose id or title contains ``query`` (case-insensitive), most-interacted first."""
    items = bundle.items
    if query:
        q = str(query).strip()
        mask = (
            items["item_id"].astype("string").str.contains(q, case=False, regex=False)
            | items["title"].astype("string").str.contains(q, case=False, regex=False)
        ).fillna(False)
        rows = np.flatnonzero(mask.to_numpy(dtype=bool))
    else:
        rows = np.arange(len(items))
    pop_col = "n_users" if "n_users" in items else "n_events"
    pop = pd.to_numeric(items[pop_col], errors="coerce").fillna(0).to_numpy()[rows]
    rows = rows[np.argsort(-pop, kind="stable")]
    out = [str(i) for i in items["item_id"].to_numpy()[rows[:limit]]]
    if include and include not in out and include in bundle.item_index:
        out.insert(0, include)
    return out


def item_labels(bundle: Bundle, item_ids: list[str], width: int = 70) -> dict[str, str]:
    """``item_id → "item_id · title"`` (title cut to ``width`` characters) for picker labels."""
    rows = bundle.item_index.get_indexer(item_ids)
    titles = bundle.items["title"].astype("string").to_numpy()
    out = {}
    for item, r in zip(item_ids, rows, strict=True):
        title = str(titles[r]) if r >= 0 else ""
        title = title if len(title) <= width else title[: width - 1] + "…"
        out[item] = f"{item} · {title}" if title and title != item else str(item)
    return out


def categories(bundle: Bundle) -> list[str]:
    """Item categories of the build, most common first."""
    if "category" not in bundle.items:
        return []
    counts = bundle.items["category"].astype("string").dropna().value_counts()
    return [str(c) for c in counts.index if str(c)]
