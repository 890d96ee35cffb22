"""Lookups and tables behind the dashboard's pickers and the *Recommendations* page.

Everything here reads a loaded :class:`~uig_core.bundle.Bundle` and returns plain lists or small frames, so the
pages only render. Titles and ids come from uploaded logs: they are returned as plain text, never as markup.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from uig_core.bundle import Bundle
from uig_core.errors import ConfigError

__all__ = [
    "USER_ORDERS",
    "HIDE_OPTIONS",
    "find_users",
    "find_items",
    "item_labels",
    "categories",
    "recommendation_table",
    "compare_models",
    "audience_table",
    "user_column",
]

USER_ORDERS = {
    "id": "by id",
    "activity": "most active first",
    "spend": "top spenders first",
    "drift": "strongest interest drift first",
    "anomaly": "most anomalous first",
}
HIDE_OPTIONS = {
    "seen": "everything the user interacted with",
    "purchased": "only what the user bought",
    "nothing": "nothing",
}
_RANK_COLUMNS = {"activity": ("n_events",), "spend": ("spend",), "drift": ("drift_score", "drift"),
                 "anomaly": ("anomaly_score", "anomaly", "risk_score")}


def user_column(bundle: Bundle, *candidates: str) -> str | None:
    """The first of ``candidates`` that is a column of ``bundle.users`` (builds differ in what they hold)."""
    return next((c for c in candidates if c in bundle.users), None)


def find_users(bundle: Bundle, query: str = "", *, order: str = "id", limit: int = 500,
               include: str | None = None) -> list[str]:
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
        mask = (items["item_id"].astype("string").str.contains(q, case=False, regex=False)
                | items["title"].astype("string").str.contains(q, case=False, regex=False)).fillna(False)
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


def recommendation_table(
    bundle: Bundle,
    user_id: str,
    k: int = 10,
    *,
    model: str | None = None,
    category: str | None = None,
    hide: str = "seen",
    explain: bool = True,
) -> pd.DataFrame:
    """Top-k items for a user as a table: ``rank, item_id, title, reason, score, interest, category``.

    Args:
        bundle: The build.
        user_id: The user.
        k: How many items.
        model: Model name (default: the build's default).
        category: Only items of this category.
        hide: What to leave out, one of :data:`HIDE_OPTIONS` (``seen``: every item the user interacted with;
            ``purchased``: only items the user bought; ``nothing``).
        explain: Add the reason behind each item.
    """
    if hide not in HIDE_OPTIONS:
        raise ConfigError(f"hide={hide!r} is unknown; use one of {', '.join(HIDE_OPTIONS)}.")
    if hide == "purchased" and bundle.strongest is not None:
        bought = _purchased(bundle, user_id)
        rows = bundle.recommend(user_id, k=int(k) + len(bought), model=model, explain=False,
                                exclude_seen=False, category=category)
        rows = [r for r in rows if r["item_id"] not in bought][: int(k)]
        if explain and rows:
            rows = _with_reasons(bundle, user_id, rows)
    else:
        rows = bundle.recommend(user_id, k=int(k), model=model, explain=explain,
                                exclude_seen=hide != "nothing", category=category)
    frame = pd.DataFrame(rows, columns=["item_id", "title", "reason", "score", "interest", "category"])
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def _purchased(bundle: Bundle, user_id: str) -> set[str]:
    row = bundle.user_row(user_id)
    r = bundle.strongest[row]
    codes = np.asarray(r.data)
    return {str(bundle.items["item_id"].iat[j]) for j in np.asarray(r.indices)[codes >= 4]}


def _with_reasons(bundle: Bundle, user_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from uig_core.explain import explain_items

    row = bundle.user_row(user_id)
    idx = bundle.item_index.get_indexer([r["item_id"] for r in rows])
    reasons = explain_items(
        row, idx, interactions=bundle.interactions, item_ids=bundle.items["item_id"].to_numpy(),
        titles=bundle.items["title"].astype(str).to_numpy(), item_interest=bundle.items["interest_id"].to_numpy(),
        interest_names=bundle.interest_names, profile=bundle.profiles[row], profile_columns=bundle.profile_columns,
        last_event=bundle._strongest_events(row),
    )
    seen = bundle._strongest_events(row)
    out = []
    for r, reason in zip(rows, reasons, strict=True):
        if r["item_id"] in seen:  # shown again because only purchases are hidden
            verb = {"view": "viewed", "click": "clicked", "cart": "added to cart"}.get(seen[r["item_id"]], "saw")
            out.append({**r, "reason": f"{verb} it already, not bought yet", "reason_kind": "seen"})
        else:
            out.append({**r, "reason": reason.text, "reason_kind": reason.kind})
    return out


def compare_models(bundle: Bundle, user_id: str, models: tuple[str, str], k: int = 10, *,
                   category: str | None = None, hide: str = "seen") -> dict[str, Any]:
    """Two models' top-k for one user, side by side.

    Returns:
        ``{"left": DataFrame, "right": DataFrame, "shared": int, "shared_items": list[str]}``; each frame has
        ``rank, item_id, title, score, shared`` (shared: the other model recommends it too).
    """
    tables = [recommendation_table(bundle, user_id, k, model=m, category=category, hide=hide, explain=False)
              for m in models]
    left, right = (t[["rank", "item_id", "title", "score"]].copy() for t in tables)
    common = set(left["item_id"]) & set(right["item_id"])
    left["shared"] = left["item_id"].isin(common)
    right["shared"] = right["item_id"].isin(common)
    return {"left": left, "right": right, "shared": len(common),
            "shared_items": [i for i in left["item_id"] if i in common]}


def audience_table(bundle: Bundle, item_id: str, k: int = 20, *, model: str | None = None,
                   exclude_seen: bool = True) -> pd.DataFrame:
    """Users most likely to want an item, with their main interest ("who should we show item Z to?")."""
    frame = bundle.audience(item_id, k, model=model, exclude_seen=exclude_seen)
    rows = bundle.user_index.get_indexer(frame["user_id"].astype(str))
    prof = bundle.profiles[rows] if len(rows) else np.zeros((0, len(bundle.profile_columns)))
    names = bundle.interest_names
    top = [names.get(int(bundle.profile_columns[j])) if p.max(initial=0.0) > 0 else None
           for p, j in zip(prof, prof.argmax(axis=1) if len(prof) else [], strict=True)]
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["main_interest"] = top
    return frame
