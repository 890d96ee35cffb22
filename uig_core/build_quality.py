"""Quality figures recorded with every build, for the version history.

Two figures, both cheap enough to compute inside a build:

* ``validation_recall@20`` — the default model's Recall@20 on the validation split its fit carved from the
  training data (EASE's λ search, a GCN's early stopping); absent for models without one.
* ``next_batch_recall@20`` — for an update, how well the *previous* build predicted the batch that just
  arrived: the previous default model ranks every item it knows for each returning user, and the truth is the
  (user, item) purchases first seen after the previous build's last event. An honest out-of-time figure: the
  previous build never saw those events.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.columns import positions

__all__ = ["validation_recall", "next_batch_recall"]


def validation_recall(model: Any) -> float | None:
    """The model's validation Recall@20 from its own fit, or None."""
    value = getattr(model, "validation_recall_", None)
    if value is None:
        scores = getattr(model, "validation_", None)
        chosen = getattr(model, "l2_", None)
        if scores and chosen in scores:
            value = scores[chosen]
    return None if value is None else round(float(value), 4)


def next_batch_recall(previous: Any, events: pd.DataFrame, *, k: int = 20) -> dict[str, Any] | None:
    """Recall@K of the previous build's default model on the purchases that arrived after it.

    Args:
        previous: The previous :class:`~uig_core.bundle.Bundle`.
        events: All events of the dataset now (canonical frame).
        k: Cut-off.

    Returns:
        ``{"next_batch_recall@K", "next_batch_users", "next_batch_pairs"}``, or None when the new events hold
        no purchase of a known user and known item that is new to that user.
    """
    from uig_core.build_eval import evaluate_build
    from uig_core.protocol import Split, clean_positives

    since = pd.Timestamp(previous.meta["time_range"][1])
    positive, target = clean_positives(events[events["ts"] > since])  # only the new events can hold the truth
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
    return {f"next_batch_recall@{k}": round(result[f"recall@{k}"], 4), "next_batch_users": result["users"],
            "next_batch_pairs": int(test.nnz)}
