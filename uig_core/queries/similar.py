"""Similar users that mean something: never the user, enough evidence on both sides, ties broken by overlap.

:meth:`Bundle.similar_users <uig_core.build.bundle.Bundle.similar_users>` ranks users by the cosine of their
vectors (:attr:`~uig_core.build.bundle.Bundle.user_neighbors`), and that alone misleads in three ways, each
ruled out here:

* **Support.** A user with one or two items has the vector of those items, so a one-event user looks 0.9
  similar to anyone who touched the same item. Only users with at least :data:`SIMILAR_MIN_ITEMS` distinct
  items in the training graph are listed, and a user below it gets no list (there is nothing to compare).
* **Ties.** Where user vectors are interest profiles, everyone devoted to one interest has cosine 1.000.
  Similarities equal at the shown precision (4 decimals) are ordered by the number of items the two users
  have in common (``overlap``), then by row.
* **Figures.** The user themself, masked rows (``-inf``), non-finite values and similarities of 0 or less
  (nothing in common) are never returned.

Example:
    >>> import scipy.sparse as sp
    >>> from uig_core.queries.vectors import VectorIndex
    >>> x = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 0, 1], [1, 0, 0, 0]], dtype=np.float32))
    >>> index = VectorIndex.exact(np.ones((4, 2), dtype=np.float32))  # everyone alike: a four-way tie
    >>> rows, sims, overlap = similar_rows(index, x, 0, 5)
    >>> rows.tolist(), overlap.tolist()  # row 3 has one item: no support
    ([1, 2], [3, 2])
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from uig_core.errors import ConfigError

if TYPE_CHECKING:
    import scipy.sparse as sp

    from uig_core.queries.vectors import VectorIndex

__all__ = ["SIMILAR_MIN_ITEMS", "similar_rows"]

log = logging.getLogger(__name__)

#: Fewest distinct items a user needs in the training graph to have, or be, a similar user.
SIMILAR_MIN_ITEMS = 3
_DECIMALS = 4  # the precision similarities are shown at; equal there is a tie


def similar_rows(
    index: VectorIndex, interactions: sp.csr_matrix, row: int, k: int, *, min_items: int = SIMILAR_MIN_ITEMS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` users most similar to the user at ``row`` (rules in the module docstring).

    Args:
        index: Nearest-neighbour index over the user vectors (row = user row).
        interactions: ``(n_users, n_items)`` training graph; its row lengths are the users' support.
        row: The user's row.
        k: How many users (an int >= 1).
        min_items: Fewest distinct items a user needs (the asked user and every one listed).

    Returns:
        ``(rows int64, similarities float64, overlap int64)``, each of length <= ``k``, most similar first.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"The 'k' parameter of similar_users must be an int in [1, inf). Got {k!r} instead.")
    if not isinstance(min_items, (int, np.integer)) or min_items < 1:
        raise ConfigError(f"The 'min_items' of similar_users must be an int >= 1. Got {min_items!r} instead.")
    support = np.diff(np.asarray(interactions.indptr))
    query = index.vector(int(row))
    empty = np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int64)
    if support[row] < min_items or not np.isfinite(query).all():
        return empty
    rows, sims = _candidates(index, query, int(row), int(k), support >= min_items)
    if not len(rows):
        return empty
    rounded = np.round(sims, _DECIMALS)
    within = rounded >= rounded[min(k, len(rows)) - 1]  # the first k and everything tied with the k-th
    rows, sims, rounded = rows[within], sims[within], rounded[within]
    overlap = _overlap(interactions, int(row), rows)
    order = np.lexsort((rows, -overlap, -rounded))[:k]
    return rows[order], sims[order], overlap[order]


def _candidates(
    index: VectorIndex, query: np.ndarray, row: int, k: int, supported: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Supported users with a finite, positive similarity, best first: at least ``k`` and all tied with the k-th.

    The search widens (x4) until that holds or the index has nothing more to give.
    """
    ask = min(index.n, 4 * k + 16)
    while True:
        top, sims = index.search(query, ask, exclude=[row])
        sims = np.asarray(sims, dtype=np.float64)
        keep = (top != row) & np.isfinite(sims) & (sims > 0) & supported[top]
        found, found_sims = top[keep], sims[keep]
        if len(top) < ask or ask >= index.n:  # exhausted
            return found, found_sims
        finite = sims[np.isfinite(sims)]
        lowest = np.round(finite[-1], _DECIMALS) if len(finite) else -np.inf
        if len(found) >= k and np.round(found_sims[k - 1], _DECIMALS) > lowest:
            return found, found_sims
        ask = min(index.n, 4 * ask)


def _overlap(interactions: sp.csr_matrix, row: int, rows: np.ndarray) -> np.ndarray:
    """Items each of ``rows`` has in common with the user at ``row``, ``(len(rows),)`` int64."""
    indptr, indices = np.asarray(interactions.indptr), interactions.indices
    mine = np.asarray(indices[indptr[row] : indptr[row + 1]])
    return np.array(
        [len(np.intersect1d(mine, indices[indptr[r] : indptr[r + 1]], assume_unique=True)) for r in rows],
        dtype=np.int64,
    )
