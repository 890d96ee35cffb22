"""Growing a segment: lookalikes along the graph's user–user edges, then by the segment's centroid."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.queries.vectors import VectorIndex

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["lookalikes"]


def lookalikes(bundle: Bundle, members: Iterable[str], n: int = 50, *, rows: np.ndarray | None = None) -> pd.DataFrame:
    """The ``n`` non-members most like the segment: those its user–user edges reach, then the centroid's nearest.

    First the users the members' stored similar users reach (the build's user–user edges, most linked first),
    then the nearest (cosine) to the members' centroid, searched in the bundle's user index
    (:attr:`Bundle.user_neighbors`: faiss IVF on large builds, else exact); the cost follows the segment's size.

    Args:
        bundle: The build.
        members: User ids of the segment.
        n: Lookalikes wanted.
        rows: The members' rows in the build, when the caller has them (a rule's mask): the ids are then not
            looked up (hashing millions of ids costs seconds once per build).

    Returns:
        Frame ``user_id, similarity, linked_members, n_events, n_purchase, spend`` (those present): the cosine to
        the centroid and how many members link to the user.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"The 'n' parameter of lookalikes must be an int in [1, inf). Got {n!r} instead.")
    if rows is None:
        index = getattr(bundle, "user_index", None)
        index = pd.Index(bundle.users["user_id"].astype(str)) if index is None else index
        wanted = members if isinstance(members, (pd.Index, pd.Series)) else [str(m) for m in members]
        rows = index.get_indexer(pd.Index(wanted).astype(str).unique())
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[rows >= 0]
    if len(rows) == 0:
        raise ConfigError("the segment is empty, so it has no centroid; widen the rules before expanding it.")
    # A bundle has its index; a plain object with user vectors (tests, notebooks) is searched exactly.
    vectors = getattr(bundle, "user_neighbors", None) or VectorIndex.exact(bundle.user_vectors, normalize=False)
    centroid = vectors.vectors(rows).mean(axis=0)
    linked, votes = _linked(getattr(bundle, "user_links", None), rows, int(n))
    top, sims = vectors.search(centroid, int(n), exclude=np.concatenate([rows, linked]))
    top = np.concatenate([linked, top])[: int(n)]
    unit = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
    out = _user_rows(bundle, top)
    out.insert(1, "similarity", (vectors.vectors(top) @ unit).astype(np.float64) if len(top) else [])
    out.insert(2, "linked_members", np.concatenate([votes, np.zeros(len(top) - len(votes), dtype=np.int64)]))
    return out.reset_index(drop=True)


def _user_rows(bundle: Bundle, rows: np.ndarray) -> pd.DataFrame:
    """``user_id, n_events, n_purchase, spend`` (those present) at ``rows``.

    A build folder's users table is not loaded for it (seconds and gigabytes on millions of users): those four
    columns are read once per bundle.
    """
    wanted = ("user_id", "n_events", "n_purchase", "spend")
    if not hasattr(bundle, "memo") or bundle.is_loaded("users"):
        users = bundle.users
        return users.iloc[rows][[c for c in wanted if c in users]].copy()
    from uig_core.build import layout

    present = [c for c in wanted if c in layout.frame_columns(bundle.path, "users")]
    users = bundle.memo(
        ("lookalike_user_columns", *present), lambda: layout.read_frame(bundle.path, "users", columns=present)
    )
    return users.iloc[rows].copy()


def _linked(links: Any, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-members the members' user–user edges reach, most linked first (summed similarity), and link counts.

    Empty without stored links: the segment grows along the graph before the centroid search fills up.
    """
    if links is None or not len(rows):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.asarray(links.indptr)[rows].astype(np.int64)
    lengths = np.asarray(links.indptr)[rows + 1].astype(np.int64) - starts
    pos = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(int(lengths.sum()))
    reached = np.asarray(links.indices)[pos].astype(np.int64)
    n_users = len(links.indptr) - 1
    weight = np.bincount(reached, weights=np.asarray(links.similarity)[pos], minlength=n_users)
    count = np.bincount(reached, minlength=n_users)
    weight[rows] = 0.0
    found = np.flatnonzero(weight > 0)
    order = found[np.lexsort((found, -weight[found]))][:n]
    return order, count[order]
