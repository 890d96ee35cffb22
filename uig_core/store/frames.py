"""Dataset frames: one row per item and one per user, computed from a dataset's canonical events."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

__all__ = ["items_frame", "users_frame"]

log = logging.getLogger(__name__)


def items_frame(events: pd.DataFrame) -> pd.DataFrame:
    """One row per item: ``item_id, title, category, price, n_events, n_users, first_seen, last_seen``."""
    g = events.groupby("item_id", sort=True, observed=True)
    out = pd.DataFrame(
        {
            "n_events": g.size(),
            "n_users": g["user_id"].nunique(),
            "first_seen": g["ts"].min(),
            "last_seen": g["ts"].max(),
        }
    )
    for col, target in (("item_title", "title"), ("category", "category")):
        if col in events:
            vals = events[["item_id", col]].dropna()
            vals = vals[vals[col].astype("string").str.len() > 0]
            top = vals.groupby(["item_id", col], observed=True).size().reset_index(name="n")
            top = top.sort_values(["item_id", "n"], ascending=[True, False]).drop_duplicates("item_id")
            out[target] = top.set_index("item_id")[col].reindex(out.index)
        else:
            out[target] = pd.NA
    if "price" in events:
        out["price"] = events[events["price"] > 0].groupby("item_id")["price"].median().reindex(out.index)
    else:
        out["price"] = np.nan
    out["title"] = out["title"].astype("string").fillna(pd.Series(out.index, index=out.index, dtype="string"))
    out["category"] = out["category"].astype("string")
    out.index.name = "item_id"
    return out.reset_index()


def users_frame(events: pd.DataFrame) -> pd.DataFrame:
    """One row per user: activity counts by event, first/last seen, orders and spend (RFM inputs)."""
    g = events.groupby("user_id", sort=True, observed=True)
    out = pd.DataFrame({"n_events": g.size(), "first_seen": g["ts"].min(), "last_seen": g["ts"].max()})
    counts = events.groupby(["user_id", "event"], observed=True).size().unstack(fill_value=0)
    for ev in ("view", "click", "cart", "purchase", "return"):
        out[f"n_{ev}"] = counts[ev].reindex(out.index).fillna(0).astype(int) if ev in counts else 0
    buys = events[events["event"] == "purchase"]
    if "price" in events:
        qty = buys["quantity"].fillna(1.0) if "quantity" in buys else 1.0
        spend = (buys["price"].fillna(0.0) * qty).groupby(buys["user_id"]).sum()
        out["spend"] = spend.reindex(out.index).fillna(0.0)
    else:
        out["spend"] = 0.0
    if "order_id" in buys:
        out["orders"] = buys.groupby("user_id")["order_id"].nunique().reindex(out.index).fillna(0).astype(int)
    else:
        out["orders"] = out["n_purchase"]
    out.index.name = "user_id"
    return out.reset_index()
