"""Reasons for a recommendation: the strongest path from the user's history to the item through the graph.

Paths tried, strongest first:

1. user → history item *j* → shared interest → item: "bought *j*, which shares interest *Y*"
2. user → history item *j* → co-buyers → item: "people who bought *j* also bought it"
3. user → interest *Y* → item: "matches your interest *Y*"
4. user → similar users → item: "users like you bought it"
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Reason", "explain_items"]

log = logging.getLogger(__name__)

_VERBS = {"purchase": "bought", "cart": "added to cart", "click": "clicked", "view": "viewed"}


@dataclass(frozen=True)
class Reason:
    """One recommendation's explanation."""

    kind: str  # shared_interest | co_bought | interest | similar_users
    text: str
    via_item: str | None = None
    interest: str | None = None


def explain_items(
    user_row: int,
    item_rows: np.ndarray,
    *,
    interactions: sp.csr_matrix,
    item_ids: np.ndarray,
    titles: np.ndarray,
    item_interest: np.ndarray,
    interest_names: dict[int, str],
    profile: np.ndarray | None,
    profile_columns: np.ndarray | None,
    last_event: dict[str, str] | None = None,
) -> list[Reason]:
    """Explain why each of ``item_rows`` suits user ``user_row``.

    Args:
        user_row: Row of the user in ``interactions``.
        item_rows: ``(k,)`` recommended item columns.
        interactions: ``(n_users, n_items)`` training edges.
        item_ids: ``(n_items,)`` item ids.
        titles: ``(n_items,)`` item titles (plain text; escape before rendering as HTML).
        item_interest: ``(n_items,)`` coarse interest id per item (-1 for none).
        interest_names: Interest id → readable name.
        profile: ``(n_interests,)`` the user's interest shares, or None.
        profile_columns: Interest id of each profile entry.
        last_event: Item id → the user's strongest event on it (for the verb), optional.

    Returns:
        One :class:`Reason` per recommended item, in order.
    """
    history = interactions[user_row].indices
    if len(history) == 0:
        return [Reason("popular", "popular with shoppers right now") for _ in item_rows]
    binary = interactions.copy()
    binary.data[:] = 1.0
    csc = binary.tocsc()
    norms = np.sqrt(np.asarray(csc.multiply(csc).sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    rec = csc[:, item_rows]
    hist = csc[:, history]
    co = (rec.T @ hist).toarray()  # (k, |history|) co-buyer counts
    cos = co / norms[item_rows][:, None] / norms[history][None, :]
    weights = np.asarray(interactions[user_row, history].todense()).ravel()
    top_interests: list[int] = []
    if profile is not None and profile_columns is not None and len(profile):
        order = np.argsort(-profile)
        top_interests = [int(profile_columns[i]) for i in order[:3] if profile[i] > 0.05]
    out: list[Reason] = []
    for r, item in enumerate(item_rows):
        interest = int(item_interest[item])
        same = item_interest[history] == interest if interest >= 0 else np.zeros(len(history), bool)
        name = interest_names.get(interest)
        if same.any() and name:
            # the history item in the shared interest that is most co-bought with (or most weighted by) the user
            score = cos[r] * 10 + weights / (weights.max() or 1.0)
            j = history[np.flatnonzero(same)[np.argmax(score[same])]]
            verb = _VERBS.get((last_event or {}).get(str(item_ids[j]), "purchase"), "bought")
            out.append(
                Reason(
                    "shared_interest",
                    f"{verb} “{titles[j]}”, which shares interest “{name}”",
                    via_item=str(item_ids[j]),
                    interest=name,
                )
            )
        elif co[r].max() > 0:
            j = history[int(np.argmax(cos[r]))]
            out.append(
                Reason(
                    "co_bought",
                    f"people who bought “{titles[j]}” also bought it",
                    via_item=str(item_ids[j]),
                    interest=name,
                )
            )
        elif interest in top_interests and name:
            out.append(Reason("interest", f"matches your interest “{name}”", interest=name))
        else:
            out.append(Reason("similar_users", "users like you bought it", interest=name))
    return out


def strongest_events(events: pd.DataFrame, user_id: str) -> dict[str, str]:
    """Item id → the user's strongest event on it (purchase > cart > click > view)."""
    rank = {"view": 0, "click": 1, "cart": 2, "purchase": 3}
    mine = events.loc[events["user_id"] == user_id, ["item_id", "event"]]
    mine = mine[mine["event"].isin(rank)]
    if mine.empty:
        return {}
    mine = mine.assign(r=mine["event"].map(rank)).sort_values("r").drop_duplicates("item_id", keep="last")
    return dict(zip(mine["item_id"].astype(str), mine["event"].astype(str), strict=True))
