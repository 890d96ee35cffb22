"""Ranking metrics of top-K lists against held-out pairs, and the cold-item slice.

Recall@K = hits / |test items of the user|; NDCG@K is binary with the ideal DCG over ``min(|test|, K)``; both are
averaged over test users. Also: HitRate@K, precision@K, catalogue coverage, Gini of recommendation exposure,
long-tail share (slots given to items outside the 20% most-interacted) and a cold-item slice (test items with
< 5 train interactions): ``cold_recall@K`` is the slice's recall within the full top-K lists,
``cold_only_recall@K`` ranks only the cold items.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from uig_core.evaluation.protocol import COLD_THRESHOLD, Split

if TYPE_CHECKING:
    from uig_core.models.base import Recommender

__all__ = ["ranking_metrics", "top_lists", "cold_only_metrics", "cold_only_recalls", "gini", "HEAD_SHARE"]

log = logging.getLogger(__name__)

HEAD_SHARE = 0.2  # the most-interacted 20% of items are the head; the rest is the long tail
_BATCH = 1024


def ranking_metrics(
    top: np.ndarray,
    test: sp.csr_matrix,
    item_counts: np.ndarray,
    *,
    k: int = 20,
    cold_threshold: int = COLD_THRESHOLD,
) -> dict[str, float]:
    """Metrics of top-K lists against held-out items.

    Args:
        top: ``(n_users, ≥k)`` recommended item indices, best first (-1 = empty slot); row ``r`` belongs to the
            ``r``-th row of ``test``.
        test: ``(n_users, n_items)`` CSR of held-out pairs (rows without pairs are skipped).
        item_counts: ``(n_items,)`` train interactions per item (for the cold slice and the long tail).
        k: Cut-off K.
        cold_threshold: Items with fewer train interactions are cold.

    Returns:
        ``recall@K, ndcg@K, hitrate@K, precision@K, coverage, gini, long_tail_share, cold_recall@K`` and the number
        of users behind each mean (``users``, ``cold_users``).
    """
    n_items = test.shape[1]
    top = np.asarray(top)[:, :k]
    has = np.diff(test.indptr) > 0
    top, test = top[has], test[has]
    n_users = top.shape[0]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    idcg_cum = np.cumsum(discount)
    cold_item = np.asarray(item_counts) < cold_threshold
    recall = np.zeros(n_users)
    ndcg = np.zeros(n_users)
    hits_n = np.zeros(n_users)
    cold_recall: list[float] = []
    for r in range(n_users):
        truth = test.indices[test.indptr[r] : test.indptr[r + 1]]
        rec = top[r]
        hit = np.isin(rec, truth) & (rec >= 0)
        n_hit = int(hit.sum())
        hits_n[r] = n_hit
        recall[r] = n_hit / len(truth)
        ndcg[r] = float(discount[: len(rec)][hit].sum()) / idcg_cum[min(len(truth), k) - 1]
        cold_truth = truth[cold_item[truth]]
        if len(cold_truth):
            cold_recall.append(float(np.isin(cold_truth, rec[rec >= 0]).sum()) / len(cold_truth))
    valid = top[top >= 0]
    exposure = np.bincount(valid, minlength=n_items).astype(np.float64)
    order = np.lexsort((np.arange(n_items), -np.asarray(item_counts)))
    head = np.zeros(n_items, dtype=bool)
    head[order[: int(np.ceil(HEAD_SHARE * n_items))]] = True
    out = {
        f"recall@{k}": float(recall.mean()) if n_users else 0.0,
        f"ndcg@{k}": float(ndcg.mean()) if n_users else 0.0,
        f"hitrate@{k}": float((hits_n > 0).mean()) if n_users else 0.0,
        f"precision@{k}": float((hits_n / k).mean()) if n_users else 0.0,
        "coverage": float((exposure > 0).sum() / n_items),
        "gini": gini(exposure),
        "long_tail_share": float((~head[valid]).mean()) if len(valid) else 0.0,
        f"cold_recall@{k}": float(np.mean(cold_recall)) if cold_recall else 0.0,
        "users": int(n_users),
        "cold_users": len(cold_recall),
    }
    return out


def top_lists(model: Recommender, users: np.ndarray, hide: sp.csr_matrix, k: int = 20) -> np.ndarray:
    """``(len(users), k)`` top-k item indices of ``model`` with the pairs of ``hide`` left out (-1: empty slot).

    The ranking of a task whose masked pairs differ from the model's own seen mask (next purchase hides only
    bought items, whatever the model was fitted on).
    """
    from uig_core.models.base import topk

    hide = hide.tocsr()
    top = np.full((len(users), k), -1, dtype=np.int64)
    for start in range(0, len(users), _BATCH):
        batch = users[start : start + _BATCH]
        scores = np.array(model.score(batch), dtype=np.float32, copy=True, order="C")  # C order: the top-k reads rows
        scores[~np.isfinite(scores)] = np.finfo(np.float32).min
        seen = hide[batch]
        scores[np.repeat(np.arange(len(batch)), np.diff(seen.indptr)), seen.indices] = -np.inf
        idx, sc = topk(scores, k)
        idx[~np.isfinite(sc)] = -1
        top[start : start + len(batch), : idx.shape[1]] = idx
    return top


def cold_only_metrics(
    model: Recommender, split: Split, item_counts: np.ndarray, *, k: int = 20, cold_threshold: int = COLD_THRESHOLD
) -> dict[str, float]:
    """Recall@K when only cold items are candidates (does the model order little-known items sensibly?).

    For each test user with cold test items, the model ranks all cold train items (fewer than
    ``cold_threshold`` interactions) the user has not seen; Recall@K = cold hits / |cold test items|.
    """
    _, recalls = cold_only_recalls(model, split, item_counts, k=k, cold_threshold=cold_threshold)
    return {f"cold_only_recall@{k}": float(np.mean(recalls)) if len(recalls) else 0.0}


def cold_only_recalls(
    model: Recommender, split: Split, item_counts: np.ndarray, *, k: int = 20, cold_threshold: int = COLD_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """Per test user with cold test items: ``(users, recalls)`` of :func:`cold_only_metrics` (for bootstraps)."""
    cold = np.flatnonzero(np.asarray(item_counts) < cold_threshold)
    test = split.test
    is_cold = np.zeros(test.shape[1], dtype=bool)
    is_cold[cold] = True
    users = np.array(
        [u for u in split.test_users if is_cold[test.indices[test.indptr[u] : test.indptr[u + 1]]].any()],
        dtype=np.int64,
    )
    recalls = np.zeros(len(users), dtype=np.float64)
    if len(cold) == 0:
        return users[:0], recalls[:0]
    for start in range(0, len(users), _BATCH):
        batch = users[start : start + _BATCH]
        idx, _ = model.recommend(batch, k=k, filter_seen=True, items=cold)
        for row, u in enumerate(batch):
            truth = test.indices[test.indptr[u] : test.indptr[u + 1]]
            truth = truth[is_cold[truth]]
            recalls[start + row] = np.isin(truth, idx[row][idx[row] >= 0]).sum() / len(truth)
    return users, recalls


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal exposure, → 1 = all on one item)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * x).sum() / (n * total))
