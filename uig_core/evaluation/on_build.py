"""Evaluation of a *built* model: the figures recorded with every build, and any build scored on a split.

A build indexes every user and item of its dataset (views, returns, ...); a :class:`~uig_core.evaluation.protocol.Split`
indexes the protocol's clean positives before the cutoff. :func:`evaluate_build` maps one onto the other so that
any build — full or incremental — is measured with the exact protocol: candidates are the split's train items, each
user's split-train items are masked, metrics come from :func:`~uig_core.evaluation.metrics.ranking_metrics`.

Two figures are recorded with every build (cheap enough to compute inside it):

* ``validation_recall@20`` — the default model's Recall@20 on the validation split its fit carved from the
  training data (EASE's λ search, a GCN's early stopping); absent for models without one.
* ``next_batch_recall@20`` — for an update, how well the *previous* build predicted the batch that just
  arrived: the previous default model ranks every item it knows for each returning user, and the truth is the
  (user, item) purchases first seen after the previous build's last event. An honest out-of-time figure: the
  previous build never saw those events.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.columns import positions
from uig_core.evaluation.metrics import ranking_metrics
from uig_core.evaluation.protocol import Split, clean_positives
from uig_core.models.base import topk
from uig_core.store.relation import EventRelation

if TYPE_CHECKING:
    from uig_core.models.base import Recommender

__all__ = ["validation_recall", "next_batch_recall", "evaluate_build"]

log = logging.getLogger(__name__)

_BATCH = 1024


def validation_recall(model: Recommender) -> float | None:
    """The model's validation Recall@20 from its own fit, or None."""
    value = getattr(model, "validation_recall_", None)
    if value is None:
        scores = getattr(model, "validation_", None)
        chosen = getattr(model, "l2_", None)
        if scores and chosen in scores:
            value = scores[chosen]
    return None if value is None else round(float(value), 4)


def next_batch_recall(previous: Any, events: pd.DataFrame | EventRelation, *, k: int = 20) -> dict[str, Any] | None:
    """Recall@K of the previous build's default model on the purchases that arrived after it.

    Args:
        previous: The previous :class:`~uig_core.build.bundle.Bundle`.
        events: All events of the dataset now (a canonical frame or the stored dataset's relation).
        k: Cut-off.

    Returns:
        ``{"next_batch_recall@K", "next_batch_users", "next_batch_pairs"}``, or None when the new events hold
        no purchase of a known user and known item that is new to that user.
    """
    since = pd.Timestamp(previous.meta["time_range"][1])
    new = events.after(since) if isinstance(events, EventRelation) else events[events["ts"] > since]
    positive, target = clean_positives(new)  # only the new events can hold the truth
    if target == "purchase":
        positive = positive[positive["event"] == "purchase"]
    users, items = previous.user_index, previous.item_index
    rows = positions(users, positive["user_id"])
    cols = positions(items, positive["item_id"])
    ok = (rows >= 0) & (cols >= 0)
    if not ok.any():
        return None
    model = previous.model()
    seen = model.interactions_
    test = sp.csr_matrix((np.ones(int(ok.sum()), np.float32), (rows[ok], cols[ok])), shape=(len(users), len(items)))
    test.sum_duplicates()
    test = test - test.multiply(seen > 0)  # a pair the previous graph already had is not a prediction
    test.eliminate_zeros()
    if test.nnz == 0:
        return None
    test.data[:] = 1.0
    split = Split(train=seen, test=test.tocsr(), user_ids=users, item_ids=items)
    result = evaluate_build(model, users, items, split, k=k)
    return {
        f"next_batch_recall@{k}": round(result[f"recall@{k}"], 4),
        "next_batch_users": result["users"],
        "next_batch_pairs": int(test.nnz),
    }


def evaluate_build(
    model: Recommender, user_ids: pd.Index, item_ids: pd.Index, split: Split, *, k: int = 20
) -> dict[str, float]:
    """Protocol metrics of a fitted model whose rows are ``user_ids`` and columns ``item_ids``.

    Args:
        model: A fitted :class:`~uig_core.models.base.Recommender`.
        user_ids: The model's row → user id.
        item_ids: The model's column → item id.
        split: The held-out split (its ``train`` pattern is masked; its ``test`` pairs are the truth).
        k: Cut-off.

    Returns:
        :func:`~uig_core.evaluation.metrics.ranking_metrics` plus ``missing_users`` (test users the model does not know;
        they count as misses) and ``missing_items`` (split items the model does not know; never recommended).
    """
    users = split.test_users
    rows = pd.Index(user_ids.astype(str)).get_indexer(split.user_ids[users].astype(str))
    cols = pd.Index(item_ids.astype(str)).get_indexer(split.item_ids.astype(str))
    known_cols = cols >= 0
    top = np.full((len(users), k), -1, dtype=np.int64)
    seen = split.train > 0
    for start in range(0, len(users), _BATCH):
        part = slice(start, start + _BATCH)
        r = rows[part]
        ok = r >= 0
        if not ok.any():
            continue
        raw = model.score(r[ok])
        scores = np.full((int(ok.sum()), len(cols)), -np.inf, dtype=np.float32)
        scores[:, known_cols] = raw[:, cols[known_cols]]
        mask = seen[users[part][ok]].tocoo()
        scores[mask.row, mask.col] = -np.inf
        idx, sc = topk(scores, k)
        idx[~np.isfinite(sc)] = -1
        top[np.flatnonzero(ok) + start] = idx
    counts = np.diff(seen.tocsc().indptr)
    out = ranking_metrics(top, split.test[users], counts, k=k)
    out["missing_users"] = int((rows < 0).sum())
    out["missing_items"] = int((~known_cols).sum())
    return out
