"""Score a *built* model on a held-out split whose users and items are indexed differently.

A build indexes every user and item of its dataset (views, returns, ...); a :class:`~uig_core.protocol.Split`
indexes the protocol's clean positives before the cutoff. This maps one onto the other so that any build —
full or incremental — is measured with the exact protocol: candidates are the split's train items, each user's
split-train items are masked, metrics come from :func:`~uig_core.metrics.ranking_metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from uig_core.metrics import ranking_metrics
from uig_core.models.base import topk
from uig_core.protocol import Split

__all__ = ["evaluate_build"]

_BATCH = 1024


def evaluate_build(model: Any, user_ids: pd.Index, item_ids: pd.Index, split: Split, *, k: int = 20
                   ) -> dict[str, float]:
    """Protocol metrics of a fitted model whose rows are ``user_ids`` and columns ``item_ids``.

    Args:
        model: A fitted :class:`~uig_core.models.base.Recommender`.
        user_ids: The model's row → user id.
        item_ids: The model's column → item id.
        split: The held-out split (its ``train`` pattern is masked; its ``test`` pairs are the truth).
        k: Cut-off.

    Returns:
        :func:`~uig_core.metrics.ranking_metrics` plus ``missing_users`` (test users the model does not know;
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
