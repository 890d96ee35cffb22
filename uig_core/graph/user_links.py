"""User–user edges of the interest graph: each user's most similar users, computed once by the build.

The same rules as :mod:`uig_core.queries.similar` (never the user, at least ``min_items`` items on both sides,
similarities equal at 4 decimals ordered by items in common, only finite positive figures), for every user at
once: user vectors (the default model's user factors, else interest profiles; L2-normalised) are searched in
blocks, exactly for small sets and through a faiss IVF index for large ones, each user's candidates are re-ranked
by (rounded similarity, overlap, row) and the best ``k`` kept. The build stores them
(:func:`uig_core.build.layout.write_data`); the graph view draws them as ``user-user`` edges, portraits list them
with the interests they share, and lookalikes grow a segment along them.

Example:
    >>> import scipy.sparse as sp
    >>> x = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 0, 1], [1, 0, 0, 0]], dtype=np.float32))
    >>> links = user_links(np.ones((4, 2), dtype=np.float32), x, k=2)  # everyone alike: ties by overlap
    >>> links.of(0)[0].tolist(), links.of(1)[0].tolist(), links.of(3)[0].tolist()
    ([1, 2], [0, 2], [])
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from uig_core.progress import Progress, noop
from uig_core.queries.similar import SIMILAR_MIN_ITEMS

__all__ = ["UserLinks", "user_links", "LINKS_PER_USER"]

log = logging.getLogger(__name__)

#: Similar users the build keeps per user.
LINKS_PER_USER = 10
#: Above this many users the candidates come from a faiss IVF index instead of an exact pass.
EXACT_USERS = 30_000
#: Nearest users each user's links are chosen from. Interest-profile vectors tie by the thousand (every
#: one-interest user has the same vector): a tie at the 10th place is broken by overlap among these only (the
#: query-time rule of ``queries/similar.py`` widens without bound). At M (343 k users with support) one pass of
#: 48 candidates took 45 s (78 CPU-s), against 84 s when ties widened the search to 128.
CANDIDATES = 48
_BLOCK = 2048
_DECIMALS = 4


@dataclass
class UserLinks:
    """Each user's similar users in CSR form: row ``u``'s links are ``indices[indptr[u]:indptr[u + 1]]``."""

    indptr: np.ndarray
    indices: np.ndarray
    similarity: np.ndarray
    overlap: np.ndarray

    def of(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, similarities, overlaps)`` of one user's links, most similar first."""
        a, b = int(self.indptr[row]), int(self.indptr[row + 1])
        return np.asarray(self.indices[a:b]), np.asarray(self.similarity[a:b]), np.asarray(self.overlap[a:b])

    def arrays(self) -> dict[str, np.ndarray]:
        """The four arrays by name (what the layout stores)."""
        return {"indptr": self.indptr, "indices": self.indices, "similarity": self.similarity, "overlap": self.overlap}


def user_links(
    vectors: np.ndarray,
    interactions: sp.csr_matrix,
    *,
    k: int = LINKS_PER_USER,
    min_items: int = SIMILAR_MIN_ITEMS,
    seed: int = 0,
    progress: Progress = noop,
) -> UserLinks:
    """Every user's ``k`` most similar users (module docstring); users below ``min_items`` items get none."""
    start = time.perf_counter()
    x = (sp.csr_matrix(interactions) > 0).astype(np.float32).tocsr()
    n = x.shape[0]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    v = np.asarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)
    supported = np.flatnonzero((np.diff(x.indptr) >= min_items) & (norms[:, 0] > 0) & np.isfinite(norms[:, 0]))
    wide = min(len(supported), max(CANDIDATES, k + 1))  # the k best, the ties around the k-th, the user itself
    search = _searcher(v[supported], seed)
    rows, sims, overlaps, counts = [], [], [], np.zeros(n, dtype=np.int64)
    for b in range(0, len(supported), _BLOCK):
        block = supported[b : b + _BLOCK]
        chosen, chosen_sims, chosen_overlap = _block_links(search, v, x, supported, block, k, wide)
        for i, u in enumerate(block):
            rows.append(chosen[i])
            sims.append(chosen_sims[i])
            overlaps.append(chosen_overlap[i])
            counts[u] = len(chosen[i])
        progress(min(1.0, (b + len(block)) / max(1, len(supported))), "similar users")
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)  # blocks ran in row order
    out = UserLinks(
        indptr=indptr,
        indices=np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64),
        similarity=np.concatenate(sims).astype(np.float32) if rows else np.zeros(0, np.float32),
        overlap=np.concatenate(overlaps).astype(np.int32) if rows else np.zeros(0, np.int32),
    )
    log.debug("user links: %d users, %d links in %.2f s", n, len(out.indices), time.perf_counter() - start)
    return out


def _searcher(v: np.ndarray, seed: int) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    """``search(queries, k) -> (similarities, positions)`` over ``v``: exact blocks, or faiss IVF when large."""
    if len(v) <= EXACT_USERS:

        def exact(q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
            sims = q @ v.T
            part = (
                np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < len(v) else np.tile(np.arange(len(v)), (len(q), 1))
            )
            return np.take_along_axis(sims, part, axis=1), part

        return exact
    from uig_core.queries.vectors import VectorIndex

    index = VectorIndex.build(v, exact_below=0, seed=seed)._index
    index.nprobe = 8

    def ivf(q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        sims, pos = index.search(np.ascontiguousarray(q), k)
        return np.where(pos >= 0, sims, -np.inf), np.where(pos >= 0, pos, 0)

    return ivf


def _block_links(
    search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
    v: np.ndarray,
    x: sp.csr_matrix,
    supported: np.ndarray,
    block: np.ndarray,
    k: int,
    wide: int,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The links of one block of users, from their ``wide`` nearest candidates."""
    if not wide:
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64))
        return [empty[0]] * len(block), [empty[1]] * len(block), [empty[2]] * len(block)
    sims, pos = search(v[block], wide)
    rows, sims_k, overlap, count = _rerank(x, block, supported[pos], sims, k)
    return (
        [rows[n, :m] for n, m in enumerate(count)],
        [sims_k[n, :m] for n, m in enumerate(count)],
        [overlap[n, :m] for n, m in enumerate(count)],
    )


def _rerank(
    x: sp.csr_matrix, block: np.ndarray, cands: np.ndarray, sims: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per user of ``block``: the ``k`` best candidates by (rounded similarity, overlap, row), self and ≤ 0 out.

    Returns ``(rows, similarities, overlaps)`` as ``(len(block), k)`` arrays (valid up to ``count`` per row) and
    ``count``. The overlaps of every (user, candidate) pair come from one sparse product over the pairs.
    """
    b, w = cands.shape
    ok = (cands != block[:, None]) & np.isfinite(sims) & (sims > 0)
    rounded = np.where(ok, np.round(sims, _DECIMALS), -np.inf)
    # overlap decides only among candidates that reach the k-th place's rounded similarity: count those pairs alone
    kth = -np.partition(-rounded, min(k, w) - 1, axis=1)[:, min(k, w) - 1]
    need_r, need_c = np.nonzero(ok & (rounded >= kth[:, None]))
    overlap = np.zeros((b, w), dtype=np.int64)
    if len(need_r):
        pairs = x[block[need_r]].multiply(x[cands[need_r, need_c]])
        overlap[need_r, need_c] = np.asarray(pairs.sum(axis=1)).ravel().astype(np.int64)
    owner = np.repeat(np.arange(b), w)
    order = np.lexsort((cands.ravel(), -overlap.ravel(), -rounded.ravel(), owner)).reshape(b, w)[:, :k] % w
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    count = np.minimum(ok.sum(axis=1), k)
    return take(cands), take(sims).astype(np.float32), take(overlap), count
