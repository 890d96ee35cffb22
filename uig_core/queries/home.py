"""Headline figures for the Home page and ``uig datasets``."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from uig_core.build import layout
from uig_core.evaluation.results import load_quality
from uig_core.store.workspace import Workspace

__all__ = ["home_summary"]

log = logging.getLogger(__name__)


def home_summary(
    ws: Workspace, name: str | None = None, *, top: int = 8, overview: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Users, items, events by type, time range, interests found and model quality of a dataset.

    Args:
        ws: The workspace.
        name: Dataset name (default: the only one).
        top: How many of the largest interests to list.
        overview: ``ws.overview(name)`` when the caller keeps it (one scan of the events; the dashboard caches
            it per content hash), else read here.

    Returns:
        A dict with ``users, items, events, events_by_type (DataFrame), first, last, interests, top_interests
        (DataFrame or None), build (dict or None), quality (dict or None), revenue (dict or None)``;
        ``revenue`` is ``{net, gross, orders, orders_gross}``, the users' spend and orders net of returns and
        cancellations and before them (:mod:`uig_core.store.money`; None for a build made before both were stored).
    """
    ov = overview if overview is not None else ws.overview(name)
    out: dict[str, Any] = {
        "users": ov["users"],
        "items": ov["items"],
        "events": ov["events"],
        "events_by_type": pd.DataFrame(list(ov["events_by_type"].items()), columns=["event", "count"]),
        "first": _fmt(ov["first"]),
        "last": _fmt(ov["last"]),
        "interests": None,
        "top_interests": None,
        "build": None,
        "quality": None,
        "revenue": None,
    }
    if not ov["built"]:
        return out
    path = ws.build_dir(ov["name"])
    meta = layout.read_meta(path)
    out["build"] = {k: meta.get(k) for k in ("build_id", "default_model", "created", "embed_model_id")}
    interests = layout.read_frame(path, "interests")
    if "level" in interests:
        interests = interests[interests["level"] == "coarse"]
    out["interests"] = len(interests)
    out["top_interests"] = (
        interests.sort_values("size", ascending=False)[["name", "size"]].head(top).reset_index(drop=True)
    )
    out["revenue"] = _revenue(path)
    q = load_quality(ws, ov["name"])
    if q is not None:
        best = q.get("default")
        metrics = q.get("models", {}).get(best, {})
        if "recall@20" in metrics:
            out["quality"] = {"model": best, "recall": metrics["recall@20"], "ndcg": metrics.get("ndcg@20")}
    return out


def _revenue(path: Any) -> dict[str, float | int] | None:
    """Total net and gross spend and orders of a build's users (four columns of the users table read)."""
    columns = ["spend", "spend_gross", "orders", "orders_gross"]
    try:
        users = layout.read_frame(path, "users", columns=columns)
    except (KeyError, ValueError):  # a build made before the gross figures were stored
        return None
    totals = users.sum()
    return {
        "net": round(float(totals["spend"]), 2),
        "gross": round(float(totals["spend_gross"]), 2),
        "orders": int(totals["orders"]),
        "orders_gross": int(totals["orders_gross"]),
    }


def _fmt(ts: Any) -> str:
    if ts is None or pd.isna(ts):
        return "—"
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M")
