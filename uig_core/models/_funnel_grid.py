"""Top-k lists of ``recent_funnel`` for every setting of its grid from one kNN pass (the build's validation).

``score(u, i) = rest(u, i) + blend · w_ui · 0.5^(age_ui / half_life)``, the second term only on the user's
unbought pairs ``U_u`` and never negative. So under any setting the top k lie inside ``top_k(rest) ∪ U_u``: an
item outside both keeps its ``rest`` score and is beaten by the k items of ``top_k(rest)``, whose scores only
grew (ties go to the lower index either way). The kNN part — the expensive sparse product over all items — is
computed once per batch of users, and each setting re-ranks only those candidates. The lists are exactly those
of :func:`uig_core.evaluation.metrics.top_lists` on the model set to each setting (the same float32 arithmetic).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["funnel_grid_tops"]

log = logging.getLogger(__name__)

_BATCH = 1024


def funnel_grid_tops(
    model: Any,
    users: np.ndarray,
    hide: sp.csr_matrix,
    settings: Sequence[Mapping[str, float]],
    k: int = 20,
) -> list[np.ndarray]:
    """``(len(users), k)`` top-k item indices (-1: empty slot) of ``model`` under each setting, ``hide`` left out.

    Args:
        model: A fitted :class:`~uig_core.models.recent.RecentFunnel` (its own ``blend`` and
            ``half_life_days`` are not used).
        users: Rows to rank.
        hide: ``(n_users, n_items)`` pairs left out of every ranking.
        settings: ``{"blend": …, "half_life_days": …}`` per setting.
        k: List length.
    """
    from uig_core.models.base import topk

    hide = hide.tocsr()
    users = np.asarray(users, dtype=np.int64)
    tops = [np.full((len(users), k), -1, dtype=np.int64) for _ in settings]
    for start in range(0, len(users), _BATCH):
        batch = users[start : start + _BATCH]
        rest = np.array(model._rest(batch), dtype=np.float32, copy=True, order="C")
        rest[~np.isfinite(rest)] = np.finfo(np.float32).min
        seen = hide[batch]
        rest[np.repeat(np.arange(len(batch)), np.diff(seen.indptr)), seen.indices] = -np.inf
        first, _ = topk(rest, k)
        cand, rows, pos, weight, age = _candidates(model, batch, first, rest.shape[1])
        base = np.where(cand >= 0, rest[np.arange(len(batch))[:, None], np.maximum(cand, 0)], -np.inf)
        for top, setting in zip(tops, settings, strict=True):
            scores = base.copy()
            decay = np.power(np.float32(0.5), age / np.float32(setting["half_life_days"]))
            scores[rows, pos] += np.float32(setting["blend"]) * weight * decay
            at, vals = topk(scores, k)
            idx = np.take_along_axis(cand, at, axis=1)
            idx[~np.isfinite(vals)] = -1
            top[start : start + len(batch), : idx.shape[1]] = idx
    return tops


def _candidates(
    model: Any, batch: np.ndarray, first: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's candidates sorted by item (-1 pads), and where its unbought pairs sit among them.

    Returns:
        ``cand`` ``(len(batch), C)``; ``rows``, ``pos``: the unbought pairs' cells in ``cand``; their funnel
        weights and ages (aligned with ``rows``).
    """
    ages = model.unbought_
    lo, hi = ages.indptr[batch].astype(np.int64), ages.indptr[batch + 1].astype(np.int64)
    lengths = (hi - lo).astype(np.int64)
    # the indices lo[r] .. hi[r] - 1 of every row r, in one vector
    picks = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
    u_rows = np.repeat(np.arange(len(batch)), lengths)
    u_keys = u_rows * n_items + np.asarray(ages.indices, dtype=np.int64)[picks]
    f_rows = np.repeat(np.arange(len(batch)), first.shape[1])
    f_keys = f_rows * n_items + first.ravel()
    keys = np.unique(np.concatenate([f_keys, u_keys]))
    key_rows = keys // n_items
    starts = np.searchsorted(key_rows, np.arange(len(batch)))
    width = int(np.bincount(key_rows, minlength=len(batch)).max()) if len(keys) else 0
    cand = np.full((len(batch), max(width, 1)), -1, dtype=np.int64)
    cols = np.arange(len(keys)) - starts[key_rows]
    cand[key_rows, cols] = keys % n_items
    at = np.searchsorted(keys, u_keys)
    pos = at - starts[u_rows]
    weight = np.asarray(model.seen_weight_, dtype=np.float32)[picks]
    age = np.asarray(ages.data, dtype=np.float32)[picks]
    return cand, u_rows, pos, weight, age
