"""Interests of a mixed-language catalogue: each script's items are clustered apart, then put into one result.

Why: in one multilingual vector space the language of a title is its strongest signal, so on a mixed English /
Chinese log the silhouette rule of :func:`~uig_core.semantics.interests.find_interests` finds "the Chinese items"
and "the English items" (k = 2: one interest of 1,453 English items beside one of 120 Chinese ones), never the
themes inside each. Items are grouped by script (:func:`~uig_core.semantics.words.is_nonlatin`); a group of at
least :data:`MIN_GROUP` items and :data:`MIN_SHARE` of the catalogue gets its own interests, smaller ones join
the largest group. The ids are renumbered into one table (coarse interests first, as ``find_interests`` numbers
them; centroids row = id), so nothing downstream knows the difference. An interest of Chinese items is then named
from Chinese titles, an English one from English titles. A single-script catalogue goes straight through.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from uig_core.semantics.interests import InterestResult, find_interests
from uig_core.semantics.words import is_nonlatin

__all__ = ["MIN_GROUP", "MIN_SHARE", "find_interests_by_script"]

log = logging.getLogger(__name__)

#: Smallest script group clustered on its own (items, share of the catalogue's items with text).
MIN_GROUP, MIN_SHARE = 30, 0.03


def find_interests_by_script(
    item_ids: Sequence[Hashable] | np.ndarray,
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    k: int | None = None,
    has_text: np.ndarray | None = None,
    **kwargs: Any,
) -> InterestResult:
    """:func:`~uig_core.semantics.interests.find_interests`, per script group when the catalogue mixes scripts.

    Args:
        item_ids: ``(n,)`` item ids.
        texts: ``(n,)`` item texts.
        embeddings: ``(n, d)`` unit vectors.
        k: Number of coarse interests (a fixed k applies to the catalogue as one group).
        has_text: ``(n,)`` False for ID-only items.
        **kwargs: Passed on to ``find_interests``.

    Returns:
        One :class:`~uig_core.semantics.interests.InterestResult` over all items.
    """
    x = np.asarray(embeddings)
    has = np.linalg.norm(x, axis=1) > 0 if has_text is None else np.asarray(has_text, dtype=bool)
    script = np.array([is_nonlatin(t) for t in texts], dtype=bool)
    groups = _groups(script, has)
    if k is not None or len(groups) < 2:
        return find_interests(item_ids, texts, x, k=k, has_text=has, **kwargs)
    ids = np.asarray(item_ids)
    parts = []
    for members in groups:
        mask = np.zeros(len(ids), dtype=bool)
        mask[members] = True
        parts.append((mask, find_interests(ids, texts, x, has_text=has & mask, **kwargs)))
    log.info("interests per script: %s", ", ".join(f"{int(m.sum()):,} items → {r.k}" for m, r in parts))
    return _merge(ids, parts)


def _groups(script: np.ndarray, has: np.ndarray) -> list[np.ndarray]:
    """Item positions of each script group big enough to cluster alone (small ones join the largest)."""
    total = int(has.sum())
    sets = [np.flatnonzero(has & (script == flag)) for flag in (False, True)]  # Latin first, then the others
    return [g for g in sets if len(g) >= MIN_GROUP and len(g) >= MIN_SHARE * total]


def _merge(ids: np.ndarray, parts: list[tuple[np.ndarray, InterestResult]]) -> InterestResult:
    """One result from per-group results: coarse ids 0.. group by group, then the fine ids, centroids by id."""
    n_coarse = [r.k for _, r in parts]
    n_fine = [int((r.table["level"] == "fine").sum()) for _, r in parts]
    coarse_base = np.concatenate(([0], np.cumsum(n_coarse)[:-1]))
    fine_base = sum(n_coarse) + np.concatenate(([0], np.cumsum(n_fine)[:-1]))
    labels = np.full(len(ids), -1, dtype=np.int64)
    fine_labels = np.full(len(ids), -1, dtype=np.int64)
    tables, cents = [], {}
    for (mask, r), cb, fb in zip(parts, coarse_base, fine_base, strict=True):
        k = r.k

        def new_id(old: np.ndarray | int, k: int = k, cb: int = int(cb), fb: int = int(fb)) -> np.ndarray:
            old = np.asarray(old)
            return np.where(old < 0, -1, np.where(old < k, old + cb, old - k + fb))

        labels[mask] = new_id(r.labels[mask])
        fine_labels[mask] = new_id(r.fine_labels[mask])
        t = r.table.copy()
        for old_id in t["interest_id"].to_numpy():
            cents[int(new_id(int(old_id)))] = r.centroids[int(old_id)]
        t["interest_id"] = new_id(t["interest_id"].to_numpy())
        t["parent"] = np.where(t["parent"].to_numpy() < 0, -1, new_id(t["parent"].to_numpy()))
        tables.append(t)
    table = pd.concat(tables, ignore_index=True).sort_values("interest_id", kind="stable").reset_index(drop=True)
    centroids = np.vstack([cents[i] for i in range(len(table))]).astype(np.float32)
    criterion = "; ".join(f"{int(m.sum()):,} items of one script: {r.criterion}" for m, r in parts)
    return InterestResult(ids, labels, fine_labels, table, int(sum(n_coarse)), {}, criterion, centroids)
