"""One item's score for every user from the item-major pairs, when a model's score is ``binary(X) @ W``.

"Who should see item Z?" needs column Z of ``binary(X) @ W`` for every user. Slicing ``X`` (millions of rows) and
multiplying costs a pass over every pair; instead, with ``(j, w_j)`` the non-zeros of ``W[:, Z]``,
``score(u) = Σ_j w_j · [u has an edge to j]``: a weighted count over the users of those items only, read from the
build's item-major pairs. At 2 M users / 16 M pairs (``bench/serving.py``) that is tens of milliseconds instead of
the product's half a second.

For a popular item the non-zeros of ``W[:, Z]`` reach most of the catalogue and their users most of the pairs; the
gather then costs more than one sequential pass over the user-major pairs, ``binary(X) @ w`` with ``w`` the dense
column (scipy's C matrix–vector product: at L, 2 M users / 16 M pairs, ~50 ms against ~280 ms for the gather).
:func:`column_scores` picks the cheaper path from the number of pairs the column touches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

__all__ = ["column_of", "column_scores", "binary_user_major"]

#: Pairs gathered per block (bounds the temporary index and weight arrays to ~100 MB).
_BLOCK = 4_000_000
#: A gathered pair costs about this many sequential pairs of the matrix–vector product (measured at L).
_GATHER_COST = 5


def column_of(weights: sp.csr_matrix, col: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and values of the non-zeros of column ``col`` of a CSR matrix, without converting it to CSC.

    One vectorised scan of ``indices``: cheap next to a column slice, which scipy builds row by row.
    """
    hits = np.flatnonzero(np.asarray(weights.indices) == col)
    rows = np.searchsorted(np.asarray(weights.indptr), hits, side="right") - 1
    return rows.astype(np.int64), np.asarray(weights.data)[hits].astype(np.float64)


def binary_user_major(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``binary(X)`` sharing ``X``'s (memory-mapped) index arrays: only the float32 ones are new."""
    return sp.csr_matrix(
        (np.ones(len(matrix.indices), dtype=np.float32), matrix.indices, matrix.indptr), shape=matrix.shape
    )


def column_scores(
    rows: np.ndarray,
    values: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    n_users: int,
    by_user: Callable[[], sp.csr_matrix] | None = None,
) -> np.ndarray:
    """``Σ_j values[j] · [u ∈ users(rows[j])]`` for every user ``u``: float32 of length ``n_users``.

    Args:
        rows: Item columns ``j`` (the non-zeros of ``W[:, Z]``).
        values: Their weights ``w_j``.
        indptr: Item-major pairs: the users of item ``j`` are ``indices[indptr[j]:indptr[j + 1]]``.
        indices: See ``indptr``.
        n_users: Length of the result.
        by_user: Returns the same pairs user-major and binary (:func:`binary_user_major`, cached by the caller);
            used instead of the gather when the column touches more than a fifth of the pairs.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = np.asarray(indptr[rows], dtype=np.int64)
    lengths = np.asarray(indptr[rows + 1], dtype=np.int64) - starts
    if by_user is not None and int(lengths.sum()) * _GATHER_COST > len(indices):
        binary = by_user()
        dense = np.zeros(binary.shape[1], dtype=np.float32)
        dense[rows] = values
        return np.asarray(binary @ dense, dtype=np.float32)
    out = np.zeros(n_users, dtype=np.float64)
    keep = lengths > 0
    rows, starts, lengths, values = rows[keep], starts[keep], lengths[keep], np.asarray(values)[keep]
    begin = 0
    while begin < len(rows):
        stop = begin + max(1, int(np.searchsorted(np.cumsum(lengths[begin:]), _BLOCK, side="right")))
        lens = lengths[begin:stop]
        offsets = np.repeat(starts[begin:stop] - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
        users = np.asarray(indices[offsets + np.arange(int(lens.sum()))], dtype=np.int64)
        out += np.bincount(users, weights=np.repeat(values[begin:stop], lens), minlength=n_users)
        begin = stop
    return out.astype(np.float32)
