"""Validation splits carved from the training matrix only, and a fast Recall@K for model selection."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from uig_core.models._topk import topk

__all__ = ["holdout", "user_holdout", "recall_at_k"]

log = logging.getLogger(__name__)


def holdout(
    x: sp.csr_matrix, fraction: float = 0.2, *, seed: int = 0, min_items: int = 3, max_users: int | None = None
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hold out a random ``fraction`` of each eligible user's interactions.

    Only users with at least ``min_items`` interactions give up entries (each keeps at least one), and at most
    ``max_users`` of them (chosen at random), so small histories are left whole.

    Returns:
        ``(train, validation)`` CSR matrices of the input's shape; their patterns partition the input's.
    """
    rng = np.random.default_rng(seed)
    x = x.tocsr()
    counts = np.diff(x.indptr)
    eligible = np.flatnonzero(counts >= min_items)
    if max_users is not None and len(eligible) > max_users:
        eligible = np.sort(rng.choice(eligible, size=max_users, replace=False))
    take = np.zeros(x.nnz, dtype=bool)
    r = rng.random(x.nnz)
    for u in eligible:
        lo, hi = x.indptr[u], x.indptr[u + 1]
        n_out = min(max(1, int(round(fraction * (hi - lo)))), hi - lo - 1)
        order = np.argsort(r[lo:hi])[:n_out]
        take[lo + order] = True
    rows = np.repeat(np.arange(x.shape[0]), counts)
    tr = sp.csr_matrix((x.data[~take], (rows[~take], x.indices[~take])), shape=x.shape, dtype=np.float32)
    va = sp.csr_matrix((x.data[take], (rows[take], x.indices[take])), shape=x.shape, dtype=np.float32)
    return tr, va


def user_holdout(
    x: sp.csr_matrix, user_fraction: float = 0.2, item_fraction: float = 0.2, *, seed: int = 0, min_items: int = 3
) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix]:
    """Strong-generalisation split (as in the EASE paper): hold out whole users, then part of their items.

    Returns:
        ``(fit_users, fold_in, valid)``: row indices of the users a model is fitted on, and two
        ``(n_held, n_items)`` CSR matrices — the held-out users' visible items and their hidden ones.
    """
    rng = np.random.default_rng(seed)
    counts = np.diff(x.indptr)
    eligible = np.flatnonzero(counts >= min_items)
    n_held = min(len(eligible), max(1, int(round(user_fraction * x.shape[0]))))
    held = np.sort(rng.choice(eligible, size=n_held, replace=False)) if n_held else eligible[:0]
    mask = np.zeros(x.shape[0], dtype=bool)
    mask[held] = True
    fold_in, valid = holdout(x[held], item_fraction, seed=seed + 1, min_items=min_items)
    return np.flatnonzero(~mask), fold_in, valid


def recall_at_k(
    score: Callable[[np.ndarray], np.ndarray],
    train: sp.csr_matrix,
    valid: sp.csr_matrix,
    *,
    k: int = 20,
    batch: int = 1024,
) -> float:
    """Mean Recall@K over users with validation items, ranking all items and masking train items.

    Args:
        score: ``score(user_indices) -> (n, n_items)`` raw scores.
        train: Matrix the model was fitted on (masked when ranking).
        valid: Held-out pairs.
        k: Cut-off K.
        batch: Users scored at once.
    """
    users = np.flatnonzero(np.diff(valid.indptr))
    if len(users) == 0:
        return 0.0
    total = 0.0
    for start in range(0, len(users), batch):
        b = users[start : start + batch]
        s = np.array(score(b), dtype=np.float32, copy=True, order="C")
        seen = train[b]
        s[np.repeat(np.arange(len(b)), np.diff(seen.indptr)), seen.indices] = -np.inf
        kk = min(k, s.shape[1])
        top = topk(s, kk)[0]  # the one ranking rule (torch for a large block)
        v = valid[b]
        hit = np.zeros_like(s, dtype=bool)
        hit[np.repeat(np.arange(len(b)), np.diff(v.indptr)), v.indices] = True
        hits = np.take_along_axis(hit, top, axis=1).sum(axis=1)
        total += float((hits / np.diff(v.indptr)).sum())
    return total / len(users)
