"""Row-wise top-k of a score matrix, best first, ties broken by the lower index — the one ranking rule.

Every list UIG shows or evaluates comes from here. A batch of users × a catalogue is large (1,024 × 97 k scores
at the M shop): numpy's ``argpartition`` over it costs about 3–4 s on this machine, torch's ``topk`` about 0.1 s.
So large finite blocks go through torch and small ones (a single user's row) through numpy. Neither partition
says which of several tied scores it keeps at the k-th place, so the rows where a tie crosses that place (the
``(k+1)``-th score equals the k-th) are redone exactly: every better score, then the tied ones by index. Both
paths therefore give the same lists, the ones a full sort by (score descending, index ascending) gives.
"""

from __future__ import annotations

import logging
import sys

import numpy as np

__all__ = ["topk", "TORCH_MIN_SIZE", "TORCH_IMPORT_SIZE"]

log = logging.getLogger(__name__)

#: Score matrices with at least this many entries are ranked with torch once it is imported (below it numpy is
#: as fast) …
TORCH_MIN_SIZE = 1_000_000
#: … and from this many on torch is imported for it: importing torch costs about 2 s, while numpy ranks a block
#: of 8 M scores in about 0.3 s (Online Retail's blocks, 1,024 × 3.7 k, never pay the import; the M shop's do).
TORCH_IMPORT_SIZE = 8_000_000


def topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of a 2-D array, best first (ties broken by lower index).

    Args:
        scores: ``(n, m)`` scores; ``-inf`` ranks last; NaN is not a score (such a block is ranked by numpy).
        k: List length (at most ``m`` is returned).

    Returns:
        ``(idx, vals)``: ``(n, min(k, m))`` int64 item indices and their float32 scores.

    Example:
        >>> topk(np.array([[0.1, 0.5, 0.5, 0.2]], dtype=np.float32), 2)[0].tolist()
        [[1, 2]]
    """
    n, m = scores.shape
    k = min(k, m)
    if k <= 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    size = n * m
    big = size >= TORCH_IMPORT_SIZE or (size >= TORCH_MIN_SIZE and "torch" in sys.modules)
    if k < m and big and not np.isnan(scores).any():
        return _topk_torch(scores, k)
    return _topk_numpy(scores, k)


def _topk_numpy(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n, m = scores.shape
    if k >= m:
        return _ordered(scores, np.tile(np.arange(m), (n, 1)))
    part = np.argpartition(-scores, k, axis=1)[:, : k + 1]  # the k best, and the (k+1)-th at column k
    vals = np.take_along_axis(scores, part, axis=1)
    return _settled(scores, part[:, :k], vals[:, :k].min(axis=1), vals[:, k])


def _topk_torch(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import torch

    block = np.ascontiguousarray(scores)  # a broadcast row (popularity) or a strided view: one C-order copy
    if not block.flags.writeable:
        block = block.copy()
    with torch.no_grad():
        vals, idx = torch.topk(torch.from_numpy(block), k + 1, dim=1, largest=True, sorted=True)
    vals, idx = vals.numpy(), idx.numpy().astype(np.int64)
    return _settled(scores, idx[:, :k], vals[:, k - 1], vals[:, k])


def _settled(
    scores: np.ndarray, part: np.ndarray, kth: np.ndarray, next_best: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``part`` (some k best of each row) with the rows whose k-th score ties the next one redone exactly."""
    part = np.array(part, dtype=np.int64, copy=True)
    for row in np.flatnonzero(next_best == kth).tolist():  # which of the tied ones a partition kept is arbitrary
        part[row] = _exact_row(scores[row], part.shape[1], kth[row])
    return _ordered(scores, part)


def _ordered(scores: np.ndarray, part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``part``'s columns of each row ordered by (score descending, index ascending)."""
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return idx, np.take_along_axis(vals, order, axis=1).astype(np.float32)


def _exact_row(row: np.ndarray, k: int, kth: float) -> np.ndarray:
    """The k best of one row when the k-th score is tied: every better one, then the tied ones by index."""
    better = np.flatnonzero(row > kth)
    tied = np.flatnonzero(row == kth)[: k - len(better)]
    return np.concatenate([better, tied]).astype(np.int64)
