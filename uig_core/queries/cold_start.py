"""Recommendations for users the model cannot place: ranked by what the items they touched mean.

A user whose history holds only items no one else touched (a newcomer after an appended batch of new items, a user
left out of training) gets the same score for every item from a collaborative model: all zeros, and a list in
id order. :func:`needs_meaning` spots such a ranking and :func:`meaning_ranking` replaces it: candidates score by
the cosine between their title embedding and the user's history (each history item weighted by its edge), so the
list follows the themes the user touched; a small popularity term orders near-equal items. The reason names the
history item closest in meaning to each recommendation. A user with no history at all gets the most popular
items, said so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from uig_core.queries.explain import Reason

#: A loaded build (:class:`uig_core.build.bundle.Bundle`, which calls this module: not imported here).
Bundle = Any

__all__ = ["needs_meaning", "meaning_ranking"]

#: Weight of the popularity term (log of the item's users, scaled to [0, 1]) beside the cosine in [-1, 1].
POPULARITY_WEIGHT = 0.05
_VERBS = {"purchase": "bought", "cart": "added to cart", "fav": "saved", "click": "clicked", "view": "viewed"}


def needs_meaning(scores: np.ndarray) -> bool:
    """Whether a model's top scores say nothing: none above zero, or all equal (every item tied)."""
    finite = np.asarray(scores, dtype=float)
    finite = finite[np.isfinite(finite)]
    return len(finite) > 0 and (finite.max() <= 0.0 or float(np.ptp(finite)) == 0.0)


def meaning_ranking(
    bundle: Bundle, row: int, k: int, *, candidates: np.ndarray | None = None, exclude_seen: bool = True
) -> tuple[np.ndarray, np.ndarray, list[Reason]]:
    """Top-``k`` item columns for the user at ``row`` by meaning, their scores and reasons (module docstring)."""
    x = bundle.interactions
    lo, hi = int(x.indptr[row]), int(x.indptr[row + 1])
    history, weights = np.asarray(x.indices[lo:hi], dtype=np.int64), np.asarray(x.data[lo:hi], dtype=np.float64)
    cols = np.arange(x.shape[1]) if candidates is None else np.asarray(candidates, dtype=np.int64)
    if exclude_seen and len(history):
        cols = cols[~np.isin(cols, history)]
    if not len(cols):
        return np.zeros(0, dtype=np.int64), np.zeros(0), []
    n_users = np.asarray(bundle.items["n_users"], dtype=np.float64)[cols] if "n_users" in bundle.items else None
    popularity = np.log1p(n_users) / max(np.log1p(n_users).max(), 1e-9) if n_users is not None else 0.0
    if not len(history):
        return _from_profile(bundle, row, cols, np.asarray(popularity, dtype=np.float64) + np.zeros(len(cols)), k)
    emb = np.asarray(bundle.embeddings[cols], dtype=np.float32)
    past = np.asarray(bundle.embeddings[history], dtype=np.float32)
    past /= np.maximum(np.linalg.norm(past, axis=1, keepdims=True), 1e-12)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sims = emb @ past.T  # (candidates, history)
    scores = sims @ (weights / weights.sum()) + POPULARITY_WEIGHT * popularity
    top = np.lexsort((cols, -scores))[:k]
    return cols[top], scores[top], _reasons(bundle, row, history, sims[top])


def _from_profile(bundle: Bundle, row: int, cols: np.ndarray, popularity: np.ndarray, k: int) -> tuple:
    """No item history: rank by the user's interest profile (searches alone give one), else by popularity."""
    profile = np.asarray(bundle.profiles[row], dtype=np.float64)
    if profile.sum() <= 0:
        top = np.lexsort((cols, -popularity))[:k]
        reason = Reason("popular", "popular in this shop (no history to go on yet)")
        return cols[top], popularity[top], [reason] * len(top)
    share = dict(zip(np.asarray(bundle.profile_columns, dtype=np.int64).tolist(), profile.tolist(), strict=True))
    interest = np.asarray(bundle.items["interest_id"], dtype=np.int64)[cols]
    scores = np.array([share.get(int(t), 0.0) for t in interest]) + POPULARITY_WEIGHT * popularity
    top = np.lexsort((cols, -scores))[:k]
    names = bundle.interest_names
    reasons = [
        Reason(
            "interest",
            f"popular in “{names.get(int(interest[t]), '?')}”, where your searches point",
            interest=names.get(int(interest[t])),
        )
        for t in top
    ]
    return cols[top], scores[top], reasons


def _reasons(bundle: Bundle, row: int, history: np.ndarray, sims: np.ndarray) -> list[Reason]:
    from uig_core.schema import EVENT_CODES

    strongest = bundle.strongest
    codes = {}
    if strongest is not None:
        r = strongest[row]
        codes = {int(c): EVENT_CODES.get(int(v), "purchase") for c, v in zip(r.indices, r.data, strict=True)}
    titles = bundle.items["title"]
    out = []
    for best in np.argmax(sims, axis=1) if len(history) else []:
        via = int(history[best])
        title = str(titles.iat[via])
        verb = _VERBS.get(codes.get(via, "view"), "viewed")
        item_id = str(bundle.items["item_id"].iat[via])
        because = ({"item_id": item_id, "title": title, "event": codes.get(via, "view"), "share": 1.0},)
        text = f"close in meaning to “{title}”, which you {verb}"
        out.append(Reason("meaning", text, via_item=item_id, because=because))
    return out
