"""What pages and the CLI ask about searches: recent ones, who searched for X, items for search-only users.

:mod:`uig_core.semantics.searches` holds the definitions (query → interest edges, the search-only ranking).

Example:
    >>> import pandas as pd
    >>> from uig_core.store.relation import EventRelation
    >>> ev = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": [None, "a"], "event": ["search", "view"],
    ...                    "query": ["红色口红", None], "ts": pd.to_datetime(["2024-01-02", "2024-01-01"])})
    >>> sorted(users_who_searched(EventRelation.of_frame(ev), "口红"))
    ['u1']
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.errors import UnknownId
from uig_core.store.relation import EventRelation

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = [
    "recent_searches",
    "users_who_searched",
    "recommend_from_searches",
    "search_only_recommendations",
    "searches_with_interests",
]

log = logging.getLogger(__name__)


def recent_searches(events: EventRelation, user_id: str, n: int = 10) -> pd.DataFrame:
    """A user's last ``n`` searches, newest first: ``ts, query`` (the portrait's list)."""
    if "query" not in events.columns:
        return pd.DataFrame({"ts": [], "query": pd.Series(dtype="string")})
    with events.query() as (con, rel):
        frame = con.execute(
            f"SELECT ts, query FROM {rel} WHERE user_id = ? AND event = 'search' AND query IS NOT NULL "
            "ORDER BY ts DESC LIMIT ?",
            [str(user_id), int(n)],
        ).df()
    frame["query"] = frame["query"].astype("string")
    return frame


def users_who_searched(events: EventRelation, phrase: str) -> set[str]:
    """Users with a search whose query contains ``phrase`` (case-insensitive): a segment's "searched for X"."""
    if "query" not in events.columns or not str(phrase).strip():
        return set()
    with events.query() as (con, rel):
        rows = con.execute(
            f"SELECT DISTINCT user_id FROM {rel} WHERE event = 'search' AND contains(lower(query), lower(?))",
            [str(phrase).strip()],
        ).fetchall()
    return {str(r[0]) for r in rows}


def recommend_from_searches(bundle: Bundle, events: EventRelation, user_id: str, k: int = 20) -> pd.DataFrame:
    """Top ``k`` items for a user from what their searches mean: ``item_id, title, score`` (empty without any).

    For users with no item history (their model row is empty); the ranking is
    :func:`~uig_core.semantics.searches.scores_from_searches` over the build's interests and item vectors.
    """
    from uig_core.semantics.embeddings import Embedder
    from uig_core.semantics.searches import query_interest_matrix, scores_from_searches

    recent = recent_searches(events, user_id, n=50)
    if recent.empty:
        return pd.DataFrame({"item_id": [], "title": [], "score": []})
    items = bundle.items
    centroids = np.asarray(bundle.arrays["centroids"], dtype=np.float32)
    item_vecs = np.asarray(bundle.arrays["embeddings"], dtype=np.float32)
    q = Embedder(model=bundle.meta.get("config", {}).get("embed_model")).embed(recent["query"].astype(str).tolist())
    coarse = bundle.interests.loc[bundle.interests["level"] == "coarse", "interest_id"].to_numpy(dtype=np.int64)
    share = np.zeros((1, int(centroids.shape[0])), dtype=np.float32)
    share[0, coarse] = query_interest_matrix(q, centroids[coarse]).sum(axis=0)
    sim = q[:1] @ item_vecs.T  # the latest query (recent_searches is newest first)
    pop = items["n_interactions"].to_numpy() if "n_interactions" in items else np.ones(len(items))
    scores = scores_from_searches(share, items["interest_id"].to_numpy(), pop, sim)[0]
    top = np.argsort(-scores, kind="stable")[:k]
    return pd.DataFrame(
        {"item_id": items["item_id"].to_numpy()[top], "title": items["title"].to_numpy()[top], "score": scores[top]}
    )


def searches_with_interests(bundle: Bundle, events: pd.DataFrame, n: int = 10) -> list[dict[str, object]]:
    """A user's last ``n`` searches, newest first, each with the interest its query points to (the portrait's).

    Args:
        bundle: The build (its text model, interest centroids and names).
        events: The user's events (``event``, ``ts``, ``query`` where the log has it).
        n: How many searches.

    Returns:
        ``[{ts, query, interest_id, interest, share}]`` (``share``: the query's weight on that interest).
    """
    from uig_core.semantics.embeddings import Embedder
    from uig_core.semantics.searches import query_interest_matrix

    if "query" not in events or not len(events):
        return []
    rows = events[(events["event"] == "search") & events["query"].notna()].tail(int(n)).iloc[::-1]
    if rows.empty:
        return []
    centroids = bundle.arrays.get("centroids")
    coarse = bundle.interests.loc[bundle.interests["level"] == "coarse", "interest_id"].to_numpy(dtype=np.int64)
    queries = rows["query"].astype(str).tolist()
    point = np.full(len(queries), -1)
    share = np.zeros(len(queries))
    if centroids is not None and len(coarse):
        q = Embedder(model=bundle.meta.get("config", {}).get("embed_model")).embed(queries)
        m = query_interest_matrix(q, np.asarray(centroids, dtype=np.float32)[coarse])
        point, share = coarse[m.argmax(axis=1)], m.max(axis=1)
    names = bundle.interest_names
    return [
        {
            "ts": pd.Timestamp(t).strftime("%Y-%m-%d %H:%M"),
            "query": q_text,
            "interest_id": int(i) if i >= 0 else None,
            "interest": names.get(int(i)) if i >= 0 else None,
            "share": round(float(s_), 3),
        }
        for t, q_text, i, s_ in zip(rows["ts"], queries, point, share, strict=True)
    ]


def search_only_recommendations(bundle: Bundle, events: EventRelation, user_id: str, k: int = 20) -> list[dict] | None:
    """For a user with searches and no item history: items in ``Bundle.recommend``'s shape; None for anyone else.

    Each item's reason names the search it answers ("you searched for 口红").
    """
    try:
        row = bundle.user_row(str(user_id))
    except UnknownId:  # the caller reports an unknown user, as Bundle.recommend does
        return None
    inter = bundle.interactions
    if inter.indptr[row + 1] > inter.indptr[row]:
        return None
    recent = recent_searches(events, user_id, n=1)
    if recent.empty:
        return None
    table = recommend_from_searches(bundle, events, user_id, k=k)
    last = str(recent["query"].iat[0])
    return [
        {
            "item_id": str(r.item_id),
            "title": str(r.title),
            "score": float(r.score),
            "reason": f"you searched for “{last}”",
            "reason_kind": "search",
        }
        for r in table.itertuples(index=False)
    ]
